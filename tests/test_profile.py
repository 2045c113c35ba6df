"""Profiles: TOML, ${VAR} substitution and schema validation, with messages that name key and file."""

from __future__ import annotations

import pytest

from conformance._lib.profile import ProfileError, load_profile
from conformance._lib.redact import REDACTOR
from tests.conftest import MINIMAL_ENV, MINIMAL_PROFILE, write_profile


def test_minimal_profile_gets_stock_lms_defaults(tmp_path):
    profile = load_profile(write_profile(tmp_path, MINIMAL_PROFILE), MINIMAL_ENV)
    assert profile.data["token_path"] == "/oauth2/access_token"
    assert profile.data["expect"]["jwt_expires_in"] == 3600
    assert profile.data["expect"]["scope"] == "read write email profile"
    assert profile.issuer == "http://127.0.0.1:8000/oauth2"
    assert profile.audience == "openedx"
    assert profile.data["client"]["secret"] == "the-secret-value-xyz"
    assert not profile.has_password_grant


def test_substituted_secret_is_registered_for_redaction(tmp_path):
    load_profile(write_profile(tmp_path, MINIMAL_PROFILE), MINIMAL_ENV)
    assert "the-secret-value-xyz" not in REDACTOR.redact("x the-secret-value-xyz")


def test_unset_variable_names_the_variable_not_a_value(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_profile(write_profile(tmp_path, MINIMAL_PROFILE), {"CID": "client"})
    message = str(info.value)
    assert "CSECRET" in message and "client.secret" in message and "p.toml" in message


def test_missing_base_url_is_named(tmp_path):
    with pytest.raises(ProfileError, match="'base_url' is required"):
        load_profile(
            write_profile(tmp_path, MINIMAL_PROFILE.replace('base_url = "http://127.0.0.1:8000"', "")),
            MINIMAL_ENV,
        )


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ProfileError, match=r"p\.toml: not valid TOML"):
        load_profile(write_profile(tmp_path, "name = [unclosed"), MINIMAL_ENV)


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ProfileError, match="'tokne_path' is not a known profile key"):
        load_profile(write_profile(tmp_path, 'tokne_path = "/x"\n' + MINIMAL_PROFILE), MINIMAL_ENV)


def test_invalid_value_is_not_echoed(tmp_path):
    env = dict(MINIMAL_ENV, CSECRET="")
    with pytest.raises(ProfileError) as info:
        load_profile(write_profile(tmp_path, MINIMAL_PROFILE), env)
    assert "client.secret" in str(info.value)


def test_plain_http_to_a_remote_host_is_refused(tmp_path):
    text = MINIMAL_PROFILE.replace("http://127.0.0.1:8000", "http://lms.example.org")
    with pytest.raises(ProfileError, match="plain http"):
        load_profile(write_profile(tmp_path, text), MINIMAL_ENV)


def test_literal_secret_earns_a_warning(tmp_path):
    profile = load_profile(
        write_profile(tmp_path, MINIMAL_PROFILE.replace("${CSECRET}", "literal-secret-1")), MINIMAL_ENV
    )
    assert any("client.secret" in w and "literal" in w for w in profile.warnings)
    assert not any("literal-secret-1" in w for w in profile.warnings)


def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "nope.toml", MINIMAL_ENV)


@pytest.mark.parametrize("name", ["tutor-local.toml", "production.toml", "edx-api-gateway.toml"])
def test_example_profiles_are_valid(name, monkeypatch):
    import socket
    from pathlib import Path

    # Tutor's local.openedx.io resolves to 127.0.0.1 (public DNS, which this test must not need).
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", 0))])
    env = {
        k: "placeholder-value"
        for k in (
            "EDX_OAUTH_CLIENT_ID",
            "EDX_OAUTH_CLIENT_SECRET",
            "EDX_JWT_PUBLIC_JWKS",
            "EDX_API_CLIENT_ID",
            "EDX_API_CLIENT_SECRET",
        )
    }
    profile = load_profile(Path(__file__).parents[1] / "profiles" / name, env)
    assert profile.name == name.removesuffix(".toml")


def test_any_value_may_come_from_the_environment(tmp_path):
    text = MINIMAL_PROFILE.replace('"http://127.0.0.1:8000"', '"${LMS_URL}"')
    profile = load_profile(write_profile(tmp_path, text), dict(MINIMAL_ENV, LMS_URL="http://127.0.0.1:8000"))
    assert profile.base_url == "http://127.0.0.1:8000"
    with pytest.raises(ProfileError, match="'base_url' is invalid"):
        load_profile(write_profile(tmp_path, text), dict(MINIMAL_ENV, LMS_URL="not a url"))
