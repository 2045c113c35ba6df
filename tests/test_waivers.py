"""Waivers gate deployments honestly: active ones waive, expired ones do not, stale ones are reported,
and a waiver naming no check is a usage error."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import run_cli

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def waiver(check: str, expires: str) -> str:
    return (
        f'[[waiver]]\ncheck = "{check}"\nreason = "issuer migration in progress"\n'
        f'link = "https://tracker.example.org/OPS-42"\nexpires = {expires}\n'
    )


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    from conformance.reference.launcher import running_reference

    with running_reference(
        state_dir=tmp_path_factory.mktemp("waivers"),
        faults=["wrong-issuer"],
        rate_limit="100000/m",
        login_rate_limit="100000/m",
    ) as ref:
        yield ref


def run_with(ref, tmp_path, waivers: str):
    (ref.profile_path.with_name("profile.waivers.toml")).write_text(waivers)
    try:
        return run_cli(
            ["run", "--profile", str(ref.profile_path), "--no-html"],
            env=ref.env,
            report_dir=tmp_path / "report",
        )
    finally:
        ref.profile_path.with_name("profile.waivers.toml").unlink()


WAIVE_ISSUER = waiver("jwt.claims.iss", "{expires}") + waiver("resources.services.accept-jwt", "{expires}")
# The services area sees the same wrong issuer at the discovery service (and the forgeries' baseline).
WAIVE_ISSUER += waiver("services.genuine.accepted", "{expires}")
WAIVE_ISSUER += waiver("services.forged.refused", "{expires}")
# The service checks the waived control blocks (they cannot run while the service refuses the LMS's
# genuine tokens): waived too, or the run has no verdict for them and ends inconclusive.
WAIVE_BLOCKED = "".join(
    waiver(check, "{expires}")
    for check in (
        "services.audience.checked",
        "services.issuer.checked",
        "services.expiry.checked",
        "jwt-cookies.services.mismatched-refused",
    )
)
WAIVE_ISSUER += WAIVE_BLOCKED
# The sign-in checks that the wrong issuer fails too (the SSO token, the cookie JWT at the LMS and services).
WAIVE_ISSUER += "".join(
    waiver(check, "{expires}")
    for check in (
        "authorization-code.exchange.token",
        "jwt-cookies.jwt.conformant",
        "jwt-cookies.services.accept-cookies",
    )
)


def test_without_waivers_the_fault_fails_the_run(faulty, tmp_path):
    result = run_with(faulty, tmp_path, "waiver = []\n")
    assert result.code == 1


def test_active_waiver_turns_the_failing_run_into_exit_0(faulty, tmp_path):
    result = run_with(faulty, tmp_path, WAIVE_ISSUER.format(expires=FUTURE))
    assert result.code == 0, result.console[-2000:]
    summary = result.summary()
    waived = {c["id"] for c in summary["checks"] if c["outcome"] == "waived"}
    assert {"jwt.claims.iss[default]", "jwt.claims.iss[asymmetric]"} <= waived
    assert summary["counts"]["failed"] == 0 and summary["counts"]["waived"] == len(waived)
    assert all("OPS-42" in c["message"] for c in summary["checks"] if c["outcome"] == "waived")
    assert "WAIVED [MUST] jwt.claims.iss" in result.out
    blocked = [
        c for c in summary["checks"] if "not run: blocked by services.genuine.accepted" in c["message"]
    ]
    assert blocked and all(c["outcome"] == "waived" for c in blocked)


def test_blocked_by_a_waived_control_is_no_verdict(faulty, tmp_path):
    """Waiving a control does not waive what it blocks: those cases reached no verdict."""
    result = run_with(faulty, tmp_path, WAIVE_ISSUER.replace(WAIVE_BLOCKED, "").format(expires=FUTURE))
    assert result.code == 4, result.console[-2000:]
    blocked = [c["id"] for c in result.summary()["checks"] if c.get("skip_kind") == "blocked"]
    assert "services.audience.checked[discovery]" in blocked
    assert "Blocked (" in result.out
    assert "services.genuine.accepted[discovery] is waived; what it blocks has no verdict" in result.out
    assert "waive these checks too: " in result.out and "services.audience.checked" in result.out


def test_expired_waiver_no_longer_waives(faulty, tmp_path):
    result = run_with(faulty, tmp_path, WAIVE_ISSUER.format(expires=PAST))
    assert result.code == 1
    assert f"expired on {PAST}" in result.out
    assert result.summary()["counts"]["waived"] == 0


def test_stale_waiver_is_reported(faulty, tmp_path):
    # jwt.claims.aud passes on this instance: its waiver is stale.
    result = run_with(
        faulty, tmp_path, WAIVE_ISSUER.format(expires=FUTURE) + waiver("jwt.claims.aud", FUTURE)
    )
    stale = [c for c in result.summary()["checks"] if c["id"].startswith("jwt.claims.aud")]
    assert stale and all(c["outcome"] == "failed" and "stale waiver" in c["message"] for c in stale)
    assert result.code == 1
    assert "stale waiver" in result.out


def test_waiver_for_an_unknown_check_is_a_usage_error(faulty, tmp_path):
    result = run_with(faulty, tmp_path, waiver("jwt.claims.nonexistent", FUTURE))
    assert result.code == 2
    assert "jwt.claims.nonexistent" in result.console and "names no existing check" in result.console
    assert "Traceback" not in result.console


def test_malformed_waiver_file_is_a_usage_error(faulty, tmp_path):
    result = run_with(faulty, tmp_path, '[[waiver]]\ncheck = "jwt.claims.iss"\nreason = "x y z"\n')
    assert result.code == 2
    assert "profile.waivers.toml" in result.console


def test_a_case_waiver_matches_that_case_literally(faulty, tmp_path):
    """The documented `id[case]` form: brackets are the case, not a glob character class."""
    waivers = waiver("jwt.claims.iss[default]", FUTURE) + waiver("jwt.claims.iss[asymmetric]", FUTURE)
    result = run_with(faulty, tmp_path, waivers + waiver("resources.services.accept-jwt", FUTURE))
    waived = {c["id"] for c in result.summary()["checks"] if c["outcome"] == "waived"}
    assert {"jwt.claims.iss[default]", "jwt.claims.iss[asymmetric]"} <= waived, result.console[-2000:]


def test_waiver_errors_come_before_any_request(tmp_path):
    """A broken waiver is one line and exit 2 even against an instance that is not there: nothing was
    sent (had the probe gone first, the run would have ended with exit 3)."""
    profile = tmp_path / "p.toml"
    profile.write_text(
        'name = "gone"\nbase_url = "http://127.0.0.1:9"\n[client]\nid = "x"\nsecret = "${S}"\n'
    )
    (tmp_path / "p.waivers.toml").write_text(waiver("jwt.claims.iss[nonexistent-case]", FUTURE))
    result = run_cli(
        ["run", "--profile", str(profile), "--no-html"], env={"S": "s" * 20}, report_dir=tmp_path / "r"
    )
    assert result.code == 2, result.console
    assert "names no existing check" in result.err and "did you mean" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.console
