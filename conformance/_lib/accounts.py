"""The profile's `[accounts]` entries: test accounts and applications the LMS must refuse.

Each entry is optional; a check that needs one is skipped as *not verified*, naming its key.
    inactive_user          username, password   an unactivated (is_active false) learner
    disabled_user          username, password   a learner disabled by support (unusable password):
                           refresh_token        optional: one issued to [password_grant].client_id
                                                before the user was disabled
    restricted_client      id, secret           a client-credentials RestrictedApplication
    deleted_client         id, secret           the credentials of a deleted application
    changed_grant_client   id, secret           an application no longer client-credentials
Their secrets are registered with the redactor as soon as the profile is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance._lib.http import Exchange
from conformance._lib.profile import accounts_secret_fields as secret_fields
from conformance._lib.profile import accounts_secret_values as secret_values
from conformance._lib.profile import register_accounts_secrets as register_secrets

if TYPE_CHECKING:  # tokens imports the profile module, which registers these secrets
    from conformance._lib.tokens import TokenFlows

__all__ = [
    "ENTRIES",
    "client_credentials",
    "entry",
    "password_grant",
    "refresh_opaque",
    "register_secrets",
    "secret_fields",
    "secret_values",
]

ENTRIES = ("inactive_user", "disabled_user", "restricted_client", "deleted_client", "changed_grant_client")


def entry(profile: Any, name: str) -> dict[str, str]:
    """One `[accounts.<name>]` table (empty when the profile has none)."""
    value = profile.get("accounts", name) or {}
    return dict(value) if isinstance(value, dict) else {}


def client_credentials(
    tokens: TokenFlows, client: dict[str, str], *, token_type: str | None = "jwt"
) -> Exchange:
    """client_credentials for one of the entries' applications (HTTP Basic, as TE-01)."""
    return tokens.request(client_id=client["id"], secret=client["secret"], token_type=token_type)


def password_grant(tokens: TokenFlows, user: dict[str, str]) -> Exchange:
    """The password grant for one of the entries' users, by the profile's public login client."""
    return tokens.password_request(username=user["username"], password=user["password"])


def refresh_opaque(tokens: TokenFlows, refresh_token: str, *, token_type: str | None = None) -> Exchange:
    """The refresh grant by the public login client, asking for an opaque token (or `token_type`):
    unlike a JWT, the resource looks an opaque token up, and with it its user's state."""
    client_id = tokens.profile.data["password_grant"]["client_id"]
    form = {"refresh_token": refresh_token}
    return tokens.request("refresh_token", auth="id", client_id=client_id, token_type=token_type, extra=form)
