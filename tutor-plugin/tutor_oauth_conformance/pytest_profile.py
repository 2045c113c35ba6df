"""The pytest side of the Tutor plugin: the profile comes from the environment Tutor gives pytest.

Loaded with `-p` (the Tutor plugin puts it in PYTEST_ADDOPTS for `do tests` runs). Before the suite's
own plugin reads `--oauth-profile`, it writes the profile Tutor's variables describe and points the
run's summary, JUnit XML and Allure results at the report folder in Tutor's root.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from conformance._lib.envprofile import ENV, EnvProfileError, env_profile_data, write_env_profile

_REPORT_DIR = pytest.StashKey[Path]()
# Tutor may run other suites (its smoke tests) in the same pytest session: their failures must still
# fail the run, whatever the conformance verdict says.
_other_failures: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _other_failures.clear()  # one pytest session per process, but pytest.main may run again
    if config.getoption("--oauth-profile", None):
        return  # an explicit profile wins
    try:
        name = env_profile_data(os.environ)["name"]
        report_dir = Path(os.environ.get(ENV["report_dir"]) or "reports") / name
        path = write_env_profile(os.environ, report_dir)
    except EnvProfileError as exc:
        raise pytest.UsageError(f"oauth-conformance: {exc}") from None
    option = config.option
    config.stash[_REPORT_DIR] = report_dir
    option.oauth_profile = str(path)
    option.oauth_summary = getattr(option, "oauth_summary", None) or str(report_dir / "summary.json")
    if getattr(option, "allure_report_dir", None) is None:
        option.allure_report_dir = str(report_dir / "allure-results")
        option.clean_alluredir = True
    if not getattr(option, "xmlpath", None):
        option.xmlpath = str(report_dir / "junit.xml")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and not any(key == "check_id" for key, _ in report.user_properties):
        _other_failures.append(report.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    result = yield
    if _other_failures and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result


@pytest.hookimpl(wrapper=True)
def pytest_unconfigure(config: pytest.Config) -> Generator[None, None, None]:
    """The HTML report, as `openedx-oauth-conformance run` renders it, once every plugin (the
    suite's redaction of allure-results included) is done; without Node, the results stay."""
    result = yield
    report_dir = config.stash.get(_REPORT_DIR, None)
    if report_dir is not None and (report_dir / "allure-results").is_dir():
        from conformance.html import render_html

        render_html(
            report_dir / "allure-results",
            report_dir / "html",
            name=f"Open edX OAuth conformance: {report_dir.name}",
            history=report_dir / "history.jsonl",
        )
    return result
