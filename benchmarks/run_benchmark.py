"""Fast and gentle: how the suite's run time compares with the requests it makes.

    .venv/bin/python benchmarks/run_benchmark.py [--repeats N] [--quick | --goal] [--out DIR]
                                                 [--max-wait S] [--no-bytecode-cache]

Not part of the test run (see benchmarks/README.md). Starts reference instances (rate limit
100000/m; injected latency 0, 50 and 200 ms), points the suite at each through a timestamping TCP
proxy (``_proxy.py``) and runs ``python -m conformance run --profile P --report-dir D --no-html
--concurrency C`` (C = 1, 4, 8; and ``--workers 4``) as a subprocess, measuring wall and CPU time,
process start to the first request byte, the checks' span (Allure results), requests
(summary.json), peak RSS and every case's outcome. The floors: requests x latency (sequential),
requests x latency / 8 plus a round trip for each request that cannot overlap (8 in flight), and
on loopback the same request sequence replayed by one httpx.Client without pytest (``_replay.py``).
Before each run it waits (from a shared budget) for other processes to leave the CPUs alone, and reports how
much CPU they took meanwhile. Prints the measurements and the goals, met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _proxy import TimingProxy, timing_proxy
from _replay import Recorded, load_sequence

from conformance.reference.launcher import RunningReference, running_reference

try:
    import psutil
except ImportError:  # the tree-wide RSS is then not measured; wait4's maxrss still is
    psutil = None

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RATE_LIMIT = "100000/m"
SEED = 424242
QUERY_VALUE = re.compile(r"=[^&\s]*")
ENV_RE = re.compile(r"\$\{(EDX_[A-Z0-9_]+)\}")


# Instances -----------------------------------------------------------------------------------------


@dataclass
class Target:
    """A reference instance behind a timing proxy, with a benchmark profile of its own."""

    label: str
    latency_ms: int
    ref: RunningReference
    proxy: TimingProxy
    profile_path: Path
    env: dict[str, str]
    prefix: str


def bench_profile(ref: RunningReference, proxy: TimingProxy, name: str, prefix: str) -> tuple[Path, dict]:
    """The reference's own profile with base_url through the proxy, a distinct name and distinct
    ${VAR} names (so that several profiles can run in one process environment)."""
    text = ref.profile_path.read_text()
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
    text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{proxy.url}"', text, count=1)
    text = ENV_RE.sub(lambda m: "${" + prefix + m.group(1) + "}", text)
    path = ref.state_dir / f"{name}.toml"
    path.write_text(text)
    return path, {prefix + k: v for k, v in ref.env.items()}


def target(stack: contextlib.ExitStack, label: str, latency_ms: int, prefix: str) -> Target:
    """Start a reference instance and its proxy; both stop when `stack` closes."""
    ref = stack.enter_context(running_reference(latency_ms=latency_ms, rate_limit=RATE_LIMIT))
    proxy = stack.enter_context(timing_proxy(ref.url))
    path, env = bench_profile(ref, proxy, label, prefix)
    return Target(label, latency_ms, ref, proxy, path, env, prefix)


# One suite run --------------------------------------------------------------------------------------


@dataclass
class SuiteRun:
    label: str
    latency_ms: int
    workers: int
    concurrency: int
    profiles: int
    wall_s: float
    cpu_s: float  # user + system of the run's processes (wait4: the CLI and what it reaped)
    to_first_request_s: float | None  # process start to the first request byte (a reachability probe)
    to_first_check_s: float | None  # process start to the first check's start (Allure)
    checks_s: float | None  # first check's start to the last check's end (Allure)
    tail_s: float | None  # last check's end to process exit (summary, redaction, exit)
    requests: int
    token_requests: int
    requests_seen: int  # request lines the LMS proxy forwarded (the discovery service is not proxied)
    exit_code: int
    counts: dict[str, int]
    maxrss_mb: float  # the largest single process of the run (wait4's ru_maxrss)
    tree_rss_mb: float | None  # the peak of the RSS summed over the run's process tree (psutil)
    load_before: float
    other_load: float  # share of the machine's CPU used by processes outside the benchmark meanwhile
    report_dir: Path
    alone_requests: int = 0  # requests of the cases that run alone (nothing else in flight)
    outcomes: dict[str, str] = field(default_factory=dict)  # case -> outcome: message (summary.json)


class _RssPoller(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        if psutil is None:
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self.done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            self.done.wait(0.02)


# Other load on the machine ------------------------------------------------------------------------


def _system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def _own_cpu() -> float:
    """CPU seconds of this process and all its descendants, reaped ones included."""
    if psutil is None:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            c = proc.cpu_times()
            total += c.user + c.system + c.children_user + c.children_system
    return total


class OtherLoad:
    """The share of the machine's CPU that processes outside this benchmark used meanwhile."""

    def __enter__(self) -> OtherLoad:
        self.busy0, self.total0 = _system_cpu()
        self.own0 = _own_cpu()
        self.share = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        busy1, total1 = _system_cpu()
        others = (busy1 - self.busy0) - (_own_cpu() - self.own0)
        self.share = max(0.0, others / max(total1 - self.total0, 1e-9))


