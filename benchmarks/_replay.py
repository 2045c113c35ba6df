"""The floor: the suite's own request sequence, replayed by one httpx.Client with no pytest.

The sequence comes from a finished run's ``allure-results/``: every exchange the suite made inside
a check is attached there, redacted, in order (results sorted by start time; attachments in the
order they were made). The one exchange made outside a check, the reachability probe of
``pytest_sessionstart``, is put back first.

Redacted values are filled in with real ones, chosen so that the server does the same work as in
the recorded run: the real client secret or password where the recorded response accepted them, a
wrong one where it answered ``invalid_client`` / ``invalid_grant``; the most recent token the
replay itself obtained where a resource answered 200, a token with a broken signature (JWT) or an
unknown one (Bearer) where it answered 401. Tokens are fresh: the replay's own token requests
issue them, as the suite's did. The replay reports how many statuses matched the recording.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx

MASK = "[REDACTED]"
EXCHANGE_NAME = re.compile(r"^[A-Z]+ \S+ -> \d+$")
DROP_HEADERS = {"host", "content-length", "connection", "accept-encoding", "user-agent", "accept"}


@dataclass
class Recorded:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str
    status: int
    response_body: str

    @property
    def error(self) -> str | None:
        try:
            data = json.loads(self.response_body)
        except ValueError:
            return None
        return data.get("error") if isinstance(data, dict) else None


def parse_exchange(text: str) -> Recorded:
    """The inverse of ``Exchange.describe``."""
    request, _, response = text.partition("\n\n--- ")
    head, _, body = request.partition("\n\n")
    lines = head.split("\n")
    method, url = lines[0].split(" ", 1)
    headers = [tuple(line.split(": ", 1)) for line in lines[1:] if ": " in line]
    status_line, _, rest = response.partition("\n")
    _, _, response_body = rest.partition("\n\n")
    return Recorded(
        method=method,
        url=url,
        headers=headers,  # type: ignore[arg-type]
        body=body.rstrip("\n") if body.strip() else "",
        status=int(status_line.split(" ", 1)[0]),
        response_body=response_body,
    )


def _attachments(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(node.get("attachments", []))
    for step in node.get("steps", []):
        found += _attachments(step)
    return found


def load_sequence(
    allure_dir: Path, base_url: str, token_path: str = "/oauth2/access_token"
) -> list[Recorded]:
    """The recorded exchanges of a sequential run, in the order they were sent."""
    results = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    containers = [json.loads(p.read_text()) for p in allure_dir.glob("*-container.json")]
    timed: list[tuple[int, int, dict[str, Any]]] = []
    for result in results:
        for index, attachment in enumerate(_attachments(result)):
            timed.append((result.get("start", 0), index, attachment))
    for container in containers:  # fixture set-up/tear-down (none make requests today)
        for fixture in container.get("befores", []) + container.get("afters", []):
            for index, attachment in enumerate(_attachments(fixture)):
                timed.append((fixture.get("start", 0), index, attachment))
    timed.sort(key=lambda t: (t[0], t[1]))
    sequence = []
    for _, _, attachment in timed:
        if EXCHANGE_NAME.match(attachment["name"]):
            sequence.append(parse_exchange((allure_dir / attachment["source"]).read_text()))
    # The reachability probe (pytest_sessionstart) is made outside any check: put it back first.
    sequence.insert(0, Recorded("GET", base_url.rstrip("/") + token_path, [], "", 405, ""))
    return sequence


@dataclass
class Secrets:
    client_id: str
    client_secret: str
    public_client_id: str
    username: str
    password: str

    @classmethod
    def from_env(cls, env: dict[str, str], prefix: str = "") -> Secrets:
        return cls(
            client_id=env[f"{prefix}EDX_OAUTH_CLIENT_ID"],
            client_secret=env[f"{prefix}EDX_OAUTH_CLIENT_SECRET"],
            public_client_id=env[f"{prefix}EDX_PUBLIC_CLIENT_ID"],
            username=env[f"{prefix}EDX_TEST_USERNAME"],
            password=env[f"{prefix}EDX_TEST_PASSWORD"],
        )


@dataclass
class ReplayResult:
    seconds: float
    requests: int
    token_requests: int
    matched: int
    mismatches: list[str] = field(default_factory=list)


class _Tokens:
    def __init__(self) -> None:
        self.jwt: str | None = None
        self.bearer: str | None = None
        self.access: str | None = None
        self.refresh: list[str] = []

    def take(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            return
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            return
        self.access = body["access_token"]
        if str(body.get("token_type", "")).lower() == "jwt":
            self.jwt = self.access
        else:
            self.bearer = self.access
        if body.get("refresh_token"):
            self.refresh.append(body["refresh_token"])


def _broken_signature(token: str | None) -> str:
    if not token:
        return "eyJhbGciOiJIUzI1NiJ9.e30." + secrets.token_urlsafe(32)
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _fill(recorded: Recorded, creds: Secrets, tokens: _Tokens) -> tuple[dict[str, str], str, str]:
    """Headers, URL and body of the replayed request, with real values for the redacted ones."""
    bad_client = recorded.error == "invalid_client" or recorded.status == 401
    bad_grant = recorded.error == "invalid_grant"
    secret = "wrong-" + creds.client_secret if bad_client else creds.client_secret
    values = {
        "client_secret": secret,
        "client_id": creds.public_client_id,  # the only client id that gets redacted
        "password": (secrets.token_urlsafe(12) if bad_grant else creds.password),
        "access_token": tokens.access or secrets.token_urlsafe(30),
    }
    refresh = tokens.refresh[-1] if tokens.refresh else secrets.token_urlsafe(30)
    if recorded.status != 200:  # e.g. a rotated (already used) refresh token
        refresh = tokens.refresh[-2] if len(tokens.refresh) > 1 else refresh
    values["refresh_token"] = refresh
    body = recorded.body
    if "token_type_hint=refresh_token" in body:
        values["token"] = tokens.refresh[-1] if tokens.refresh else secrets.token_urlsafe(30)
    else:
        values["token"] = tokens.access or secrets.token_urlsafe(30)

    def form(match: re.Match[str]) -> str:
        return f"{match.group(1)}={quote_plus(values.get(match.group(1), secrets.token_urlsafe(16)))}"

    def member(match: re.Match[str]) -> str:
        return f'"{match.group(1)}": "{values.get(match.group(1), "x")}"'

    body = re.sub(r"(\w+)=\[REDACTED\]", form, body)
    body = re.sub(r'"(\w+)": "\[REDACTED\]"', member, body)
    url = re.sub(r"(\w+)=\[REDACTED\]", form, recorded.url)
    headers: dict[str, str] = {}
    for name, value in recorded.headers:
        if name.lower() in DROP_HEADERS:
            continue
        if name.lower() == "authorization" and MASK in value:
            scheme = value.split(" ", 1)[0]
            if scheme.lower() == "basic":
                pair = f"{quote_plus(creds.client_id)}:{quote_plus(secret)}".encode()
                value = "Basic " + base64.b64encode(pair).decode()
            elif scheme.lower() == "jwt":
                good_jwt = tokens.jwt or "" if recorded.status == 200 else None
                value = "JWT " + (good_jwt if good_jwt is not None else _broken_signature(tokens.jwt))
            else:
                good = recorded.status == 200 and tokens.bearer
                value = "Bearer " + (tokens.bearer if good else secrets.token_urlsafe(30))  # type: ignore[operator]
        headers[name] = value
    return headers, url, body


def replay(
    sequence: list[Recorded],
    creds: Secrets,
    origins: dict[str, str],
    token_path: str = "/oauth2/access_token",
    timeout_s: float = 10.0,
) -> ReplayResult:
    """Send the sequence one request at a time; ``origins`` maps recorded to target origins."""
    tokens = _Tokens()
    matched, mismatches, token_requests = 0, [], 0
    started = time.perf_counter()
    with httpx.Client(
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "openedx-oauth-conformance-floor"},
    ) as client:
        for recorded in sequence:
            headers, url, body = _fill(recorded, creds, tokens)
            for old, new in origins.items():
                if url.startswith(old):
                    url = new + url[len(old) :]
            response = client.request(
                recorded.method, url, headers=headers, content=body.encode() if body else None
            )
            response.read()
            if urlsplit(url).path.rstrip("/") == token_path:
                token_requests += 1
                tokens.take(response)
            if response.status_code == recorded.status:
                matched += 1
            else:
                path = urlsplit(url).path
                mismatches.append(
                    f"{recorded.method} {path}: {response.status_code}, recorded {recorded.status}"
                )
    return ReplayResult(time.perf_counter() - started, len(sequence), token_requests, matched, mismatches)


def main() -> int:
    """``python _replay.py < job.json``: the replay in a process of its own (no GIL shared with the
    benchmark's proxy), secrets from the environment (``prefix`` + EDX_...), results as JSON."""
    started = time.monotonic()
    job = json.load(sys.stdin)
    sequence = [Recorded(**{**r, "headers": [tuple(h) for h in r["headers"]]}) for r in job["sequence"]]
    creds = Secrets.from_env(dict(os.environ), job.get("prefix", ""))
    results = []
    for _ in range(job.get("warmups", 0)):
        replay(sequence, creds, job["origins"])
    for _ in range(job.get("repeats", 1)):
        results.append(asdict(replay(sequence, creds, job["origins"])))
    json.dump({"results": results, "process_s": time.monotonic() - started}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
