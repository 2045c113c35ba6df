"""The unit cases of the services checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit
from tests.units.patches import WRONG_AUDIENCE, WRONG_ISSUER

AREA = "services"

TABLE: dict[str, Unit] = {
    "services.genuine.accepted": unit(
        fails(
            Defect.DISCOVERY_OTHER_SECRET,
            "discovery accepts every JWT the LMS issues",
            actual="key: the HS256",
        ),
        fails(
            Defect.DISCOVERY_HS256_ONLY, "discovery accepts every JWT the LMS issues", actual="lacks the key"
        ),
        fails(
            Defect.DISCOVERY_WRONG_ISSUER,
            "discovery accepts every JWT the LMS issues",
            actual="issuer or audience",
        ),
        fails(
            WRONG_ISSUER,
            "discovery accepts every JWT the LMS issues",
            actual="issuer: the LMS signs iss=",
        ),
        fails(
            WRONG_AUDIENCE,
            "discovery accepts every JWT the LMS issues",
            actual="audience: the LMS signs",
        ),
    ),
    "services.forged.refused": unit(
        fails(Defect.DISCOVERY_ACCEPT_ALG_NONE, "discovery refuses every forged token", actual="alg-none"),
    ),
    "services.audience.checked": unit(
        fails(
            Defect.DISCOVERY_NO_AUD_CHECK,
            "discovery refuses a validly signed token",
            actual="JWT_VERIFY_AUDIENCE",
        ),
    ),
    "services.issuer.checked": unit(
        fails(Defect.DISCOVERY_NO_ISS_CHECK, "discovery refuses a validly signed token whose iss is wrong"),
    ),
    "services.expiry.checked": unit(
        fails(Defect.DISCOVERY_ACCEPT_EXPIRED, "discovery refuses a validly signed token whose exp is wrong"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    ("services.forged.refused", "discovery", (), {"jwt": {"jwks": None}}, "need the public key set"),
    ("services.audience.checked", "discovery", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    (
        "services.expiry.checked",
        "discovery",
        (Defect.DISCOVERY_OTHER_SECRET,),
        {},
        "blocked (services.genuine.accepted[discovery])",
    ),
    (
        "services.forged.refused",
        "discovery",
        (Defect.DISCOVERY_OTHER_SECRET,),
        {},
        "blocked (services.genuine.accepted[discovery])",
    ),
]
