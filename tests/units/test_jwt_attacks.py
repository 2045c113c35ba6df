"""The unit cases of the jwt-attacks checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import Patch, on_resource, on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Breaks, Skip, Unit, blocked, fails, skips, unit, without
from tests.units.patches import ROTATED_KEYS

WEAK_HS256_SECRET = on_settings(
    Defect.WEAK_HS256_SECRET, signing_secret="changeme", published_secret="changeme"
)

ME_NO_SIGNATURE_CHECK = on_resource(Defect.ME_NO_SIGNATURE_CHECK, check_signature=False)
ACCEPT_ALG_NONE = on_resource(Defect.ACCEPT_ALG_NONE, alg_none=True)
HMAC_WITH_PUBLIC_KEY = on_resource(Defect.HMAC_WITH_PUBLIC_KEY, hmac_public_key=True)
TRUST_HEADER_KEYS = on_resource(Defect.TRUST_HEADER_KEYS, header_keys=True)
KID_FILE_LOOKUP = on_resource(Defect.KID_FILE_LOOKUP, kid_files=True)
UNKNOWN_KID_FAIL_OPEN = on_resource(Defect.UNKNOWN_KID_FAIL_OPEN, unknown_kid_passes=True)
ACCEPT_EXPIRED = on_resource(Defect.ACCEPT_EXPIRED, check_exp=False)
EXP_OPTIONAL = on_resource(Defect.EXP_OPTIONAL, require_exp=False)

DEFAULT_RS512 = on_settings(Defect.DEFAULT_RS512, default_rs512=True)


def forged(mutation: Patch, *cases: str) -> Breaks:
    """Under `mutation` the resource accepts the forged token of each case (default: every case)."""
    return fails(mutation, "the forged token ({case}) is refused", *cases)


TABLE: dict[str, Unit] = {
    "jwt-attacks.tampered-payload": unit(forged(ME_NO_SIGNATURE_CHECK)),
    "jwt-attacks.bad-signature": unit(forged(ME_NO_SIGNATURE_CHECK)),
    "jwt-attacks.alg-none": unit(forged(ACCEPT_ALG_NONE)),
    "jwt-attacks.key-confusion": unit(forged(HMAC_WITH_PUBLIC_KEY)),
    "jwt-attacks.header-keys": unit(forged(TRUST_HEADER_KEYS)),
    "jwt-attacks.kid": unit(
        forged(KID_FILE_LOOKUP, "kid-path-traversal"),
        forged(UNKNOWN_KID_FAIL_OPEN, "kid-unknown"),
    ),
    "jwt-attacks.expired": unit(
        fails(
            ACCEPT_EXPIRED,
            "a token past its exp ({case}) is refused",
            "resigned-expired",
            "real-expiry",
        ),
        fails(EXP_OPTIONAL, "a token past its exp ({case}) is refused", "resigned-no-exp"),
        profile={"options": {"wait_for_expiry": True}},
    ),
    "jwt-attacks.weak-hmac-secret": unit(
        fails(WEAK_HS256_SECRET, "JWT_SECRET_KEY is not a published default"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    without("jwt-attacks.expired", "real-expiry", "options.wait_for_expiry", value=False),
    without("jwt-attacks.expired", "resigned-expired", "jwt.hs256_secret"),
    without("jwt-attacks.key-confusion", "hs256-public-pem", "jwt.jwks", says="add jwt.jwks"),
    skips("jwt-attacks.weak-hmac-secret", None, "not HMAC-signed", DEFAULT_RS512),
    blocked(
        "jwt-attacks.expired",
        "resigned-expired",
        "jwt.profile-keys.hs256-secret",
        ACCEPT_EXPIRED,
        ROTATED_KEYS,
    ),
    blocked(
        "jwt-attacks.key-confusion",
        "hs256-public-pem",
        "jwt.profile-keys.jwks",
        HMAC_WITH_PUBLIC_KEY,
        ROTATED_KEYS,
    ),
]
