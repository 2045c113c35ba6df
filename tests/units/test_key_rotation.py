"""The unit cases of the key-rotation checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import next_key_pem, on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Breaks, Unit, fails, unit
from tests.units.patches import (
    JWKS_DUPLICATE_KID,
    JWKS_NOT_JSON,
    JWKS_PRIVATE,
    JWKS_WEAK_KEY,
    KID_PUBLISHED,
    KID_UNKNOWN,
    LONG_LIVED_JWT,
    ROTATED_KEYS,
)

# Phase 1 of a key rotation (a variant every preflight case runs with): the next public key is
# trusted everywhere, while the LMS still signs with the old key; and the sets that lack it.
ROTATION_PHASE_1 = on_settings(
    Defect.ROTATION_PHASE_1, next_key_in=frozenset({"profile", "lms", "discovery"})
)
ROTATION_NEXT_KEY_UNPUBLISHED = on_settings(Defect.ROTATION_NEXT_KEY_UNPUBLISHED, next_key_in=frozenset())
LMS_MISSING_NEXT_KEY = on_settings(
    Defect.LMS_MISSING_NEXT_KEY, next_key_in=frozenset({"profile", "discovery"})
)
DISCOVERY_MISSING_NEXT_KEY = on_settings(
    Defect.DISCOVERY_MISSING_NEXT_KEY, next_key_in=frozenset({"profile", "lms"})
)

PRIVATE_JWK_NO_CRT = on_settings(Defect.PRIVATE_JWK_NO_CRT, private_jwk_complete=False)


def preflight(*breaks: Breaks) -> Unit:
    """A preflight check's entry: it runs in phase 1 with the next key in the profile."""
    return unit(*breaks, base=(ROTATION_PHASE_1,), profile={"jwt": {"rotation_key": next_key_pem()}})


TABLE: dict[str, Unit] = {
    "key-rotation.jwks.keys": unit(
        fails(JWKS_NOT_JSON, "the JWK set loads"),
        fails(JWKS_PRIVATE, "every key a service is given", actual="PRIVATE members"),
        fails(JWKS_WEAK_KEY, "every key a service is given", actual="1024-bit"),
        fails(JWKS_DUPLICATE_KID, "every key a service is given", actual="kid shared"),
    ),
    "key-rotation.lms.signing-key": unit(
        fails(ROTATED_KEYS, "the key the LMS signs with is in the JWK set"),
        fails(PRIVATE_JWK_NO_CRT, "asymmetric_jwt issues a token", actual="dp, dq and qi"),
    ),
    "key-rotation.lms.kid": unit(
        fails(KID_UNKNOWN, "the kid in the LMS's tokens names the key that signed them"),
        either=(KID_PUBLISHED,),
    ),
    "key-rotation.retired-key.lifetime": unit(
        fails(LONG_LIVED_JWT, "the wait before a retired public key may be removed is short"),
    ),
    "key-rotation.preflight.new-key": preflight(
        fails(ROTATION_NEXT_KEY_UNPUBLISHED, "phase 1: the new public key is in the JWK set"),
    ),
    "key-rotation.preflight.lms": preflight(
        fails(LMS_MISSING_NEXT_KEY, "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds the new public key"),
        fails(ROTATION_NEXT_KEY_UNPUBLISHED, "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds"),
    ),
    "key-rotation.preflight.service": preflight(
        fails(DISCOVERY_MISSING_NEXT_KEY, "phase 1: discovery's JWT_PUBLIC_SIGNING_JWK_SET holds"),
    ),
}
