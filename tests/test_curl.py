"""The "reproduce with curl" line reproduces the request: run in a shell with the profile's
variables exported, it makes a capture server receive what the suite sent; and it shows no secret."""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import pytest
from faker import Faker

from conformance._lib.curl import curl_line
from conformance._lib.forge import forge_jwt, vectors_for
from conformance._lib.http import Exchange, Http
from conformance._lib.jwts import sign_hmac
from conformance._lib.profile import Profile, profile_from_data

ENV = {
    "EDX_OAUTH_CLIENT_ID": "curl-client-id",
    "EDX_OAUTH_CLIENT_SECRET": "Curl-Secret_value-that-is-long-9dK2/+x",
    "EDX_PUBLIC_CLIENT_ID": "curl-public-client",
    "EDX_TEST_USERNAME": "curl_learner",
    "EDX_TEST_PASSWORD": "pass word&with=odd+chars%41",
}
SECRETS = [ENV["EDX_OAUTH_CLIENT_SECRET"], ENV["EDX_TEST_PASSWORD"]]


def _send_json(handler: http.server.BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _remember(self) -> None:
        """Keep the request (method, path, headers, body) in `seen`."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )

    def _record(self) -> None:
        self._remember()
        _send_json(self, 401, b'{"error": "invalid_client"}')

    do_POST = do_GET = _record

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Capture.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Capture.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def profile_for(base_url: str) -> Profile:
    data = {
        "name": "curl",
        "base_url": base_url,
        "client": {"id": "${EDX_OAUTH_CLIENT_ID}", "secret": "${EDX_OAUTH_CLIENT_SECRET}"},
        "password_grant": {
            "client_id": "${EDX_PUBLIC_CLIENT_ID}",
            "username": "${EDX_TEST_USERNAME}",
            "password": "${EDX_TEST_PASSWORD}",
        },
    }
    return profile_from_data(data, ENV)


def send(base_url: str, **kwargs: Any) -> Exchange:
    exchanges: list[Exchange] = []
    http = Http(base_url, on_exchange=exchanges.append)
    try:
        http.request("POST", kwargs.pop("path", "/oauth2/access_token"), **kwargs)
    finally:
        http.close()
    return exchanges[-1]


def replay(line: str) -> subprocess.CompletedProcess[str]:
    """Run the line as the report holds it: after the redaction pass over every artifact."""
    from conformance._lib.redact import REDACTOR

    return subprocess.run(
        ["bash", "-c", REDACTOR.redact(line)],
        env={"PATH": "/usr/bin:/bin", **ENV},
        capture_output=True,
        text=True,
        timeout=30,
    )


def header(request: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


def assert_same_request(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert second["method"] == first["method"]
    assert second["path"] == first["path"]
    assert header(second, "Authorization") == header(first, "Authorization")
    assert sorted(parse_qsl(second["body"], keep_blank_values=True)) == sorted(
        parse_qsl(first["body"], keep_blank_values=True)
    )


def test_basic_auth_and_form_replay_with_the_profile_variables(server):
    base_url, seen = server
    profile = profile_for(base_url)
    ex = send(
        base_url,
        auth=(ENV["EDX_OAUTH_CLIENT_ID"], ENV["EDX_OAUTH_CLIENT_SECRET"]),
        data={"grant_type": "client_credentials", "token_type": "jwt"},
    )
    line = curl_line(ex, profile)
    assert not any(secret in line for secret in SECRETS)
    # The secret has characters that RFC 6749 2.3.1 form-encodes before base64: the shell computes it.
    assert line.splitlines()[1].startswith("BASIC_AUTH=$(python3 -c ")
    assert 'Basic \'"$BASIC_AUTH"' in line
    assert line.startswith("# export first: $EDX_OAUTH_CLIENT_ID, $EDX_OAUTH_CLIENT_SECRET")
    assert replay(line).returncode == 0
    assert len(seen) == 2
    assert_same_request(seen[0], seen[1])
    pair = f"{quote_plus(ENV['EDX_OAUTH_CLIENT_ID'])}:{quote_plus(ENV['EDX_OAUTH_CLIENT_SECRET'])}"
    expected = base64.b64encode(pair.encode())
    assert header(seen[1], "Authorization") == f"Basic {expected.decode()}"


def test_a_url_safe_secret_replays_with_curl_u(server):
    base_url, seen = server
    env = dict(ENV, EDX_OAUTH_CLIENT_SECRET="UrlSafe_secret-value-0123456789abcdefXYZ")
    data = {"name": "curl", "base_url": base_url}
    data["client"] = {"id": "${EDX_OAUTH_CLIENT_ID}", "secret": "${EDX_OAUTH_CLIENT_SECRET}"}
    profile = profile_from_data(data, env)
    ex = send(
        base_url, auth=(env["EDX_OAUTH_CLIENT_ID"], env["EDX_OAUTH_CLIENT_SECRET"]), data={"grant_type": "x"}
    )
    line = curl_line(ex, profile)
    assert ' -u "$EDX_OAUTH_CLIENT_ID"\':\'"$EDX_OAUTH_CLIENT_SECRET" ' in line
    result = subprocess.run(
        ["bash", "-c", line], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert_same_request(seen[0], seen[1])


def test_password_grant_in_the_body_replays(server):
    base_url, seen = server
    profile = profile_for(base_url)
    ex = send(
        base_url,
        data={
            "grant_type": "password",
            "client_id": ENV["EDX_PUBLIC_CLIENT_ID"],
            "username": ENV["EDX_TEST_USERNAME"],
            "password": ENV["EDX_TEST_PASSWORD"],
        },
    )
    line = curl_line(ex, profile)
    assert '"$EDX_TEST_PASSWORD"' in line and ENV["EDX_TEST_PASSWORD"] not in line
    assert replay(line).returncode == 0
    assert_same_request(seen[0], seen[1])
    assert dict(parse_qsl(seen[1]["body"]))["password"] == ENV["EDX_TEST_PASSWORD"]


def test_a_forged_token_is_spelled_out(server):
    base_url, seen = server
    profile = profile_for(base_url)
    genuine = sign_hmac(
        {"alg": "HS256", "typ": "JWT"}, {"sub": "x", "exp": 2}, b"a genuine signing secret", "sha256"
    )
    vector = next(
        v for v in vectors_for("jwt-attacks", "jwt-attacks.bad-signature") if v["id"] == "foreign-hmac-key"
    )
    forged = forge_jwt(vector, genuine, None, Faker())
    ex = send(base_url, path="/api/user/v1/me", headers={"Authorization": f"JWT {forged}"})
    line = curl_line(ex, profile)
    assert forged in line  # the test input itself, not a credential
    from conformance._lib.redact import REDACTOR

    assert forged in REDACTOR.redact(line)  # and still there after the report's redaction pass
    assert genuine not in line and genuine.rsplit(".", 1)[1] not in line
    assert replay(line).returncode == 0
    assert header(seen[1], "Authorization") == f"JWT {forged}"


def test_a_tampered_token_keeps_its_genuine_signature_secret(server):
    base_url, _ = server
    genuine = sign_hmac(
        {"alg": "HS256", "typ": "JWT"}, {"sub": "x", "exp": 2}, b"a genuine signing secret", "sha256"
    )
    vector = next(
        v for v in vectors_for("jwt-attacks", "jwt-attacks.tampered-payload") if v["id"] == "exp-extended"
    )
    forged = forge_jwt(vector, genuine, None, Faker())
    line = curl_line(send(base_url, path="/api/user/v1/me", headers={"Authorization": f"JWT {forged}"}))
    assert forged.rsplit(".", 1)[0] in line
    assert genuine.rsplit(".", 1)[1] not in line
    assert '"$GENUINE_JWT_SIGNATURE"' in line


def test_secrets_the_profile_does_not_name_become_named_placeholders(server):
    base_url, _ = server
    profile = profile_for(base_url)
    wrong = ENV["EDX_OAUTH_CLIENT_SECRET"][:-1]  # a secret variant: derived from the real one
    from conformance._lib.redact import REDACTOR

    REDACTOR.add(wrong)
    line = curl_line(
        send(base_url, data={"grant_type": "client_credentials", "client_id": "x", "client_secret": wrong}),
        profile,
    )
    assert wrong not in line and '"$WRONG_CLIENT_SECRET"' in line


def test_an_undecodable_basic_header_is_a_placeholder():
    import httpx

    ex = Exchange(
        "POST",
        "http://127.0.0.1:9/oauth2/access_token",
        {"Authorization": "Basic not*base64!"},
        b"",
        401,
        httpx.Headers(),
        b"",
        1.0,
    )
    line = curl_line(ex)
    assert '-u "$BASIC_CREDENTIALS"' in line and "not*base64!" not in line
    assert "$BASIC_CREDENTIALS" in line.splitlines()[0]  # named in the note


class _Issuer(_Capture):
    """Like _Capture, but the token endpoint issues a new JWT-shaped token each time."""

    issued: list[str] = []

    def _record(self) -> None:
        if self.path != "/oauth2/access_token":
            return super()._record()
        self._remember()
        token = f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.signature-{len(self.issued) + 1}-Qx7v"
        self.issued.append(token)
        from conformance._lib.redact import REDACTOR

        REDACTOR.add(token)  # as the suite's token helper registers every token it obtains
        payload = json.dumps({"access_token": token, "token_type": "JWT", "expires_in": 3600}).encode()
        _send_json(self, 200, payload)

    do_POST = do_GET = _record


@pytest.fixture
def issuer() -> Iterator[tuple[str, list[dict[str, Any]], list[str]]]:
    _Capture.seen = []
    _Issuer.issued = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Issuer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Capture.seen, _Issuer.issued
    finally:
        httpd.shutdown()
        httpd.server_close()


def _token_request(base_url: str) -> Exchange:
    return send(
        base_url,
        auth=(ENV["EDX_OAUTH_CLIENT_ID"], ENV["EDX_OAUTH_CLIENT_SECRET"]),
        data={"grant_type": "client_credentials", "token_type": "jwt"},
    )


def test_an_access_token_is_obtained_again_by_a_line_of_its_own(issuer):
    base_url, seen, issued = issuer
    profile = profile_for(base_url)
    obtained = _token_request(base_url)
    probe = send(base_url, path="/api/user/v1/me", headers={"Authorization": f"JWT {issued[0]}"})
    line = curl_line(probe, profile, [obtained])
    assert issued[0] not in line
    assert '\nACCESS_TOKEN="$(curl -sS -X POST ' in line and "| python3 -c " in line
    assert "nobody" not in line and "set it yourself" not in line  # every variable is the profile's or set
    assert line.startswith("# export first: $EDX_OAUTH_CLIENT_ID, $EDX_OAUTH_CLIENT_SECRET")
    result = replay(line)
    assert result.returncode == 0, result.stderr
    assert len(seen) == 4 and len(issued) == 2  # the replay asked for a token of its own
    assert_same_request(seen[0], seen[2])  # the same token request
    assert header(seen[3], "Authorization") == f"JWT {issued[1]}"  # sent with the token it obtained


def test_without_the_exchange_that_issued_it_the_token_is_a_placeholder_that_says_so(issuer):
    base_url, _, issued = issuer
    _token_request(base_url)
    probe = send(base_url, path="/api/user/v1/me", headers={"Authorization": f"JWT {issued[0]}"})
    line = curl_line(probe, profile_for(base_url))
    assert '"$ACCESS_TOKEN"' in line and issued[0] not in line
    assert "# $ACCESS_TOKEN: a value of this run that no request here obtains again" in line


def test_a_tampered_token_gets_a_genuine_signature_from_a_token_obtained_again(issuer):
    base_url, seen, issued = issuer
    profile = profile_for(base_url)
    obtained = _token_request(base_url)
    vector = next(
        v for v in vectors_for("jwt-attacks", "jwt-attacks.tampered-payload") if v["id"] == "exp-extended"
    )
    forged = forge_jwt(vector, issued[0], None, Faker())
    probe = send(base_url, path="/api/user/v1/me", headers={"Authorization": f"JWT {forged}"})
    line = curl_line(probe, profile, [obtained])
    assert issued[0].rsplit(".", 1)[1] not in line
    assert 'GENUINE_JWT_SIGNATURE="$(curl ' in line and "set it yourself" not in line
    result = replay(line)
    assert result.returncode == 0, result.stderr
    sent = header(seen[-1], "Authorization")
    assert sent == f"JWT {forged.rsplit('.', 1)[0]}.{issued[1].rsplit('.', 1)[1]}"


def _failed_attachments(results_dir):
    """Each failed case's attachments in allure-results/: [{attachment name: text}]."""
    found = []
    for path in sorted(results_dir.glob("*-result.json")):
        result = json.loads(path.read_text())
        if result["status"] != "failed":
            continue
        nodes, todo = [], [result]
        while todo:
            node = todo.pop()
            nodes.append(node)
            todo += node.get("steps", [])
        found.append(
            {
                attachment["name"]: (results_dir / attachment["source"]).read_text()
                for node in nodes
                for attachment in node.get("attachments", [])
            }
        )
    return found


def test_the_report_attachment_runs_as_pasted_against_the_reference(tmp_path):
    """A case that fails on the reference instance (a fault: the LMS's API refuses its own HS256
    JWTs): its "reproduce with curl" attachment, run by bash with only the profile's variables
    exported, obtains a token of its own and gets the answer the case got."""
    pytest.importorskip("django")
    from conformance.reference.launcher import running_reference
    from tests.conftest import run_cli

    with running_reference(state_dir=tmp_path / "state", faults=["lms-secret-divergence"]) as ref:
        argv = ["run", "--profile", str(ref.profile_path), "--no-html", "--select", "resources.jwt.accepted"]
        result = run_cli(argv, env=ref.env, report_dir=tmp_path / "report")
        assert result.code == 1, result.console[-2000:]
        failed = [c for c in result.summary()["checks"] if c["outcome"] == "failed"]
        assert [c["id"] for c in failed] == ["resources.jwt.accepted[default]"]
        (attachments,) = _failed_attachments(tmp_path / "report" / "allure-results")
        line = attachments["reproduce with curl"]
        got = attachments["GET /api/user/v1/me -> 401"]  # the exchange as the case recorded it
        assert 'ACCESS_TOKEN="$(curl ' in line and "set it yourself" not in line
        assert not any(value in line for value in ref.env.values() if len(value) >= 8)
        replayed = subprocess.run(
            ["bash", "-c", line],
            env={"PATH": "/usr/bin:/bin", **ref.env},  # what the profile's `${VAR}`s name, no more
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert replayed.returncode == 0, replayed.stderr
    status = replayed.stdout.splitlines()[0]
    assert status.startswith("HTTP/1.1 401"), replayed.stdout[:500]
    body = replayed.stdout.split("\n\n", 1)[1].strip()  # text mode: curl's CRLFs read as newlines
    assert json.loads(body) == json.loads(got.rsplit("\n\n", 1)[1]) == {"detail": "Invalid token."}