def wait_until_quiet(log: Any, budget: list[float], threshold: float = 0.15) -> None:
    """Wait (from a shared budget of seconds) until other processes use under `threshold` of the
    machine over one second: other sessions' test runs would otherwise be measured as ours."""
    started = time.monotonic()
    while budget[0] > 0:
        with OtherLoad() as load:
            time.sleep(1.0)
        budget[0] -= 1.0
        if load.share < threshold:
            break
    waited = time.monotonic() - started
    if waited > 1.5:
        log(f"  (waited {waited:.0f} s for the machine to calm down; {budget[0]:.0f} s of waiting left)")


def suite_env(extra: dict[str, str], bytecode_cache: bool) -> dict[str, str]:
    env = {**os.environ, **extra}
    if bytecode_cache:
        # As on an operator's machine: .pyc files (and pytest's rewritten ones) are written once
        # and read afterwards. Some sandboxes set PYTHONDONTWRITEBYTECODE=1, which makes every run
        # recompile the suite's own modules and re-rewrite every check module.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_suite(
    targets: list[Target],
    workers: int,
    concurrency: int,
    report_dir: Path,
    label: str,
    bytecode_cache: bool,
    log: Any,
    wait_budget: list[float],
) -> SuiteRun:
    wait_until_quiet(log, wait_budget)
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    extra: dict[str, str] = {}
    for t in targets:
        extra.update(t.env)
        t.proxy.reset()
    argv = [sys.executable, "-m", "conformance", "run", "--no-html", "--seed", str(SEED)]
    for t in targets:
        argv += ["--profile", str(t.profile_path)]
    argv += ["--report-dir", str(report_dir), "--workers", str(workers), "--concurrency", str(concurrency)]
    console = (report_dir.parent / f"{report_dir.name}.console.log").open("w")
    load_before = os.getloadavg()[0]
    with OtherLoad() as other_load:
        started_epoch, started = time.time(), time.monotonic()
        proc = subprocess.Popen(
            argv, env=suite_env(extra, bytecode_cache), stdout=console, stderr=subprocess.STDOUT, cwd=ROOT
        )
        poller = _RssPoller(proc.pid)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    poller.done.set()
    poller.join()
    console.close()
    timelines = [t.proxy.timeline for t in targets]
    with (report_dir.parent / f"{report_dir.name}.requests.txt").open("w") as trace:
        for t in targets:
            for at, line in t.proxy.timeline.requests:
                # Query values may be credentials (the suite checks that the LMS refuses them there).
                trace.write(f"{at - started:8.3f} {t.label} {QUERY_VALUE.sub('=*', line)}\n")
    # The checks' own span, from the Allure results (epoch ms; converted to this clock).
    results = [json.loads(p.read_text()) for p in report_dir.rglob("*-result.json")]
    spans = [(r.get("start"), r.get("stop")) for r in results]
    offset = started_epoch - started
    checks_start = min((a for a, _ in spans if a), default=None)
    checks_stop = max((b for _, b in spans if b), default=None)
    firsts = [tl.requests[0][0] for tl in timelines if tl.requests]
    paths = (
        [report_dir / "summary.json"]
        if len(targets) == 1
        else [report_dir / t.label / "summary.json" for t in targets]
    )
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise SystemExit(
            f"{label}: the suite wrote no {missing[0]} (exit {proc.returncode}); "
            f"see {report_dir.parent / (report_dir.name + '.console.log')}"
        )
    summaries = [json.loads(p.read_text()) for p in paths]
    counts: dict[str, int] = {}
    for summary in summaries:
        for k, v in summary["counts"].items():
            counts[k] = counts.get(k, 0) + v
    run = SuiteRun(
        label=label,
        latency_ms=targets[0].latency_ms,
        workers=workers,
        concurrency=concurrency,
        profiles=len(targets),
        wall_s=ended - started,
        cpu_s=usage.ru_utime + usage.ru_stime,
        to_first_request_s=min(firsts) - started if firsts else None,
        to_first_check_s=checks_start / 1000 - offset - started if checks_start else None,
        checks_s=(checks_stop - checks_start) / 1000 if checks_start and checks_stop else None,
        tail_s=ended - (checks_stop / 1000 - offset) if checks_stop else None,
        requests=sum(s["requests"] for s in summaries),
        token_requests=sum(s.get("token_requests", 0) for s in summaries),
        requests_seen=sum(len(tl.requests) for tl in timelines),
        exit_code=proc.returncode,
        counts=counts,
        maxrss_mb=usage.ru_maxrss / 1024,
        tree_rss_mb=poller.peak / 2**20 if psutil is not None else None,
        load_before=load_before,
        other_load=other_load.share,
        report_dir=report_dir,
        alone_requests=alone_requests(results),
        outcomes={
            str(c["id"]): f"{c['outcome']}: {c.get('message', '')}" for s in summaries for c in s["checks"]
        },
    )
    if log:
        log(describe_run(run))
    return run


