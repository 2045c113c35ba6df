"""The reports people read, rendered in a real browser (headless Chromium): the single-file Allure
report opens from disk with its areas, checks and counts; the comparison shows what differs first."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conformance._lib.registry import AREAS
from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
FAULT = "no-cache-headers"


def browse(page: Path, *, screenshot: Path | None = None) -> str:
    """The DOM after the page's scripts ran (virtual time lets the Allure app render)."""
    with tempfile.TemporaryDirectory() as profile_dir:
        argv = [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile_dir}",
            "--virtual-time-budget=10000",
            "--window-size=1400,1000",
        ]
        if screenshot is not None:
            subprocess.run(
                [*argv, f"--screenshot={screenshot}", page.as_uri()],
                capture_output=True,
                timeout=120,
                check=False,
            )
        proc = subprocess.run(
            [*argv, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False
        )
    return proc.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp("reports")
    results = {}
    for name, faults in (("clean", []), ("fault", [FAULT])):
        with running_reference(state_dir=tmp / f"state-{name}", faults=faults, rate_limit="100000/m") as ref:
            results[name] = run_cli(
                ["run", "--profile", str(ref.profile_path)], env=ref.env, report_dir=tmp / name
            )
    return tmp, results


def test_single_file_report_renders_from_disk(runs):
    tmp, results = runs
    index = tmp / "clean" / "html" / "index.html"
    assert index.exists(), results["clean"].console[-2000:]
    html = index.read_text()
    assert "googletagmanager" not in html and "gtag(" not in html
    dom = browse(index, screenshot=tmp / "clean-report.png")
    summary = results["clean"].summary()
    for area in AREAS:
        assert f">{area}<" in dom, area
    assert "Open edX OAuth conformance: reference" in dom
    assert f">{len(summary['checks'])}<" in dom  # the total
    assert f">{summary['counts']['passed']}<" in dom
    assert (tmp / "clean-report.png").stat().st_size > 10_000


def test_failures_are_categorised(runs):
    tmp, results = runs
    assert results["fault"].code == 1
    categories = json.loads((tmp / "fault" / "allure-results" / "categories.json").read_text())
    assert any(c["name"] == "Missing security header" for c in categories)
    html = (tmp / "fault" / "html" / "index.html").read_text()
    assert "googletagmanager" not in html


def test_comparison_shows_exactly_the_differences_first(runs, tmp_path):
    tmp, results = runs
    out = tmp_path / "comparison"
    compared = run_cli(["compare", str(tmp / "clean"), str(tmp / "fault"), "--out", str(out)])
    assert compared.code == 0, compared.console
    failed = {c["id"] for c in results["fault"].summary()["checks"] if c["outcome"] == "failed"}
    assert failed and all(
        i.startswith(("response-schema.cache-control", "response-schema.pragma")) for i in failed
    )

    data = json.loads((out / "comparison.json").read_text())
    differing = [c["id"] for c in data["checks"] if c["differs"]]
    assert set(differing) == failed
    assert [c["id"] for c in data["checks"][: len(differing)]] == differing  # differences first

    markdown = (out / "comparison.md").read_text()
    assert f"{len(failed)} of {len(data['checks'])} check cases differ" in markdown
    first_rows = [line for line in markdown.splitlines() if line.startswith("| `")][: len(failed)]
    assert all("(differs)" in row and "**FAIL**" in row for row in first_rows)

    dom = browse(out / "comparison.html", screenshot=tmp / "comparison.png")
    rows = dom.split('<tr class="')[1:]
    assert [r.startswith("differs") for r in rows] == [True] * len(failed) + [False] * (
        len(rows) - len(failed)
    )
    for check_id in failed:
        assert check_id in dom
    assert f"{len(failed)} of {len(data['checks'])} check cases differ" in dom
