"""The unit cases of the accounts checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

import pytest

from conformance.reference.defects import Defect
from tests.stub_lms import (
    DELETED_CLIENT_ID,
    DELETED_SECRET,
    OWNER,
    App,
    Patch,
    on_jwt,
    on_resource,
    on_settings,
)
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import ACCOUNTS, Breaks, Unit, fails, requirement_met, unit
from tests.units.patches import GRANT_TYPE_NOT_ENFORCED

EMAIL_VERIFIED_ALWAYS_TRUE = on_jwt(
    Defect.EMAIL_VERIFIED_ALWAYS_TRUE, lambda t: t.claims.update(email_verified=True)
)
RESTRICTED_NOT_MARKED = on_jwt(Defect.RESTRICTED_NOT_MARKED, lambda t: t.claims.update(is_restricted=False))

RESTRICTED_ACCEPTED = on_resource(Defect.RESTRICTED_ACCEPTED, restricted_refused=False)

DISABLED_USER_SIGNS_IN = on_settings(Defect.DISABLED_USER_SIGNS_IN, disabled_users_sign_in=True)
DISABLED_USER_REFRESHES = on_settings(Defect.DISABLED_USER_REFRESHES, disabled_users_keep_tokens=True)
INACTIVE_USER_REFUSED = on_settings(Defect.INACTIVE_USER_REFUSED, inactive_users_sign_in=False)
DELETED_CLIENT_ACCEPTED = on_settings(
    Defect.DELETED_CLIENT_ACCEPTED,
    legacy_apps=(App(DELETED_CLIENT_ID, DELETED_SECRET, "client-credentials", OWNER.username),),
)


def with_accounts(*breaks: Breaks, either: tuple[Patch, ...] = ()) -> Unit:
    """An accounts check's entry: it runs with the profile's [accounts] entries for the stub."""
    return unit(*breaks, profile=ACCOUNTS, either=either)


TABLE: dict[str, Unit] = {
    "accounts.inactive-user.email-not-verified": with_accounts(
        fails(EMAIL_VERIFIED_ALWAYS_TRUE, "email_verified is the user's activation"),
        either=(INACTIVE_USER_REFUSED,),
    ),
    "accounts.disabled-user.no-password-grant": with_accounts(
        fails(DISABLED_USER_SIGNS_IN, "a disabled account (unusable password) cannot sign in"),
    ),
    "accounts.disabled-user.no-refresh": with_accounts(
        fails(DISABLED_USER_REFRESHES, "the refresh grant refuses a disabled user's refresh token"),
    ),
    "accounts.restricted-client.refused": with_accounts(
        fails(RESTRICTED_NOT_MARKED, "the JWT of a RestrictedApplication says is_restricted"),
        fails(RESTRICTED_ACCEPTED, "an API without a scope for restricted applications refuses"),
    ),
    "accounts.deleted-client.no-token": with_accounts(
        fails(DELETED_CLIENT_ACCEPTED, "an application that no longer exists cannot authenticate"),
    ),
    "accounts.changed-grant.no-token": with_accounts(
        fails(GRANT_TYPE_NOT_ENFORCED, "a grant the application lost is refused"),
    ),
}


@pytest.mark.parametrize(
    ("check_id", "removed", "key"),
    [
        ("accounts.inactive-user.email-not-verified", {"inactive_user": None}, "accounts.inactive_user"),
        ("accounts.disabled-user.no-password-grant", {"disabled_user": None}, "accounts.disabled_user"),
        (
            "accounts.disabled-user.no-refresh",
            {"disabled_user": {"refresh_token": None}},
            "accounts.disabled_user.refresh_token",
        ),
        ("accounts.restricted-client.refused", {"restricted_client": None}, "accounts.restricted_client"),
        ("accounts.deleted-client.no-token", {"deleted_client": None}, "accounts.deleted_client"),
        ("accounts.changed-grant.no-token", {"changed_grant_client": None}, "accounts.changed_grant_client"),
    ],
)
def test_accounts_checks_without_their_entry_are_not_verified(check_id, removed, key):
    reason = requirement_met(TABLE[check_id], check_id, {"accounts": removed})
    assert reason is not None and reason.startswith(f"not-verified ({key}): add ")
