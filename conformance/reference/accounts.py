"""The accounts and applications a conformant LMS must refuse, as the reference instance seeds them.

An unactivated learner (``is_active`` false: the platform still lets it sign in, and its JWTs say
``email_verified: false``); a learner disabled by an administrator (the support tool's "disable
user" makes the password unusable) who still holds a refresh token issued before; a
RestrictedApplication; the credentials of an application that was deleted; and an application whose
grant type was changed from client credentials to authorization code. ``serve`` makes their secrets
(``material``), the LMS seeds them (``seed``) and the generated profile and env file name them
(``PROFILE_FRAGMENT``, ``env_entries``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.reference.defects import Defect

INACTIVE_USERNAME = "conformance_unactivated"
DISABLED_USERNAME = "conformance_disabled"
RESTRICTED_OWNER = "restricted_partner_worker"
RESTRICTED_CLIENT_ID = "conformance-restricted-partner-key"
DELETED_CLIENT_ID = "conformance-deleted-partner-key"
CHANGED_CLIENT_ID = "conformance-reconfigured-partner-key"

# Appended to the generated profile (after its last table).
PROFILE_FRAGMENT = """\
[accounts.inactive_user]
username = "${EDX_INACTIVE_USERNAME}"
password = "${EDX_INACTIVE_PASSWORD}"
[accounts.disabled_user]
username = "${EDX_DISABLED_USERNAME}"
password = "${EDX_DISABLED_PASSWORD}"
refresh_token = "${EDX_DISABLED_REFRESH_TOKEN}"
[accounts.restricted_client]
id = "${EDX_RESTRICTED_CLIENT_ID}"
secret = "${EDX_RESTRICTED_CLIENT_SECRET}"
[accounts.deleted_client]
id = "${EDX_DELETED_CLIENT_ID}"
secret = "${EDX_DELETED_CLIENT_SECRET}"
[accounts.changed_grant_client]
id = "${EDX_CHANGED_GRANT_CLIENT_ID}"
secret = "${EDX_CHANGED_GRANT_CLIENT_SECRET}"
"""


def material(secret: Callable[[], str]) -> dict[str, str]:
    """The accounts' names and fresh secrets for one start (they travel in the 0600 runtime file)."""
    return {
        "inactive_username": INACTIVE_USERNAME,
        "inactive_password": secret(),
        "disabled_username": DISABLED_USERNAME,
        "disabled_password": secret(),
        "disabled_refresh_token": secret(),
        "disabled_access_token": secret(),
        "restricted_client_id": RESTRICTED_CLIENT_ID,
        "restricted_client_secret": secret(),
        "deleted_client_id": DELETED_CLIENT_ID,
        "deleted_client_secret": secret(),
        "changed_client_id": CHANGED_CLIENT_ID,
        "changed_client_secret": secret(),
    }


def env_entries(accounts: dict[str, str]) -> dict[str, str]:
    return {
        "EDX_INACTIVE_USERNAME": accounts["inactive_username"],
        "EDX_INACTIVE_PASSWORD": accounts["inactive_password"],
        "EDX_DISABLED_USERNAME": accounts["disabled_username"],
        "EDX_DISABLED_PASSWORD": accounts["disabled_password"],
        "EDX_DISABLED_REFRESH_TOKEN": accounts["disabled_refresh_token"],
        "EDX_RESTRICTED_CLIENT_ID": accounts["restricted_client_id"],
        "EDX_RESTRICTED_CLIENT_SECRET": accounts["restricted_client_secret"],
        "EDX_DELETED_CLIENT_ID": accounts["deleted_client_id"],
        "EDX_DELETED_CLIENT_SECRET": accounts["deleted_client_secret"],
        "EDX_CHANGED_GRANT_CLIENT_ID": accounts["changed_client_id"],
        "EDX_CHANGED_GRANT_CLIENT_SECRET": accounts["changed_client_secret"],
    }


