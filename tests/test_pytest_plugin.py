"""The checks from plain pytest, through the `openedx_oauth_conformance` pytest11 entry point.

Each run is a fresh `python -m pytest` in a temporary folder (pytester), as an operator's would be:
`--pyargs conformance.checks --oauth-profile P` against the reference instance; no profile is a
usage error (exit 4), also under `-n`; `-k`, node ids, `--lf` and `-n` select and run as pytest
users expect; `--oauth-report-dir` writes what `run --report-dir` writes; and a pytest run of other
tests is left alone, with the plugin loaded or turned off with `-p no:openedx_oauth_conformance`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

from conformance._standalone import CHECKS_DIR
from conformance.reference.launcher import RunningReference, running_reference
from tests.conftest import ROOT, run_cli

NO_PROFILE_LINE = "ERROR: the Open edX OAuth conformance checks need a profile: give --oauth-profile PATH*"


@pytest.fixture(scope="module")
def ref(generous_reference: RunningReference) -> RunningReference:
    """Several full runs a minute: the stock 120/m token-endpoint limit would skip checks."""
    return generous_reference


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReference]:
    state = tmp_path_factory.mktemp("faulty")
    with running_reference(
        state_dir=state, faults=["no-cache-headers"], rate_limit="100000/m", login_rate_limit="100000/m"
    ) as running:
        yield running


@pytest.fixture
def env_of(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The instance's secrets in the environment of the pytest runs (the profile names ${VAR}s)."""

    def apply(instance: RunningReference) -> RunningReference:
        for name, value in instance.env.items():
            monkeypatch.setenv(name, value)
        return instance

    return apply


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=300)


def run_checks(pytester: pytest.Pytester, instance: RunningReference, *args: str) -> pytest.RunResult:
    """The checks under plain pytest against `instance`: `--pyargs conformance.checks --oauth-profile P`."""
    profile = str(instance.profile_path)
    return run(pytester, "--pyargs", "conformance.checks", "--oauth-profile", profile, *args)


def summary(report_dir: Path) -> dict[str, Any]:
    return json.loads((report_dir / "summary.json").read_text())


def outcomes(report_dir: Path) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in summary(report_dir)["checks"]}


# No profile --------------------------------------------------------------------------------------


def test_checks_without_a_profile_are_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--pyargs", "conformance.checks")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([NO_PROFILE_LINE])
    assert "skipped" not in result.stdout.str()


