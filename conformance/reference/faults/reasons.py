"""Collateral reasons and groups of checks several faults share: one definition each."""

from __future__ import annotations

BASELINE = "its baseline (the genuine token is accepted at the probe) fails first"
SHARED_JWT = "it uses the run's shared default JWT, which the fault stops the endpoint issuing"
REFUSED_ANYWAY = "it sends the default JWT, which the fault makes the LMS API refuse under any scheme name"
SHARED_BODY = "it uses a token requested with credentials in the body, which the fault refuses"
SHARED_RS = "it uses the run's shared RS512 token, which the fault stops the endpoint issuing"
SERVICE_BASELINE = "its baseline (the genuine tokens are accepted at the service) fails first"
ERROR_AS_200 = (
    "the fault answers its refusal with HTTP 200 (the error body kept), and its verdict needs an error status"
)
BODY_EXCHANGE = (
    "the services' code exchange sends the client credentials in the body, which the fault ignores"
)
NO_COOKIES = "it reads the JWT cookies of the login, which the fault does not set"
NO_CODE = "it needs an authorization code for the registered redirect URI, which the fault prevents"
NO_SIGN_IN = "the LMS cannot sign RS512, so no login (and no restricted client's token) succeeds"

# The attacks on the LMS API with a signed JWT: each first sends the genuine JWT (its baseline).
SIGNED_JWT_ATTACKS = (
    "jwt-attacks.tampered-payload",
    "jwt-attacks.bad-signature",
    "jwt-attacks.alg-none",
    "jwt-attacks.key-confusion",
    "jwt-attacks.header-keys",
    "jwt-attacks.kid",
)
# The checks that judge the run's shared default JWT (and its [refresh] case).
DEFAULT_JWT_CHECKS = (
    "jwt.structure.compact-jws",
    "jwt.header.alg",
    "jwt.signature.verifies",
    "jwt.claims.iss",
    "jwt.claims.aud",
    "jwt.claims.times",
    "jwt.claims.lifetime",
    "jwt.claims.openedx",
    "jwt.claims.scope-dependent",
)
# What refuses a JWT whose issuer or audience the services do not trust: the services, the SSO
# exchange's JWT, the cookie JWT.
SERVICES_REFUSE = (
    "resources.services.accept-jwt",
    "services.genuine.accepted",
    "authorization-code.exchange.token",
    "jwt-cookies.jwt.conformant",
    "jwt-cookies.services.accept-cookies",
)
# The sign-in JWTs are verified with the profile's key material, which a stale-key fault makes stale.
SIGN_IN_STALE_KEY = dict.fromkeys(
    ("authorization-code.exchange.token", "jwt-cookies.jwt.conformant"),
    "the sign-in JWTs' signature is checked with the profile's key, which this fault makes stale "
    "(the profile-keys check names it)",
)
