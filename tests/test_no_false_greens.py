"""A green exit means checked: each way a run could end in exit 0 without checking (an interrupt, a
typo in --select, a rate limit, a missing profile key, --no-html) and the exit status it gives."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance._lib.schemas import schema_errors
from tests.conftest import ROOT, run_cli


@pytest.fixture(scope="module")
def reference(generous_reference):
    """This module's runs are several full runs: they use an instance whose rate limits they cannot spend."""
    return generous_reference


def minimal_profile(ref, tmp_path: Path) -> Path:
    """What the edX API guide hands an operator: the URL and a client id and secret, nothing else."""
    path = tmp_path / "minimal.toml"
    path.write_text(
        f'name = "minimal"\nbase_url = "{ref.url}"\n'
        '[client]\nid = "${EDX_OAUTH_CLIENT_ID}"\nsecret = "${EDX_OAUTH_CLIENT_SECRET}"\n'
    )
    return path


# Selection typos -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "guess"),
    [("jwt.claim.iss", "jwt.claims.iss"), ("jwt.claims.iss[defualt]", "jwt.claims.iss[default]")],
)
def test_a_selection_that_matches_nothing_is_a_usage_error(reference, tmp_path, selector, guess):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "summary.json").write_text('{"earlier": "run"}')
    result = run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html", "--select", selector],
        env=reference.env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 2, result.console
    assert "matches no check" in result.err and f"did you mean '{guess}'" in result.err
    assert len(result.err.strip().splitlines()) == 1
    # Nothing ran, so nothing was overwritten: the earlier report is still there.
    assert (tmp_path / "r" / "summary.json").read_text() == '{"earlier": "run"}'


@pytest.mark.parametrize(
    ("selector", "cases"),
    [("jwt.claims.iss[default]", {"jwt.claims.iss[default]"}), ("jwt.claims.*", None)],
)
def test_cases_and_globs_select_what_they_say(reference, tmp_path, selector, cases):
    result = run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html", "--select", selector],
        env=reference.env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 0, result.console[-2000:]
    ran = {c["id"] for c in result.summary()["checks"]}
    if cases is not None:
        assert ran == cases
    else:
        assert ran and all(c.startswith("jwt.claims.") for c in ran)


# Coverage ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minimal_run(reference, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("minimal")
    return run_cli(
        ["run", "--profile", str(minimal_profile(reference, tmp)), "--no-html"],
        env=reference.env,
        report_dir=tmp / "r",
    )


def test_a_minimal_profile_says_what_it_did_not_verify(minimal_run):
    summary = minimal_run.summary()
    assert not schema_errors(summary, "summary")
    not_verified = summary["coverage"]["not_verified"]
    keys = {entry["key"] for entry in not_verified}
    assert {"jwt.jwks", "jwt.hs256_secret", "password_grant"} <= keys, keys
    assert summary["coverage"]["partial"] is True
    assert summary["coverage"]["levels"]["MUST"]["not_verified"] >= 5
    # The console names each missing key with the number of MUST checks it would enable.
    for key in ("jwt.jwks", "jwt.hs256_secret", "password_grant"):
        assert f"add {key}: " in minimal_run.out, minimal_run.out[-3000:]
    assert "minimal: partial:" in minimal_run.out
    # Without --require-complete, a partial run that found nothing wrong passes (and says so).
    assert minimal_run.code == 0, minimal_run.console[-2000:]


