"""The command line: run | compare | list-checks | reference ...; owns the console and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import conformance
from conformance import posture, releases
from conformance._lib.arguments import MAX_WORKERS, count_of
from conformance._lib.outcomes import (
    EXIT_FAILED,
    EXIT_MEANINGS,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    TERMINATED,
    exit_of_run,
    exit_of_runs,
    exit_of_stop,
    note_sigterm,
    on_sigterm,
)
from conformance._lib.profile import Profile, ProfileError, load_profile
from conformance._lib.redact import redact
from conformance._lib.registry import CHECKS_DIR, CheckMeta, load_checks, matches, parse_skip, suggest
from conformance._lib.schedule import DEFAULT as DEFAULT_CONCURRENCY
from conformance._lib.schedule import MAXIMUM as MAX_CONCURRENCY
from conformance._lib.waivers import check_known, load_waivers, waivers_path


class UsageError(Exception):
    """Exit 2 with this message."""


def _out(text: str = "", *, redacted: bool = True) -> None:
    """One line to stdout, through the redactor unless the text is the suite's own static data
    (check ids, titles, clauses), which holds no secret and which the redactor's credential shapes
    could mangle ("Authorization: Bearer  [RFC6750-2.1]" looks like a header with a value)."""
    try:
        sys.stdout.write((redact(text) if redacted else text) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_OK) from None


def _count(n: int, noun: str) -> str:
    """`1 request`, `2 requests`."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _err(text: str) -> None:
    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


# run ----------------------------------------------------------------------------------------------


def pytest_args(profile_path: Path, report_dir: Path | None, args: argparse.Namespace) -> list[str]:
    """The pytest command line of a run (report_dir None: the planning pass, which writes nothing)."""
    argv = [
        str(CHECKS_DIR),
        "--rootdir",
        str(CHECKS_DIR),
        "-c",
        os.devnull,
        "--noconftest",
        "-p",
        "allure_pytest.plugin",
        "-p",
        "conformance.plugin",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:faker",
        "-p",
        "no:randomly",
        "-o",
        "xfail_strict=true",
        "--strict-markers",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--oauth-profile",
        str(profile_path),
        "--oauth-seed",
        str(args.seed),
        "--oauth-probed",
    ]
    if getattr(args, "ca_bundle", None):
        argv += ["--oauth-ca-bundle", args.ca_bundle]
    if report_dir is None:
        return [*argv, "-p", "no:terminal", "--collect-only"]
    argv += [
        "-o",
        "junit_family=xunit2",
        "-o",
        "console_output_style=count",
        "-q",
        "--tb=no",
        "-p",
        "no:warnings",
        "--oauth-console",
        "--oauth-summary",
        str(report_dir / "summary.json"),
        "--alluredir",
        str(report_dir / "allure-results"),
        "--clean-alluredir",
        "--junitxml",
        str(report_dir / "junit.xml"),
    ]
    if args.strict:
        argv.append("--oauth-strict")
    if getattr(args, "require_complete", False):
        argv.append("--oauth-require-complete")
    for selector in args.select or []:
        argv += ["--oauth-select", selector]
    for selector in args.deselect or []:
        argv += ["--oauth-deselect", selector]
    argv += ["--oauth-concurrency", str(getattr(args, "concurrency", 1))]
    # --workers N: pytest-xdist spreads the checks; each worker fetches its shared tokens once.
    # loadgroup: the sign-in checks stay in one worker (the LMS keeps one session per user).
    argv += ["-p", "xdist.plugin", "-n", str(args.workers), "--dist", "loadgroup"] if args.workers > 1 else []
    return argv


class _Plan:
    """The planning pass's catch: every case with its check and its static skip reason."""

    def __init__(self) -> None:
        self.cases: list[tuple[str, CheckMeta, str | None]] = []

    def pytest_collection_finish(self, session: Any) -> None:
        from conformance.plugin import STATE

        state = session.config.stash.get(STATE, None)
        self.cases = list(state.plan) if state is not None else []


