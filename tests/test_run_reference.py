"""The suite end to end against the clean reference instance: real HTTP, real server, no failures."""

from __future__ import annotations

import re

import pytest

from conformance._lib.registry import AREAS
from conformance._lib.schemas import schema_errors
from tests.conftest import run_cli

# What a loopback reference instance must legitimately skip, and why.
LEGITIMATE_SKIPS = {
    "transport.": "https",  # transport checks need a non-loopback https instance
    "bad-credentials.throttling": "throttle_probe",  # opt-in: it uses up the rate limit
    "jwt-attacks.expired[real-expiry]": "wait_for_expiry",  # opt-in: it waits an hour
    "advisories.login.rate-limited-by-username": "login_rate_limit_probe",  # opt-in: 31 failed logins
    "jwt.rfc9068.": "rfc9068",  # an LMS issues Open edX JWTs, not RFC 9068 ones
    "key-rotation.preflight.": "rotation_key",  # only mid-rotation (reference serve --rotation-phase 1)
    # sign-in flows: https-only checks (cookies are Secure, redirect URIs https, only on https)
    "authorization-code.redirect-uri.https": "https",
    "jwt-cookies.flags.secure": "https",
}


@pytest.fixture(scope="module")
def clean_run(reference, tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("clean")
    return run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html"],
        env=reference.env,
        report_dir=report_dir,
    )


def test_clean_instance_passes(clean_run):
    assert clean_run.code == 0, clean_run.console[-3000:]
    summary = clean_run.summary()
    assert not schema_errors(summary, "summary")
    failed = [c["id"] for c in summary["checks"] if c["outcome"] == "failed"]
    assert failed == []
    ran = [c for c in summary["checks"] if c["outcome"] == "passed"]
    assert len(ran) >= 60, len(ran)
    assert {c["area"] for c in ran} == set(AREAS) - {"transport"}  # transport: loopback skips


def test_every_skip_is_legitimate_and_says_why(clean_run):
    for check in clean_run.summary()["checks"]:
        if check["outcome"] != "skipped":
            continue
        reason = next(
            (why for prefix, why in LEGITIMATE_SKIPS.items() if check["id"].startswith(prefix)), None
        )
        assert reason is not None, f"unexpected skip: {check['id']}: {check['message']}"
        assert reason in check["message"] or "https" in check["message"], check
        # The reference's own profile lacks nothing: what it skips does not apply or is opt-in.
        assert check["skip_kind"] in ("not-applicable", "opt-in"), check
    assert clean_run.summary()["complete"] is True
    assert clean_run.summary()["coverage"]["partial"] is False


def test_artifacts_are_written(clean_run):
    d = clean_run.report_dir
    assert (d / "junit.xml").exists()
    results = list((d / "allure-results").glob("*-result.json"))
    assert len(results) == len(clean_run.summary()["checks"])
    assert (d / "allure-results" / "environment.properties").read_text().startswith("profile=")


def test_request_budget_is_respected(clean_run):
    summary = clean_run.summary()
    # The defaults (options.max_token_requests 90, max_requests 250) hold a default run, with room
    # to spare: a run that hit them would end inconclusive. Every area on, a run makes 65 token
    # requests (the controls' own HTTP Basic cases and the advisories' restricted-client token came
    # on top of 60): a second run inside the same minute waits out the LMS's 120 a minute per IP
    # (RATELIMIT_RATE) once, as options.rate_limit_wait_s allows, instead of ending inconclusive.
    assert summary["token_requests"] <= 66, summary["token_requests"]
    assert summary["requests"] <= 235, summary["requests"]


def test_console_summary(clean_run):
    assert re.search(r"reference: complete: \d+ passed, 0 failed, 0 waived, \d+ not run", clean_run.out)
    assert "xfail" not in clean_run.out and "skipped" not in clean_run.out  # the suite's words, not pytest's
    assert "Traceback" not in clean_run.console


def test_run_against_state_dir_profile_matches_default_run(clean_run, tmp_path):
    """`reference serve` + `run --profile <state-dir>/profile.toml` gives the same result as `run`."""
    default = run_cli(["run", "--no-html"], report_dir=tmp_path / "default")
    assert default.code == 0, default.console[-3000:]
    outcomes = {c["id"]: c["outcome"] for c in default.summary()["checks"]}
    assert outcomes == {c["id"]: c["outcome"] for c in clean_run.summary()["checks"]}


def test_default_report_dir_is_relative_to_the_working_directory_and_gets_html(tmp_path):
    """The quick start: no --report-dir, so reports/<name>/ under the current folder, HTML included."""
    from conformance.html import allure_binary
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path / "state", rate_limit="100000/m") as ref:
        result = run_cli(["run", "--profile", str(ref.profile_path)], env=ref.env, cwd=tmp_path)
    assert result.code == 0, result.console[-2000:]
    assert (tmp_path / "reports" / "reference" / "summary.json").exists()
    if allure_binary() is not None:
        assert (tmp_path / "reports" / "reference" / "html" / "index.html").exists(), result.console[-2000:]
        assert "no HTML report" not in result.console


def test_history_is_kept_across_runs_of_the_same_profile(tmp_path):
    """Trends: each run of a profile into its report dir adds one entry to the Allure history."""
    from conformance.html import allure_binary
    from conformance.reference.launcher import running_reference

    if allure_binary() is None:
        pytest.skip("Node or the allure package is missing: no HTML report, no history")
    with running_reference(state_dir=tmp_path / "state", rate_limit="100000/m") as ref:
        for _ in range(2):
            result = run_cli(
                ["run", "--profile", str(ref.profile_path)], env=ref.env, report_dir=tmp_path / "r"
            )
            assert result.code == 0, result.console[-2000:]
    history = (tmp_path / "r" / "history.jsonl").read_text().splitlines()
    assert len(history) == 2


def test_history_keeps_the_last_runs_only(tmp_path):
    """history.jsonl is bounded: with HISTORY_LIMIT entries already there, a new run drops the oldest."""
    import json
    import uuid

    from conformance.html import HISTORY_LIMIT, allure_binary, render_html

    if allure_binary() is None:
        pytest.skip("Node or the allure package is missing: no HTML report, no history")
    results = tmp_path / "allure-results"
    results.mkdir()
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": "h1",
        "name": "A check",
        "fullName": "checks.test_x#test_a",
        "status": "passed",
        "stage": "finished",
        "start": 1,
        "stop": 2,
        "labels": [],
    }
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result))
    history = tmp_path / "history.jsonl"
    assert render_html(results, tmp_path / "html", name="first", history=history) is None
    first = history.read_text().splitlines()
    assert len(first) == 1
    history.write_text("\n".join(first * (HISTORY_LIMIT + 5)) + "\n")
    # The next run: other start times (a render of the same results is the same run, not a new one).
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result | {"start": 3, "stop": 4}))
    assert render_html(results, tmp_path / "html", name="next", history=history) is None
    kept = history.read_text().splitlines()
    assert len(kept) == HISTORY_LIMIT
    assert kept[-1] != first[0]  # the new run is the last entry
