"""The one HTTP client: timeouts, body-size limit, request budget, no redirects, redacted records.

Exceptions (all derive from `HttpProblem`):
    HttpProblem
     +-- Unreachable       nothing answered (DNS, refused, TLS, timeout, reset)
     |    +-- CircuitOpen  an origin failed several times in a row: the run stops (exit 3)
     +-- BudgetExhausted   the run used up its request budget (gentle on production)
     +-- RateLimited       the token endpoint said 403/429 without an OAuth error body, and kept
                           saying it for longer than the profile lets the run wait
                           (options.rate_limit_wait_s)

A rate limit is waited out, not reported at once: the LMS limits its token endpoint per client IP
and per minute (RATELIMIT_RATE = "120/m", django-ratelimit over every method, answering 403 without
a Retry-After), so a run that meets it waits for the window (Retry-After when sent, else up to
RATE_WINDOW_S, asking with a GET every POLL_S) and sends the request again.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import json
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

import httpx

from conformance._lib.redact import REDACTOR, echoed_forms
from conformance._lib.schemas import OUTSIDE_VSCHAR

if TYPE_CHECKING:
    from conformance._lib.profile import Profile

__all__ = [
    "BudgetExhausted",
    "CircuitOpen",
    "Exchange",
    "Http",
    "HttpProblem",
    "RateLimited",
    "Unreachable",
]

MAX_BODY = 1_000_000
# Consecutive failures (no answer: refused, reset, timeout) to one origin that open the circuit: with
# the default 10 s timeout the run stops within about half a minute of an instance going silent.
BREAKER_THRESHOLD = 3
# django-ratelimit counts in fixed windows of the rate's period (a minute for "120/m"); 5 s to spare.
RATE_WINDOW_S = 65.0
POLL_S = 5.0  # how often a wait asks (with one GET) whether the window has passed
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")


class HttpProblem(Exception):
    """The exchange could not be judged; the message is safe to print."""


class Unreachable(HttpProblem):
    pass


class CircuitOpen(Unreachable):
    """Several requests in a row to one origin got no answer: stop asking it (no cascade of timeouts)."""


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
            except (ValueError, RecursionError):  # RecursionError: "[[[[..." 100 000 deep
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
        max_service_requests: int = 60,
        max_body: int = MAX_BODY,
        on_exchange: Callable[[Exchange], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_rate_limit_wait_s: float = 130.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_body = max_body
        self.max_requests = max_requests
        self.max_token_requests = max_token_requests
        self.token_path = token_path
        self.requests = 0  # every request, to the LMS or elsewhere (summary.json counts these)
        self.token_requests = 0
        # How long each token-endpoint exchange took (monitoring: `run --metrics`).
        self.token_latencies_ms: list[float] = []
        # Requests to other origins (the profile's [[services]]) have a budget per origin, so that
        # listing more services never starves the LMS's own checks (and vice versa).
        self.max_service_requests = max_service_requests
        self.lms_requests = 0
        self.service_requests: dict[str, int] = {}
        self.on_exchange = on_exchange
        self.rate_limited: str | None = None
        # Waiting out the token endpoint's rate limit: the total the profile allows, what was
        # spent, who hears about it (once: the plugin's console line), and the clock (tests
        # replace `sleep`).
        self.max_rate_limit_wait_s = max_rate_limit_wait_s
        self.rate_limit_waited_s = 0.0
        self.on_wait: Callable[[str], None] | None = None
        self.sleep: Callable[[float], None] = time.sleep
        self._wait_lock = threading.Lock()
        self._said_wait = False
        self._lifted_at = 0.0  # when a wait last saw the limit lifted (time.monotonic)
        self.broken: str | None = None  # set when the circuit breaker opened: the one message
        self._failures: dict[str, int] = {}  # consecutive failures per origin
        # With --concurrency, a case running ahead defers its answered/unanswered requests to the
        # breaker (returns True): they are counted when pytest reaches the case, in a sequential
        # run's order (`answered`, `unanswered`), so the breaker opens where it would one at a time.
        self.defer_outcome: Callable[[str, str | None], bool] | None = None
        self._lock = threading.Lock()
        # A CA bundle that cannot be loaded is reported by the first request (as Unreachable, so
        # that the run stops with one message) rather than by a traceback from this constructor.
        self._setup_problem: str | None = None
        tls: bool | ssl.SSLContext = verify if isinstance(verify, bool) else True
        if isinstance(verify, str):
            try:
                tls = ssl.create_default_context(cafile=verify)
            except (OSError, ssl.SSLError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                self._setup_problem = f"the CA bundle {verify} cannot be used ({reason})"
        # One connection pool per thread (checks run concurrently with --concurrency): a request
        # past its deadline is cut off by shutting down its own thread's sockets only.
        self._settings: dict[str, Any] = {
            "timeout": httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            "verify": tls,
            "follow_redirects": False,
            "headers": {"User-Agent": "openedx-oauth-conformance"},
            "trust_env": False,
            "transport": transport,
        }
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._new_client()

    @property
    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        return client if client is not None else self._new_client()

    def _new_client(self) -> httpx.Client:
        client = httpx.Client(
            **self._settings,
            # No cookie jar: a session cookie kept here would sign every later request in (the
            # "no credentials" checks included); the sign-in helper sends its cookies explicitly.
            cookies=CookieJar(policy=_NoCookies()),
        )
        with self._lock:
            self._clients.append(client)
        self._local.client = client
        self._local.sockets = weakref.WeakSet()
        return client

    @property
    def _sockets(self) -> weakref.WeakSet[socket.socket]:
        """The sockets this thread's pool opened."""
        self._client  # noqa: B018 - makes this thread's pool (and its socket set) if missing
        return self._local.sockets  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + path_or_url

    def _count(self, url: str, *, opted_in: bool = False) -> bool:
        """Count a request against the budgets; `opted_in` requests (the throttling probe the profile
        asked for) are counted but not limited, since their purpose is to exceed the rate limit."""
        is_token = urlsplit(url).path.rstrip("/") == (
            urlsplit(self.base_url).path.rstrip("/") + self.token_path.rstrip("/")
        )
        origin = _origin(url)
        other = origin != _origin(self.base_url)
        with self._lock:
            if is_token and self.rate_limited:
                raise RateLimited(self.rate_limited)
            if other and not opted_in and self.service_requests.get(origin, 0) >= self.max_service_requests:
                raise BudgetExhausted(
                    f"request budget of {self.max_service_requests} for {origin} used up "
                    "(options.max_service_requests)"
                )
            if not other and not opted_in and self.lms_requests >= self.max_requests:
                raise BudgetExhausted(f"request budget of {self.max_requests} used up (options.max_requests)")
            if not opted_in and is_token and self.token_requests >= self.max_token_requests:
                raise BudgetExhausted(
                    f"token-endpoint budget of {self.max_token_requests} requests used up "
                    "(options.max_token_requests; the LMS allows 120 a minute per IP)"
                )
            self.requests += 1
            self.token_requests += is_token
            if other:
                self.service_requests[origin] = self.service_requests.get(origin, 0) + 1
            else:
                self.lms_requests += 1
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
        if self._setup_problem:
            raise Unreachable(f"{method} {_safe(url)}: {self._setup_problem}")
        is_token = self._count(url, opted_in=expect_rate_limit)
        form: dict[str, Any] | None = None
        if data is not None:
            # Repeated keys (a list of pairs) become lists, which httpx encodes as repeats.
            form = {}
            for key, value in data.items() if isinstance(data, Mapping) else data:
                form.setdefault(key, []).append(value)
                if key in ("client_secret", "password", "refresh_token", "token") and value:
                    REDACTOR.add(*echoed_forms(value))
        try:
            request = self._client.build_request(
                method, url, headers=headers, data=form, content=content, params=params
            )
            if auth is not None:
                request.headers["Authorization"] = _basic(*auth)
        except httpx.InvalidURL as exc:
            # A value the instance handed out (a 100 kB token in a query) that cannot go into a
            # request: the check fails with this, not a traceback.
            raise HttpProblem(f"{method} {_safe(url)}: the request cannot be built ({exc})") from None
        except UnicodeEncodeError:  # headers are ASCII: a non-ASCII token cannot be sent
            raise HttpProblem(
                f"{method} {_safe(url)}: the request cannot be built: a header value has {OUTSIDE_VSCHAR}"
            ) from None
        body = request.read()
        # One deadline for the whole exchange (connect, TLS, headers, body): the per-read timeout
        # alone never fires against a server that trickles a byte at a time.
        limit = self.timeout_s * 2

        def late() -> str:  # built only when needed: redacting a URL costs time on every request
            return f"{method} {_safe(url)}: no complete response within {limit:.0f} s"

        request.extensions["trace"] = self._trace
        expired = threading.Event()
        watchdog = threading.Timer(limit, self._cut_off, args=(expired, self._sockets))
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii', 'replace')}"
        if self.broken:
            raise CircuitOpen(self.broken)
        try:
            response = self._client.send(request, stream=True)
            try:
                chunks, size, truncated = [], 0, False
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body:
                        truncated = True
                        break
                    if expired.is_set() or time.monotonic() - started > limit:
                        raise Unreachable(late())
                raw = b"".join(chunks)[: self.max_body]
            finally:
                response.close()
        except Unreachable as exc:
            self._failed(origin, str(exc))
            raise
        except httpx.HTTPError as exc:
            problem = late() if expired.is_set() else f"{method} {_safe(url)}: {_describe_error(exc)}"
            self._failed(origin, problem)
            raise Unreachable(problem) from None
        finally:
            watchdog.cancel()
        if not (self.defer_outcome and self.defer_outcome(origin, None)):
            self.answered(origin)
        elapsed = (time.monotonic() - started) * 1000
        if is_token:
            self.token_latencies_ms.append(elapsed)
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
        limited = is_token and not expect_rate_limit and _looks_rate_limited(exchange)
        if limited and self._confirm_rate_limit():
            if self._wait_for_window(exchange, started):
                return self.request(
                    method, path_or_url, headers=headers, data=data, content=content, auth=auth, params=params
                )
            waited = f" after {self.rate_limit_waited_s:.0f} s of waiting" if self.rate_limit_waited_s else ""
            self.rate_limited = (
                f"the token endpoint answered {exchange.status} without an OAuth error body, and a GET "
                f"the same{waited}: rate limiting (the LMS allows 120 requests a minute per IP) or a "
                "firewall in front refusing this client; the token checks it stopped are inconclusive, "
                f"not failed (options.rate_limit_wait_s = {self.max_rate_limit_wait_s:g} bounds the wait)"
            )
            raise RateLimited(self.rate_limited)
        return exchange

    def replay(self, exchange: Exchange) -> Exchange:
        """Show an exchange made earlier in the run to whoever records them (the current case's
        report and its curl line), without sending it again: for the responses checks share."""
        if self.on_exchange:
            self.on_exchange(exchange)
        return exchange

    def _wait_for_window(self, exchange: Exchange, sent_at: float) -> bool:
        """The token endpoint is rate limiting: wait for its window, within what the profile allows
        in all. True when the limit lifted (send again), False when it persists or the wait is spent.
        One wait at a time: a request refused during another's wait sends again once it is over."""
        with self._wait_lock:
            if self._lifted_at > sent_at:
                return True
            if self.rate_limited:
                return False
            left = self.max_rate_limit_wait_s - self.rate_limit_waited_s
            retry_after = _retry_after(exchange)
            if retry_after is not None:
                retry_after = max(1.0, retry_after)  # "0" again and again must not loop for ever
                if retry_after > left:
                    return False
                self._say_waiting(exchange, f"Retry-After: {retry_after:.0f} s")
                self._pause(retry_after)
                self._lifted_at = time.monotonic()
                return True
            window = min(RATE_WINDOW_S, left)
            if window <= 0:
                return False
            self._say_waiting(exchange, f"up to {window:.0f} s for its window")
            spent = 0.0
            while spent < window:
                step = min(POLL_S, window - spent)
                self._pause(step)
                spent += step
                if not self._confirm_rate_limit():
                    self._lifted_at = time.monotonic()
                    return True
            return False

    def _pause(self, seconds: float) -> None:
        self.sleep(seconds)
        self.rate_limit_waited_s += seconds

    def _say_waiting(self, exchange: Exchange, how: str) -> None:
        if self._said_wait or self.on_wait is None:
            return
        self._said_wait = True
        self.on_wait(
            f"the token endpoint is rate limiting this client (HTTP {exchange.status} without an OAuth "
            f"error body); waiting {how}, then going on (options.rate_limit_wait_s = "
            f"{self.max_rate_limit_wait_s:g} s in all)"
        )

    def _failed(self, origin: str, problem: str) -> None:
        """Count a request that got no answer; the third in a row to one origin opens the circuit
        (raises CircuitOpen, and so does every later request)."""
        if self.defer_outcome and self.defer_outcome(origin, problem):
            return
        with self._lock:
            count = self._failures[origin] = self._failures.get(origin, 0) + 1
            if count >= BREAKER_THRESHOLD and not self.broken:
                self.broken = (
                    f"instance unreachable: {REDACTOR.redact(origin)} stopped answering: {count} "
                    "requests in a row got no "
                    f"answer (last: {problem}); the run stopped instead of waiting on every check"
                )
        if self.broken:
            raise CircuitOpen(self.broken)

    def answered(self, origin: str) -> None:
        """A request to `origin` got an answer: its run of failures ends."""
        with self._lock:
            self._failures.pop(origin, None)

    def unanswered(self, origin: str, problem: str) -> None:
        """A request to `origin` got no answer (raises CircuitOpen when that opens the circuit)."""
        self._failed(origin, problem)

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: remember each new connection's socket."""
        if event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self._lock:
                    self._sockets.add(sock)

    def _cut_off(self, expired: threading.Event, mine: weakref.WeakSet[socket.socket]) -> None:
        """The watchdog: shut the late request's thread's connections down, which wakes the blocked
        read. A thread sends one request at a time, so the only busy connection of its pool is the
        late one; its idle keep-alive connections go too, and the pool replaces them."""
        expired.set()
        with self._lock:
            sockets = list(mine)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _confirm_rate_limit(self) -> bool:
        """One 403 could be a WAF refusing that request; the LMS's limit refuses every method, so a
        GET that is refused the same way confirms it (and a GET is what costs the instance least)."""
        if self.rate_limited:
            return True  # confirmed meanwhile by a request of a case running at the same time
        try:
            probe = self.request("GET", self.token_path, expect_rate_limit=True)
        except HttpProblem:
            return False
        return _looks_rate_limited(probe)

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