def alone_requests(results: list[dict[str, Any]]) -> int:
    """Requests made by the cases of checks declared `alone` (they run with nothing else in flight),
    counted from their exchanges attached in the Allure results."""
    from conformance._lib.registry import load_checks

    alone = {check_id for check_id, meta in load_checks().items() if meta.alone}
    total = 0
    for result in results:
        labels = {label.get("name"): label.get("value") for label in result.get("labels", [])}
        if labels.get("check_id") in alone:
            total += sum(1 for a in result.get("attachments", []) if " -> " in str(a.get("name", "")))
    return total


def describe_run(r: SuiteRun) -> str:
    return (
        f"  {r.label:<40} wall {r.wall_s:6.2f} s (cpu {r.cpu_s:.2f})  "
        f"1st req at {fmt(r.to_first_request_s)}  "
        f"1st check at {fmt(r.to_first_check_s)}  checks {fmt(r.checks_s)}  tail {fmt(r.tail_s)}  "
        f"{r.requests} req ({r.token_requests} token; {r.requests_seen} to the LMS on the wire)  "
        f"exit {r.exit_code}  "
        f"RSS {r.maxrss_mb:.0f} MB  others used {r.other_load:.0%} of the CPUs"
    )


# Measurements --------------------------------------------------------------------------------------


@dataclass
class Floor:
    latency_ms: int
    seconds: list[float]
    requests: int
    token_requests: int
    matched: int
    mismatches: list[str] = field(default_factory=list)
    process_s: float | None = None  # a fresh process: start Python, import httpx, replay once

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def _replay_process(
    t: Target, sequence: list[Recorded], origins: dict[str, str], repeats: int, warmups: int, cache: bool
) -> tuple[dict[str, Any], float]:
    job = {
        "sequence": [asdict(r) for r in sequence],
        "origins": origins,
        "prefix": t.prefix,
        "repeats": repeats,
        "warmups": warmups,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(HERE / "_replay.py")],
        input=json.dumps(job),
        env=suite_env(t.env, cache),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout), time.monotonic() - started


def measure_floor(
    t: Target,
    sequence: list[Recorded],
    recorded_origins: dict[str, str],
    repeats: int,
    cache: bool,
    warmups: int = 0,
) -> Floor:
    """The replay runs in a process of its own, as the suite does (the proxy's threads live in
    this one and would otherwise share its GIL with the replaying client)."""
    origins = {recorded_origins["lms"]: t.proxy.url, recorded_origins["discovery"]: t.ref.discovery_url}
    data, _ = _replay_process(t, sequence, origins, repeats, warmups, cache)
    process_s = None
    if t.latency_ms == 0:
        process_s = statistics.median(
            _replay_process(t, sequence, origins, 1, 0, cache)[1] for _ in range(repeats)
        )
    results = data["results"]
    last = results[-1]
    return Floor(
        t.latency_ms,
        [r["seconds"] for r in results],
        last["requests"],
        last["token_requests"],
        last["matched"],
        last["mismatches"],
        process_s=process_s,
    )


def timed_command(argv: list[str], repeats: int, cache: bool) -> float:
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT, env=suite_env({}, cache))
        times.append(time.monotonic() - started)
    return statistics.median(times)


