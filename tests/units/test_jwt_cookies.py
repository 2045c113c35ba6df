"""The unit cases of the jwt-cookies checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit
from tests.units.patches import WRONG_ISSUER

AREA = "jwt-cookies"

TABLE: dict[str, Unit] = {
    "jwt-cookies.login.signs-in": unit(
        fails(Defect.LOGIN_API_MISSING, "signs in through the LMS's login API", actual="HTTP 404"),
        fails(Defect.CSRF_ENDPOINT_MISSING, "gives a CSRF token", actual="HTTP 404"),
        fails(Defect.LOGIN_API_WAF_403, "signs in through the LMS's login API", actual="HTTP 403"),
    ),
    "jwt-cookies.login.set": unit(
        fails(Defect.JWT_COOKIES_NOT_SET, "the login sets edx-jwt-cookie"),
    ),
    "jwt-cookies.flags.httponly": unit(
        fails(Defect.JWT_COOKIE_NOT_HTTPONLY, "a script (XSS) never gets a whole JWT", "signature"),
        fails(Defect.JWT_COOKIE_PAYLOAD_HTTPONLY, "readable by the MFEs", "header-payload"),
    ),
    "jwt-cookies.flags.secure": unit(
        fails(Defect.JWT_COOKIE_NOT_SECURE, "never travel over plain http"),
    ),
    "jwt-cookies.flags.samesite": unit(
        fails(Defect.JWT_COOKIE_SAMESITE_NONE_INSECURE, "SameSite=None comes with Secure"),
    ),
    "jwt-cookies.domain.covers-mfe": unit(
        fails(Defect.JWT_COOKIE_HOST_ONLY, "receive the cookie"),
    ),
    "jwt-cookies.jwt.conformant": unit(
        fails(WRONG_ISSUER, "the cookie JWT: iss is the profile's issuer"),
    ),
    "jwt-cookies.refresh.renews": unit(
        fails(Defect.JWT_COOKIES_NOT_SET, "/login_refresh sets a new"),
    ),
    "jwt-cookies.refresh.requires-session": unit(
        fails(Defect.REFRESH_WITHOUT_SESSION, "JWT cookies without a session do not mint new ones"),
    ),
    "jwt-cookies.lms.accepts-cookies": unit(
        fails(Defect.LMS_NO_COOKIE_MIDDLEWARE, "the LMS reassembles the JWT cookies"),
    ),
    "jwt-cookies.lms.mismatched-refused": unit(
        fails(Defect.COOKIE_SIGNATURE_IGNORED, "whose signature is another token's is refused"),
    ),
    "jwt-cookies.services.accept-cookies": unit(
        fails(Defect.DISCOVERY_NO_COOKIE_MIDDLEWARE, "reassembles the MFEs' JWT cookies"),
    ),
    "jwt-cookies.services.mismatched-refused": unit(
        fails(Defect.DISCOVERY_COOKIE_SIGNATURE_IGNORED, "refuses a cookie pair"),
    ),
    "jwt-cookies.logout.clears": unit(
        fails(Defect.LOGOUT_KEEPS_COOKIES, "logout deletes"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    ("jwt-cookies.login.set", None, (Defect.LOGIN_API_MISSING,), {}, "blocked (jwt-cookies.login.signs-in)"),
]
