"""A misbehaving HTTP server for the project's own tests: what a broken or hostile instance does.

One `HostileServer` is one listener on 127.0.0.1 (a free port) playing one scenario for every
request on every path:

    html            GET answers 200 with an HTML login page, POST 500 with a Django-style debug
                    page or a terse error that echo the request back (headers and body, secrets
                    included, HTML-escaped, at shifting offsets)
    invalid-json    Content-Type application/json with a broken body (truncated, trailing junk,
                    not UTF-8, NaN, 100 000 levels deep, ...), a different one per request
    5xx             503 Service Unavailable for everything
    huge            200 with a 50 MB JSON body, streamed; counts the bytes each connection took
    never-finishes  headers with Content-Length 4096, then one body byte per second, forever
    redirect        POST 307 / GET 302 to the same path on a second listener (another origin)
                    that records whether Authorization or client_secret ever reached it
    reset           reads the request, then closes the connection with a TCP RST
    self-signed     TLS with a certificate made at start (CN 127.0.0.1), then as `html`
    silent          accepts the TCP connection and never says a word
    tls-silent      TLS with a certificate made at start (as self-signed); GET answered like the
                    LMS's token endpoint (405, Allow: POST), every POST read and never answered:
                    the instance that passes the reachability probe and then hangs every check

and two more, each of which found a bug:

    slow-headers    the status line and headers one byte per second, never reaching the body
    post-silent     GET answers like the LMS's token endpoint (405 JSON), a POST is read and never
                    answered: the reachability probe passes, every check would time out
    waf-403         a firewall in front of everything: 403 with an HTML page for every request
    opaque-token    a plausible OAuth server that issues opaque tokens even when a JWT is asked
                    for (token_type=jwt ignored): every POST 200 with a random opaque token

plus `sink`, the other origin of `redirect`: it answers 200 with a token, to tempt a client that
follows redirects, and records what reached it.

Every request is recorded (method, target, headers, body). The server is raw sockets on
threads (not `http.server`) so that each scenario controls exactly which bytes go out and when.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import secrets
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SCENARIOS = (
    "html",
    "invalid-json",
    "5xx",
    "huge",
    "never-finishes",
    "redirect",
    "reset",
    "self-signed",
    "silent",
    "slow-headers",
    "opaque-token",
    "waf-403",
    "post-silent",
    "tls-silent",
)
HUGE_BODY = 50 * 1024 * 1024
CHUNK = 64 * 1024
MAX_REQUEST_BODY = 1_000_000

# Bodies that claim to be JSON and are not (or are, in ways a naive parser chokes on).
BROKEN_JSON: tuple[bytes, ...] = (
    b'{"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "token_type": "JWT", "expires_',
    b'{"error": "invalid_client"}} trailing junk',
    b"<html><body>Bad Gateway</body></html>",
    b'{"error": "invalid_\xff\xfe\xfd"}',
    b'{"access_token": NaN, "expires_in": Infinity}',
    b"[" * 100_000 + b"]" * 100_000,
    b"",
    b"{'error': 'invalid_request'}",
    b'\xef\xbb\xbf{"error": "invalid_grant"',
    b'{"expires_in": 1' + b"0" * 5000 + b"}",
    b"null",
    b'"just a string"',
)


@dataclass
class Recorded:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def form(self) -> dict[str, str]:
        """Query and (form-encoded) body fields, decoded as a web framework would."""
        fields = dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))
        if "x-www-form-urlencoded" in (self.header("content-type") or ""):
            with contextlib.suppress(UnicodeDecodeError):
                fields.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return fields

    @property
    def carries_credentials(self) -> bool:
        """Authorization, client_secret or password, in the headers, the query or the body."""
        return (
            self.header("authorization") is not None
            or self.header("proxy-authorization") is not None
            or any(k in self.form() for k in ("client_secret", "password"))
            or b"client_secret" in self.body
            or "client_secret" in self.target
        )


@dataclass
class ConnectionLog:
    """What one accepted connection cost the server: bytes it managed to send, and how it ended."""

    sent: int = 0
    requests: int = 0
    ended: str = ""


@dataclass
class HostileServer:
    scenario: str
    redirect_to: str | None = None  # for "redirect": the other origin, http://127.0.0.1:PORT
    tls_dir: Path | None = None  # for "self-signed": where cert.pem / key.pem are written
    trickle_s: float = 1.0
    requests: list[Recorded] = field(default_factory=list)
    connections: list[ConnectionLog] = field(default_factory=list)
    cert_path: Path | None = None

    def __post_init__(self) -> None:
        if self.scenario not in (*SCENARIOS, "sink"):
            raise ValueError(f"unknown scenario {self.scenario!r}")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._tls: ssl.SSLContext | None = None
        if self.scenario in ("self-signed", "tls-silent"):
            if self.tls_dir is None:
                raise ValueError(f"{self.scenario} needs tls_dir")
            self.cert_path, key_path = make_self_signed(self.tls_dir)
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(self.cert_path, key_path)

    # lifecycle ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        thread = threading.Thread(target=self._accept_loop, name=f"hostile-{self.scenario}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def credentialed(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.carries_credentials]

    # plumbing -------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            log = ConnectionLog()
            with self._lock:
                self._sockets.append(conn)
                self.connections.append(log)
            thread = threading.Thread(target=self._serve, args=(conn, log), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket, log: ConnectionLog) -> None:
        try:
            conn.settimeout(10)
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._sockets.append(conn)
            if self.scenario == "silent":
                self._hold(conn, log)
                return
            reader = conn.makefile("rb")
            while not self._stop.is_set():
                request = _read_request(reader)
                if request is None:
                    log.ended = log.ended or "client closed"
                    return
                log.requests += 1
                with self._lock:
                    self.requests.append(request)
                    index = len(self.requests) - 1
                if not self._respond(conn, request, index, log):
                    return
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.ended = log.ended or f"{type(exc).__name__}"
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _hold(self, conn: socket.socket, log: ConnectionLog) -> None:
        """Hold the line: read whatever comes (so the client's sends succeed), answer nothing, until
        the client gives up or the server stops."""
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                if not conn.recv(65536):
                    break
            except TimeoutError:
                continue
        log.ended = "client closed"

    def _send(self, conn: socket.socket, data: bytes, log: ConnectionLog) -> None:
        conn.sendall(data)
        log.sent += len(data)

    def _respond(self, conn: socket.socket, req: Recorded, index: int, log: ConnectionLog) -> bool:
        """Answer one request; False when the connection is done."""
        scenario = "html" if self.scenario == "self-signed" else self.scenario
        if scenario == "html":
            if req.method == "POST" and index % 2:
                self._send(conn, _response(500, "text/html; charset=utf-8", _debug_page(req)), log)
            elif req.method == "POST":
                self._send(conn, _response(500, "text/html; charset=utf-8", _echo_page(req, index)), log)
            else:
                self._send(conn, _response(200, "text/html; charset=utf-8", LOGIN_PAGE), log)
            return True
        if scenario == "invalid-json":
            body = BROKEN_JSON[index % len(BROKEN_JSON)]
            status = (200, 400, 401)[index % 3]
            self._send(conn, _response(status, "application/json", body), log)
            return True
        if scenario == "post-silent":
            if req.method != "POST":
                self._send(conn, _response(405, "application/json", b'{"detail": "Method not allowed"}'), log)
                return True
            while not self._stop.wait(0.2):  # hold the line, say nothing
                pass
            return False
        if scenario == "waf-403":  # a web application firewall in front: 403 HTML for everything
            body = b"<html><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>"
            self._send(conn, _response(403, "text/html", body), log)
            return True
        if scenario == "5xx":
            body = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
            self._send(conn, _response(503, "text/html", body, extra={"Retry-After": "120"}), log)
            return True
        if scenario == "redirect":
            status = 307 if req.method == "POST" else 302
            location = f"{self.redirect_to}{req.target}"
            extra = {"Location": location}
            self._send(conn, _response(status, "text/html", b"moved", extra=extra), log)
            return True
        if scenario == "sink":
            # The other origin: answers like a token endpoint would, to tempt a client that follows.
            body = json.dumps({"access_token": "phished", "token_type": "Bearer", "expires_in": 36000})
            self._send(conn, _response(200, "application/json", body.encode()), log)
            return True
        if scenario == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            log.ended = "reset"
            return False
        if scenario == "huge":
            head = _head(200, "application/json", HUGE_BODY)
            self._send(conn, head, log)
            prefix = b'{"access_token": "'
            self._send(conn, prefix, log)
            remaining = HUGE_BODY - len(prefix) - 2
            chunk = b"A" * CHUNK
            while remaining > 0 and not self._stop.is_set():
                piece = chunk[: min(CHUNK, remaining)]
                try:
                    self._send(conn, piece, log)
                except OSError:
                    log.ended = "client closed mid-body"
                    return False
                remaining -= len(piece)
            self._send(conn, b'"}', log)
            log.ended = "body complete"
            return True
        if scenario == "slow-headers":
            head = _head(200, "application/json", 2) + b"{}"
            head = head.replace(b"\r\n\r\n", b"\r\nX-Padding: " + b"a" * 100_000 + b"\r\n\r\n")
            for byte in head:
                if self._stop.wait(self.trickle_s):
                    return False
                try:
                    self._send(conn, bytes([byte]), log)
                except OSError:
                    log.ended = "client closed mid-headers"
                    return False
            return False
        if scenario == "tls-silent":
            if req.method != "POST":
                allow = {"Allow": "POST, OPTIONS"}
                self._send(conn, _response(405, "text/html; charset=utf-8", b"", extra=allow), log)
                return True
            self._hold(conn, log)
            return False
        if scenario == "opaque-token":
            if req.method == "POST":
                token = secrets.token_urlsafe(30)
                body = {"access_token": token, "token_type": "Bearer", "expires_in": 36000}
                body |= {"scope": "read write email profile", "refresh_token": secrets.token_urlsafe(30)}
                self._send(conn, _response(200, "application/json", json.dumps(body).encode()), log)
            else:
                body = {"detail": "Authentication credentials were not provided."}
                self._send(conn, _response(401, "application/json", json.dumps(body).encode()), log)
            return True
        if scenario == "never-finishes":
            self._send(conn, _head(200, "application/json", 4096), log)
            self._send(conn, b'{"error": "', log)
            while not self._stop.wait(self.trickle_s):
                try:
                    self._send(conn, b"x", log)
                except OSError:
                    log.ended = "client closed mid-body"
                    return False
            return False
        raise AssertionError(f"unhandled scenario {scenario}")


def _read_request(reader) -> Recorded | None:  # type: ignore[no-untyped-def]
    line = reader.readline(65537)
    if not line:
        return None
    parts = line.decode("latin-1").strip().split()
    if len(parts) != 3:
        return None
    method, target, _ = parts
    headers: dict[str, str] = {}
    while True:
        raw = reader.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip()] = value.strip()
    length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), 0)
    body = reader.read(min(length, MAX_REQUEST_BODY)) if length else b""
    return Recorded(method, target, headers, body)


def _head(status: int, content_type: str, length: int, extra: dict[str, str] | None = None) -> bytes:
    reason = {200: "OK", 302: "Found", 307: "Temporary Redirect", 400: "Bad Request"}.get(status, "")
    reason = reason or {401: "Unauthorized", 500: "Internal Server Error", 503: "Service Unavailable"}.get(
        status, "Status"
    )
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _response(status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None) -> bytes:
    return _head(status, content_type, len(body), extra) + body


LOGIN_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>Sign in | Open edX</title></head>
<body><form method="post" action="/login"><input name="email"><input name="password" type="password">
<button>Sign in</button></form></body></html>
"""


def _echo_page(req: Recorded, index: int) -> bytes:
    """A terse error page that quotes the raw request body, at a shifting offset: across requests
    the echoed secret lands on every cut-off point a report might truncate at (120, 300, ...)."""
    padding = "." * ((index * 37) % 320)
    body = html.escape(req.body.decode("utf-8", "replace"))
    return f"<p>Error{padding} could not process: {body}</p>".encode()


def _debug_page(req: Recorded) -> bytes:
    """A Django DEBUG=True page: the kind that echoes every header and form field it was sent."""

    def row(name: str, value: str) -> str:
        return f"<tr><td>{html.escape(name)}</td><td><pre>{html.escape(value)}</pre></td></tr>"

    rows = "".join(row("HTTP_" + k.upper().replace("-", "_"), v) for k, v in req.headers.items())
    form = "".join(row(k, f"'{v}'") for k, v in req.form().items())
    if not req.form() and req.body:
        form = row("body", req.body.decode("utf-8", "replace"))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><title>OperationalError at {html.escape(req.path)}</title></head>
<body><h1>OperationalError at {html.escape(req.path)}</h1>
<pre class="exception_value">no such table: oauth2_provider_application</pre>
<h2>Request information</h2><h3>POST</h3><table>{form}</table>
<h3>META</h3><table>{rows}</table>
<p>You're seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p>
</body></html>
"""
    return page.encode("utf-8")


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 and localhost; returns (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from conformance.reference.tls import certificate_builder, loopback_names

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        certificate_builder(
            name, name, key.public_key(), now - dt.timedelta(minutes=5), now + dt.timedelta(days=30)
        )
        .add_extension(loopback_names(), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def wait_closed(server: HostileServer, timeout: float = 5.0) -> None:
    """Give connection threads a moment to notice that the client went away."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server._lock:
            open_ = [c for c in server.connections if not c.ended]
        if not open_:
            return
        time.sleep(0.05)