def startup_breakdown(repeats: int, cache: bool) -> dict[str, float]:
    """Costs that a run pays before its first check request (medians of fresh processes)."""
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "python -m conformance --version (CLI imports)": [py, "-m", "conformance", "--version"],
        "import conformance.plugin (pytest, allure, faker, jwt)": [py, "-c", "import conformance.plugin"],
        "python -m conformance list-checks (+ check modules)": [py, "-m", "conformance", "list-checks"],
        "import hypothesis (an autoloaded pytest plugin of [dev])": [py, "-c", "import hypothesis"],
    }
    found = {}
    for name, argv in commands.items():
        with contextlib.suppress(subprocess.CalledProcessError):
            found[name] = timed_command(argv, repeats, cache)
    return found


def median_run(runs: list[SuiteRun]) -> SuiteRun:
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


# Report --------------------------------------------------------------------------------------------


def suite_commit() -> str:
    """The commit measured, and whether the working tree differs from it (the benchmark aside)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "conformance", "pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MB"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "suite": suite_commit(),
    }


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]
    )


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def floor_in_flight(requests: int, alone: int, latency_ms: int, in_flight: int = 8) -> float:
    """Requests x latency / in_flight, plus a full round trip for each request that cannot overlap:
    the CLI's reachability probe (before pytest starts) and the requests of the cases run alone."""
    serial = 1 + alone
    return (max(requests - serial, 0) / in_flight + serial) * latency_ms / 1000


def goals_table(runs: dict[str, SuiteRun], floors: dict[str, Floor]) -> tuple[str, list[list[str]]]:
    goals = []
    if "lat200-c8" in runs:
        run = runs["lat200-c8"]
        floor8 = floor_in_flight(run.requests, run.alone_requests, 200)
        goals.append(
            [
                "200 ms, every area described: --concurrency 8 <= 1.5 x the 8-in-flight floor",
                f"{run.wall_s:.2f} s / {floor8:.2f} s = {run.wall_s / floor8:.2f} "
                f"({run.requests} requests, {run.alone_requests} of them alone, + the probe)",
                verdict(run.wall_s <= 1.5 * floor8),
            ]
        )
        goals.append(
            [
                "200 ms, --concurrency 8: one process, peak RSS < 200 MB",
                f"{run.maxrss_mb:.0f} MB (whole tree {fmt(run.tree_rss_mb, 0)} MB)",
                verdict(run.maxrss_mb < 200 and (run.tree_rss_mb or 0) < 200),
            ]
        )
    seq = runs["lat0-c1"]
    for c in (4, 8):
        other = runs[f"lat0-c{c}"]
        goals.append(
            [
                f"loopback: --concurrency {c} no slower than one at a time (today's run)",
                f"{other.wall_s:.2f} s / {seq.wall_s:.2f} s = {other.wall_s / seq.wall_s:.2f} (medians)",
                verdict(other.wall_s <= seq.wall_s * 1.05),
            ]
        )
    for latency in sorted({r.latency_ms for r in runs.values()}):
        group = [r for r in runs.values() if r.latency_ms == latency and r.profiles == 1 and r.workers == 1]
        same = all(r.outcomes == group[0].outcomes for r in group)
        goals.append(
            [
                f"{latency} ms: the same outcome for every case at every --concurrency",
                ", ".join(f"c{r.concurrency}: {len(r.outcomes)} cases, {r.requests} req" for r in group),
                verdict(same),
            ]
        )
    first = seq.to_first_request_s if seq.to_first_request_s is not None else float("inf")
    goals.append(
        [
            "CLI start to first request < 1.5 s",
            f"{first:.2f} s (a reachability probe; the first check starts at {fmt(seq.to_first_check_s)} s)",
            verdict(first < 1.5),
        ]
    )
    return table(goals, ["goal", "measured", "status"]), goals


def runs_table(runs: dict[str, SuiteRun], floors: dict[str, Floor]) -> str:
    rows = []
    for key, r in runs.items():
        floor = floors.get(f"lat{r.latency_ms}") if r.profiles == 1 else None
        rows.append(
            [
                key,
                str(r.latency_ms),
                str(r.workers),
                str(r.concurrency),
                str(r.profiles),
                fmt(r.wall_s),
                fmt(r.cpu_s),
                fmt(r.to_first_request_s),
                fmt(r.to_first_check_s),
                fmt(r.checks_s),
                fmt(r.tail_s),
                f"{r.requests} ({r.token_requests})",
                f"{r.maxrss_mb:.0f}" + (f" / {r.tree_rss_mb:.0f}" if r.tree_rss_mb is not None else ""),
                f"{r.exit_code} ({r.counts.get('passed', 0)}p {r.counts.get('failed', 0)}f)",
                f"{r.other_load:.0%}",
            ]
        )
        del floor
    header = [
        "run",
        "latency ms",
        "workers",
        "concurrency",
        "profiles",
        "wall s",
        "cpu s",
        "1st req s",
        "1st check s",
        "checks s",
        "tail s",
        "requests (token)",
        "RSS MB max / all",
        "exit",
        "others",
    ]
    return table(rows, header)


