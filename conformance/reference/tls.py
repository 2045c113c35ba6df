"""The reference instance's TLS front (``reference serve --tls``): what Tutor's Caddy is to an LMS.

At every start a private CA is made (its certificate is written to the state directory for the
profile's ``ca_bundle``; its key is never written), and a server certificate for 127.0.0.1 and
localhost is signed by it. Each service then gets a front server on its public port: it terminates
TLS, forwards every request to the service's waitress over loopback with ``X-Forwarded-Proto``,
``-For``, ``-Host`` and ``-Port`` (Caddy's ``reverse_proxy`` sends the first three, Tutor's Caddyfile
adds the port), and answers with the service's response plus ``Strict-Transport-Security``. A third
listener serves plain http the way Caddy's automatic HTTPS does: a 308 redirect to https.

Facts this follows (sources):
- Tutor's Caddyfile (overhangio/tutor ``tutor/templates/apps/caddy/Caddyfile`` @ f9c2a391) proxies
  the LMS with ``header_up X-Forwarded-Port 443`` and sets no response headers; Caddy itself sends no
  HSTS by default (its automatic-HTTPS docs: "Caddy does not enable HSTS by default", quoted in
  wemake-services/wemake-django-template#47; caddyserver/caddy#4751 asked for it and was closed).
  So a stock Tutor front sends no HSTS: the reference sends ``max-age=31536000`` as an operator who
  adds the usual ``header Strict-Transport-Security`` line to the ``caddyfile-lms`` patch, and its
  ``no-hsts`` fault is the stock Caddyfile.
- Open edX trusts the proxy's scheme: ``SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO',
  'https')`` (openedx/edx-platform ``lms/envs/production.py``).
- Caddy redirects http to https with ``308 Permanent Redirect`` (automatic HTTPS).

The TLS faults live here, at the front: an expired or nearly expired certificate (renewal failed),
TLS 1.0/1.1 accepted (OpenSSL 3 needs ``@SECLEVEL=0`` for them), no HSTS, and a plain-http
listener that proxies to the LMS instead of redirecting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import ipaddress
import socket
import ssl
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.reference.defects import Defect

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

__all__ = [
    "CA_FILE",
    "HSTS",
    "Certificates",
    "Front",
    "certificate_builder",
    "loopback_names",
    "make_certificates",
    "server_context",
]

CA_FILE = "ca.pem"
CERT_FILE = "tls-cert.pem"
KEY_FILE = "tls-key.pem"
HSTS = "max-age=31536000"
# A Let's Encrypt certificate lives 90 days and Caddy renews it with a third of its life left.
CERT_DAYS = 90
# The expiring fault: renewal has been failing for weeks; 10 days left (the suite wants > 14).
EXPIRING_DAYS_LEFT = 10
UPSTREAM_TIMEOUT_S = 60.0
IDLE_TIMEOUT_S = 30.0
# Hop-by-hop headers (RFC 9110 7.6.1) and the forwarding headers the front sets itself.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_FORWARDED = {"x-forwarded-proto", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "forwarded"}


@dataclass(frozen=True)
class Certificates:
    """The files the front serves with: the CA certificate (public), the server chain, its key."""

    ca_path: Path
    cert_path: Path
    key_path: Path
    not_after: dt.datetime


def make_certificates(directory: Path, faults: Iterable[str] = ()) -> Certificates:
    """A fresh CA and a server certificate it signs (SAN 127.0.0.1 and localhost), in ``directory``.

    The CA's key exists only in memory: nothing can sign with it after this returns. The server's
    key is written 0600 (the state directory is 0700 too)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from conformance.reference.runtime import write_private

    faults = set(faults)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openedx-oauth-conformance"),
            x509.NameAttribute(NameOID.COMMON_NAME, "reference instance CA (made at start)"),
        ]
    )
    ca_cert = (
        certificate_builder(
            ca_name,
            ca_name,
            ca_key.public_key(),
            now - dt.timedelta(days=CERT_DAYS + 1),
            now + dt.timedelta(days=365),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    if Defect.TLS_CERT_EXPIRED in faults:
        not_before, not_after = now - dt.timedelta(days=CERT_DAYS + 1), now - dt.timedelta(days=1)
    elif Defect.TLS_CERT_EXPIRING in faults:
        left = dt.timedelta(days=EXPIRING_DAYS_LEFT)
        not_before, not_after = now + left - dt.timedelta(days=CERT_DAYS), now + left
    else:
        not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=CERT_DAYS)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        certificate_builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
            ca_name,
            key.public_key(),
            not_before,
            not_after,
        )
        .add_extension(loopback_names(), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE
    ca_path.write_bytes(ca_cert.public_bytes(pem))
    cert_path.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    write_private(
        key_path,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
    )
    return Certificates(ca_path, cert_path, key_path, not_after)


def certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    """A certificate of ``subject``'s key, by ``issuer``, valid between the two times, with a random
    serial number; the caller adds its extensions and signs."""
    from cryptography import x509

    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def loopback_names() -> x509.SubjectAlternativeName:
    """The names a loopback server answers to: 127.0.0.1 and localhost."""
    from cryptography import x509

    return x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    )


