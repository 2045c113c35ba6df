"""The sign-in helper and profile keys on their own: Set-Cookie parsing, cookie domains, PKCE, the
[login] default, skip kinds without [login] or a client secret, and redaction of sign-in secrets."""

from __future__ import annotations

import base64
import hashlib

import httpx

from conformance._lib.http import Exchange
from conformance._lib.profile import profile_from_data
from conformance._lib.redact import REDACTOR
from conformance._lib.registry import REGISTRY, missing_requirement, parse_skip
from conformance._lib.signin import Pkce, cookie_covers, parse_set_cookies
from conformance.cli import load_checks

BASE = {"name": "p", "base_url": "https://lms.example.org", "client": {"id": "i", "secret": "${S}"}}


def _exchange(*set_cookies: str) -> Exchange:
    headers = httpx.Headers([("Set-Cookie", c) for c in set_cookies])
    return Exchange("GET", "https://lms.example.org/", {}, b"", 200, headers, b"", 1.0)


def test_set_cookie_flags_and_deletion():
    cookies = parse_set_cookies(
        _exchange(
            "edx-jwt-cookie-signature=c2lnbmF0dXJl; Domain=.example.org; HttpOnly; Path=/; Secure",
            "edx-jwt-cookie-header-payload=eyJh.eyJi; Max-Age=3600; Path=/; SameSite=None",
            'sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/',
        )
    )
    signature = cookies["edx-jwt-cookie-signature"]
    assert (signature.httponly, signature.secure, signature.domain) == (True, True, "example.org")
    payload = cookies["edx-jwt-cookie-header-payload"]
    assert (payload.httponly, payload.samesite, payload.deleted) == (False, "None", False)
    assert cookies["sessionid"].deleted
    assert "c2lnbmF0dXJl" not in signature.describe()
    assert "c2lnbmF0dXJl" in REDACTOR.known()  # a credential cookie's value is a secret


def test_cookie_domain_matching():
    (host_only,) = parse_set_cookies(_exchange("a=b; Path=/")).values()
    (shared,) = parse_set_cookies(_exchange("a=b; Domain=example.org")).values()
    (narrow,) = parse_set_cookies(_exchange("a=b; Domain=lms.example.org")).values()
    lms = "lms.example.org"
    assert cookie_covers(host_only, lms, lms) and not cookie_covers(host_only, lms, "apps.example.org")
    assert cookie_covers(shared, lms, "apps.example.org") and cookie_covers(shared, lms, lms)
    assert not cookie_covers(shared, lms, "example.org.evil.net")
    assert not cookie_covers(narrow, lms, "apps.example.org")


def test_pkce_s256_is_rfc7636_appendix_b():
    pkce = Pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    fresh = Pkce.new()
    assert 43 <= len(fresh.verifier) <= 128 and fresh.verifier in REDACTOR.known()
    assert Pkce.new("plain").challenge != fresh.challenge


def test_login_defaults_to_the_password_grant_user():
    env = {"S": "secret-value-1234", "U": "learner", "P": "pw-123456"}
    grant = {"client_id": "c", "username": "${U}", "password": "${P}"}
    profile = profile_from_data({**BASE, "password_grant": grant}, env)
    assert profile.login == {"username": "learner", "password": "pw-123456"}
    own = profile_from_data(
        {**BASE, "password_grant": grant, "login": {"username": "a", "password": "${P}"}}, env
    )
    assert own.login == {"username": "a", "password": "pw-123456"}
    assert profile_from_data(BASE, env).login is None


def test_without_login_the_sign_in_checks_are_not_verified_naming_the_key():
    load_checks()
    profile = profile_from_data(BASE, {"S": "secret-value-1234"})
    ids = [i for i in REGISTRY if i.startswith(("authorization-code.", "jwt-cookies."))]
    assert len(ids) >= 20
    for check_id in ids:
        reason = missing_requirement(profile, REGISTRY[check_id].requires)
        assert reason is not None, check_id
    cookie = missing_requirement(profile, REGISTRY["jwt-cookies.login.set"].requires)
    assert parse_skip(cookie or "")[:2] == ("not-verified", "login")
    sso = {"name": "studio", "client_id": "cms-sso", "redirect_uri": "https://studio.example.org/c/"}
    with_client = profile_from_data({**BASE, "sso_clients": [sso]}, {"S": "secret-value-1234"})
    reason = missing_requirement(with_client, REGISTRY["authorization-code.state.preserved"].requires)
    assert parse_skip(reason or "")[:2] == ("not-verified", "login")
    no_clients = missing_requirement(
        profile_from_data({**BASE, "login": {"username": "u", "password": "p"}}, {"S": "secret-value-1234"}),
        REGISTRY["authorization-code.state.preserved"].requires,
    )
    assert parse_skip(no_clients or "")[:2] == ("not-applicable", "sso_clients")


def test_sso_client_secret_is_a_secret():
    sso = {
        "name": "studio",
        "client_id": "cms-sso",
        "redirect_uri": "https://studio.example.org/complete/edx-oauth2/",
        "client_secret": "literal-sso-secret-0042",
    }
    profile = profile_from_data({**BASE, "sso_clients": [sso]}, {"S": "secret-value-1234"})
    assert any("sso_clients[0].client_secret" in w for w in profile.warnings)
    assert "literal-sso-secret-0042" in REDACTOR.known()
    assert REDACTOR.redact("code=abc123def456&state=x") == "code=[REDACTED]&state=x"
    assert "[REDACTED]" in REDACTOR.redact("Cookie: sessionid=0123456789abcdef; csrftoken=zz99yy88xx77")
