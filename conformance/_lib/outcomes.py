"""Run state, per-case outcomes, coverage and the one policy that turns them into an exit status.

Exit statuses (the contract; README and docs/ci.md list them too):
    0   every selected check that applies reached a verdict and no MUST check failed (with
        --strict: no SHOULD either); waived failures aside
    1   a check failed
    2   usage or profile error (nothing was sent)
    3   the instance could not be reached, or stopped answering (circuit breaker)
    4   inconclusive: an applicable check could not reach a verdict for a runtime reason (rate
        limit, request budget, a token endpoint answering without OAuth), or, with
        --require-complete, a MUST check was not verified for lack of a profile key
    130 interrupted (SIGINT), 143 terminated (SIGTERM): summary.json says "complete": false
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance._lib.registry import LEVELS, CheckMeta

if TYPE_CHECKING:
    from faker import Faker

    from conformance._lib.http import Http
    from conformance._lib.jwts import JwkSet
    from conformance._lib.profile import Profile
    from conformance._lib.tokens import TokenFlows
    from conformance._lib.waivers import Waiver

__all__ = [
    "EXIT_FAILED",
    "EXIT_INCONCLUSIVE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "Outcome",
    "RunState",
    "Terminated",
    "coverage",
    "decide_exit",
    "on_sigterm",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INCONCLUSIVE = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
EXIT_MEANINGS = {
    EXIT_OK: "passed",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "usage or profile error",
    EXIT_UNREACHABLE: "unreachable",
    EXIT_INCONCLUSIVE: "inconclusive",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_TERMINATED: "terminated",
}

TERMINATED = threading.Event()  # set once SIGTERM arrived: 143, not 130, whoever catches the unwind


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it stops like Ctrl-C does (pytest finishes the
    session, the summary says incomplete, `with` blocks stop the reference instance and remove its
    temporary folder), with status 143."""


def on_sigterm(signum: int, frame: Any) -> None:
    """The SIGTERM handler of a run (the CLI's and the pytest plugin's)."""
    del signum, frame
    TERMINATED.set()
    raise Terminated()


def install_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)


# The outcome of a case: passed, failed, waived, or skipped with a kind (registry.SKIP_KINDS).
# "pending" is a case that started and never finished (an interrupted run): never a pass.
OUTCOMES = ("passed", "failed", "skipped", "waived")


@dataclass
class Outcome:
    meta: CheckMeta
    case: str
    outcome: str = "pending"
    message: str = ""
    duration: float = 0.0
    skip_kind: str = ""  # for skipped cases: not-applicable, not-verified, opt-in, inconclusive, blocked
    skip_key: str = ""  # not-verified: the profile key that would enable the case; blocked: the control
    cause: str = ""  # for failed cases: the cause a diagnosis tied it to (conformance._lib.causes)
    evidence: tuple[str, ...] = ()  # values that tie other failures to that cause

    @property
    def blocked(self) -> bool:
        return self.outcome == "skipped" and self.skip_kind == "blocked"

    @property
    def inconclusive(self) -> bool:
        return self.outcome == "pending" or (self.outcome == "skipped" and self.skip_kind == "inconclusive")


@dataclass
class RunState:
    """Everything one run (one profile, one process) knows; the plugin fills it, the report and the
    exit policy read it."""

    profile: Profile
    http: Http
    seed: int
    strict: bool
    require_complete: bool = False
    started: float = field(default_factory=time.time)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    exchanges: list[Any] = field(default_factory=list)
    exit_code: int | None = None  # set when the run stopped before its verdicts (2, 3, 130, 143)
    exit_message: str = ""
    tokens: TokenFlows | None = None
    waivers: list[Waiver] = field(default_factory=list)
    other_requests: int = 0
    other_token_requests: int = 0
    notes: list[str] = field(default_factory=list)
    faker: Faker | None = None
    shared_tokens: list[dict[str, Any]] | None = None
    complete: bool = True
    # What collection decided, before anything is sent: (case id, check, static skip reason or None)
    plan: list[tuple[str, CheckMeta, str | None]] = field(default_factory=list)
    param_names: set[str] = field(default_factory=set)  # parametrize argnames (not fixtures)
    _jwks: JwkSet | bool | None = False

    def jwks(self) -> JwkSet | None:
        from conformance._lib.jwts import load_jwks

        if self._jwks is False:
            self._jwks = load_jwks(self.profile, self.http)
        return self._jwks  # type: ignore[return-value]


def decide_exit(state: RunState) -> int:
    """The one place that chooses the exit status (see the module docstring)."""
    if state.exit_code is not None:
        return state.exit_code
    outcomes = list(state.outcomes.values())
    failing = {"MUST", "SHOULD"} if state.strict else {"MUST"}
    if any(o.outcome == "failed" and o.meta.level in failing for o in outcomes):
        return EXIT_FAILED
    # A case blocked by a control that did not fail here (not selected, or only a SHOULD control
    # without --strict) reached no verdict: never a pass.
    blocking = {o.meta.id for o in outcomes if o.outcome == "failed"}
    if any(o.blocked and o.meta.level in failing and o.skip_key not in blocking for o in outcomes):
        return EXIT_INCONCLUSIVE
    if not state.complete or any(o.inconclusive for o in outcomes):
        return EXIT_INCONCLUSIVE
    if state.require_complete and any(
        o.skip_kind == "not-verified" and o.meta.level == "MUST" for o in outcomes
    ):
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def coverage(outcomes: list[Outcome]) -> dict[str, Any]:
    """Per level: how many cases apply, how many ran to a verdict, and why the others did not; and for
    every not-verified case, the key that would enable it."""
    by_level: dict[str, dict[str, int]] = {}
    for level in LEVELS:
        cases = [o for o in outcomes if o.meta.level == level]
        applicable = [o for o in cases if o.skip_kind != "not-applicable"]
        by_level[level] = {
            "cases": len(cases),
            "applicable": len(applicable),
            "ran": sum(o.outcome in ("passed", "failed", "waived") for o in cases),
            "not_verified": sum(o.skip_kind == "not-verified" for o in cases),
            "opt_in": sum(o.skip_kind == "opt-in" for o in cases),
            "inconclusive": sum(o.inconclusive for o in cases),
            "blocked": sum(o.blocked for o in cases),
        }
    not_verified = [
        {"id": o.case, "level": o.meta.level, "key": o.skip_key, "reason": o.message}
        for o in outcomes
        if o.skip_kind == "not-verified"
    ]
    return {
        "levels": by_level,
        "not_verified": not_verified,
        "partial": any(o["level"] == "MUST" for o in not_verified),
    }
