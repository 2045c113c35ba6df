"""The unit cases of the revocation checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit

AREA = "revocation"

TABLE: dict[str, Unit] = {
    "revocation.opaque.revoked": unit(
        fails(Defect.REVOKE_NOOP, "the revoked token is refused"),
    ),
    "revocation.unknown-token": unit(
        fails(Defect.REVOKE_UNKNOWN_400, "an invalid token is not an error for revocation"),
    ),
    "revocation.request.malformed": unit(
        fails(
            Defect.REVOKE_MISSING_TOKEN_200, "a revocation request needs the token parameter", "missing-token"
        ),
    ),
    "revocation.jwt.not-revocable": unit(
        fails(Defect.REVOKE_JWT_400, "revoking a JWT is accepted"),
        either=(Defect.REVOKE_JWT_BLOCKLIST,),
    ),
    "revocation.refresh-token.revoked": unit(
        fails(Defect.REVOKE_NOOP, "a revoked refresh token is refused"),
    ),
    "revocation.method.post-only": unit(
        fails(Defect.REVOKE_ANY_METHOD, "revocation is POST only"),
    ),
}
