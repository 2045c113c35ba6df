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

from conformance._lib.http import Exchange, echoed_forms
from conformance._lib.redact import REDACTOR

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
_SECRET_FIELDS = ("password", "secret", "refresh_token")


def entry(profile: Any, name: str) -> dict[str, str]:
    """One `[accounts.<name>]` table (empty when the profile has none)."""
    value = profile.get("accounts", name) or {}
    return dict(value) if isinstance(value, dict) else {}


def secret_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, value) of every secret of the `[accounts]` tables (passwords, client secrets,
    refresh tokens)."""
    section = data.get("accounts")
    if not isinstance(section, dict):
        return []
    return [
        (f"accounts.{name}.{key}", value)
        for name, table in section.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if key in _SECRET_FIELDS and isinstance(value, str)
    ]


def secret_values(data: dict[str, Any]) -> list[str]:
    return [value for _, value in secret_fields(data)]


def register_secrets(data: dict[str, Any]) -> None:
    for value in secret_values(data):
        REDACTOR.add(*echoed_forms(value))
    section = data.get("accounts")
    for name in ("restricted_client", "deleted_client", "changed_grant_client"):
        table = section.get(name) if isinstance(section, dict) else None
        if isinstance(table, dict) and table.get("id") and table.get("secret"):
            REDACTOR.add_client(str(table["id"]), str(table["secret"]))


def client_credentials(
    tokens: TokenFlows, client: dict[str, str], *, token_type: str | None = "jwt"
) -> Exchange:
    """client_credentials for one of the entries' applications (HTTP Basic, as TE-01)."""
    return tokens.request(client_id=client["id"], secret=client["secret"], token_type=token_type)


def password_grant(tokens: TokenFlows, user: dict[str, str]) -> Exchange:
    """The password grant for one of the entries' users, by the profile's public login client."""
    return tokens.password_request(username=user["username"], password=user["password"])


def refresh_opaque(tokens: TokenFlows, refresh_token: str) -> Exchange:
    """The refresh grant by the public login client, asking for an opaque token: unlike a JWT, the
    resource looks an opaque token up, and with it its user's state."""
    client_id = tokens.profile.data["password_grant"]["client_id"]
    form = {"refresh_token": refresh_token}
    return tokens.request("refresh_token", auth="id", client_id=client_id, token_type=None, extra=form)
