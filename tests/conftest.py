"""Shared fixtures for the project's own tests: the reference instance and running the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Modules that share the reference runs of tests/suite_runs.py: one worker runs them all.
SHARING_RUNS = {"test_fault_matrix", "test_concurrency"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist's loadgroup (bin/test's whole run), a module's tests stay in one worker:
    their module fixtures start instances and servers once, not once per worker."""
    for item in items:
        module = getattr(item, "module", None)
        name = (module.__name__ if module is not None else item.nodeid.split("::")[0]).rsplit(".", 1)[-1]
        item.add_marker(pytest.mark.xdist_group("suite-runs" if name in SHARING_RUNS else name))


# A profile with only what the schema requires, its client credentials from MINIMAL_ENV.
MINIMAL_PROFILE = """
name = "p"
base_url = "http://127.0.0.1:8000"
[client]
id = "${CID}"
secret = "${CSECRET}"
"""
MINIMAL_ENV = {"CID": "client", "CSECRET": "the-secret-value-xyz"}


def write_profile(tmp_path: Path, text: str) -> Path:
    """``text`` as the profile file p.toml in ``tmp_path``."""
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    seconds: float
    report_dir: Path

    @property
    def console(self) -> str:
        return self.out + self.err

    def summary(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "summary.json").read_text(encoding="utf-8"))


def run_captured(
    argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """A command in a fresh process with its output captured as text; the caller judges its status."""
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False
    )


def run_cli(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    report_dir: Path | None = None,
    timeout: float = 300,
    cwd: Path | None = None,
) -> CliResult:
    """The real command in a fresh process, as an operator or a CI job runs it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDX_")}
    full_env.update(env or {})
    argv = [sys.executable, "-m", "conformance", *args]
    if report_dir is not None:
        argv += ["--report-dir", str(report_dir)]
    started = time.monotonic()
    proc = run_captured(argv, env=full_env, cwd=cwd or ROOT, timeout=timeout)
    return CliResult(
        proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, report_dir or ROOT / "reports"
    )


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """One clean reference instance with the stock rate limit, shared by the read-only tests."""
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path_factory.mktemp("reference")) as ref:
        yield ref


@pytest.fixture(scope="module")
def generous_reference(tmp_path_factory):
    """A clean reference instance with token-endpoint and login rate limits no run reaches: for full
    runs (several a minute, sign-ins included) that must not spend the shared instance's (stock)
    limits."""
    from conformance.reference.launcher import running_reference
    from conformance.selftest.mutation import GENEROUS_RATE

    state = tmp_path_factory.mktemp("generous")
    with running_reference(state_dir=state, rate_limit=GENEROUS_RATE, login_rate_limit=GENEROUS_RATE) as ref:
        yield ref


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory):
    """The reference runs the fault matrix and the concurrency comparison share (tests/suite_runs.py)."""
    pytest.importorskip("django")
    from tests.suite_runs import SuiteRuns

    return SuiteRuns(tmp_path_factory.mktemp("suite-runs"))
