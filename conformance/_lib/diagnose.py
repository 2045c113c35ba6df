"""Edge diagnostics: what the web server or proxy in front of the LMS does to OAuth traffic, told from
the symptoms a check sees, with the usual causes and the fix.

- `redirect(ex)`: a 3xx where an OAuth answer was expected (a trailing-slash rewrite, http -> https);
  301/302/303 make clients re-send a POST as a GET (RFC 9110 15.4), so the token request is lost.
- `dropped_authorization(ex)`: a resource answers "Authentication credentials were not provided."
  to a request that carried `Authorization: JWT|Bearer <token>`: the header never reached Django.
- `issuer_scheme(iss, base_url)`: `iss` names the LMS's host with the other scheme (X-Forwarded-Proto,
  ENABLE_HTTPS).
- `basic_refused(ex)`: HTTP Basic client authentication is refused while the same credentials in
  the form body obtain a token (the check has seen both): the header is dropped on its way, or the
  token endpoint reads the body only.
- `clock_ahead(ex)`: a JWT refused with 401 whose `iat` is ahead of this machine's clock: the LMS's
  clock runs fast, and resource servers refuse tokens issued in the future. Its text holds
  `CLOCK_AHEAD`, the evidence by which jwt.claims.times's finding explains the refusal.
`explain(ex)` runs these on any exchange; the verifiers add what it says to a failure, and
`edge_cause(ex)` names the cause of the edge ones (conformance._lib.causes).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from conformance._lib.http import Exchange

__all__ = [
    "ASYMMETRIC_TOKEN",
    "BASIC_REFUSED_FIX",
    "CLOCK_AHEAD",
    "JWT_HEADER_PAYLOAD",
    "basic_refused",
    "clock_ahead",
    "dropped_authorization",
    "edge_cause",
    "error_as_200",
    "explain",
    "issued_ahead",
    "issuer_scheme",
    "redirect",
]

NOT_PROVIDED = "Authentication credentials were not provided."
# Statuses after which clients (browsers, requests, httpx with follow_redirects) re-send POST as GET.
METHOD_CHANGING = (301, 302, 303)
# The control case of the LMS's asymmetric (RS512) signing. The LMS signs with the same key the JWT
# cookies of a login and a restricted application's tokens (openedx-oauth.md, "Header"): a server
# error there is that control's finding when it fails too.
ASYMMETRIC_TOKEN = "jwt.header.alg[asymmetric]"
# How a token issued in the future is said, by jwt.claims.times and by `clock_ahead`.
CLOCK_AHEAD = "ahead of this machine's clock"
# Beyond this, no JWT verifier's leeway covers an iat in the future (PyJWT's default is 0 s,
# edx-drf-extensions' JWT_LEEWAY 1 s): the refusal is the clock's.
CLOCK_MARGIN_S = 60
# The cookie that carries a JWT's header and payload (edx-drf-extensions' JwtAuthCookieMiddleware;
# its setting JWT_AUTH_COOKIE_HEADER_PAYLOAD, default); the sign-in flows read it too.
JWT_HEADER_PAYLOAD = "edx-jwt-cookie-header-payload"


def redirect(ex: Exchange) -> str | None:
    """Why a redirect where an OAuth answer was expected breaks clients, and what to change."""
    if not 300 <= ex.status < 400:
        return None
    location = ex.headers.get("location", "")
    if not location:
        return f"HTTP {ex.status} without a Location header: a redirect nothing can follow"
    target = urljoin(ex.url, location)
    here, there = urlsplit(ex.url), urlsplit(target)
    if ex.method == "POST" and ex.status in METHOD_CHANGING:
        effect = "a client that follows it re-sends the POST as a GET, without its form (RFC 9110 15.4)"
    else:
        effect = "clients that do not follow redirects (as most OAuth libraries) get no token"
    if (here.hostname or "").lower() != (there.hostname or "").lower():
        fix = "the LMS answers on another host: use that host in base_url, or fix the proxy's redirect rule"
    elif here.scheme == "http" and there.scheme == "https":
        fix = (
            "the LMS is served over https: use https in base_url (and in every client's LMS URL); keep "
            "the http -> https redirect for browsers only"
        )
    elif here.path.rstrip("/") == there.path.rstrip("/"):
        fix = (
            "a trailing-slash rewrite in the web server or proxy: Open edX serves the OAuth paths with "
            "and without the slash (^access_token/?$), so drop the rewrite for /oauth2/ (or set "
            f"token_path = {there.path!r} and configure clients the same)"
        )
    else:
        fix = "find the rule in the web server or proxy that redirects /oauth2/ and exempt the OAuth paths"
    return f"HTTP {ex.status} redirect to {target}: {effect}. Fix: {fix}"


def dropped_authorization(ex: Exchange) -> str | None:
    """A JWT or Bearer credential was sent, yet the application says none was provided."""
    sent = next((v for k, v in ex.request_headers.items() if k.lower() == "authorization"), "")
    scheme, _, credential = sent.partition(" ")
    if ex.status != 401 or scheme.lower() not in ("jwt", "bearer") or not credential.strip():
        return None
    body = ex.json()
    said = (body.get("detail") or body.get("developer_message")) if isinstance(body, dict) else None
    if said != NOT_PROVIDED:
        return None
    return (
        "the request carried an Authorization header, but the application saw none: it is being "
        "dropped in front of Django. Usual causes: Apache mod_wsgi without `WSGIPassAuthorization On`; "
        'a proxy, CDN or WAF rule that strips it (nginx `proxy_set_header Authorization "";` in a '
        "cache location, a load balancer's header allow-list); a redirect that lost it"
    )


def _sent_claims(ex: Exchange) -> dict[str, Any]:
    """The claims of the JWT a request carried (Authorization: JWT|Bearer, or the JWT cookie), read
    without verifying anything; empty when it carried none."""
    headers = {k.lower(): v for k, v in ex.request_headers.items()}
    compact = headers.get("authorization", "").partition(" ")[2].strip()
    for cookie in headers.get("cookie", "").split(";"):
        name, _, value = cookie.strip().partition("=")
        if name == JWT_HEADER_PAYLOAD:
            compact = value
    parts = compact.split(".")
    if len(parts) not in (2, 3):
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def issued_ahead(claims: dict[str, Any]) -> str | None:
    """A token whose iat is further ahead of this machine's clock than any verifier's leeway."""
    iat = claims.get("iat")
    ahead = iat - time.time() if isinstance(iat, int | float) else 0
    if ahead <= CLOCK_MARGIN_S:
        return None
    return (
        f"the refused JWT's iat is {ahead:.0f} s {CLOCK_AHEAD}: the LMS's clock runs fast, and "
        "resource servers refuse a token issued in the future. Sync the LMS host's clock (NTP)"
    )


def clock_ahead(ex: Exchange) -> str | None:
    """A JWT refused with 401 that was issued in the future (`issued_ahead`)."""
    return issued_ahead(_sent_claims(ex)) if ex.status == 401 else None


def error_as_200(ex: Exchange) -> str | None:
    """An OAuth error (a JSON body with `error` and no token) answered with HTTP 200."""
    body = ex.json()
    if ex.status != 200 or not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return None
    if "access_token" in body:
        return None
    return (
        f"an OAuth error ({body['error']}) came with HTTP 200: clients that judge by the status take it "
        "for a success. Usual causes: a gateway or middleware that rewrites error statuses to 200"
    )


def explain(ex: Exchange) -> str | None:
    return redirect(ex) or dropped_authorization(ex) or error_as_200(ex) or clock_ahead(ex)


def edge_cause(ex: Exchange) -> str | None:
    """The cause id of what `explain` finds: `edge.redirect`, `edge.dropped-authorization` or
    `edge.error-status`."""
    if redirect(ex):
        return "edge.redirect"
    # A Bearer token answered so may also be a resource without BearerAuthentication: only a JWT
    # (which every Open edX API takes) says for sure that the header was dropped.
    sent = next((v for k, v in ex.request_headers.items() if k.lower() == "authorization"), "")
    if dropped_authorization(ex) and sent.split(" ", 1)[0].lower() == "jwt":
        return "edge.dropped-authorization"
    if error_as_200(ex):
        return "edge.error-status"
    return None


BASIC_REFUSED_FIX = (
    "the Authorization header does not reach the token endpoint, or it reads the client from the "
    "body only. Usual causes: Apache mod_wsgi without `WSGIPassAuthorization On`; a proxy, CDN or WAF "
    'rule that strips Authorization (nginx `proxy_set_header Authorization "";` left from a staging '
    "basic-auth setup); a custom OAuth2 validator. Clients that send HTTP Basic (most OAuth "
    "libraries) get no token until it is fixed"
)


def basic_refused(ex: Exchange) -> str:
    """HTTP Basic refused where the same credentials in the form body obtain a token."""
    body = ex.json()
    said = body.get("error") if isinstance(body, dict) else None
    answer = f"HTTP {ex.status}" + (f" {said}" if said else "")
    return (
        f"{answer} with HTTP Basic, while the same id and secret in the form body obtain a token: "
        + BASIC_REFUSED_FIX
    )


def issuer_scheme(iss: object, base_url: str) -> str | None:
    """`iss` names the LMS's own host with the other scheme than base_url."""
    if not isinstance(iss, str):
        return None
    claimed, served = urlsplit(iss), urlsplit(base_url)
    if claimed.netloc.lower() != served.netloc.lower() or claimed.scheme == served.scheme:
        return None
    if claimed.scheme == "http":
        cause = (
            "the LMS believes it is served over http behind a TLS proxy: the proxy must send "
            "X-Forwarded-Proto: https (Django's SECURE_PROXY_SSL_HEADER), and Tutor's ENABLE_HTTPS must be "
            "true, since it renders JWT_ISSUER"
        )
    else:
        cause = (
            "the issuer says https while the LMS is reached over http: Tutor's ENABLE_HTTPS (which "
            "renders JWT_ISSUER) or a proxy's X-Forwarded-Proto says https where there is no TLS"
        )
    return f"iss {iss!r} differs from base_url {base_url!r} only in its scheme: {cause}"