def plan_cases(profile_path: Path, args: argparse.Namespace) -> list[tuple[str, CheckMeta, str | None]]:
    """Collect the suite for a profile without sending anything: the cases and why some will not run.
    Selection and waivers are checked against it before the first request."""
    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plan = _Plan()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        code = pytest.main(pytest_args(profile_path, None, args), plugins=[plan])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) or not plan.cases:
        raise UsageError(f"the checks could not be collected (pytest exit {int(code)})")
    return plan.cases


def select_cases(
    cases: list[tuple[str, CheckMeta, str | None]], args: argparse.Namespace
) -> list[tuple[str, CheckMeta, str | None]]:
    """--select/--deselect over the planned cases; a selector that matches nothing is exit 2."""
    for selector in [*(args.select or []), *(args.deselect or [])]:
        if not any(matches(meta, selector, case) for case, meta, _ in cases):
            hint = suggest(selector, [m for _, m, _ in cases], [c for c, _, _ in cases])
            raise UsageError(f"--select/--deselect {selector!r} matches no check{hint}")
    chosen = [
        (case, meta, skip)
        for case, meta, skip in cases
        if (not args.select or any(matches(meta, s, case) for s in args.select))
        and not any(matches(meta, s, case) for s in args.deselect or [])
    ]
    if not chosen:
        raise UsageError("--select/--deselect leave no check to run")
    return chosen


def run_profile(profile_path: Path, profile: Profile, report_dir: Path, args: argparse.Namespace) -> int:
    import pytest

    from conformance._lib.http import ca_bundle_path, http_for, unreachable

    ca = ca_bundle_path(profile, args.ca_bundle)
    if ca and not Path(ca).is_file():
        raise UsageError(f"the CA bundle {ca} does not exist (--ca-bundle or the profile's ca_bundle)")
    # Everything that can be a usage error is settled before the first request.
    cases = plan_cases(profile_path, args)
    select_cases(cases, args)
    try:
        check_known(load_waivers(profile), [case for case, _, _ in cases], str(waivers_path(profile)))
    except ProfileError as exc:
        raise UsageError(f"profile error: {exc}") from None
    # Reachability before pytest starts: nothing answering is one message and exit 3.
    http = http_for(profile, args.ca_bundle)
    problem = unreachable(http, profile.data["revoke_path"])
    http.close()
    if problem:
        _err(f"error: {problem}")
        _record_metrics(args, profile, None, EXIT_UNREACHABLE)
        return EXIT_UNREACHABLE
    report_dir.mkdir(parents=True, exist_ok=True)
    _out(f"seed {args.seed} (repeat this run's generated values with --seed {args.seed})")
    summary_path = report_dir / "summary.json"
    summary_path.unlink(missing_ok=True)  # never report an earlier run's result
    html_dir = report_dir / "html"
    shutil.rmtree(html_dir, ignore_errors=True)  # nor an earlier run's HTML
    # Only the plugins the suite needs: none of the operator's own (and no start-up cost for them).
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    note_sigterm()  # pytest's start-up only notes SIGTERM; the checks' loop acts on it
    code = int(pytest.main(pytest_args(profile_path, report_dir, args)))
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    if summary is not None:  # the profile's release, and the upgrade preflight (--target-release)
        summary = releases.annotate_summary(summary_path, summary, profile, args.target_release)
        posture.annotate_summary(summary_path, summary, profile, args.target_release)
    code, problem = exit_of_run(
        code, summary.get("exit_code") if summary else None, terminated=TERMINATED.is_set()
    )
    if problem:
        _err(problem)
    if summary is not None and not args.no_html:
        if summary.get("complete", True):
            from conformance.html import render_html

            problem = render_html(
                report_dir / "allure-results",
                html_dir,
                name=f"Open edX OAuth conformance: {summary['profile']}",
                history=report_dir / "history.jsonl",
            )
            if problem:
                _err(f"note: no HTML report: {problem}")
        else:
            _err("note: no HTML report: the run did not complete (summary.json says which checks ran)")
    if summary is not None:
        print_summary(summary, report_dir, html=html_dir / "index.html")
        for line in releases.console_lines(summary):
            _out(line)
        for line in posture.console_lines(summary):
            _out(line)
    _record_metrics(args, profile, summary, code)
    return code


