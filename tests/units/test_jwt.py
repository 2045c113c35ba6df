"""The unit cases of the jwt checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

import secrets

from conformance.reference.defects import Defect
from tests.stub_lms import JWT_SECRET, LMS_URL, on_jwt, on_settings, profile_claims
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Diagnosis, Skip, Unit, blocked, fails, unit, without
from tests.units.patches import (
    ISS_HTTP_SCHEME,
    JWKS_DUPLICATE_KID,
    JWKS_NOT_JSON,
    JWKS_PRIVATE,
    JWKS_WEAK_KEY,
    KID_PUBLISHED,
    KID_UNKNOWN,
    NO_BODY_AUTH,
    ROTATED_KEYS,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
)

JWT_HS512 = on_settings(Defect.JWT_HS512, hmac_alg="HS512")
ASYMMETRIC_IGNORED = on_settings(Defect.ASYMMETRIC_IGNORED, honours_asymmetric_jwt=False)
# The LMS signs with keys that neither the profile nor its own API trust.
SIGNING_KEY_UNPUBLISHED = on_settings(
    Defect.SIGNING_KEY_UNPUBLISHED,
    signing_secret="rotated-" + JWT_SECRET,
    trusted_secret=JWT_SECRET,
    signing_key="rotated",
    trusted_key="signing",
)
JWT_NO_VERSION = on_jwt(Defect.JWT_NO_VERSION, lambda t: t.claims.pop("version"))
JWT_HEADER_JKU = on_jwt(Defect.JWT_HEADER_JKU, lambda t: t.header.update(jku=f"{LMS_URL}/oauth2/jwks.json"))
IAT_IN_FUTURE = on_jwt(
    Defect.IAT_IN_FUTURE, lambda t: t.claims.update(iat=t.claims["iat"] + 600, exp=t.claims["exp"] + 600)
)
EXPIRED_ON_ISSUE = on_jwt(Defect.EXPIRED_ON_ISSUE, lambda t: t.claims.update(exp=t.claims["iat"] - 10))
EXP_FLOAT = on_jwt(Defect.EXP_FLOAT, lambda t: t.claims.update(exp=t.claims["exp"] + 0.5))
JWT_SHORT_EXP = on_jwt(Defect.JWT_SHORT_EXP, lambda t: t.claims.update(exp=t.claims["iat"] + 600))
GRANT_TYPE_CLAIM_UNDERSCORE = on_jwt(
    Defect.GRANT_TYPE_CLAIM_UNDERSCORE, lambda t: t.claims.update(grant_type="client_credentials")
)
SCOPES_CLAIM_MISMATCH = on_jwt(
    Defect.SCOPES_CLAIM_MISMATCH, lambda t: t.claims.update(scopes=t.claims["scopes"][:1])
)
RESTRICTED_CLAIM = on_jwt(Defect.RESTRICTED_CLAIM, lambda t: t.claims.update(is_restricted=True))
CLAIMS_IGNORE_SCOPE = on_jwt(
    Defect.CLAIMS_IGNORE_SCOPE, lambda t: t.claims.update(email=t.user.email, **profile_claims(t.user))
)
NO_PROFILE_CLAIMS = on_jwt(
    Defect.NO_PROFILE_CLAIMS, lambda t: [t.claims.pop(name, None) for name in profile_claims(t.user)]
)
# RFC 9068 access tokens (a variant every case of jwt.rfc9068.profile runs with), and their defects.
RFC9068 = on_jwt(
    Defect.RFC9068,
    lambda t: [
        t.header.update(typ="at+jwt"),
        t.claims.update(client_id=t.app.client_id, jti=secrets.token_hex(16)),
    ],
)
RFC9068_TYP_JWT = on_jwt(Defect.RFC9068_TYP_JWT, lambda t: t.header.update(typ="JWT"))
RFC9068_NO_CLIENT_ID = on_jwt(Defect.RFC9068_NO_CLIENT_ID, lambda t: t.claims.pop("client_id"))
RFC9068_NO_JTI = on_jwt(Defect.RFC9068_NO_JTI, lambda t: t.claims.pop("jti"))

TABLE: dict[str, Unit] = {
    "jwt.structure.compact-jws": unit(
        fails(JWT_NO_VERSION, "the claims are the Open edX set with their types"),
        fails(JWT_HEADER_JKU, "the JOSE header is well formed"),
    ),
    "jwt.header.alg": unit(
        fails(
            JWT_HS512,
            "the signing algorithm is one the profile expects",
            "default",
            "password",
            "refresh",
        ),
        fails(ASYMMETRIC_IGNORED, "asymmetric_jwt yields an asymmetrically signed token", "asymmetric"),
    ),
    "jwt.signature.verifies": unit(
        # rotated-keys (the profile's keys are not the instance's) is the profile-key checks' failure.
        fails(SIGNING_KEY_UNPUBLISHED, "the signature verifies with the published key material"),
        fails(KID_UNKNOWN, "the signature verifies with the published key material", "asymmetric"),
    ),
    "jwt.claims.iss": unit(
        fails(WRONG_ISSUER, "iss is the issuer every resource server trusts"),
    ),
    "jwt.claims.aud": unit(
        fails(WRONG_AUDIENCE, "the token is meant for the configured audience"),
    ),
    "jwt.claims.times": unit(
        fails(IAT_IN_FUTURE, "iat is not in the future"),
        fails(EXPIRED_ON_ISSUE, "the token has not expired when issued"),
        fails(EXP_FLOAT, "exp and iat are integers"),
    ),
    "jwt.claims.lifetime": unit(
        fails(JWT_SHORT_EXP, "the token lives as long as the response says"),
    ),
    "jwt.claims.openedx": unit(
        fails(GRANT_TYPE_CLAIM_UNDERSCORE, "are present and typed"),
        fails(SCOPES_CLAIM_MISMATCH, "the scopes claim lists the response's scope"),
        fails(RESTRICTED_CLAIM, "a normal application's token is unrestricted"),
    ),
    "jwt.claims.scope-dependent": unit(
        fails(CLAIMS_IGNORE_SCOPE, "a read-only token carries no personal claims", "scope-read"),
        fails(
            NO_PROFILE_CLAIMS,
            "scopes email, profile and user_id bring their claims, and only they",
            "default-scopes",
            "asymmetric",
            "password",
            "refresh",
        ),
    ),
    "jwt.header.kid": unit(
        fails(KID_UNKNOWN, "the kid is found in the JWK set"),
        either=(KID_PUBLISHED,),
    ),
    "jwt.jwks.well-formed": unit(
        fails(JWKS_NOT_JSON, "the JWK set loads"),
    ),
    "jwt.rfc9068.profile": unit(
        fails(RFC9068_TYP_JWT, "typ is at+jwt", "typ"),
        fails(RFC9068_NO_CLIENT_ID, "the client_id claim is present", "client_id"),
        fails(RFC9068_NO_JTI, "the jti claim is present", "jti"),
        base=(RFC9068,),
        profile={"jwt": {"mode": "rfc9068"}},
    ),
    "jwt.profile-keys.hs256-secret": unit(
        fails(ROTATED_KEYS, "jwt.hs256_secret is the instance's own key material", actual="stale"),
        fails(SIGNING_KEY_UNPUBLISHED, "baseline: the genuine token is accepted"),
    ),
    "jwt.profile-keys.jwks": unit(
        fails(ROTATED_KEYS, "jwt.jwks is the instance's own key material", actual="its own"),
        fails(ASYMMETRIC_IGNORED, "is verified against a token signed with the instance's private key"),
        fails(SIGNING_KEY_UNPUBLISHED, "baseline: the genuine token is accepted"),
    ),
    "jwt.jwks.public-only": unit(
        fails(JWKS_PRIVATE, "the public key set holds no private key material"),
    ),
    "jwt.jwks.rsa-2048": unit(
        fails(JWKS_WEAK_KEY, "RSA keys are at least 2048 bits"),
    ),
    "jwt.jwks.distinct-kids": unit(
        fails(JWKS_DUPLICATE_KID, "kids are unique so that rotation works"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    without("jwt.signature.verifies", "default", "jwt.hs256_secret"),
    without("jwt.signature.verifies", "asymmetric", "jwt.jwks", says="add jwt.jwks"),
    blocked("jwt.claims.iss", "default", "token-endpoint.client-credentials.body-auth", NO_BODY_AUTH),
    blocked("jwt.signature.verifies", "default", "jwt.profile-keys.hs256-secret", ROTATED_KEYS),
    blocked("jwt.signature.verifies", "asymmetric", "jwt.profile-keys.jwks", ROTATED_KEYS),
    blocked("jwt.signature.verifies", "password", "jwt.profile-keys.hs256-secret", ROTATED_KEYS),
    without("jwt.claims.openedx", "password", "password_grant", says="not-verified (password_grant)"),
    without("jwt.claims.iss", "refresh", "password_grant", says="not-verified (password_grant)"),
]

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    ("jwt.claims.iss", "default", ISS_HTTP_SCHEME, "X-Forwarded-Proto: https"),
]
