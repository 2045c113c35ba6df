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
        (a MUST case whose key the profile's [coverage] accept names is not counted: _lib/acceptances)
    130 interrupted (SIGINT), 143 terminated (SIGTERM): summary.json says "complete": false

Three functions apply it: `exit_status` to one run's outcomes (the plugin, through `decide_exit`),
`exit_of_run` to what pytest and summary.json say of a run (the CLI), `exit_of_runs` to several
profiles' statuses (the CLI's `run` with several profiles).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from conformance._lib.acceptances import Acceptance, acceptance_states
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
    "exit_of_run",
    "exit_of_runs",
    "exit_of_stop",
    "exit_status",
    "note_sigterm",
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


def on_sigterm(signum: int, frame: Any) -> NoReturn:
    """The SIGTERM handler of a run (the CLI's and the pytest plugin's)."""
    del signum, frame
    TERMINATED.set()
    raise Terminated()


def _note_sigterm(signum: int, frame: Any) -> None:
    del signum, frame
    TERMINATED.set()


def note_sigterm() -> None:
    """While pytest starts up (its plugins, importing and collecting the checks), SIGTERM is only
    noted: the run stops when the checks' loop begins (`install_sigterm`), where it unwinds cleanly,
    never from inside an import."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _note_sigterm)


def install_sigterm() -> None:
    """The checks' loop begins: SIGTERM raises where the run is; one noted during start-up stops the
    run now."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_sigterm)
    if TERMINATED.is_set():
        raise Terminated()


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
    other_rate_limit_waited_s: float = 0.0  # --workers: how long the workers waited for the rate limit
    notes: list[str] = field(default_factory=list)
    faker: Faker | None = None
    shared_tokens: list[dict[str, Any]] | None = None
    complete: bool = True
    # What collection decided, before anything is sent: (case id, check, static skip reason or None)
    plan: list[tuple[str, CheckMeta, str | None]] = field(default_factory=list)
    param_names: set[str] = field(default_factory=set)  # parametrize argnames (not fixtures)
    acceptances: list[Acceptance] = field(default_factory=list)  # the profile's [coverage] accept
    selected_all: bool = True  # no --select/--deselect: an acceptance that matched nothing is stale
    _jwks: JwkSet | bool | None = False

    def jwks(self) -> JwkSet | None:
        from conformance._lib.jwts import load_jwks

        if self._jwks is False:
            self._jwks = load_jwks(self.profile, self.http)
        return self._jwks  # type: ignore[return-value]


def decide_exit(state: RunState) -> int:
    """The exit status of a run from its state (see the module docstring)."""
    return exit_status(
        state.outcomes.values(),
        strict=state.strict,
        require_complete=state.require_complete,
        complete=state.complete,
        stopped=state.exit_code,
        accepted=[a.key for a in state.acceptances if not a.expired()],
    )


def exit_status(
    outcomes: Iterable[Outcome],
    *,
    strict: bool = False,
    require_complete: bool = False,
    complete: bool = True,
    stopped: int | None = None,
    accepted: Collection[str] = (),
) -> int:
    """The one policy: a run that stopped keeps its reason (`stopped`: 2, 3, 130, 143); then a
    failing MUST check (with `strict`, SHOULD too) is 1; a case without a verdict, or a run that did
    not complete, is 4; with `require_complete`, a MUST case not verified for lack of a key that
    `accepted` does not name is 4; else 0."""
    if stopped is not None:
        return stopped
    outcomes = list(outcomes)
    failing = {"MUST", "SHOULD"} if strict else {"MUST"}
    if any(o.outcome == "failed" and o.meta.level in failing for o in outcomes):
        return EXIT_FAILED
    # A blocked case reached no verdict: never a pass. (When its control failed at a level that
    # fails the run, the run has failed above; a SHOULD control without --strict, or one that was
    # not selected, leaves the case without a verdict.)
    if any(o.blocked and o.meta.level in failing for o in outcomes):
        return EXIT_INCONCLUSIVE
    if not complete or any(o.inconclusive for o in outcomes):
        return EXIT_INCONCLUSIVE
    if require_complete and any(
        o.skip_kind == "not-verified" and o.meta.level == "MUST" and o.skip_key not in accepted
        for o in outcomes
    ):
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def exit_of_stop(terminated: bool) -> int:
    """A run stopped from outside: 143 after SIGTERM, else 130 (Ctrl-C)."""
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def exit_of_run(pytest_code: int, summary_exit: int | None, *, terminated: bool = False) -> tuple[int, str]:
    """One profile's status from what its pytest session returned and the exit_code its summary.json
    holds (None: no summary), with the error to print ("" for none). The summary's status wins: the
    plugin set it with `exit_status`, and pytest's own codes overlap ours (its 3, internal error, is
    our unreachable; its 4, usage error, our inconclusive)."""
    if pytest_code == pytest.ExitCode.INTERNAL_ERROR and summary_exit != EXIT_UNREACHABLE:
        return EXIT_FAILED, "internal error in the suite; see the output above"
    if summary_exit is not None:
        return summary_exit, ""
    if pytest_code == pytest.ExitCode.INTERRUPTED:
        return exit_of_stop(terminated), ""
    if pytest_code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        return EXIT_USAGE, ""
    return EXIT_FAILED, f"internal error in the suite (pytest exit {pytest_code}); see the output above"


# Several profiles: the status that says most about the whole. A stopped run first (the operator
# stopped it, or a profile could not even be used), then an instance that did not answer, then a
# failure, then a run without every verdict.
RUNS_PRECEDENCE = (
    EXIT_TERMINATED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXIT_UNREACHABLE,
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
)


def exit_of_runs(codes: Sequence[int]) -> int:
    """The status of several profiles' runs from each one's status; a status outside the contract
    (a child killed by a signal: negative) is a failure, never a pass."""
    for code in RUNS_PRECEDENCE:
        if code in codes:
            return code
    return EXIT_OK if all(c == EXIT_OK for c in codes) else EXIT_FAILED


def coverage(
    outcomes: list[Outcome], acceptances: Sequence[Acceptance] = (), *, judged: bool = True
) -> dict[str, Any]:
    """Per level: how many cases apply, how many ran to a verdict, and why the others did not; for
    every not-verified case, the key that would enable it and whether the profile accepts that gap;
    and each of the profile's acceptances with its state (`acceptances.acceptance_states`)."""
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
    gaps = [o for o in outcomes if o.skip_kind == "not-verified"]
    active = {a.key for a in acceptances if not a.expired()}
    not_verified = [
        {"id": o.case, "level": o.meta.level, "key": o.skip_key, "reason": o.message}
        | ({"accepted": True} if o.skip_key in active else {})
        for o in gaps
    ]
    result: dict[str, Any] = {
        "levels": by_level,
        "not_verified": not_verified,
        "partial": any(o["level"] == "MUST" for o in not_verified),
    }
    if acceptances:
        states = acceptance_states(acceptances, [o.skip_key for o in gaps], judged=judged)
        for entry in states:
            matched = [o for o in gaps if o.skip_key == entry["key"]]
            entry["cases"] = len(matched)
            entry["must"] = sum(o.meta.level == "MUST" for o in matched)
        result["accepted"] = states
    return result