def cause_lines(summary: dict[str, Any]) -> list[str]:
    """The causes first, in the order to fix them: each once, with its fix and what it explains."""
    causes = summary.get("causes") or []
    if not causes:
        return []
    lines = [f"Causes ({len(causes)}), in the order to fix them:"]
    for number, cause in enumerate(causes, 1):
        failed, blocked = len(cause["failed"]), len(cause["blocked"])
        lines.append(f"  {number}. [{cause['kind']}] {cause['id']}: {cause['title']}")
        lines.append(f"     fix: {cause['fix']}")
        lines.append(f"     explains {failed} failed, {blocked} blocked")
    return lines


def failure_lines(summary: dict[str, Any]) -> list[str]:
    """Each failure once, in the suite's words: id, level, clauses, then requirement / expected /
    actual / fix as the check said them, and the cause it belongs to; waived and stale waivers
    called that."""
    lines = []
    cause_of = {case: c["id"] for c in summary.get("causes") or [] for case in c["failed"]}
    for entry in summary["checks"]:
        if entry["outcome"] == "failed":
            stale = entry["message"].startswith("stale waiver")
            cause = cause_of.get(entry["id"], "")
            lines.append(
                f"{'STALE WAIVER' if stale else 'FAILED'} [{entry['level']}] {entry['id']} "
                f"({', '.join(entry['spec'])}): {entry['title']}"
                + (f" (cause {cause})" if cause and not cause.startswith("check:") else "")
            )
            lines += ["    " + line for line in entry["message"].splitlines()[:8] if line.strip()]
        elif entry["outcome"] == "waived":
            lines.append(f"WAIVED [{entry['level']}] {entry['id']}: {entry['message'].splitlines()[0][:300]}")
    return lines


def not_run_lines(summary: dict[str, Any]) -> list[str]:
    """What did not reach a verdict and what would make it run: not-verified grouped by the profile
    key that would enable it, inconclusive with its reason, opt-in with its switch."""
    lines: list[str] = []
    skipped = [c for c in summary["checks"] if c["outcome"] == "skipped"]
    by_key: dict[str, list[dict[str, Any]]] = {}
    accepted = {
        a["key"]: a for a in summary.get("coverage", {}).get("accepted", []) if a["state"] == "accepting"
    }
    for entry in skipped:
        kind = entry.get("skip_kind") or parse_skip(entry["message"])[0]
        if kind == "not-verified" and entry.get("skip_key") not in accepted:
            by_key.setdefault(entry.get("skip_key") or "?", []).append(entry)
    if by_key:
        lines.append("Not verified (the check applies; the profile lacks what it needs):")
        for key, entries in sorted(by_key.items(), key=lambda kv: -len(kv[1])):
            levels = {lvl: sum(e["level"] == lvl for e in entries) for lvl in ("MUST", "SHOULD", "MAY")}
            counted = ", ".join(f"{n} {lvl}" for lvl, n in levels.items() if n)
            example = entries[0]
            lines.append(f"  add {key}: {counted} case(s), e.g. {example['id']} ({example['title']})")
            lines.append(f"      {example['message']}")
    lines += acceptance_lines(summary)
    notes = set(summary.get("notes", []))  # a reason that is also a note is said once, there
    inconclusive = [c for c in skipped if c.get("skip_kind") == "inconclusive"]
    if inconclusive:
        reasons: dict[str, int] = {}
        for entry in inconclusive:
            reason = (entry["message"].splitlines() or ["(no reason given)"])[0][:200]
            reasons[reason] = reasons.get(reason, 0) + 1
        lines.append(f"Inconclusive ({len(inconclusive)} case(s) could not reach a verdict):")
        shown = [r for r in reasons if not any(note.startswith(r) for note in notes)]
        lines += [f"  {reasons[r]} x {r}" for r in shown]
        if len(shown) < len(reasons):
            lines.append("  (why: see the note below)")
    blocked = [c for c in skipped if c.get("skip_kind") == "blocked"]
    if blocked:
        controls = sorted({c.get("skip_key") or "?" for c in blocked})
        lines.append(
            f"Blocked ({len(blocked)} case(s)) by a control that failed or did not run: "
            + ", ".join(controls)
            + " (the causes above say why)"
        )
        waived = {c["id"] for c in summary["checks"] if c["outcome"] == "waived"} & set(controls)
        if waived:
            # Waiving a control does not give its dependents a verdict: the run stays inconclusive.
            checks = sorted({c["id"].split("[")[0] for c in blocked if c.get("skip_key") in waived})
            lines.append(
                f"  {', '.join(sorted(waived))} is waived; what it blocks has no verdict: fix it, or "
                f"waive these checks too: {', '.join(checks)}"
            )
    opt_in = {c.get("skip_key") or c["message"] for c in skipped if c.get("skip_kind") == "opt-in"}
    if opt_in:
        lines.append("Opt-in checks left off: " + ", ".join(sorted(opt_in)))
    return lines


