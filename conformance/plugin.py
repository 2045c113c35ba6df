"""The pytest plugin: options, fixtures, skips by profile, Allure labels, summary.json, redaction."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import allure
import pytest
from faker import Faker

import conformance
from conformance import allure_tidy
from conformance._lib.acceptances import load_acceptances
from conformance._lib.curl import curl_line
from conformance._lib.http import (
    BudgetExhausted,
    CircuitOpen,
    Exchange,
    Http,
    HttpProblem,
    RateLimited,
    Unreachable,
    http_for,
    unreachable,
)
from conformance._lib.jwts import JwkSet
from conformance._lib.outcomes import (
    EXIT_TERMINATED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    TERMINATED,
    Outcome,
    RunState,
    decide_exit,
    exit_of_stop,
    install_sigterm,
    note_sigterm,
)
from conformance._lib.profile import Profile, ProfileError, load_profile
from conformance._lib.redact import REDACTOR, redact
from conformance._lib.registry import (
    CheckMeta,
    matches,
    missing_requirement,
    parse_skip,
    skip_reason,
    suggest,
)
from conformance._lib.schedule import DEFAULT as DEFAULT_CONCURRENCY
from conformance._lib.schedule import MAXIMUM as MAX_CONCURRENCY
from conformance._lib.schedule import Schedule, capture_exchange
from conformance._lib.signin import SignIn
from conformance._lib.spec import clause_url
from conformance._lib.tokens import TokenFlows, export_shared, import_shared
from conformance._lib.verify import ConformanceFailure
from conformance._lib.waivers import check_known, load_waivers, waivers_path
from conformance.releases import adjusted
from conformance.report import polish_allure, redact_tree, write_environment, write_summary

# Plain-pytest use (--oauth-report-dir, no profile = usage error): registered with this plugin, so
# it is there however the plugin was loaded (entry point `openedx_oauth_conformance`, -p, conftest).
pytest_plugins = ["conformance._standalone"]

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}


STATE = pytest.StashKey[RunState]()
# pytest_runtest_logreport gets no config: the run's state, for this process.
_config_state: dict[str, RunState] = {}

# Profile warnings already printed by this process: each is said once.
_WARNED: set[str] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oauth", "Open edX OAuth conformance")
    group.addoption("--oauth-profile", help="profile TOML of the instance to check")
    group.addoption("--oauth-summary", help="write summary.json here")
    group.addoption("--oauth-strict", action="store_true", help="SHOULD failures fail the run")
    group.addoption(
        "--oauth-require-complete",
        action="store_true",
        help="a MUST check not verified for lack of a profile key makes the run inconclusive (4)",
    )
    group.addoption("--oauth-seed", type=int, help="seed for generated values (default: random)")
    group.addoption("--oauth-ca-bundle", help="PEM bundle of a private CA to trust")
    group.addoption(
        "--oauth-probed",
        action="store_true",
        help="the caller already probed the token endpoint once (the CLI): do not probe again",
    )
    group.addoption("--oauth-select", action="append", help="check id, id prefix, area, ref or id[case]")
    group.addoption("--oauth-deselect", action="append", help="check id, id prefix, area, ref or id[case]")
    group.addoption(
        "--oauth-concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY}; 1: one "
        "check at a time)",
    )
    group.addoption(
        "--oauth-console",
        action="store_true",
        help="the caller (the CLI) prints the results: no pytest failure sections or counts",
    )


def _exit(message: str, code: int) -> NoReturn:
    pytest.exit(redact(message), returncode=code)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oauth_check(meta): an Open edX OAuth conformance check")
    config.addinivalue_line(
        "markers", "oauth_requires(*names): what a case needs of the profile (registry.REQUIREMENTS)"
    )
    # The sign-in checks' group under --workers (pytest-xdist loadgroup); declared here too, so that
    # a run without xdist knows the mark.
    config.addinivalue_line("markers", "xdist_group(name): cases that run in one pytest-xdist worker")
    path = config.getoption("--oauth-profile")
    if not path:
        return  # a run of other tests: pytest's output is theirs, untouched
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "load":
        # `-n N` alone means pytest-xdist's `load`, which would split the sign-in checks across
        # workers that then end each other's sessions (one session per user): keep their group.
        config.option.dist = "loadgroup"
    if getattr(config, "workerinput", {}).get("oauth_loadgroup"):
        config.option.loadgroup = True  # a worker parses `-n N` again: it names the group in node ids
    _wrap_terminal(config)
    allure_tidy.register()
    try:
        profile = load_profile(path)
        waivers = load_waivers(profile)
    except ProfileError as exc:
        _exit(f"profile error: {exc}", EXIT_USAGE)
    for warning in profile.warnings:
        if warning not in _WARNED:  # the CLI's planning pass and its run load the profile in one process
            _WARNED.add(warning)
            sys.stderr.write(f"warning: {warning}\n")
    concurrency = config.getoption("--oauth-concurrency")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        _exit(f"--oauth-concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}", EXIT_USAGE)
    seed = config.getoption("--oauth-seed")
    seed = seed if seed is not None else random.SystemRandom().randrange(1, 2**31)
    ca_bundle = config.getoption("--oauth-ca-bundle")
    if ca_bundle:
        # The transport checks make their own TLS handshakes: they read the effective CA here.
        profile.data["ca_bundle"] = os.path.abspath(ca_bundle)
    state = RunState(
        profile=profile,
        http=http_for(profile, ca_bundle),
        seed=seed,
        strict=bool(config.getoption("--oauth-strict")),
        require_complete=bool(config.getoption("--oauth-require-complete")),
        waivers=waivers,
        acceptances=load_acceptances(profile.data),
        selected_all=not (config.getoption("--oauth-select") or config.getoption("--oauth-deselect")),
    )
    for accepted in state.acceptances:
        if accepted.expired():
            state.notes.append(
                f"acceptance of {accepted.key} expired on {accepted.expires}: its gaps count again"
            )
    state.http.on_exchange = lambda ex: _record_exchange(state, ex)
    state.http.on_wait = lambda text: _say_now(config, f"note: {text}")
    state.tokens = TokenFlows(state.http, profile)
    shared = getattr(config, "workerinput", {}).get("oauth_shared_tokens")
    if shared:
        import_shared(state.tokens, shared)
    config.stash[STATE] = state
    _config_state["state"] = state


def _say_now(config: pytest.Config, text: str) -> None:
    """One line on the console while a case runs (past pytest's capture), redacted."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
            reporter.write("\n")  # after the progress dots, not on their line
        reporter.write_line(redact(text))


def _wrap_terminal(config: pytest.Config) -> None:
    """Everything pytest prints (tracebacks, assertion diffs, locals) goes through redaction."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is not None and not isinstance(writer._file, _RedactingStream):
        writer._file = _RedactingStream(writer._file)


def _quiet_pytest_summary(config: pytest.Config) -> None:
    """The CLI prints each failure once, in the suite's own words: pytest keeps its progress line
    and drops its failure sections, short summary and counts (which speak of xfail and XPASS)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    for name in (
        "summary_failures",
        "summary_errors",
        "summary_warnings",
        "summary_passes",
        "short_test_summary",
        "summary_stats",
    ):
        if hasattr(reporter, name):
            setattr(reporter, name, lambda *a, **k: None)
    reporter._keyboardinterrupt_memo = None
    if hasattr(reporter, "_report_keyboardinterrupt"):
        reporter._report_keyboardinterrupt = lambda: None


class _RedactingStream:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _record_exchange(state: RunState, exchange: Exchange) -> None:
    if capture_exchange(exchange):
        return  # a case running ahead: recorded when pytest reaches it (_lib/schedule.py)
    state.exchanges.append(exchange)
    try:
        allure.attach(
            exchange.describe(),
            name=f"{exchange.method} {exchange.path} -> {exchange.status}",
            attachment_type=allure.attachment_type.TEXT,
        )
    except Exception:  # noqa: S110 - outside a test (probe) there is nothing to attach to
        pass


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(STATE, None)
    if state is None:
        return []
    return [
        f"oauth profile: {state.profile.name} ({state.profile.path})",
        f"oauth target: {state.profile.base_url}",
        f"suite version: {conformance.__version__}; seed: {state.seed} (--oauth-seed {state.seed})",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(STATE, None)
    selectors = config.getoption("--oauth-select") or []
    deselectors = config.getoption("--oauth-deselect") or []
    checks: list[tuple[pytest.Item, CheckMeta, str]] = []
    for item in items:
        meta = _meta(item)
        if meta is None:
            continue
        released = adjusted(meta, state.profile if state else None)  # the profile's release
        if released is not meta:
            item.add_marker(pytest.mark.oauth_check(released), append=False)
            meta = released
        checks.append((item, meta, _case_id(item, meta)))
    every_case = [case for _, _, case in checks]  # waivers may name cases --select leaves out
    if selectors or deselectors:
        _select(config, items, checks, selectors, deselectors)
        kept = set(items)
        checks = [c for c in checks if c[0] in kept]
    for item, meta, _ in checks:
        _label(item, meta, state.profile if state else None)
        callspec = getattr(item, "callspec", None)
        requires = meta.requires_of(callspec.id if callspec else None)
        requires += tuple(r for mark in item.iter_markers("oauth_requires") for r in mark.args)
        reason = missing_requirement(state.profile, requires) if state else "no --oauth-profile given"
        if reason:  # the labels above are marks too, so skipped checks are grouped in the report
            item.add_marker(pytest.mark.skip(reason=reason))
    if state is not None and not config.option.collectonly:  # (the CLI's planning pass checks them)
        _apply_waivers(state, [(item, case) for item, _, case in checks], every_case)
    # A probe that spends the instance's rate limit on purpose (options.throttle_probe) runs last:
    # every check after it would only meet the limit it reached. Before it, the checks that change
    # state other checks read (`alone`: revocation, refresh rotation, sign-out), one at a time
    # (_lib/schedule.py), after every check that reads it.
    items.sort(
        key=lambda item: (
            "throttle_probe" in getattr(_meta(item), "requires", ()),
            bool(getattr(_meta(item), "alone", False)),
        )
    )
    _group_for_xdist(config, items)
    if state is not None:
        state.param_names = {
            name for item, _, _ in checks if (cs := getattr(item, "callspec", None)) for name in cs.params
        }
        state.plan = [(case, meta, _static_skip(item)) for item, meta, case in checks]


def _group_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist's loadgroup (--workers, `-n N`, and the project's own tests, which group
    by module): xdist 3.8 adds `@<group>` to a worker's node ids through `item._nodeid`, which
    pytest 9 no longer reads (node ids live in `_id`), so every case would be spread; the grouped
    cases are kept in one worker by giving them the suffix here."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if names and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


def _select(
    config: pytest.Config,
    items: list[pytest.Item],
    checks: list[tuple[pytest.Item, CheckMeta, str]],
    selectors: list[str],
    deselectors: list[str],
) -> None:
    """--oauth-select/--oauth-deselect; a selector that matches no check is a usage error: a typo
    must never turn into an empty, green run."""
    for selector in [*selectors, *deselectors]:
        if not any(matches(meta, selector, case) for _, meta, case in checks):
            metas = [meta for _, meta, _ in checks]
            hint = suggest(selector, metas, [case for _, _, case in checks])
            raise pytest.UsageError(f"--select/--deselect {selector!r} matches no check{hint}")
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    by_item = {item: (meta, case) for item, meta, case in checks}
    for item in items:
        meta, case = by_item.get(item, (None, ""))
        ok = meta is not None and (not selectors or any(matches(meta, s, case) for s in selectors))
        ok = ok and not any(matches(meta, s, case) for s in deselectors)  # type: ignore[arg-type]
        (keep if ok else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _static_skip(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("skip")
    return str(mark.kwargs.get("reason", mark.args[0] if mark.args else "")) if mark else None


def _apply_waivers(state: RunState, cases: list[tuple[pytest.Item, str]], every_case: list[str]) -> None:
    """Active waivers become strict xfails: a waived check that passes again is reported stale."""
    if not state.waivers:
        return
    source = str(waivers_path(state.profile))
    try:
        check_known(state.waivers, every_case, source)
    except ProfileError as exc:
        raise pytest.UsageError(f"profile error: {redact(str(exc))}") from None
    for expired in state.waivers:
        if expired.expired():
            state.notes.append(f"waiver for {expired.check} expired on {expired.expires}: no longer waives")
    for item, case in cases:
        waiver = next((w for w in state.waivers if w.matches(case) and not w.expired()), None)
        if waiver is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=waiver.describe()))
            item.user_properties.append(("waiver", waiver.describe()))


def _meta(item: pytest.Item) -> CheckMeta | None:
    mark = item.get_closest_marker("oauth_check")
    return mark.args[0] if mark else None


def _case_id(item: pytest.Item, meta: CheckMeta) -> str:
    callspec = getattr(item, "callspec", None)
    return f"{meta.id}[{callspec.id}]" if callspec else meta.id


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # a pytest-xdist worker (--workers N)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Reachability first: nothing answering means exit 3 with one message, not N failures."""
    config = session.config
    state = config.stash.get(STATE, None)
    if state is None or _is_worker(config) or config.option.collectonly:
        return
    if config.getoption("--oauth-console"):
        _quiet_pytest_summary(config)
    note_sigterm()  # the checks' loop installs the handler that stops the run
    if config.getoption("--oauth-probed"):
        state.other_requests += 1  # the caller's probe (http.unreachable)
        return
    problem = unreachable(state.http, state.profile.data["revoke_path"])
    if problem:
        state.exit_code, state.exit_message = EXIT_UNREACHABLE, problem
        _finish(config, state)
        _exit(problem, EXIT_UNREACHABLE)


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C or SIGTERM: the run stops where it is and says so (never as a pass)."""
    state = _config_state.get("state")
    if state is None:
        return
    state.complete = False
    if state.exit_code is not None:
        return  # the run stopped itself (the circuit breaker): that is the reason, not an interrupt
    state.exit_code = exit_of_stop(TERMINATED.is_set())
    state.exit_message = "terminated (SIGTERM)" if state.exit_code == EXIT_TERMINATED else "interrupted"


# Fixtures -----------------------------------------------------------------------------------------


def _state(request: pytest.FixtureRequest) -> RunState:
    state = request.config.stash.get(STATE, None)
    if state is None:
        pytest.skip("no --oauth-profile given")
    return state


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest) -> Profile:
    return _state(request).profile


@pytest.fixture(scope="session")
def http(request: pytest.FixtureRequest) -> Http:
    return _state(request).http


@pytest.fixture(scope="session")
def tokens(request: pytest.FixtureRequest) -> TokenFlows:
    flows = _state(request).tokens
    assert flows is not None
    return flows


@pytest.fixture(scope="session")
def jwks(request: pytest.FixtureRequest) -> JwkSet | None:
    return _state(request).jwks()


@pytest.fixture(scope="session")
def signin(request: pytest.FixtureRequest, tokens: TokenFlows) -> SignIn:
    """The sign-in flows (login API, /oauth2/authorize): one signed-in browser per run (per worker)."""
    del tokens
    return _signin(_state(request))


def _signin(state: RunState) -> SignIn:
    """The run's one SignIn, for its fixture and for the cases running ahead."""
    with _SIGNIN_LOCK:
        signin = _SIGNINS.get("signin")
        if signin is None or signin.http is not state.http:
            assert state.tokens is not None
            signin = _SIGNINS["signin"] = SignIn(state.http, state.profile, state.tokens)
    return signin


_SIGNINS: dict[str, SignIn] = {}
_SIGNIN_LOCK = threading.Lock()


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Faker:
    """Faker seeded from the run's seed and the test id: a run is reproducible from its seed."""
    state = _state(request)
    if state.faker is None:
        state.faker = Faker()  # building one loads every locale provider: once per process
    state.faker.seed_instance(f"{state.seed}:{request.node.nodeid}")
    return state.faker


def _label(item: pytest.Item, meta: CheckMeta, profile: Profile | None) -> None:
    """Report labels as marks, which allure-pytest reads for every result, skipped ones included."""
    callspec = getattr(item, "callspec", None)
    function = getattr(item, "obj", None)
    if function is not None:
        function.__allure_display_name__ = meta.title + (" [{param_id}]" if callspec else "")
        function.__allure_description__ = (
            f"{meta.title}\n\nLevel: {meta.level}. Clauses: {', '.join(meta.spec)}."
            + (f" Catalogue: {meta.ref}." if meta.ref else "")
        )
    marks = [
        allure.label("case", _case_id(item, meta)),
        allure.epic(meta.area),
        allure.feature(meta.area),
        allure.story(meta.title),
        allure.severity(SEVERITY[meta.level]),
        allure.label("check_id", meta.id),
        allure.label("level", meta.level),
        allure.label("area", meta.area),
        allure.tag(meta.level),
    ]
    if profile is not None:
        # The instance, so that a combined report of several profiles shows each check per instance.
        marks.append(allure.label("environment", profile.name))
    marks += [allure.link(url, name=c) for c in meta.spec if (url := clause_url(c))]
    for mark in marks:
        item.add_marker(mark)


# Outcomes -----------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # trylast: this wrapper's code after `yield` runs before allure-pytest reads the report.
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    meta = _meta(item)
    if meta is None:
        return
    exc = call.excinfo.value if call.excinfo is not None else None
    state = item.config.stash.get(STATE, None)
    if hasattr(report, "wasxfail"):
        pass  # waived: keep pytest's xfail report
    elif isinstance(exc, (RateLimited, BudgetExhausted, Unreachable)):
        # No verdict, for a runtime reason (no answer at all, a rate limit, the request budget):
        # inconclusive, never a pass and never a conformance failure. Unreachable again and again
        # opens the circuit (CircuitOpen): the run stops with exit 3.
        report.outcome = "skipped"
        reason = skip_reason("inconclusive", "", redact(str(exc)))
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")
        if isinstance(exc, CircuitOpen) and state is not None and not _is_worker(item.config):
            state.exit_code, state.exit_message = EXIT_UNREACHABLE, redact(str(exc))
            item.session.shouldstop = redact(str(exc))
    elif isinstance(exc, (ConformanceFailure, HttpProblem)):
        # Requirement / expected / actual says it all; a traceback would only add plumbing
        # (and locals that may hold secrets).
        report.longrepr = redact(f"[{meta.level}] {', '.join(meta.spec)}: {exc}")
        report.user_properties.append(("message", redact(str(exc))))
        if isinstance(exc, ConformanceFailure) and exc.cause:
            # The cause a diagnosis tied the failure to, and what ties other failures to it.
            report.user_properties.append(("cause", exc.cause))
            report.user_properties.append(("evidence", "\n".join(redact(e) for e in exc.evidence)))
    if state is None:
        return
    if report.failed and call.when == "call" and state.exchanges:
        allure.attach(
            curl_line(
                state.exchanges[-1],
                state.profile,
                [*(state.tokens.issued() if state.tokens else []), *state.exchanges[:-1]],
            ),
            name="reproduce with curl",
            attachment_type=allure.attachment_type.TEXT,
        )
    # The check travels with its report: under --workers the controller collects nothing itself.
    report.user_properties += [
        ("check_id", meta.id),
        ("case", _case_id(item, meta)),
        ("level", meta.level),
        ("area", meta.area),
        ("spec", " ".join(meta.spec)),
        ("title", meta.title),
    ]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Outcomes are recorded from the final reports (after xfail handling made waivers waived). A
    case is passed only when its call passed: one that started and never finished stays pending."""
    state = _config_state.get("state")
    props = {str(k): str(v) for k, v in report.user_properties}
    if state is None or "check_id" not in props:
        return
    meta = CheckMeta(props["check_id"], props["title"], props["level"], tuple(props["spec"].split()))
    entry = state.outcomes.setdefault(report.nodeid, Outcome(meta, props["case"]))
    entry.duration += report.duration
    if hasattr(report, "wasxfail") and report.skipped:
        entry.outcome = "waived"
        failure = call_failure(report)
        entry.message = redact(f"{report.wasxfail}" + (f"; failure: {failure}" if failure else ""))
    elif report.failed and "XPASS(strict)" in report.longreprtext:
        entry.outcome = "failed"
        entry.message = redact(
            "stale waiver: the check passes now; remove its waiver "
            f"({report.longreprtext.strip().removeprefix('[XPASS(strict)]').strip()})"
        )
    elif report.failed:
        if entry.outcome != "failed":
            entry.outcome = "failed"
            entry.message = props.get("message") or _failure_message(report)
            entry.cause = props.get("cause", "")
            entry.evidence = tuple(e for e in props.get("evidence", "").split("\n") if e)
    elif report.skipped and entry.outcome != "failed":
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        entry.outcome = "skipped"
        entry.skip_kind, entry.skip_key, text = parse_skip(redact(reason))
        entry.message = text
        if entry.skip_kind == "blocked" and props.get("waiver"):
            # The operator waived this check: blocked by its control, it is waived, not inconclusive
            # (the control's own case names the cause; its failure is waived or fails the run).
            entry.outcome, entry.skip_kind = "waived", ""
            entry.message = redact(f"{props['waiver']}; not run: blocked by {entry.skip_key}: {text}")
    elif report.when == "call" and report.passed and entry.outcome == "pending":
        entry.outcome = "passed"


def call_failure(report: pytest.TestReport) -> str:
    text = report.longreprtext
    lines = [line[2:] for line in text.splitlines() if line.startswith("E ")]
    return " ".join(lines)[:500]


def _failure_message(report: pytest.TestReport) -> str:
    text = report.longreprtext
    error_lines = [line[2:] for line in text.splitlines() if line.startswith("E ")]
    message = "\n".join(error_lines) if error_lines else text
    return redact(message.strip())[:4000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    state = item.config.stash.get(STATE, None)
    if state is not None:
        state.exchanges.clear()
    yield
    schedule = _SCHEDULES.get("schedule")
    if schedule is not None:
        schedule.finished(item)


# --concurrency N: the check bodies run ahead on N threads, pytest reports them in order.
_SCHEDULES: dict[str, Schedule] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    config = session.config
    state = config.stash.get(STATE, None)
    if state is not None and not _is_worker(config) and not config.option.collectonly:
        install_sigterm()  # from here SIGTERM stops the run where it is (and one noted before, now)
    concurrency = config.getoption("--oauth-concurrency", 1) or 1
    distributed = _is_worker(config) or getattr(config.option, "dist", "no") != "no"  # --workers
    if state is None or concurrency <= 1 or distributed or config.option.collectonly:
        return (yield)
    schedule = Schedule(
        session.items,
        concurrency,
        state,
        signin=lambda: _signin(state),
        stopped=lambda: bool(session.shouldstop or session.shouldfail or state.exit_code is not None),
    )
    _SCHEDULES["schedule"] = schedule
    try:
        result = yield
    except BaseException:
        _SCHEDULES.pop("schedule", None)
        schedule.close(wait=False)  # Ctrl-C, SIGTERM: do not wait for requests in flight
        raise
    _SCHEDULES.pop("schedule", None)
    schedule.close()
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    schedule = _SCHEDULES.get("schedule")
    state = pyfuncitem.config.stash.get(STATE, None)
    if schedule is None or state is None:
        return None
    return schedule.call(pyfuncitem, lambda exchange: _record_exchange(state, exchange))


def _settle(state: RunState) -> None:
    """Cases that never finished (an interrupted run) are inconclusive, never passed."""
    for entry in state.outcomes.values():
        if entry.outcome == "pending":
            state.complete = False
            entry.outcome, entry.skip_kind = "skipped", "inconclusive"
            entry.message = "the run stopped before this check reached a verdict"


def _finish(config: pytest.Config, state: RunState) -> None:
    _settle(state)
    summary = config.getoption("--oauth-summary")
    if summary:
        write_summary(Path(summary), state, decide_exit(state))
    alluredir = config.getoption("--alluredir", None)
    if alluredir:
        write_environment(Path(alluredir), state)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or (state.exit_code == EXIT_UNREACHABLE and not state.outcomes):
        return
    if _is_worker(session.config):
        # The controller writes the artifacts; it needs this worker's counts and the secrets it
        # saw (to redact what this worker wrote). execnet carries them in memory, never to disk.
        session.config.workeroutput["oauth"] = {  # type: ignore[attr-defined]
            "requests": state.http.requests,
            "token_requests": state.http.token_requests,
            "secrets": sorted(REDACTOR.known()),
            "rate_limited": state.http.rate_limited,
            "rate_limit_waited_s": state.http.rate_limit_waited_s,
            "broken": state.http.broken,
        }
        return
    if state.http.rate_limited and state.http.rate_limited not in state.notes:
        state.notes.append(state.http.rate_limited)  # one message, however many checks it skipped
    waited = state.http.rate_limit_waited_s + state.other_rate_limit_waited_s
    if waited and not state.http.rate_limited:
        state.notes.append(f"waited {waited:.0f} s in all for the token endpoint's rate-limit window")
    if exitstatus == pytest.ExitCode.INTERRUPTED and state.exit_code is None:
        state.complete = False
        state.exit_code = exit_of_stop(TERMINATED.is_set())
        state.exit_message = "terminated (SIGTERM)" if TERMINATED.is_set() else "interrupted"
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED):
        _finish(session.config, state)
        session.exitstatus = decide_exit(state)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    allure_tidy.unregister()
    state = config.stash.get(STATE, None)
    if state is None:
        return
    state.http.close()
    _config_state.pop("state", None)
    _SIGNINS.clear()
    if _is_worker(config):
        return
    alluredir = config.getoption("--alluredir", None)
    if alluredir:
        polish_allure(Path(alluredir), state, state.param_names)
    for option in ("--alluredir", "--junitxml"):
        target = config.getoption(option, None)
        if target:
            redact_tree(Path(target))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`service` cases come from the profile's [[services]] (one case per service)."""
    if "sso_client" in metafunc.fixturenames:
        _parametrize_sso_clients(metafunc)
    is_check = metafunc.definition.get_closest_marker("oauth_check") is not None
    if "service" not in metafunc.fixturenames or not is_check:  # leave other tests' `service` alone
        return
    state = metafunc.config.stash.get(STATE, None)
    names = [s["name"] for s in state.profile.data.get("services", [])] if state else []
    metafunc.parametrize("service", names or ["none"])


def _parametrize_sso_clients(metafunc: pytest.Metafunc) -> None:
    """`sso_client` cases come from the profile's [[sso_clients]] (one case per client)."""
    state = metafunc.config.stash.get(STATE, None)
    names = [c["name"] for c in state.profile.data.get("sso_clients", [])] if state else []
    metafunc.parametrize("sso_client", names or ["none"])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Controller side of --workers: add a finished worker's requests and secrets."""
    del error
    state = _config_state.get("state")
    data = getattr(node, "workeroutput", {}).get("oauth")
    if state is None or not data:
        return
    state.other_requests += int(data["requests"])
    state.other_token_requests += int(data["token_requests"])
    state.other_rate_limit_waited_s += float(data.get("rate_limit_waited_s", 0))
    REDACTOR.add(*data["secrets"])
    if data.get("rate_limited") and data["rate_limited"] not in state.notes:
        state.notes.append(data["rate_limited"])
    if data.get("broken") and state.exit_code is None:
        state.exit_code, state.exit_message = EXIT_UNREACHABLE, str(data["broken"])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Controller side of --workers: fetch the shared tokens once and hand them to every worker
    (in memory, over execnet), instead of each worker asking the token endpoint again."""
    node.workerinput["oauth_loadgroup"] = node.config.getvalue("dist") == "loadgroup"
    state = _config_state.get("state")
    if state is None or state.tokens is None or state.exit_code is not None:
        return
    if state.shared_tokens is None:
        state.shared_tokens = export_shared(state.tokens)
    node.workerinput["oauth_shared_tokens"] = state.shared_tokens
