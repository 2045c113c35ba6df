"""Django settings of the reference LMS: the OAuth, JWT, REST framework and rate-limit settings of
openedx-platform (``lms/envs/common.py``, ``openedx/envs/common.py``) with Tutor's JWT values."""

from __future__ import annotations

from conformance.reference import faults
from conformance.reference.defects import Defect
from conformance.reference.faults import effects as fault_effects
from conformance.reference.runtime import current
from conformance.reference.settings_common import COMMON, database, middleware

globals().update(COMMON)

CONFIG = current()
FAULTS = frozenset(CONFIG.faults)
SECRET_KEY = CONFIG.lms_secret_key
ROOT_URLCONF = "conformance.reference.lms.urls"
DATABASES = database(CONFIG, "lms")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "oauth2_provider",
    "django_ratelimit",
    "conformance.reference.lms",
]

MIDDLEWARE = [
    *middleware(
        # A settings override that rebuilt MIDDLEWARE without edx-drf-extensions' middleware, which
        # is what adds NotJwtRestrictedApplication to every view that accepts JWTs.
        jwt_settings=Defect.RESTRICTED_TOKEN_ACCEPTED not in FAULTS,
        jwt_cookies=Defect.LMS_NO_JWT_COOKIE_MIDDLEWARE not in FAULTS,
    ),
    "conformance.reference.lms.middleware.TokenRequestFaultsMiddleware",
]
if Defect.TOKEN_PATH_SLASH_STRIPPED in FAULTS:
    # What the web server in front of the LMS does to requests (conformance/reference/lms/front.py).
    MIDDLEWARE.insert(1, "conformance.reference.lms.front.FrontServerMiddleware")

# The platform authenticates inactive (unactivated) users too: they may get password-grant tokens.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]

# ---- django-oauth-toolkit 1.7.1, as lms/envs/common.py configures it ---------------------------
OAUTH2_DEFAULT_SCOPES = {
    "read": "Read access",
    "write": "Write access",
    "email": "Know your email address",
    "profile": "Know your name and username",
}
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "conformance.reference.lms.validators.EdxOAuth2Validator",
    # 90 days; ACCESS_TOKEN_EXPIRE_SECONDS keeps DOT's default of 36000.
    "REFRESH_TOKEN_EXPIRE_SECONDS": 7776000,
    "SCOPES_BACKEND_CLASS": "conformance.reference.lms.scopes.ApplicationModelScopes",
    "SCOPES": {
        **OAUTH2_DEFAULT_SCOPES,
        "certificates:read": "Retrieve your course certificates",
        "grades:read": "Retrieve your grades for your enrolled courses",
        "tpa:read": "Retrieve your third-party authentication username mapping",
        "user_id": "Know your user identifier",
    },
    "DEFAULT_SCOPES": list(OAUTH2_DEFAULT_SCOPES),
    "REQUEST_APPROVAL_PROMPT": "auto_even_if_expired",
    "ERROR_RESPONSE_WITH_SCOPES": True,
    # DOT's default, spelled out: the no-refresh-rotation fault turns it off.
    "ROTATE_REFRESH_TOKEN": True,
}

# DOT's models are swappable; migrations that point at them need the setting spelled out.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

JWT_ACCESS_TOKEN_EXPIRE_SECONDS = 60 * 60

# ---- JWT_AUTH (openedx/envs/common.py defaults, Tutor's common_all.py values) -------------------
# The wrong-issuer fault is a misconfigured JWT_COMMON_ISSUER: Tutor renders it into both the
# signing issuer and the LMS's own JWT_ISSUERS, so the LMS still accepts its own tokens.
JWT_ISSUER = CONFIG.issuer
if Defect.WRONG_ISSUER in FAULTS:
    JWT_ISSUER = f"http://localhost:{CONFIG.lms_port}/oauth2"
if Defect.ISSUER_HTTPS_SCHEME in FAULTS:
    JWT_ISSUER = CONFIG.issuer.replace("http://", "https://", 1)
# ENABLE_HTTPS left false behind a TLS front (`serve --tls`): Tutor renders an http issuer for
# every service, so the services agree with each other and disagree with the URL operators use.
if Defect.ISSUER_HTTP_BEHIND_TLS in FAULTS:
    JWT_ISSUER = CONFIG.issuer.replace("https://", "http://", 1)
