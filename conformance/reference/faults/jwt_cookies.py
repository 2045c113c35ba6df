"""The faults of the jwt-cookies area: the sign-in flows and the MFEs' JWT cookies."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import LOGIN_API, Answered, Setting
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import NO_COOKIES

# What a WAF answers in the LMS's stead.
WAF_PAGE = (
    "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1>"
    "<p>Request blocked by the web application firewall.</p></body></html>"
)

# Every fault of this module is of the jwt-cookies area.
_fault = partial(Fault, area="jwt-cookies")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.JWT_COOKIE_NOT_HTTPONLY,
        description=(
            "set_logged_in_cookies sets edx-jwt-cookie-signature without HttpOnly: any script on the LMS "
            "origin (an XSS) reads a whole JWT."
        ),
        catches=["jwt-cookies.flags.httponly"],
    ),
    _fault(
        name=Defect.JWT_COOKIE_DOMAIN_NARROW,
        description=(
            "SHARED_COOKIE_DOMAIN names a host the MFEs are not served from ('localhost' while LMS and "
            "MFEs are on 127.0.0.1; in production: lms.example.org with MFEs on apps.example.org)."
        ),
        # A host the MFEs (on 127.0.0.1) are not in.
        effects=(Setting("SHARED_COOKIE_DOMAIN", "localhost"),),
        catches=["jwt-cookies.domain.covers-mfe"],
    ),
    _fault(
        name=Defect.JWT_COOKIE_SAMESITE_NONE_INSECURE,
        description=(
            "The JWT cookies are set with SameSite=None (copied from Tutor's https settings) but without "
            "Secure (request.is_secure() is false behind a TLS proxy whose X-Forwarded-Proto is not "
            "trusted, or plain http): browsers drop them. Meant for the https reference; it shows on "
            "the http one too."
        ),
        catches=["jwt-cookies.flags.samesite"],
    ),
    _fault(
        name=Defect.DISCOVERY_NO_JWT_COOKIE_MIDDLEWARE,
        description=(
            "The discovery service's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the "
            "MFEs' two cookies are never reassembled there, and their calls are anonymous (401)."
        ),
        catches=["jwt-cookies.services.accept-cookies"],
    ),
    _fault(
        name=Defect.JWT_COOKIES_NOT_SET,
        description=(
            "Login and /login_refresh set no JWT cookies (JWT_AUTH['JWT_LOGIN_CLIENT_ID'] names no "
            "application): MFEs find the user signed in but hold no JWT."
        ),
        catches=["jwt-cookies.login.set", "jwt-cookies.refresh.renews"],
        collateral={
            **dict.fromkeys(
                (
                    "jwt-cookies.flags.httponly",
                    "jwt-cookies.flags.samesite",
                    "jwt-cookies.domain.covers-mfe",
                    "jwt-cookies.jwt.conformant",
                    "jwt-cookies.lms.accepts-cookies",
                    "jwt-cookies.services.accept-cookies",
                ),
                NO_COOKIES,
            ),
            "jwt-cookies.logout.clears": (
                "logout deletes cookies that were never set; a deletion is still sent, but the check's "
                "sign-in finds no cookies first"
            ),
        },
    ),
    _fault(
        name=Defect.LOGIN_REFRESH_JWT_COOKIE_AUTH,
        description=(
            "/login_refresh also authenticates with the JWT cookie it refreshes: a stolen cookie pair "
            "is renewed forever without a session."
        ),
        catches=["jwt-cookies.refresh.requires-session"],
        collateral={
            "jwt-cookies.logout.clears": "the signed-out browser's JWT cookies still refresh",
        },
        cause="check:jwt-cookies.logout.clears",
    ),
    _fault(
        name=Defect.LMS_NO_JWT_COOKIE_MIDDLEWARE,
        description=(
            "The LMS's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the MFEs' calls to "
            "the LMS API with the two cookies are anonymous (401)."
        ),
        catches=["jwt-cookies.lms.accepts-cookies"],
    ),
    _fault(
        name=Defect.DISCOVERY_COOKIE_PAYLOAD_TRUSTED,
        description=(
            "The discovery service takes the user from the readable header-payload cookie (as the MFEs "
            "do) without checking the signature cookie: anyone can forge a user there."
        ),
        catches=["jwt-cookies.services.mismatched-refused"],
    ),
    _fault(
        name=Defect.LOGOUT_KEEPS_JWT_COOKIES,
        description=(
            "A customised logout page flushes the session but never deletes the JWT cookies: the next "
            "user of a shared computer calls the MFEs' APIs as the previous one until the JWT expires."
        ),
        catches=["jwt-cookies.logout.clears"],
    ),
    _fault(
        name=Defect.LOGIN_API_MISSING,
        description=(
            "The login API (POST /api/user/v2/account/login_session/) is not routed: a URL conf or proxy "
            "that lacks user_authn's routes. Nobody signs in; SSO and the MFEs' cookies cannot work."
        ),
        catches=["jwt-cookies.login.signs-in"],
        cause="sign-in",
    ),
    _fault(
        name=Defect.CSRF_ENDPOINT_MISSING,
        description=(
            "edx-drf-extensions' CSRF token API (GET /csrf/api/v1/token) is not routed (lms/urls.py "
            "without `include('csrf.urls')`): the login page gets no token to sign in with."
        ),
        catches=["jwt-cookies.login.signs-in"],
        cause="sign-in",
    ),
    _fault(
        name=Defect.LOGIN_API_WAF_403,
        description=(
            "A web application firewall in front of the LMS blocks POSTs to the login API with its own "
            "403 HTML page (a rule that treats a posted password as an attack)."
        ),
        # ModSecurity's default deny page, a CDN's bot rule: HTML, never JSON.
        effects=(Answered(LOGIN_API, "POST", 403, "text/html", WAF_PAGE),),
        catches=["jwt-cookies.login.signs-in"],
        collateral={
            # Runs only with options.login_rate_limit_probe (predicted by tests/test_fault_effects.py).
            "advisories.login.rate-limited-by-username": (
                "its failed logins are POSTs to the login API, which the WAF answers with its 403 page"
            ),
        },
        cause="sign-in",
    ),
)
