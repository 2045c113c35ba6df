"""The JWT access token: structure, algorithm, signature, issuer, audience, times, Open edX claims.

Every JWT the instance issues is checked the same way, one case per kind: `default` (client
credentials, HS256), `asymmetric` (client credentials with asymmetric_jwt, RS512), `password` (the
password grant of the profile's test user) and `refresh` (the refresh_token grant with that token's
refresh token). The last two need `[password_grant]` and are *not verified* without it. Each kind's
token is fetched once per run (conformance/_lib/tokens.py) and shared by all these checks.
"""

from __future__ import annotations

import allure
import pytest

from conformance._lib.controls import REPORTED_BY, hs256_control, jwks_control
from conformance._lib.jwt_verifiers import (
    expect_alg,
    expect_audience,
    expect_issuer,
    expect_signature,
    expect_times,
    expect_well_formed,
)
from conformance._lib.jwts import ParsedJwt, b64decode, parse_jwt
from conformance._lib.registry import blocked, check, clauses, need, requires
from conformance._lib.verify import ConformanceFailure, expect, expect_equal, expect_schema

# The JWTs a stock LMS issues; the password-grant ones need [password_grant] (known before anything is
# sent, so a dry run says so).
KINDS = [
    "default",
    "asymmetric",
    pytest.param("password", marks=pytest.mark.oauth_requires("password_grant")),
    pytest.param("refresh", marks=pytest.mark.oauth_requires("password_grant")),
]
# The grant_type claim is the application's grant type (oauth §5): the password-grant client's
# tokens, refreshed ones included, say "password".
APP_GRANT = {
    "default": "client-credentials",
    "asymmetric": "client-credentials",
    "password": "password",
    "refresh": "password",
}
PROFILE_CLAIMS = ("name", "given_name", "family_name", "administrator", "superuser")


def _issued(tokens, kind: str, verdict: bool = False):
    if kind in ("password", "refresh"):
        need(tokens.profile, "password_grant")
        return tokens.password_jwt() if kind == "password" else tokens.refresh_jwt()
    return tokens.asymmetric_jwt(verdict=verdict) if kind == "asymmetric" else tokens.jwt()


def _jwt(tokens, kind: str, verdict: bool = False) -> tuple[ParsedJwt, dict]:
    issued = _issued(tokens, kind, verdict)
    parsed = parse_jwt(issued.token)  # MalformedJwt is a conformance failure
    allure.attach(
        parsed.describe(),
        name=f"JWT header and claims ({kind})",
        attachment_type=allure.attachment_type.JSON,
    )
    return parsed, issued.body


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.structure.compact-jws", level="MUST", ref="JV-01")
@clauses("RFC7515-7.1", "RFC7519-7.2")
def test_structure(tokens, kind):
    """The JWT is a compact JWS with a valid header and Open edX claims"""
    parsed, _ = _jwt(tokens, kind)
    expect_well_formed(parsed)


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.header.alg", level="MUST", ref="JV-02")
@clauses("RFC8725-3.1", "oauth-5")
def test_alg(tokens, profile, kind):
    """The JWT alg is one the profile allows, RS512 when asymmetric_jwt is sent"""
    # The control of the asymmetric token (jwt.header.alg[asymmetric]): its request is verified here.
    parsed, _ = _jwt(tokens, kind, verdict=True)
    alg = expect_alg(parsed, profile, "the signing algorithm is one the profile expects")
    if kind == "asymmetric":
        expect_equal(
            alg,
            profile.data["jwt"]["asymmetric_algorithm"],
            "asymmetric_jwt yields an asymmetrically signed token",
        )


