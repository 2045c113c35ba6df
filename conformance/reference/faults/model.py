"""What a fault of the reference instance is: its entry in the fault table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.reference.faults.effects import Effect


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    area: str
    catches: list[str] = field(default_factory=list)
    collateral: dict[str, str] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    rate_limit: str | None = None
    # The fault lives in the TLS front: the instance is started with `serve --tls`.
    tls: bool = False
    # The fault makes the instance unreachable for every client (a certificate that does not
    # verify): the run must stop at its probe with exit 3 and a message holding this text.
    unreachable: str = ""
    # The cause the run must name first (summary.json `causes`, conformance._lib.causes): a failed
    # control, an edge diagnosis, a mismatch, or `check:<id>`. Empty: the first of `catches`.
    cause: str = ""
    # What the fault does, where it is data (faults/effects.py); empty: its switch is code, an
    # ``is_active(name)`` at the layer where the misconfiguration lives.
    effects: tuple[Effect, ...] = ()

    @property
    def expected_cause(self) -> str:
        if self.cause or self.unreachable:
            return self.cause
        return f"check:{self.catches[0]}" if self.catches else ""

    def as_dict(self) -> dict[str, Any]:
        """What ``list-faults --format json`` prints for the fault: enough to reproduce its run
        (``reference serve --fault NAME --rate-limit RATE``, then the suite with the profile
        overlay merged into the instance's profile.toml)."""
        return {
            "name": self.name,
            "description": self.description,
            "area": self.area,
            "catches": list(self.catches),
            "collateral": dict(self.collateral),
            # Keys merged into the generated profile.toml (tables merge key by key).
            "profile_overlay": dict(self.profile),
            # The token endpoint's rate for the fault's run; null: the matrix's generous rate.
            "rate_limit": self.rate_limit,
            # The cause the run names first (summary.json causes[0].id).
            "cause": self.expected_cause,
        }
