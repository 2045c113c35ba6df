"""The profile's [accounts] entries: their secrets are redacted from the moment the profile is loaded,
and a literal secret there earns the same warning as anywhere else."""

from __future__ import annotations

from conformance._lib.profile import profile_from_data
from conformance._lib.redact import REDACTOR

BASE = {"name": "p", "base_url": "https://lms.example.org", "client": {"id": "${ID}", "secret": "${SECRET}"}}
ENV = {"ID": "client-id", "SECRET": "client-secret-value", "DISABLED_PW": "Disabled-Passw0rd-Value-1"}


def test_accounts_secrets_are_redacted_and_literals_warned():
    data = {
        **BASE,
        "accounts": {
            "disabled_user": {
                "username": "dee",
                "password": "${DISABLED_PW}",
                "refresh_token": "LiteralRefreshTokenValue0123456789",
            },
            "restricted_client": {"id": "partner-key", "secret": "Literal-Restricted-Secret-42"},
        },
    }
    profile = profile_from_data(data, ENV)
    warned = " ".join(profile.warnings)
    assert "accounts.disabled_user.refresh_token" in warned and "accounts.restricted_client.secret" in warned
    assert "accounts.disabled_user.password" not in warned  # a ${VAR}: fine
    text = "pw Disabled-Passw0rd-Value-1 rt LiteralRefreshTokenValue0123456789 s Literal-Restricted-Secret-42"
    redacted = REDACTOR.redact(text)
    for secret in (
        "Disabled-Passw0rd-Value-1",
        "LiteralRefreshTokenValue0123456789",
        "Literal-Restricted-Secret-42",
    ):
        assert secret not in redacted
