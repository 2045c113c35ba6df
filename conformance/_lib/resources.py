"""Resource probes: call a protected API with a credential and judge it against the baseline."""

from __future__ import annotations

from conformance._lib.http import Exchange, Http
from conformance._lib.profile import Profile
from conformance._lib.verify import expect, expect_status

__all__ = ["REFUSED", "call", "expect_refused"]

# A refusal at a resource is 401 (authentication failed) or 403 (authenticated but not allowed).
REFUSED = (401, 403)


def call(
    http: Http,
    profile: Profile,
    token: str | None,
    *,
    scheme: str = "JWT",
    path: str | None = None,
    base_url: str | None = None,
    params: dict[str, str] | None = None,
) -> Exchange:
    """GET the profile's probe (or `path` on `base_url`) with `Authorization: <scheme> <token>`."""
    headers = {"Authorization": f"{scheme} {token}".strip()} if token is not None else {}
    target = (base_url or profile.base_url).rstrip("/") + (path or profile.data["resources"]["me"])
    return http.get(target, headers=headers, params=params)


def expect_refused(ex: Exchange, requirement: str) -> None:
    """The resource refused: 401/403, never 2xx (judged by status against the baseline)."""
    expect(
        not 200 <= ex.status < 300,
        requirement,
        "the resource refuses the request (401 or 403)",
        f"HTTP {ex.status}: the resource ACCEPTED it ({ex.text[:200]})",
    )
    expect_status(ex, REFUSED, requirement)
