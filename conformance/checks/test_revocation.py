"""Revocation at /oauth2/revoke_token: tokens the run obtained, and only those (RFC 7009)."""

from __future__ import annotations

import pytest

from conformance._lib.registry import check, clauses, requires
from conformance._lib.resources import call, expect_refused, require_accepted
from conformance._lib.verify import (
    expect,
    expect_header,
    expect_oauth_error,
    expect_status,
)


# Alone: it revokes a token: an instance that hands one token to every request loses it.
@check("revocation.opaque.revoked", level="MUST", ref="RV-01", alone=True)
@clauses("RFC7009-2.1", "RFC7009-2.2", "oauth-7")
@requires("opaque_tokens", "bearer_resource")
def test_revoke_opaque(http, profile, tokens):
    """A revoked opaque token is refused afterwards"""
    token = tokens.second_bearer().token  # the run's second opaque token: nothing else uses it
    require_accepted(http, profile, token, scheme="Bearer")  # the baseline: the token works
    ex = tokens.revoke(token, hint="access_token")
    expect_status(ex, 200, "revocation of a token the client owns succeeds")
    expect(not ex.body.strip(), "a successful revocation has an empty body", "empty", ex.text[:100])
    expect_refused(call(http, profile, token, scheme="Bearer"), "the revoked token is refused")


@check("revocation.unknown-token", level="MUST", ref="RV-02")
@clauses("RFC7009-2.2")
def test_revoke_unknown(tokens, fake):
    """Revoking an unknown token answers 200"""
    expect_status(
        tokens.revoke(fake.pystr(min_chars=30, max_chars=30)),
        200,
        "an invalid token is not an error for revocation",
    )


@pytest.mark.parametrize("case", ["missing-token"])
@check("revocation.request.malformed", level="MUST", ref="RV-03")
@clauses("RFC7009-2.1", "RFC7009-2.2.1")
def test_revoke_malformed(tokens, case):
    """A revocation without a token is 400 invalid_request"""
    expect_oauth_error(
        tokens.revoke("", fields={}),
        400,
        "invalid_request",
        "a revocation request needs the token parameter",
    )


@check("revocation.method.post-only", level="MUST", ref="RV-06")
@clauses("RFC7009-2.1")
def test_revoke_post_only(tokens):
    """The revocation endpoint answers GET with 405"""
    ex = tokens.revoke("", fields={}, method="GET", auth="none")
    expect_status(ex, 405, "revocation is POST only")
    expect_header(
        ex,
        "Allow",
        "the 405 names POST",
        predicate=lambda v: "POST" in v,
        expected="includes POST",
    )


# Alone: it revokes a token: an instance that hands one token to every request loses it.
@check("revocation.jwt.not-revocable", level="MAY", ref="RV-04", alone=True)
@clauses("RFC7009-2.2", "oauth-7")
def test_revoke_jwt(http, profile, tokens):
    """Revoking a JWT answers 200 (JWTs stay valid until exp)"""
    token = tokens.body_jwt().token  # a JWT of its own: revoking the shared one would touch others
    expect_status(tokens.revoke(token), 200, "revoking a JWT is accepted")
    # Recorded, either way: Open edX JWTs have no server-side record and keep working.
    after = call(http, profile, token)
    expect(
        after.status in (200, 401),
        "the JWT's state after revocation is well defined",
        "200 (still valid, stock) or 401 (revoked)",
        f"HTTP {after.status}",
    )


# Alone: it revokes a refresh token (see RV-01).
@check("revocation.refresh-token.revoked", level="MUST", ref="RV-05", alone=True)
@clauses("RFC7009-2", "RFC7009-2.1", "observed-5")
@requires("password_grant")
def test_revoke_refresh(tokens):
    """A revoked refresh token no longer refreshes"""
    # The refresh token the run's one refresh handed out: nothing else uses it.
    refresh = tokens.refresh_jwt().expect_refresh_token("a refresh token is issued")
    ex = tokens.revoke(refresh, hint="refresh_token", auth="public")
    expect_status(ex, 200, "the public client revokes its refresh token")
    again = tokens.refresh(refresh)
    expect_oauth_error(again, 400, "invalid_grant", "a revoked refresh token is refused")
