"""Rate limiting is recognised: one clear message, the token checks it stops are inconclusive with that
reason, nothing is reported as a conformance failure because of it, and the run is not green (4)."""

from __future__ import annotations

from tests.conftest import run_cli


def test_rate_limited_instance_gives_one_message_and_skips(tmp_path):
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path / "state", rate_limit="25/m") as ref:
        result = run_cli(
            ["run", "--profile", str(ref.profile_path), "--no-html"],
            env=ref.env,
            report_dir=tmp_path / "report",
        )
    assert "Traceback" not in result.console
    summary = result.summary()
    limited = [c for c in summary["checks"] if c["outcome"] == "skipped" and "rate limiting" in c["message"]]
    assert len(limited) >= 10
    assert summary["counts"]["failed"] == 0, [c["id"] for c in summary["checks"] if c["outcome"] == "failed"]
    assert all(c["skip_kind"] == "inconclusive" for c in limited)
    assert result.code == 4, result.console[-2000:]
    assert summary["exit_code"] == 4 and "incomplete" in result.out
    assert result.out.count("note: the token endpoint answered 403") == 1
