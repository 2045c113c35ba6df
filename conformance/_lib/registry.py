"""Check metadata: the `@check` decorator gives each check its id, title, level, area and clauses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from conformance._lib.profile import Profile

__all__ = [
    "AREAS",
    "LEVELS",
    "REGISTRY",
    "REQUIREMENTS",
    "CheckMeta",
    "check",
    "matches",
    "missing_requirement",
    "need",
]

LEVELS = ("MUST", "SHOULD", "MAY")
AREAS = (
    "token-endpoint",
    "response-schema",
    "jwt",
    "bad-credentials",
    "resources",
    "transport",
    "jwt-attacks",
    "revocation",
)
# What a check may require of a profile, and what the operator adds to provide it.
REQUIREMENTS = {
    "password_grant": "add a [password_grant] section (public client id, test user) to the profile",
    "jwks": "add jwt.jwks (the public JWK set: a file, inline JSON, ${ENV} or an https URL)",
    "hs256_secret": 'add jwt.hs256_secret = "${...}" (JWT_SECRET_KEY) to verify HS256 tokens '
    "and re-sign test tokens",
    "opaque_tokens": "set expect.opaque_tokens = true if the instance issues opaque Bearer tokens",
    "bearer_resource": "set resources.bearer = true if the probe accepts Bearer tokens",
    "services": "add a [[services]] entry (name, base_url, probe) for each service that must "
    "accept the LMS's JWTs",
    "https": "transport checks run only against a non-loopback https base_url",
    "throttle_probe": "set options.throttle_probe = true to send repeated wrong secrets (uses up "
    "the rate limit)",
    "wait_for_expiry": "set options.wait_for_expiry = true to wait for a real token to expire",
    "rfc9068": 'set jwt.mode = "rfc9068" for RFC 9068 access tokens',
    "token_path_default": "runs only where token_path is the LMS's /oauth2/access_token",
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    level: str
    spec: tuple[str, ...]
    ref: str = ""
    requires: tuple[str, ...] = field(default=())

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref": self.ref,
            "title": self.title,
            "area": self.area,
            "level": self.level,
            "spec": list(self.spec),
            "requires": list(self.requires),
        }


REGISTRY: dict[str, CheckMeta] = {}


def check(
    id: str,
    title: str,
    *,
    level: str,
    spec: list[str] | tuple[str, ...],
    ref: str = "",
    requires: list[str] | tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register a check; the plugin reads the `oauth_check` mark for labels, skips and summary."""
    meta = CheckMeta(id, title, level, tuple(spec), ref, tuple(requires))
    if meta.level not in LEVELS:
        raise ValueError(f"{id}: level {level!r} is not one of {LEVELS}")
    if meta.area not in AREAS:
        raise ValueError(f"{id}: area {meta.area!r} is not one of {AREAS}")
    unknown = set(meta.requires) - set(REQUIREMENTS)
    if unknown:
        raise ValueError(f"{id}: unknown requirement(s) {sorted(unknown)}")
    if id in REGISTRY and REGISTRY[id] != meta:
        raise ValueError(f"check id {id} registered twice")
    REGISTRY[id] = meta

    def decorate(fn: F) -> F:
        fn.__dict__["oauth_check"] = meta
        return pytest.mark.oauth_check(meta)(fn)  # type: ignore[no-any-return]

    return decorate


def missing_requirement(profile: Profile, requires: tuple[str, ...] | list[str]) -> str | None:
    """Why a check cannot run against this profile (what the operator should add), or None."""
    have = {
        "password_grant": profile.has_password_grant,
        "jwks": bool(profile.get("jwt", "jwks")),
        "hs256_secret": bool(profile.get("jwt", "hs256_secret")),
        "opaque_tokens": bool(profile.get("expect", "opaque_tokens")),
        "bearer_resource": bool(profile.get("resources", "bearer")),
        "services": bool(profile.data.get("services")),
        "https": profile.is_https and not profile.is_loopback,
        "throttle_probe": bool(profile.get("options", "throttle_probe")),
        "wait_for_expiry": bool(profile.get("options", "wait_for_expiry")),
        "rfc9068": profile.get("jwt", "mode") == "rfc9068",
        "token_path_default": profile.data["token_path"] == "/oauth2/access_token",
    }
    missing = [r for r in requires if not have[r]]
    return f"not run: {REQUIREMENTS[missing[0]]}" if missing else None


def need(profile: Profile, *requires: str) -> None:
    """Skip the current case (with what to add to the profile) unless the profile provides it."""
    reason = missing_requirement(profile, requires)
    if reason:
        pytest.skip(reason)


def matches(meta: CheckMeta, selector: str) -> bool:
    """A selector is a check id, an id prefix (dotted), an area, or a catalogue ref (TE-01)."""
    selector = selector.strip()
    return (
        meta.id == selector
        or meta.id.startswith(selector.rstrip(".") + ".")
        or meta.area == selector
        or (bool(meta.ref) and meta.ref.lower() == selector.lower())
    )
