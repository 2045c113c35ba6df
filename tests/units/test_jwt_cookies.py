"""The unit cases of the jwt-cookies checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

import httpx

from conformance.reference.defects import Defect
from tests.stub_lms import on_front
from tests.stub_signin import on_signin
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, blocked, fails, unit
from tests.units.patches import CSRF_ENDPOINT_MISSING, WRONG_ISSUER

LOGIN_PATH = "/api/user/v2/account/login_session/"
LOGIN_API_MISSING = on_signin(Defect.LOGIN_API_MISSING, unrouted=frozenset({LOGIN_PATH}))
# A web application firewall in front of the LMS answers the login API itself.
LOGIN_API_WAF_403 = on_front(
    Defect.LOGIN_API_WAF_403,
    lambda r: (
        httpx.Response(403, content=b"<html><h1>Forbidden</h1>blocked by the WAF</html>")
        if r.url.path == LOGIN_PATH
        else None
    ),
)
JWT_COOKIES_NOT_SET = on_signin(Defect.JWT_COOKIES_NOT_SET, jwt_cookies=False)
JWT_COOKIE_NOT_HTTPONLY = on_signin(Defect.JWT_COOKIE_NOT_HTTPONLY, signature_httponly=False)
JWT_COOKIE_PAYLOAD_HTTPONLY = on_signin(Defect.JWT_COOKIE_PAYLOAD_HTTPONLY, payload_httponly=True)
JWT_COOKIE_NOT_SECURE = on_signin(Defect.JWT_COOKIE_NOT_SECURE, cookies_secure=False)
JWT_COOKIE_SAMESITE_NONE_INSECURE = on_signin(
    Defect.JWT_COOKIE_SAMESITE_NONE_INSECURE, cookies_secure=False, samesite="None"
)
JWT_COOKIE_HOST_ONLY = on_signin(Defect.JWT_COOKIE_HOST_ONLY, cookie_domain=None)
REFRESH_WITHOUT_SESSION = on_signin(Defect.REFRESH_WITHOUT_SESSION, refresh_needs_session=False)
LMS_NO_COOKIE_MIDDLEWARE = on_signin(
    Defect.LMS_NO_COOKIE_MIDDLEWARE, cookie_middleware=frozenset({"discovery"})
)
COOKIE_SIGNATURE_IGNORED = on_signin(
    Defect.COOKIE_SIGNATURE_IGNORED, cookie_signature_checked=frozenset({"discovery"})
)
DISCOVERY_NO_COOKIE_MIDDLEWARE = on_signin(
    Defect.DISCOVERY_NO_COOKIE_MIDDLEWARE, cookie_middleware=frozenset({"lms"})
)
DISCOVERY_COOKIE_SIGNATURE_IGNORED = on_signin(
    Defect.DISCOVERY_COOKIE_SIGNATURE_IGNORED, cookie_signature_checked=frozenset({"lms"})
)
LOGOUT_KEEPS_COOKIES = on_signin(Defect.LOGOUT_KEEPS_COOKIES, logout_deletes_cookies=False)

TABLE: dict[str, Unit] = {
    "jwt-cookies.login.signs-in": unit(
        fails(LOGIN_API_MISSING, "signs in through the LMS's login API", actual="HTTP 404"),
        fails(CSRF_ENDPOINT_MISSING, "gives a CSRF token", actual="HTTP 404"),
        fails(LOGIN_API_WAF_403, "signs in through the LMS's login API", actual="HTTP 403"),
    ),
    "jwt-cookies.login.set": unit(
        fails(JWT_COOKIES_NOT_SET, "the login sets edx-jwt-cookie"),
    ),
    "jwt-cookies.flags.httponly": unit(
        fails(JWT_COOKIE_NOT_HTTPONLY, "a script (XSS) never gets a whole JWT", "signature"),
        fails(JWT_COOKIE_PAYLOAD_HTTPONLY, "readable by the MFEs", "header-payload"),
    ),
    "jwt-cookies.flags.secure": unit(
        fails(JWT_COOKIE_NOT_SECURE, "never travel over plain http"),
    ),
    "jwt-cookies.flags.samesite": unit(
        fails(JWT_COOKIE_SAMESITE_NONE_INSECURE, "SameSite=None comes with Secure"),
    ),
    "jwt-cookies.domain.covers-mfe": unit(
        fails(JWT_COOKIE_HOST_ONLY, "receive the cookie"),
    ),
    "jwt-cookies.jwt.conformant": unit(
        fails(WRONG_ISSUER, "the cookie JWT: iss is the profile's issuer"),
    ),
    "jwt-cookies.refresh.renews": unit(
        fails(JWT_COOKIES_NOT_SET, "/login_refresh sets a new"),
    ),
    "jwt-cookies.refresh.requires-session": unit(
        fails(REFRESH_WITHOUT_SESSION, "JWT cookies without a session do not mint new ones"),
    ),
    "jwt-cookies.lms.accepts-cookies": unit(
        fails(LMS_NO_COOKIE_MIDDLEWARE, "the LMS reassembles the JWT cookies"),
    ),
    "jwt-cookies.lms.mismatched-refused": unit(
        fails(COOKIE_SIGNATURE_IGNORED, "whose signature is another token's is refused"),
    ),
    "jwt-cookies.services.accept-cookies": unit(
        fails(DISCOVERY_NO_COOKIE_MIDDLEWARE, "reassembles the MFEs' JWT cookies"),
    ),
    "jwt-cookies.services.mismatched-refused": unit(
        fails(DISCOVERY_COOKIE_SIGNATURE_IGNORED, "refuses a cookie pair"),
    ),
    "jwt-cookies.logout.clears": unit(
        fails(LOGOUT_KEEPS_COOKIES, "logout deletes"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    blocked("jwt-cookies.login.set", None, "jwt-cookies.login.signs-in", LOGIN_API_MISSING),
]