def floors_table(runs: dict[str, SuiteRun], floors: dict[str, Floor]) -> str:
    """Per latency: the requests of the sequential run, the sequential floor (requests x latency;
    at 0 ms the replay), the 8-in-flight floor, and each run's wall time against them."""
    rows = []
    for latency in sorted({r.latency_ms for r in runs.values()}):
        seq = runs.get(f"lat{latency}-c1")
        if seq is None:
            continue
        replay = floors.get(f"lat{latency}")
        sequential = seq.requests * latency / 1000 if latency else (replay.median if replay else 0.0)
        eight = floor_in_flight(seq.requests, seq.alone_requests, latency) if latency else sequential
        walls = {c: runs[f"lat{latency}-c{c}"].wall_s for c in (1, 4, 8) if f"lat{latency}-c{c}" in runs}
        workers = runs.get(f"lat{latency}-w4")
        rows.append(
            [
                str(latency),
                f"{seq.requests} ({seq.alone_requests} alone)",
                fmt(sequential),
                fmt(eight),
                fmt(replay.median if replay else None, 3),
                " / ".join(f"{walls[c]:.2f}" for c in sorted(walls)),
                " / ".join(f"{walls[c] / eight:.2f}" for c in sorted(walls)) if eight else "-",
                fmt(workers.wall_s if workers else None),
            ]
        )
    header = [
        "latency ms",
        "requests",
        "sequential floor s",
        "8-in-flight floor s",
        "replay s",
        "wall c1 / c4 / c8 s",
        "wall / 8-in-flight floor",
        "--workers 4 s",
    ]
    return table(rows, header)


LEGEND = """\
wall: CLI process start to exit. cpu: user+system of the CLI and every process it reaped (xdist
workers, per-profile runs). 1st req: process start to the first request byte at the proxy (a
reachability probe). 1st check: process start to the first check's start (Allure results).
checks: first check's start to the last check's end. tail: last check's end to exit (terminal
summary, summary.json, the redaction pass over the artifacts, interpreter exit). requests:
summary.json (token endpoint in brackets). floor: the same request sequence replayed by one
httpx.Client without pytest (median; 'fresh process' adds starting Python and importing httpx).
RSS max: the largest single process (wait4); all: peak sum over the run's process tree (psutil).
others: share of the machine's CPU that processes outside the benchmark used during the run."""


# Main ----------------------------------------------------------------------------------------------