def test_require_complete_turns_a_partial_run_into_exit_4(reference, tmp_path):
    result = run_cli(
        ["run", "--profile", str(minimal_profile(reference, tmp_path)), "--no-html", "--require-complete"],
        env=reference.env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 4, result.console[-2000:]
    assert result.summary()["exit_code"] == 4 and "exit 4 (inconclusive)" in result.out


def test_a_full_profile_on_a_clean_instance_is_complete(reference, tmp_path):
    result = run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html", "--require-complete"],
        env=reference.env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 0, result.console[-3000:]
    summary = result.summary()
    assert summary["complete"] is True and summary["coverage"]["partial"] is False
    assert summary["coverage"]["not_verified"] == []


def test_every_skip_has_a_kind_everywhere(minimal_run):
    """summary.json and JUnit carry the same kind for every case that did not run."""
    import xml.etree.ElementTree as ET

    kinds = {c["id"]: c["skip_kind"] for c in minimal_run.summary()["checks"] if c["outcome"] == "skipped"}
    assert set(kinds.values()) <= {"not-applicable", "not-verified", "opt-in"}, kinds
    tree = ET.parse(minimal_run.report_dir / "junit.xml")
    for case in tree.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is None:
            continue
        case_id = next(p.get("value") for p in case.iter("property") if p.get("name") == "case")
        assert (skipped.get("message") or "").startswith(kinds[case_id]), (case_id, skipped.get("message"))


# Dry run -------------------------------------------------------------------------------------------


def test_dry_run_reports_cases_as_the_run_does(reference, minimal_run, tmp_path):
    """--dry-run is the planning pass of a run: its cases and kinds match what the run did."""
    profile = minimal_profile(reference, tmp_path)
    dry = run_cli(["run", "--profile", str(profile), "--dry-run"], env=reference.env)
    assert dry.code == 0, dry.console
    lines = (
        re.match(r"^  (\S+)\s+\[(?:MUST|SHOULD|MAY)\s*\] (\S+?)(?::|$)", ln) for ln in dry.out.splitlines()
    )
    planned = {m.group(2): m.group(1) for m in lines if m}
    ran = {
        c["id"]: ("run" if c["outcome"] != "skipped" else c["skip_kind"])
        for c in minimal_run.summary()["checks"]
    }
    assert set(planned) == set(ran)
    differing = {case: (planned[case], ran[case]) for case in ran if planned[case] != ran[case]}
    # A check can still find at run time that it does not apply (the token's alg), never more.
    assert all(kinds == ("run", "not-applicable") for kinds in differing.values()), differing


# --no-html -----------------------------------------------------------------------------------------


def test_no_html_removes_a_stale_report_and_does_not_advertise_it(reference, tmp_path):
    stale = tmp_path / "r" / "html"
    stale.mkdir(parents=True)
    (stale / "index.html").write_text("<html>an earlier run</html>")
    result = run_cli(
        ["run", "--profile", str(reference.profile_path), "--no-html", "--select", "jwt.claims"],
        env=reference.env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 0, result.console[-2000:]
    assert not stale.exists()
    assert "index.html" not in result.out


# Rate limit spent before the run -------------------------------------------------------------------


def test_a_rate_limit_spent_before_the_run_is_inconclusive(tmp_path):
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path / "state", rate_limit="1/h") as ref:
        result = run_cli(
            ["run", "--profile", str(ref.profile_path), "--no-html"], env=ref.env, report_dir=tmp_path / "r"
        )
    assert result.code == 4, result.console[-3000:]
    summary = result.summary()
    assert summary["counts"]["failed"] == 0
    assert summary["skips"]["inconclusive"] >= 50
    assert "incomplete" in result.out and "Traceback" not in result.console


# Interrupts ----------------------------------------------------------------------------------------


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("EDX_")}
    full.update(env, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full,
        cwd=ROOT,
    )


def _signal_when_checks_run(proc: subprocess.Popen[str], sig: int, delay: float) -> str:
    """Wait until the checks have started (the seed line comes right before them), let them run for
    `delay` seconds, then send `sig`; return all output."""
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:
        seen += line
        if line.startswith("seed "):
            time.sleep(delay)
            proc.send_signal(sig)
            break
    rest, _ = proc.communicate(timeout=120)
    return seen + rest


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_is_never_green(tmp_path, sig, code):
    from conformance.reference.launcher import running_reference

    with running_reference(
        state_dir=tmp_path / "state", latency_ms=200, rate_limit="100000/m", login_rate_limit="100000/m"
    ) as ref:
        proc = _start(
            ["run", "--profile", str(ref.profile_path), "--report-dir", str(tmp_path / "r")], ref.env
        )
        # ~200 requests of 200 ms, 4 in flight: the run takes 10 s or more.
        output = _signal_when_checks_run(proc, sig, delay=1.5)
    assert proc.returncode == code, output[-3000:]
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["complete"] is False and summary["exit_code"] == code
    assert not schema_errors(summary, "summary")
    assert summary["counts"]["passed"] < 100  # it really stopped mid-run
    unfinished = [c for c in summary["checks"] if "stopped before" in c["message"]]
    assert all(c["outcome"] == "skipped" and c["skip_kind"] == "inconclusive" for c in unfinished)
    assert not (tmp_path / "r" / "html").exists()  # no report that looks complete
    assert "Traceback" not in output and "incomplete" in output


# 0 s: while pytest starts up (SIGTERM is noted, and acts when the checks' loop begins).
@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_sigterm_removes_the_reference_instance_and_its_private_key(tmp_path, delay):
    """SIGTERM while the embedded reference instance runs: it is stopped and its temporary state
    folder (which holds its private key) is gone."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = _start(["run", "--no-html", "--report-dir", str(tmp_path / "r")], {"TMPDIR": str(tmp)})
    output = _signal_when_checks_run(proc, signal.SIGTERM, delay=delay)
    assert proc.returncode == 143, output[-3000:]
    leftovers = [p.name for p in tmp.iterdir() if p.name.startswith("openedx-reference-")]
    assert leftovers == [], output[-2000:]
    ports = [line.rsplit(":", 1)[-1] for line in output.splitlines() if "reference instance at" in line]
    assert ports, output[-2000:]
    import httpx

    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{ports[0]}/", timeout=2)
