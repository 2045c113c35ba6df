"""The unit cases of the services checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import JWT_SECRET, Patch, on_resource
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Breaks, Skip, Unit, blocked, fails, unit, without
from tests.units.patches import DISCOVERY_HS256_ONLY, DISCOVERY_WRONG_ISSUER, WRONG_AUDIENCE, WRONG_ISSUER

DISCOVERY_OTHER_SECRET = on_resource(
    Defect.DISCOVERY_OTHER_SECRET, "discovery", secret="discovery-own-" + JWT_SECRET
)
DISCOVERY_ACCEPT_ALG_NONE = on_resource(Defect.DISCOVERY_ACCEPT_ALG_NONE, "discovery", alg_none=True)
DISCOVERY_NO_AUD_CHECK = on_resource(Defect.DISCOVERY_NO_AUD_CHECK, "discovery", check_aud=False)
DISCOVERY_NO_ISS_CHECK = on_resource(Defect.DISCOVERY_NO_ISS_CHECK, "discovery", check_iss=False)
DISCOVERY_ACCEPT_EXPIRED = on_resource(Defect.DISCOVERY_ACCEPT_EXPIRED, "discovery", check_exp=False)


def genuine_refused(mutation: Patch, cause: str) -> Breaks:
    """Under `mutation` discovery refuses a genuine JWT, and the failure names the `cause`."""
    return fails(mutation, "discovery accepts every JWT the LMS issues", actual=cause)


TABLE: dict[str, Unit] = {
    "services.genuine.accepted": unit(
        genuine_refused(DISCOVERY_OTHER_SECRET, "key: the HS256"),
        genuine_refused(DISCOVERY_HS256_ONLY, "lacks the key"),
        genuine_refused(DISCOVERY_WRONG_ISSUER, "issuer or audience"),
        genuine_refused(WRONG_ISSUER, "issuer: the LMS signs iss="),
        genuine_refused(WRONG_AUDIENCE, "audience: the LMS signs"),
    ),
    "services.forged.refused": unit(
        fails(DISCOVERY_ACCEPT_ALG_NONE, "discovery refuses every forged token", actual="alg-none"),
    ),
    "services.audience.checked": unit(
        fails(
            DISCOVERY_NO_AUD_CHECK,
            "discovery refuses a validly signed token",
            actual="JWT_VERIFY_AUDIENCE",
        ),
    ),
    "services.issuer.checked": unit(
        fails(DISCOVERY_NO_ISS_CHECK, "discovery refuses a validly signed token whose iss is wrong"),
    ),
    "services.expiry.checked": unit(
        fails(DISCOVERY_ACCEPT_EXPIRED, "discovery refuses a validly signed token whose exp is wrong"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    without("services.forged.refused", "discovery", "jwt.jwks", says="need the public key set"),
    without("services.audience.checked", "discovery", "jwt.hs256_secret"),
    blocked(
        "services.expiry.checked", "discovery", "services.genuine.accepted[discovery]", DISCOVERY_OTHER_SECRET
    ),
    blocked(
        "services.forged.refused", "discovery", "services.genuine.accepted[discovery]", DISCOVERY_OTHER_SECRET
    ),
]
