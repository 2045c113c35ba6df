"""The faults of the transport area: the TLS front of the LMS."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault

# Every fault of this module is of the transport area.
_fault = partial(Fault, area="transport")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.TLS_CERT_EXPIRED,
        description=(
            "The front's certificate expired yesterday (its renewal failed unnoticed): no client that "
            "verifies certificates can talk to the LMS."
        ),
        tls=True,
        unreachable="certificate has expired",
    ),
    _fault(
        name=Defect.TLS_CERT_EXPIRING,
        description=(
            "The front's certificate expires in 10 days: the renewal Caddy attempts with 30 days left "
            "has been failing for three weeks."
        ),
        catches=["transport.tls.certificate-expiry"],
        tls=True,
    ),
    _fault(
        name=Defect.TLS_LEGACY_ACCEPTED,
        description=(
            "The front also accepts TLS 1.0 and 1.1 (an old protocol list kept in the proxy's "
            "configuration, OpenSSL at security level 0)."
        ),
        catches=["transport.tls.version"],
        tls=True,
    ),
    _fault(
        name=Defect.NO_HSTS,
        description=(
            "The front sends no Strict-Transport-Security header: Tutor's stock Caddyfile, to which "
            "nobody added one (Caddy sends none by itself)."
        ),
        catches=["transport.hsts"],
        tls=True,
    ),
    _fault(
        name=Defect.PLAIN_HTTP_TOKEN_ENDPOINT,
        description=(
            "Plain http is proxied to the LMS instead of redirected to https: the token endpoint "
            "answers OAuth, and would issue tokens, over http."
        ),
        catches=["transport.plain-http.no-token"],
        tls=True,
    ),
    _fault(
        name=Defect.ISSUER_HTTP_BEHIND_TLS,
        description=(
            "ENABLE_HTTPS left false behind a TLS front: every service's JWT issuer is "
            "http://<host>/oauth2 while the LMS is served, and named in the profile, over https."
        ),
        catches=[
            "transport.https.token-endpoint",
            "jwt.claims.iss",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
        ],
        tls=True,
        cause="edge.issuer-scheme",
    ),
)