def acceptance_lines(summary: dict[str, Any]) -> list[str]:
    """The profile's accepted coverage gaps ([coverage] accept): what each accepts and why, and the
    acceptances that accept nothing (stale) or no longer (expired)."""
    lines: list[str] = []
    states = summary.get("coverage", {}).get("accepted", [])
    accepting = [a for a in states if a["state"] == "accepting"]
    if accepting:
        lines.append("Accepted gaps (not verified; the profile's [coverage] accept says why):")
        for a in accepting:
            counted = _count(a["cases"], "case") + (f" ({a['must']} MUST)" if a["must"] else "")
            until = f" (until {a['expires']})" if a.get("expires") else ""
            lines.append(f"  accepted {a['key']}: {counted}: {a['reason']}{until}")
    for a in states:
        if a["state"] == "stale":
            hint = f" (did you mean {a['did_you_mean']}?)" if a.get("did_you_mean") else ""
            lines.append(
                f"STALE ACCEPTANCE {a['key']}: no case lacks it{hint}; remove it from [coverage] accept"
            )
        elif a["state"] == "expired":
            lines.append(f"EXPIRED ACCEPTANCE {a['key']} (expired {a['expires']}): its gaps count again")
    return lines


def result_line(summary: dict[str, Any]) -> str:
    """The one-line result: complete, partial (a MUST check not verified; its gaps all accepted, or
    not) or incomplete."""
    counts, skips = summary["counts"], summary.get("skips", {})
    complete = summary.get("complete", True) and not skips.get("inconclusive")
    gaps = [g for g in summary.get("coverage", {}).get("not_verified", []) if g["level"] == "MUST"]
    if not complete:
        state = "incomplete"
    elif any(not g.get("accepted") for g in gaps):
        state = "partial"
    else:
        state = "partial, every MUST gap accepted" if gaps else "complete"
    code = summary.get("exit_code")
    not_run = ", ".join(f"{n} {kind}" for kind, n in skips.items() if n)
    requests = summary["requests"]
    return (
        f"{summary['profile']}: {state}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['waived']} waived, {counts['skipped']} not run"
        + (f" ({not_run})" if not_run else "")
        + f"; {requests} request{'s' if requests != 1 else ''} in {summary['duration_s']} s; "
        f"exit {code} ({EXIT_MEANINGS.get(code, '?') if isinstance(code, int) else '?'})"
    )


def _record_metrics(args: argparse.Namespace, profile: Profile, summary: Any, code: int) -> None:
    """--metrics FILE: OpenMetrics text for the textfile collector or a Pushgateway."""
    if getattr(args, "metrics", None):
        from conformance._lib.http import ca_bundle_path
        from conformance.metrics import record_run

        ca = ca_bundle_path(profile, args.ca_bundle)
        record_run(
            Path(args.metrics),
            summary,
            exit_code=code,
            profile=profile.name,
            base_url=profile.base_url,
            cafile=ca,
        )


