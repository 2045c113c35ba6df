"""The suite proves itself: against every fault of the reference instance, the real command line
fails exactly the checks the fault table says it must (``catches``), and nothing else but the
fault's declared ``collateral``; against the clean instance, with every profile overlay a fault
uses, nothing fails.

The runs are independent instances (own ports, state, databases) on a thread pool
(``FAULT_MATRIX_WORKERS``, default 4), shared with tests/test_concurrency.py (tests/suite_runs.py);
the time the whole matrix took is printed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance._lib.profile import profile_from_data
from conformance._lib.registry import AREAS
from conformance.reference.faults import FAULTS, UNKILLABLE, Fault
from conformance.selftest.mutation import (
    FaultRun,
    MutationReport,
    cause_problems,
    check_ids,
    expected_exit,
    to_toml,
)
from tests.conftest import run_cli
from tests.suite_runs import MATRIX_CONCURRENCY, WORKERS, clean_variants

LEVELS = check_ids()
NAMES = [fault.name for fault in FAULTS]


@pytest.fixture(scope="module")
def matrix(suite_runs: Any, request: pytest.FixtureRequest) -> dict[str, FaultRun]:
    wanted = _runs_wanted(request.session.items)
    started = time.monotonic()
    runs = suite_runs.runs(sorted(wanted), MATRIX_CONCURRENCY)
    elapsed = time.monotonic() - started
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nfault matrix: {len(set(runs) & set(NAMES))} faults + "
                f"{len(set(runs) - set(NAMES))} clean runs at --concurrency {MATRIX_CONCURRENCY} "
                f"in {elapsed:.0f} s with {WORKERS} workers (runs the concurrency comparison made "
                "before are reused)"
            )
    return runs


def _runs_wanted(items: list[pytest.Item]) -> set[str]:
    """The runs the selected tests read (`-k no-hsts` starts one instance, not the whole matrix)."""
    wanted: set[str] = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or module.__name__ != __name__:
            continue
        if item.name == "test_mutation_report_from_the_matrix":
            wanted |= set(NAMES)
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        if isinstance(params.get("fault"), Fault):
            wanted.add(params["fault"].name)
        elif isinstance(params.get("name"), str):
            wanted.add(params["name"])
    return wanted


def _cases(run: FaultRun, check_ids: list[str]) -> str:
    """What the suite said about these checks, case by case, for an assertion message."""
    lines = [
        f"  {case}: {message[:400]}"
        for case, message in run.outcomes.items()
        if any(case == c or case.startswith(c + "[") for c in check_ids)
    ]
    return "\n".join(lines) + f"\n(suite seed {run.seed}; repeat with --seed {run.seed})"


# The fault table, on its own -----------------------------------------------------------------------


def test_fault_table_is_well_formed() -> None:
    assert len(FAULTS) >= 30
    assert len(set(NAMES)) == len(NAMES)
    for fault in FAULTS:
        assert fault.area in AREAS, fault.name
        assert fault.description.endswith("."), fault.name
        assert fault.catches or fault.unreachable, f"{fault.name} catches nothing"
        assert not fault.unreachable or fault.tls, f"{fault.name}: only a TLS front can be unreachable"
        unknown = [c for c in [*fault.catches, *fault.collateral] if c not in LEVELS]
        assert not unknown, f"{fault.name}: unknown check ids {unknown}"
        assert not set(fault.catches) & set(fault.collateral), fault.name
        assert not set(fault.catches) & set(UNKILLABLE), fault.name
        assert all(reason for reason in fault.collateral.values()), fault.name


def test_every_area_has_faults() -> None:
    assert {fault.area for fault in FAULTS} == set(AREAS)
    # Transport faults live in the TLS front (`serve --tls`), and only there.
    assert {fault.area for fault in FAULTS if fault.tls} == {"transport"}


def test_every_killable_check_is_some_faults_catch() -> None:
    caught = {c for fault in FAULTS for c in fault.catches}
    assert set(UNKILLABLE) <= set(LEVELS)
    assert sorted(set(LEVELS) - caught - set(UNKILLABLE)) == []


def test_faults_fail_a_run_unless_only_may_checks_catch_them() -> None:
    may_only = [fault.name for fault in FAULTS if expected_exit(fault, LEVELS) == 0]
    for name in may_only:
        assert {LEVELS[c] for c in next(f for f in FAULTS if f.name == name).catches} == {"MAY"}
    # A MAY-only fault is recorded, never gates a deployment: keep them the exception.
    # user-api-cacheable: the advisory's fix is not in the sources, so its check is MAY
    # (docs/clauses.md#cve-2025-65681).
    assert may_only == ["gateway-path-alias", "user-api-cacheable"]


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.profile], ids=lambda f: f.name)
def test_profile_overlays_are_valid_profile_keys(fault: Fault, tmp_path: Path) -> None:
    from conformance.selftest.mutation import merge_overlay

    base = {
        "name": "reference",
        "base_url": "http://127.0.0.1:8000",
        "client": {"id": "x", "secret": "y"},
        "services": [{"name": "discovery", "base_url": "http://127.0.0.1:8001", "probe": "/p"}],
    }
    data = merge_overlay(base, fault.profile)
    profile_from_data(data, env={})
    (tmp_path / "profile.toml").write_text(to_toml(data))
    import tomllib

    assert tomllib.loads((tmp_path / "profile.toml").read_text()) == data


# The matrix ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(clean_variants()))
def test_clean_instance_fails_nothing(matrix: dict[str, FaultRun], name: str) -> None:
    run = matrix[name]
    assert run.problem is None, run.problem
    assert run.failed == {}, _cases(run, list(run.failed))
    assert run.exit_code == 0, run.console[-3000:]


@pytest.mark.parametrize("fault", FAULTS, ids=NAMES)
def test_fault_is_caught_by_its_checks_and_only_those(matrix: dict[str, FaultRun], fault: Fault) -> None:
    run = matrix[fault.name]
    assert run.problem is None, run.problem
    if fault.unreachable:
        # Nothing can talk to the instance: one message naming the cause, no check run.
        assert (run.exit_code, run.failed) == (3, {}), run.console[-3000:]
        assert fault.unreachable in run.unreachable, run.console[-3000:]
        assert run.console.count("instance unreachable") == 1, run.console[-3000:]
        return
    # A catch blocked by a control that failed in the run was caught by that control.
    missed = [c for c in fault.catches if c not in run.failed and c not in run.blocked]
    assert not missed, f"{fault.name} went unnoticed by {missed}:\n{_cases(run, missed)}"
    unexpected = sorted(set(run.failed) - set(fault.catches) - set(fault.collateral))
    assert not unexpected, f"{fault.name} also failed {unexpected}:\n{_cases(run, unexpected)}"
    assert run.exit_code == expected_exit(fault, LEVELS), run.console[-3000:]


@pytest.mark.parametrize("fault", [f for f in FAULTS if not f.unreachable], ids=lambda f: f.name)
def test_fault_is_named_first_among_at_most_two_causes(matrix: dict[str, FaultRun], fault: Fault) -> None:
    """The console and summary.json lead with the fault's cause (`cause` in the fault table), and a
    fault is at most two findings to fix."""
    run = matrix[fault.name]
    assert run.problem is None, run.problem
    problems = cause_problems(fault, run)
    assert not problems, f"{fault.name}: {problems}; causes {run.cause_ids}"
    first = run.causes[0]
    assert first["fix"] and run.console.count(f"] {first['id']}: ") == 1, run.console[-3000:]


def test_mutation_report_from_the_matrix(matrix: dict[str, FaultRun]) -> None:
    report = MutationReport({name: matrix[name] for name in NAMES}, LEVELS)
    assert report.killed == NAMES
    assert report.unkilled == []
    assert report.mismatches() == {}
    assert report.ok
    assert all(report.killers[c] for c in report.killable)


# The mutation-score command ------------------------------------------------------------------------


def test_mutation_score_command_reports_in_json(tmp_path: Path) -> None:
    result = run_cli(
        ["reference", "mutation-score", "--format", "json", "--workers", "2", "--fault", "no-pragma"],
        timeout=600,
    )
    assert result.code == 0, result.console[-3000:]
    report = json.loads(result.out)
    assert (report["faults_total"], report["faults_killed"], report["faults_failing_run"]) == (1, 1, 1)
    assert report["killers"]["response-schema.pragma.no-cache"] == ["no-pragma"]
    assert report["unkillable"] == UNKILLABLE
    assert report["mismatches"] == {}
    assert "[1/1] no-pragma: killed" in result.err


def test_mutation_score_text_names_unkillable_checks_and_reasons() -> None:
    runs = {
        "no-pragma": FaultRun(("no-pragma",), 1, failed={"response-schema.pragma.no-cache": ["x"]}),
        "wrong-issuer": FaultRun(("wrong-issuer",), 0),
    }
    report = MutationReport(runs, LEVELS, seconds=3, workers=2)
    text = report.as_text()
    assert text.startswith("mutation score: 1/2 faults killed")
    assert "SURVIVED wrong-issuer" in text
    for check_id, reason in UNKILLABLE.items():
        assert check_id in text and reason in text
    assert "wrong-issuer: missed: jwt.claims.iss, resources.services.accept-jwt" in text
    assert not report.ok


def test_mutation_score_refuses_unknown_faults() -> None:
    result = run_cli(["reference", "mutation-score", "--fault", "no-such-fault"])
    assert result.code == 2
    assert "unknown fault 'no-such-fault'" in result.err


# Positive controls ---------------------------------------------------------------------------------

# A profile key that is not the instance's: the checks that forge or re-sign with it are blocked
# by the key's control or not verified (naming the key), never passed, while the resource bug beside
# it would have let a token made with the right key through.
STALE_KEY_DEPENDENTS: dict[str, tuple[str, list[str]]] = {
    "hs256-secret-stale": (
        "jwt.hs256_secret",
        [
            "resources.jwt.wrong-audience",
            "resources.jwt.wrong-issuer",
            "jwt-attacks.expired[resigned-expired]",
            "jwt-attacks.expired[resigned-no-exp]",
            "jwt.signature.verifies[default]",
            "jwt.signature.verifies[password]",
            "jwt.signature.verifies[refresh]",
        ],
    ),
    "jwks-stale": (
        "jwt.jwks",
        [
            "jwt-attacks.key-confusion[hs256-public-pem]",
            "jwt-attacks.key-confusion[hs512-public-pem]",
            "jwt-attacks.key-confusion[hs256-public-jwk]",
            "jwt.signature.verifies[asymmetric]",
        ],
    ),
}


@pytest.mark.parametrize("fault", list(STALE_KEY_DEPENDENTS))
def test_stale_profile_keys_leave_dependents_not_verified(matrix: dict[str, FaultRun], fault: str) -> None:
    run = matrix[fault]
    assert run.problem is None, run.problem
    key, cases = STALE_KEY_DEPENDENTS[fault]
    for case in cases:
        # summary.json keeps the kind and key apart (skip_kind, skip_key); the message names the key.
        assert run.outcomes[case].startswith("skipped: ") and key in run.outcomes[case], _cases(run, [case])
    check = f"jwt.profile-keys.{'hs256-secret' if key == 'jwt.hs256_secret' else 'jwks'}"
    assert f"{key} does not verify the instance's" in run.outcomes[check], _cases(run, [check])
