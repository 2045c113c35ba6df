"""Accounts and applications the LMS must refuse: unactivated and disabled users, restricted, deleted
and reconfigured applications (the profile's `[accounts]` entries; each check without its entry is
not verified)."""

from __future__ import annotations

import allure

from conformance._lib.accounts import client_credentials, entry, password_grant, refresh_opaque
from conformance._lib.advisories import fix_of
from conformance._lib.jwts import parse_jwt
from conformance._lib.registry import check, clauses, requires
from conformance._lib.resources import call, expect_refused
from conformance._lib.verify import (
    expect_equal,
    expect_oauth_error,
    expect_status,
    expect_token,
    fail,
)


@check("accounts.inactive-user.email-not-verified", level="MUST", ref="AA-01")
@clauses("oauth-5", "observed-3")
@requires("password_grant", "inactive_user")
def test_inactive_user(tokens, profile):
    """An unactivated user's JWT says email_verified false"""
    # A stock LMS lets unactivated users sign in (mobile sign-up); refusing them is stricter, also fine.
    ex = password_grant(tokens, entry(profile, "inactive_user"))
    if ex.status == 400:
        expect_oauth_error(ex, 400, "invalid_grant", "an unactivated user is refused or marked unverified")
        return
    body = expect_token(ex, "the password grant answers an unactivated user with a token or invalid_grant")
    claims = parse_jwt(body["access_token"]).claims
    allure.attach(str({k: claims.get(k) for k in ("email_verified", "is_restricted")}), name="claims")
    expect_equal(
        claims.get("email_verified"),
        False,
        "email_verified is the user's activation (is_active): services must not trust an unverified address",
    )


@check("accounts.disabled-user.no-password-grant", level="MUST", ref="AA-02")
@clauses("RFC6749-4.3.2", "RFC6749-5.2", "openedx-auth")
@requires("password_grant", "disabled_user")
def test_disabled_user_password(tokens, profile):
    """A user disabled by support gets no token with its former password"""
    ex = password_grant(tokens, entry(profile, "disabled_user"))
    expect_oauth_error(ex, 400, "invalid_grant", "a disabled account (unusable password) cannot sign in")


@check("accounts.disabled-user.no-refresh", level="MUST", ref="AA-03")
@clauses("RFC6749-6", "RFC6819-5.2.2.4", "openedx-auth", "tutor-disabled-user-tokens")
@requires("password_grant", "disabled_user", "disabled_refresh_token")
def test_disabled_user_refresh(http, tokens, profile):
    """A disabled user's refresh token gets no new token"""
    # Asked as a JWT: JWT authentication does not look at disabled users (only the platform's Bearer
    # authentication does), so any token the refresh issues is access. The support tool's disable
    # retires the user's OAuth tokens (Tutor 14.2.3's fix): the refresh is invalid_grant.
    ex = refresh_opaque(tokens, entry(profile, "disabled_user")["refresh_token"], token_type="jwt")
    issued = ex.json() if isinstance(ex.json(), dict) else {}
    if ex.status == 200 and issued.get("access_token"):
        used = call(http, profile, str(issued.get("access_token", "")))
        if issued.get("refresh_token"):  # the run's own token: gone again, whatever the verdict
            tokens.revoke(str(issued["refresh_token"]), hint="refresh_token", auth="public")
        fail(
            "the refresh grant refuses a disabled user's refresh token (its tokens are retired)",
            "400 invalid_grant",
            f"HTTP 200 with a new token; the API answers it with HTTP {used.status}",
            hint=fix_of("tutor-disabled-user-tokens"),
        )
    expect_oauth_error(ex, 400, "invalid_grant", "the refresh grant refuses a disabled user's refresh token")


@check("accounts.restricted-client.refused", level="MUST", ref="AA-04")
@clauses("oauth-3", "observed-4", "edx-drf-extensions")
@requires("restricted_client")
def test_restricted_client(http, tokens, profile):
    """A restricted application's JWT says is_restricted and is refused at the probe"""
    body = expect_token(
        client_credentials(tokens, entry(profile, "restricted_client")),
        "a RestrictedApplication gets a (restricted) JWT",
        rs512_signed=True,  # the LMS signs a restricted application's JWT with its RS512 key
    )
    claims = parse_jwt(body["access_token"]).claims
    expect_equal(claims.get("is_restricted"), True, "the JWT of a RestrictedApplication says is_restricted")
    used = call(http, profile, body["access_token"])
    expect_refused(used, "an API without a scope for restricted applications refuses their JWT")
    expect_status(used, 403, "the refusal is NotJwtRestrictedApplication's 403, the token being genuine")


@check("accounts.deleted-client.no-token", level="MUST", ref="AA-05")
@clauses("RFC6749-2.3.1", "RFC6749-5.2")
@requires("deleted_client")
def test_deleted_client(tokens, profile):
    """A deleted application's credentials get no token"""
    ex = client_credentials(tokens, entry(profile, "deleted_client"))
    expect_oauth_error(ex, 401, "invalid_client", "an application that no longer exists cannot authenticate")


@check("accounts.changed-grant.no-token", level="MUST", ref="AA-06")
@clauses("RFC6749-4.4.2", "RFC6749-5.2")
@requires("changed_grant_client")
def test_changed_grant(tokens, profile):
    """An application moved off client credentials gets no client-credentials token"""
    ex = client_credentials(tokens, entry(profile, "changed_grant_client"))
    # 400 unauthorized_client; 401 invalid_client where the secret was rotated with the change.
    expect_oauth_error(
        ex, (400, 401), ("unauthorized_client", "invalid_client"), "a grant the application lost is refused"
    )