def goal_only(repeats: int, suite: Any, log: Any) -> int:
    """The 200 ms goal alone (a few runs, quick to repeat when the machine is quiet)."""
    with contextlib.ExitStack() as stack:
        t = target(stack, "bench-lat200", 200, "B200_")
        done = [
            suite([t], 1, 8, f"goal-c8-{i}", f"lat 200, --concurrency 8, run {i + 1}") for i in range(repeats)
        ]
    for run in done:
        floor8 = floor_in_flight(run.requests, run.alone_requests, 200)
        log(
            f"  wall {run.wall_s:.2f} s / 8-in-flight floor {floor8:.2f} s = {run.wall_s / floor8:.2f}; "
            f"checks phase {fmt(run.checks_s)} s = {(run.checks_s or 0) / floor8:.2f} x the floor; "
            f"start {fmt(run.to_first_check_s)} s, tail {fmt(run.tail_s)} s; RSS {run.maxrss_mb:.0f} MB; "
            f"others used {run.other_load:.0%} of the CPUs"
        )
    return 0 if all(r.exit_code == 0 for r in done) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="loopback runs to take the median of (5)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "benchmark"), help="work and result folder")
    parser.add_argument("--quick", action="store_true", help="loopback only: no latency runs")
    parser.add_argument(
        "--goal",
        action="store_true",
        help="only the 200 ms goal: --concurrency 8 against the 8-in-flight floor, --repeats runs",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE from the environment (default: unset it for the runs; "
        ".pyc files already written are read either way)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=120,
        help="seconds, in all, to wait for other processes to leave the CPUs alone before runs (120)",
    )
    args = parser.parse_args(argv)
    cache = not args.no_bytecode_cache
    out = Path(args.out).resolve()
    marker = out / ".benchmark-output"
    if out.exists() and any(out.iterdir()) and not marker.exists():
        parser.error(f"{out} exists and was not written by this benchmark: choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    marker.touch()
    began = time.monotonic()

    def log(text: str = "") -> None:
        print(text, flush=True)

    info = machine()
    log(f"machine: {info}; load average {os.getloadavg()[0]:.1f}")
    log(f"bytecode cache: {'on' if cache else 'as the environment says'}")
    runs: dict[str, SuiteRun] = {}
    floors: dict[str, Floor] = {}
    budget = [float(args.max_wait)]

    def suite(targets: list[Target], workers: int, concurrency: int, name: str, label: str) -> SuiteRun:
        return run_suite(targets, workers, concurrency, out / name, label, cache, log, budget)

    if args.goal:
        return goal_only(args.repeats, suite, log)
    levels = (1, 4, 8)  # --concurrency: 1 is one check at a time (the run before concurrency)
    with contextlib.ExitStack() as stack:
        log("loopback (latency 0):")
        loop = target(stack, "bench-lat0", 0, "B0_")
        suite([loop], 1, 1, "warmup", "warm-up (not counted)")
        wait_until_quiet(log, budget)
        startup = startup_breakdown(3, cache)
        repeated: dict[int, list[SuiteRun]] = {c: [] for c in levels}
        for i in range(args.repeats):  # interleaved, so that a busy moment does not favour one level
            for c in levels:
                repeated[c].append(
                    suite([loop], 1, c, f"lat0-c{c}-{i}", f"lat 0, --concurrency {c}, run {i + 1}")
                )
        for c in levels:
            runs[f"lat0-c{c}"] = median_run(repeated[c])
        runs["lat0-w4"] = suite([loop], 4, 1, "lat0-w4", "lat 0, --workers 4")
        # The request sequence of a sequential loopback run, replayed by one httpx.Client.
        sequence = load_sequence(runs["lat0-c1"].report_dir / "allure-results", loop.proxy.url)
        recorded = {"lms": loop.proxy.url, "discovery": loop.ref.discovery_url}
        wait_until_quiet(log, budget)
        floors["lat0"] = measure_floor(loop, sequence, recorded, args.repeats, cache, warmups=1)
        f = floors["lat0"]
        log(
            f"  floor: replay {f.median:.3f} s (median of {args.repeats}), "
            f"fresh process {fmt(f.process_s)} s; "
            f"{f.requests} requests, {f.matched} statuses as recorded {f.mismatches or ''}"
        )
        if not args.quick:
            for latency in (50, 200):
                log(f"latency {latency} ms:")
                t = target(stack, f"bench-lat{latency}", latency, f"B{latency}_")
                key = f"lat{latency}"
                for c in levels:
                    runs[f"{key}-c{c}"] = suite([t], 1, c, f"{key}-c{c}", f"lat {latency}, --concurrency {c}")
                runs[f"{key}-w4"] = suite([t], 4, 1, f"{key}-w4", f"lat {latency}, --workers 4")

    goal_text, goals = goals_table(runs, floors)
    log()
    log(
        f"machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']}, Python {info['python']}; "
        f"suite at {info['suite']}"
    )
    log()
    log("startup costs (medians of 3 fresh processes):")
    for name, seconds in startup.items():
        log(f"  {name:<58} {seconds:.2f} s")
    log()
    log(runs_table(runs, floors))
    log()
    log(floors_table(runs, floors))
    log()
    log(goal_text)
    noisy = [k for k, r in runs.items() if r.other_load > 0.15]
    if noisy:
        log(f"WARNING: other processes used over 15% of the CPUs during {', '.join(noisy)}: inflated times")
    log()
    log(LEGEND)
    log(f"benchmark took {time.monotonic() - began:.0f} s; work files in {out}")
    (out / "results.json").write_text(
        json.dumps(
            {
                "machine": info,
                "bytecode_cache": cache,
                "startup": startup,
                "runs": {k: {**asdict(v), "report_dir": str(v.report_dir)} for k, v in runs.items()},
                "floors": {k: {**asdict(v), "median": v.median} for k, v in floors.items()},
                "goals": goals,
            },
            indent=2,
        )
    )
    return 0 if all(r.exit_code == 0 for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
