"""--concurrency changes how long a run takes, never what it finds: the same outcome for every case.

The real command line runs one check at a time (`--concurrency 1`) and eight requests at a time
(`--concurrency 8`) against every fault of the reference instance (the fault matrix, and the clean
instance) and against every misbehaving server of the hostile tests; `summary.json`'s `checks`
(each case's outcome and message) must be the same both ways, and so must the exit status. The
runs are independent, on a thread pool (FAULT_MATRIX_WORKERS, default 4). `fan_out`, the helper that
lets one case send its independent requests at once, is tested on its own first.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conformance._lib import schedule
from conformance._lib.http import CircuitOpen, Exchange, Unreachable
from tests.hostile_server import HostileServer
from tests.suite_runs import MATRIX_CONCURRENCY, SEED, WORKERS
from tests.test_hostile import GENERIC, PROFILE, RUNS, TIMEOUT_S, free_port, run_cli

# fan_out on its own -------------------------------------------------------------------------------


class _Breaker:
    """Stands in for the HTTP client's circuit breaker (answered / unanswered, threshold 3)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str | None]] = []
        self.failures = 0

    def answered(self, origin: str) -> None:
        self.log.append((origin, None))
        self.failures = 0

    def unanswered(self, origin: str, problem: str) -> None:
        self.log.append((origin, problem))
        self.failures += 1
        if self.failures >= 3:
            raise CircuitOpen("opened")


def _exchange(n: int) -> Exchange:
    import httpx

    return Exchange("GET", f"https://lms.example/{n}", {}, b"", 200, httpx.Headers(), b"", 1.0)


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> _Breaker:
    """A schedule with four free slots, as during a run with --concurrency 4."""
    breaker = _Breaker()
    fake = SimpleNamespace(slots=threading.Semaphore(4), state=SimpleNamespace(http=breaker))
    monkeypatch.setitem(schedule._RUNNING, "schedule", fake)
    return breaker


def test_fan_out_without_a_schedule_is_a_loop() -> None:
    seen: list[int] = []
    assert schedule.fan_out(lambda n: seen.append(n) or n * 2, [1, 2, 3], None) == [2, 4, 6]
    assert seen == [1, 2, 3]


def test_fan_out_overlaps_and_records_in_item_order(running: _Breaker) -> None:
    barrier = threading.Barrier(3, timeout=10)  # three items must be in flight at once to pass
    emitted: list[str] = []

    def one(n: int) -> int:
        barrier.wait()
        schedule.capture_exchange(_exchange(n))
        schedule._defer_outcome("https://lms.example", None)
        return n

    assert schedule.fan_out(one, [3, 1, 2], lambda ex: emitted.append(ex.url)) == [3, 1, 2]
    assert emitted == [f"https://lms.example/{n}" for n in (3, 1, 2)]
    assert running.log == [("https://lms.example", None)] * 3


def test_fan_out_raises_the_first_error_in_order_and_drops_what_followed(running: _Breaker) -> None:
    emitted: list[str] = []

    def one(n: int) -> int:
        schedule.capture_exchange(_exchange(n))
        if n in (2, 3):
            raise ValueError(f"item {n}")
        return n

    with pytest.raises(ValueError, match="item 2"):
        schedule.fan_out(one, [1, 2, 3, 4], lambda ex: emitted.append(ex.url))
    assert emitted == ["https://lms.example/1", "https://lms.example/2"]


def test_fan_out_counts_unanswered_requests_in_order(running: _Breaker) -> None:
    def one(n: int) -> int:
        schedule._defer_outcome("https://lms.example", f"no answer {n}")
        raise Unreachable(f"no answer {n}")

    with pytest.raises(Unreachable, match="no answer 1"):
        schedule.fan_out(one, [1, 2, 3, 4], None)
    assert running.log == [("https://lms.example", "no answer 1")]  # the loop stopped at the first


# The same outcomes, sequential and concurrent --------------------------------------------------------


# What differs between any two runs, one at a time or not: each run's own instance has its own port
# and keys (thumbprints); tokens carry the second they were issued (iat, exp), cookies their expiry
# date, and a skewed clock is so many seconds ahead when it is checked; the `state` of an
# authorization request and opaque tokens are random (the characters a non-ASCII token alphabet put
# where); the advisories' XSS payload carries a marker of its run (`conformance<8 hex>`), and a
# token's measured lifetime (`exp - iat`) moves by a second with the second it was issued in.
# Everything else of a message is compared.
RUN_SPECIFIC = re.compile(
    r"(?<=thumbprint )[\w-]+|(?<=127\.0\.0\.1:)\d+|(?<=localhost:)\d+|\b\d{9,}\b|\b\d+(?= s (?:ahead|behind))"
    r"|(?<=state=)[\w-]+|(?<=xyz/\+= &\?)[0-9a-f]+|\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"
    r"|(?<=conformance)[0-9a-f]{8}\b|(?<=exp - iat = )\d+"
)


def _outcomes(summary: dict[str, Any]) -> dict[str, str]:
    return {
        str(c["id"]): RUN_SPECIFIC.sub("#", f"{c['outcome']}: {c.get('message', '')}")
        for c in summary.get("checks", [])
    }


