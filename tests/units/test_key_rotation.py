"""The unit cases of the key-rotation checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import next_key_pem
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit
from tests.units.patches import LONG_LIVED_JWT

AREA = "key-rotation"

TABLE: dict[str, Unit] = {
    "key-rotation.jwks.keys": unit(
        fails(Defect.JWKS_NOT_JSON, "the JWK set loads"),
        fails(Defect.JWKS_PRIVATE, "every key a service is given", actual="PRIVATE members"),
        fails(Defect.JWKS_WEAK_KEY, "every key a service is given", actual="1024-bit"),
        fails(Defect.JWKS_DUPLICATE_KID, "every key a service is given", actual="kid shared"),
    ),
    "key-rotation.lms.signing-key": unit(
        fails(Defect.ROTATED_KEYS, "the key the LMS signs with is in the JWK set"),
        fails(Defect.PRIVATE_JWK_NO_CRT, "asymmetric_jwt issues a token", actual="dp, dq and qi"),
    ),
    "key-rotation.lms.kid": unit(
        fails(Defect.KID_UNKNOWN, "the kid in the LMS's tokens names the key that signed them"),
        either=(Defect.KID_PUBLISHED,),
    ),
    "key-rotation.retired-key.lifetime": unit(
        fails(LONG_LIVED_JWT, "the wait before a retired public key may be removed is short"),
    ),
    "key-rotation.preflight.new-key": unit(
        fails(Defect.ROTATION_NEXT_KEY_UNPUBLISHED, "phase 1: the new public key is in the JWK set"),
        base=(Defect.ROTATION_PHASE_1,),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
    "key-rotation.preflight.lms": unit(
        fails(
            Defect.LMS_MISSING_NEXT_KEY,
            "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds the new public key",
        ),
        fails(Defect.ROTATION_NEXT_KEY_UNPUBLISHED, "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds"),
        base=(Defect.ROTATION_PHASE_1,),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
    "key-rotation.preflight.service": unit(
        fails(Defect.DISCOVERY_MISSING_NEXT_KEY, "phase 1: discovery's JWT_PUBLIC_SIGNING_JWK_SET holds"),
        base=(Defect.ROTATION_PHASE_1,),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
}
