"""Token responses: JSON schema, content type, cache headers, token type, lifetime, scope (RFC 6749 5)."""

from __future__ import annotations

import contextlib
import re

import pytest

from conformance._lib.registry import check, clauses, need, requires
from conformance._lib.schemas import OUTSIDE_VSCHAR, VSCHAR_PATTERN
from conformance._lib.verify import (
    expect,
    expect_equal,
    expect_header,
    expect_json,
    expect_schema,
    expect_status,
    finding_of,
)

VSCHAR = re.compile(VSCHAR_PATTERN)


def _issued(tokens, profile, kind):
    """The shared token of a kind: jwt (default alg), asymmetric (RS512) or bearer (opaque)."""
    if kind == "bearer":
        need(profile, "opaque_tokens")
        return tokens.bearer()
    return tokens.asymmetric_jwt() if kind == "asymmetric" else tokens.jwt()


# The bearer (opaque token) case of a check over the kinds of `_issued` needs opaque tokens.
OPAQUE_CASE: dict[str, list[str] | tuple[str, ...]] = {"bearer": ["opaque_tokens"]}


def _response(tokens, profile, kind, fake):
    """A token-endpoint response of a kind: a success, a 400 or a 401 (wrong secret). Each is asked
    for once per run and shared by the checks that read it (gentle on the rate limit)."""
    if kind == "success":
        return tokens.jwt().exchange
    return tokens.shared_error(kind)


@pytest.mark.parametrize("kind", ["jwt", "asymmetric", "bearer"])
@check("response-schema.token.schema", level="MUST", ref="RS-01", case_requires=OPAQUE_CASE)
@clauses("RFC6749-5.1")
def test_token_schema(tokens, profile, kind):
    """A token response validates against token-response.schema.json"""
    # A member of the wrong type is also what the checks that read it see (the lifetime, the
    # scopes claim, the SSO exchange): its value ties their failures to this one.
    expect_schema(
        _issued(tokens, profile, kind).body,
        "token-response",
        "the success body has access_token, token_type, expires_in (int > 0), scope",
        evidence_for="check:response-schema.token.schema",
    )


def _expect_json_type(ex):
    expect_header(
        ex,
        "Content-Type",
        "token endpoint responses are JSON",
        predicate=lambda v: v.split(";")[0].strip().lower() == "application/json",
        expected="application/json",
    )


def _expect_directive(ex, header, directive, requirement):
    expect_header(ex, header, requirement, predicate=lambda v: directive in v.lower(), expected=directive)


def _expect_no_store(ex):
    _expect_directive(ex, "Cache-Control", "no-store", "responses holding or about tokens are not cached")


def _expect_pragma(ex):
    _expect_directive(ex, "Pragma", "no-cache", "HTTP/1.0 caches are told not to cache")


# What each header check judges, by the header its id names.
JUDGES = {"content-type": _expect_json_type, "cache-control": _expect_no_store, "pragma": _expect_pragma}

# The headers of token-endpoint responses. Success responses are RFC 6749 5.1's, errors 5.2's: one
# check each, so that a failure names one clause set. The stock LMS sends the same headers on both
# (observed §2); RFC 6749 5.2 does not ask no-store of errors, Open edX (oauthlib) sends it on every
# response. A row: name (the function is test_<name>) | check id | level | ref | clauses | responses
# (`success`, or errors: `400 401`), and on its next line the title.
HEADER_CHECKS = """
content_type | response-schema.content-type.json | MUST | RS-02 | RFC6749-5.1 | success
    Token endpoint responses are application/json
error_content_type | response-schema.content-type.error-json | MUST | RS-11 | RFC6749-5.2 | 400 401
    Token endpoint error responses are application/json
no_store | response-schema.cache-control.no-store | MUST | RS-03 | RFC6749-5.1 | success
    Token endpoint responses carry Cache-Control: no-store
error_no_store | response-schema.cache-control.error-no-store | MUST | RS-13 | oauth-3 observed-2 | 400 401
    Token endpoint error responses carry Cache-Control: no-store
pragma | response-schema.pragma.no-cache | SHOULD | RS-04 | RFC6749-5.1 RFC9111-5.4 | success
    Token endpoint responses carry Pragma: no-cache
error_pragma | response-schema.pragma.error-no-cache | SHOULD | RS-14 | observed-2 RFC9111-5.4 | 400 401
    Token endpoint error responses carry Pragma: no-cache
"""


def _header_check(head, title):
    """The registered check of one row of HEADER_CHECKS."""
    name, check_id, level, ref, spec, kinds = (cell.strip() for cell in head.split("|"))
    judge = JUDGES[check_id.split(".")[1]]

    def run(tokens, profile, fake, kind):
        judge(_response(tokens, profile, kind, fake))

    run.__name__ = run.__qualname__ = f"test_{name}"
    run.__doc__ = title.strip()
    registered = check(check_id, level=level, ref=ref)(clauses(*spec.split())(run))
    return pytest.mark.parametrize("kind", kinds.split())(registered)


_rows = HEADER_CHECKS.strip().splitlines()
globals().update({fn.__name__: fn for fn in map(_header_check, _rows[::2], _rows[1::2])})


