"""Every check, unit-tested without a network: it passes against a stub of a stock LMS and fails, naming
its requirement, against a stub mutation that breaks exactly what it checks.

`TABLE` is the data: for each check id, the mutations that must fail it (and for which cases), the
stub variants and profile changes it runs with, and the mutations under which it must still pass
(where Open edX or the RFC allows either outcome). The check functions are called directly with
hand-built fixtures: a profile from a dict, an `Http` on an `httpx.MockTransport`, `TokenFlows`, the
profile's JWK set and a seeded Faker.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from _pytest.mark.structures import ParameterSet
from faker import Faker

import conformance.checks
from conformance._lib import profile as profile_module
from conformance._lib.http import Http
from conformance._lib.jwts import load_jwks
from conformance._lib.profile import Profile, profile_from_data
from conformance._lib.registry import load_checks, missing_requirement
from conformance._lib.signin import SignIn
from conformance._lib.tokens import TokenFlows
from conformance._lib.verify import ConformanceFailure
from tests.stub_advisories import ADVISORY_MUTATIONS  # noqa: F401  (joins MUTATIONS)
from tests.stub_lms import (
    AUDIENCE,
    CHANGED_CLIENT_ID,
    CHANGED_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    DELETED_CLIENT_ID,
    DELETED_SECRET,
    DISABLED,
    DISABLED_REFRESH_TOKEN,
    DISCOVERY_PROBE,
    DISCOVERY_URL,
    INACTIVE,
    ISSUER,
    LEARNER,
    LMS_URL,
    MUTATIONS,
    PUBLIC_CLIENT_ID,
    RESTRICTED_CLIENT_ID,
    RESTRICTED_SECRET,
    StubLms,
    next_key_pem,
)
from tests.stub_signin import MFE_ORIGIN, SSO_CLIENT_ID, SSO_REDIRECT_URI, SSO_SECRET

REGISTRY = load_checks()
CHECK_MODULES = {
    name: importlib.import_module(f"conformance.checks.{name}")
    for _, name, _ in pkgutil.iter_modules(conformance.checks.__path__)
    if name.startswith("test_")
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    fn.oauth_check.id: fn
    for module in CHECK_MODULES.values()
    for fn in vars(module).values()
    if callable(fn) and hasattr(fn, "oauth_check") and fn.__module__ == module.__name__
}


# The table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaks:
    """A mutation that must fail the check, with a fragment of the requirement the failure names
    (`{case}` stands for the case id) and optionally of what it reports as actual; `cases` limits it
    to some cases (default: every case)."""

    mutation: str
    says: str
    cases: tuple[str, ...] = ()
    profile: Mapping[str, Any] = field(default_factory=dict)
    actual: str = ""


@dataclass(frozen=True)
class Unit:
    breaks: tuple[Breaks, ...]
    base: tuple[str, ...] = ()  # stub variants every run of this check uses
    profile: Mapping[str, Any] = field(default_factory=dict)  # profile changes for every run
    either: tuple[str, ...] = ()  # mutations the check must still pass (either outcome allowed)


def unit(
    *breaks: Breaks,
    base: tuple[str, ...] = (),
    profile: Mapping[str, Any] | None = None,
    either: tuple[str, ...] = (),
) -> Unit:
    return Unit(breaks, base, profile or {}, either)


def fails(
    mutation: str, says: str, *cases: str, profile: Mapping[str, Any] | None = None, actual: str = ""
) -> Breaks:
    return Breaks(mutation, says, cases, profile or {}, actual)


# The stub's [accounts] entries (literal values: the stub's own test accounts).
ACCOUNTS: dict[str, Any] = {
    "accounts": {
        "inactive_user": {"username": INACTIVE.username, "password": INACTIVE.password},
        "disabled_user": {
            "username": DISABLED.username,
            "password": DISABLED.password,
            "refresh_token": DISABLED_REFRESH_TOKEN,
        },
        "restricted_client": {"id": RESTRICTED_CLIENT_ID, "secret": RESTRICTED_SECRET},
        "deleted_client": {"id": DELETED_CLIENT_ID, "secret": DELETED_SECRET},
        "changed_grant_client": {"id": CHANGED_CLIENT_ID, "secret": CHANGED_SECRET},
    }
}

TABLE: dict[str, Unit] = {
    # token-endpoint
    "token-endpoint.client-credentials.basic-auth": unit(
        fails("no-basic-auth", "client_credentials with HTTP Basic and token_type=jwt issues a token"),
    ),
    "token-endpoint.client-credentials.body-auth": unit(
        fails("no-body-auth", "with the client's id and secret in the form body issues a JWT"),
    ),
    "token-endpoint.token-type.default-bearer": unit(
        fails("default-jwt", "a request without token_type gets an opaque Bearer token"),
    ),
    "token-endpoint.token-type.case-insensitive": unit(
        fails("token-type-case-sensitive", "token_type=JwT is treated as jwt"),
    ),
    "token-endpoint.method.post-only": unit(
        fails("token-endpoint-any-method", "{case} on the token endpoint is refused as a method"),
    ),
    "token-endpoint.credentials.not-in-query": unit(
        fails("query-credentials-accepted", "credentials in the query string are not accepted"),
    ),
    "token-endpoint.grant-type.missing": unit(
        fails("missing-grant-defaults-client-credentials", "a missing grant_type is an error"),
    ),
    "token-endpoint.grant-type.unknown": unit(
        fails("unknown-grant-invalid-request", "is unsupported"),
    ),
    "token-endpoint.body.json-rejected": unit(
        fails("json-body-accepted", "the token endpoint reads only form-encoded parameters"),
    ),
    "token-endpoint.grant-type.repeated": unit(
        fails("duplicate-param-500", "a repeated parameter is refused or the last value used"),
        either=("duplicate-param-rejected",),
    ),
    "token-endpoint.params.unknown-ignored": unit(
        fails("unknown-param-rejected", "an unknown parameter does not stop the grant"),
    ),
    "token-endpoint.scope.unknown": unit(
        fails("unknown-scope-ignored", "a scope the application does not have is refused"),
    ),
    "token-endpoint.grant-type.not-allowed-for-client": unit(
        fails("grant-type-not-enforced", "a grant the client is not registered for is refused"),
    ),
    "token-endpoint.password.grant": unit(
        fails("no-refresh-token", "the password grant returns a refresh_token", "good-credentials"),
    ),
    "token-endpoint.refresh.rotation": unit(
        fails("refresh-not-rotated", "the refresh token is rotated"),
        fails("refresh-reusable", "a used refresh token is refused"),
    ),
    "token-endpoint.path.gateway-v1": unit(
        fails("gateway-path-served", "an LMS has no /oauth2/v1/access_token"),
    ),
    # response-schema
    "response-schema.token.schema": unit(
        fails("expires-in-string", "the success body has access_token, token_type, expires_in"),
    ),
    "response-schema.content-type.json": unit(
        fails("text-plain-content-type", "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.no-store": unit(
        fails("no-cache-headers", "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.no-cache": unit(
        fails("no-pragma", "HTTP/1.0 caches are told not to cache"),
        fails("no-cache-headers", "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.token-type.value": unit(
        fails("token-type-swapped", "a token_type=jwt request is answered with token_type JWT", "jwt"),
        fails("token-type-swapped", "an opaque token's token_type is Bearer", "bearer"),
    ),
    "response-schema.expires-in.value": unit(
        fails("lifetimes-changed", "token is the configured lifetime"),
        fails(
            "long-lived-jwt",
            "access tokens are short-lived",
            "jwt",
            profile={"expect": {"jwt_expires_in": 172800}},
        ),
    ),
    "response-schema.refresh-token.absent": unit(
        fails("client-credentials-refresh-token", "client_credentials issues no refresh token"),
    ),
    "response-schema.scope.default": unit(
        fails("scope-default-read", "the default scopes are granted when none are asked for"),
    ),
    "response-schema.access-token.syntax": unit(
        fails("token-non-vschar", "access_token uses only VSCHAR", "vschar-jwt", "vschar-bearer"),
    ),
    "response-schema.error.schema": unit(
        fails("error-as-detail", "error is a registered code; descriptions are strings"),
    ),
    # jwt
    "jwt.structure.compact-jws": unit(
        fails("jwt-no-version", "the claims are the Open edX set with their types"),
        fails("jwt-header-jku", "the JOSE header is well formed"),
    ),
    "jwt.header.alg": unit(
        fails(
            "jwt-hs512", "the signing algorithm is one the profile expects", "default", "password", "refresh"
        ),
        fails("asymmetric-ignored", "asymmetric_jwt yields an asymmetrically signed token", "asymmetric"),
    ),
    "jwt.signature.verifies": unit(
        # rotated-keys (the profile's keys are not the instance's) is the profile-key checks' failure.
        fails("signing-key-unpublished", "the signature verifies with the published key material"),
        fails("kid-unknown", "the signature verifies with the published key material", "asymmetric"),
    ),
    "jwt.claims.iss": unit(
        fails("wrong-issuer", "iss is the issuer every resource server trusts"),
    ),
    "jwt.claims.aud": unit(
        fails("wrong-audience", "the token is meant for the configured audience"),
    ),
    "jwt.claims.times": unit(
        fails("iat-in-future", "iat is not in the future"),
        fails("expired-on-issue", "the token has not expired when issued"),
        fails("exp-float", "exp and iat are integers"),
    ),
    "jwt.claims.lifetime": unit(
        fails("jwt-short-exp", "the token lives as long as the response says"),
    ),
    "jwt.claims.openedx": unit(
        fails("grant-type-claim-underscore", "are present and typed"),
        fails("scopes-claim-mismatch", "the scopes claim lists the response's scope"),
        fails("restricted-claim", "a normal application's token is unrestricted"),
    ),
    "jwt.claims.scope-dependent": unit(
        fails("claims-ignore-scope", "a read-only token carries no personal claims", "scope-read"),
        fails(
            "no-profile-claims",
            "scopes email, profile and user_id bring their claims, and only they",
            "default-scopes",
            "asymmetric",
            "password",
            "refresh",
        ),
    ),
    "jwt.header.kid": unit(
        fails("kid-unknown", "the kid is found in the JWK set"),
        either=("kid-published",),
    ),
    "jwt.jwks.well-formed": unit(
        fails("jwks-not-json", "the JWK set loads"),
    ),
    "jwt.rfc9068.profile": unit(
        fails("rfc9068-typ-jwt", "typ is at+jwt", "typ"),
        fails("rfc9068-no-client-id", "the client_id claim is present", "client_id"),
        fails("rfc9068-no-jti", "the jti claim is present", "jti"),
        base=("rfc9068",),
        profile={"jwt": {"mode": "rfc9068"}},
    ),
    # bad-credentials
    "bad-credentials.basic.wrong-secret": unit(
        fails("no-www-authenticate", "a 401 names the authentication scheme"),
        fails("accept-any-secret", "a wrong Basic secret is invalid_client"),
    ),
    "bad-credentials.body.wrong-secret": unit(
        fails("body-secret-unchecked", "a wrong secret in the body is invalid_client"),
    ),
    "bad-credentials.client.unknown": unit(
        fails("unknown-client-400", "a client the server does not know is refused"),
    ),
    "bad-credentials.secret.variant": unit(
        fails("accept-empty-secret", "an empty client_secret field is not the secret", "empty"),
        fails("secret-missing-ok", "client_id without any client_secret field is not the secret", "missing"),
        fails("secret-compare-first-16", "its last character changed is not the secret", "one-char-changed"),
        fails("accept-any-secret-prefix", "without its last character is not the secret", "truncated"),
        fails("accept-any-secret-prefix", "the first half of the secret", "first-half"),
        fails("secret-suffix-ignored", "followed by extra characters is not the secret", "suffixed"),
        fails("secret-case-insensitive", "upper and lower case swapped is not the secret", "case-flipped"),
        fails("secret-strip-whitespace", "a space before and after is not the secret", "whitespace-padded"),
        fails("accept-client-id-as-secret", "another client's identifier", "other-client"),
        fails("accept-any-secret", "a long random string is not the secret", "long-random"),
    ),
    "bad-credentials.error.no-leak": unit(
        fails("echo-secret", "the submitted secret is not echoed"),
        fails("stack-trace-in-errors", "no stack trace or internals in the error"),
        either=("accept-any-secret",),  # no token for a wrong secret is BC-02's requirement
    ),
    "bad-credentials.throttling": unit(
        fails("no-rate-limit", "brute force on client secrets is throttled"),
        # 130 probes: the run's token budget must allow them (see the report on BC-06).
        profile={"options": {"throttle_probe": True, "max_requests": 300, "max_token_requests": 200}},
    ),
    # resources
    "resources.jwt.accepted": unit(
        fails("me-wrong-username", "the resource identifies the token's owner"),
        fails("me-rejects-rs512", "the resource accepts the LMS's own JWT", "asymmetric"),
    ),
    "resources.bearer.accepted": unit(
        fails("me-rejects-bearer", "the resource accepts a Bearer token"),
    ),
    "resources.no-credentials.refused": unit(
        fails("no-www-authenticate", "a 401 challenges the client"),
        fails("anonymous-allowed", "an anonymous request is unauthenticated"),
    ),
    "resources.garbage-token.refused": unit(
        fails("garbage-token-403", "an invalid token is an authentication failure"),
    ),
    "resources.query-token.refused": unit(
        fails("accept-query-token", "tokens in URLs (logged, cached, leaked by Referer) are not accepted"),
    ),
    "resources.jwt.wrong-audience": unit(
        fails("me-no-aud-check", "a token with aud="),
    ),
    "resources.jwt.wrong-issuer": unit(
        fails("me-no-iss-check", "a token with iss="),
    ),
    "resources.scheme.mismatch": unit(
        fails("bearer-accepts-jwt", "the token is accepted only under its own scheme", "bearer-with-jwt"),
        fails("jwt-accepts-opaque", "the token is accepted only under its own scheme", "jwt-with-opaque"),
    ),
    "resources.services.accept-jwt": unit(
        fails(
            "discovery-wrong-issuer",
            "discovery accepts the tokens the LMS issues",
            actual="check the service's JWT_ISSUERS",
        ),
        fails(
            "discovery-hs256-only",
            "discovery accepts the tokens the LMS issues",
            actual="only one signing method works",
        ),
        fails(
            "wrong-issuer",
            "discovery accepts the tokens the LMS issues",
            actual="'http://localhost:8000/oauth2'",
        ),
    ),
    # jwt-attacks
    "jwt-attacks.tampered-payload": unit(
        fails("me-no-signature-check", "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.bad-signature": unit(
        fails("me-no-signature-check", "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.alg-none": unit(
        fails("accept-alg-none", "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.key-confusion": unit(
        fails("hmac-with-public-key", "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.header-keys": unit(
        fails("trust-header-keys", "the forged token ({case}) is refused"),
    ),
    "jwt-attacks.kid": unit(
        fails("kid-file-lookup", "the forged token ({case}) is refused", "kid-path-traversal"),
        fails("unknown-kid-fail-open", "the forged token ({case}) is refused", "kid-unknown"),
    ),
    "jwt-attacks.expired": unit(
        fails(
            "accept-expired", "a token past its exp ({case}) is refused", "resigned-expired", "real-expiry"
        ),
        fails("exp-optional", "a token past its exp ({case}) is refused", "resigned-no-exp"),
        profile={"options": {"wait_for_expiry": True}},
    ),
    "jwt-attacks.weak-hmac-secret": unit(
        fails("weak-hs256-secret", "JWT_SECRET_KEY is not a published default"),
    ),
    # revocation
    "revocation.opaque.revoked": unit(
        fails("revoke-noop", "the revoked token is refused"),
    ),
    "revocation.unknown-token": unit(
        fails("revoke-unknown-400", "an invalid token is not an error for revocation"),
    ),
    "revocation.request.malformed": unit(
        fails("revoke-missing-token-200", "a revocation request needs the token parameter", "missing-token"),
    ),
    "revocation.jwt.not-revocable": unit(
        fails("revoke-jwt-400", "revoking a JWT is accepted"),
        either=("revoke-jwt-blocklist",),
    ),
    "revocation.refresh-token.revoked": unit(
        fails("revoke-noop", "a revoked refresh token is refused"),
    ),
    # transport (TLS through StubLms.handshake in place of the checks' `_handshake`)
    "transport.https.token-endpoint": unit(
        fails("redirect-to-http", "answers token requests over https itself", "answered-over-https"),
        fails("wrong-issuer", "iss is an https URL", "https-issuer", actual="http://localhost:8000/oauth2"),
    ),
    "transport.tls.version": unit(
        fails("tls-legacy-only", "a modern TLS version is used", "negotiated"),
        fails("tls-legacy-accepted", "TLS 1.0 and 1.1 are refused", "legacy-refused"),
        # A certificate the suite does not trust must not pass for a refused protocol.
        fails("tls-legacy-untrusted-cert", "TLS 1.0 and 1.1 are refused", "legacy-refused", actual="TLSv1.1"),
    ),
    "transport.tls.certificate": unit(
        fails("cert-wrong-host", "the certificate verifies for the host"),
    ),
    "transport.tls.certificate-expiry": unit(
        fails("cert-expiring", "the certificate is renewed in time", actual="10 days left"),
    ),
    "transport.hsts": unit(
        fails("no-hsts", "browsers are told to stay on https"),
    ),
    "transport.plain-http.no-token": unit(
        fails("plain-http-served", "the token endpoint is not served over plain http"),
        either=("plain-http-closed",),
    ),
    "resources.jwt.scheme-case": unit(
        fails("jwt-scheme-case-sensitive", "schemes are case-insensitive"),
    ),
    # services (one case per [[services]] entry: the stub's discovery)
    "services.genuine.accepted": unit(
        fails(
            "discovery-other-secret", "discovery accepts every JWT the LMS issues", actual="key: the HS256"
        ),
        fails("discovery-hs256-only", "discovery accepts every JWT the LMS issues", actual="lacks the key"),
        fails(
            "discovery-wrong-issuer",
            "discovery accepts every JWT the LMS issues",
            actual="issuer or audience",
        ),
        fails(
            "wrong-issuer", "discovery accepts every JWT the LMS issues", actual="issuer: the LMS signs iss="
        ),
        fails(
            "wrong-audience", "discovery accepts every JWT the LMS issues", actual="audience: the LMS signs"
        ),
    ),
    "services.forged.refused": unit(
        fails("discovery-accept-alg-none", "discovery refuses every forged token", actual="alg-none"),
    ),
    "services.audience.checked": unit(
        fails(
            "discovery-no-aud-check", "discovery refuses a validly signed token", actual="JWT_VERIFY_AUDIENCE"
        ),
    ),
    "services.issuer.checked": unit(
        fails("discovery-no-iss-check", "discovery refuses a validly signed token whose iss is wrong"),
    ),
    "services.expiry.checked": unit(
        fails("discovery-accept-expired", "discovery refuses a validly signed token whose exp is wrong"),
    ),
    # key-rotation
    "key-rotation.jwks.keys": unit(
        fails("jwks-not-json", "the JWK set loads"),
        fails("jwks-private", "every key a service is given", actual="PRIVATE members"),
        fails("jwks-weak-key", "every key a service is given", actual="1024-bit"),
        fails("jwks-duplicate-kid", "every key a service is given", actual="kid shared"),
    ),
    "key-rotation.lms.signing-key": unit(
        fails("rotated-keys", "the key the LMS signs with is in the JWK set"),
        fails("private-jwk-no-crt", "asymmetric_jwt issues a token", actual="dp, dq and qi"),
    ),
    "key-rotation.lms.kid": unit(
        fails("kid-unknown", "the kid in the LMS's tokens names the key that signed them"),
        either=("kid-published",),
    ),
    "key-rotation.retired-key.lifetime": unit(
        fails("long-lived-jwt", "the wait before a retired public key may be removed is short"),
    ),
    "key-rotation.preflight.new-key": unit(
        fails("rotation-next-key-unpublished", "phase 1: the new public key is in the JWK set"),
        base=("rotation-phase-1",),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
    "key-rotation.preflight.lms": unit(
        fails(
            "lms-missing-next-key", "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds the new public key"
        ),
        fails("rotation-next-key-unpublished", "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds"),
        base=("rotation-phase-1",),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
    "key-rotation.preflight.service": unit(
        fails("discovery-missing-next-key", "phase 1: discovery's JWT_PUBLIC_SIGNING_JWK_SET holds"),
        base=("rotation-phase-1",),
        profile={"jwt": {"rotation_key": next_key_pem()}},
    ),
    # authorization-code (tests/stub_signin.py)
    "authorization-code.redirect-uri.registered": unit(
        fails("redirect-uri-mismatch", "back to its registered redirect URI with a code"),
    ),
    "authorization-code.redirect-uri.https": unit(
        fails(
            "sso-redirect-http",
            "the code travels back over TLS",
            profile={
                "sso_clients": [
                    {
                        "name": "studio",
                        "client_id": SSO_CLIENT_ID,
                        "redirect_uri": SSO_REDIRECT_URI.replace("https://", "http://"),
                    }
                ]
            },
        ),
    ),
    "authorization-code.redirect-uri.unregistered-refused": unit(
        fails("redirect-uri-unchecked", "is refused and the browser is not sent there"),
        fails("redirect-uri-prefix-match", "(path-suffix) is refused", "path-suffix"),
    ),
    "authorization-code.redirect-uri.extra-query": unit(
        fails("extra-query-dropped", "keeps its query component"),
        either=("extra-query-refused",),
    ),
    "authorization-code.response-type.refused": unit(
        fails("response-type-ignored", "is refused for an authorization-code client"),
    ),
    "authorization-code.state.preserved": unit(
        fails("state-dropped", "the state the client sent comes back exactly"),
    ),
    "authorization-code.exchange.token": unit(
        fails("wrong-issuer", "the SSO access token: iss is the profile's issuer"),
    ),
    "authorization-code.code.single-use": unit(
        fails("code-reusable", "a used authorization code is refused"),
    ),
    "authorization-code.code.bound": unit(
        fails("code-not-bound", "a code issued to one client is refused to another", "other-client"),
        fails("code-not-bound", "only with the redirect URI it was issued for", "other-redirect-uri"),
    ),
    "authorization-code.pkce.enforced": unit(
        fails("pkce-ignored", "a code bound to a PKCE challenge is refused"),
    ),
    "authorization-code.pkce.s256": unit(
        fails("pkce-s256-unsupported", "issues an authorization code"),
    ),
    # jwt-cookies (tests/stub_signin.py)
    "jwt-cookies.login.signs-in": unit(
        fails("login-api-missing", "signs in through the LMS's login API", actual="HTTP 404"),
        fails("csrf-endpoint-missing", "gives a CSRF token", actual="HTTP 404"),
        fails("login-api-waf-403", "signs in through the LMS's login API", actual="HTTP 403"),
    ),
    "jwt-cookies.login.set": unit(
        fails("jwt-cookies-not-set", "the login sets edx-jwt-cookie"),
    ),
    "jwt-cookies.flags.httponly": unit(
        fails("jwt-cookie-not-httponly", "a script (XSS) never gets a whole JWT", "signature"),
        fails("jwt-cookie-payload-httponly", "readable by the MFEs", "header-payload"),
    ),
    "jwt-cookies.flags.secure": unit(
        fails("jwt-cookie-not-secure", "never travel over plain http"),
    ),
    "jwt-cookies.flags.samesite": unit(
        fails("jwt-cookie-samesite-none-insecure", "SameSite=None comes with Secure"),
    ),
    "jwt-cookies.domain.covers-mfe": unit(
        fails("jwt-cookie-host-only", "receive the cookie"),
    ),
    "jwt-cookies.jwt.conformant": unit(
        fails("wrong-issuer", "the cookie JWT: iss is the profile's issuer"),
    ),
    "jwt-cookies.refresh.renews": unit(
        fails("jwt-cookies-not-set", "/login_refresh sets a new"),
    ),
    "jwt-cookies.refresh.requires-session": unit(
        fails("refresh-without-session", "JWT cookies without a session do not mint new ones"),
    ),
    "jwt-cookies.lms.accepts-cookies": unit(
        fails("lms-no-cookie-middleware", "the LMS reassembles the JWT cookies"),
    ),
    "jwt-cookies.lms.mismatched-refused": unit(
        fails("cookie-signature-ignored", "whose signature is another token's is refused"),
    ),
    "jwt-cookies.services.accept-cookies": unit(
        fails("discovery-no-cookie-middleware", "reassembles the MFEs' JWT cookies"),
    ),
    "jwt-cookies.services.mismatched-refused": unit(
        fails("discovery-cookie-signature-ignored", "refuses a cookie pair"),
    ),
    "jwt-cookies.logout.clears": unit(
        fails("logout-keeps-cookies", "logout deletes"),
    ),
    # positive controls: the profile's key material is the instance's own
    "jwt.profile-keys.hs256-secret": unit(
        fails("rotated-keys", "jwt.hs256_secret is the instance's own key material", actual="stale"),
        fails("signing-key-unpublished", "baseline: the genuine token is accepted"),
    ),
    "jwt.profile-keys.jwks": unit(
        fails("rotated-keys", "jwt.jwks is the instance's own key material", actual="its own"),
        fails("asymmetric-ignored", "is verified against a token signed with the instance's private key"),
        fails("signing-key-unpublished", "baseline: the genuine token is accepted"),
    ),
    "bad-credentials.secret.variant-basic": unit(
        fails("accept-empty-secret", "an empty client_secret field is not the secret", "empty"),
        fails("secret-missing-ok", "without any client_secret field is not the secret", "missing"),
        fails("secret-compare-first-16", "its last character changed is not the secret", "one-char-changed"),
        fails("accept-any-secret-prefix", "without its last character is not the secret", "truncated"),
        fails("accept-any-secret-prefix", "the first half of the secret", "first-half"),
        fails("secret-suffix-ignored", "followed by extra characters is not the secret", "suffixed"),
        fails("secret-case-insensitive", "upper and lower case swapped is not the secret", "case-flipped"),
        fails("secret-strip-whitespace", "a space before and after is not the secret", "whitespace-padded"),
        fails("accept-client-id-as-secret", "another client's identifier", "other-client"),
        fails("accept-any-secret", "a long random string is not the secret", "long-random"),
    ),
    # one requirement, one verdict: the checks split out of multi-requirement ones
    "response-schema.content-type.error-json": unit(
        fails("text-plain-content-type", "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.error-no-store": unit(
        fails("no-cache-headers", "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.error-no-cache": unit(
        fails("no-pragma", "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.access-token.unique": unit(
        fails("opaque-token-constant", "two opaque tokens differ"),
    ),
    "token-endpoint.password.bad-credentials": unit(
        fails("password-not-checked", "a wrong password is invalid_grant", "bad-password"),
        fails("missing-username-invalid-grant", "a missing username is invalid_request", "missing-username"),
    ),
    "jwt.jwks.public-only": unit(
        fails("jwks-private", "the public key set holds no private key material"),
    ),
    "jwt.jwks.rsa-2048": unit(
        fails("jwks-weak-key", "RSA keys are at least 2048 bits"),
    ),
    "jwt.jwks.distinct-kids": unit(
        fails("jwks-duplicate-kid", "kids are unique so that rotation works"),
    ),
    "revocation.method.post-only": unit(
        fails("revoke-any-method", "revocation is POST only"),
    ),
    # accounts
    "accounts.inactive-user.email-not-verified": unit(
        fails("email-verified-always-true", "email_verified is the user's activation"),
        profile=ACCOUNTS,
        either=("inactive-user-refused",),
    ),
    "accounts.disabled-user.no-password-grant": unit(
        fails("disabled-user-signs-in", "a disabled account (unusable password) cannot sign in"),
        profile=ACCOUNTS,
    ),
    "accounts.disabled-user.no-refresh": unit(
        fails("disabled-user-refreshes", "the refresh grant refuses a disabled user's refresh token"),
        profile=ACCOUNTS,
    ),
    "accounts.restricted-client.refused": unit(
        fails("restricted-not-marked", "the JWT of a RestrictedApplication says is_restricted"),
        fails("restricted-accepted", "an API without a scope for restricted applications refuses"),
        profile=ACCOUNTS,
    ),
    "accounts.deleted-client.no-token": unit(
        fails("deleted-client-accepted", "an application that no longer exists cannot authenticate"),
        profile=ACCOUNTS,
    ),
    "accounts.changed-grant.no-token": unit(
        fails("grant-type-not-enforced", "a grant the application lost is refused"),
        profile=ACCOUNTS,
    ),
    # advisories (tests/stub_advisories.py)
    "advisories.account-api.no-activation-key": unit(
        fails("activation-key-exposed", "the account API does not list activation_key"),
    ),
    "advisories.logout.next-escaped": unit(
        fails("logout-next-unescaped", "the logout page escapes or drops a {case}"),
    ),
    "advisories.logout.no-open-redirect": unit(
        fails("logout-open-redirect", "an unsafe redirect_url ({case}) falls back to a safe target"),
    ),
    "advisories.login.no-open-redirect": unit(
        fails("login-open-redirect", "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.auth-inactive.no-open-redirect": unit(
        fails("inactive-open-redirect", "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.xblock-handler.restricted-jwt-refused": unit(
        fails("xblock-restricted-jwt-accepted", "an XBlock handler refuses a restricted JWT"),
        profile=ACCOUNTS,
    ),
    "advisories.user-api.not-cacheable": unit(
        fails("user-api-cacheable", "signed in is marked private or no-store"),
    ),
    "advisories.login.rate-limited-by-username": unit(
        fails("login-no-username-ratelimit", "failed logins for one username the login API answers"),
        profile={"options": {"login_rate_limit_probe": True}},
    ),
    # the web server in front
    "token-endpoint.path.no-redirect": unit(
        fails("token-path-slash-redirect", "reaches the token endpoint", actual="trailing-slash rewrite"),
    ),
}

# Diagnoses the failures of other checks carry (the symptom, the usual causes, the fix).
DIAGNOSES = [
    ("jwt.claims.iss", "default", "iss-http-scheme", "X-Forwarded-Proto: https"),
    ("resources.jwt.accepted", "default", "api-authorization-dropped", "WSGIPassAuthorization On"),
    (
        "token-endpoint.client-credentials.basic-auth",
        None,
        "token-path-redirected",
        "re-sends the POST as a GET",
    ),
]

# Cases that skip by themselves (`need(...)`) when the profile or instance lacks something: the
# reason must tell the operator what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[tuple[str, str | None, tuple[str, ...], dict[str, Any], str]] = [
    (
        "jwt-attacks.expired",
        "real-expiry",
        (),
        {"options": {"wait_for_expiry": False}},
        "options.wait_for_expiry",
    ),
    ("jwt-attacks.expired", "resigned-expired", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    ("jwt.signature.verifies", "default", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    ("jwt.signature.verifies", "asymmetric", (), {"jwt": {"jwks": None}}, "add jwt.jwks"),
    ("jwt-attacks.key-confusion", "hs256-public-pem", (), {"jwt": {"jwks": None}}, "add jwt.jwks"),
    ("jwt-attacks.weak-hmac-secret", None, ("default-rs512",), {}, "not HMAC-signed"),
    (
        "response-schema.token.schema",
        "bearer",
        (),
        {"expect": {"opaque_tokens": False}},
        "expect.opaque_tokens",
    ),
    ("resources.garbage-token.refused", "Bearer", (), {"resources": {"bearer": False}}, "resources.bearer"),
    ("services.forged.refused", "discovery", (), {"jwt": {"jwks": None}}, "need the public key set"),
    ("services.audience.checked", "discovery", (), {"jwt": {"hs256_secret": None}}, "jwt.hs256_secret"),
    (
        "services.expiry.checked",
        "discovery",
        ("discovery-other-secret",),
        {},
        "blocked (services.genuine.accepted[discovery])",
    ),
    # A case that needs a flow another check verifies is blocked by that check (its control).
    ("jwt-cookies.login.set", None, ("login-api-missing",), {}, "blocked (jwt-cookies.login.signs-in)"),
    (
        "authorization-code.state.preserved",
        None,
        ("csrf-endpoint-missing",),
        {},
        "blocked (jwt-cookies.login.signs-in)",
    ),
    (
        "authorization-code.code.single-use",
        None,
        ("redirect-uri-mismatch",),
        {},
        "blocked (authorization-code.redirect-uri.registered[studio])",
    ),
    (
        "jwt.claims.iss",
        "default",
        ("no-body-auth",),
        {},
        "blocked (token-endpoint.client-credentials.body-auth)",
    ),
    (
        "services.forged.refused",
        "discovery",
        ("discovery-other-secret",),
        {},
        "blocked (services.genuine.accepted[discovery])",
    ),
    (
        "authorization-code.exchange.token",
        None,
        (),
        {"sso_clients": [{"name": "studio", "client_id": SSO_CLIENT_ID, "redirect_uri": SSO_REDIRECT_URI}]},
        "sso_clients.client_secret",
    ),
    # A profile key that is not the instance's: the checks relying on it are not verified, never
    # passed, even against a resource that ignores what the forged token changes.
    ("jwt.signature.verifies", "default", ("rotated-keys",), {}, "blocked (jwt.profile-keys.hs256-secret)"),
    ("jwt.signature.verifies", "asymmetric", ("rotated-keys",), {}, "blocked (jwt.profile-keys.jwks)"),
    ("jwt.signature.verifies", "password", ("rotated-keys",), {}, "blocked (jwt.profile-keys.hs256-secret)"),
    (
        "resources.jwt.wrong-audience",
        None,
        ("me-no-aud-check", "rotated-keys"),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    (
        "resources.jwt.wrong-issuer",
        None,
        ("me-no-iss-check", "rotated-keys"),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    (
        "jwt-attacks.expired",
        "resigned-expired",
        ("accept-expired", "rotated-keys"),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    (
        "jwt-attacks.key-confusion",
        "hs256-public-pem",
        ("hmac-with-public-key", "rotated-keys"),
        {},
        "blocked (jwt.profile-keys.jwks)",
    ),
    ("jwt.claims.openedx", "password", (), {"password_grant": None}, "not-verified (password_grant)"),
    ("jwt.claims.iss", "refresh", (), {"password_grant": None}, "not-verified (password_grant)"),
]


# Checks that send no HTTP request: they read the profile's JWK set or do a TLS handshake.
OFFLINE = {
    "jwt.jwks.well-formed",
    "transport.tls.version",
    "transport.tls.certificate",
    "transport.tls.certificate-expiry",
}
OFFLINE |= {"key-rotation.jwks.keys", "key-rotation.preflight.new-key"}
OFFLINE |= {"jwt.jwks.public-only", "jwt.jwks.rsa-2048", "jwt.jwks.distinct-kids"}


# Running a check ------------------------------------------------------------------------------------


def cases_of(check_id: str) -> tuple[str | None, list[tuple[str | None, Any]]]:
    """The parametrized argument of a check and its (case id, value) pairs, read from its marks."""
    fn = FUNCTIONS[check_id]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize":
            argname, values = mark.args[:2]
            # pytest.param(value, id=..., marks=...) carries its own id (and requirement marks).
            params = [v if isinstance(v, ParameterSet) else None for v in values]
            values = [p.values[0] if p is not None else v for p, v in zip(params, values, strict=True)]
            ids = mark.kwargs.get("ids") or [
                p.id if p is not None and p.id else str(v) for p, v in zip(params, values, strict=True)
            ]
            return argname, list(zip(ids, values, strict=True))
    if "service" in inspect.signature(fn).parameters:  # from the plugin's pytest_generate_tests
        return "service", [("discovery", "discovery")]
    return None, [(None, None)]


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge profile changes; None removes a key (kept as None where absent, so that merging
    the result into a profile removes it there)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            if key in result:
                result.pop(key)
            else:
                result[key] = None
        elif isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def stub_profile(stub: StubLms, changes: Mapping[str, Any] | None = None) -> Profile:
    """The profile an operator would write for the stub: secrets as ${ENV}, its public JWK set."""
    data = {
        "name": "stub-lms",
        "base_url": LMS_URL,
        "client": {"id": "${EDX_OAUTH_CLIENT_ID}", "secret": "${EDX_OAUTH_CLIENT_SECRET}"},
        "jwt": {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks": stub.published_jwks(),
            "hs256_secret": "${EDX_JWT_SECRET}",
        },
        "password_grant": {
            "client_id": "${EDX_PUBLIC_CLIENT_ID}",
            "username": "${EDX_TEST_USERNAME}",
            "password": "${EDX_TEST_PASSWORD}",
        },
        "services": [{"name": "discovery", "base_url": DISCOVERY_URL, "probe": DISCOVERY_PROBE}],
        # sign-in flows: [login] defaults to [password_grant]'s user
        "sso_clients": [
            {
                "name": "studio",
                "client_id": "${EDX_SSO_CLIENT_ID}",
                "redirect_uri": SSO_REDIRECT_URI,
                "client_secret": "${EDX_SSO_CLIENT_SECRET}",
            }
        ],
        "jwt_cookies": {"mfe_origin": MFE_ORIGIN},
    }
    env = {
        "EDX_OAUTH_CLIENT_ID": CLIENT_ID,
        "EDX_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "EDX_JWT_SECRET": stub.published_secret,
        "EDX_PUBLIC_CLIENT_ID": PUBLIC_CLIENT_ID,
        "EDX_TEST_USERNAME": LEARNER.username,
        "EDX_TEST_PASSWORD": LEARNER.password,
        "EDX_SSO_CLIENT_ID": SSO_CLIENT_ID,
        "EDX_SSO_CLIENT_SECRET": SSO_SECRET,
    }
    return profile_from_data(merge(data, changes or {}), env=env)


@pytest.fixture(scope="session")
def faker_instance() -> Faker:
    return Faker()


@pytest.fixture
def run_check(monkeypatch: pytest.MonkeyPatch, faker_instance: Faker) -> Iterator[Callable[..., StubLms]]:
    """Runs one case of a check against a fresh stub with the given mutations; returns the stub."""
    clients: list[Http] = []

    def run(
        check_id: str,
        case: str | None,
        mutations: tuple[str, ...] = (),
        changes: Mapping[str, Any] | None = None,
        *,
        may_skip: bool = False,
    ) -> StubLms:
        unit_ = TABLE[check_id]
        stub = StubLms((*unit_.base, *mutations))
        profile = stub_profile(stub, merge(dict(unit_.profile), changes or {}))
        options = profile.data["options"]
        http = Http(
            profile.base_url,
            transport=stub.transport(),
            max_requests=int(options["max_requests"]),
            max_token_requests=int(options["max_token_requests"]),
            token_path=profile.data["token_path"],
        )
        clients.append(http)
        # The TLS handshake and the expiry wait of the checks go to the stub.
        monkeypatch.setattr(CHECK_MODULES["test_transport"], "_handshake", stub.handshake)
        monkeypatch.setattr(CHECK_MODULES["test_jwt_attacks"], "time", stub.clock)
        faker_instance.seed_instance(f"{check_id}[{case}]")
        fixtures: dict[str, Any] = {
            "tokens": TokenFlows(http, profile),
            "http": http,
            "profile": profile,
            "jwks": load_jwks(profile),
            "fake": faker_instance,
        }
        fixtures["signin"] = SignIn(http, profile, fixtures["tokens"])
        fixtures["sso_client"] = "studio"
        argname, cases = cases_of(check_id)
        if argname is not None:
            fixtures[argname] = dict(cases)[case]
        fn = FUNCTIONS[check_id]
        try:
            fn(**{name: fixtures[name] for name in inspect.signature(fn).parameters})
        except pytest.skip.Exception as skipped:
            if may_skip:
                raise
            # A skip is not a pass (nor a failure): this test itself must not end as "skipped".
            pytest.fail(f"the check skipped instead of running: {skipped}")
        return stub

    yield run
    for http in clients:
        http.close()


def requirement_met(check_id: str, changes: Mapping[str, Any] | None = None) -> str | None:
    """What the plugin would skip the check for, with the table's profile (no DNS for the host)."""
    unit_ = TABLE[check_id]
    profile = stub_profile(StubLms(unit_.base), merge(dict(unit_.profile), changes or {}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profile_module, "is_loopback_url", lambda url: False)
        return missing_requirement(profile, REGISTRY[check_id].requires)


def _pass_cases() -> list[Any]:
    return [
        pytest.param(check_id, case, id=f"{check_id}[{case}]" if case is not None else check_id)
        for check_id in sorted(TABLE)
        for case, _ in cases_of(check_id)[1]
    ]


def _fail_cases() -> list[Any]:
    params = []
    for check_id in sorted(TABLE):
        all_cases = [case for case, _ in cases_of(check_id)[1]]
        for breaks in TABLE[check_id].breaks:
            for case in breaks.cases or all_cases:
                label = f"{check_id}[{case}]" if case is not None else check_id
                params.append(pytest.param(check_id, case, breaks, id=f"{label}-{breaks.mutation}"))
    return params


def _either_cases() -> list[Any]:
    return [
        pytest.param(check_id, case, mutation, id=f"{check_id}[{case}]-{mutation}")
        for check_id in sorted(TABLE)
        for mutation in TABLE[check_id].either
        for case, _ in cases_of(check_id)[1]
    ]


# The table is complete ------------------------------------------------------------------------------


def test_table_covers_every_registered_check():
    assert set(REGISTRY) == set(FUNCTIONS), "every registered check has a function in conformance/checks"
    assert sorted(set(REGISTRY) - set(TABLE)) == [], "checks without a unit test"
    assert sorted(set(TABLE) - set(REGISTRY)) == [], "table entries for checks that do not exist"


@pytest.mark.parametrize("check_id", sorted(TABLE))
def test_every_case_has_a_failing_mutation(check_id):
    unit_ = TABLE[check_id]
    cases = [case for case, _ in cases_of(check_id)[1]]
    assert unit_.breaks, "at least one mutation must fail the check"
    for breaks in unit_.breaks:
        assert breaks.mutation in MUTATIONS, f"unknown mutation {breaks.mutation}"
        assert set(breaks.cases) <= set(cases), f"{breaks.mutation}: no such case {breaks.cases}"
    failed = {case for b in unit_.breaks for case in (b.cases or cases)}
    assert failed == set(cases), f"cases no mutation fails: {sorted(set(cases) - failed, key=str)}"
    assert set(unit_.base + unit_.either) <= set(MUTATIONS)


def test_every_mutation_is_used():
    used = {b.mutation for u in TABLE.values() for b in u.breaks}
    used |= {m for u in TABLE.values() for m in u.base + u.either}
    used |= {m for skip in SKIPS for m in skip[2]}
    used |= {diagnosis[2] for diagnosis in DIAGNOSES}
    assert sorted(set(MUTATIONS) - used) == []


# Pass, fail, either, skip ---------------------------------------------------------------------------


@pytest.mark.parametrize(("check_id", "case"), _pass_cases())
def test_passes_on_stock_lms(run_check, check_id, case):
    assert requirement_met(check_id) is None, "the table's profile lets the plugin run the check"
    stub = run_check(check_id, case)
    assert stub.requests or check_id in OFFLINE, "the check talked to the instance"


@pytest.mark.parametrize(("check_id", "case", "breaks"), _fail_cases())
def test_fails_on_mutation(run_check, check_id, case, breaks):
    with pytest.raises(ConformanceFailure) as failure:
        run_check(check_id, case, (breaks.mutation,), breaks.profile)
    assert breaks.says.format(case=case) in failure.value.requirement
    assert breaks.actual in failure.value.actual


@pytest.mark.parametrize(("check_id", "case", "mutation"), _either_cases())
def test_passes_either_allowed_outcome(run_check, check_id, case, mutation):
    run_check(check_id, case, (mutation,))


@pytest.mark.parametrize(
    ("check_id", "case", "mutations", "changes", "reason"),
    SKIPS,
    ids=[f"{s[0]}[{s[1]}]-{s[4]}" for s in SKIPS],
)
def test_skips_say_what_to_add(run_check, check_id, case, mutations, changes, reason):
    with pytest.raises(pytest.skip.Exception) as skipped:
        run_check(check_id, case, mutations, changes, may_skip=True)
    assert reason in str(skipped.value)


# The stub itself answers like observed §2-5 where the checks do not look ----------------------------


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


@pytest.mark.parametrize(
    ("check_id", "removed", "key"),
    [
        ("accounts.inactive-user.email-not-verified", {"inactive_user": None}, "accounts.inactive_user"),
        ("accounts.disabled-user.no-password-grant", {"disabled_user": None}, "accounts.disabled_user"),
        (
            "accounts.disabled-user.no-refresh",
            {"disabled_user": {"refresh_token": None}},
            "accounts.disabled_user.refresh_token",
        ),
        ("accounts.restricted-client.refused", {"restricted_client": None}, "accounts.restricted_client"),
        ("accounts.deleted-client.no-token", {"deleted_client": None}, "accounts.deleted_client"),
        ("accounts.changed-grant.no-token", {"changed_grant_client": None}, "accounts.changed_grant_client"),
    ],
)
def test_accounts_checks_without_their_entry_are_not_verified(check_id, removed, key):
    reason = requirement_met(check_id, {"accounts": removed})
    assert reason is not None and reason.startswith(f"not-verified ({key}): add ")


@pytest.mark.parametrize(("check_id", "case", "mutation", "names"), DIAGNOSES)
def test_failures_diagnose_the_front_server(run_check, check_id, case, mutation, names):
    with pytest.raises(ConformanceFailure) as failure:
        run_check(check_id, case, (mutation,))
    assert names in failure.value.actual
