"""The faults of the jwt-attacks area: the LMS API's JWT decoding (a careless resource server)."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

FAULTS: tuple[Fault, ...] = (
    Fault(
        name="weak-hs256-secret",
        description=(
            "JWT_SECRET_KEY (the HS256 signing secret) is devstack's published 'lms-secret', copied into "
            "a production configuration."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.weak-hmac-secret"],
    ),
    Fault(
        name="accept-alg-none",
        description=(
            "The LMS resource /api/user/v1/me accepts unsigned JWTs (alg: none) whose claims are otherwise "
            "valid."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.alg-none"],
    ),
    Fault(
        name="accept-expired",
        description=(
            "The LMS API's JWT decoder does not check exp (JWT_VERIFY_EXPIRATION off, honoured at the "
            "signature step too): expired tokens are accepted."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.expired"],
    ),
    Fault(
        name="signature-not-checked",
        description=(
            "The LMS API's JWT decoder checks the claims but never the signature (decoded with "
            "verify_signature off)."
        ),
        area="jwt-attacks",
        catches=[
            "jwt-attacks.tampered-payload",
            "jwt-attacks.bad-signature",
            "jwt-attacks.alg-none",
            "jwt-attacks.key-confusion",
            "jwt-attacks.header-keys",
            "jwt-attacks.kid",
            "jwt-cookies.lms.mismatched-refused",
        ],
    ),
    Fault(
        name="hmac-with-public-key",
        description=(
            "The LMS API verifies HS* tokens that fail with the shared secret against the public RSA key's "
            "PEM as the HMAC key (the RS/HS key-confusion bug)."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.key-confusion"],
    ),
    Fault(
        name="header-jwk-honoured",
        description="The LMS API verifies a JWT with the key embedded in its own jwk header.",
        area="jwt-attacks",
        catches=["jwt-attacks.header-keys"],
    ),
    Fault(
        name="kid-file-lookup",
        description=(
            "The LMS API loads the HMAC key of a token from a file named by its kid, unsanitised "
            "(kid ../../dev/null gives an empty key)."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.kid"],
    ),
)