class _NoCookies(DefaultCookiePolicy):
    """A cookie policy that stores nothing."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def _basic(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: id and secret are form-urlencoded, then joined and base64-encoded."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _retry_after(exchange: Exchange) -> float | None:
    """Retry-After in seconds (RFC 9110 10.2.3: seconds or an HTTP date), or None."""
    value = exchange.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def _looks_rate_limited(exchange: Exchange) -> bool:
    if exchange.status == 429:
        return True
    body = exchange.json()
    return exchange.status == 403 and not (isinstance(body, dict) and "error" in body)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


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


def ca_bundle_path(profile: Profile, override: str | None = None) -> str | None:
    """The CA bundle to trust: --ca-bundle (relative to the working folder) or the profile's
    ca_bundle (relative to the profile), as an absolute path; None for the system's CAs."""
    from pathlib import Path

    if override:
        return str(Path(override).resolve())
    ca = profile.data.get("ca_bundle")
    return str((profile.directory / ca).resolve()) if ca else None


def http_for(profile: Profile, ca_bundle: str | None = None) -> Http:
    """The client for a profile: its timeout, its CA bundle, its request budget."""
    ca = ca_bundle_path(profile, ca_bundle)
    options = profile.data["options"]
    return Http(
        profile.base_url,
        timeout_s=float(profile.data["timeout_s"]),
        verify=ca or True,
        max_requests=int(options["max_requests"]),
        max_token_requests=int(options["max_token_requests"]),
        token_path=profile.data["token_path"],
        max_service_requests=int(options.get("max_service_requests", 60)),
        max_rate_limit_wait_s=float(options.get("rate_limit_wait_s", 130)),
    )


def unreachable(http: Http, path: str) -> str | None:
    """One request to see whether anything answers: None, or the one message to show (exit 3).
    The callers ask the revocation path: any answer will do, and the token endpoint's rate limit
    (which the LMS counts over every method) is kept for the checks."""
    try:
        http.get(path, expect_rate_limit=True)
    except HttpProblem as exc:
        return f"instance unreachable: {exc}"
    return None
