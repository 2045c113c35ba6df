"""The edge diagnoses on hand-made exchanges: each symptom names its cause and fix, and look-alikes
(an unknown scheme, a 307, another host's issuer) are not misdiagnosed."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from conformance._lib import diagnose
from conformance._lib.http import Exchange


def exchange(
    status,
    *,
    method="POST",
    url="http://lms.example.org/oauth2/access_token",
    headers=None,
    sent=None,
    body=None,
):
    return Exchange(
        method=method,
        url=url,
        request_headers=sent or {},
        request_body=b"",
        status=status,
        headers=httpx.Headers(headers or {}),
        body=json.dumps(body).encode() if body is not None else b"",
        elapsed_ms=1.0,
    )


@pytest.mark.parametrize(
    ("status", "location", "says"),
    [
        (301, "https://lms.example.org/oauth2/access_token", "use https in base_url"),
        (302, "/oauth2/access_token/", "trailing-slash rewrite"),
        (301, "https://auth.example.org/oauth2/access_token", "answers on another host"),
        (308, "/oauth2/access_token/", "clients that do not follow redirects"),
        (301, "/login?next=/oauth2/access_token", "exempt the OAuth paths"),
    ],
)
def test_redirects_name_the_cause_and_fix(status, location, says):
    hint = diagnose.redirect(exchange(status, headers={"Location": location}))
    assert hint is not None and says in hint and f"HTTP {status} redirect to" in hint
    if status in (301, 302):
        assert "re-sends the POST as a GET" in hint


def test_a_redirect_without_location_and_a_non_redirect():
    assert "without a Location header" in diagnose.redirect(exchange(302))
    assert diagnose.redirect(exchange(401, body={"error": "invalid_client"})) is None


NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("sent", "body", "diagnosed"),
    [
        ({"Authorization": "JWT eyJ.a.b"}, NOT_PROVIDED, True),
        ({"authorization": "Bearer 0123456789abcdef"}, NOT_PROVIDED, True),
        ({"Authorization": "Token xyz"}, NOT_PROVIDED, False),  # a scheme no class reads: a real "none"
        ({}, NOT_PROVIDED, False),  # nothing was sent
        ({"Authorization": "JWT eyJ.a.b"}, {"detail": "Invalid token."}, False),  # it arrived
    ],
)
def test_dropped_authorization(sent, body, diagnosed):
    ex = exchange(401, method="GET", url="http://lms.example.org/api/user/v1/me", sent=sent, body=body)
    hint = diagnose.dropped_authorization(ex)
    assert (hint is not None) == diagnosed
    if diagnosed:
        assert "WSGIPassAuthorization On" in hint and "proxy_set_header Authorization" in hint


def test_issuer_scheme():
    behind_tls = diagnose.issuer_scheme("http://lms.example.org/oauth2", "https://lms.example.org")
    assert "X-Forwarded-Proto: https" in behind_tls and "ENABLE_HTTPS" in behind_tls
    no_tls = diagnose.issuer_scheme("https://lms.example.org/oauth2", "http://lms.example.org")
    assert "ENABLE_HTTPS" in no_tls
    assert diagnose.issuer_scheme("http://other.example.org/oauth2", "https://lms.example.org") is None
    assert diagnose.issuer_scheme("https://lms.example.org/oauth2", "https://lms.example.org") is None
    assert diagnose.issuer_scheme(None, "https://lms.example.org") is None


def _jwt(claims):
    """A compact JWT with these claims (unsigned: the diagnosis reads the payload only)."""

    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("ahead_s", "status", "carrier", "diagnosed"),
    [
        (300, 401, "authorization", True),
        (300, 401, "cookie", True),  # JwtAuthCookieMiddleware's header-payload cookie
        (300, 403, "authorization", False),  # authenticated: the permission refused it
        (30, 401, "authorization", False),  # within the margin: clocks a little apart are normal
        (-5, 401, "authorization", False),  # issued in the past, refused for something else
        (300, 401, "none", False),  # no JWT was sent
    ],
)
def test_clock_ahead(ahead_s, status, carrier, diagnosed):
    token = _jwt({"iat": int(time.time()) + ahead_s, "exp": int(time.time()) + ahead_s + 3600})
    sent = {
        "authorization": {"Authorization": f"JWT {token}"},
        "cookie": {"Cookie": f"csrftoken=x; {diagnose.JWT_HEADER_PAYLOAD}={token.rsplit('.', 1)[0]}"},
        "none": {},
    }[carrier]
    ex = exchange(status, method="GET", url="http://lms.example.org/api/user/v1/me", sent=sent)
    hint = diagnose.clock_ahead(ex)
    assert (hint is not None) == diagnosed
    if diagnosed:
        assert diagnose.CLOCK_AHEAD in hint and "NTP" in hint and "signature" not in hint
        assert diagnose.explain(ex) == hint


def test_clock_ahead_ignores_what_is_not_a_jwt():
    for sent in ({"Authorization": "Bearer opaque0123"}, {"Authorization": "JWT a.!!!.b"}, {"Cookie": "x=y"}):
        assert diagnose.clock_ahead(exchange(401, sent=sent)) is None
