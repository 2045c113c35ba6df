"""Bad input gets one clear message and the documented exit code, never a traceback."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import run_cli

PROFILE = """
name = "bad"
base_url = "{base_url}"
[client]
id = "${{BAD_CLIENT_ID}}"
secret = "${{BAD_CLIENT_SECRET}}"
"""
ENV = {"BAD_CLIENT_ID": "some-client", "BAD_CLIENT_SECRET": "never-printed-secret-771"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def assert_one_clear_message(result, *needles):
    assert "Traceback" not in result.console
    assert "never-printed-secret-771" not in result.console
    for needle in needles:
        assert needle in result.console, result.console


@pytest.mark.parametrize(
    "text, env, needles",
    [
        (PROFILE.replace('base_url = "{base_url}"\n', ""), ENV, ["bad.toml", "'base_url' is required"]),
        (PROFILE, {"BAD_CLIENT_ID": "x"}, ["bad.toml", "BAD_CLIENT_SECRET", "client.secret"]),
        ("name = 'bad'\nbase_url = [", ENV, ["bad.toml", "not valid TOML"]),
        (PROFILE.replace("[client]", "[clinet]"), ENV, ["bad.toml", "clinet"]),
    ],
    ids=["missing-base-url", "unset-variable", "invalid-toml", "unknown-key"],
)
def test_profile_errors_exit_2(tmp_path, text, env, needles):
    path = write(tmp_path, text.format(base_url="http://127.0.0.1:9"))
    result = run_cli(["run", "--profile", str(path), "--no-html"], env=env, report_dir=tmp_path / "r")
    assert result.code == 2, result.console
    assert_one_clear_message(result, *needles)


def test_missing_profile_file_exits_2(tmp_path):
    result = run_cli(["run", "--profile", str(tmp_path / "nope.toml")], report_dir=tmp_path / "r")
    assert result.code == 2
    assert_one_clear_message(result, "nope.toml", "cannot read")


def test_unreachable_instance_exits_3_quickly(tmp_path):
    path = write(tmp_path, PROFILE.format(base_url=f"http://127.0.0.1:{free_port()}"))
    result = run_cli(["run", "--profile", str(path), "--no-html"], env=ENV, report_dir=tmp_path / "r")
    assert result.code == 3, result.console
    # Quickly: the refused probe ends the run (a hang guard with room for a loaded machine, not a
    # speed measurement); and nothing is sent after it.
    assert result.seconds < 60
    assert_one_clear_message(result, "unreachable")
    assert result.console.count("unreachable") <= 2  # one message, no cascade


def test_unknown_command_option_exits_2(tmp_path):
    result = run_cli(["run", "--frobnicate"], report_dir=None)
    assert result.code == 2
    assert "unrecognized arguments" in result.console


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run", "--workers", "-1"], "--workers: must be at least 1"),
        (["run", "--workers", "0"], "--workers: must be at least 1"),
        (["run", "--workers", "two"], "--workers: must be a whole number"),
        (["reference", "mutation-score", "--workers", "0"], "--workers: must be at least 1"),
    ],
)
def test_workers_below_one_are_usage_errors(argv, says):
    result = run_cli(argv)
    assert result.code == 2
    assert_one_clear_message(result, says)
