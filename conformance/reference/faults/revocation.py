"""The faults of the revocation area: the revocation endpoint."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault

# Every fault of this module is of the revocation area.
_fault = partial(Fault, area="revocation")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.BEARER_LOOKUP_CACHED,
        description=(
            "The LMS API caches opaque token lookups for 5 minutes: a revoked token keeps working "
            "until the cache entry expires."
        ),
        catches=["revocation.opaque.revoked"],
    ),
    _fault(
        name=Defect.REFRESH_REVOKE_KEEPS_REFRESH,
        description=(
            "Revoking a refresh token revokes only the access token issued with it: the refresh token "
            "still refreshes."
        ),
        catches=["revocation.refresh-token.revoked"],
    ),
    _fault(
        name=Defect.REVOKE_REQUIRES_HINT,
        description=(
            "The revocation endpoint refuses requests without token_type_hint (400 invalid_request), "
            "though RFC 7009 makes the hint optional."
        ),
        catches=["revocation.unknown-token", "revocation.jwt.not-revocable"],
    ),
    _fault(
        name=Defect.REVOKE_MISSING_TOKEN_OK,
        description="The revocation endpoint answers 200 to a request without a token parameter.",
        catches=["revocation.request.malformed"],
    ),
    _fault(
        name=Defect.REVOKE_ON_GET,
        description=(
            "A wrapper around the revocation view answers GET with 200, like an empty successful "
            "revocation, instead of 405."
        ),
        catches=["revocation.method.post-only"],
    ),
)
