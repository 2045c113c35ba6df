"""The unit cases of the revocation checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit

REVOKE_NOOP = on_settings(Defect.REVOKE_NOOP, revocation_revokes=False)
REVOKE_UNKNOWN_400 = on_settings(Defect.REVOKE_UNKNOWN_400, revocation_unknown_error=True)
REVOKE_MISSING_TOKEN_200 = on_settings(Defect.REVOKE_MISSING_TOKEN_200, revocation_needs_token=False)
REVOKE_ANY_METHOD = on_settings(Defect.REVOKE_ANY_METHOD, revocation_any_method=True)
REVOKE_JWT_400 = on_settings(Defect.REVOKE_JWT_400, revocation_jwt_error=True)
REVOKE_JWT_BLOCKLIST = on_settings(Defect.REVOKE_JWT_BLOCKLIST, revocation_blocklists_jwt=True)

TABLE: dict[str, Unit] = {
    "revocation.opaque.revoked": unit(
        fails(REVOKE_NOOP, "the revoked token is refused"),
    ),
    "revocation.unknown-token": unit(
        fails(REVOKE_UNKNOWN_400, "an invalid token is not an error for revocation"),
    ),
    "revocation.request.malformed": unit(
        fails(REVOKE_MISSING_TOKEN_200, "a revocation request needs the token parameter", "missing-token"),
    ),
    "revocation.jwt.not-revocable": unit(
        fails(REVOKE_JWT_400, "revoking a JWT is accepted"),
        either=(REVOKE_JWT_BLOCKLIST,),
    ),
    "revocation.refresh-token.revoked": unit(
        fails(REVOKE_NOOP, "a revoked refresh token is refused"),
    ),
    "revocation.method.post-only": unit(
        fails(REVOKE_ANY_METHOD, "revocation is POST only"),
    ),
}
