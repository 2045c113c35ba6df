"""Using tokens on protected resources: JWT and Bearer accepted, anything else refused (RFC 6750)."""

from __future__ import annotations

import pytest

from conformance._lib.controls import hs256_control, require_control
from conformance._lib.forge import resign
from conformance._lib.jwts import parse_jwt
from conformance._lib.registry import check, clauses, need, requires
from conformance._lib.resources import call, expect_refused, require_accepted
from conformance._lib.services import SERVICE_CONTROL, TokenKind, accepts_genuine, fetch, labelled, probe
from conformance._lib.verify import expect_equal, expect_header, expect_json, expect_status, fail


@pytest.mark.parametrize("kind", ["default", "asymmetric"])
@check("resources.jwt.accepted", level="MUST", ref="RU-01")
@clauses("oauth-6")
def test_jwt_accepted(http, profile, tokens, kind):
    """A JWT from the token endpoint is accepted at the resource probe"""
    token = (tokens.asymmetric_jwt() if kind == "asymmetric" else tokens.jwt()).token
    ex = call(http, profile, token)
    expect_status(ex, 200, "the resource accepts the LMS's own JWT (sent with the JWT scheme)")
    body = expect_json(ex, "the probe answers JSON")
    expect_equal(
        body.get("username"),
        parse_jwt(token).claims.get("preferred_username"),
        "the resource identifies the token's owner",
    )


@check("resources.bearer.accepted", level="MUST", ref="RU-02")
@clauses("RFC6750-2.1", "oauth-6")
@requires("opaque_tokens", "bearer_resource")
def test_bearer_accepted(http, profile, tokens):
    """An opaque token is accepted with Authorization: Bearer"""
    expect_status(
        call(http, profile, tokens.bearer().token, scheme="Bearer"),
        200,
        "the resource accepts a Bearer token",
    )


@check("resources.no-credentials.refused", level="MUST", ref="RU-03")
@clauses("RFC6750-3", "RFC9110-11.6.1")
def test_no_credentials(http, profile):
    """A request without credentials is 401 with WWW-Authenticate"""
    ex = call(http, profile, None)
    expect_status(ex, 401, "an anonymous request is unauthenticated")
    expect_header(ex, "WWW-Authenticate", "a 401 challenges the client")


@pytest.mark.parametrize("scheme", ["JWT", "Bearer"])
@check(
    "resources.garbage-token.refused",
    level="MUST",
    ref="RU-04",
    case_requires={"Bearer": ["bearer_resource"]},
)
@clauses("RFC6750-3.1")
def test_garbage_token(http, profile, fake, scheme):
    """A garbage token is refused with 401"""
    if scheme == "Bearer":
        need(profile, "bearer_resource")
    ex = call(http, profile, fake.pystr(min_chars=30, max_chars=30), scheme=scheme)
    expect_refused(ex, f"a made-up {scheme} token is refused")
    expect_status(ex, 401, "an invalid token is an authentication failure")


@check(
    "resources.query-token.refused", level="SHOULD", ref="RU-05", case_requires={"bearer": ["opaque_tokens"]}
)
@clauses("RFC6750-2.3", "RFC6750-5.3")
@pytest.mark.parametrize("kind", ["jwt", "bearer"])
def test_query_token(http, profile, tokens, kind):
    """A token in the URL query is not accepted"""
    if kind == "bearer":
        need(profile, "opaque_tokens")
    token = tokens.bearer().token if kind == "bearer" else tokens.jwt().token
    ex = call(http, profile, None, params={"access_token": token})
    expect_refused(ex, "tokens in URLs (logged, cached, leaked by Referer) are not accepted")


def _resigned_refused(http, profile, tokens, claim, value):
    # Positive control first: a token re-signed with the same secret and correct claims is accepted.
    require_control(hs256_control(tokens))
    forged = resign(tokens.jwt().token, profile.get("jwt", "hs256_secret"), **{claim: value})
    expect_refused(call(http, profile, forged), f"a token with {claim}={value} is not for this service")


@check("resources.jwt.wrong-audience", level="MUST", ref="RU-06")
@clauses("RFC8725-3.9", "RFC7519-4.1.3", "RFC9700-2.3")
@requires("hs256_secret")
def test_wrong_audience(http, profile, tokens, fake):
    """A validly signed JWT with a wrong aud is refused"""
    _resigned_refused(http, profile, tokens, "aud", fake.word() + "-aud")


@check("resources.jwt.wrong-issuer", level="MUST", ref="RU-09")
@clauses("RFC8725-3.8", "RFC7519-4.1.1")
@requires("hs256_secret")
def test_wrong_issuer(http, profile, tokens, fake):
    """A validly signed JWT with a wrong iss is refused"""
    _resigned_refused(http, profile, tokens, "iss", f"https://{fake.domain_name()}/oauth2")


@pytest.mark.parametrize("case", ["bearer-with-jwt", "jwt-with-opaque"])
@check("resources.scheme.mismatch", level="MAY", ref="RU-07")
@clauses("oauth-6", "observed-4")
@requires("opaque_tokens")
def test_scheme_mismatch(http, profile, tokens, case):
    """Tokens under the other scheme are refused"""
    # Open edX: JWTs go with "JWT", opaque tokens with "Bearer"; the other way round is refused.
    if case == "bearer-with-jwt":
        ex = call(http, profile, tokens.jwt().token, scheme="Bearer")
    else:
        ex = call(http, profile, tokens.bearer().token, scheme="JWT")
    expect_refused(ex, "the token is accepted only under its own scheme")


@check("resources.services.accept-jwt", level="MUST", ref="RU-08")
@clauses("RFC8725-3.8", "RFC8725-3.9", "oauth-9")
@requires("services")
def test_services_accept(http, profile, tokens, jwks, service):
    """Every Open edX service listed accepts the LMS's JWTs"""
    svc = profile.entry("services", service)
    answers = {
        kind: probe(http, svc, fetch(tokens, kind).token).status
        for kind in (TokenKind.DEFAULT, TokenKind.ASYMMETRIC)
    }
    claims = parse_jwt(tokens.jwt().token).claims
    if all(s == 200 for s in answers.values()):
        return
    if any(s == 200 for s in answers.values()):
        hint = (
            "only one signing method works: the service's symmetric secret "
            "(JWT_ISSUERS[0].SECRET_KEY) or public key set differs from the LMS's (oauth §9.4)"
        )
    else:
        hint = (
            f"check the service's JWT_ISSUERS (issuer {claims.get('iss')!r}, audience "
            f"{claims.get('aud')!r}) and its JWT_PUBLIC_SIGNING_JWK_SET (oauth §9.1-3)"
        )
    # The same finding as the service's control when that fails too: one cause, said once.
    control_failed = bool(accepts_genuine(http, profile, tokens, jwks, service))
    fail(
        f"{service} accepts the tokens the LMS issues",
        "HTTP 200 for both",
        f"{labelled(answers)}; {hint}",
        cause=f"same-as:{SERVICE_CONTROL}[{service}]" if control_failed else "",
    )


@check("resources.jwt.scheme-case", level="SHOULD", ref="RU-10")
@clauses("RFC9110-11.1", "observed-4")
def test_jwt_scheme_case(http, profile, tokens):
    """The JWT scheme name is matched case-insensitively at the resource probe"""
    token = tokens.jwt().token
    require_accepted(http, profile, token)  # under the exact name JWT first: the baseline
    ex = call(http, profile, token, scheme="jwt")
    expect_status(
        ex, 200, "a JWT sent as 'Authorization: jwt <token>' is accepted (schemes are case-insensitive)"
    )
