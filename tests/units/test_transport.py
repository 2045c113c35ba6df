"""The unit cases of the transport checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

import httpx

from conformance.reference.defects import Defect
from tests.stub_lms import LMS_HOST, on_front, on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit
from tests.units.patches import WRONG_ISSUER

LEGACY_TOO = ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1")
# The token endpoint's rule in the front server sends clients to plain http (GET 301, POST 308).
REDIRECT_TO_HTTP = on_front(
    Defect.REDIRECT_TO_HTTP,
    lambda r: (
        httpx.Response(
            301 if r.method == "GET" else 308, headers={"Location": f"http://{LMS_HOST}{r.url.path}"}
        )
        if r.url.path.rstrip("/") == "/oauth2/access_token" and r.method != "OPTIONS"
        else None
    ),
)
NO_HSTS = on_settings(Defect.NO_HSTS, hsts=False)
PLAIN_HTTP_SERVED = on_settings(Defect.PLAIN_HTTP_SERVED, plain_http="served")
PLAIN_HTTP_CLOSED = on_settings(Defect.PLAIN_HTTP_CLOSED, plain_http="closed")
TLS_LEGACY_ONLY = on_settings(Defect.TLS_LEGACY_ONLY, tls_versions=("TLSv1.1", "TLSv1"))
TLS_LEGACY_ACCEPTED = on_settings(Defect.TLS_LEGACY_ACCEPTED, tls_versions=LEGACY_TOO)
TLS_LEGACY_UNTRUSTED_CERT = on_settings(
    Defect.TLS_LEGACY_UNTRUSTED_CERT, tls_versions=LEGACY_TOO, certificate_verifies=False
)
CERT_EXPIRING = on_settings(Defect.CERT_EXPIRING, certificate_days=10)
CERT_WRONG_HOST = on_settings(Defect.CERT_WRONG_HOST, certificate_verifies=False)

TABLE: dict[str, Unit] = {
    "transport.https.token-endpoint": unit(
        fails(REDIRECT_TO_HTTP, "answers token requests over https itself", "answered-over-https"),
        fails(WRONG_ISSUER, "iss is an https URL", "https-issuer", actual="http://localhost:8000/oauth2"),
    ),
    "transport.tls.version": unit(
        fails(TLS_LEGACY_ONLY, "a modern TLS version is used", "negotiated"),
        fails(TLS_LEGACY_ACCEPTED, "TLS 1.0 and 1.1 are refused", "legacy-refused"),
        # A certificate the suite does not trust must not pass for a refused protocol.
        fails(
            TLS_LEGACY_UNTRUSTED_CERT,
            "TLS 1.0 and 1.1 are refused",
            "legacy-refused",
            actual="TLSv1.1",
        ),
    ),
    "transport.tls.certificate": unit(
        fails(CERT_WRONG_HOST, "the certificate verifies for the host"),
    ),
    "transport.tls.certificate-expiry": unit(
        fails(CERT_EXPIRING, "the certificate is renewed in time", actual="10 days left"),
    ),
    "transport.hsts": unit(
        fails(NO_HSTS, "browsers are told to stay on https"),
    ),
    "transport.plain-http.no-token": unit(
        fails(PLAIN_HTTP_SERVED, "the token endpoint is not served over plain http"),
        either=(PLAIN_HTTP_CLOSED,),
    ),
}