@pytest.mark.parametrize("kind", KINDS)
@check(
    "jwt.signature.verifies",
    level="MUST",
    ref="JV-03",
    case_requires={"default": ["hs256_secret"], "asymmetric": ["jwks"]},  # HS256 and RS512 on a stock LMS
)
@clauses("RFC7515-5.2", "oauth-5")
def test_signature(tokens, profile, jwks, kind):
    """The JWT signature verifies with the profile's keys"""
    parsed, _ = _jwt(tokens, kind)
    hmac_signed = str(parsed.header.get("alg")).startswith("HS")
    need(profile, "hs256_secret" if hmac_signed else "jwks")
    try:
        expect_signature(parsed, profile, jwks, "the signature verifies with the published key material")
    except ConformanceFailure:
        # Whose fault? When the profile's key is not the instance's (its own resource accepts the
        # token the key cannot verify), jwt.profile-keys.* reports it, once; not the instance.
        control = hs256_control(tokens) if hmac_signed else jwks_control(tokens, jwks)
        if control.state == "wrong":
            blocked(REPORTED_BY[control.key], control.hint)  # the profile has the key: it is wrong
        raise


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.claims.iss", level="MUST", ref="JV-04")
@clauses("RFC7519-4.1.1", "RFC8725-3.8", "oauth-9")
def test_issuer(tokens, profile, kind):
    """iss equals the profile's issuer exactly"""
    parsed, _ = _jwt(tokens, kind)
    # The issuer mismatch is worked out here, once: other failures that name this iss share its cause.
    expect_issuer(
        parsed.claims,
        profile,
        "iss is the issuer every resource server trusts (scheme, host and /oauth2)",
        diagnose=True,
    )


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.claims.aud", level="MUST", ref="JV-05")
@clauses("RFC7519-4.1.3", "RFC8725-3.9", "RFC9700-2.3")
def test_audience(tokens, profile, kind):
    """aud equals or contains the profile's audience"""
    parsed, _ = _jwt(tokens, kind)
    expect_audience(parsed.claims, profile, "the token is meant for the configured audience", diagnose=True)


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.claims.times", level="MUST", ref="JV-06")
@clauses("RFC7519-4.1.4", "RFC7519-4.1.6", "oauth-9")
def test_times(tokens, profile, kind):
    """exp is in the future and iat is not ahead of the clock"""
    parsed, _ = _jwt(tokens, kind)
    expect_times(parsed.claims, profile)


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.claims.lifetime", level="MUST", ref="JV-07")
@clauses("RFC7519-4.1.4", "oauth-5")
def test_lifetime(tokens, kind):
    """exp - iat equals the response's expires_in"""
    parsed, body = _jwt(tokens, kind)
    exp, iat, expires_in = parsed.claims.get("exp"), parsed.claims.get("iat"), body.get("expires_in")
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (exp, iat, expires_in))
    lifetime = exp - iat if numbers else f"exp={exp!r}, iat={iat!r}, expires_in={expires_in!r}"
    expect(
        numbers and abs(lifetime - expires_in) <= 2,
        "the token lives as long as the response says",
        f"exp - iat = {expires_in} (+/- 2 s)",
        f"exp - iat = {lifetime}",
    )


@pytest.mark.parametrize("kind", KINDS)
@check("jwt.claims.openedx", level="MUST", ref="JV-08")
@clauses("oauth-5", "observed-3")
def test_openedx_claims(tokens, kind):
    """The Open edX claims are present with their types and values"""
    parsed, body = _jwt(tokens, kind)
    claims = parsed.claims
    try:
        expect_schema(
            claims,
            "jwt-claims",
            "sub, preferred_username, scopes, version, filters, "
            "is_restricted, email_verified and grant_type are present and typed",
        )
    except ConformanceFailure as failure:
        # The claims schema is jwt.structure.compact-jws's too: one finding.
        failure.cause = f"same-as:jwt.structure.compact-jws[{kind}]"
        raise
    scope = body.get("scope", "")
    # A scope that is not a string breaks the token response's schema first: the same finding.
    expect(
        isinstance(scope, str),
        "the scopes claim lists the response's scope",
        "a space-separated scope string (RFC 6749 3.3) to compare the claim with",
        f"scope={scope!r}",
        cause="same-as:response-schema.token.schema[jwt]|response-schema.token.schema[asymmetric]",
    )
    expect_equal(claims.get("scopes"), scope.split(), "the scopes claim lists the response's scope")
    expect_equal(
        claims.get("grant_type"),
        APP_GRANT[kind],
        f"grant_type is the application's grant type ({APP_GRANT[kind]})",
    )
    user_filter = "user:me" in (claims.get("filters") or [])
    expect(
        user_filter == (APP_GRANT[kind] == "password"),
        "filters has user:me exactly for a user's own token (not for client credentials)",
        "user:me" if APP_GRANT[kind] == "password" else "no user:me",
        f"filters: {claims.get('filters')}",
    )
    expect_equal(claims.get("is_restricted"), False, "a normal application's token is unrestricted")
    expect(
        claims.get("sub") != claims.get("preferred_username"),
        "sub is the anonymous user id, not the username",
        "an anonymous id",
        "the username",
    )