@pytest.mark.parametrize("kind", ["jwt", "bearer"])
@check("response-schema.token-type.value", level="MUST", ref="RS-05", case_requires=OPAQUE_CASE)
@clauses("RFC6749-7.1", "oauth-3")
def test_token_type_value(tokens, profile, kind):
    """token_type is JWT for JWT requests and Bearer otherwise"""
    body = _issued(tokens, profile, kind).body
    if kind == "jwt":
        expect_equal(
            body.get("token_type"),
            profile.data["expect"]["jwt_token_type"],
            "a token_type=jwt request is answered with token_type JWT",
        )
    else:
        expect(
            str(body.get("token_type", "")).lower() == "bearer",
            "an opaque token's token_type is Bearer",
            "Bearer",
            str(body.get("token_type")),
        )


@pytest.mark.parametrize("kind", ["jwt", "bearer"])
@check("response-schema.expires-in.value", level="SHOULD", ref="RS-06", case_requires=OPAQUE_CASE)
@clauses("RFC6749-5.1", "oauth-3")
def test_expires_in(tokens, profile, kind):
    """expires_in matches the profile and is at most a day"""
    expected = profile.data["expect"]["jwt_expires_in" if kind == "jwt" else "bearer_expires_in"]
    value = _issued(tokens, profile, kind).body.get("expires_in")
    expect_equal(value, expected, f"expires_in of a {kind} token is the configured lifetime")
    ceiling = profile.data["expect"]["max_expires_in"]
    expect(value <= ceiling, "access tokens are short-lived", f"<= {ceiling} s", f"{value} s")


@pytest.mark.parametrize("kind", ["jwt", "bearer"])
@check("response-schema.refresh-token.absent", level="SHOULD", ref="RS-07", case_requires=OPAQUE_CASE)
@clauses("RFC6749-4.4.3")
def test_no_refresh_token(tokens, profile, kind):
    """Client credentials responses carry no refresh_token"""
    body = _issued(tokens, profile, kind).body
    expect(
        "refresh_token" not in body,
        "client_credentials issues no refresh token",
        "no refresh_token member",
        "a refresh_token member",
    )


@check("response-schema.scope.default", level="SHOULD", ref="RS-08")
@clauses("RFC6749-3.3", "oauth-3")
def test_default_scope(tokens, profile):
    """scope equals the profile's expected default scopes"""
    scope = tokens.jwt().body.get("scope")
    expected = profile.data["expect"]["scope"]
    expect(
        isinstance(scope, str) and set(scope.split()) == set(expected.split()),
        "the default scopes are granted when none are asked for",
        expected,
        str(scope),
    )


@pytest.mark.parametrize("case", ["vschar-jwt", "vschar-bearer"])
@check(
    "response-schema.access-token.syntax",
    level="MUST",
    ref="RS-09",
    case_requires={"vschar-bearer": ["opaque_tokens"], "opaque-unique": ["opaque_tokens"]},
)
@clauses("RFC6749-A.12")
def test_access_token_syntax(tokens, profile, case):
    """Access tokens are VSCHAR strings"""
    token = tokens.jwt().token if case == "vschar-jwt" else _issued(tokens, profile, "bearer").token
    # A token no header can carry fails every check that sends it, with this text: one finding.
    expect(
        bool(VSCHAR.match(token)),
        "access_token uses only VSCHAR (%x20-7E)",
        "printable ASCII only",
        OUTSIDE_VSCHAR,
        "the LMS's ACCESS_TOKEN_GENERATOR (OAUTH2_PROVIDER) must draw from ASCII letters and digits, as "
        "oauthlib's generate_token does: a custom generator with a wider alphabet (str.isalnum() is "
        "true for 'é') makes tokens that no Authorization header can carry",
        cause="check:response-schema.access-token.syntax",
        evidence=(OUTSIDE_VSCHAR,),
    )


@check("response-schema.access-token.unique", level="MUST", ref="RS-12")
@clauses("RFC6749-10.10")
@requires("opaque_tokens")
def test_access_token_unique(tokens, profile):
    """Two opaque access tokens differ"""
    token = _issued(tokens, profile, "bearer").token
    other = tokens.second_bearer().body  # revocation.opaque revokes it afterwards, either order
    expect(
        other.get("access_token") != token,
        "two opaque tokens differ (unguessable)",
        "different tokens",
        "the same token twice",
    )


@pytest.mark.parametrize("case", ["invalid_client", "unsupported_grant_type", "invalid_scope"])
@check("response-schema.error.schema", level="MUST", ref="RS-10")
@clauses("RFC6749-5.2")
def test_error_schema(tokens, case):
    """Error bodies validate against error-response.schema.json"""
    if case == "invalid_client":
        ex = tokens.shared_error("401")
        # A wrong secret that is not refused is bad-credentials.basic.wrong-secret's finding too.
        with finding_of("bad-credentials.basic.wrong-secret"):
            expect_status(ex, (400, 401), "the request is refused")
    elif case == "unsupported_grant_type":
        ex = tokens.shared_error("400")
    else:
        ex = tokens.shared_error("invalid_scope")
    expect_status(ex, (400, 401), "the request is refused")
    body = expect_json(ex, "an OAuth error body is JSON")
    expect_schema(body, "error-response", "error is a registered code; descriptions are strings")
    # The unsupported_grant_type answer is the one token-endpoint.grant-type.unknown judges.
    same = "token-endpoint.grant-type.unknown" if case == "unsupported_grant_type" else None
    with finding_of(same) if same else contextlib.nullcontext():
        expect_equal(body.get("error"), case, "the error code names the problem")
