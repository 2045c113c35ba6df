"""What Allure shows: a clean run puts nothing in the Categories tab, a failing run files every
failure under a category, and messages carry no internal class name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.allure_tidy import tidy
from conformance.html import allure_categories
from tests.conftest import run_cli

pytest.importorskip("django")

FAULT = "no-pragma"


def results(report_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (report_dir / "allure-results").glob("*-result.json")]


def categories_of(result: dict[str, Any]) -> list[str]:
    """The categories Allure 3 files a result under (its matcher: statuses, label regexes and a
    message regex, each a JavaScript RegExp.test, that is a search)."""
    found = []
    message = (result.get("statusDetails") or {}).get("message") or ""
    for rule in allure_categories():
        matcher = rule["matchers"]
        if result["status"] not in matcher["statuses"]:
            continue
        labels = matcher.get("labels", {})
        if any(
            not any(re.search(rx, lb["value"]) for lb in result["labels"] if lb["name"] == name)
            for name, rx in labels.items()
        ):
            continue
        if "message" in matcher and not re.search(matcher["message"], message):
            continue
        found.append(rule["name"])
    return found


@pytest.fixture(scope="module")
def runs(reference, tmp_path_factory) -> dict[str, Path]:
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp("allure")
    clean = run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html"],
        env=reference.env,
        report_dir=tmp / "clean",
    )
    assert clean.code == 0, clean.console[-2000:]
    with running_reference(state_dir=tmp / "state", faults=[FAULT], rate_limit="100000/m") as ref:
        fault = run_cli(
            ["run", "--profile", str(ref.profile_path), "--no-html", "--strict"],
            env=ref.env,
            report_dir=tmp / "fault",
        )
    assert fault.code == 1, fault.console[-2000:]
    return {"clean": tmp / "clean", "fault": tmp / "fault"}


def test_a_clean_run_leaves_the_categories_tab_empty(runs):
    filed = {r["name"]: categories_of(r) for r in results(runs["clean"]) if categories_of(r)}
    assert filed == {}
    # The clean run does skip, and one opt-in reason mentions the rate limit: still no category.
    skipped = [r for r in results(runs["clean"]) if r["status"] == "skipped"]
    assert any("rate limit" in r["statusDetails"]["message"] for r in skipped)


def test_every_failure_is_filed_and_says_it_plainly(runs):
    failed = [r for r in results(runs["fault"]) if r["status"] == "failed"]
    assert failed
    for result in failed:
        assert categories_of(result), result["name"]
        message = result["statusDetails"]["message"]
        assert "ConformanceFailure" not in message and not message.startswith("conformance."), message


@pytest.mark.parametrize(
    ("message", "filed"),
    [
        ("Skipped: inconclusive: the token endpoint is rate limiting this client (HTTP 403)", True),
        ("Skipped: request budget of 150 used up (options.max_requests)", True),
        ("Skipped: opt-in (options.throttle_probe): set ... (uses up the rate limit)", False),
        ("Skipped: not-applicable (base_url): transport checks run only against https", False),
    ],
)
def test_only_runtime_reasons_are_filed_as_unreachable_or_rate_limited(message, filed):
    result = {"status": "skipped", "labels": [], "statusDetails": {"message": message}}
    assert (categories_of(result) == ["Instance unreachable or rate-limited"]) is filed


def test_tidy_strips_suite_class_names_only():
    assert (
        tidy("conformance._lib.verify.ConformanceFailure: requirement\nexpected: x")
        == "requirement\nexpected: x"
    )
    assert tidy("XFAIL waived\n\nconformance._lib.http.HttpProblem: no answer") == "XFAIL waived\n\nno answer"
    assert tidy("AssertionError: a bug in a check") == "AssertionError: a bug in a check"
