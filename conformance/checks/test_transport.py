"""Transport: https only, modern TLS, a valid certificate, HSTS (https profiles that are not loopback,
or loopback ones with options.loopback_tls)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import warnings
from urllib.parse import urlsplit

import pytest

from conformance._lib.http import Unreachable, ca_bundle_path
from conformance._lib.jwts import MalformedJwt, parse_jwt
from conformance._lib.registry import check, clauses, requires
from conformance._lib.verify import ConformanceFailure, expect, expect_header, expect_no_token, fail

# TR-03: the catalogue's renewal margin.
RENEWAL_DAYS = 14


def _host_port(profile) -> tuple[str, int]:
    parts = urlsplit(profile.base_url)
    return parts.hostname or "", parts.port or 443


def _context(profile, **kw) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_bundle_path(profile))
    for key, value in kw.items():
        setattr(context, key, value)
    return context


def _unverified_context(legacy_only: bool = False) -> ssl.SSLContext:
    """Any protocol from TLS 1.0 (only 1.0 and 1.1 with `legacy_only`), at OpenSSL security level 0
    (which 1.0/1.1 handshakes need), with no certificate verification: for questions about the
    protocol or the certificate's dates, never about trust."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # asking for them is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        if legacy_only:
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _handshake(profile, context: ssl.SSLContext) -> tuple[str | None, dt.datetime | None]:
    """(negotiated version, the server certificate's notAfter) of one handshake under `context`;
    a server that cannot be connected to at all is Unreachable (no verdict), a refused handshake or
    certificate an ssl.SSLError."""
    from cryptography import x509

    host, port = _host_port(profile)
    try:
        raw = socket.create_connection((host, port), timeout=profile.data["timeout_s"])
    except OSError as exc:
        raise Unreachable(f"TLS handshake with {host}:{port}: connection failed ({exc})") from None
    with raw:
        try:
            tls = context.wrap_socket(raw, server_hostname=host)
        except TimeoutError:
            raise Unreachable(f"TLS handshake with {host}:{port}: no answer within the timeout") from None
        with tls:
            der = tls.getpeercert(binary_form=True)  # also without verification, unlike the dict form
            not_after = x509.load_der_x509_certificate(der).not_valid_after_utc if der else None
            return tls.version(), not_after


@pytest.mark.parametrize("case", ["answered-over-https", "https-issuer"])
@check("transport.https.token-endpoint", level="MUST", ref="TR-01")
@clauses("RFC6749-3.2", "RFC6749-1.6", "RFC8414-2")
@requires("https")
def test_https(tokens, profile, case):
    """Token requests over https are answered there and name an https issuer"""
    if case == "answered-over-https":
        # The run's shared token request (the client's own credentials: a redirect here is what a
        # real client follows with them); its own request only when that one issued no token.
        try:
            ex = tokens.jwt(verdict=True).exchange
        except ConformanceFailure:
            ex = tokens.request(auth="basic")  # not blocked: what the endpoint does is the question
        location = ex.headers.get("location", "")
        body = ex.json()
        expect(
            ex.url.startswith("https://")
            and not 300 <= ex.status < 400
            and isinstance(body, dict)
            and ("access_token" in body or "error" in body),
            "the token endpoint answers token requests over https itself (no redirect, above all to http)",
            "an OAuth JSON answer on the https URL",
            lambda: f"{ex.url} -> HTTP {ex.status}" + (f" Location: {location}" if location else ""),
        )
        return
    # Tutor derives JWT_ISSUER from ENABLE_HTTPS: left false behind a TLS front, every token names an
    # http issuer, so whatever builds URLs from it (and RFC 8414 metadata) leaves https.
    token = tokens.jwt().token
    try:
        issuer = str(parse_jwt(token).claims.get("iss", ""))
    except MalformedJwt as exc:
        issuer = f"(no JWT: {exc})"
    expect(
        issuer.startswith("https://"),
        "an LMS served over https issues tokens whose iss is an https URL",
        "iss = https://<host>/oauth2",
        issuer or "(no iss)",
    )


