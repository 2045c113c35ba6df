"""The faults of the jwt-attacks area: the LMS API's JWT decoding (a careless resource server)."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import SIGNED_JWT_ATTACKS

# Every fault of this module is of the jwt-attacks area.
_fault = partial(Fault, area="jwt-attacks")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.WEAK_HS256_SECRET,
        description=(
            "JWT_SECRET_KEY (the HS256 signing secret) is devstack's published 'lms-secret', copied into "
            "a production configuration."
        ),
        catches=["jwt-attacks.weak-hmac-secret"],
    ),
    _fault(
        name=Defect.ACCEPT_ALG_NONE,
        description=(
            "The LMS resource /api/user/v1/me accepts unsigned JWTs (alg: none) whose claims are otherwise "
            "valid."
        ),
        catches=["jwt-attacks.alg-none"],
    ),
    _fault(
        name=Defect.ACCEPT_EXPIRED,
        description=(
            "The LMS API's JWT decoder does not check exp (JWT_VERIFY_EXPIRATION off, honoured at the "
            "signature step too): expired tokens are accepted."
        ),
        catches=["jwt-attacks.expired"],
    ),
    _fault(
        name=Defect.SIGNATURE_NOT_CHECKED,
        description=(
            "The LMS API's JWT decoder checks the claims but never the signature (decoded with "
            "verify_signature off)."
        ),
        catches=[
            *SIGNED_JWT_ATTACKS,
            "jwt-cookies.lms.mismatched-refused",
        ],
    ),
    _fault(
        name=Defect.HMAC_WITH_PUBLIC_KEY,
        description=(
            "The LMS API verifies HS* tokens that fail with the shared secret against the public RSA key's "
            "PEM as the HMAC key (the RS/HS key-confusion bug)."
        ),
        catches=["jwt-attacks.key-confusion"],
    ),
    _fault(
        name=Defect.HEADER_JWK_HONOURED,
        description="The LMS API verifies a JWT with the key embedded in its own jwk header.",
        catches=["jwt-attacks.header-keys"],
    ),
    _fault(
        name=Defect.KID_FILE_LOOKUP,
        description=(
            "The LMS API loads the HMAC key of a token from a file named by its kid, unsanitised "
            "(kid ../../dev/null gives an empty key)."
        ),
        catches=["jwt-attacks.kid"],
    ),
)
