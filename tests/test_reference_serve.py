"""``reference serve`` and the launcher: state-directory files and permissions, readiness time,
signals, orphans, the rate limit, latency, and the command's usage errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance.reference import accounts as reference_accounts
from conformance.reference import cli as reference_cli
from conformance.reference.faults import FAULTS
from conformance.reference.launcher import RunningReference, running_reference

ENV_NAMES = [
    "EDX_OAUTH_CLIENT_ID",
    "EDX_OAUTH_CLIENT_SECRET",
    "EDX_PUBLIC_CLIENT_ID",
    "EDX_TEST_USERNAME",
    "EDX_TEST_PASSWORD",
    "EDX_JWT_SECRET",
    "EDX_SSO_CLIENT_SECRET",
    # the [accounts] entries (conformance/reference/accounts.py)
    "EDX_INACTIVE_USERNAME",
    "EDX_INACTIVE_PASSWORD",
    "EDX_DISABLED_USERNAME",
    "EDX_DISABLED_PASSWORD",
    "EDX_DISABLED_REFRESH_TOKEN",
    "EDX_RESTRICTED_CLIENT_ID",
    "EDX_RESTRICTED_CLIENT_SECRET",
    "EDX_DELETED_CLIENT_ID",
    "EDX_DELETED_CLIENT_SECRET",
    "EDX_CHANGED_GRANT_CLIENT_ID",
    "EDX_CHANGED_GRANT_CLIENT_SECRET",
]
SECRETS = [
    "EDX_OAUTH_CLIENT_SECRET",
    "EDX_TEST_PASSWORD",
    "EDX_JWT_SECRET",
    "EDX_SSO_CLIENT_SECRET",
    "EDX_INACTIVE_PASSWORD",
    "EDX_DISABLED_PASSWORD",
    "EDX_DISABLED_REFRESH_TOKEN",
    "EDX_RESTRICTED_CLIENT_SECRET",
    "EDX_DELETED_CLIENT_SECRET",
    "EDX_CHANGED_GRANT_CLIENT_SECRET",
]
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReference]:
    with running_reference(state_dir=tmp_path_factory.mktemp("state")) as running:
        yield running


def serve(*args: str, state_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance.reference.cli", "serve", "--state-dir", str(state_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def read_until_ready(process: subprocess.Popen[str], timeout: float = 30) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("READY "):
            return lines
    raise AssertionError(f"no READY line: {lines}; stderr: {process.stderr.read() if process.stderr else ''}")


def refuses_connections(url: str, within: float = 5.0) -> bool:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
        except OSError:
            return True
        time.sleep(0.1)
    return False


# the state directory ------------------------------------------------------------------------------


def test_profile_has_exactly_the_documented_shape(ref: RunningReference) -> None:
    lms_port = ref.url.rsplit(":", 1)[1]
    discovery_port = ref.discovery_url.rsplit(":", 1)[1]
    expected = (
        reference_cli.PROFILE_TEMPLATE.format(
            config=SimpleNamespace(
                lms_url=f"http://127.0.0.1:{lms_port}",
                issuer=f"http://127.0.0.1:{lms_port}/oauth2",
                audience="openedx",
                discovery_url=f"http://127.0.0.1:{discovery_port}",
                sso_client_id="discovery-sso",
                sso_redirect_uri=f"http://127.0.0.1:{discovery_port}/complete/edx-oauth2/",
            ),
            name="reference",
            jwks="jwks.json",
            rotation_key="",  # only mid-rotation (--rotation-phase 1 to 3)
            mfe_origin="http://127.0.0.1:1999",
        )
        + reference_accounts.PROFILE_FRAGMENT
    )
    text = ref.profile_path.read_text()
    assert text == expected
    profile = tomllib.loads(text)
    assert profile["jwt"]["issuer"] == f"{ref.url}/oauth2"
    assert profile["services"] == [
        {"name": "discovery", "base_url": ref.discovery_url, "probe": "/api/v1/catalogs/"}
    ]
    assert "${EDX_OAUTH_CLIENT_SECRET}" in text
    for name in SECRETS:
        assert ref.env[name] not in text


def test_env_file(ref: RunningReference) -> None:
    assert list(ref.env) == ENV_NAMES
    for name in SECRETS:
        assert len(ref.env[name]) >= 32
        assert re.fullmatch(r"[A-Za-z0-9_-]+", ref.env[name])
    assert len({ref.env[name] for name in SECRETS}) == len(SECRETS)


@pytest.mark.parametrize(
    "name", ["env", "jwt-private.pem", "runtime.json", "lms.sqlite3", "discovery.sqlite3"]
)
def test_private_files_are_0600(ref: RunningReference, name: str) -> None:
    assert (ref.state_dir / name).stat().st_mode & 0o777 == 0o600


def test_state_dir_is_0700(ref: RunningReference) -> None:
    assert ref.state_dir.stat().st_mode & 0o777 == 0o700


def test_jwks_is_public_only(ref: RunningReference) -> None:
    jwks = json.loads((ref.state_dir / "jwks.json").read_text())
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
    assert not PRIVATE_JWK_MEMBERS & set(key)
    assert (key["kty"], key["kid"], key["use"], key["alg"], key["e"]) == (
        "RSA",
        "openedx",
        "sig",
        "RS512",
        "AQAB",
    )
    # 2048-bit modulus: 256 bytes, 342 base64url characters without padding.
    assert len(key["n"]) == 342


def test_secrets_are_fresh_on_every_start(ref: RunningReference) -> None:
    with running_reference() as other:
        assert other.url != ref.url
        for name in SECRETS:
            assert other.env[name] != ref.env[name]
        assert (other.state_dir / "jwks.json").read_text() != (ref.state_dir / "jwks.json").read_text()
        state_dir = other.state_dir
    assert not state_dir.exists(), "the launcher's own temporary state dir is removed"


def test_banner_never_shows_a_secret(ref: RunningReference) -> None:
    banner = "\n".join(ref.banner)
    assert ref.url in banner and str(ref.state_dir) in banner
    for name in SECRETS:
        assert ref.env[name] not in banner


def test_binds_loopback_only(ref: RunningReference) -> None:
    assert ref.url.startswith("http://127.0.0.1:")
    assert ref.discovery_url.startswith("http://127.0.0.1:")


# lifecycle ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_everything_cleanly(tmp_path: Path, signum: int) -> None:
    process = serve(state_dir=tmp_path)
    try:
        lines = read_until_ready(process)  # (how fast it gets ready is benchmarks/' business)
        profile = tomllib.loads((tmp_path / "profile.toml").read_text())
        assert lines[-1] == f"READY {profile['base_url']}"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert refuses_connections(profile["base_url"])
    assert refuses_connections(profile["services"][0]["base_url"])


def test_services_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.reference.cli", "serve", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        read_until_ready(process)
        profile = tomllib.loads((tmp_path / "profile.toml").read_text())
        process.kill()
        process.wait()
        assert refuses_connections(profile["base_url"])
        assert refuses_connections(profile["services"][0]["base_url"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_fixed_port(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_reference(port=port) as running:
        assert running.url == f"http://127.0.0.1:{port}"


def test_launcher_reports_a_failed_start(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(RuntimeError, match="cannot listen"), running_reference(port=port):
            pass


# options --------------------------------------------------------------------------------------------


def test_rate_limit_blocks_with_403_and_counts_every_method() -> None:
    with running_reference(rate_limit="4/m") as running, httpx.Client(base_url=running.url) as lms:
        form = {
            "grant_type": "client_credentials",
            "client_id": running.env["EDX_OAUTH_CLIENT_ID"],
            "client_secret": running.env["EDX_OAUTH_CLIENT_SECRET"],
        }
        statuses = [lms.post("/oauth2/access_token", data=form).status_code for _ in range(3)]
        statuses.append(lms.get("/oauth2/access_token").status_code)
        assert statuses == [200, 200, 200, 405]
        assert lms.post("/oauth2/access_token", data=form).status_code == 403
        assert lms.get("/oauth2/access_token").status_code == 403
        # The resource is not limited.
        assert lms.get("/api/user/v1/me").status_code == 401


def test_latency_delays_every_response() -> None:
    with running_reference(latency_ms=150) as running:
        for url in (f"{running.url}/api/user/v1/me", f"{running.discovery_url}/api/v1/catalogs/"):
            started = time.monotonic()
            httpx.get(url)
            assert time.monotonic() - started >= 0.15


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.reference.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unknown_fault_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("serve", "--state-dir", str(tmp_path), "--fault", "no-such-fault")
    assert result.returncode == 2
    assert "unknown fault 'no-such-fault'" in result.stderr
    assert "wrong-issuer" in result.stderr
    assert not list(tmp_path.iterdir()), "nothing is started or written"


@pytest.mark.parametrize("args", [["--rate-limit", "lots"], ["--latency-ms", "-1"], ["--port", "70000"]])
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    result = run_cli("serve", "--state-dir", str(tmp_path), *args)
    assert result.returncode == 2
    assert "error" in result.stderr


def test_list_faults_json() -> None:
    result = run_cli("list-faults", "--format", "json")
    assert result.returncode == 0
    table = json.loads(result.stdout)
    assert [entry["name"] for entry in table] == [fault.name for fault in FAULTS]
    for entry in table:
        assert set(entry) == {
            "name",
            "description",
            "area",
            "catches",
            "collateral",
            "cause",
            "profile_overlay",
            "rate_limit",
        }
        assert isinstance(entry["catches"], list)
        # The cause a run names first for the fault (None: the check it breaks is its own cause).
        assert entry["cause"] is None or isinstance(entry["cause"], str)
    # What reproduces a fault run from outside the project: its profile overlay and its rate limit.
    by_name = {entry["name"]: entry for entry in table}
    for fault in FAULTS:
        assert by_name[fault.name]["profile_overlay"] == fault.profile
        assert by_name[fault.name]["rate_limit"] == fault.rate_limit
        if fault.rate_limit is not None:
            assert reference_cli.RATE_RE.match(fault.rate_limit)
    assert any(entry["profile_overlay"] for entry in table)
    assert any(entry["rate_limit"] for entry in table)


def test_list_faults_text() -> None:
    result = run_cli("list-faults")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == len(FAULTS)


def test_register_adds_the_subcommands() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    reference_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reference", "serve", "--fault", "wrong-issuer", "--fault", "secret-prefix"])
    assert args.fault == ["wrong-issuer", "secret-prefix"]
    assert args.rate_limit == "120/m" and args.port == 0 and args.latency_ms == 0
    assert callable(args.func)
    assert callable(parser.parse_args(["reference", "list-faults"]).func)


def test_cli_module_does_not_import_django() -> None:
    code = (
        "import sys, conformance.reference.cli, conformance.reference.launcher\n"
        "print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert result.stdout.strip() == "False"


# one state dir, one server; names --------------------------------------------------------------------


def test_a_second_serve_on_the_same_state_dir_refuses(tmp_path: Path) -> None:
    first = serve("--name", "first", state_dir=tmp_path)
    try:
        read_until_ready(first)
        before = (tmp_path / "profile.toml").read_text()
        second = run_cli("serve", "--state-dir", str(tmp_path), "--name", "second")
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by another `reference serve`" in lines[0], second.stderr
        assert f"pid {first.pid}" in lines[0]
        # The running instance is untouched: same profile, still answering.
        assert (tmp_path / "profile.toml").read_text() == before
        assert not refuses_connections(tomllib.loads(before)["base_url"], within=0.5)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=15)


def test_a_dead_servers_lock_file_is_taken_over(tmp_path: Path) -> None:
    # A lock file left by a process that is gone (no lock held): the next serve starts normally.
    (tmp_path / reference_cli.LOCK_FILE).write_text("999999\n")
    process = serve(state_dir=tmp_path)
    try:
        read_until_ready(process)
        assert (tmp_path / reference_cli.LOCK_FILE).read_text().strip() == str(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def test_two_named_instances_run_side_by_side(tmp_path: Path) -> None:
    with (
        running_reference(state_dir=tmp_path / "a", name="staging", faults=["no-pragma"]) as a,
        running_reference(state_dir=tmp_path / "b", name="production") as b,
    ):
        names = {tomllib.loads(r.profile_path.read_text())["name"] for r in (a, b)}
        assert names == {"staging", "production"}
        assert a.url != b.url


def test_default_name_is_reference_and_a_bad_name_is_a_usage_error(
    ref: RunningReference, tmp_path: Path
) -> None:
    assert tomllib.loads(ref.profile_path.read_text())["name"] == "reference"
    result = run_cli("serve", "--state-dir", str(tmp_path), "--name", "../etc")
    assert result.returncode == 2 and "--name" in result.stderr
