"""Bad input gets one clear message and the documented exit code, never a traceback."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import MINIMAL_ENV, MINIMAL_PROFILE, run_cli, write_profile


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_clear_message(result, *needles):
    assert "Traceback" not in result.console
    assert MINIMAL_ENV["CSECRET"] not in result.console
    for needle in needles:
        assert needle in result.console, result.console


@pytest.mark.parametrize(
    "text, env, needles",
    [
        (
            MINIMAL_PROFILE.replace('base_url = "http://127.0.0.1:8000"\n', ""),
            MINIMAL_ENV,
            ["p.toml", "'base_url' is required"],
        ),
        (MINIMAL_PROFILE, {"CID": "x"}, ["p.toml", "CSECRET", "client.secret"]),
        ("name = 'bad'\nbase_url = [", MINIMAL_ENV, ["p.toml", "not valid TOML"]),
        (MINIMAL_PROFILE.replace("[client]", "[clinet]"), MINIMAL_ENV, ["p.toml", "clinet"]),
    ],
    ids=["missing-base-url", "unset-variable", "invalid-toml", "unknown-key"],
)
def test_profile_errors_exit_2(tmp_path, text, env, needles):
    path = write_profile(tmp_path, text)
    result = run_cli(["run", "--profile", str(path), "--no-html"], env=env, report_dir=tmp_path / "r")
    assert result.code == 2, result.console
    assert_one_clear_message(result, *needles)


def test_missing_profile_file_exits_2(tmp_path):
    result = run_cli(["run", "--profile", str(tmp_path / "nope.toml")], report_dir=tmp_path / "r")
    assert result.code == 2
    assert_one_clear_message(result, "nope.toml", "cannot read")


def test_unreachable_instance_exits_3_quickly(tmp_path):
    path = write_profile(
        tmp_path, MINIMAL_PROFILE.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{free_port()}")
    )
    result = run_cli(["run", "--profile", str(path), "--no-html"], env=MINIMAL_ENV, report_dir=tmp_path / "r")
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
        (["run", "--workers", "-1"], "--workers: must be 1 to 32, not -1"),
        (["run", "--workers", "0"], "--workers: must be 1 to 32, not 0"),
        (["run", "--workers", "99999"], "--workers: must be 1 to 32, not 99999"),
        (["run", "--workers", "two"], "--workers: must be a whole number"),
        (["reference", "mutation-score", "--workers", "0"], "--workers: must be 1 to 32, not 0"),
    ],
)
def test_workers_out_of_range_are_usage_errors(argv, says):
    result = run_cli(argv)
    assert result.code == 2
    assert_one_clear_message(result, says)
