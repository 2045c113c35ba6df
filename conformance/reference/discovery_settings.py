"""Django settings of the reference discovery service: a resource server that trusts the LMS's JWTs
through its own JWT_AUTH, as course-discovery is configured by Tutor."""

from __future__ import annotations

from conformance.reference.defects import Defect
from conformance.reference.runtime import current
from conformance.reference.settings_common import COMMON, database, middleware

globals().update(COMMON)

CONFIG = current()
SECRET_KEY = CONFIG.discovery_secret_key
ROOT_URLCONF = "conformance.reference.discovery.urls"
DATABASES = database(CONFIG, "discovery")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
]

# course-discovery lists the JWT cookie middleware (settings/base.py); the
# discovery-no-jwt-cookie-middleware fault is a service that does not, so the MFEs' cookies never
# become a JWT there.
MIDDLEWARE = middleware(jwt_cookies=Defect.DISCOVERY_NO_JWT_COOKIE_MIDDLEWARE not in CONFIG.faults)
if Defect.SERVICE_DOWN in CONFIG.faults:
    MIDDLEWARE.insert(0, "conformance.reference.middleware.UpstreamDownMiddleware")

# A mismatched issuer or secret here is the fault; the LMS keeps signing with the real ones.
TRUSTED_ISSUER = (
    f"http://localhost:{CONFIG.lms_port}/oauth2"
    if Defect.DISCOVERY_WRONG_ISSUER in CONFIG.faults
    else CONFIG.issuer
)
if Defect.ISSUER_HTTP_BEHIND_TLS in CONFIG.faults:  # the same http issuer as the LMS (Tutor renders both)
    TRUSTED_ISSUER = CONFIG.issuer.replace("https://", "http://", 1)
TRUSTED_SECRET = (
    CONFIG.discovery_secret_key if Defect.DISCOVERY_SECRET_DIVERGENCE in CONFIG.faults else CONFIG.jwt_secret
)
JWT_ISSUERS = [{"ISSUER": TRUSTED_ISSUER, "AUDIENCE": CONFIG.audience, "SECRET_KEY": TRUSTED_SECRET}]
if Defect.DISCOVERY_SECOND_ISSUER_FIRST in CONFIG.faults:
    # Another issuer's entry (an old LMS domain) was put first: edx-drf-extensions uses only the
    # first entry's SECRET_KEY and AUDIENCE to verify signatures, every entry's ISSUER for iss.
    JWT_ISSUERS.insert(
        0,
        {
            "ISSUER": "https://lms.old-domain.example/oauth2",
            "AUDIENCE": CONFIG.audience,
            "SECRET_KEY": CONFIG.discovery_secret_key,
        },
    )
JWT_DECODERS = {
    Defect.DISCOVERY_AUD_NOT_VERIFIED,
    Defect.DISCOVERY_ACCEPT_EXPIRED,
    Defect.DISCOVERY_ACCEPT_ALG_NONE,
    Defect.DISCOVERY_ISS_NOT_CHECKED,
}
JWT_AUTH = {
    "JWT_ISSUERS": JWT_ISSUERS,
    "JWT_ISSUER": TRUSTED_ISSUER,
    "JWT_AUDIENCE": CONFIG.audience,
    "JWT_SECRET_KEY": TRUSTED_SECRET,
    "JWT_ALGORITHM": "HS256",
    "JWT_VERIFY_EXPIRATION": Defect.DISCOVERY_ACCEPT_EXPIRED not in CONFIG.faults,
    # Off, as course-discovery's and ecommerce's base settings have it: the pinned edx-drf-extensions
    # (>= 8.8.0) checks aud at the signature step anyway, so the clean service still refuses tokens
    # for another audience; the discovery-aud-not-verified fault runs the pre-8.8.0 signature step
    # (conformance.reference.discovery.jwt), under which this setting was the only audience check.
    "JWT_VERIFY_AUDIENCE": False,
    "JWT_LEEWAY": 1,
    "JWT_PAYLOAD_GET_USERNAME_HANDLER": lambda payload: payload.get("preferred_username"),
    "JWT_DECODE_HANDLER": (
        "conformance.reference.discovery.jwt.decode_handler"
        if JWT_DECODERS & set(CONFIG.faults)
        else "edx_rest_framework_extensions.auth.jwt.decoder.jwt_decode_handler"
    ),
    "JWT_PUBLIC_SIGNING_JWK_SET": CONFIG.discovery_jwks,
    "JWT_AUTH_COOKIE": "edx-jwt-cookie",
    "JWT_AUTH_COOKIE_HEADER_PAYLOAD": "edx-jwt-cookie-header-payload",
    "JWT_AUTH_COOKIE_SIGNATURE": "edx-jwt-cookie-signature",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        # The discovery-cookie-payload-trusted fault: a service that takes the user from the MFEs'
        # readable header-payload cookie, as the MFEs themselves do, without any signature.
        *(
            ["conformance.reference.discovery.authentication.HeaderPayloadCookieAuthentication"]
            if Defect.DISCOVERY_COOKIE_PAYLOAD_TRUSTED in CONFIG.faults
            else []
        ),
        "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
}