def print_summary(summary: dict[str, Any], report_dir: Path, html: Path | None = None) -> None:
    columns = (
        "passed",
        "failed",
        "waived",
        "not-applicable",
        "not-verified",
        "opt-in",
        "inconclusive",
        "blocked",
    )
    by_area: dict[str, dict[str, int]] = {}
    for entry in summary["checks"]:
        tally = by_area.setdefault(entry["area"], dict.fromkeys(columns, 0))
        key = entry["outcome"] if entry["outcome"] != "skipped" else entry.get("skip_kind", "inconclusive")
        tally[key] = tally.get(key, 0) + 1
    _out("")
    _out(f"{'area':<20}" + "".join(f"{c:>{max(len(c), 6) + 1}}" for c in columns))
    for area, c in by_area.items():
        _out(f"{area:<20}" + "".join(f"{c[k]:>{max(len(k), 6) + 1}}" for k in columns))
    for line in cause_lines(summary) + failure_lines(summary) + not_run_lines(summary):
        _out(line)
    for note in summary.get("notes", []):
        _out(f"note: {note}")
    _out(result_line(summary))
    shown = html is not None and html.exists()
    _out(f"report: {report_dir}/" + (f" (open {html})" if shown else ""))


@contextlib.contextmanager
def _reference_profile(tls: bool = False) -> Iterator[Path]:
    from conformance.reference.cli import missing_reference_extra
    from conformance.reference.launcher import running_reference

    missing = missing_reference_extra()
    if missing:
        raise UsageError(f"{missing}; or give --profile PATH to check an instance of your own")
    _out("starting the embedded reference instance ...")
    with running_reference(tls=tls) as ref:
        # The reference instance's secrets are its own, fresh for this run: give them to the
        # profile's ${VAR} substitution in this process only.
        os.environ.update(ref.env)
        _out(f"reference instance at {ref.url}")
        yield ref.profile_path


def cmd_run(args: argparse.Namespace) -> int:

    if args.seed is None:
        import random

        args.seed = random.SystemRandom().randrange(1, 2**31)
    if args.profile and args.reference_tls:
        raise UsageError("--reference-tls starts the reference instance: it cannot go with --profile")
    with contextlib.ExitStack() as stack:
        profiles = (
            [Path(p) for p in args.profile]
            if args.profile
            else [stack.enter_context(_reference_profile(tls=args.reference_tls))]
        )
        loaded = []
        for path in profiles:
            try:
                profile = load_profile(path)
                load_waivers(profile)
                loaded.append((path, profile))
            except ProfileError as exc:
                raise UsageError(f"profile error: {exc}") from None
        if args.target_release:
            kind, why = releases.classify(args.target_release)
            if kind == "unknown":
                raise UsageError(f"--target-release {why}")
        if args.dry_run:
            return dry_run(loaded, args)
        names = [profile.name for _, profile in loaded]
        if len(set(names)) != len(names):
            raise UsageError(f"two profiles share a name ({names}): report folders would collide")
        base = Path(args.report_dir) if args.report_dir else Path("reports")
        if len(loaded) == 1:
            report_dir = Path(args.report_dir) if args.report_dir else base / names[0]
            return run_profile(*loaded[0], report_dir, args)
        return run_many(loaded, base, args)


def dry_run(loaded: list[tuple[Path, Any]], args: argparse.Namespace) -> int:
    """What would run for each profile, case by case, and why the rest would not; nothing is sent.
    It is the planning pass of a real run, so it says what the run would do."""
    for path, profile in loaded:
        cases = select_cases(plan_cases(path, args), args)
        try:
            check_known(load_waivers(profile), [c for c, _, _ in cases], str(waivers_path(profile)))
        except ProfileError as exc:
            raise UsageError(f"profile error: {exc}") from None
        _out(f"{profile.name} ({profile.base_url}):")
        tally: dict[str, int] = {}
        for case, meta, skip in sorted(cases, key=lambda c: (c[1].area, c[0])):
            kind = parse_skip(skip)[0] if skip else "run"
            tally[kind] = tally.get(kind, 0) + 1
            text = f": {parse_skip(skip)[2]}" if skip else ""
            _out(f"  {kind:<14} [{meta.level:<6}] {case}{text}")
        summary = ", ".join(f"{n} {kind}" for kind, n in tally.items())
        _out(f"  {len(cases)} cases: {summary}. Nothing was sent; a check may still find at run time")
        _out("  that it does not apply (e.g. an alg the instance does not use) and say so.")
    return EXIT_OK


