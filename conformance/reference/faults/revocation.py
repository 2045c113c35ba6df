"""The faults of the revocation area: the revocation endpoint."""

from __future__ import annotations

from conformance.reference.faults.model import Fault

FAULTS: tuple[Fault, ...] = (
    Fault(
        name="bearer-lookup-cached",
        description=(
            "The LMS API caches opaque token lookups for 5 minutes: a revoked token keeps working "
            "until the cache entry expires."
        ),
        area="revocation",
        catches=["revocation.opaque.revoked"],
    ),
    Fault(
        name="refresh-revoke-keeps-refresh",
        description=(
            "Revoking a refresh token revokes only the access token issued with it: the refresh token "
            "still refreshes."
        ),
        area="revocation",
        catches=["revocation.refresh-token.revoked"],
    ),
    Fault(
        name="revoke-requires-hint",
        description=(
            "The revocation endpoint refuses requests without token_type_hint (400 invalid_request), "
            "though RFC 7009 makes the hint optional."
        ),
        area="revocation",
        catches=["revocation.unknown-token", "revocation.jwt.not-revocable"],
    ),
    Fault(
        name="revoke-missing-token-ok",
        description="The revocation endpoint answers 200 to a request without a token parameter.",
        area="revocation",
        catches=["revocation.request.malformed"],
    ),
    Fault(
        name="revoke-on-get",
        description=(
            "A wrapper around the revocation view answers GET with 200, like an empty successful "
            "revocation, instead of 405."
        ),
        area="revocation",
        catches=["revocation.method.post-only"],
    ),
)
