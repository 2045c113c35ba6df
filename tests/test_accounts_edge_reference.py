"""Against the reference instance: a default run runs the accounts checks and the token-path check
(none skipped, none failed), and the front-server faults produce the diagnoses operators need."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

pytest.importorskip("django")

ACCOUNTS_CHECKS = {
    "accounts.inactive-user.email-not-verified",
    "accounts.disabled-user.no-password-grant",
    "accounts.disabled-user.no-refresh",
    "accounts.restricted-client.refused",
    "accounts.deleted-client.no-token",
    "accounts.changed-grant.no-token",
    "token-endpoint.path.no-redirect",
}


def _run(tmp_path, faults, selected):
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path / "state", faults=faults, rate_limit="100000/m") as ref:
        argv = ["run", "--profile", str(ref.profile_path), "--no-html"]
        argv += [a for check_id in selected for a in ("--select", check_id)]
        return run_cli(argv, env=ref.env, report_dir=tmp_path / "report")


def test_the_reference_runs_the_accounts_checks_and_passes_them(tmp_path):
    result = _run(tmp_path, [], sorted(ACCOUNTS_CHECKS))
    assert result.code == 0, result.console[-3000:]
    outcomes = {c["id"]: c["outcome"] for c in result.summary()["checks"]}
    assert outcomes == dict.fromkeys(ACCOUNTS_CHECKS, "passed")


def test_front_server_faults_are_diagnosed(tmp_path):
    faults = ["api-authorization-dropped", "token-path-slash-stripped", "issuer-https-scheme"]
    selected = ["resources.jwt.accepted", "token-endpoint.path.no-redirect", "jwt.claims.iss"]
    result = _run(tmp_path, faults, selected)
    assert result.code == 1, result.console[-3000:]
    messages = {c["id"]: c["message"] for c in result.summary()["checks"] if c["outcome"] == "failed"}
    assert "WSGIPassAuthorization On" in messages["resources.jwt.accepted[default]"]
    redirect = messages["token-endpoint.path.no-redirect"]
    assert "HTTP 301 redirect to http://127.0.0.1" in redirect and "trailing-slash rewrite" in redirect
    # The reference has no TLS: its mirror image, an https issuer on an http LMS, names the same causes.
    assert "ENABLE_HTTPS" in messages["jwt.claims.iss[default]"]
    assert "X-Forwarded-Proto" in messages["jwt.claims.iss[default]"]


def test_profile_overlays_keep_nested_accounts_tables():
    import tomllib

    from conformance.reference.accounts import PROFILE_FRAGMENT
    from conformance.selftest.mutation import merge_overlay as _merge
    from conformance.selftest.mutation import to_toml

    base = (
        'name = "r"\nbase_url = "http://127.0.0.1:1"\n[client]\nid = "a"\nsecret = "b"\n' + PROFILE_FRAGMENT
    )
    data = _merge(tomllib.loads(base), {"options": {"throttle_probe": True}})
    assert tomllib.loads(to_toml(data)) == data
