"""The micro-frontends' JWT cookies: set at login, their flags and domain, the JWT they carry,
`/login_refresh`, their use at the LMS and at each service, and logout.

Facts about a stock LMS (upstream sources in docs/clauses.md, sections openedx-cookies,
openedx-login, openedx-logout and edx-drf-cookies):
- `set_logged_in_cookies` (openedx-platform `user_authn/cookies.py`) sets `edx-jwt-cookie-header-payload`
  (readable by the MFE: no HttpOnly) and `edx-jwt-cookie-signature` (`httponly=True`), both with
  `domain=SHARED_COOKIE_DOMAIN`, `path=/`, `secure=request.is_secure()`, and no SameSite argument.
- The cookie JWT is an RS512 password-grant JWT of the login client (`_create_jwt`).
- `POST /login_refresh` (`csrf_exempt`): 401 `"Unauthorized"` without a session (a JWT cookie alone
  does not count: it is a plain view), new JWT cookies with one.
- edx-drf-extensions 10 `JwtAuthCookieMiddleware` reassembles `header.payload.signature` for DRF views;
  `JwtAuthentication` forgives a failing cookie (the request is then anonymous: 401).
- Logout (`LogoutView`) flushes the session and deletes the four logged-in cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conformance._lib.jwt_verifiers import expect_conformant_jwt
from conformance._lib.jwts import parse_jwt
from conformance._lib.registry import blocked, check, clauses, requires
from conformance._lib.resources import REFUSED
from conformance._lib.services import require_service
from conformance._lib.signin import (
    JWT_HEADER_PAYLOAD,
    JWT_SIGNATURE,
    LOGOUT_PATH,
    REFRESH_PATH,
    cookie_covers,
    parse_set_cookies,
)
from conformance._lib.verify import expect, expect_equal, expect_status

COOKIES = {"header-payload": JWT_HEADER_PAYLOAD, "signature": JWT_SIGNATURE}
# Whether each JWT cookie is HttpOnly, and why.
HTTPONLY = {
    "signature": (True, "the signature cookie is HttpOnly: a script (XSS) never gets a whole JWT"),
    "header-payload": (
        False,
        "the header-payload cookie is readable by the MFEs' JavaScript (frontend-platform decodes it)",
    ),
}


COOKIES_CONTROL = "jwt-cookies.login.set"


def _set(signin, name, verdict=False):
    """The JWT cookie the login set; the cases that read the cookies are blocked by
    jwt-cookies.login.set (`verdict=True`) when the login sets none."""
    cookie = signin.shared().cookies.get(name)
    if cookie is None and not verdict:
        blocked(COOKIES_CONTROL, f"the login sets no {name}")
    expect(cookie is not None, f"the login sets {name}", f"Set-Cookie: {name}=...", "not set")
    return cookie


def _cookies(signin):
    """The signed-in browser, blocked by jwt-cookies.login.set when the login set no JWT cookies."""
    for name in COOKIES.values():
        _set(signin, name)
    return signin.shared()


def _probe(http, cookies, base_url, path):
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return http.get(base_url.rstrip("/") + path, headers={"Cookie": header} if header else {})


def _mismatched(signin, tokens):
    """The session's header.payload with the signature of another JWT (the run's client JWT)."""
    jar = _cookies(signin).browser.jwt_cookies()
    other = tokens.jwt().token.rsplit(".", 1)[1]
    return {JWT_HEADER_PAYLOAD: jar.get(JWT_HEADER_PAYLOAD, ""), JWT_SIGNATURE: other}


def _at_service(http, profile, signin, tokens, jwks, service, *, mismatched=False):
    """A listed service's probe, once the service accepts the LMS's JWTs, with the session's JWT
    cookies (`mismatched`: its header.payload with another JWT's signature)."""
    require_service(http, profile, tokens, jwks, service)
    svc = profile.entry("services", service)
    cookies = _mismatched(signin, tokens) if mismatched else _cookies(signin).browser.jwt_cookies()
    return _probe(http, cookies, svc["base_url"], svc["probe"])


@check("jwt-cookies.login.signs-in", level="MUST", ref="JC-14")
@clauses("openedx-login")
@requires("login")
def test_signs_in(signin):
    """The test user signs in through the login API (CSRF token, then login)"""
    # The control of the sign-in every check of this area and authorization-code shares: when it
    # fails, it is this one failure, and the cases that need a session are blocked by it.
    session = signin.shared(verdict=True)
    expect(
        bool(session.browser.jar),
        "the login API starts a session (it sets cookies)",
        "Set-Cookie on the login response",
        "no cookie set",
    )


@check("jwt-cookies.login.set", level="MUST", ref="JC-01")
@clauses("openedx-cookies", "edx-drf-cookies")
@requires("login")
def test_cookies_set(signin):
    """Signing in sets both JWT cookies"""
    for name in COOKIES.values():
        cookie = _set(signin, name, verdict=True)
        expect(bool(cookie.value), f"{name} carries a value", "a non-empty value", "empty")
    token = signin.shared().jwt()
    expect(
        token.count(".") == 2,
        "the two cookies reassemble to a JWT",
        "header.payload.signature",
        "not 3 parts",
    )


@pytest.mark.parametrize("cookie", ["signature", "header-payload"])
@check("jwt-cookies.flags.httponly", level="MUST", ref="JC-02")
@clauses("RFC6265-4.1.2.6", "openedx-cookies")
@requires("login")
def test_httponly(signin, cookie):
    """The signature cookie is HttpOnly and the header-payload cookie readable"""
    httponly, requirement = HTTPONLY[cookie]
    found = _set(signin, COOKIES[cookie])
    expect(
        found.httponly == httponly, requirement, "HttpOnly" if httponly else "no HttpOnly", found.describe()
    )


@pytest.mark.parametrize("cookie", ["signature", "header-payload"])
@check("jwt-cookies.flags.secure", level="MUST", ref="JC-03")
@clauses("RFC6265-4.1.2.5", "openedx-cookies")
@requires("login", "https_base_url")
def test_secure(signin, cookie):
    """The JWT cookies are Secure on an https LMS"""
    found = _set(signin, COOKIES[cookie])
    expect(found.secure, "the JWT cookies never travel over plain http", "Secure", found.describe())


@pytest.mark.parametrize("cookie", ["signature", "header-payload"])
@check("jwt-cookies.flags.samesite", level="MUST", ref="JC-04")
@clauses("samesite-none-secure", "openedx-cookies")
@requires("login")
def test_samesite(signin, cookie):
    """A JWT cookie with SameSite=None is also Secure"""
    # The platform passes no SameSite for these cookies, so none is required; None without Secure is
    # refused by browsers, which then never store the cookie.
    found = _set(signin, COOKIES[cookie])
    expect(
        (found.samesite or "").lower() != "none" or found.secure,
        "SameSite=None comes with Secure (browsers drop the cookie otherwise)",
        "no SameSite, Lax, Strict, or None with Secure",
        found.describe(),
    )


@pytest.mark.parametrize("cookie", ["signature", "header-payload"])
@check("jwt-cookies.domain.covers-mfe", level="MUST", ref="JC-05")
@clauses("RFC6265-5.1.3", "RFC6265-4.1.2.3", "openedx-cookies")
@requires("login", "mfe_origin")
def test_domain(signin, profile, cookie):
    """The JWT cookies' domain covers the MFE host"""
    found = _set(signin, COOKIES[cookie])
    lms_host = urlsplit(profile.base_url).hostname or ""
    mfe_host = urlsplit(profile.get("jwt_cookies", "mfe_origin")).hostname or ""
    expect(
        cookie_covers(found, lms_host, lms_host),
        "the cookie's Domain matches the LMS host that sets it (browsers drop it otherwise)",
        f"Domain {lms_host} or a parent domain of it",
        found.describe(),
    )
    expect(
        cookie_covers(found, lms_host, mfe_host),
        f"the MFEs at {mfe_host} receive the cookie (SHARED_COOKIE_DOMAIN covers their host)",
        f"no Domain with the MFEs on {lms_host}, or a Domain that {mfe_host} is in",
        found.describe(),
    )


@check("jwt-cookies.jwt.conformant", level="MUST", ref="JC-06")
@clauses("RFC7519-4.1.1", "RFC7519-4.1.3", "RFC7515-5.2", "oauth-5")
@requires("login")
def test_cookie_jwt(signin, profile, jwks):
    """The JWT the cookies carry passes the JWT checks"""
    claims = expect_conformant_jwt(_cookies(signin).jwt(), profile, jwks, "the cookie JWT")
    username = signin.credentials[0]
    if "@" not in username:
        expect_equal(claims.get("preferred_username"), username, "the cookie JWT is the signed-in user's")


# Alone: it renews the cookies of the shared session, which other checks read.
@check("jwt-cookies.refresh.renews", level="MUST", ref="JC-07", alone=True)
@clauses("openedx-login")
@requires("login")
def test_refresh_renews(signin):
    """POST /login_refresh renews both JWT cookies for a session"""
    browser = signin.shared().browser
    ex = browser.send("POST", REFRESH_PATH)
    expect_status(ex, 200, "a signed-in session refreshes its JWT cookies")
    renewed = parse_set_cookies(ex)
    for name in COOKIES.values():
        cookie = renewed.get(name)
        expect(
            cookie is not None and not cookie.deleted,
            f"/login_refresh sets a new {name}",
            f"Set-Cookie: {name}=...",
            cookie.describe() if cookie else "not set",
        )
    parse_jwt(signin.shared().jwt())


@check("jwt-cookies.refresh.requires-session", level="MUST", ref="JC-08")
@clauses("openedx-login")
@requires("login")
def test_refresh_requires_session(signin):
    """POST /login_refresh without a session is 401"""
    browser = signin.shared().browser
    ex = browser.send("POST", REFRESH_PATH, cookies=browser.jwt_cookies())
    expect_status(ex, 401, "JWT cookies without a session do not mint new ones")
    expect(
        not any(not c.deleted for c in parse_set_cookies(ex).values() if c.name in COOKIES.values()),
        "no JWT cookie is issued without a session",
        "no JWT Set-Cookie",
        ", ".join(c.describe() for c in parse_set_cookies(ex).values()),
    )


@check("jwt-cookies.lms.accepts-cookies", level="MUST", ref="JC-09")
@clauses("edx-drf-cookies")
@requires("login")
def test_lms_accepts(http, profile, signin):
    """The LMS API accepts a request carrying only the JWT cookies"""
    ex = _probe(
        http, _cookies(signin).browser.jwt_cookies(), profile.base_url, profile.data["resources"]["me"]
    )
    expect_status(ex, 200, "the LMS reassembles the JWT cookies (JwtAuthCookieMiddleware)")
    body = ex.json()
    username = signin.credentials[0]
    if "@" not in username:
        expect_equal(
            body.get("username") if isinstance(body, dict) else None,
            username,
            "the probe answers as the cookie's user",
        )


@check("jwt-cookies.lms.mismatched-refused", level="MUST", ref="JC-10")
@clauses("RFC7515-5.2", "edx-drf-cookies")
@requires("login")
def test_lms_mismatched(http, profile, signin, tokens):
    """The LMS API refuses JWT cookies whose signature does not match"""
    ex = _probe(http, _mismatched(signin, tokens), profile.base_url, profile.data["resources"]["me"])
    expect_status(ex, REFUSED, "a cookie pair whose signature is another token's is refused")


@check("jwt-cookies.services.accept-cookies", level="MUST", ref="JC-11")
@clauses("edx-drf-cookies", "oauth-9")
@requires("login", "services")
def test_service_accepts(http, profile, signin, tokens, jwks, service):
    """Every listed service accepts a request carrying only the JWT cookies"""
    ex = _at_service(http, profile, signin, tokens, jwks, service)
    expect_status(
        ex,
        200,
        f"{service} reassembles the MFEs' JWT cookies (edx-drf-extensions JwtAuthCookieMiddleware)",
    )


@check("jwt-cookies.services.mismatched-refused", level="MUST", ref="JC-12")
@clauses("RFC7515-5.2", "edx-drf-cookies")
@requires("login", "services")
def test_service_mismatched(http, profile, signin, tokens, jwks, service):
    """Every listed service refuses JWT cookies whose signature does not match"""
    ex = _at_service(http, profile, signin, tokens, jwks, service, mismatched=True)
    expect_status(ex, REFUSED, f"{service} refuses a cookie pair whose signature is another token's")


# Alone: signing out ends a session at the LMS: nothing else may be signing in meanwhile.
@check("jwt-cookies.logout.clears", level="MUST", ref="JC-13", alone=True)
@clauses("openedx-logout")
@requires("login")
def test_logout(signin):
    """Signing out deletes the JWT cookies and ends the session"""
    session = signin.sign_in()  # its own session: the shared one stays signed in for the others
    browser = session.browser
    old = dict(browser.jar)
    ex = browser.send("GET", LOGOUT_PATH)
    expect_status(ex, (200, 302), "the logout page answers")
    cleared = parse_set_cookies(ex)
    for name in COOKIES.values():
        cookie = cleared.get(name)
        expect(
            cookie is not None and cookie.deleted,
            f"logout deletes {name}",
            f"Set-Cookie: {name}=; expires in the past",
            cookie.describe() if cookie else "not touched",
        )
    after = browser.send("POST", REFRESH_PATH, cookies=old)
    expect_status(after, 401, "the signed-out session no longer refreshes JWT cookies")
