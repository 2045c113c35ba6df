"""Plain-pytest use of the checks (`pytest --pyargs conformance.checks --oauth-profile P`).

What `run` does that pytest alone would not: `--oauth-report-dir` (summary.json, junit.xml and
allure-results/ in one folder, as `run --report-dir` writes them) and the command that renders the
HTML report from it; and collecting the checks without `--oauth-profile` is a usage error (pytest's
exit 4, one line naming the option) instead of a run of skips. A pytest run that collects no check
is left alone. `conformance.plugin` registers this module (its `pytest_plugins`), however the plugin
itself was loaded: the `openedx_oauth_conformance` entry point, `-p`, or a conftest.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import conformance.checks

__all__ = ["CHECKS_DIR", "NO_PROFILE"]

CHECKS_DIR = Path(conformance.checks.__file__).resolve().parent
NO_PROFILE = (
    "the Open edX OAuth conformance checks need a profile: give --oauth-profile PATH "
    "(the instance's profile TOML); --collect-only lists them without one"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oauth", "Open edX OAuth conformance")
    group.addoption(
        "--oauth-report-dir",
        metavar="DIR",
        help="write summary.json, junit.xml and allure-results/ here, as `run --report-dir` does "
        "(then `openedx-oauth-conformance render DIR` makes the HTML report)",
    )


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # a pytest-xdist worker


def report_dir(config: pytest.Config) -> Path | None:
    value = config.getoption("--oauth-report-dir", None)
    return config.invocation_params.dir / value if value else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """--oauth-report-dir fills in the options it stands for (those given explicitly win), before
    the junitxml and allure plugins read them."""
    directory = report_dir(config)
    if directory is None:
        return
    option = config.option
    if not getattr(option, "oauth_summary", None):
        option.oauth_summary = str(directory / "summary.json")
    if not getattr(option, "xmlpath", None):
        option.xmlpath = str(directory / "junit.xml")
    if not getattr(option, "allure_report_dir", None):
        option.allure_report_dir = str(directory / "allure-results")
        # Only the controller starts afresh: an xdist worker that starts late must not delete
        # what the others already wrote.
        option.clean_alluredir = not _is_worker(config)
    if not _is_worker(config):
        Path(option.oauth_summary).unlink(missing_ok=True)  # never report an earlier run's result


def _needs_profile(config: pytest.Config) -> bool:
    return (
        not config.getoption("--oauth-profile", None)
        and not config.option.collectonly
        and not _is_worker(config)  # the controller decides (below), once
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _needs_profile(config) and any(item.get_closest_marker("oauth_check") for item in items):
        raise pytest.UsageError(NO_PROFILE)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Under `-n`, the controller collects nothing itself: it judges the node ids a worker sent."""
    config: pytest.Config = node.config
    if _needs_profile(config) and any(_is_check(nodeid) for nodeid in ids):
        raise pytest.UsageError(NO_PROFILE)


def _is_check(nodeid: str) -> bool:
    # Worker node ids are relative to where the worker collected from, so they are matched by file
    # name and function name against the check modules, not by folder.
    parts = nodeid.split("::")
    return (Path(parts[0]).name, parts[-1].split("[", 1)[0]) in _check_functions()


@functools.cache
def _check_functions() -> frozenset[tuple[str, str]]:
    found = set()
    for info in pkgutil.iter_modules([str(CHECKS_DIR)]):
        if info.name.startswith("test_"):
            module = importlib.import_module(f"conformance.checks.{info.name}")
            found |= {(f"{info.name}.py", n) for n, fn in vars(module).items() if hasattr(fn, "oauth_check")}
    return frozenset(found)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    directory = report_dir(config)
    if directory is None or _is_worker(config) or not config.getoption("--oauth-profile", None):
        return
    shown = directory.resolve()
    terminalreporter.write_line(f"oauth report: {shown}/ (summary.json, junit.xml, allure-results/)")
    terminalreporter.write_line(f"HTML report: openedx-oauth-conformance render {shown}")
