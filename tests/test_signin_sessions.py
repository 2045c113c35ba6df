"""The sign-in checks do not depend on their order: the LMS keeps one session per user
(PREVENT_CONCURRENT_LOGINS, on in the reference instance as in the LMS), so a check that signs in
again or signs out uses its own session, and the shared one is signed in again after it.

Proved against the reference instance: the jwt-cookies and authorization-code areas pass in random
order (pytest-randomly, several seeds), one check at a time (--select), and under --workers 4.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance._lib.registry import load_checks
from tests.conftest import run_cli

AREAS = ("jwt-cookies", "authorization-code")
SIGNIN_CHECKS = sorted(c for c, meta in load_checks().items() if meta.area in AREAS)


def _verdicts(summary: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in summary["checks"]:
        kind = entry["outcome"] if entry["outcome"] != "skipped" else entry.get("skip_kind", "?")
        found.setdefault(kind, []).append(entry["id"])
    return found


def _unpassed(result) -> list[tuple[str, str, str]]:
    """The cases that did not pass, with their messages (the console cuts them short)."""
    return [
        (c["id"], c.get("skip_kind") or c["outcome"], c.get("message", "")[:600])
        for c in result.summary()["checks"]
        if c["outcome"] != "passed"
    ]


def test_reference_ends_the_first_session_on_a_second_login(generous_reference):
    """The rule the proof is about: a second sign-in as the same user ends the first session."""
    from conformance._lib.http import Http
    from conformance._lib.profile import load_profile
    from conformance._lib.signin import REFRESH_PATH, SignIn
    from conformance._lib.tokens import TokenFlows

    os.environ.update(generous_reference.env)
    profile = load_profile(generous_reference.profile_path)
    http = Http(profile.base_url)
    try:
        signin = SignIn(http, profile, TokenFlows(http, profile))
        first = signin.shared()
        assert first.browser.send("POST", REFRESH_PATH).status == 200
        signin.sign_in()  # a session of its own: the LMS deletes the first
        assert first.browser.send("POST", REFRESH_PATH).status == 401
        again = signin.shared()  # the shared session is signed in again before it is next used
        assert again is not first and again.browser.send("POST", REFRESH_PATH).status == 200
    finally:
        http.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_signin_areas_pass_in_random_order(generous_reference, tmp_path, seed):
    summary = tmp_path / "summary.json"
    argv = [sys.executable, "-m", "pytest", "--pyargs", "conformance.checks", "-p", "randomly"]
    argv += [f"--randomly-seed={seed}", "--oauth-profile", str(generous_reference.profile_path)]
    argv += ["--oauth-summary", str(summary), "-p", "no:cacheprovider"]
    argv += [a for area in AREAS for a in ("--oauth-select", area)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDX_")} | generous_reference.env
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    proc = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert f"Using --randomly-seed={seed}" in proc.stdout, proc.stdout[-2000:]
    verdicts = _verdicts(json.loads(summary.read_text()))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert set(verdicts) <= {"passed", "not-applicable"}, verdicts
    assert len(verdicts["passed"]) >= 30


def test_each_signin_check_passes_alone(generous_reference, tmp_path):
    env = generous_reference.env
    for check_id in SIGNIN_CHECKS:
        report = tmp_path / check_id
        result = run_cli(
            ["run", "--profile", str(generous_reference.profile_path), "--select", check_id, "--no-html"],
            env=env,
            report_dir=report,
        )
        verdicts = _verdicts(result.summary())
        # Some cases do not apply to a loopback http instance (Secure cookies, https redirect URIs).
        if set(verdicts) == {"not-applicable"}:
            continue
        assert result.code == 0 and set(verdicts) <= {"passed", "not-applicable"}, (
            check_id,
            _unpassed(result),
        )


def test_signin_areas_pass_under_workers(generous_reference, tmp_path: Path):
    args = ["run", "--profile", str(generous_reference.profile_path), "--workers", "4", "--no-html"]
    args += [a for area in AREAS for a in ("--select", area)]
    result = run_cli(args, env=generous_reference.env, report_dir=tmp_path / "workers")
    verdicts = _verdicts(result.summary())
    assert result.code == 0, result.console
    assert set(verdicts) <= {"passed", "not-applicable"}, verdicts
