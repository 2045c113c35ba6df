"""The named faults of the reference instance: one data table, and the switches the servers read.

Each fault is a real misconfiguration or bug, implemented at the layer where it would live in an
Open edX deployment (a setting, a middleware, a validator hook, the JWT builder, the resource
authentication); the servers ask ``is_active(name)`` at that one place.

Per fault the table says what the suite must make of it:
- ``catches``: the check ids (no case brackets) that MUST fail against an instance with the fault;
- ``collateral``: check ids that may fail too, each with the reason (anything else failing is a
  bug in the fault or in a check, and fails the project's fault matrix);
- ``profile``: keys added to (or overriding) the generated profile so that opt-in checks run;
- ``rate_limit``: the token endpoint's rate for this fault (None: the matrix's generous one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# Check ids that no fault of a loopback, plain-http reference instance can make fail, and why.
UNKILLABLE: dict[str, str] = {
    "transport.https.token-endpoint": "transport checks run only against a non-loopback https instance; "
    "the reference binds 127.0.0.1 and serves plain http",
    "transport.tls.version": "needs a TLS listener on a non-loopback host (the reference has neither)",
    "transport.tls.certificate": "needs a TLS certificate on a non-loopback host (the reference has neither)",
    "transport.hsts": "HSTS is checked only on a non-loopback https instance",
    "transport.plain-http.no-token": "needs an https instance whose http port can be probed; the "
    "reference is plain http on loopback",
    "jwt.rfc9068.profile": "runs only in profile mode rfc9068; an Open edX LMS issues no RFC 9068 "
    "tokens (no typ at+jwt, client_id or jti), so that mode fails on a clean instance too",
}

# Collateral reasons used by several faults.
_BASELINE = "its baseline (the genuine token is accepted at the probe) fails first"
_SHARED_JWT = "it uses the run's shared default JWT, which the fault stops the endpoint issuing"
_SHARED_BODY = "it uses a token requested with credentials in the body, which the fault refuses"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    area: str
    catches: list[str] = field(default_factory=list)
    collateral: dict[str, str] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    rate_limit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """What ``list-faults --format json`` prints for the fault."""
        return {
            "name": self.name,
            "description": self.description,
            "area": self.area,
            "catches": list(self.catches),
        }


FAULTS: tuple[Fault, ...] = (
    # ---- jwt: what the LMS puts in its tokens and key sets ----------------------------------------
    Fault(
        name="wrong-issuer",
        description=(
            "The LMS signs its JWTs with an issuer other than the profile's (http://localhost:<port>/oauth2, "
            "as when LMS_HOST or JWT_ISSUER is misconfigured). The LMS accepts its own tokens; services "
            "configured with the real issuer refuse them."
        ),
        area="jwt",
        catches=["jwt.claims.iss", "resources.services.accept-jwt"],
    ),
    Fault(
        name="issuer-https-scheme",
        description=(
            "JWT_ISSUER says https while the LMS is served over http (Tutor's ENABLE_HTTPS flipped, or a TLS "
            "proxy without X-Forwarded-Proto): only the scheme of iss differs from what services trust."
        ),
        area="jwt",
        catches=["jwt.claims.iss", "resources.services.accept-jwt"],
    ),
    Fault(
        name="wrong-audience",
        description=(
            "JWT_AUDIENCE is left at the platform default 'change-me' on the LMS (signing and its own "
            "JWT_ISSUERS) while other services expect 'openedx'."
        ),
        area="jwt",
        catches=["jwt.claims.aud", "resources.services.accept-jwt"],
    ),
    Fault(
        name="asymmetric-jwt-ignored",
        description=(
            "The token view ignores the asymmetric_jwt parameter: every JWT is HS256, also when RS512 was "
            "asked for."
        ),
        area="jwt",
        catches=["jwt.header.alg"],
    ),
    Fault(
        name="signing-key-not-published",
        description=(
            "A rotated RS512 signing key is in the LMS's settings but not in the published JWK set that the "
            "profile and the other services use (they still hold the old key)."
        ),
        area="jwt",
        catches=["jwt.signature.verifies", "resources.services.accept-jwt"],
    ),
    Fault(
        name="kid-not-in-jwks",
        description=(
            "JWT_AUTH_ADD_KID_HEADER is on and the private signing JWK carries kid 'openedx-2025' while the "
            "public set publishes the same key under kid 'openedx'."
        ),
        area="jwt",
        catches=["jwt.signature.verifies", "jwt.header.kid"],
    ),
    Fault(
        name="clock-ahead",
        description=(
            "The LMS host's clock runs 5 minutes fast: iat and exp of every JWT are in the future, and "
            "resource servers with a correct clock (the LMS's own API included) refuse them."
        ),
        area="jwt",
        catches=["jwt.claims.times", "resources.jwt.accepted", "resources.services.accept-jwt"],
        collateral={
            "jwt-attacks.tampered-payload": _BASELINE,
            "jwt-attacks.bad-signature": _BASELINE,
            "jwt-attacks.alg-none": _BASELINE,
            "jwt-attacks.key-confusion": _BASELINE,
            "jwt-attacks.header-keys": _BASELINE,
            "jwt-attacks.kid": _BASELINE,
        },
    ),
    Fault(
        name="exp-from-opaque-lifetime",
        description=(
            "The JWT's exp is taken from the underlying DOT access token (iat + 36000) while the response "
            "says expires_in 3600."
        ),
        area="jwt",
        catches=["jwt.claims.lifetime"],
    ),
    Fault(
        name="missing-openedx-claims",
        description="JWTs lack the Open edX claims version and filters (an outdated custom JWT builder).",
        area="jwt",
        catches=["jwt.structure.compact-jws", "jwt.claims.openedx"],
    ),
    Fault(
        name="sub-is-username",
        description="The sub claim is the username instead of the anonymous user id.",
        area="jwt",
        catches=["jwt.structure.compact-jws", "jwt.claims.openedx"],
    ),
    Fault(
        name="grant-type-underscore",
        description=(
            "The grant_type claim is the request's grant type with an underscore (client_credentials) "
            "instead of the application's (client-credentials)."
        ),
        area="jwt",
        catches=["jwt.structure.compact-jws", "jwt.claims.openedx"],
    ),
    Fault(
        name="claims-ignore-scopes",
        description=(
            "The JWT builder adds the email and profile claims whatever the scopes: a scope=read token "
            "carries personal data."
        ),
        area="jwt",
        catches=["jwt.claims.scope-dependent"],
    ),
    Fault(
        name="jwks-private-members",
        description=(
            "The published JWK set is the private signing JWK (d, p, q, dp, dq, qi included), pasted where "
            "the public set belongs."
        ),
        area="jwt",
        catches=["jwt.jwks.well-formed"],
    ),
    Fault(
        name="rsa-1024-key",
        description="The RS512 signing key is a 1024-bit RSA key (made with an old openssl genrsa default).",
        area="jwt",
        catches=["jwt.jwks.well-formed"],
    ),
    Fault(
        name="jwks-duplicate-kid",
        description=(
            "A key rotation added the new key to the JWK set under the old key's kid: two keys share kid "
            "'openedx'."
        ),
        area="jwt",
        catches=["jwt.jwks.well-formed"],
    ),
    Fault(
        name="weak-hs256-secret",
        description=(
            "JWT_SECRET_KEY (the HS256 signing secret) is devstack's published 'lms-secret', copied into "
            "a production configuration."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.weak-hmac-secret"],
    ),
    # ---- response-schema: the token response's headers and members --------------------------------
    Fault(
        name="no-cache-headers",
        description="Token responses lack Cache-Control: no-store and Pragma: no-cache (a proxy drops them).",
        area="response-schema",
        catches=["response-schema.cache-control.no-store", "response-schema.pragma.no-cache"],
    ),
    Fault(
        name="no-pragma",
        description="Token responses lack Pragma: no-cache only (a proxy strips HTTP/1.0 headers).",
        area="response-schema",
        catches=["response-schema.pragma.no-cache"],
    ),
    Fault(
        name="expires-in-string",
        description='Token responses send expires_in as a JSON string ("3600") instead of a number.',
        area="response-schema",
        catches=["response-schema.token.schema", "response-schema.expires-in.value", "jwt.claims.lifetime"],
    ),
    Fault(
        name="token-response-html",
        description=(
            "The JWT token response is rebuilt as a new HttpResponse without a content type: "
            "Content-Type: text/html; charset=utf-8."
        ),
        area="response-schema",
        catches=["response-schema.content-type.json"],
    ),
    Fault(
        name="token-type-bearer-for-jwt",
        description='JWT token responses say token_type "bearer" (an RFC 6750 "fix") instead of "JWT".',
        area="response-schema",
        catches=["response-schema.token-type.value", "token-endpoint.token-type.case-insensitive"],
    ),
    Fault(
        name="scope-as-list",
        description="Token responses give scope as a JSON list instead of a space-delimited string.",
        area="response-schema",
        catches=["response-schema.token.schema", "response-schema.scope.default", "jwt.claims.openedx"],
    ),
    Fault(
        name="refresh-token-for-client-credentials",
        description="client_credentials responses carry a refresh_token (RFC 6749 4.4.3: they should not).",
        area="response-schema",
        catches=["response-schema.refresh-token.absent"],
    ),
    Fault(
        name="expires-in-mismatch",
        description=(
            "JWT responses keep the opaque token's expires_in (36000) while the JWT itself expires after "
            "3600 s."
        ),
        area="response-schema",
        catches=["response-schema.expires-in.value", "jwt.claims.lifetime"],
    ),
    Fault(
        name="expires-in-year",
        description="JWT_ACCESS_TOKEN_EXPIRE_SECONDS is a year: year-long JWTs that cannot be revoked.",
        area="response-schema",
        catches=["response-schema.expires-in.value"],
    ),
    Fault(
        name="narrow-default-scopes",
        description=(
            "OAUTH2_PROVIDER DEFAULT_SCOPES is ['read']: tokens requested without scope get read only, "
            "and JWTs lack the email and profile claims services expect."
        ),
        area="response-schema",
        catches=["response-schema.scope.default", "jwt.claims.scope-dependent"],
    ),
    Fault(
        name="reuse-access-tokens",
        description=(
            "The token endpoint hands out the client's existing unexpired access token instead of a new "
            "one (as the DOP provider once did): two requests get the same opaque token."
        ),
        area="response-schema",
        catches=["response-schema.access-token.syntax"],
    ),
    # ---- token-endpoint: methods, parameters, grants, errors ---------------------------------------
    Fault(
        name="error-as-200",
        description=(
            "An error-normalising layer answers every OAuth error of the token endpoint with HTTP 200 and "
            "the error body."
        ),
        area="token-endpoint",
        catches=[
            "token-endpoint.grant-type.missing",
            "token-endpoint.grant-type.unknown",
            "token-endpoint.body.json-rejected",
            "token-endpoint.scope.unknown",
            "token-endpoint.grant-type.not-allowed-for-client",
            "token-endpoint.password.grant",
            "token-endpoint.refresh.rotation",
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.client.unknown",
            "bad-credentials.secret.variant",
            "bad-credentials.error.no-leak",
            "response-schema.error.schema",
            "revocation.refresh-token.revoked",
        ],
    ),
    Fault(
        name="invalid-grant-for-unsupported",
        description=(
            "A missing or unknown grant_type is answered invalid_grant instead of unsupported_grant_type."
        ),
        area="token-endpoint",
        catches=[
            "token-endpoint.grant-type.missing",
            "token-endpoint.grant-type.unknown",
            "response-schema.error.schema",
        ],
    ),
    Fault(
        name="unknown-scope-500",
        description=(
            "A custom scopes backend looks every requested scope up in a dict: an unknown scope is a "
            "KeyError and an HTML 500 instead of 400 invalid_scope."
        ),
        area="token-endpoint",
        catches=["token-endpoint.scope.unknown", "response-schema.error.schema"],
    ),
    Fault(
        name="unsupported-for-unauthorized-client",
        description=(
            "A grant type the client is not registered for is answered unsupported_grant_type instead of "
            "unauthorized_client."
        ),
        area="token-endpoint",
        catches=["token-endpoint.grant-type.not-allowed-for-client"],
    ),
    Fault(
        name="bad-password-invalid-client",
        description=(
            "Wrong user credentials in the password grant are answered 401 invalid_client instead of 400 "
            "invalid_grant."
        ),
        area="token-endpoint",
        catches=["token-endpoint.password.grant"],
    ),
    Fault(
        name="token-on-get",
        description=(
            "The token endpoint serves GET too, reading the grant and the client credentials from the "
            "query string."
        ),
        area="token-endpoint",
        catches=["token-endpoint.method.post-only", "token-endpoint.credentials.not-in-query"],
    ),
    Fault(
        name="gateway-normalises-params",
        description=(
            "An API gateway in front of the token endpoint moves query parameters into the form body and "
            "joins repeated parameters with commas: client credentials in the URL obtain a token, and a "
            "repeated grant_type becomes 'password,client_credentials'."
        ),
        area="token-endpoint",
        catches=["token-endpoint.credentials.not-in-query", "token-endpoint.grant-type.repeated"],
    ),
    Fault(
        name="json-body-accepted",
        description="A middleware parses JSON bodies into the form: a JSON token request gets a token.",
        area="token-endpoint",
        catches=["token-endpoint.body.json-rejected"],
    ),
    Fault(
        name="unknown-params-rejected",
        description=(
            "The token endpoint refuses parameters it does not know with 400 invalid_request instead of "
            "ignoring them."
        ),
        area="token-endpoint",
        catches=["token-endpoint.params.unknown-ignored"],
    ),
    Fault(
        name="token-type-case-sensitive",
        description="token_type is compared case-sensitively: token_type=JwT gets an opaque Bearer token.",
        area="token-endpoint",
        catches=["token-endpoint.token-type.case-insensitive"],
    ),
    Fault(
        name="signed-opaque-tokens",
        description=(
            "ACCESS_TOKEN_GENERATOR makes JWT-shaped opaque tokens: without token_type the client gets "
            "something that looks like a JWT but is only valid as a Bearer token."
        ),
        area="token-endpoint",
        catches=["token-endpoint.token-type.default-bearer"],
    ),
    Fault(
        name="no-refresh-rotation",
        description="ROTATE_REFRESH_TOKEN is off: a refresh token keeps working after use.",
        area="token-endpoint",
        catches=["token-endpoint.refresh.rotation"],
    ),
    Fault(
        name="gateway-path-alias",
        description=(
            "The LMS also routes the hosted gateway's /oauth2/v1/access_token to its token view "
            "(a recorded deviation only: the check is MAY, so the run still passes)."
        ),
        area="token-endpoint",
        catches=["token-endpoint.path.gateway-v1"],
    ),
    Fault(
        name="authorization-header-stripped",
        description=(
            "The proxy in front of /oauth2/ drops the Authorization header (proxy_set_header Authorization "
            '"" left from a staging basic-auth setup): HTTP Basic client authentication never arrives.'
        ),
        area="token-endpoint",
        catches=["token-endpoint.client-credentials.basic-auth"],
        collateral={
            check_id: "its request authenticates with HTTP Basic, which never arrives: 401 invalid_client"
            for check_id in (
                "token-endpoint.token-type.case-insensitive",
                "token-endpoint.params.unknown-ignored",
                "token-endpoint.scope.unknown",
                "token-endpoint.grant-type.not-allowed-for-client",
                "token-endpoint.grant-type.repeated",
                "response-schema.error.schema",
            )
        }
        | {
            check_id: _SHARED_JWT
            for check_id in (
                "response-schema.token.schema",
                "response-schema.content-type.json",
                "response-schema.cache-control.no-store",
                "response-schema.pragma.no-cache",
                "response-schema.token-type.value",
                "response-schema.expires-in.value",
                "response-schema.refresh-token.absent",
                "response-schema.scope.default",
                "response-schema.access-token.syntax",
                "jwt.structure.compact-jws",
                "jwt.header.alg",
                "jwt.signature.verifies",
                "jwt.claims.iss",
                "jwt.claims.aud",
                "jwt.claims.times",
                "jwt.claims.lifetime",
                "jwt.claims.openedx",
                "jwt.claims.scope-dependent",
                "jwt-attacks.tampered-payload",
                "jwt-attacks.bad-signature",
                "jwt-attacks.alg-none",
                "jwt-attacks.expired",
                "jwt-attacks.weak-hmac-secret",
                "resources.jwt.accepted",
                "resources.query-token.refused",
                "resources.jwt.wrong-audience-or-issuer",
                "resources.scheme.mismatch",
                "resources.services.accept-jwt",
            )
        },
    ),
    Fault(
        name="body-credentials-ignored",
        description=(
            "The token endpoint supports only HTTP Basic client authentication (client_secret_post off): "
            "client_id and client_secret in the body, as edx-rest-api-client sends them, are refused."
        ),
        area="token-endpoint",
        catches=["token-endpoint.client-credentials.body-auth"],
        collateral={
            check_id: _SHARED_BODY
            for check_id in (
                "token-endpoint.token-type.default-bearer",
                "response-schema.token.schema",
                "response-schema.token-type.value",
                "response-schema.expires-in.value",
                "response-schema.refresh-token.absent",
                "response-schema.access-token.syntax",
                "jwt.structure.compact-jws",
                "jwt.header.alg",
                "jwt.signature.verifies",
                "jwt.claims.iss",
                "jwt.claims.aud",
                "jwt.claims.lifetime",
                "jwt.header.kid",
                "jwt-attacks.tampered-payload",
                "jwt-attacks.bad-signature",
                "jwt-attacks.alg-none",
                "jwt-attacks.key-confusion",
                "jwt-attacks.header-keys",
                "jwt-attacks.kid",
                "resources.jwt.accepted",
                "resources.bearer.accepted",
                "resources.scheme.mismatch",
                "resources.services.accept-jwt",
                "resources.query-token.refused",
                "revocation.opaque.revoked",
                "revocation.jwt.not-revocable",
            )
        }
        | {"revocation.unknown-token": "the revocation request authenticates with body credentials too"},
    ),
    # ---- bad-credentials: client authentication ----------------------------------------------------
    Fault(
        name="secret-prefix",
        description=(
            "Client secrets are compared by prefix: any non-empty prefix of the real secret authenticates "
            "the client (a truncating comparison bug)."
        ),
        area="bad-credentials",
        catches=["bad-credentials.secret.variant"],
    ),
    Fault(
        name="secret-case-insensitive",
        description="Client secrets are compared case-insensitively (a collation or .lower() bug).",
        area="bad-credentials",
        catches=["bad-credentials.secret.variant"],
    ),
    Fault(
        name="secret-whitespace-stripped",
        description="Submitted client secrets are stripped of surrounding whitespace before comparison.",
        area="bad-credentials",
        catches=["bad-credentials.secret.variant"],
    ),
    Fault(
        name="secret-empty-accepted",
        description=(
            'An empty client_secret ("") authenticates a confidential client (a blank-means-unset check '
            "written the wrong way round)."
        ),
        area="bad-credentials",
        catches=["bad-credentials.secret.variant"],
    ),
    Fault(
        name="secret-any-accepted",
        description="Client authentication checks only the client id: any secret obtains a token.",
        area="bad-credentials",
        catches=[
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.secret.variant",
            "bad-credentials.error.no-leak",
            "response-schema.error.schema",
        ],
    ),
    Fault(
        name="invalid-client-400",
        description="invalid_client is answered with HTTP 400 instead of 401 (an error-mapping layer).",
        area="bad-credentials",
        catches=["bad-credentials.basic.wrong-secret", "bad-credentials.client.unknown"],
    ),
    Fault(
        name="no-www-authenticate",
        description="401 responses of the token endpoint lack WWW-Authenticate (a proxy drops it).",
        area="bad-credentials",
        catches=["bad-credentials.basic.wrong-secret"],
    ),
    Fault(
        name="error-echoes-secret",
        description="invalid_client errors echo the submitted client secret in error_description.",
        area="bad-credentials",
        catches=["bad-credentials.error.no-leak"],
    ),
    Fault(
        name="no-rate-limit",
        description=(
            "RATELIMIT_ENABLE is off: the token endpoint takes unlimited wrong secrets (brute force). "
            "Run with the stock 120/m limit and the throttling probe on."
        ),
        area="bad-credentials",
        catches=["bad-credentials.throttling"],
        profile={"options": {"throttle_probe": True, "max_requests": 400, "max_token_requests": 250}},
        rate_limit="120/m",
    ),
    # ---- resources: the LMS's API and other services ----------------------------------------------
    Fault(
        name="discovery-wrong-issuer",
        description=(
            "The discovery service's JWT_ISSUERS names another issuer, so it refuses every token the LMS "
            "issues (the classic cross-service issuer mismatch)."
        ),
        area="resources",
        catches=["resources.services.accept-jwt"],
    ),
    Fault(
        name="discovery-secret-divergence",
        description=(
            "The discovery service's JWT_ISSUERS[0].SECRET_KEY differs from the LMS's JWT_SECRET_KEY: it "
            "refuses HS256 JWTs and accepts RS512 ones."
        ),
        area="resources",
        catches=["resources.services.accept-jwt"],
    ),
    Fault(
        name="lms-secret-divergence",
        description=(
            "The LMS signs HS256 with JWT_SECRET_KEY but verifies with a different JWT_ISSUERS[0].SECRET_KEY "
            "(Tutor's JWT_COMMON_SECRET_KEY vs OPENEDX_SECRET_KEY): its own API refuses its HS256 tokens."
        ),
        area="resources",
        catches=["resources.jwt.accepted"],
        collateral={
            "jwt-attacks.tampered-payload": _BASELINE,
            "jwt-attacks.bad-signature": _BASELINE,
            "jwt-attacks.alg-none": _BASELINE,
        },
    ),
    Fault(
        name="aud-not-verified",
        description=(
            "The LMS API's JWT decoder does not verify the audience (JWT_VERIFY_AUDIENCE off, honoured at "
            "the signature step too): tokens minted for another audience are accepted."
        ),
        area="resources",
        catches=["resources.jwt.wrong-audience-or-issuer"],
    ),
    Fault(
        name="anonymous-allowed",
        description="The probe API's permission is AllowAny: a request without credentials gets 200.",
        area="resources",
        catches=["resources.no-credentials.refused", "resources.query-token.refused"],
    ),
    Fault(
        name="query-token-accepted",
        description="The LMS API also authenticates ?access_token=<jwt> from the URL query.",
        area="resources",
        catches=["resources.query-token.refused"],
    ),
    Fault(
        name="scheme-agnostic-auth",
        description=(
            "A custom authentication class, listed first, accepts either token under any scheme "
            "(Bearer <jwt>, JWT <opaque>) and has no authenticate_header, so DRF answers 403 instead of "
            "401 with WWW-Authenticate."
        ),
        area="resources",
        catches=[
            "resources.scheme.mismatch",
            "resources.no-credentials.refused",
            "resources.garbage-token.refused",
        ],
    ),
    Fault(
        name="bearer-not-accepted",
        description=(
            "The probe API lists only JWT and session authentication (the LMS's default classes, without "
            "BearerAuthentication): opaque tokens are refused."
        ),
        area="resources",
        catches=["resources.bearer.accepted", "revocation.opaque.revoked"],
    ),
    # ---- jwt-attacks: what the LMS API's JWT decoder lets through ----------------------------------
    Fault(
        name="accept-alg-none",
        description=(
            "The LMS resource /api/user/v1/me accepts unsigned JWTs (alg: none) whose claims are otherwise "
            "valid."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.alg-none"],
    ),
    Fault(
        name="accept-expired",
        description=(
            "The LMS API's JWT decoder does not check exp (JWT_VERIFY_EXPIRATION off, honoured at the "
            "signature step too): expired tokens are accepted."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.expired"],
    ),
    Fault(
        name="signature-not-checked",
        description=(
            "The LMS API's JWT decoder checks the claims but never the signature (decoded with "
            "verify_signature off)."
        ),
        area="jwt-attacks",
        catches=[
            "jwt-attacks.tampered-payload",
            "jwt-attacks.bad-signature",
            "jwt-attacks.alg-none",
            "jwt-attacks.key-confusion",
            "jwt-attacks.header-keys",
            "jwt-attacks.kid",
        ],
    ),
    Fault(
        name="hmac-with-public-key",
        description=(
            "The LMS API verifies HS* tokens that fail with the shared secret against the public RSA key's "
            "PEM as the HMAC key (the RS/HS key-confusion bug)."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.key-confusion"],
    ),
    Fault(
        name="header-jwk-honoured",
        description="The LMS API verifies a JWT with the key embedded in its own jwk header.",
        area="jwt-attacks",
        catches=["jwt-attacks.header-keys"],
    ),
    Fault(
        name="kid-file-lookup",
        description=(
            "The LMS API loads the HMAC key of a token from a file named by its kid, unsanitised "
            "(kid ../../dev/null gives an empty key)."
        ),
        area="jwt-attacks",
        catches=["jwt-attacks.kid"],
    ),
    # ---- revocation --------------------------------------------------------------------------------
    Fault(
        name="bearer-lookup-cached",
        description=(
            "The LMS API caches opaque token lookups for 5 minutes: a revoked token keeps working "
            "until the cache entry expires."
        ),
        area="revocation",
        catches=["revocation.opaque.revoked"],
    ),
    Fault(
        name="refresh-revoke-keeps-refresh",
        description=(
            "Revoking a refresh token revokes only the access token issued with it: the refresh token "
            "still refreshes."
        ),
        area="revocation",
        catches=["revocation.refresh-token.revoked"],
    ),
    Fault(
        name="revoke-requires-hint",
        description=(
            "The revocation endpoint refuses requests without token_type_hint (400 invalid_request), "
            "though RFC 7009 makes the hint optional."
        ),
        area="revocation",
        catches=["revocation.unknown-token", "revocation.jwt.not-revocable"],
    ),
    Fault(
        name="revoke-missing-token-ok",
        description="The revocation endpoint answers 200 to a request without a token parameter.",
        area="revocation",
        catches=["revocation.request.malformed"],
    ),
    # ---- accounts: users and applications the LMS must refuse -------------------------------------
    Fault(
        name="email-verified-always-true",
        description=(
            "The JWT builder fills email_verified from 'has an email address' instead of the user's "
            "activation (is_active): an unactivated learner's token claims a verified address."
        ),
        area="accounts",
        catches=["accounts.inactive-user.email-not-verified"],
    ),
    Fault(
        name="disabled-by-is-active",
        description=(
            "A learner is 'disabled' in Django admin by unticking Active instead of with the support "
            "tool (which makes the password unusable): the platform signs inactive users in, and their "
            "Bearer tokens work on the account APIs."
        ),
        area="accounts",
        catches=["accounts.disabled-user.no-password-grant", "accounts.disabled-user.no-refresh"],
    ),
    Fault(
        name="disabled-user-still-refreshing",
        description=(
            "The LMS's Bearer authentication lacks the check for users disabled by support (unusable "
            "password): a disabled user's refresh token still yields a token the APIs honour."
        ),
        area="accounts",
        catches=["accounts.disabled-user.no-refresh"],
    ),
    Fault(
        name="restricted-token-accepted",
        description=(
            "A settings override rebuilt MIDDLEWARE without edx-drf-extensions' "
            "EnsureJWTAuthSettingsMiddleware, so views no longer get NotJwtRestrictedApplication: a "
            "RestrictedApplication's JWT is accepted where it has no scope."
        ),
        area="accounts",
        catches=["accounts.restricted-client.refused"],
    ),
    Fault(
        name="deleted-client-still-authenticates",
        description=(
            "Client ids DOT does not know fall back to a legacy client table (DOP's, kept after the "
            "migration to DOT) that still lists a deleted application: its credentials get tokens."
        ),
        area="accounts",
        catches=["accounts.deleted-client.no-token"],
    ),
    Fault(
        name="grant-type-not-enforced",
        description=(
            "A custom OAuth validator lets 'trusted' applications use any grant: an application moved to "
            "authorization code still gets client-credentials tokens, and a client-credentials client "
            "may use the password grant."
        ),
        area="accounts",
        catches=["accounts.changed-grant.no-token", "token-endpoint.grant-type.not-allowed-for-client"],
    ),
    # ---- the web server in front of the LMS -------------------------------------------------------
    Fault(
        name="api-authorization-dropped",
        description=(
            "The front server drops the Authorization header of /api/ requests (Apache mod_wsgi without "
            "WSGIPassAuthorization On, or a proxy cache rule): tokens are issued, and every API answers "
            "that no credentials were provided."
        ),
        area="resources",
        catches=["resources.jwt.accepted", "resources.bearer.accepted"],
        collateral={
            **{
                check_id: _BASELINE
                for check_id in (
                    "jwt-attacks.tampered-payload",
                    "jwt-attacks.bad-signature",
                    "jwt-attacks.alg-none",
                    "jwt-attacks.key-confusion",
                    "jwt-attacks.header-keys",
                    "jwt-attacks.kid",
                )
            },
            "revocation.opaque.revoked": "its baseline (the token works before it is revoked) fails first",
            "accounts.restricted-client.refused": (
                "the restricted JWT never reaches the API: 401, not NotJwtRestrictedApplication's 403"
            ),
        },
    ),
    Fault(
        name="token-path-slash-stripped",
        description=(
            "A 'strip trailing slashes' rewrite in the front server (nginx rewrite ^/(.*)/$ /$1 "
            "permanent) answers POST /oauth2/access_token/ with a 301: clients configured with the "
            "slash follow it as a GET and get no token."
        ),
        area="token-endpoint",
        catches=["token-endpoint.path.no-redirect"],
    ),
)

# Collateral of earlier faults on the accounts and token-path checks (one block, for easy merging).
_ERROR_AS_200 = "its refusal comes as HTTP 200 (the error body kept)"
LATER_COLLATERAL: dict[str, dict[str, str]] = {
    "error-as-200": {
        check_id: _ERROR_AS_200
        for check_id in (
            "accounts.disabled-user.no-password-grant",
            "accounts.deleted-client.no-token",
            "accounts.changed-grant.no-token",
            "token-endpoint.path.no-redirect",
        )
    },
    "bad-password-invalid-client": {
        "accounts.disabled-user.no-password-grant": "the disabled user's former password is refused as "
        "invalid_client, not invalid_grant",
    },
    "invalid-client-400": {
        "accounts.deleted-client.no-token": "the deleted application's credentials (sent with HTTP Basic) "
        "are refused with 400, not 401",
    },
    "unsupported-for-unauthorized-client": {
        "accounts.changed-grant.no-token": "the grant the application lost is refused as "
        "unsupported_grant_type, not unauthorized_client",
    },
    "authorization-header-stripped": {
        "accounts.restricted-client.refused": "the restricted application authenticates with HTTP Basic, "
        "which never arrives",
    },
    "clock-ahead": {
        "accounts.restricted-client.refused": "the restricted JWT's iat is in the future: the API refuses it "
        "with 401 before its permission's 403",
    },
    "anonymous-allowed": {
        "accounts.restricted-client.refused": "the API lets every request through, the restricted JWT too",
    },
    "scheme-agnostic-auth": {
        "accounts.restricted-client.refused": "the convenience class authenticates the restricted JWT "
        "outside edx-drf-extensions' JwtAuthentication, and the API lets it through",
    },
}
FAULTS = tuple(
    replace(fault, collateral=fault.collateral | LATER_COLLATERAL.get(fault.name, {})) for fault in FAULTS
)

BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are not faults, in the order given."""
    return [name for name in names if name not in BY_NAME]


def active_faults() -> frozenset[str]:
    """The faults this service process was started with (they travel in its run-time config)."""
    from conformance.reference.runtime import current

    return frozenset(current().faults)


def is_active(name: str) -> bool:
    if name not in BY_NAME:
        raise KeyError(f"unknown fault {name!r}")
    return name in active_faults()


def as_json_table() -> list[dict[str, Any]]:
    return [fault.as_dict() for fault in FAULTS]
