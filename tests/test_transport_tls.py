"""Transport proven end to end: `reference serve --tls` behaves like a real TLS front, the transport
checks pass against it, and an https instance that answers the probe and then hangs ends quickly.

The transport faults themselves (expired and expiring certificates, TLS 1.0/1.1, no HSTS, plain-http
token endpoint, an http issuer behind TLS) run in the fault matrix (tests/test_fault_matrix.py).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import stat
import threading
import tomllib
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance.reference.launcher import RunningReference, running_reference
from conformance.reference.tls import HSTS, Front, make_certificates, server_context
from conformance.selftest.mutation import to_toml
from tests.conftest import run_cli
from tests.hostile_server import HostileServer

TRANSPORT_CASES = {
    "transport.https.token-endpoint[answered-over-https]",
    "transport.https.token-endpoint[https-issuer]",
    "transport.tls.version[negotiated]",
    "transport.tls.version[legacy-refused]",
    "transport.tls.certificate",
    "transport.tls.certificate-expiry",
    "transport.hsts",
    "transport.plain-http.no-token",
}


@pytest.fixture(scope="module")
def tls_reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReference]:
    with running_reference(state_dir=tmp_path_factory.mktemp("tls-reference") / "state", tls=True) as ref:
        yield ref


def _profile(ref: RunningReference) -> dict[str, Any]:
    return tomllib.loads(ref.profile_path.read_text())


# What `serve --tls` writes ----------------------------------------------------------------------


def test_profile_trusts_the_generated_ca_and_opts_into_loopback_tls(tls_reference: RunningReference) -> None:
    profile = _profile(tls_reference)
    assert profile["base_url"].startswith("https://127.0.0.1:")
    assert profile["jwt"]["issuer"] == profile["base_url"] + "/oauth2"
    assert profile["services"][0]["base_url"].startswith("https://127.0.0.1:")
    assert profile["ca_bundle"] == "ca.pem"
    assert profile["options"]["loopback_tls"] is True
    assert isinstance(profile["options"]["plain_http_port"], int)


def test_ca_is_public_and_private_keys_stay_in_the_0600_state_dir(tls_reference: RunningReference) -> None:
    from cryptography import x509

    state = tls_reference.state_dir
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    ca = x509.load_pem_x509_certificate((state / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE((state / "tls-key.pem").stat().st_mode) == 0o600
    # The CA's key exists only in memory while the certificates are made: no file holds a key but
    # the TLS server's and the JWT signing key.
    holding_keys = sorted(p.name for p in state.iterdir() if p.is_file() and b"PRIVATE KEY" in p.read_bytes())
    assert holding_keys == ["jwt-private.pem", "tls-key.pem"]


def test_certificate_verifies_for_127_0_0_1_and_localhost(tls_reference: RunningReference) -> None:
    port = int(tls_reference.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(tls_reference.state_dir / "ca.pem"))
    for host in ("127.0.0.1", "localhost"):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_stopping_closes_every_listener(tmp_path: Path) -> None:
    with running_reference(state_dir=tmp_path / "state", tls=True) as ref:
        profile = _profile(ref)
        ports = [
            int(profile["base_url"].rsplit(":", 1)[1]),
            int(profile["services"][0]["base_url"].rsplit(":", 1)[1]),
            profile["options"]["plain_http_port"],
        ]
        for port in ports:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()


# The front behaves like Tutor's Caddy (plus HSTS) ---------------------------------------------


def test_https_answers_come_from_the_lms_with_hsts(tls_reference: RunningReference) -> None:
    with httpx.Client(verify=str(tls_reference.state_dir / "ca.pem")) as client:
        answer = client.get(tls_reference.url + "/oauth2/access_token")
    assert answer.status_code == 405 and "POST" in answer.headers["allow"]
    assert answer.headers["strict-transport-security"] == HSTS


def test_plain_http_redirects_to_https_like_caddy(tls_reference: RunningReference) -> None:
    port = _profile(tls_reference)["options"]["plain_http_port"]
    answer = httpx.post(
        f"http://127.0.0.1:{port}/oauth2/access_token", data={"grant_type": "client_credentials"}
    )
    assert answer.status_code == 308
    assert answer.headers["location"] == tls_reference.url + "/oauth2/access_token"
    assert "strict-transport-security" not in answer.headers  # RFC 6797 7.2: never over http
    assert answer.content == b""


def test_tls_1_0_and_1_1_are_refused(tls_reference: RunningReference) -> None:
    port = int(tls_reference.url.rsplit(":", 1)[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.seen.append({**dict(self.headers.items()), "body": body.decode()})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_front_forwards_the_scheme_and_disables_nagle(tmp_path: Path) -> None:
    upstream = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listener = socket.create_server(("127.0.0.1", 0))
    certificates = make_certificates(tmp_path)
    front = Front(
        listener, upstream_port=upstream.server_address[1], tls=server_context(certificates)
    ).start()
    port = listener.getsockname()[1]
    try:
        client = http.client.HTTPSConnection(
            "127.0.0.1", port, context=ssl.create_default_context(cafile=str(certificates.ca_path))
        )
        client.request(
            "POST", "/oauth2/access_token", body="grant_type=x", headers={"X-Forwarded-Proto": "http"}
        )
        answer = client.getresponse()
        assert (answer.status, answer.read()) == (200, b"{}")
        assert answer.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert answer.headers["Strict-Transport-Security"] == HSTS
        seen = _Recorder.seen[-1]
        # The client's own X-Forwarded-Proto is replaced: the LMS trusts this header for its scheme.
        assert seen["X-Forwarded-Proto"] == "https"
        assert seen["X-Forwarded-For"] == "127.0.0.1"
        assert seen["X-Forwarded-Host"] == f"127.0.0.1:{port}"
        assert seen["X-Forwarded-Port"] == str(port)
        assert seen["body"] == "grant_type=x" and seen["Content-Length"] == "12"
        client.close()
    finally:
        front.stop()
        upstream.shutdown()
        upstream.server_close()


def test_front_disables_nagle_on_accepted_connections() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    front = Front(listener, upstream_port=9, tls=None)  # not started: accept by hand
    try:
        with socket.create_connection(listener.getsockname()) as _client:
            accepted, _ = front._server.get_request()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        front.stop()


# The suite against it -----------------------------------------------------------------------------


def _transport_outcomes(result: Any) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in result.summary()["checks"] if c["area"] == "transport"}


def test_transport_checks_pass_against_serve_tls(tls_reference: RunningReference, tmp_path: Path) -> None:
    argv = ["run", "--profile", str(tls_reference.profile_path), "--select", "transport", "--strict"]
    result = run_cli([*argv, "--no-html"], env=tls_reference.env, report_dir=tmp_path / "report")
    assert result.code == 0, result.console[-3000:]
    assert _transport_outcomes(result) == dict.fromkeys(TRANSPORT_CASES, "passed")


def test_loopback_https_without_the_option_is_not_applicable(
    tls_reference: RunningReference, tmp_path: Path
) -> None:
    data = _profile(tls_reference)
    del data["options"]["loopback_tls"]
    data["ca_bundle"] = str(tls_reference.state_dir / "ca.pem")
    profile = tmp_path / "profile.toml"
    profile.write_text(to_toml(data))
    argv = ["run", "--profile", str(profile), "--select", "transport", "--no-html"]
    result = run_cli(argv, env=tls_reference.env, report_dir=tmp_path / "report")
    assert _transport_outcomes(result) == dict.fromkeys(TRANSPORT_CASES, "skipped"), result.console[-2000:]
    assert "options.loopback_tls" in result.summary()["checks"][0]["message"]


def test_run_without_profile_can_start_the_tls_reference(tmp_path: Path) -> None:
    argv = ["run", "--reference-tls", "--select", "transport", "--strict", "--no-html"]
    result = run_cli(argv, report_dir=tmp_path / "report")
    assert result.code == 0, result.console[-3000:]
    assert "reference instance at https://127.0.0.1:" in result.console
    assert _transport_outcomes(result) == dict.fromkeys(TRANSPORT_CASES, "passed")


def test_reference_tls_with_a_profile_is_a_usage_error(tls_reference: RunningReference) -> None:
    result = run_cli(["run", "--reference-tls", "--profile", str(tls_reference.profile_path)])
    assert result.code == 2
    assert "--reference-tls" in result.err


def test_tls_faults_need_tls(tmp_path: Path) -> None:
    result = run_cli(["reference", "serve", "--fault", "no-hsts", "--state-dir", str(tmp_path)])
    assert result.code == 2
    assert "add --tls" in result.err


# TLS accepted, then silence ----------------------------------------------------------------------


def test_tls_accepted_then_silence_ends_quickly_with_exit_3(tmp_path: Path) -> None:
    from tests.test_hostile import PROFILE, leaks
    from tests.test_hostile import run_cli as run_hostile

    with HostileServer("tls-silent", tls_dir=tmp_path / "tls") as server:
        profile = tmp_path / "tls-silent.toml"
        profile.write_text(PROFILE.format(name="hostile-tls-silent", base_url=server.url, timeout=2))
        assert server.cert_path is not None
        run = run_hostile(
            "tls-silent", profile, tmp_path / "report", "--ca-bundle", str(server.cert_path), bound=65
        )
    assert run.code is not None, f"still running after 65 s (killed): a hang\n{run.console[-2000:]}"
    assert "Traceback (most recent call last)" not in run.console
    assert not leaks(run.console)
    assert (run.code, run.seconds < 60) == (3, True), f"exit {run.code} in {run.seconds:.0f} s"