@pytest.mark.parametrize("case", ["negotiated", "legacy-refused"])
@check("transport.tls.version", level="MUST", ref="TR-02")
@clauses("RFC8996-4", "RFC8996-5", "RFC9325-3.1.1")
@requires("https")
def test_tls_version(profile, case):
    """TLS 1.2 or newer is negotiated and TLS 1.0/1.1 are refused"""
    if case == "negotiated":
        # The default context refuses anything older than TLS 1.2, so a server without TLS 1.2+
        # shows as a failed handshake, not as an old version. The certificate is TR-03's business.
        context = _context(profile, check_hostname=False, verify_mode=ssl.CERT_NONE)
        try:
            version, _ = _handshake(profile, context)
        except (ssl.SSLError, ConnectionError) as exc:
            version = f"no handshake with TLS 1.2 or newer ({getattr(exc, 'reason', None) or exc})"
        expect(
            version in ("TLSv1.2", "TLSv1.3"),
            "a modern TLS version is used",
            "TLSv1.2+",
            str(version),
        )
        return
    # Only the protocol is judged: a handshake that completes in TLS 1.0/1.1 is acceptance, whatever
    # the certificate (TR-03 judges that); an alert or a closed connection during it is refusal.
    try:
        version, _ = _handshake(profile, _unverified_context(legacy_only=True))
    except (ssl.SSLError, ConnectionError):
        return
    expect(
        version not in ("TLSv1", "TLSv1.1"),
        "TLS 1.0 and 1.1 are refused",
        "handshake refused",
        f"{version} negotiated",
    )


@check("transport.tls.certificate", level="MUST", ref="TR-03")
@clauses("RFC6750-5.3", "RFC9325-7")
@requires("https")
def test_certificate(profile):
    """The certificate verifies for the host and is within its validity period"""
    try:
        _handshake(profile, _context(profile))
    except ssl.SSLCertVerificationError as exc:
        fail(
            "the certificate verifies for the host",
            "a valid certificate",
            exc.verify_message or str(exc),
        )
    except (ssl.SSLError, ConnectionError) as exc:
        # No TLS 1.2+ handshake at all: TR-02's failure; the certificate cannot be judged here.
        raise Unreachable(f"no TLS 1.2+ handshake to verify the certificate in ({exc})") from None


# TR-03b: the catalogue's TR-03 expiry clause, at its own level.
@check("transport.tls.certificate-expiry", level="SHOULD", ref="TR-03b")
@clauses("RFC9325-7")
@requires("https")
def test_certificate_expiry(profile):
    """The certificate has more than 14 days left before it expires"""
    # Dates only: whether the certificate verifies for the host is the MUST check's question.
    _, not_after = _handshake(profile, _unverified_context())
    if not_after is None:
        fail("the certificate is renewed in time", "a server certificate", "none was sent")
    days = (not_after - dt.datetime.now(dt.UTC)).days
    expect(
        days > RENEWAL_DAYS,
        "the certificate is renewed in time",
        f"more than {RENEWAL_DAYS} days left",
        f"{days} days left (expires {not_after:%Y-%m-%d})",
    )


@check("transport.hsts", level="SHOULD", ref="TR-04")
@clauses("RFC6797-6.1")
@requires("https")
def test_hsts(http, profile):
    """The LMS sends Strict-Transport-Security"""
    expect_header(
        http.get("/"),
        "Strict-Transport-Security",
        "browsers are told to stay on https",
        predicate=lambda v: "max-age=" in v.lower(),
        expected="max-age=...",
    )


@check("transport.plain-http.no-token", level="MUST", ref="TR-05")
@clauses("RFC6749-3.2", "RFC6749-10.9")
@requires("https")
def test_plain_http(http, profile, fake):
    """Plain http to the token endpoint does not serve OAuth"""
    host, _ = _host_port(profile)
    port = int(profile.data["options"]["plain_http_port"])
    url = f"http://{host}{'' if port == 80 else f':{port}'}{profile.data['token_path']}"
    # No real secret crosses plain http: a made-up one is enough to see whether OAuth answers there.
    try:
        ex = http.post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": profile.data["client"]["id"],
                "client_secret": fake.password(length=20),
            },
        )
    except Unreachable:
        return  # nothing listens on plain http: fine
    expect_no_token(ex, "no token over plain http")
    location = ex.headers.get("location", "")
    oauth_answered = isinstance(ex.json(), dict) and "error" in ex.json()
    expect(
        not oauth_answered and (not 300 <= ex.status < 400 or location.startswith("https://")),
        "the token endpoint is not served over plain http",
        "a redirect to https or no OAuth",
        f"HTTP {ex.status} {location or ex.text[:100]}",
    )
