"""The suite against every fault of the reference instance: which checks kill which faults.

Each fault is one mutant of a conformant Open edX instance. For each, a reference instance is
started with it (and its profile overlay and rate limit, from the fault table), the real command
line runs the suite against it (``run --strict``, so that a SHOULD failure fails the run too), and
the ``summary.json`` it writes says which checks failed. From those runs come the mutation score
(faults killed / total), the faults that kill each check id, the check ids no fault kills, and
where a run disagrees with the table (a declared catch that passed, a failure outside the
fault's catches and collateral).

Runs are independent (each instance has its own ports, state directory and databases), so they run
on a thread pool; each run is two processes (the instance and the suite).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.reference.faults import FAULTS, UNKILLABLE, Fault

__all__ = [
    "GENEROUS_RATE",
    "FaultRun",
    "MutationReport",
    "check_ids",
    "expected_exit",
    "merge_overlay",
    "overlay_profile",
    "run_fault",
    "run_faults",
    "run_suite",
    "score",
]

# The token endpoint limit for runs whose fault is not about rate limiting: a run sends about 120
# token requests, and parallel runs share 127.0.0.1.
GENEROUS_RATE = "100000/m"
SUITE_TIMEOUT_S = 600.0
_CASE = re.compile(r"\[.*\]$")


@dataclass
class FaultRun:
    """One suite run against an instance with ``faults`` (none: the clean instance)."""

    faults: tuple[str, ...]
    exit_code: int
    failed: dict[str, list[str]] = field(default_factory=dict)  # check id -> failed cases
    blocked: dict[str, list[str]] = field(default_factory=dict)  # check id -> cases blocked by a control
    causes: list[dict[str, Any]] = field(default_factory=list)  # summary.json causes, in fix order
    outcomes: dict[str, str] = field(default_factory=dict)  # case id -> outcome
    seconds: float = 0.0
    seed: int | None = None
    console: str = ""
    problem: str | None = None  # the run could not be made (instance or suite did not start)
    # The run stopped at its reachability probe (exit 3) with the message the fault table expects.
    unreachable: str = ""

    @property
    def name(self) -> str:
        return "+".join(self.faults) or "clean"

    @property
    def killed(self) -> bool:
        return bool(self.failed) or bool(self.unreachable)

    def message(self, case: str) -> str:
        return self.outcomes.get(case, "")

    @property
    def cause_ids(self) -> list[str]:
        return [str(c.get("id", "")) for c in self.causes]


def check_ids() -> dict[str, str]:
    """Every check id of the catalogue with its level (imports the checks; contacts nothing)."""
    from conformance._lib.registry import load_checks

    return {check_id: meta.level for check_id, meta in sorted(load_checks().items())}


# Profiles ------------------------------------------------------------------------------------------


def merge_overlay(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge_overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string for what profiles hold
    if isinstance(value, list) and all(not isinstance(v, dict) for v in value):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__} in a profile")


def to_toml(data: Mapping[str, Any]) -> str:
    """TOML for the shapes a profile has: scalars, tables of scalars (and of such tables, as
    [accounts.inactive_user]), arrays of tables of scalars."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables:
        lines += _toml_table(key, table)
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{key}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _toml_table(name: str, table: Mapping[str, Any]) -> list[str]:
    """A table's scalars under its header, then its sub-tables under dotted headers."""
    lines = [f"[{name}]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, Mapping)]
    for key, sub in table.items():
        if isinstance(sub, Mapping):
            lines += _toml_table(f"{name}.{key}", sub)
    return lines


def overlay_profile(profile_path: Path, overlay: Mapping[str, Any], name: str) -> Path:
    """The instance's profile with ``overlay`` merged in, written beside it (the ``${VAR}``
    placeholders stay placeholders); the original when there is nothing to merge."""
    if not overlay:
        return profile_path
    import tomllib

    data = merge_overlay(tomllib.loads(profile_path.read_text()), overlay)
    target = profile_path.with_name(f"profile-{name}.toml")
    target.write_text(to_toml(data))
    return target


# Runs ----------------------------------------------------------------------------------------------


def _suite_env(extra: Mapping[str, str]) -> dict[str, str]:
    # The instance's own secrets only: an operator's EDX_* variables must not leak into the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDX_")}
    env.update(extra)
    return env


def _read_summary(report_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((report_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run_suite(
    faults: Sequence[str] = (),
    *,
    workdir: Path,
    overlay: Mapping[str, Any] | None = None,
    rate_limit: str = GENEROUS_RATE,
    seed: int | None = None,
    strict: bool = True,
    tls: bool = False,
    concurrency: int | None = None,
) -> FaultRun:
    """Start the instance with ``faults``, run the real command line against it, read the summary."""
    from conformance.reference.launcher import running_reference

    started = time.monotonic()
    name = "+".join(faults) or "clean"
    report_dir = workdir / "report"
    try:
        with running_reference(
            state_dir=workdir / "state", faults=faults, rate_limit=rate_limit, tls=tls
        ) as ref:
            profile = overlay_profile(ref.profile_path, overlay or {}, name)
            argv = [sys.executable, "-m", "conformance", "run", "--profile", str(profile)]
            argv += ["--report-dir", str(report_dir), "--no-html"]
            argv += ["--strict"] if strict else []
            argv += ["--seed", str(seed)] if seed is not None else []
            argv += ["--concurrency", str(concurrency)] if concurrency is not None else []
            proc = subprocess.run(
                argv,
                env=_suite_env(ref.env),
                capture_output=True,
                text=True,
                timeout=SUITE_TIMEOUT_S,
                check=False,
            )
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return FaultRun(tuple(faults), -1, seconds=time.monotonic() - started, problem=str(exc)[-2000:])
    console = proc.stdout + proc.stderr
    used_seed = re.search(r"^seed (\d+)", console, re.MULTILINE)
    run = FaultRun(
        tuple(faults),
        proc.returncode,
        seconds=time.monotonic() - started,
        seed=int(used_seed.group(1)) if used_seed else seed,
        console=console,
    )
    summary = _read_summary(report_dir)
    if summary is None:
        run.problem = f"no summary.json (exit {proc.returncode}): {console[-1500:]}"
        return run
    for entry in summary.get("checks", []):
        case = str(entry.get("id", ""))
        run.outcomes[case] = f"{entry.get('outcome')}: {entry.get('message', '')}"
        if entry.get("outcome") == "failed":
            run.failed.setdefault(_CASE.sub("", case), []).append(case)
        elif entry.get("skip_kind") == "blocked":
            run.blocked.setdefault(_CASE.sub("", case), []).append(case)
    run.causes = [c for c in summary.get("causes", []) if isinstance(c, dict)]
    return run


def run_fault(
    fault: Fault, *, workdir: Path, seed: int | None = None, concurrency: int | None = None
) -> FaultRun:
    """The suite against an instance with this fault, its profile overlay and its rate limit."""
    run = run_suite(
        [fault.name],
        workdir=workdir,
        overlay=fault.profile,
        rate_limit=fault.rate_limit or GENEROUS_RATE,
        seed=seed,
        tls=fault.tls,
        concurrency=concurrency,
    )
    if fault.unreachable and run.exit_code == 3:
        # No summary: the run stopped before any check, with one message naming the cause.
        line = next((ln for ln in run.console.splitlines() if fault.unreachable in ln), "")
        if line:
            run.unreachable, run.problem = line.strip(), None
    return run


MAX_CAUSES = 2


def names_cause(actual: str, expected: str) -> bool:
    """Whether the run's cause is the expected one; `check:<id>` (the table's default, its first
    catch) is also met by the battery or control that check belongs to."""
    from conformance._lib.causes import BATTERIES, CONTROLS

    if actual == expected:
        return True
    check_id = expected.removeprefix("check:")
    controls = {cause for key, cause in CONTROLS.items() if key.split("[", 1)[0] == check_id}
    return expected.startswith("check:") and actual.split(":", 1)[0] in {BATTERIES.get(check_id), *controls}


def cause_problems(fault: Fault, run: FaultRun, *, limit: bool = True) -> list[str]:
    """Where the run's causes disagree with the fault table: the first cause is not the fault's
    expected one, or (with `limit`) more than MAX_CAUSES were named (one fault, at most two
    findings to fix)."""
    if fault.unreachable or run.problem:
        return []
    ids = run.cause_ids
    problems = []
    if fault.expected_cause and (not ids or not names_cause(ids[0], fault.expected_cause)):
        problems.append(f"first cause {ids[0] if ids else None!r}, expected {fault.expected_cause!r}")
    if limit and len(ids) > MAX_CAUSES:
        problems.append(f"{len(ids)} causes: {', '.join(ids)}")
    return problems


def expected_exit(fault: Fault, levels: Mapping[str, str]) -> int:
    """The run's exit status under --strict: 1 when a MUST or SHOULD check catches the fault; 0 when
    only MAY checks do (they are recorded as failed and never fail a run); 3 when the fault makes
    the instance unreachable."""
    if fault.unreachable:
        return 3
    return 1 if any(levels.get(c) in ("MUST", "SHOULD") for c in fault.catches) else 0


def run_faults(
    faults: Iterable[Fault],
    *,
    workers: int = 4,
    workdir: Path | None = None,
    seed: int | None = None,
    on_done: Callable[[Fault, FaultRun], None] | None = None,
) -> dict[str, FaultRun]:
    """One suite run per fault, ``workers`` at a time; by fault name, in table order."""
    chosen = list(faults)
    owned = workdir is None
    base = Path(tempfile.mkdtemp(prefix="openedx-mutation-")) if workdir is None else Path(workdir)
    base.mkdir(parents=True, exist_ok=True)

    def one(fault: Fault) -> FaultRun:
        run = run_fault(fault, workdir=base / fault.name, seed=seed)
        if on_done is not None:
            on_done(fault, run)
        return run

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            runs = list(pool.map(one, chosen))
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)
    return {fault.name: run for fault, run in zip(chosen, runs, strict=True)}


# The score -----------------------------------------------------------------------------------------


@dataclass
class MutationReport:
    """Faults killed, the faults that kill each check id, and where the runs disagree with the table."""

    runs: dict[str, FaultRun]
    levels: dict[str, str]
    seconds: float = 0.0
    workers: int = 0

    @property
    def faults(self) -> list[Fault]:
        by_name = {fault.name: fault for fault in FAULTS}
        return [by_name[name] for name in self.runs]

    @property
    def killed(self) -> list[str]:
        return [name for name, run in self.runs.items() if run.killed]

    @property
    def failing_run(self) -> list[str]:
        # Exit 3 fails a run too: a fault that makes the instance unreachable (an expired certificate).
        return [name for name, run in self.runs.items() if run.exit_code == 1 or run.unreachable]

    @property
    def killers(self) -> dict[str, list[str]]:
        """Check id -> the faults whose run it failed."""
        result: dict[str, list[str]] = {check_id: [] for check_id in self.levels}
        for name, run in self.runs.items():
            for check_id in run.failed:
                result.setdefault(check_id, []).append(name)
        return result

    @property
    def unkilled(self) -> list[str]:
        return [c for c, names in self.killers.items() if not names and c not in UNKILLABLE]

    @property
    def killable(self) -> list[str]:
        return [c for c in self.levels if c not in UNKILLABLE]

    def mismatches(self) -> dict[str, dict[str, list[str]]]:
        """Per fault: declared catches that did not fail, failures outside catches and collateral,
        and a run that could not be made."""
        result: dict[str, dict[str, list[str]]] = {}
        for fault in self.faults:
            run = self.runs[fault.name]
            # A catch blocked by a control that failed in the run was caught by that control.
            missed = [c for c in fault.catches if c not in run.failed and c not in run.blocked]
            allowed = set(fault.catches) | set(fault.collateral)
            unexpected = sorted(c for c in run.failed if c not in allowed)
            problems = [run.problem] if run.problem else []
            wanted = expected_exit(fault, self.levels)
            if not problems and run.exit_code != wanted:
                problems.append(f"exit status {run.exit_code}, expected {wanted}")
            causes = cause_problems(fault, run, limit=False)
            if missed or unexpected or problems or causes:
                result[fault.name] = {
                    "missed": missed,
                    "unexpected": unexpected,
                    "problem": problems,
                    "causes": causes,
                }
        return result

    def as_json(self) -> dict[str, Any]:
        by_name = {fault.name: fault for fault in FAULTS}
        killable = self.killable
        killed_checks = [c for c in killable if self.killers.get(c)]
        return {
            "faults_total": len(self.runs),
            "faults_killed": len(self.killed),
            "faults_failing_run": len(self.failing_run),
            "mutation_score": round(len(self.killed) / len(self.runs), 4) if self.runs else None,
            "check_ids_total": len(self.levels),
            "check_ids_killable": len(killable),
            "check_ids_killed": len(killed_checks),
            "seconds": round(self.seconds, 1),
            "workers": self.workers,
            "faults": [
                {
                    "name": name,
                    "exit_code": run.exit_code,
                    "killed": run.killed,
                    "failed": sorted(run.failed),
                    "failed_cases": sum(len(cases) for cases in run.failed.values()),
                    "blocked_cases": sum(len(cases) for cases in run.blocked.values()),
                    "causes": run.cause_ids,
                    "expected_cause": by_name[name].expected_cause if name in by_name else "",
                    "unreachable": run.unreachable,
                    "seconds": round(run.seconds, 1),
                    "seed": run.seed,
                }
                for name, run in self.runs.items()
            ],
            "killers": self.killers,
            "unkilled": self.unkilled,
            "unkillable": {c: UNKILLABLE[c] for c in self.levels if c in UNKILLABLE},
            "mismatches": self.mismatches(),
            # Faults named by more than MAX_CAUSES causes (the goal is at most MAX_CAUSES).
            "many_causes": {n: r.cause_ids for n, r in self.runs.items() if len(r.cause_ids) > MAX_CAUSES},
        }

    def as_text(self) -> str:
        total = len(self.runs)
        killable = self.killable
        killers = self.killers
        killed_checks = [c for c in killable if killers.get(c)]
        out = [
            f"mutation score: {len(self.killed)}/{total} faults killed "
            f"({len(self.failing_run)} fail the run under --strict; the others fail MAY checks only, which "
            "are recorded and never fail a run)",
            f"check ids: {len(killed_checks)}/{len(killable)} killable ones killed by some fault "
            f"({len(self.levels)} in the catalogue, {len(self.levels) - len(killable)} not killable here)",
            f"{total} runs in {self.seconds:.0f} s with {self.workers} workers",
            "",
            "faults:",
        ]
        width = max((len(n) for n in self.runs), default=0)
        for name, run in self.runs.items():
            state = "killed  " if run.killed else "SURVIVED"
            detail = ", ".join(sorted(run.failed)) or run.unreachable or run.problem or "no check failed"
            causes = f"  causes: {', '.join(run.cause_ids)}" if run.cause_ids else ""
            out.append(f"  {state} {name:<{width}}  exit {run.exit_code}  {detail}{causes}")
        out += ["", "check ids and the faults that kill them:"]
        width = max((len(c) for c in self.levels), default=0)
        for check_id in self.levels:
            if check_id in UNKILLABLE:
                continue
            names = ", ".join(killers.get(check_id, [])) or "NONE"
            out.append(f"  {check_id:<{width}}  {self.levels[check_id]:<6} {names}")
        out += ["", "check ids no fault kills:"]
        out += [f"  {c}" for c in self.unkilled] or ["  (none)"]
        out += ["", "check ids no fault of the reference instance can kill:"]
        out += [f"  {c:<{width}}  {UNKILLABLE[c]}" for c in self.levels if c in UNKILLABLE] or ["  (none)"]
        mismatches = self.mismatches()
        out += ["", "runs that disagree with the fault table:"]
        for name, found in mismatches.items():
            for kind, items in found.items():
                if items:
                    out.append(f"  {name}: {kind}: {', '.join(items)}")
        if not mismatches:
            out.append("  (none)")
        return "\n".join(out)

    @property
    def ok(self) -> bool:
        """Every fault killed, every killable check id killed, the table confirmed."""
        complete = set(self.runs) == {fault.name for fault in FAULTS}
        return (
            len(self.killed) == len(self.runs)
            and (not complete or not self.unkilled)
            and not self.mismatches()
        )


def score(runs: dict[str, FaultRun], seconds: float = 0.0, workers: int = 0) -> MutationReport:
    return MutationReport(runs, check_ids(), seconds=seconds, workers=workers)
