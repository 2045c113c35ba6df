"""The one HTTP client: timeouts, body-size limit, request budget, no redirects, redacted records.

Exceptions (all derive from `HttpProblem`):
    HttpProblem
     +-- Unreachable       nothing answered (DNS, refused, TLS, timeout, reset)
     +-- BudgetExhausted   the run used up its request budget (gentle on production)
     +-- RateLimited       the token endpoint said 403/429 without an OAuth error body
"""

from __future__ import annotations

import base64
import json
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit

import httpx

from conformance._lib.redact import REDACTOR

__all__ = [
    "BudgetExhausted",
    "Exchange",
    "Http",
    "HttpProblem",
    "RateLimited",
    "Unreachable",
]

MAX_BODY = 1_000_000
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")


class HttpProblem(Exception):
    """The exchange could not be judged; the message is safe to print."""


class Unreachable(HttpProblem):
    pass


class BudgetExhausted(HttpProblem):
    pass


class RateLimited(HttpProblem):
    pass


@dataclass
class Exchange:
    """One request and its response, as sent and received (redact before showing)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float
    truncated: bool = False
    _json: Any = field(default=None, repr=False)
    _json_done: bool = field(default=False, repr=False)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body) if self.body else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def describe(self) -> str:
        """Request and response as text, redacted, for the report."""
        req_headers = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
        resp_headers = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        body = self.text[:20_000] + ("\n[... body truncated]" if self.truncated else "")
        text = (
            f"{self.method} {self.url}\n{req_headers}\n\n"
            f"{self.request_body.decode('utf-8', 'replace')}\n\n"
            f"--- {self.status} ({self.elapsed_ms:.0f} ms)\n{resp_headers}\n\n{body}"
        )
        return REDACTOR.redact(text)

    def curl(self) -> str:
        """A redacted curl command that reproduces the request (secrets as shell variables)."""
        parts = ["curl", "-sS", "-i", "-X", self.method]
        for k, v in self.request_headers.items():
            if k.lower() in (
                "host",
                "content-length",
                "accept-encoding",
                "connection",
                "user-agent",
            ):
                continue
            if k.lower() == "authorization":
                scheme = v.split(" ", 1)[0]
                v = f"{scheme} $TOKEN" if scheme.lower() != "basic" else "Basic $BASIC_CREDENTIALS"
            parts += ["-H", f"{k}: {v}"]
        if self.request_body:
            parts += ["--data-raw", self.request_body.decode("utf-8", "replace")]
        parts.append(self.url)
        return REDACTOR.redact(" ".join(shlex.quote(p) for p in parts))


class Http:
    """Sends requests to one instance; records exchanges; never follows redirects."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        verify: bool | str = True,
        max_requests: int = 150,
        max_token_requests: int = 60,
        token_path: str = "/oauth2/access_token",
        max_body: int = MAX_BODY,
        on_exchange: Callable[[Exchange], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_body = max_body
        self.max_requests = max_requests
        self.max_token_requests = max_token_requests
        self.token_path = token_path
        self.requests = 0
        self.token_requests = 0
        self.on_exchange = on_exchange
        self.rate_limited: str | None = None
        self._lock = threading.Lock()
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            verify=verify,
            follow_redirects=False,
            headers={"User-Agent": "openedx-oauth-conformance"},
            trust_env=False,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def _count(self, url: str) -> bool:
        is_token = urlsplit(url).path.rstrip("/") == (
            urlsplit(self.base_url).path.rstrip("/") + self.token_path.rstrip("/")
        )
        with self._lock:
            if is_token and self.rate_limited:
                raise RateLimited(self.rate_limited)
            if self.requests >= self.max_requests:
                raise BudgetExhausted(f"request budget of {self.max_requests} used up (options.max_requests)")
            if is_token and self.token_requests >= self.max_token_requests:
                raise BudgetExhausted(
                    f"token-endpoint budget of {self.max_token_requests} requests used up "
                    "(options.max_token_requests; the LMS allows 120 a minute per IP)"
                )
            self.requests += 1
            self.token_requests += is_token
        return is_token

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | list[tuple[str, str]] | None = None,
        content: bytes | str | None = None,
        auth: tuple[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        expect_rate_limit: bool = False,
    ) -> Exchange:
        url = self.url(path_or_url)
        is_token = self._count(url)
        form: dict[str, Any] | None = None
        if data is not None:
            # Repeated keys (a list of pairs) become lists, which httpx encodes as repeats.
            form = {}
            for key, value in data.items() if isinstance(data, Mapping) else data:
                form.setdefault(key, []).append(value)
                if key in ("client_secret", "password", "refresh_token", "token") and value:
                    REDACTOR.add(value)
        request = self._client.build_request(
            method, url, headers=headers, data=form, content=content, params=params
        )
        if auth is not None:
            request.headers["Authorization"] = _basic(*auth)
        body = request.read()
        started = time.monotonic()
        try:
            response = self._client.send(request, stream=True)
            try:
                chunks, size, truncated = [], 0, False
                deadline = started + self.timeout_s * 2
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body:
                        truncated = True
                        break
                    if time.monotonic() > deadline:
                        raise Unreachable(
                            f"{method} {_safe(url)}: the response body did not finish within "
                            f"{self.timeout_s * 2:.0f} s"
                        )
                raw = b"".join(chunks)[: self.max_body]
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise Unreachable(f"{method} {_safe(url)}: {_describe_error(exc)}") from None
        elapsed = (time.monotonic() - started) * 1000
        exchange = Exchange(
            method=method,
            url=str(request.url),
            request_headers=dict(request.headers),
            request_body=body,
            status=response.status_code,
            headers=response.headers,
            body=raw,
            elapsed_ms=elapsed,
            truncated=truncated,
        )
        self._register_tokens(exchange)
        if self.on_exchange:
            self.on_exchange(exchange)
        if is_token and not expect_rate_limit and _looks_rate_limited(exchange):
            self.rate_limited = (
                f"the token endpoint answered {exchange.status} without an OAuth error body: "
                "rate limiting (the LMS allows 120 requests a minute per IP); the remaining "
                "token checks were skipped, not failed"
            )
            raise RateLimited(self.rate_limited)
        return exchange

    @staticmethod
    def _register_tokens(exchange: Exchange) -> None:
        body = exchange.json()
        if isinstance(body, dict):
            for name in TOKEN_FIELDS:
                if isinstance(body.get(name), str):
                    REDACTOR.add(body[name])

    def get(self, path_or_url: str, **kw: Any) -> Exchange:
        return self.request("GET", path_or_url, **kw)

    def post(self, path_or_url: str, **kw: Any) -> Exchange:
        return self.request("POST", path_or_url, **kw)


def _basic(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: id and secret are form-urlencoded, then joined and base64-encoded."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _looks_rate_limited(exchange: Exchange) -> bool:
    if exchange.status == 429:
        return True
    body = exchange.json()
    return exchange.status == 403 and not (isinstance(body, dict) and "error" in body)


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return REDACTOR.redact(f"{parts.scheme}://{parts.netloc}{parts.path}")


def _describe_error(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response within the timeout"
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return f"TLS certificate verification failed ({text.split(']')[-1].strip()})"
        return f"connection failed ({text})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server broke the HTTP protocol ({text})"
    return f"{type(exc).__name__}: {text}"
