"""The stub LMS itself answers like a stock LMS (docs/clauses.md, observed-2 to observed-5) where
the checks do not look."""

from __future__ import annotations

from conformance._lib.http import Http
from conformance._lib.tokens import TokenFlows
from tests.stub_lms import StubLms
from tests.units.harness import stub_profile


def test_stub_answers_like_a_stock_lms():
    stub = StubLms()
    profile = stub_profile(stub)
    http = Http(profile.base_url, transport=stub.transport())
    tokens = TokenFlows(http, profile)
    try:
        jwt_response = tokens.request()
        assert (
            jwt_response.text.startswith('{"access_token": "ey')
            and ', "expires_in": 3600, ' in jwt_response.text
        )
        assert tokens.request(method="OPTIONS", grant_type=None, token_type=None).status == 200
        wrong = tokens.request(secret="nope")
        assert (wrong.status, wrong.text) == (401, '{"error": "invalid_client"}')
        assert wrong.headers["WWW-Authenticate"] == 'Bearer error="invalid_client"'
        password = tokens.password_request(token_type=None)
        assert password.json()["scope"] == "read write email profile" and "refresh_token" in password.json()
        me = http.get("/api/user/v1/me", headers={"Authorization": "JWT"})
        assert (
            me.json()["error_code"] == "token_not_provided"
            and me.headers["WWW-Authenticate"] == 'JWT realm="api"'
        )
        revoked = tokens.revoke(password.json()["access_token"])
        assert (revoked.status, revoked.body, revoked.headers.get("cache-control")) == (200, b"", None)
        assert http.get("/.well-known/jwks.json").status == 404
    finally:
        http.close()
