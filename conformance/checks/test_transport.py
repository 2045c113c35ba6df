"""Transport: https only, modern TLS, a valid certificate, HSTS (non-loopback https profiles only)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from urllib.parse import urlsplit

import pytest

from conformance._lib.http import Unreachable, ca_bundle_path
from conformance._lib.registry import check
from conformance._lib.verify import expect, expect_header, expect_no_token


def _host_port(profile) -> tuple[str, int]:
    parts = urlsplit(profile.base_url)
    return parts.hostname or "", parts.port or 443


def _context(profile, **kw) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_bundle_path(profile))
    for key, value in kw.items():
        setattr(context, key, value)
    return context


def _handshake(profile, context: ssl.SSLContext) -> tuple[str | None, dict]:
    host, port = _host_port(profile)
    with (
        socket.create_connection((host, port), timeout=profile.data["timeout_s"]) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.version(), tls.getpeercert() or {}


@check(
    "transport.https.token-endpoint",
    "The token endpoint is served over https without http redirects",
    level="MUST",
    spec=["RFC6749-3.2", "RFC6749-1.6"],
    ref="TR-01",
    requires=["https"],
)
def test_https(http, profile):
    ex = http.get(profile.data["token_path"])
    location = ex.headers.get("location", "")
    expect(
        ex.url.startswith("https://") and not location.startswith("http://"),
        "the token endpoint stays on https",
        "https, no redirect to http",
        f"{ex.url} -> {ex.status} {location}",
    )


@pytest.mark.parametrize("case", ["negotiated", "legacy-refused"])
@check(
    "transport.tls.version",
    "TLS 1.2 or newer is negotiated and TLS 1.0/1.1 are refused",
    level="MUST",
    spec=["RFC8996-4", "RFC8996-5", "RFC9325-3.1.1"],
    ref="TR-02",
    requires=["https"],
)
def test_tls_version(profile, case):
    if case == "negotiated":
        # The default context refuses anything older than TLS 1.2, so a server without TLS 1.2+
        # shows as a failed handshake, not as an old version. The certificate is TR-03's business.
        context = _context(profile, check_hostname=False, verify_mode=ssl.CERT_NONE)
        try:
            version, _ = _handshake(profile, context)
        except ssl.SSLError as exc:
            version = f"no handshake with TLS 1.2 or newer ({exc.reason or exc})"
        expect(
            version in ("TLSv1.2", "TLSv1.3"),
            "a modern TLS version is used",
            "TLSv1.2+",
            str(version),
        )
        return
    context = _context(profile, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    try:
        version, _ = _handshake(profile, context)
    except (ssl.SSLError, OSError):
        return
    expect(False, "TLS 1.0 and 1.1 are refused", "handshake refused", f"{version} accepted")


@check(
    "transport.tls.certificate",
    "The certificate is valid for the host and not about to expire",
    level="MUST",
    spec=["RFC6750-5.3", "RFC9325-7"],
    ref="TR-03",
    requires=["https"],
)
def test_certificate(profile):
    try:
        _, cert = _handshake(profile, _context(profile))
    except ssl.SSLCertVerificationError as exc:
        expect(
            False,
            "the certificate verifies for the host",
            "a valid certificate",
            exc.verify_message or str(exc),
        )
        return
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), dt.UTC)
    days = (not_after - dt.datetime.now(dt.UTC)).days
    expect(
        days > 14,
        "the certificate is renewed in time",
        "more than 14 days left",
        f"{days} days left (expires {not_after:%Y-%m-%d})",
    )


@check(
    "transport.hsts",
    "The LMS sends Strict-Transport-Security",
    level="SHOULD",
    spec=["RFC6797-6.1"],
    ref="TR-04",
    requires=["https"],
)
def test_hsts(http, profile):
    expect_header(
        http.get("/"),
        "Strict-Transport-Security",
        "browsers are told to stay on https",
        predicate=lambda v: "max-age=" in v.lower(),
        expected="max-age=...",
    )


@check(
    "transport.plain-http.no-token",
    "Plain http to the token endpoint does not serve OAuth",
    level="MUST",
    spec=["RFC6749-3.2", "RFC6749-10.9"],
    ref="TR-05",
    requires=["https"],
)
def test_plain_http(http, profile, fake):
    host, _ = _host_port(profile)
    url = f"http://{host}{profile.data['token_path']}"
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