def test_checks_without_a_profile_are_a_usage_error_under_xdist(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--pyargs", "conformance.checks", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([NO_PROFILE_LINE])


def test_collect_only_lists_the_checks_without_a_profile(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--pyargs", "conformance.checks", "--collect-only", "-q")
    assert result.ret == 0
    collected = re.search(r"(\d+) tests collected", result.stdout.str())
    assert collected and int(collected.group(1)) >= 100, result.stdout.str()[-500:]


# Runs against the reference instance ------------------------------------------------------------


def test_pyargs_run_writes_what_run_writes_with_the_same_outcomes(
    pytester: pytest.Pytester, ref: RunningReference, env_of: Any, tmp_path: Path
) -> None:
    env_of(ref)
    result = run_checks(pytester, ref, "--oauth-report-dir", "report")
    report = pytester.path / "report"
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert (report / "junit.xml").is_file()
    results = list((report / "allure-results").glob("*-result.json"))
    assert len(results) == len(summary(report)["checks"])
    result.stdout.fnmatch_lines([f"HTML report: openedx-oauth-conformance render {report.resolve()}"])
    secrets = [ref.env[n] for n in ("EDX_OAUTH_CLIENT_SECRET", "EDX_TEST_PASSWORD", "EDX_JWT_SECRET")]
    written = [p.read_text(errors="replace") for p in report.rglob("*") if p.is_file()]
    for text in [result.stdout.str(), result.stderr.str(), *written]:
        assert not [s for s in secrets if s in text]  # redacted as in `run`'s artifacts
    cli = run_cli(["run", "--profile", str(ref.profile_path), "--no-html"], env=ref.env, report_dir=tmp_path)
    assert cli.code == 0, cli.console[-2000:]
    assert summary(report)["counts"] == cli.summary()["counts"]
    assert outcomes(report) == outcomes(tmp_path)


def test_keyword_selects_checks(pytester: pytest.Pytester, ref: RunningReference, env_of: Any) -> None:
    env_of(ref)
    result = run_checks(
        pytester, ref, "--oauth-report-dir", "report", "-k", "test_jwt and (test_issuer or test_audience)"
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    ids = outcomes(pytester.path / "report")
    assert ids and {i.split("[")[0] for i in ids} == {"jwt.claims.iss", "jwt.claims.aud"}, ids
    assert set(ids.values()) == {"passed"}


def test_node_ids_select_checks_and_cases(
    pytester: pytest.Pytester, ref: RunningReference, env_of: Any
) -> None:
    env_of(ref)
    jwt_module = CHECKS_DIR / "test_jwt.py"
    result = run(
        pytester, f"{jwt_module}::test_openedx_claims[default]", f"{jwt_module}::test_jwks_public_only",
        "--oauth-profile", str(ref.profile_path), "--oauth-report-dir", "report",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=2)
    expected = {"jwt.claims.openedx[default]", "jwt.jwks.public-only"}
    assert set(outcomes(pytester.path / "report")) == expected


def test_last_failed_reruns_the_failed_checks_only(
    pytester: pytest.Pytester, faulty: RunningReference, env_of: Any
) -> None:
    env_of(faulty)
    first = run_checks(pytester, faulty, "--oauth-select", "response-schema", "--oauth-report-dir", "first")
    assert first.ret == 1, first.stdout.str()[-3000:]
    failed = sorted(i for i, o in outcomes(pytester.path / "first").items() if o == "failed")
    assert failed and len(failed) < len(outcomes(pytester.path / "first"))
    again = run_checks(
        pytester, faulty, "--oauth-select", "response-schema", "--oauth-report-dir", "again", "--lf"
    )
    assert again.ret == 1
    again.stdout.fnmatch_lines([f"run-last-failure: rerun previous {len(failed)} failure*"])
    assert sorted(outcomes(pytester.path / "again")) == failed


def test_xdist_gives_the_same_outcomes_as_one_process(
    pytester: pytest.Pytester, ref: RunningReference, env_of: Any
) -> None:
    env_of(ref)
    common = ["--oauth-select", "token-endpoint", "--oauth-select", "jwt"]
    one = run_checks(pytester, ref, *common, "--oauth-report-dir", "one")
    two = run_checks(pytester, ref, *common, "--oauth-report-dir", "two", "-n", "2")
    assert one.ret == 0, one.stdout.str()[-3000:]
    assert two.ret == 0, two.stdout.str()[-3000:]
    assert "2 workers" in two.stdout.str()
    assert outcomes(pytester.path / "two") == outcomes(pytester.path / "one")
    assert len(list((pytester.path / "two" / "allure-results").glob("*-result.json"))) == len(
        outcomes(pytester.path / "one")
    )


# Other pytest runs --------------------------------------------------------------------------------

OTHER_TESTS = """
import pytest

@pytest.fixture(params=["a", "b"])
def service(request):
    return request.param

def test_service(service):
    assert service in "ab"

def test_shows_its_own_values():
    assert "password=hunter2-not-a-secret" == ""
"""


@pytest.mark.parametrize("plugin", ["loaded", "off"])
def test_other_test_runs_are_left_alone(pytester: pytest.Pytester, plugin: str) -> None:
    pytester.makepyfile(test_other=OTHER_TESTS)
    args = ["-p", "no:openedx_oauth_conformance"] if plugin == "off" else []
    result = run(pytester, *args)
    result.assert_outcomes(passed=2, failed=1)  # `service` is this project's fixture, not a check's
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "password=hunter2-not-a-secret" in out  # no redaction of other projects' output
    assert "oauth profile" not in out and "oauth report" not in out
    options = run(pytester, *args, "--help").stdout.str()
    assert ("--oauth-profile" in options) == (plugin == "loaded")
    assert ("--oauth-report-dir" in options) == (plugin == "loaded")


def test_checkout_conftest_loads_the_plugin_when_autoload_is_off() -> None:
    """From the checkout, `pytest conformance/checks` has the options even with plugin autoload off
    (the root conftest registers the plugin once; the entry point and it never both do)."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    for extra in ([], ["-p", "openedx_oauth_conformance"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *extra, "conformance/checks", "--oauth-profile", "absent.toml"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "profile error: absent.toml" in proc.stderr, proc.stderr[-2000:]
