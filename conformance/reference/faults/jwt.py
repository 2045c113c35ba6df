"""The faults of the jwt area: what the LMS puts in its JWTs and key sets."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import ClaimsRemoved, ClaimsShifted, Setting
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import (
    BASELINE,
    REFUSED_ANYWAY,
    SERVICE_BASELINE,
    SERVICES_REFUSE,
    SIGN_IN_STALE_KEY,
    SIGNED_JWT_ATTACKS,
)

# What fails when the Open edX claims of every JWT are wrong: the shared JWT's checks, the SSO
# exchange's JWT and the cookie JWT.
OPENEDX_CLAIMS_WRONG = (
    "jwt.structure.compact-jws",
    "jwt.claims.openedx",
    "authorization-code.exchange.token",
    "jwt-cookies.jwt.conformant",
)
# Every fault of this module is of the jwt area.
_fault = partial(Fault, area="jwt")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.WRONG_ISSUER,
        description=(
            "The LMS signs its JWTs with an issuer other than the profile's (http://localhost:<port>/oauth2, "
            "as when LMS_HOST or JWT_ISSUER is misconfigured). The LMS accepts its own tokens; services "
            "configured with the real issuer refuse them."
        ),
        catches=[
            "jwt.claims.iss",
            *SERVICES_REFUSE,
        ],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="mismatch.issuer",
    ),
    _fault(
        name=Defect.ISSUER_HTTPS_SCHEME,
        description=(
            "JWT_ISSUER says https while the LMS is served over http (Tutor's ENABLE_HTTPS flipped, or a TLS "
            "proxy without X-Forwarded-Proto): only the scheme of iss differs from what services trust."
        ),
        catches=[
            "jwt.claims.iss",
            *SERVICES_REFUSE,
        ],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="edge.issuer-scheme",
    ),
    _fault(
        name=Defect.WRONG_AUDIENCE,
        description=(
            "JWT_AUDIENCE is left at the platform default 'change-me' on the LMS (signing and its own "
            "JWT_ISSUERS) while other services expect 'openedx'."
        ),
        catches=[
            "jwt.claims.aud",
            *SERVICES_REFUSE,
        ],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="mismatch.audience",
    ),
    _fault(
        name=Defect.ASYMMETRIC_JWT_IGNORED,
        description=(
            "The token view ignores the asymmetric_jwt parameter: every JWT is HS256, also when RS512 was "
            "asked for."
        ),
        catches=["jwt.header.alg", "key-rotation.lms.signing-key"],
        collateral={
            "jwt.profile-keys.jwks": "the instance issues no RS512 token to verify jwt.jwks with",
        },
        cause="asymmetric-token",
    ),
    _fault(
        name=Defect.SIGNING_KEY_NOT_PUBLISHED,
        description=(
            "A rotated RS512 signing key is in the LMS's settings but not in the published JWK set that the "
            "profile and the other services use (they still hold the old key)."
        ),
        # The LMS accepts its own tokens: from outside, its public set and the profile's are stale.
        catches=[
            "jwt-cookies.jwt.conformant",
            "jwt.profile-keys.jwks",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "key-rotation.lms.signing-key",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="profile-key.jwt.jwks",
    ),
    _fault(
        name=Defect.KID_NOT_IN_JWKS,
        description=(
            "JWT_AUTH_ADD_KID_HEADER is on and the private signing JWK carries kid 'openedx-2025' while the "
            "public set publishes the same key under kid 'openedx'."
        ),
        # The platform's toggle (default off); the private JWK's kid is JWT_PRIVATE_SIGNING_KID.
        effects=(Setting("JWT_AUTH", True, key="JWT_AUTH_ADD_KID_HEADER"),),
        catches=[
            "jwt.signature.verifies",
            "jwt.header.kid",
            "key-rotation.lms.kid",
            "jwt-cookies.jwt.conformant",
        ],
    ),
    _fault(
        name=Defect.CLOCK_AHEAD,
        description=(
            "The LMS host's clock runs 5 minutes fast: iat and exp of every JWT are in the future, and "
            "resource servers with a correct clock (the LMS's own API included) refuse them."
        ),
        # The LMS host's clock 5 minutes ahead of everyone else's.
        effects=(ClaimsShifted(("iat", "exp"), 300),),
        catches=[
            "jwt.claims.times",
            "resources.jwt.accepted",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.lms.accepts-cookies",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={
            "resources.jwt.scheme-case": REFUSED_ANYWAY,
            "services.forged.refused": SERVICE_BASELINE,
            **dict.fromkeys(
                (
                    *SIGNED_JWT_ATTACKS,
                    "jwt-attacks.expired",
                    "resources.jwt.wrong-audience",
                    "resources.jwt.wrong-issuer",
                ),
                BASELINE,
            ),
            "accounts.restricted-client.refused": (
                "the restricted JWT's iat is in the future: the API refuses it with 401 before its "
                "permission's 403"
            ),
        },
    ),
    _fault(
        name=Defect.EXP_FROM_OPAQUE_LIFETIME,
        description=(
            "The JWT's exp is taken from the underlying DOT access token (iat + 36000) while the response "
            "says expires_in 3600."
        ),
        catches=["jwt.claims.lifetime", "key-rotation.retired-key.lifetime"],
    ),
    _fault(
        name=Defect.MISSING_OPENEDX_CLAIMS,
        description="JWTs lack the Open edX claims version and filters (an outdated custom JWT builder).",
        effects=(ClaimsRemoved(("version", "filters")),),
        catches=[*OPENEDX_CLAIMS_WRONG],
    ),
    _fault(
        name=Defect.SUB_IS_USERNAME,
        description="The sub claim is the username instead of the anonymous user id.",
        catches=[*OPENEDX_CLAIMS_WRONG],
    ),
    _fault(
        name=Defect.GRANT_TYPE_UNDERSCORE,
        description=(
            "The grant_type claim is the request's grant type with an underscore (client_credentials) "
            "instead of the application's (client-credentials)."
        ),
        catches=["jwt.structure.compact-jws", "jwt.claims.openedx", "authorization-code.exchange.token"],
    ),
    _fault(
        name=Defect.CLAIMS_IGNORE_SCOPES,
        description=(
            "The JWT builder adds the email and profile claims whatever the scopes: a scope=read token "
            "carries personal data."
        ),
        catches=["jwt.claims.scope-dependent"],
    ),
    _fault(
        name=Defect.JWKS_PRIVATE_MEMBERS,
        description=(
            "The published JWK set is the private signing JWK (d, p, q, dp, dq, qi included), pasted where "
            "the public set belongs."
        ),
        catches=["jwt.jwks.public-only", "key-rotation.jwks.keys"],
    ),
    _fault(
        name=Defect.RSA_1024_KEY,
        description="The RS512 signing key is a 1024-bit RSA key (made with an old openssl genrsa default).",
        catches=["jwt.jwks.rsa-2048", "key-rotation.jwks.keys"],
    ),
    _fault(
        name=Defect.JWKS_DUPLICATE_KID,
        description=(
            "A key rotation added the new key to the JWK set under the old key's kid: two keys share kid "
            "'openedx'."
        ),
        catches=["jwt.jwks.distinct-kids", "key-rotation.jwks.keys"],
    ),
    # Each pairs a stale key in the operator's hands with a resource bug that only tokens made with
    # the right key could show: the dependent checks must be "not verified", never passed, and the
    # profile problem reported once.
    _fault(
        name=Defect.HS256_SECRET_STALE,
        description=(
            "JWT_SECRET_KEY was rotated across the deployment but the secret handed to the operator "
            "(the profile's jwt.hs256_secret) is the old one; and the LMS API's JWT decoder checks "
            "neither aud nor exp (JWT_VERIFY_AUDIENCE and JWT_VERIFY_EXPIRATION off)."
        ),
        catches=["jwt.profile-keys.hs256-secret"],
        collateral=dict(SIGN_IN_STALE_KEY),
        cause="profile-key.jwt.hs256_secret",
    ),
    _fault(
        name=Defect.JWKS_STALE,
        description=(
            "The RS512 signing key was rotated across the deployment but the JWK set handed to the "
            "operator (the profile's jwt.jwks) holds the old key; and the LMS API verifies HS* tokens "
            "with its public RSA key as the HMAC key (the key-confusion bug)."
        ),
        catches=["jwt.profile-keys.jwks", "key-rotation.lms.signing-key"],
        collateral=dict(SIGN_IN_STALE_KEY),
        cause="profile-key.jwt.jwks",
    ),
    _fault(
        name=Defect.JWKS_SINGLE_KEY,
        description=(
            "The public key handed to the operator (the profile's jwt.jwks) is a single JWK, not a JWK "
            'set ({"keys": [...]}) as JWT_PUBLIC_SIGNING_JWK_SET is.'
        ),
        catches=["jwt.jwks.well-formed", "key-rotation.jwks.keys"],
    ),
)
