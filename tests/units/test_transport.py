"""The unit cases of the transport checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit
from tests.units.patches import WRONG_ISSUER

AREA = "transport"

TABLE: dict[str, Unit] = {
    "transport.https.token-endpoint": unit(
        fails(Defect.REDIRECT_TO_HTTP, "answers token requests over https itself", "answered-over-https"),
        fails(WRONG_ISSUER, "iss is an https URL", "https-issuer", actual="http://localhost:8000/oauth2"),
    ),
    "transport.tls.version": unit(
        fails(Defect.TLS_LEGACY_ONLY, "a modern TLS version is used", "negotiated"),
        fails(Defect.TLS_LEGACY_ACCEPTED, "TLS 1.0 and 1.1 are refused", "legacy-refused"),
        # A certificate the suite does not trust must not pass for a refused protocol.
        fails(
            Defect.TLS_LEGACY_UNTRUSTED_CERT,
            "TLS 1.0 and 1.1 are refused",
            "legacy-refused",
            actual="TLSv1.1",
        ),
    ),
    "transport.tls.certificate": unit(
        fails(Defect.CERT_WRONG_HOST, "the certificate verifies for the host"),
    ),
    "transport.tls.certificate-expiry": unit(
        fails(Defect.CERT_EXPIRING, "the certificate is renewed in time", actual="10 days left"),
    ),
    "transport.hsts": unit(
        fails(Defect.NO_HSTS, "browsers are told to stay on https"),
    ),
    "transport.plain-http.no-token": unit(
        fails(Defect.PLAIN_HTTP_SERVED, "the token endpoint is not served over plain http"),
        either=(Defect.PLAIN_HTTP_CLOSED,),
    ),
}
