"""Resource probes: call a protected API with a credential and judge it against the baseline."""

from __future__ import annotations

from conformance._lib.http import Exchange, Http
from conformance._lib.profile import Profile
from conformance._lib.registry import blocked
from conformance._lib.verify import expect, expect_status

__all__ = ["REFUSED", "RESOURCE_CONTROL", "call", "expect_refused", "require_accepted"]

# The check that verifies, once per kind of token, that the probe accepts the instance's own JWT
# (the baseline every refusal at the probe is judged against).
RESOURCE_CONTROL = "resources.jwt.accepted"

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


def require_accepted(
    http: Http, profile: Profile, token: str, kind: str = "default", scheme: str = "JWT"
) -> None:
    """The baseline: the instance's own token is accepted at the probe, so that a refusal of a
    forged one is about the forgery. When it is not, the case is blocked by the control that
    reports it (resources.jwt.accepted[kind], or resources.bearer.accepted for Bearer)."""
    ex = call(http, profile, token, scheme=scheme)
    if ex.status != 200:
        control = "resources.bearer.accepted" if scheme == "Bearer" else f"{RESOURCE_CONTROL}[{kind}]"
        blocked(
            control,
            f"the probe refuses the instance's own token (HTTP {ex.status}): a refusal proves nothing",
        )


def expect_refused(ex: Exchange, requirement: str) -> None:
    """The resource refused: 401/403, never 2xx (judged by status against the baseline)."""
    expect(
        not 200 <= ex.status < 300,
        requirement,
        "the resource refuses the request (401 or 403)",
        f"HTTP {ex.status}: the resource ACCEPTED it ({ex.text[:200]})",
    )
    expect_status(ex, REFUSED, requirement)