@pytest.mark.parametrize(
    "case",
    [
        "scope-read",
        "default-scopes",
        "asymmetric",
        pytest.param("password", marks=pytest.mark.oauth_requires("password_grant")),
        pytest.param("refresh", marks=pytest.mark.oauth_requires("password_grant")),
    ],
)
@check("jwt.claims.scope-dependent", level="SHOULD", ref="JV-09")
@clauses("oauth-5", "observed-3")
def test_scope_dependent_claims(tokens, case):
    """email and profile claims appear only with their scopes"""
    if case != "scope-read":
        parsed, body = _jwt(tokens, "default" if case == "default-scopes" else case)
        # The token's own scopes claim (that it equals the response's scope is JV-08's matter).
        listed = parsed.claims.get("scopes")
        granted = set(listed) if isinstance(listed, list) else set(str(body.get("scope", "")).split())
        # A token asked for without scope brings the claims of the profile's default scopes too
        # (the email and profile claims services expect), not only those of what was granted.
        expected = tokens.profile.data["expect"]["scope"].split() if case == "default-scopes" else []
        scopes = granted | set(expected)
        claims = set(parsed.claims)
        wanted = {"email"} if "email" in scopes else set()
        wanted |= set(PROFILE_CLAIMS) if "profile" in scopes else set()
        wanted |= {"user_id"} if "user_id" in scopes else set()
        unwanted = ({"email", "user_id", *PROFILE_CLAIMS} - wanted) & claims
        expect(
            wanted <= claims and not unwanted,
            "scopes email, profile and user_id bring their claims, and only they",
            f"claims for scopes {sorted(scopes)}: {sorted(wanted)}",
            f"missing {sorted(wanted - claims)}; unasked {sorted(unwanted)}",
        )
        return
    issued = tokens.request(scope="read")
    token = issued.json().get("access_token") if isinstance(issued.json(), dict) else None
    expect(
        issued.status == 200 and token,
        "scope=read obtains a token",
        "HTTP 200 with a token",
        f"HTTP {issued.status}",
    )
    claims = parse_jwt(token).claims
    leaked = sorted(({"email"} | set(PROFILE_CLAIMS)) & set(claims))
    expect(
        not leaked,
        "a read-only token carries no personal claims",
        "no email or profile claims",
        f"claims present: {leaked}",
    )


@check("jwt.header.kid", level="MAY", ref="JV-10")
@clauses("RFC7515-4.1.4")
@requires("jwks")
def test_kid(tokens, jwks):
    """A kid, when present, names a key of the published set"""
    # A stock LMS sends no kid (JWT_AUTH_ADD_KID_HEADER is off): acceptable. A kid that names no
    # published key breaks key rotation at every resource server.
    parsed, _ = _jwt(tokens, "asymmetric")
    kid = parsed.header.get("kid")
    known = [k.get("kid") for k in (jwks.keys if jwks else [])]
    expect(
        kid is None or kid in known,
        "the kid is found in the JWK set",
        f"one of {known}",
        f"kid {kid!r}",
    )


# The JWK set: one check per property, each with its own clause.
@check("jwt.jwks.well-formed", level="MUST", ref="JV-11")
@clauses("RFC7517-5")
@requires("jwks")
def test_jwks(jwks):
    """The JWK set is well formed"""
    expect(
        not jwks.problems,
        "the JWK set loads",
        "a JSON object with a keys array",
        "; ".join(jwks.problems),
    )
    expect_schema({"keys": jwks.keys}, "jwks", "every key has kty and its public members")


@check("jwt.jwks.public-only", level="MUST", ref="JV-15")
@clauses("RFC7518-6.3.2", "RFC7518-6.4")
@requires("jwks")
def test_jwks_public_only(jwks):
    """The JWK set holds no private or symmetric key"""
    # The private members were stripped when the set was read; only where they were is kept.
    expect(
        not jwks.private_found,
        "the public key set holds no private key material",
        "no d, p, q, dp, dq, qi or k members",
        f"PRIVATE members in {'; '.join(jwks.private_found)}: rotate this key now",
    )
    expect(
        all(k.get("kty") != "oct" for k in jwks.keys),
        "no symmetric key is published",
        "no kty=oct",
        "a kty=oct key",
    )


@check("jwt.jwks.rsa-2048", level="MUST", ref="JV-16")
@clauses("RFC7518-3.3")
@requires("jwks")
def test_jwks_rsa_size(jwks):
    """The RSA keys of the JWK set are at least 2048 bits"""
    sizes = {k.get("kid"): len(b64decode(k.get("n", ""))) * 8 for k in jwks.rsa_keys()}
    expect(
        bool(sizes) and all(bits >= 2048 for bits in sizes.values()),
        "RSA keys are at least 2048 bits",
        ">= 2048 bits",
        str(sizes or "no RSA key"),
    )


@check("jwt.jwks.distinct-kids", level="MUST", ref="JV-17")
@clauses("RFC7517-4.5")
@requires("jwks")
def test_jwks_distinct_kids(jwks):
    """The keys of the JWK set have distinct kids"""
    kids = [k.get("kid") for k in jwks.keys]
    expect(
        len(kids) == len(set(kids)),
        "kids are unique so that rotation works",
        "distinct kids",
        str(kids),
    )


@pytest.mark.parametrize("member", ["typ", "client_id", "jti"])
@check("jwt.rfc9068.profile", level="MUST", ref="JV-12")
@clauses("RFC9068-2.1", "RFC9068-2.2")
@requires("rfc9068")
def test_rfc9068(tokens, member):
    """RFC 9068 tokens carry typ at+jwt, client_id and jti"""
    parsed, _ = _jwt(tokens, "default")
    if member == "typ":
        expect_equal(str(parsed.header.get("typ", "")).lower(), "at+jwt", "typ is at+jwt")
    else:
        expect(member in parsed.claims, f"the {member} claim is present", member, "absent")
