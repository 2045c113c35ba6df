"""Several instances in one run: concurrent, one report per profile, a comparison and a combined report."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def second_profile(ref, name, prefix):
    """The same instance shape under another name, its secrets under other variable names."""
    text = ref.profile_path.read_text().replace('name = "reference"', f'name = "{name}"')
    text = text.replace("${EDX_", "${" + prefix + "EDX_")
    path = ref.state_dir / f"{name}.toml"
    path.write_text(text)
    return path, {prefix + k: v for k, v in ref.env.items()}


def test_two_profiles_run_concurrently_and_are_compared(tmp_path):
    from conformance.reference.launcher import running_reference

    with (
        running_reference(state_dir=tmp_path / "a", rate_limit="100000/m") as a,
        running_reference(state_dir=tmp_path / "b", faults=["wrong-issuer"], rate_limit="100000/m") as b,
    ):
        path_a, env_a = second_profile(a, "staging", "A_")
        path_b, env_b = second_profile(b, "production", "B_")
        result = run_cli(
            ["run", "--profile", str(path_a), "--profile", str(path_b)],
            env={**env_a, **env_b},
            report_dir=tmp_path / "reports",
        )
    assert result.code == 1, result.console  # production has a failing MUST check
    reports = tmp_path / "reports"
    assert json.loads((reports / "staging" / "summary.json").read_text())["counts"]["failed"] == 0
    assert json.loads((reports / "production" / "summary.json").read_text())["counts"]["failed"] > 0
    comparison = json.loads((reports / "comparison" / "comparison.json").read_text())
    differing = {c["id"] for c in comparison["checks"] if c["differs"]}
    assert "jwt.claims.iss[default]" in differing
    assert (reports / "comparison" / "comparison.html").exists()
    combined = reports / "combined-html" / "index.html"
    assert combined.exists(), result.console
    assert "googletagmanager" not in combined.read_text()
    assert "Traceback" not in result.console


def test_profiles_of_one_instance_run_one_after_another(tmp_path):
    """Two profiles of one instance sign in as one user: run together, the LMS (one session per
    user) would end each run's session in the middle of the other's. They take turns."""
    from conformance.reference.launcher import running_reference

    with running_reference(
        state_dir=tmp_path / "a", rate_limit="100000/m", login_rate_limit="100000/m"
    ) as ref:
        path_a, env_a = second_profile(ref, "today", "A_")
        path_b, env_b = second_profile(ref, "tomorrow", "B_")
        result = run_cli(
            ["run", "--profile", str(path_a), "--profile", str(path_b), "--no-html"],
            env={**env_a, **env_b},
            report_dir=tmp_path / "reports",
        )
    assert result.code == 0, result.console
    assert (
        "tomorrow: running against" in result.console and "(after today: the same instance)" in result.console
    )
    reports = tmp_path / "reports"
    for name in ("today", "tomorrow"):
        summary = json.loads((reports / name / "summary.json").read_text())
        assert summary["counts"]["failed"] == 0 and summary["exit_code"] == 0, name
    today = json.loads((reports / "today" / "summary.json").read_text())
    tomorrow = json.loads((reports / "tomorrow" / "summary.json").read_text())
    assert today["started_at"] <= tomorrow["started_at"]