# Left at the platform's default on the LMS alone (signing and its own JWT_ISSUERS).
JWT_AUDIENCE = "change-me" if Defect.WRONG_AUDIENCE in FAULTS else CONFIG.audience
# Tutor signs HS256 with JWT_COMMON_SECRET_KEY and verifies with JWT_ISSUERS[0].SECRET_KEY.
JWT_VERIFYING_SECRET = CONFIG.lms_secret_key if Defect.LMS_SECRET_DIVERGENCE in FAULTS else CONFIG.jwt_secret
JWT_AUTH = {
    "JWT_VERIFY_EXPIRATION": not {Defect.ACCEPT_EXPIRED, Defect.HS256_SECRET_STALE} & set(FAULTS),
    "JWT_VERIFY_AUDIENCE": not {Defect.AUD_NOT_VERIFIED, Defect.HS256_SECRET_STALE} & set(FAULTS),
    "JWT_PAYLOAD_GET_USERNAME_HANDLER": lambda payload: payload.get("username"),
    "JWT_LEEWAY": 1,
    "JWT_DECODE_HANDLER": "conformance.reference.lms.jwt.decode_handler",
    "JWT_AUTH_COOKIE": "edx-jwt-cookie",
    "JWT_EXPIRATION": 30,
    "JWT_IN_COOKIE_EXPIRATION": 60 * 60,
    "JWT_LOGIN_CLIENT_ID": "login-service-client-id",
    "JWT_LOGIN_SERVICE_USERNAME": "login_service_user",
    "JWT_SUPPORTED_VERSION": "1.2.0",
    "JWT_ALGORITHM": "HS256",
    "JWT_SECRET_KEY": CONFIG.jwt_secret,
    "JWT_SIGNING_ALGORITHM": "RS512",
    # The platform keeps the private JWK here as JSON; we keep a path to the 0600 PEM instead and
    # parse it once per process (conformance.reference.keys.load_private_key).
    "JWT_PRIVATE_SIGNING_KEY_FILE": CONFIG.private_key_path,
    # The private JWK itself (JWT_PRIVATE_SIGNING_JWK), when written: signing goes through PyJWT's
    # PyJWK as on the platform, so a JWK without dp/dq/qi fails where it fails there.
    "JWT_PRIVATE_SIGNING_JWK_FILE": CONFIG.private_jwk_path,
    "JWT_PUBLIC_SIGNING_JWK_SET": CONFIG.public_jwks,
    "JWT_ISSUER": JWT_ISSUER,
    "JWT_AUDIENCE": JWT_AUDIENCE,
    "JWT_ISSUERS": [{"ISSUER": JWT_ISSUER, "AUDIENCE": JWT_AUDIENCE, "SECRET_KEY": JWT_VERIFYING_SECRET}],
    "JWT_AUTH_COOKIE_HEADER_PAYLOAD": "edx-jwt-cookie-header-payload",
    "JWT_AUTH_COOKIE_SIGNATURE": "edx-jwt-cookie-signature",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    # The platform's toggle (default off); the kid comes from the private signing JWK.
    "JWT_AUTH_ADD_KID_HEADER": False,
    "JWT_PRIVATE_SIGNING_KID": "openedx-2025",
}
EDX_DRF_EXTENSIONS: dict[str, object] = {
    # The platform sets this empty so stale JWTs never overwrite user data.
    "JWT_PAYLOAD_USER_ATTRIBUTE_MAPPING": {},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "edx_rest_framework_extensions.auth.jwt.authentication.JwtAuthentication",
        "edx_rest_framework_extensions.auth.session.authentication.SessionAuthenticationAllowInactiveUser",
    ),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "DEFAULT_PARSER_CLASSES": ("rest_framework.parsers.JSONParser",),
}

# ---- django-ratelimit: AccessTokenView is limited per client IP --------------------------------
RATELIMIT_ENABLE = True
RATELIMIT_RATE = CONFIG.rate_limit
# One process serves every request, so the local-memory cache is the shared cache here.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Open edX believes its front server about the scheme (openedx/edx-platform lms/envs/production.py);
# behind `serve --tls` that is the TLS front, which always sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The login API's CSRF check compares the browser's Origin with the LMS's public origin, which behind
# the TLS front is the front's (a deployment behind a proxy lists its public origins the same way).
CSRF_TRUSTED_ORIGINS = [CONFIG.lms_url]

# ---- sign-in flows: login API, JWT cookies, /oauth2/authorize (user_authn, oauth_dispatch) -------
# Server-side sessions, as the LMS keeps them (a signed-cookie session would outlive its logout).
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_NAME = "sessionid"
SESSION_COOKIE_HTTPONLY = True
# Tutor on http: SameSite Lax, not Secure (on https: None and Secure).
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "/login"
# lms/envs/common.py: a user has one session; a new login deletes the previous one
# (student/models/user.py enforce_single_login). On, as in the LMS.
FEATURES = {"PREVENT_CONCURRENT_LOGINS": True}
# Loopback has no parent domain to share; Tutor sets the LMS host (the MFEs are on apps.<LMS_HOST>).
SHARED_COOKIE_DOMAIN = None

# ---- the published sign-in advisories (conformance/reference/lms/advisories.py) ----------------
# login_user's per-username limit (the LMS's 30/5m unless serve --login-rate-limit); no extra
# redirect hosts (a stock install).
LOGISTRATION_PER_EMAIL_RATELIMIT_RATE = CONFIG.login_rate_limit
LOGIN_REDIRECT_WHITELIST: list[str] = []

# ---- the active faults' declared effects (conformance/reference/faults/effects.py) -------------
# Their settings, then their middleware: outermost after the latency middleware, where a proxy sits.
fault_effects.apply_settings(faults.effects_of(FAULTS), globals())
MIDDLEWARE.insert(1, "conformance.reference.lms.middleware.FaultEffectsMiddleware")