def _differences(one: dict[str, str], other: dict[str, str]) -> list[str]:
    return [
        f"  {case}:\n    --concurrency 1: {one.get(case)}\n    --concurrency 8: {other.get(case)}"
        for case in sorted(set(one) | set(other))
        if one.get(case) != other.get(case)
    ]


def _wanted(request: pytest.FixtureRequest, test: str) -> set[str]:
    """The `name` parameters of the selected cases of `test` (`-k no-hsts` runs one fault, not all)."""
    return {
        item.callspec.params["name"]
        for item in request.session.items
        if item.name.startswith(test + "[") and hasattr(item, "callspec")
    }


@pytest.fixture(scope="module")
def fault_runs(suite_runs: Any, request: pytest.FixtureRequest) -> dict[str, tuple[Any, Any]]:
    """Every wanted instance at --concurrency 1 and 8 (the fault matrix reads the 8s again)."""
    wanted = sorted(_wanted(request, "test_fault_matrix_outcomes_do_not_depend_on_concurrency"))
    one = suite_runs.runs(wanted, 1)
    eight = suite_runs.runs(wanted, MATRIX_CONCURRENCY)
    return {name: (one[name], eight[name]) for name in wanted}


def _fault_names() -> list[str]:
    try:
        from conformance.reference.faults import FAULTS
    except ImportError:
        return ["clean"]
    return ["clean", *(fault.name for fault in FAULTS)]


@pytest.mark.parametrize("name", _fault_names())
def test_fault_matrix_outcomes_do_not_depend_on_concurrency(fault_runs: dict[str, Any], name: str) -> None:
    one, eight = fault_runs[name]
    assert one.problem is None and eight.problem is None, (one.problem, eight.problem)
    assert one.exit_code == eight.exit_code
    if one.unreachable or eight.unreachable:  # stopped at the probe: one message, no cases
        assert RUN_SPECIFIC.sub("#", one.unreachable or "") == RUN_SPECIFIC.sub("#", eight.unreachable or "")
        return
    assert one.outcomes, f"{name}: no cases in summary.json"
    normal = [
        {case: RUN_SPECIFIC.sub("#", text) for case, text in run.outcomes.items()} for run in (one, eight)
    ]
    differences = _differences(*normal)
    assert not differences, f"{name}: outcomes differ (seed {SEED}):\n" + "\n".join(differences)


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    base = tmp_path_factory.mktemp("concurrency-hostile")
    servers: list[HostileServer] = []

    def start(name: str) -> tuple[Path, list[str]]:
        spec = RUNS[name]
        sink = HostileServer("sink").start() if spec.scenario == "redirect" else None
        server = None
        if spec.scenario is not None:
            server = HostileServer(
                spec.scenario, redirect_to=sink.url if sink else None, tls_dir=base / f"{name}-tls"
            ).start()
        servers.extend(s for s in (sink, server) if s is not None)
        url = server.url if server else f"http://127.0.0.1:{free_port()}"
        profile = base / f"{name}.toml"
        profile.write_text(PROFILE.format(name=f"hostile-{name}", base_url=url, timeout=TIMEOUT_S))
        extra = [a.format(cert=server.cert_path if server else "") for a in spec.extra]
        return profile, extra

    def both(name: str, profile: Path, extra: list[str]) -> tuple[Any, Any]:
        return tuple(  # type: ignore[return-value]
            run_cli(
                f"{name}-c{c}",
                profile,
                base / f"{name}-c{c}" / "report",
                *extra,
                "--seed",
                str(SEED),
                "--concurrency",
                str(c),
                bound=RUNS[name].bound,
            )
            for c in (1, 8)
        )

    try:
        started = {name: start(name) for name in GENERIC}
        with ThreadPoolExecutor(max_workers=max(WORKERS, 4)) as pool:
            futures = {name: pool.submit(both, name, *args) for name, args in started.items()}
            return {name: future.result() for name, future in futures.items()}
    finally:
        for server in servers:
            server.stop()


# These servers answer each request by its arrival number in the whole run (the status and the body
# rotate: tests/hostile_server.py), so which case gets which answer is decided by the order in which
# requests arrive, not by the case: no client that overlaps requests can reproduce a sequential run's
# per-case outcomes against them. For them the exit status and the cases reported are compared.
ORDER_DEPENDENT = {"html", "invalid-json", "self-signed-ca-bundle"}


@pytest.mark.parametrize("name", GENERIC)
def test_hostile_outcomes_do_not_depend_on_concurrency(hostile_runs: dict[str, Any], name: str) -> None:
    one, eight = hostile_runs[name]
    assert one.code is not None and eight.code is not None, "a run was killed at its bound"
    assert one.code == eight.code == RUNS[name].expected
    summaries = [run.summary() if run.summary_path.exists() else {} for run in (one, eight)]
    outcomes = [_outcomes(summary) for summary in summaries]
    if name in ORDER_DEPENDENT:
        assert outcomes[0].keys() == outcomes[1].keys()
        return
    differences = _differences(*outcomes)
    assert not differences, f"{name}: outcomes differ:\n" + "\n".join(differences)
