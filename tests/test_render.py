"""Finding Allure and rendering later: $OPENEDX_CONFORMANCE_ALLURE, the checkout's node_modules, the
working folder's, an Allure 3 on PATH (never Allure 2), `npx allure@<pinned>`; without any, the run
prints the exact `openedx-oauth-conformance render REPORT_DIR` command, which makes the same
single-file report."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

from conformance import html
from conformance.html import ALLURE_ENV, ALLURE_VERSION, allure_binary, allure_command, render_command
from tests.conftest import ROOT, run_cli

CHECKOUT_ALLURE = ROOT / "node_modules" / ".bin" / "allure"
needs_allure = pytest.mark.skipif(
    shutil.which("node") is None or not CHECKOUT_ALLURE.exists(), reason="Node or `npm ci` missing"
)


def fake_tool(folder: Path, name: str, prints: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\necho {shlex.quote(prints)}\n")
    tool.chmod(0o755)
    return tool


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """As from a wheel: no checkout node_modules, an empty working folder, PATH with a fake node."""
    monkeypatch.setattr(html, "CHECKOUT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ALLURE_ENV, raising=False)
    tools = tmp_path / "bin"
    fake_tool(tools, "node")
    monkeypatch.setenv("PATH", str(tools))
    return tools


def test_pinned_version_is_package_json_s() -> None:
    assert json.loads((ROOT / "package.json").read_text())["dependencies"]["allure"] == ALLURE_VERSION


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tool = fake_tool(tmp_path, "my-allure", "3.18.0")
    monkeypatch.setenv(ALLURE_ENV, str(tool))
    assert allure_command() == ([str(tool)], str(tool))
    monkeypatch.setenv(ALLURE_ENV, str(tmp_path / "absent"))
    command, why = allure_command()
    assert command is None and ALLURE_ENV in why and "absent" in why


@needs_allure
def test_checkout_node_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLURE_ENV, raising=False)
    assert allure_binary() == CHECKOUT_ALLURE


def test_working_folder_node_modules(elsewhere: Path, tmp_path: Path) -> None:
    local = fake_tool(tmp_path / "node_modules" / ".bin", "allure", "3.18.0")
    assert allure_binary() == Path("node_modules/.bin/allure").absolute() == local


def test_allure3_on_path_but_never_allure2(elsewhere: Path) -> None:
    fake_tool(elsewhere, "allure", "2.27.0")
    assert allure_binary() is None
    fake_tool(elsewhere, "allure", "3.18.0")
    assert allure_binary() == elsewhere / "allure"


def test_npx_with_the_pinned_version(elsewhere: Path) -> None:
    assert allure_command()[0] is None
    npx = fake_tool(elsewhere, "npx")
    assert allure_command() == (
        [str(npx), "--yes", "--prefer-offline", f"allure@{ALLURE_VERSION}"],
        f"npx allure@{ALLURE_VERSION}",
    )


def test_nothing_found_says_how_to_render_later(elsewhere: Path, tmp_path: Path) -> None:
    (tmp_path / "r" / "allure-results").mkdir(parents=True)
    problem = html.render_html(tmp_path / "r" / "allure-results", tmp_path / "r" / "html", name="x")
    assert problem is not None and "Allure 3 is missing" in problem
    assert problem.endswith(f"render later with: openedx-oauth-conformance render {tmp_path / 'r'}")


def test_render_command_names_out_only_when_not_the_default(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert render_command([a], a / "html") == f"openedx-oauth-conformance render {a}"
    assert render_command([a, b], tmp_path / "combined-html") == f"openedx-oauth-conformance render {a} {b}"
    assert render_command([a], tmp_path / "x y").endswith(f"--out '{tmp_path / 'x y'}'")


@needs_allure
def test_run_without_allure_prints_the_command_that_renders_the_same_report(
    reference, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    argv = ["run", "--profile", str(reference.profile_path), "--select", "jwt.claims"]
    without = run_cli(argv, env={**reference.env, ALLURE_ENV: str(tmp_path / "absent")}, report_dir=report)
    assert without.code == 0, without.console[-2000:]
    assert not (report / "html").exists()
    later = without.console.split("render later with: ", 1)[1].splitlines()[0]
    assert later == f"openedx-oauth-conformance render {report}"
    rendered = run_cli(shlex.split(later)[1:])
    assert rendered.code == 0, rendered.console[-2000:]
    index = report / "html" / "index.html"
    assert rendered.out.strip() == f"report: {index}"
    page = index.read_text(encoding="utf-8")
    assert "googletagmanager" not in page and "Open edX OAuth conformance: reference" in page
    assert [p.name for p in (report / "html").iterdir() if p.suffix in {".js", ".css"}] == []  # one file
    assert len((report / "history.jsonl").read_text().splitlines()) == 1
    # Several report dirs: one combined report beside them, as `run --profile a --profile b` writes.
    other = tmp_path / "other"
    shutil.copytree(report / "allure-results", other / "allure-results")
    summary = json.loads((report / "summary.json").read_text())
    (other / "summary.json").write_text(json.dumps({**summary, "profile": "other"}))
    combined = run_cli(["render", str(report), str(other)])
    assert combined.code == 0, combined.console[-2000:]
    page = (tmp_path / "combined-html" / "index.html").read_text(encoding="utf-8")
    assert "Open edX OAuth conformance: reference vs other" in page


@needs_allure
def test_render_of_a_rendered_report_keeps_one_history_line_per_run(reference, tmp_path: Path) -> None:
    """`render` of a report `run` already rendered re-renders the same run: history.jsonl (the
    report's trends) keeps one line for it; a new run adds one."""
    report = tmp_path / "report"
    argv = ["run", "--profile", str(reference.profile_path), "--select", "jwt.claims.iss"]
    first = run_cli(argv, env=reference.env, report_dir=report)
    assert first.code == 0, first.console[-2000:]
    history = report / "history.jsonl"
    assert len(history.read_text().splitlines()) == 1
    for _ in range(2):
        rendered = run_cli(["render", str(report)])
        assert rendered.code == 0, rendered.console[-2000:]
        assert len(history.read_text().splitlines()) == 1, history.read_text()[:2000]
    second = run_cli(argv, env=reference.env, report_dir=report)
    assert second.code == 0, second.console[-2000:]
    assert len(history.read_text().splitlines()) == 2
    assert run_cli(["render", str(report)]).code == 0
    assert len(history.read_text().splitlines()) == 2


def test_render_needs_a_report_dir(tmp_path: Path) -> None:
    result = run_cli(["render", str(tmp_path)])
    assert result.code == 2
    assert f"{tmp_path} has no allure-results/" in result.err