def _instance_key(profile: Any) -> str:
    """Profiles with one key share an instance: its one session per user and its rate limits."""
    parts = urlsplit(str(profile.base_url))
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"


@dataclass
class _ProfileRun:
    """One profile's process of `run_many`: started when its instance's turn comes."""

    name: str
    report_dir: Path
    argv: list[str]
    log: Any
    proc: Any = None


def run_many(loaded: list[tuple[Path, Any]], base: Path, args: argparse.Namespace) -> int:
    """Several instances at once: one process per profile, concurrently, except that profiles of
    one instance run one after another (the LMS keeps one session per user, and its token endpoint
    limits each client IP); then a comparison."""
    import subprocess
    import threading

    runs: list[_ProfileRun] = []
    groups: dict[str, list[_ProfileRun]] = {}
    for path, profile in loaded:
        report_dir = base / profile.name
        report_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--profile",
            str(path),
            "--report-dir",
            str(report_dir),
        ]
        argv += ["--strict"] if args.strict else []
        argv += ["--require-complete"] if args.require_complete else []
        argv += ["--no-html"] if args.no_html else []
        argv += [a for s in (args.select or []) for a in ("--select", s)]
        argv += [a for s in (args.deselect or []) for a in ("--deselect", s)]
        argv += ["--workers", str(args.workers), "--concurrency", str(args.concurrency)]
        if args.seed is not None:
            argv += ["--seed", str(args.seed)]
        if args.ca_bundle:
            argv += ["--ca-bundle", args.ca_bundle]
        if args.metrics:  # one file per instance beside the given one: oauth.prom -> oauth.<name>.prom
            metrics = Path(args.metrics)
            argv += ["--metrics", str(metrics.with_name(f"{metrics.stem}.{profile.name}{metrics.suffix}"))]
        if args.target_release:
            argv += ["--target-release", args.target_release]
        run = _ProfileRun(
            profile.name, report_dir, argv, (report_dir / "console.log").open("w", encoding="utf-8")
        )
        runs.append(run)
        group = groups.setdefault(_instance_key(profile), [])
        after = f" (after {group[-1].name}: the same instance)" if group else ""
        group.append(run)
        _out(f"{profile.name}: running against {profile.base_url}{after} ...")
    stopping = threading.Event()
    starting = threading.Lock()  # no process starts while a stop is sending SIGTERM to the others

    def run_group(members: list[_ProfileRun]) -> None:
        for run in members:
            with starting:
                if stopping.is_set():
                    return
                run.proc = subprocess.Popen(run.argv, stdout=run.log, stderr=subprocess.STDOUT)
            run.proc.wait()

    threads = [threading.Thread(target=run_group, args=(m,), daemon=True) for m in groups.values()]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        # Ctrl-C reaches the children too (same process group); SIGTERM only this process: pass it on,
        # and let each child write its incomplete summary and stop its instance. A profile whose
        # turn had not come does not start.
        with starting:
            stopping.set()
        for run in runs:
            if run.proc is not None and run.proc.poll() is None:
                run.proc.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join()
        raise
    codes = []
    for run in runs:
        name, report_dir = run.name, run.report_dir
        run.log.close()
        code = run.proc.returncode  # every group ran to its end (a stop raised above)
        codes.append(code)
        summary_file = report_dir / "summary.json"
        if summary_file.exists():
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
            _out(f"{name}: " + result_line(summary))
            for line in cause_lines(summary) + failure_lines(summary):
                _out("  " + line)
        else:
            lines = (report_dir / "console.log").read_text(encoding="utf-8").splitlines()
            _out(f"{name}: exit {code}: " + (lines[-1] if lines else "(no output)"))
        _out(f"  console output: {report_dir / 'console.log'}")
    done = [run.report_dir for run in runs if (run.report_dir / "summary.json").exists()]
    if done and not args.no_html:
        from conformance.html import render_html

        names = {json.loads((d / "summary.json").read_text())["profile"]: d.name for d in done}
        problem = render_html(
            [d / "allure-results" for d in done],
            base / "combined-html",
            name="Open edX OAuth conformance: " + " vs ".join(names),
            environments={n: n for n in names},
        )
        _out(
            f"combined report: {base / 'combined-html' / 'index.html'}"
            if not problem
            else f"note: no combined HTML report: {problem}"
        )
    if len(done) > 1:
        comparison = write_comparison(done, base / "comparison")
        _out(
            f"{len(comparison.differing)} of {len(comparison.rows)} check cases differ: "
            f"{base / 'comparison' / 'comparison.html'}"
        )
    return exit_of_runs(codes)


