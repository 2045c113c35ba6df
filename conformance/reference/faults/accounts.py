"""The faults of the accounts area: what happens to tokens when accounts and applications change."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault

# Every fault of this module is of the accounts area.
_fault = partial(Fault, area="accounts")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.EMAIL_VERIFIED_ALWAYS_TRUE,
        description=(
            "The JWT builder fills email_verified from 'has an email address' instead of the user's "
            "activation (is_active): an unactivated learner's token claims a verified address."
        ),
        catches=["accounts.inactive-user.email-not-verified"],
    ),
    _fault(
        name=Defect.DISABLED_BY_IS_ACTIVE,
        description=(
            "A learner is 'disabled' in Django admin by unticking Active instead of with the support "
            "tool (which makes the password unusable): the platform signs inactive users in, and their "
            "Bearer tokens work on the account APIs."
        ),
        catches=["accounts.disabled-user.no-password-grant", "accounts.disabled-user.no-refresh"],
    ),
    _fault(
        name=Defect.DISABLED_USER_STILL_REFRESHING,
        description=(
            "The LMS's Bearer authentication lacks the check for users disabled by support (unusable "
            "password): a disabled user's refresh token still yields a token the APIs honour."
        ),
        catches=["accounts.disabled-user.no-refresh"],
    ),
    _fault(
        name=Defect.RESTRICTED_TOKEN_ACCEPTED,
        description=(
            "A settings override rebuilt MIDDLEWARE without edx-drf-extensions' "
            "EnsureJWTAuthSettingsMiddleware, so views no longer get NotJwtRestrictedApplication: a "
            "RestrictedApplication's JWT is accepted where it has no scope."
        ),
        catches=["accounts.restricted-client.refused"],
    ),
    _fault(
        name=Defect.DELETED_CLIENT_STILL_AUTHENTICATES,
        description=(
            "Client ids DOT does not know fall back to a legacy client table (DOP's, kept after the "
            "migration to DOT) that still lists a deleted application: its credentials get tokens."
        ),
        catches=["accounts.deleted-client.no-token"],
    ),
    _fault(
        name=Defect.GRANT_TYPE_NOT_ENFORCED,
        description=(
            "A custom OAuth validator lets 'trusted' applications use any grant: an application moved to "
            "authorization code still gets client-credentials tokens, and a client-credentials client "
            "may use the password grant."
        ),
        catches=["accounts.changed-grant.no-token", "token-endpoint.grant-type.not-allowed-for-client"],
        cause="check:token-endpoint.grant-type.not-allowed-for-client",
    ),
    _fault(
        name=Defect.SUPPORT_DISABLE_KEEPS_TOKENS,
        description=(
            "The support tool's 'disable user' from before Tutor 14.2.3's fix retires the support person's "
            "OAuth tokens instead of the disabled user's: the user's refresh token still works, and the "
            "JWT it yields is honoured (JWT authentication does not look at disabled users)."
        ),
        catches=["accounts.disabled-user.no-refresh"],
    ),
)
