"""Bad client credentials: every wrong secret or unknown client obtains no token (RFC 6749 2.3, 5.2)."""

from __future__ import annotations

import pytest

from conformance._lib.forge import secret_variant, vectors_for
from conformance._lib.registry import check, clauses, requires
from conformance._lib.tokens import basic_header
from conformance._lib.verify import expect, expect_header, expect_oauth_error

SECRET_VARIANTS = vectors_for("secret-variants", "bad-credentials.secret.variant")


@check("bad-credentials.basic.wrong-secret", level="MUST", ref="BC-01")
@clauses("RFC6749-5.2", "RFC6749-2.3.1")
def test_wrong_secret_basic(tokens):
    """A wrong secret in HTTP Basic auth is 401 invalid_client"""
    ex = tokens.shared_error("401")  # a wrong secret in HTTP Basic, asked for once per run
    expect_oauth_error(ex, 401, "invalid_client", "a wrong Basic secret is invalid_client")
    # RFC 6749 5.2 wants the Basic scheme here; a stock LMS sends Bearer: any scheme passes.
    expect_header(ex, "WWW-Authenticate", "a 401 names the authentication scheme")


@check("bad-credentials.body.wrong-secret", level="MUST", ref="BC-02")
@clauses("RFC6749-5.2")
def test_wrong_secret_body(tokens):
    """A wrong secret in the form body is refused as invalid_client"""
    expect_oauth_error(
        tokens.shared_error("401-body"),  # a wrong secret in the body, asked for once per run
        (400, 401),
        "invalid_client",
        "a wrong secret in the body is invalid_client",
    )


@check("bad-credentials.client.unknown", level="MUST", ref="BC-03")
@clauses("RFC6749-5.2")
def test_unknown_client(tokens, fake):
    """An unknown client id is 401 invalid_client"""
    ex = tokens.request(auth="basic", client_id=fake.uuid4(), secret=fake.password(length=24))
    expect_oauth_error(ex, 401, "invalid_client", "a client the server does not know is refused")


def _wrong_secret(tokens, profile, fake, variant):
    """The vector's near miss of the client's secret (None: no secret at all); another client's id
    is the password-grant client's when the profile has one."""
    other = profile.data.get("password_grant", {}).get("client_id") or fake.uuid4()
    return secret_variant(variant["transform"], tokens.client_secret, other, fake)


def _expect_no_token_for(ex, requirement):
    # No token: 401 invalid_client, or 400 invalid_request for a malformed credential (RFC 6749 5.2).
    expect_oauth_error(ex, (400, 401), {"invalid_client", "invalid_request"}, requirement)


@pytest.mark.parametrize("variant", SECRET_VARIANTS, ids=[v["id"] for v in SECRET_VARIANTS])
@check("bad-credentials.secret.variant", level="MUST", ref="BC-04")
@clauses("RFC6749-3.2.1", "RFC6749-2.3.1")
def test_secret_variant(tokens, profile, fake, variant):
    """A secret that differs in any way from the real one obtains no token"""
    if variant["transform"] == "random_long":
        ex = tokens.shared_error("401-body")  # the run's wrong secret is a long random string
    else:
        wrong = _wrong_secret(tokens, profile, fake, variant)
        fields = [("client_id", tokens.client_id)] + ([("client_secret", wrong)] if wrong is not None else [])
        ex = tokens.request(auth="none", fields=fields)
    _expect_no_token_for(ex, f"{variant['description']} is not the secret")


@pytest.mark.parametrize("variant", SECRET_VARIANTS, ids=[v["id"] for v in SECRET_VARIANTS])
@check("bad-credentials.secret.variant-basic", level="MUST", ref="BC-07")
@clauses("RFC6749-2.3.1")
def test_secret_variant_basic(tokens, profile, fake, variant):
    """A secret that differs in any way from the real one obtains no token through HTTP Basic"""
    # The same near misses as BC-04, in an Authorization: Basic header (the form most clients and
    # Tutor's own tests use); "missing" is the client id alone, without a colon.
    if variant["transform"] == "random_long":
        ex = tokens.shared_error("401")  # the run's wrong secret is a long random string
    else:
        wrong = _wrong_secret(tokens, profile, fake, variant)
        ex = tokens.request(auth="none", headers=basic_header(tokens.client_id, wrong))
    _expect_no_token_for(ex, f"{variant['description']} is not the secret (HTTP Basic)")


@check("bad-credentials.error.no-leak", level="SHOULD", ref="BC-05")
@clauses("RFC6819-5.1.4")
def test_error_no_leak(tokens):
    """Error responses carry no stack trace or echoed secret"""
    # The run's wrong secret in the body (BC-02's request); that no token is issued for it is
    # BC-02's requirement (MUST), not this one's.
    ex = tokens.shared_error("401-body")
    marker = tokens.wrong_secret
    text = ex.text
    expect(
        marker not in text,
        "the submitted secret is not echoed",
        "no echo of the secret",
        "the submitted secret appears in the response",
    )
    expect(
        not any(s in text for s in ("Traceback", 'File "', "django.", "oauthlib.")),
        "no stack trace or internals in the error",
        "a plain OAuth error",
        text[:200],
    )


# Alone: it spends the rate limit on purpose: nothing else may be in flight.
@check("bad-credentials.throttling", level="SHOULD", ref="BC-06", alone=True)
@clauses("RFC6749-2.3.1", "oauth-4")
@requires("throttle_probe")
def test_throttling(tokens, fake):
    """Repeated wrong secrets are throttled"""
    statuses = []
    for _ in range(130):
        ex = tokens.http.request(
            "POST",
            tokens.path,
            expect_rate_limit=True,
            data={
                "grant_type": "client_credentials",
                "client_id": tokens.client_id,
                "client_secret": fake.password(length=20),
            },
        )
        statuses.append(ex.status)
        if ex.status in (403, 429):
            break
    expect(
        statuses[-1] in (403, 429),
        "brute force on client secrets is throttled",
        "403 or 429 within 130 attempts",
        f"{len(statuses)} attempts, last HTTP {statuses[-1]}",
    )