# compare ------------------------------------------------------------------------------------------


def write_comparison(dirs: list[Path], out: Path) -> Any:
    from conformance.compare import compare_dirs

    comparison = compare_dirs(dirs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.html").write_text(comparison.as_html(), encoding="utf-8")
    (out / "comparison.md").write_text(comparison.as_markdown(), encoding="utf-8")
    (out / "comparison.json").write_text(comparison.as_json(), encoding="utf-8")
    return comparison


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.compare import CompareError

    dirs = [Path(d) for d in args.dirs]
    try:
        comparison = write_comparison(dirs, Path(args.out))
    except CompareError as exc:
        raise UsageError(str(exc)) from None
    _out(f"{len(comparison.differing)} of {len(comparison.rows)} check cases differ")
    for row in comparison.differing:
        _out(
            f"  {row.id}: " + ", ".join(f"{comparison.labels[k]}={v or '-'}" for k, v in row.outcomes.items())
        )
    _out(f"comparison: {args.out}/comparison.html, comparison.md, comparison.json")
    return EXIT_OK


# list-checks --------------------------------------------------------------------------------------


def cmd_list_checks(args: argparse.Namespace) -> int:
    from conformance._lib.spec import clause_url

    checks = sorted(load_checks().values(), key=lambda m: (m.area, m.id))
    if args.format == "json":
        listing = [dict(m.as_dict(), links=[clause_url(c) for c in m.spec]) for m in checks]
        _out(json.dumps(listing, indent=2), redacted=False)
        return EXIT_OK
    for m in checks:
        _out(f"{m.id:<58} {m.level:<6} {m.ref:<6} {m.title}  [{', '.join(m.spec)}]", redacted=False)
    _out(f"{len(checks)} checks in {len({m.area for m in checks})} areas")
    return EXIT_OK


# main ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 2 with one line, as the contract says
        self.print_usage(sys.stderr)
        _err(f"{self.prog}: error: {message}")
        raise SystemExit(EXIT_USAGE)


RUN_EPILOG = """exit status:
  0    every selected check that applies reached a verdict; no MUST check failed
       (with --strict: no SHOULD either); waived failures aside
  1    a check failed
  2    usage or profile error (a selection that matches nothing included); nothing was sent
  3    the instance could not be reached, or stopped answering during the run
  4    inconclusive: a check that applies could not reach a verdict (rate limit, request
       budget, token endpoint answering without OAuth); with --require-complete, also a
       MUST check not verified for lack of a profile key
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): summary.json says "complete": false
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="openedx-oauth-conformance",
        description="Conformance checks for the OAuth 2.0 / JWT side of Open edX instances.",
    )
    parser.add_argument("--version", action="version", version=conformance.__version__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="run the suite against profiles (default: the reference)",
        description="Run the conformance checks against one or more instances (profiles); with no "
        "--profile, against the embedded reference instance.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--profile", action="append", metavar="PATH", help="profile TOML (repeatable)")
    run.add_argument("--report-dir", metavar="DIR", help="default: reports/<profile name>/")
    run.add_argument("--strict", action="store_true", help="SHOULD failures fail the run too")
    run.add_argument(
        "--require-complete",
        action="store_true",
        help="exit 4 when a MUST check was not verified for lack of a profile key",
    )
    run.add_argument(
        "--select", action="append", metavar="ID", help="check id, prefix, area, ref, id[case] or a * glob"
    )
    run.add_argument(
        "--deselect", action="append", metavar="ID", help="check id, prefix, area, ref, id[case] or a * glob"
    )
    run.add_argument(
        "--workers",
        type=count_of("processes", most=MAX_WORKERS),
        default=1,
        metavar="N",
        help=f"run checks in N processes, 1 to {MAX_WORKERS} (1: in this process; more pays off against "
        "remote instances, not on loopback)",
    )
    run.add_argument(
        "--concurrency",
        type=count_of("requests", most=MAX_CONCURRENCY),
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY}): "
        "independent checks overlap their waits on the network; 1 runs one check at a time",
    )
    run.add_argument("--dry-run", action="store_true", help="list what would run; contact nothing")
    run.add_argument("--no-html", action="store_true", help="do not render the Allure HTML report")
    run.add_argument("--seed", type=int, help="seed for generated values (printed in the header)")
    run.add_argument("--ca-bundle", metavar="PEM", help="trust this private CA")
    run.add_argument(
        "--reference-tls",
        action="store_true",
        help="without --profile: start the reference behind its TLS front, so the transport checks run",
    )
    run.add_argument(
        "--metrics",
        metavar="FILE",
        help="write OpenMetrics text here (node_exporter textfile collector, Pushgateway); "
        "several profiles: one FILE.<name> each",
    )
    run.add_argument(
        "--target-release",
        metavar="NAME",
        help="upgrade preflight: report what changes for the profile's clients on that Open edX release",
    )
    run.set_defaults(func=cmd_run)

    cmp = sub.add_parser("compare", help="compare report dirs of earlier runs side by side")
    cmp.add_argument("dirs", nargs="+", metavar="DIR", help="report dirs holding summary.json")
    cmp.add_argument("--out", default="reports/comparison", metavar="DIR")
    cmp.set_defaults(func=cmd_compare)

    lc = sub.add_parser("list-checks", help="list the checks without contacting any instance")
    lc.add_argument("--format", choices=("text", "json"), default="text")
    lc.set_defaults(func=cmd_list_checks)

    rd = sub.add_parser("render", help="render the HTML report of earlier runs (when Allure was missing)")
    rd.add_argument("dirs", nargs="+", metavar="REPORT_DIR", help="a run's report dir (several: combined)")
    rd.add_argument("--out", metavar="DIR", help="default: REPORT_DIR/html (several: combined-html/ beside)")
    rd.set_defaults(func=cmd_render)

    jw = sub.add_parser("jwks-from-pem", help="derive the public JWK set from a private key file")
    jw.add_argument("keyfile", help="PEM private key, or a JSON JWK (JWT_PRIVATE_SIGNING_JWK)")
    jw.add_argument("--kid", help="key id (default: the JWK's kid, else a thumbprint)")
    jw.add_argument("--alg", default="RS512", help="alg member of the key (default RS512)")
    jw.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    jw.set_defaults(func=cmd_jwks_from_pem)

    try:
        from conformance.reference.cli import register
    except ImportError:
        pass
    else:
        from conformance.selftest.cli import register as register_selftest

        register_selftest(register(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return int(args.func(args))
    except UsageError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        word = "terminated" if TERMINATED.is_set() else "interrupted"
        _err(f"{word}: the run stopped; nothing it did not finish is counted as passed")
        return exit_of_stop(TERMINATED.is_set())
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_jwks_from_pem(args: argparse.Namespace) -> int:
    """The public JWK set of a private key file: what a profile's jwt.jwks wants, nothing private."""
    from conformance._lib.jwks_from_pem import KeyFileError, public_jwks

    try:
        jwks = public_jwks(Path(args.keyfile), kid=args.kid, alg=args.alg)
    except KeyFileError as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(jwks, indent=2) + "\n"
    if args.output:
        output = Path(args.output)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)  # `--output keys/x.json` makes keys/
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--output {args.output}: cannot write it ({exc.strerror or exc})") from None
        _err(f"wrote the public JWK set ({_count(len(jwks['keys']), 'key')}) to {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    """The single-file HTML report of earlier runs, exactly as `run` renders it."""
    from conformance.html import RenderError, render_report_dirs

    try:
        output, problem = render_report_dirs(
            [Path(d) for d in args.dirs], Path(args.out) if args.out else None
        )
    except RenderError as exc:
        raise UsageError(str(exc)) from None
    if problem:
        _err(f"error: no HTML report: {problem}")
        return EXIT_FAILED
    _out(f"report: {output / 'index.html'}")
    return EXIT_OK
