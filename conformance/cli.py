"""The command line: run | compare | list-checks | reference ...; owns the console and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import conformance
from conformance import releases
from conformance._lib.profile import Profile, ProfileError, load_profile
from conformance._lib.redact import redact
from conformance._lib.waivers import check_known, load_waivers, waivers_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class UsageError(Exception):
    """Exit 2 with this message."""


def _out(text: str = "") -> None:
    try:
        sys.stdout.write(redact(text) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(EXIT_OK) from None


def _err(text: str) -> None:
    sys.stderr.write(redact(text) + "\n")
    sys.stderr.flush()


def load_checks() -> dict[str, Any]:
    """Import every check module so that the registry is complete (no instance contacted)."""
    from conformance._lib.registry import REGISTRY

    for module in pkgutil.iter_modules([str(CHECKS_DIR)]):
        if module.name.startswith("test_"):
            importlib.import_module(f"conformance.checks.{module.name}")
    return dict(REGISTRY)


# run ----------------------------------------------------------------------------------------------


def pytest_args(profile_path: Path, report_dir: Path, args: argparse.Namespace) -> list[str]:
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
        "-o",
        "junit_family=xunit2",
        "-o",
        "console_output_style=count",
        "--strict-markers",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "-q",
        "-rfE",
        "--oauth-profile",
        str(profile_path),
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
    argv += ["--oauth-seed", str(args.seed), "--oauth-probed"]
    if getattr(args, "ca_bundle", None):
        argv += ["--oauth-ca-bundle", args.ca_bundle]
    for selector in args.select or []:
        argv += ["--oauth-select", selector]
    for selector in args.deselect or []:
        argv += ["--oauth-deselect", selector]
    # --workers N: pytest-xdist spreads the checks; each worker fetches its shared tokens once.
    argv += ["-p", "xdist.plugin", "-n", str(args.workers)] if args.workers > 1 else []
    return argv


def run_profile(profile_path: Path, profile: Profile, report_dir: Path, args: argparse.Namespace) -> int:
    import pytest

    from conformance._lib.http import ca_bundle_path, http_for, unreachable

    # Reachability before pytest starts: nothing answering is one message and exit 3.
    ca = ca_bundle_path(profile, args.ca_bundle)
    if ca and not Path(ca).is_file():
        raise UsageError(f"the CA bundle {ca} does not exist (--ca-bundle or the profile's ca_bundle)")
    http = http_for(profile, args.ca_bundle)
    problem = unreachable(http, profile.data["token_path"])
    http.close()
    if problem:
        _err(f"error: {problem}")
        return EXIT_UNREACHABLE
    report_dir.mkdir(parents=True, exist_ok=True)
    _out(f"seed {args.seed} (repeat this run's generated values with --seed {args.seed})")
    summary_path = report_dir / "summary.json"
    summary_path.unlink(missing_ok=True)  # never report an earlier run's result
    # Only the plugins the suite needs: none of the operator's own (and no start-up cost for them).
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    code = int(pytest.main(pytest_args(profile_path, report_dir, args)))
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    if summary is not None:  # the profile's release, and the upgrade preflight (--target-release)
        summary = releases.annotate_summary(summary_path, summary, profile, args.target_release)
    if code == pytest.ExitCode.INTERNAL_ERROR and (summary or {}).get("exit_code") != EXIT_UNREACHABLE:
        _err("internal error in the suite; see the output above")
        code = EXIT_FAILED
    elif summary is not None and summary.get("exit_code") is not None:
        code = int(summary["exit_code"])
    elif code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        code = EXIT_USAGE
    elif code == pytest.ExitCode.INTERRUPTED:  # pytest.exit(returncode=2) before any summary
        code = EXIT_USAGE
    elif code not in (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE):
        _err(f"internal error in the suite (pytest exit {code}); see the output above")
        code = EXIT_FAILED
    if summary is not None and not args.no_html:
        from conformance.html import render_html

        problem = render_html(
            report_dir / "allure-results",
            report_dir / "html",
            name=f"Open edX OAuth conformance: {summary['profile']}",
            history=report_dir / "history.jsonl",
        )
        if problem:
            _err(f"note: no HTML report: {problem}")
    if summary is not None:
        print_summary(summary, report_dir, html=(report_dir / "html" / "index.html"))
        for line in releases.console_lines(summary):
            _out(line)
    return code


def print_summary(summary: dict[str, Any], report_dir: Path, html: Path | None = None) -> None:
    counts = summary["counts"]
    by_area: dict[str, dict[str, int]] = {}
    for entry in summary["checks"]:
        tally = by_area.setdefault(entry["area"], {"passed": 0, "failed": 0, "skipped": 0, "waived": 0})
        tally[entry["outcome"]] += 1
    _out("")
    _out(f"{'area':<18} {'passed':>6} {'failed':>6} {'skipped':>7} {'waived':>6}")
    for area, c in by_area.items():
        _out(f"{area:<18} {c['passed']:>6} {c['failed']:>6} {c['skipped']:>7} {c['waived']:>6}")
    failed = [c for c in summary["checks"] if c["outcome"] == "failed"]
    for entry in failed:
        _out(f"FAILED [{entry['level']}] {entry['id']} ({', '.join(entry['spec'])}): {entry['title']}")
        if entry["message"]:
            _out("    " + entry["message"].splitlines()[0][:300])
    for entry in summary["checks"]:
        if entry["outcome"] == "waived":
            _out(f"WAIVED {entry['id']}: {entry['message'].splitlines()[0][:300]}")
    for note in summary.get("notes", []):
        _out(f"note: {note}")
    _out(
        f"{summary['profile']}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped, {counts['waived']} waived; {summary['requests']} requests "
        f"in {summary['duration_s']} s; exit {summary.get('exit_code')}"
    )
    _out(f"report: {report_dir}/" + (f" (open {html})" if html and html.exists() else ""))


@contextlib.contextmanager
def _reference_profile() -> Iterator[Path]:
    try:
        from conformance.reference.launcher import running_reference
    except ImportError as exc:
        raise UsageError(
            "the embedded reference instance needs the 'reference' extra: "
            f"pip install -e '.[reference]' ({exc.name} is missing)"
        ) from None
    _out("starting the embedded reference instance ...")
    with running_reference() as ref:
        # The reference instance's secrets are its own, fresh for this run: give them to the
        # profile's ${VAR} substitution in this process only.
        os.environ.update(ref.env)
        _out(f"reference instance at {ref.url}")
        yield ref.profile_path


def cmd_run(args: argparse.Namespace) -> int:
    if args.seed is None:
        import random

        args.seed = random.SystemRandom().randrange(1, 2**31)
    with contextlib.ExitStack() as stack:
        profiles = (
            [Path(p) for p in args.profile] if args.profile else [stack.enter_context(_reference_profile())]
        )
        loaded = []
        for path in profiles:
            try:
                profile = load_profile(path)
                check_known(load_waivers(profile), load_checks(), str(waivers_path(profile)))
                loaded.append((path, profile))
            except ProfileError as exc:
                raise UsageError(f"profile error: {exc}") from None
        if args.target_release and args.target_release not in releases.names():
            known = ", ".join(releases.names())
            raise UsageError(f"--target-release {args.target_release!r} is not a known release ({known})")
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
    """What would run for each profile, and why the rest would be skipped; no request is sent."""
    from conformance._lib.registry import matches, missing_requirement

    checks = sorted(load_checks().values(), key=lambda m: (m.area, m.id))
    for _, profile in loaded:
        _out(f"{profile.name} ({profile.base_url}):")
        runs = 0
        for meta in checks:
            if args.select and not any(matches(meta, s) for s in args.select):
                continue
            if any(matches(meta, s) for s in args.deselect or []):
                continue
            reason = missing_requirement(profile, meta.requires)
            runs += reason is None
            _out(
                f"  {'run ' if reason is None else 'skip'} [{meta.level:<6}] {meta.id}"
                + (f": {reason}" if reason else "")
            )
        _out(f"  {runs} checks would run (parametrized ones in several cases); nothing was sent")
    return EXIT_OK


def run_many(loaded: list[tuple[Path, Any]], base: Path, args: argparse.Namespace) -> int:
    """Several instances at once: one process per profile, concurrently; then a comparison."""
    import subprocess

    procs = []
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
        argv += ["--no-html"] if args.no_html else []
        argv += [a for s in (args.select or []) for a in ("--select", s)]
        argv += [a for s in (args.deselect or []) for a in ("--deselect", s)]
        argv += ["--workers", str(args.workers)]
        if args.seed is not None:
            argv += ["--seed", str(args.seed)]
        if args.ca_bundle:
            argv += ["--ca-bundle", args.ca_bundle]
        if args.target_release:
            argv += ["--target-release", args.target_release]
        log = (report_dir / "console.log").open("w", encoding="utf-8")
        procs.append(
            (
                profile.name,
                report_dir,
                log,
                subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT),
            )
        )
        _out(f"{profile.name}: running against {profile.base_url} ...")
    codes = []
    for name, report_dir, log, proc in procs:
        code = proc.wait()
        log.close()
        codes.append(code)
        lines = (report_dir / "console.log").read_text(encoding="utf-8").splitlines()
        _out(f"{name}: exit {code}: " + (lines[-2] if len(lines) >= 2 else "(no output)"))
    done = [d for _, d, _, _ in procs if (d / "summary.json").exists()]
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
    # Usage errors first, then unreachable, then failures.
    for code in (EXIT_USAGE, EXIT_UNREACHABLE, EXIT_FAILED):
        if code in codes:
            return code
    return EXIT_OK


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
        _out(f"  {row.id}: " + ", ".join(f"{k}={v or '-'}" for k, v in row.outcomes.items()))
    _out(f"comparison: {args.out}/comparison.html, comparison.md, comparison.json")
    return EXIT_OK


# list-checks --------------------------------------------------------------------------------------


def cmd_list_checks(args: argparse.Namespace) -> int:
    from conformance._lib.spec import clause_url

    checks = sorted(load_checks().values(), key=lambda m: (m.area, m.id))
    if args.format == "json":
        _out(json.dumps([dict(m.as_dict(), links=[clause_url(c) for c in m.spec]) for m in checks], indent=2))
        return EXIT_OK
    for m in checks:
        _out(f"{m.id:<58} {m.level:<6} {m.ref:<6} {m.title}  [{', '.join(m.spec)}]")
    _out(f"{len(checks)} checks in {len({m.area for m in checks})} areas")
    return EXIT_OK


# main ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # exit 2 with one line, as the contract says
        self.print_usage(sys.stderr)
        _err(f"{self.prog}: error: {message}")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="openedx-oauth-conformance",
        description="Conformance checks for the OAuth 2.0 / JWT side of Open edX instances.",
    )
    parser.add_argument("--version", action="version", version=conformance.__version__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run the suite against profiles (default: the reference)")
    run.add_argument("--profile", action="append", metavar="PATH", help="profile TOML (repeatable)")
    run.add_argument("--report-dir", metavar="DIR", help="default: reports/<profile name>/")
    run.add_argument("--strict", action="store_true", help="SHOULD failures fail the run too")
    run.add_argument("--select", action="append", metavar="ID", help="check id, prefix or area")
    run.add_argument("--deselect", action="append", metavar="ID", help="check id, prefix or area")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run checks in N processes (pays off against remote instances, not on loopback)",
    )
    run.add_argument("--dry-run", action="store_true", help="list what would run; contact nothing")
    run.add_argument("--no-html", action="store_true", help="do not render the Allure HTML report")
    run.add_argument("--seed", type=int, help="seed for generated values (printed in the header)")
    run.add_argument("--ca-bundle", metavar="PEM", help="trust this private CA")
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
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_FAILED


def cmd_jwks_from_pem(args: argparse.Namespace) -> int:
    """The public JWK set of a private key file: what a profile's jwt.jwks wants, nothing private."""
    from conformance._lib.jwks_from_pem import KeyFileError, public_jwks

    try:
        jwks = public_jwks(Path(args.keyfile), kid=args.kid, alg=args.alg)
    except KeyFileError as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(jwks, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        _err(f"wrote the public JWK set ({len(jwks['keys'])} key) to {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK
