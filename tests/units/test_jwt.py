"""The unit cases of the jwt checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Diagnosis, Skip, Unit, fails, unit

AREA = "jwt"

TABLE: dict[str, Unit] = {
    "jwt.structure.compact-jws": unit(
        fails(Defect.JWT_NO_VERSION, "the claims are the Open edX set with their types"),
        fails(Defect.JWT_HEADER_JKU, "the JOSE header is well formed"),
    ),
    "jwt.header.alg": unit(
        fails(
            Defect.JWT_HS512,
            "the signing algorithm is one the profile expects",
            "default",
            "password",
            "refresh",
        ),
        fails(
            Defect.ASYMMETRIC_IGNORED, "asymmetric_jwt yields an asymmetrically signed token", "asymmetric"
        ),
    ),
    "jwt.signature.verifies": unit(
        # rotated-keys (the profile's keys are not the instance's) is the profile-key checks' failure.
        fails(Defect.SIGNING_KEY_UNPUBLISHED, "the signature verifies with the published key material"),
        fails(Defect.KID_UNKNOWN, "the signature verifies with the published key material", "asymmetric"),
    ),
    "jwt.claims.iss": unit(
        fails(Defect.WRONG_ISSUER, "iss is the issuer every resource server trusts"),
    ),
    "jwt.claims.aud": unit(
        fails(Defect.WRONG_AUDIENCE, "the token is meant for the configured audience"),
    ),
    "jwt.claims.times": unit(
        fails(Defect.IAT_IN_FUTURE, "iat is not in the future"),
        fails(Defect.EXPIRED_ON_ISSUE, "the token has not expired when issued"),
        fails(Defect.EXP_FLOAT, "exp and iat are integers"),
    ),
    "jwt.claims.lifetime": unit(
        fails(Defect.JWT_SHORT_EXP, "the token lives as long as the response says"),
    ),
    "jwt.claims.openedx": unit(
        fails(Defect.GRANT_TYPE_CLAIM_UNDERSCORE, "are present and typed"),
        fails(Defect.SCOPES_CLAIM_MISMATCH, "the scopes claim lists the response's scope"),
        fails(Defect.RESTRICTED_CLAIM, "a normal application's token is unrestricted"),
    ),
    "jwt.claims.scope-dependent": unit(
        fails(Defect.CLAIMS_IGNORE_SCOPE, "a read-only token carries no personal claims", "scope-read"),
        fails(
            Defect.NO_PROFILE_CLAIMS,
            "scopes email, profile and user_id bring their claims, and only they",
            "default-scopes",
            "asymmetric",
            "password",
            "refresh",
        ),
    ),
    "jwt.header.kid": unit(
        fails(Defect.KID_UNKNOWN, "the kid is found in the JWK set"),
        either=(Defect.KID_PUBLISHED,),
    ),
    "jwt.jwks.well-formed": unit(
        fails(Defect.JWKS_NOT_JSON, "the JWK set loads"),
    ),
    "jwt.rfc9068.profile": unit(
        fails(Defect.RFC9068_TYP_JWT, "typ is at+jwt", "typ"),
        fails(Defect.RFC9068_NO_CLIENT_ID, "the client_id claim is present", "client_id"),
        fails(Defect.RFC9068_NO_JTI, "the jti claim is present", "jti"),
        base=(Defect.RFC9068,),
        profile={"jwt": {"mode": "rfc9068"}},
    ),
    "jwt.profile-keys.hs256-secret": unit(
        fails(Defect.ROTATED_KEYS, "jwt.hs256_secret is the instance's own key material", actual="stale"),
        fails(Defect.SIGNING_KEY_UNPUBLISHED, "baseline: the genuine token is accepted"),
    ),
    "jwt.profile-keys.jwks": unit(
        fails(Defect.ROTATED_KEYS, "jwt.jwks is the instance's own key material", actual="its own"),
        fails(
            Defect.ASYMMETRIC_IGNORED, "is verified against a token signed with the instance's private key"
        ),
        fails(Defect.SIGNING_KEY_UNPUBLISHED, "baseline: the genuine token is accepted"),
    ),
    "jwt.jwks.public-only": unit(
        fails(Defect.JWKS_PRIVATE, "the public key set holds no private key material"),
    ),
    "jwt.jwks.rsa-2048": unit(
        fails(Defect.JWKS_WEAK_KEY, "RSA keys are at least 2048 bits"),
    ),
    "jwt.jwks.distinct-kids": unit(
        fails(Defect.JWKS_DUPLICATE_KID, "kids are unique so that rotation works"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    ("jwt.signature.verifies", "default", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    ("jwt.signature.verifies", "asymmetric", (), {"jwt": {"jwks": None}}, "add jwt.jwks"),
    (
        "jwt.claims.iss",
        "default",
        (Defect.NO_BODY_AUTH,),
        {},
        "blocked (token-endpoint.client-credentials.body-auth)",
    ),
    (
        "jwt.signature.verifies",
        "default",
        (Defect.ROTATED_KEYS,),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    ("jwt.signature.verifies", "asymmetric", (Defect.ROTATED_KEYS,), {}, "blocked (jwt.profile-keys.jwks)"),
    (
        "jwt.signature.verifies",
        "password",
        (Defect.ROTATED_KEYS,),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    ("jwt.claims.openedx", "password", (), {"password_grant": None}, "not-verified (password_grant)"),
    ("jwt.claims.iss", "refresh", (), {"password_grant": None}, "not-verified (password_grant)"),
]

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    ("jwt.claims.iss", "default", Defect.ISS_HTTP_SCHEME, "X-Forwarded-Proto: https"),
]
