"""The authorization-code flow of the SSO clients (Studio, discovery, ecommerce sign users in through
the LMS): redirect URIs, response types, state, the code exchange, single use, binding and PKCE.

Facts about a stock LMS (django-oauth-toolkit 1.7.1 + oauthlib 3.3.1, the platform's pins; upstream
sources in docs/clauses.md, sections oauth-1, oauth-5 and openedx-login, and the DOT files named below):
- `/oauth2/authorize` requires a signed-in user first (DOT `BaseAuthorizationView(LoginRequiredMixin)`),
  then validates: a redirect URI that is not registered is a fatal error, rendered with status 400 and
  never redirected ("Mismatching redirect URI.", DOT `views/mixins.py` `error_response`); a fragment
  is "Invalid redirect URI." (oauthlib `uri_validate.is_absolute_uri`).
- Matching (DOT `models.py` `redirect_to_uri_allowed`): scheme, host and path equal, the registered
  query a subset of the given one (so an extra query parameter is accepted by DOT 1.7.1).
- Tutor's SSO application (`tutor/templates/jobs/init/lms.sh`): client `cms-sso`, authorization-code,
  `--skip-authorization` (no consent screen), redirect URI `{http|https}://CMS_HOST/complete/edx-oauth2/`
  fixed at init time from ENABLE_HTTPS.
- The grant is deleted on exchange (`invalidate_authorization_code`): a second exchange is
  `invalid_grant`; the first exchange's tokens are not revoked (RFC 6749 4.1.2's SHOULD is not done).
- PKCE: with a challenge stored, a missing verifier is `invalid_request` "Code verifier required.", a
  wrong one `invalid_grant`; `plain` and `S256` are accepted (oauthlib `validate_token_request`).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

import allure
import pytest

from conformance._lib.jwt_verifiers import expect_conformant_jwt
from conformance._lib.jwts import parse_jwt
from conformance._lib.registry import check, clauses, not_verified, requires
from conformance._lib.resources import call
from conformance._lib.signin import Pkce
from conformance._lib.verify import (
    expect,
    expect_equal,
    expect_no_token,
    expect_schema,
    expect_token,
    finding_of,
)


def _with_secret(profile, name):
    client = profile.entry("sso_clients", name)
    if not client.get("client_secret"):
        not_verified(
            "sso_clients.client_secret",
            f'add client_secret = "${{...}}" to the [[sso_clients]] entry {name!r} to exchange its codes',
        )
    return client


def _variant(uri: str, case: str) -> str:
    """An unregistered redirect URI derived from the registered one."""
    parts = urlsplit(uri)
    if case == "other-host":
        return urlunsplit(parts._replace(netloc=f"attacker-{secrets.token_hex(3)}.example.net"))
    if case == "other-scheme":
        return urlunsplit(parts._replace(scheme="http" if parts.scheme == "https" else "https"))
    if case == "other-path":
        return urlunsplit(parts._replace(path="/evil/callback/"))
    if case == "path-suffix":  # what a prefix match lets through
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/evil/"))
    return f"{uri}#fragment"


def _expect_refused(answer, nothing_else, requirement, expected):
    """An authorization request the LMS refuses: it issues no code and `nothing_else` holds (no token,
    no redirect to the unregistered URI); a failure shows the answer."""
    expect(nothing_else and not answer.code, requirement, expected, answer.describe())


@check("authorization-code.redirect-uri.registered", level="MUST", ref="AC-01")
@clauses("RFC6749-4.1.2", "RFC6749-3.1.2.3")
@requires("sso_clients", "login")
def test_registered_redirect_uri(signin, profile, sso_client):
    """The registered redirect URI of an SSO client receives an authorization code"""
    client = profile.entry("sso_clients", sso_client)
    answer = signin.authorized(client)
    mismatch = "Mismatching redirect URI" in answer.exchange.text
    expect(
        answer.redirects_to(client["redirect_uri"]) and bool(answer.code),
        f"the LMS sends {sso_client}'s users back to its registered redirect URI with a code",
        f"a redirect to {client['redirect_uri']} with code",
        answer.describe()
        + (
            " (the application's registered redirect URI differs from the one the service sends: "
            "re-run Tutor's init after changing ENABLE_HTTPS or the host names)"
            if mismatch
            else ""
        ),
    )


@check("authorization-code.redirect-uri.https", level="SHOULD", ref="AC-02")
@clauses("RFC6749-3.1.2.1", "RFC9700-4.1", "RFC9700-2.6")
@requires("sso_clients", "login", "https_base_url")
def test_redirect_uri_https(signin, profile, sso_client):
    """The SSO redirect URI uses https when the LMS does"""
    client = profile.entry("sso_clients", sso_client)
    expect(
        client["redirect_uri"].startswith("https://"),
        "the code travels back over TLS (the registered redirect URI is https)",
        "an https redirect URI",
        client["redirect_uri"],
    )
    location = signin.authorized(client).location or ""
    expect(
        location.startswith("https://"),
        "the LMS redirects to the https URI",
        "a redirect to https://...",
        signin.authorized(client).describe(),
    )


@pytest.mark.parametrize("case", ["other-host", "other-scheme", "other-path", "path-suffix", "fragment"])
@check("authorization-code.redirect-uri.unregistered-refused", level="MUST", ref="AC-03")
@clauses("RFC6749-3.1.2.4", "RFC6749-4.1.2.1", "RFC9700-4.1", "RFC9700-4.1.3")
@requires("sso_clients", "login")
def test_unregistered_redirect_uri(signin, profile, sso_client, case):
    """An unregistered redirect URI is refused without a redirect to it"""
    client = profile.entry("sso_clients", sso_client)
    wrong = _variant(client["redirect_uri"], case)
    answer = signin.authorize(client, redirect_uri=wrong)
    _expect_refused(
        answer,
        not answer.redirects_to(wrong),
        f"an unregistered redirect URI ({case}) is refused and the browser is not sent there",
        "an error page (DOT: HTTP 400 'Mismatching redirect URI.' or 'Invalid redirect URI.')",
    )


@check("authorization-code.redirect-uri.extra-query", level="MAY", ref="AC-04")
@clauses("RFC9700-2.1", "RFC6749-3.1.2")
@requires("sso_clients", "login")
def test_extra_query(signin, profile, sso_client):
    """A redirect URI with an added query is refused or kept whole"""
    # RFC 9700 2.1 asks for exact matching; DOT 1.7.1 accepts an added query (the registered query is a
    # subset). Either is allowed here; accepted, the redirect keeps the query (RFC 6749 3.1.2 MUST).
    client = profile.entry("sso_clients", sso_client)
    sep = "&" if "?" in client["redirect_uri"] else "?"
    extended = f"{client['redirect_uri']}{sep}next=%2Fcourses"
    answer = signin.authorize(client, redirect_uri=extended)
    accepted = answer.redirects_to(extended)
    allure.attach(
        f"added query: {'accepted (DOT 1.7.1 behaviour)' if accepted else 'refused (exact match)'}",
        name="redirect URI with an added query",
        attachment_type=allure.attachment_type.TEXT,
    )
    if accepted:
        expect_equal(
            answer.params.get("next"),
            "/courses",
            "an accepted redirect URI keeps its query component when the code is added",
        )


@pytest.mark.parametrize("case", ["token", "unknown"])
@check("authorization-code.response-type.refused", level="MUST", ref="AC-05")
@clauses("RFC6749-3.1.1", "RFC6749-4.1.2.1")
@requires("sso_clients", "login")
def test_response_type(signin, profile, sso_client, case):
    """A response_type other than code issues no code and no token"""
    client = profile.entry("sso_clients", sso_client)
    answer = signin.authorize(client, response_type="token" if case == "token" else "code_id_token_x")
    fragment = urlsplit(answer.location or "").fragment
    _expect_refused(
        answer,
        "access_token" not in fragment,
        f"response_type={'token' if case == 'token' else 'an unknown value'} is refused for an "
        "authorization-code client",
        "an error (unauthorized_client or unsupported_response_type), no code, no token",
    )
    if answer.location and answer.redirects_to(client["redirect_uri"]):
        expect(
            answer.params.get("error")
            in ("unauthorized_client", "unsupported_response_type", "invalid_request"),
            "the refusal is reported to the client as an OAuth error",
            "error=unauthorized_client or unsupported_response_type",
            answer.describe(),
        )


@check("authorization-code.state.preserved", level="MUST", ref="AC-06")
@clauses("RFC6749-4.1.2", "RFC6749-10.12")
@requires("sso_clients", "login")
def test_state(signin, profile, sso_client):
    """state comes back unchanged with the code"""
    answer = signin.require_code(profile.entry("sso_clients", sso_client))
    expect_equal(
        answer.params.get("state"),
        answer.state,
        "the state the client sent comes back exactly (CSRF protection of the client)",
    )


@check("authorization-code.exchange.token", level="MUST", ref="AC-07")
@clauses("RFC6749-4.1.3", "RFC6749-4.1.4", "RFC6749-5.1", "oauth-5", "RFC9700-2.1.1")
@requires("sso_clients", "login", "sso_client_secret")
def test_exchange(signin, profile, jwks, sso_client):
    """An SSO client exchanges its code for a conformant JWT"""
    client = _with_secret(profile, sso_client)
    _, _, body = signin.exchanged(client, verdict=True)  # the control of the code exchange
    expect_schema(body, "token-response", "the token response is a conformant token response")
    with finding_of("response-schema.token-type.value[jwt]"):
        expect_equal(body.get("token_type"), profile.data["expect"]["jwt_token_type"], "token_type of a JWT")
    claims = expect_conformant_jwt(body["access_token"], profile, jwks, "the SSO access token")
    expect_equal(claims.get("grant_type"), "authorization-code", "the JWT names the application's grant")
    username = signin.credentials[0]
    if "@" not in username:
        expect_equal(claims.get("preferred_username"), username, "the token is the signed-in user's")


@check("authorization-code.code.single-use", level="MUST", ref="AC-08")
@clauses("RFC6749-4.1.2", "RFC6749-10.5", "RFC9700-4.5", "RFC9700-4.2.4")
@requires("sso_clients", "login", "sso_client_secret")
def test_single_use(http, profile, signin, sso_client):
    """An authorization code cannot be exchanged twice"""
    client = _with_secret(profile, sso_client)
    code, _, first = signin.exchanged(client)  # the run's one plain exchange of a code
    again = signin.exchange(client, code)
    expect_no_token(again, "a used authorization code is refused (no second token)")
    # Recorded, not judged: RFC 6749 4.1.2 says the first tokens SHOULD be revoked; the platform
    # does not (DOT deletes the grant only).
    still = call(http, profile, first["access_token"]).status
    allure.attach(
        f"second exchange: HTTP {again.status}; the first exchange's access token afterwards: "
        f"{'still accepted (not revoked)' if still == 200 else f'refused (HTTP {still})'}",
        name="code reuse",
        attachment_type=allure.attachment_type.TEXT,
    )


@pytest.mark.parametrize("case", ["other-client", "other-redirect-uri"])
@check("authorization-code.code.bound", level="MUST", ref="AC-09")
@clauses("RFC6749-4.1.3", "RFC6749-10.6")
@requires("sso_clients", "login", "sso_client_secret")
def test_code_bound(profile, signin, sso_client, case):
    """A code is refused for another client or another redirect URI"""
    client = _with_secret(profile, sso_client)
    signin.exchanged(client)  # a refusal proves nothing where no code is exchanged at all
    _, code = signin.code(client)
    if case == "other-client":
        others = [
            c for c in profile.data["sso_clients"] if c["name"] != sso_client and c.get("client_secret")
        ]
        other_id, other_secret = (
            (others[0]["client_id"], others[0]["client_secret"])
            if others
            else (profile.data["client"]["id"], profile.data["client"]["secret"])
        )
        ex = signin.exchange(client, code, client_id=other_id, secret=other_secret)
        expect_no_token(ex, "a code issued to one client is refused to another")
    else:
        parts = urlsplit(client["redirect_uri"])
        other = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/other/"))
        ex = signin.exchange(client, code, redirect_uri=other)
        expect_no_token(ex, "a code is exchanged only with the redirect URI it was issued for")


@pytest.mark.parametrize("case", ["missing-verifier", "wrong-verifier"])
@check("authorization-code.pkce.enforced", level="MUST", ref="AC-10")
@clauses("RFC7636-4.4.1", "RFC7636-4.6", "RFC9700-2.1.1")
@requires("sso_clients", "login", "sso_client_secret")
def test_pkce_enforced(profile, signin, sso_client, case):
    """A code requested with a PKCE challenge needs the matching verifier"""
    client = _with_secret(profile, sso_client)
    signin.exchanged(client)  # a refusal proves nothing where no code is exchanged at all
    pkce = Pkce.new()
    _, code = signin.code(client, pkce=pkce)
    verifier = None if case == "missing-verifier" else Pkce.new().verifier
    expect_no_token(
        signin.exchange(client, code, verifier=verifier),
        f"a code bound to a PKCE challenge is refused with a {case.replace('-', ' ')}",
    )


@check("authorization-code.pkce.s256", level="MUST", ref="AC-11")
@clauses("RFC7636-4.2", "RFC7636-4.6", "RFC9700-2.1.1")
@requires("sso_clients", "login", "sso_client_secret")
def test_pkce_s256(profile, signin, sso_client):
    """PKCE with S256 is supported"""
    client = _with_secret(profile, sso_client)
    signin.exchanged(client)
    pkce = Pkce.new()
    _, code = signin.code(client, pkce=pkce)
    body = expect_token(
        signin.exchange(client, code, verifier=pkce.verifier),
        "the code is exchanged with its S256 verifier",
    )
    parse_jwt(body["access_token"])
    # Recorded: RFC 9700 2.1.1 discourages `plain`; DOT 1.7.1 accepts it.
    plain = signin.authorize(client, pkce=Pkce.new("plain"))
    allure.attach(
        f"code_challenge_method=plain: {'accepted' if plain.code else 'refused'} ({plain.describe()})",
        name="PKCE plain",
        attachment_type=allure.attachment_type.TEXT,
    )
