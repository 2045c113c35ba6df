"""The named faults of the reference instance: one data table, and the switches the servers read.

Each fault is a real misconfiguration or bug, implemented at the layer where it would live in an
Open edX deployment (a setting, a middleware, a validator hook, the JWT builder); the servers ask
``is_active(name)`` at that one place. ``catches`` lists the check ids expected to fail with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    area: str
    catches: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FAULTS: tuple[Fault, ...] = (
    Fault(
        name="wrong-issuer",
        description=(
            "The LMS signs its JWTs with an issuer other than the profile's (http://localhost:<port>/oauth2, "
            "as when LMS_HOST or JWT_ISSUER is misconfigured). The LMS accepts its own tokens; services "
            "configured with the real issuer refuse them."
        ),
        area="jwt",
    ),
    Fault(
        name="secret-prefix",
        description=(
            "Client secrets are compared by prefix: any non-empty prefix of the real secret authenticates "
            "the client (a truncating comparison bug)."
        ),
        area="bad-credentials",
    ),
    Fault(
        name="no-cache-headers",
        description="Token responses lack Cache-Control: no-store and Pragma: no-cache (a proxy drops them).",
        area="response-schema",
    ),
    Fault(
        name="discovery-wrong-issuer",
        description=(
            "The discovery service's JWT_ISSUERS names another issuer, so it refuses every token the LMS "
            "issues (the classic cross-service issuer mismatch)."
        ),
        area="resources",
    ),
    Fault(
        name="expires-in-string",
        description='Token responses send expires_in as a JSON string ("3600") instead of a number.',
        area="response-schema",
    ),
    Fault(
        name="accept-alg-none",
        description=(
            "The LMS resource /api/user/v1/me accepts unsigned JWTs (alg: none) whose claims are otherwise "
            "valid."
        ),
        area="jwt-attacks",
    ),
)

BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are not faults, in the order given."""
    return [name for name in names if name not in BY_NAME]


def active_faults() -> frozenset[str]:
    """The faults this service process was started with (they travel in its run-time config)."""
    from conformance.reference.runtime import current

    return frozenset(current().faults)


def is_active(name: str) -> bool:
    if name not in BY_NAME:
        raise KeyError(f"unknown fault {name!r}")
    return name in active_faults()


def as_json_table() -> list[dict[str, Any]]:
    return [fault.as_dict() for fault in FAULTS]