def server_context(certificates: Certificates, faults: Iterable[str] = ()) -> ssl.SSLContext:
    """TLS 1.2 and 1.3 only (Caddy's default); the legacy fault also accepts 1.0 and 1.1."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert_path, certificates.key_path)
    if Defect.TLS_LEGACY_ACCEPTED in set(faults):
        # OpenSSL 3 refuses TLS 1.0/1.1 below security level 0 (their handshakes use SHA-1).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Server(ThreadingHTTPServer):
    """A threading HTTP server on an already-bound socket; TLS is negotiated in the request's thread
    (a client that never finishes its handshake holds only its own thread)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, sock: socket.socket, front: Front) -> None:
        super().__init__(sock.getsockname(), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.front = front

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = self.socket.accept()
        # A front server writes small responses and must not wait for Nagle's delayed ACK.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.front.tls is not None:
            conn = self.front.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-request is not the front's error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def handle(self) -> None:
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return  # a refused protocol version or a client that went away
        self._upstream: http.client.HTTPConnection | None = None
        try:
            super().handle()
        finally:
            if self._upstream is not None:
                self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        front = self.server.front
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self._reply(411, b"", [])  # the suite and Open edX clients always send a length
            self.close_connection = True
            return
        body = self.rfile.read(int(length)) if length and length.isdigit() else b""
        if front.redirect_to is not None:
            host = (self.headers.get("Host") or "127.0.0.1").rsplit(":", 1)[0]
            location = f"https://{host}:{front.redirect_to}{self.path}"
            self._reply(308, b"", [("Location", location)])
            return
        headers = [
            (k, v) for k, v in self.headers.items() if k.lower() not in _HOP | _FORWARDED | {"content-length"}
        ]
        headers += [
            ("X-Forwarded-Proto", front.scheme),
            ("X-Forwarded-For", self.client_address[0]),
            ("X-Forwarded-Host", self.headers.get("Host") or ""),
            ("X-Forwarded-Port", str(front.public_port)),
        ]
        try:
            status, reason, answer_headers, answer = self._upstream_exchange(body, headers)
        except (OSError, http.client.HTTPException):
            self._reply(502, b"", [])
            self.close_connection = True
            return
        passed = [(k, v) for k, v in answer_headers if k.lower() not in _HOP | {"content-length"}]
        if front.tls is not None and front.hsts:
            passed.append(("Strict-Transport-Security", HSTS))
        self._reply(status, answer, passed, reason)

    def _upstream_exchange(
        self, body: bytes, headers: list[tuple[str, str]]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        # One upstream connection per client connection. A reused one that the service has closed
        # meanwhile fails before any answer: that request is sent once more on a fresh connection.
        for reused in (self._upstream is not None, False):
            conn = self._upstream or http.client.HTTPConnection(
                "127.0.0.1", self.server.front.upstream_port, timeout=UPSTREAM_TIMEOUT_S
            )
            self._upstream = None
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                if reused:
                    continue
                raise
            if response.will_close:
                conn.close()
            else:
                self._upstream = conn
            return response.status, response.reason, response.getheaders(), data
        raise AssertionError("unreachable")

    def _reply(
        self, status: int, body: bytes, headers: list[tuple[str, str]], reason: str | None = None
    ) -> None:
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward


class Front:
    """One listener of the front: https before a service, or plain http (redirecting to the https
    port, or, with a fault, proxying to the service as plain http)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        upstream_port: int,
        tls: ssl.SSLContext | None,
        hsts: bool = True,
        redirect_to: int | None = None,
    ) -> None:
        self.tls = tls
        self.hsts = hsts
        self.upstream_port = upstream_port
        self.redirect_to = redirect_to
        self.public_port: int = sock.getsockname()[1]
        self.scheme = "https" if tls is not None else "http"
        self._server = _Server(sock, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"front-{self.scheme}-{self.public_port}",
            daemon=True,
        )

    def start(self) -> Front:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        with contextlib.suppress(OSError):
            self._server.server_close()