def seed(accounts: dict[str, str], login_client_id: str) -> None:
    """Create the accounts in the LMS database (called inside the LMS seed's transaction)."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application, RefreshToken

    from conformance.reference import faults
    from conformance.reference.lms.models import RestrictedApplication, UserProfile

    user_model = get_user_model()

    inactive = user_model(
        username=accounts["inactive_username"], email="unactivated@example.com", is_active=False
    )
    inactive.set_password(accounts["inactive_password"])
    inactive.save()
    UserProfile.objects.create(user=inactive, name="Una Activated")

    # Signed in on the mobile app (a refresh token from the login client), then disabled by support.
    disabled = user_model(username=accounts["disabled_username"], email="disabled@example.com")
    disabled.set_password(accounts["disabled_password"])
    disabled.save()
    UserProfile.objects.create(user=disabled, name="Dee Sabled")
    login_client = Application.objects.get(client_id=login_client_id)
    access = AccessToken.objects.create(
        user=disabled,
        application=login_client,
        token=accounts["disabled_access_token"],
        expires=timezone.now() + timedelta(hours=10),
        scope="read write email profile",
    )
    RefreshToken.objects.create(
        user=disabled, application=login_client, token=accounts["disabled_refresh_token"], access_token=access
    )
    if faults.is_active(Defect.DISABLED_BY_IS_ACTIVE):
        # Disabled in Django admin by unticking "active" instead of the support tool's "disable":
        # the platform signs inactive users in (they are unactivated learners to it).
        disabled.is_active = False
    else:
        disabled.set_unusable_password()
    disabled.save()
    keeps = (
        Defect.SUPPORT_DISABLE_KEEPS_TOKENS,
        Defect.DISABLED_USER_STILL_REFRESHING,
        Defect.DISABLED_BY_IS_ACTIVE,
    )
    if not any(faults.is_active(name) for name in keeps):
        # The support tool's "disable user" retires the user's OAuth tokens (retire_dot_oauth2_models
        # with the user; older copies of manage_user.py passed request.user, the support person).
        RefreshToken.objects.filter(user=disabled).delete()
        AccessToken.objects.filter(user=disabled).delete()

    owner = user_model(username=RESTRICTED_OWNER, email=f"{RESTRICTED_OWNER}@example.com")
    owner.set_unusable_password()
    owner.save()
    restricted = _partner_application(
        accounts, owner, "restricted", "restricted partner (RestrictedApplication)"
    )
    RestrictedApplication.objects.create(application=restricted)

    _deleted_application(accounts, owner).delete()

    changed = _partner_application(accounts, owner, "changed", "partner moved to sign-in with the LMS")
    changed.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    changed.redirect_uris = "https://partner.example.com/complete/edx-oauth2/"
    changed.save()


def _partner_application(accounts: dict[str, str], owner: Any, kind: str, name: str) -> Any:
    """A confidential client-credentials application of ``owner`` with the ``<kind>_client_id`` and
    ``<kind>_client_secret`` of ``accounts``."""
    from oauth2_provider.models import Application

    return Application.objects.create(
        name=name,
        client_id=accounts[f"{kind}_client_id"],
        client_secret=accounts[f"{kind}_client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=owner,
        redirect_uris="",
    )


def _deleted_application(accounts: dict[str, str], owner: Any) -> Any:
    return _partner_application(accounts, owner, "deleted", "retired partner")


def legacy_client(client_id: str) -> Any:
    """The deleted-client-still-authenticates fault: client ids DOT does not know are looked up in a
    legacy client table (DOP's, kept after the migration to DOT), which still lists the deleted
    application; the fallback migrates it back into DOT on first use. None for any other id."""
    from django.contrib.auth import get_user_model

    from conformance.reference.runtime import current

    accounts = current().accounts or {}
    if client_id != accounts.get("deleted_client_id"):
        return None
    owner = get_user_model().objects.get(username=RESTRICTED_OWNER)
    return _deleted_application(accounts, owner)
