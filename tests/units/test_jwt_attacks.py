"""The unit cases of the jwt-attacks checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit
from tests.units.patches import ROTATED_KEYS

WEAK_HS256_SECRET = on_settings(
    Defect.WEAK_HS256_SECRET, signing_secret="changeme", published_secret="changeme"
)

AREA = "jwt-attacks"

TABLE: dict[str, Unit] = {
    "jwt-attacks.tampered-payload": unit(
        fails(Defect.ME_NO_SIGNATURE_CHECK, "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.bad-signature": unit(
        fails(Defect.ME_NO_SIGNATURE_CHECK, "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.alg-none": unit(
        fails(Defect.ACCEPT_ALG_NONE, "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.key-confusion": unit(
        fails(Defect.HMAC_WITH_PUBLIC_KEY, "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.header-keys": unit(
        fails(Defect.TRUST_HEADER_KEYS, "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.kid": unit(
        fails(Defect.KID_FILE_LOOKUP, "the forged token ({case}) is refused", "kid-path-traversal"),
        fails(Defect.UNKNOWN_KID_FAIL_OPEN, "the forged token ({case}) is refused", "kid-unknown"),
    ),
    "jwt-attacks.expired": unit(
        fails(
            Defect.ACCEPT_EXPIRED,
            "a token past its exp ({case}) is refused",
            "resigned-expired",
            "real-expiry",
        ),
        fails(Defect.EXP_OPTIONAL, "a token past its exp ({case}) is refused", "resigned-no-exp"),
        profile={"options": {"wait_for_expiry": True}},
    ),
    "jwt-attacks.weak-hmac-secret": unit(
        fails(WEAK_HS256_SECRET, "JWT_SECRET_KEY is not a published default"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    (
        "jwt-attacks.expired",
        "real-expiry",
        (),
        {"options": {"wait_for_expiry": False}},
        "options.wait_for_expiry",
    ),
    ("jwt-attacks.expired", "resigned-expired", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    ("jwt-attacks.key-confusion", "hs256-public-pem", (), {"jwt": {"jwks": None}}, "add jwt.jwks"),
    ("jwt-attacks.weak-hmac-secret", None, (Defect.DEFAULT_RS512,), {}, "not HMAC-signed"),
    (
        "jwt-attacks.expired",
        "resigned-expired",
        (Defect.ACCEPT_EXPIRED, ROTATED_KEYS),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    (
        "jwt-attacks.key-confusion",
        "hs256-public-pem",
        (Defect.HMAC_WITH_PUBLIC_KEY, ROTATED_KEYS),
        {},
        "blocked (jwt.profile-keys.jwks)",
    ),
]
