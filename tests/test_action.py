"""The composite GitHub Action (action.yml at the root), its steps run here as a runner runs them.

Each `run:` step's shell goes to `bash --noprofile --norc -eo pipefail` (GitHub's `shell: bash`) with
the step's `env:` (its `${{ ... }}` expressions filled in from the inputs and earlier outputs) and a
fake GITHUB_OUTPUT, GITHUB_ENV and GITHUB_STEP_SUMMARY, against the reference instance. The install
step is not run (this venv has the suite); the `uses:` steps are checked as data.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_captured

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def step(name: str) -> dict[str, Any]:
    return next(s for s in STEPS if s.get("name") == name or s.get("id") == name)


def expand(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr.startswith("steps.run.outputs."):
            return outputs.get(expr.removeprefix("steps.run.outputs."), "")
        if expr == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"action.yml: expression the test does not know: {expr}")

    return EXPR.sub(value, text)


def inputs_with(**given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return values


def run_step(
    definition: dict[str, Any],
    inputs: dict[str, str],
    tmp_path: Path,
    env: dict[str, str] | None = None,
    outputs: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    files = {name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
    for path in files.values():
        path.write_text("")  # each step has its own files
    files["GITHUB_STEP_SUMMARY"] = tmp_path / f"step_summary_{definition.get('id', 'step')}.md"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("EDX_", "GITHUB_"))}
    full_env.update(env or {})
    full_env.update({name: str(path) for name, path in files.items()})
    full_env["GITHUB_ACTION_PATH"] = str(ROOT)
    full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
    for key, raw in (definition.get("env") or {}).items():
        full_env[key] = expand(str(raw), inputs, outputs or {})
    script = tmp_path / "step.sh"
    script.write_text(str(definition["run"]))
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    done = run_captured(bash, env=full_env, cwd=tmp_path, timeout=300)
    produced = dict(
        line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines() if "=" in line
    )
    return done, produced


def run_action(inputs: dict[str, str], tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, str], Any]:
    """The run step, then the gate: the run's outputs and the gate's result."""
    done, outputs = run_step(step("run"), inputs, tmp_path, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]  # the run step never fails
    gate, _ = run_step(step("Gate on the exit status"), inputs, tmp_path, env, outputs)
    return outputs, gate


# The action as data ---------------------------------------------------------------------------------


def test_action_is_composite_with_the_inputs_ci_needs():
    assert ACTION["runs"]["using"] == "composite"
    assert {"profiles", "strict", "require-complete", "report-name"} <= set(ACTION["inputs"])
    assert ACTION["inputs"]["profiles"].get("required") is True
    assert ACTION["outputs"]["exit-code"]["value"] == "${{ steps.run.outputs.exit-code }}"


def test_scripts_take_inputs_only_through_the_environment():
    """No `${{ }}` inside a script: an input holding shell syntax is never executed."""
    for definition in STEPS:
        if "run" in definition:
            assert "${{" not in str(definition["run"]), definition.get("name")
            assert definition.get("shell") == "bash", definition.get("name")


def test_report_is_uploaded_before_the_gate_even_when_the_run_failed():
    names = [s.get("name") for s in STEPS]
    upload = step("Upload the report")
    assert str(upload["uses"]).startswith("actions/upload-artifact@v")
    assert "!cancelled()" in str(upload["if"]) or "always()" in str(upload["if"])
    assert upload["with"]["name"] == "${{ inputs.report-name }}"
    assert upload["with"]["path"] == "${{ inputs.report-dir }}"
    assert names.index("Upload the report") < names.index("Gate on the exit status")
    assert names.index("Run the conformance suite") < names.index("Upload the report")


def test_install_step_installs_the_action_checkout():
    script = str(step("Install the suite")["run"])
    assert "pip install" in script and '"$ACTION_PATH"' in script
    assert step("Install the suite")["env"]["ACTION_PATH"] == "${{ github.action_path }}"


# The steps run ----------------------------------------------------------------------------------------


def test_steps_pass_against_the_reference(reference, tmp_path):
    report = tmp_path / "report"
    inputs = inputs_with(
        profiles=str(reference.profile_path), report_dir=str(report), args="--no-html --select jwt.claims"
    )
    outputs, gate = run_action(inputs, tmp_path, reference.env)
    assert outputs["exit-code"] == "0"
    assert outputs["report-dir"] == str(report)
    assert (report / "summary.json").is_file() and (report / "junit.xml").is_file()
    assert "exit 0" in (tmp_path / "step_summary_run.md").read_text()
    assert gate.returncode == 0 and "passed" in gate.stdout


def test_require_complete_turns_an_unverified_must_check_into_exit_4(reference, tmp_path):
    # The reference profile without its public JWK set: the RS512 signature cannot be verified.
    text = reference.profile_path.read_text()
    profile = tmp_path / "no-jwks.toml"
    profile.write_text("\n".join(line for line in text.splitlines() if not line.startswith("jwks")) + "\n")
    common = {"profiles": str(profile), "args": "--no-html --select jwt.signature"}
    plain, gate = run_action(inputs_with(**common, report_dir=str(tmp_path / "a")), tmp_path, reference.env)
    assert plain["exit-code"] == "0" and gate.returncode == 0
    complete, gate = run_action(
        inputs_with(**common, require_complete="true", report_dir=str(tmp_path / "b")),
        tmp_path,
        reference.env,
    )
    assert complete["exit-code"] == "4"
    assert gate.returncode == 4 and "::error::inconclusive" in gate.stdout


@pytest.mark.parametrize("strict", ["false", "true"])
def test_unreachable_instance_fails_the_gate_with_3(tmp_path, strict):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = tmp_path / "down.toml"
    profile.write_text(
        f'name = "down"\nbase_url = "http://127.0.0.1:{port}"\n[client]\nid = "x"\nsecret = "${{S}}"\n'
    )
    outputs, gate = run_action(
        inputs_with(profiles=str(profile), strict=strict, report_dir=str(tmp_path / "r")),
        tmp_path,
        {"S": "s3cr3t-value"},
    )
    assert outputs["exit-code"] == "3"
    assert gate.returncode == 3 and "could not be reached" in gate.stdout


def test_production_example_passes_the_require_complete_gate(generous_reference, tmp_path):
    """examples/profiles/production.toml through the action, as docs/ci.md recommends (strict and
    require-complete): its [coverage] acceptances let the gate pass on what it leaves out on purpose."""
    from tests.test_coverage_accept import production_on

    profile, env = production_on(generous_reference, tmp_path)
    inputs = inputs_with(
        profiles=str(profile),
        strict="true",
        require_complete="true",
        report_dir=str(tmp_path / "r"),
        args="--no-html",
    )
    outputs, gate = run_action(inputs, tmp_path, env)
    assert outputs["exit-code"] == "0", (tmp_path / "step_summary_run.md").read_text()[-3000:]
    assert gate.returncode == 0 and "passed" in gate.stdout
