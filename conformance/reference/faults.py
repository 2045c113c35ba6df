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

# Check ids that no fault of the reference instance can make fail, and why.
UNKILLABLE: dict[str, str] = {
    "transport.tls.certificate": "a certificate that does not verify makes the instance unreachable for "
    "every client: the run stops at its reachability probe with exit 3 naming the certificate error "
    "(fault tls-cert-expired), before any check runs",
    "jwt.rfc9068.profile": "runs only in profile mode rfc9068; an Open edX LMS issues no RFC 9068 "
    "tokens (no typ at+jwt, client_id or jti), so that mode fails on a clean instance too",
    "authorization-code.redirect-uri.https": "runs only against an https LMS: needs the TLS reference "
    "(reference serve --tls, branch h/tls)",
    "jwt-cookies.flags.secure": "runs only against an https LMS (cookies are Secure only there): needs "
    "the TLS reference (reference serve --tls, branch h/tls)",
}

# Collateral reasons used by several faults.
_BASELINE = "its baseline (the genuine token is accepted at the probe) fails first"
_SHARED_JWT = "it uses the run's shared default JWT, which the fault stops the endpoint issuing"
_REFUSED_ANYWAY = "it sends the default JWT, which the fault makes the LMS API refuse under any scheme name"
_SHARED_BODY = "it uses a token requested with credentials in the body, which the fault refuses"
_SHARED_RS = "it uses the run's shared RS512 token, which the fault stops the endpoint issuing"
_SERVICE_BASELINE = "its baseline (the genuine tokens are accepted at the service) fails first"
_ERROR_AS_200 = "its no-token verdict needs an error status, and the fault answers errors with 200"
_BODY_EXCHANGE = (
    "the services' code exchange sends the client credentials in the body, which the fault ignores"
)
_NO_COOKIES = "it reads the JWT cookies of the login, which the fault does not set"
_NO_CODE = "it needs an authorization code for the registered redirect URI, which the fault prevents"


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    area: str
    catches: list[str] = field(default_factory=list)
    collateral: dict[str, str] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    rate_limit: str | None = None
    # The fault lives in the TLS front: the instance is started with `serve --tls`.
    tls: bool = False
    # The fault makes the instance unreachable for every client (a certificate that does not
    # verify): the run must stop at its probe with exit 3 and a message holding this text.
    unreachable: str = ""
    # The cause the run must name first (summary.json `causes`, conformance._lib.causes): a failed
    # control, an edge diagnosis, a mismatch, or `check:<id>`. Empty: the first of `catches`.
    cause: str = ""

    @property
    def expected_cause(self) -> str:
        if self.cause or self.unreachable:
            return self.cause
        return f"check:{self.catches[0]}" if self.catches else ""

    def as_dict(self) -> dict[str, Any]:
        """What ``list-faults --format json`` prints for the fault: enough to reproduce its run
        (``reference serve --fault NAME --rate-limit RATE``, then the suite with the profile
        overlay merged into the instance's profile.toml)."""
        return {
            "name": self.name,
            "description": self.description,
            "area": self.area,
            "catches": list(self.catches),
            "collateral": dict(self.collateral),
            # Keys merged into the generated profile.toml (tables merge key by key).
            "profile_overlay": dict(self.profile),
            # The token endpoint's rate for the fault's run; null: the matrix's generous rate.
            "rate_limit": self.rate_limit,
            # The cause the run names first (summary.json causes[0].id).
            "cause": self.expected_cause,
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
        catches=[
            "jwt.claims.iss",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
    ),
    Fault(
        name="issuer-https-scheme",
        description=(
            "JWT_ISSUER says https while the LMS is served over http (Tutor's ENABLE_HTTPS flipped, or a TLS "
            "proxy without X-Forwarded-Proto): only the scheme of iss differs from what services trust."
        ),
        area="jwt",
        catches=[
            "jwt.claims.iss",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
    ),
    Fault(
        name="wrong-audience",
        description=(
            "JWT_AUDIENCE is left at the platform default 'change-me' on the LMS (signing and its own "
            "JWT_ISSUERS) while other services expect 'openedx'."
        ),
        area="jwt",
        catches=[
            "jwt.claims.aud",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
    ),
    Fault(
        name="asymmetric-jwt-ignored",
        description=(
            "The token view ignores the asymmetric_jwt parameter: every JWT is HS256, also when RS512 was "
            "asked for."
        ),
        area="jwt",
        catches=["jwt.header.alg", "key-rotation.lms.signing-key"],
        collateral={"jwt.profile-keys.jwks": "the instance issues no RS512 token to verify jwt.jwks with"},
    ),
    Fault(
        name="signing-key-not-published",
        description=(
            "A rotated RS512 signing key is in the LMS's settings but not in the published JWK set that the "
            "profile and the other services use (they still hold the old key)."
        ),
        area="jwt",
        # The LMS accepts its own tokens: from outside, its public set and the profile's are stale.
        catches=[
            "jwt-cookies.jwt.conformant",
            "jwt.profile-keys.jwks",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "key-rotation.lms.signing-key",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
    ),
    Fault(
        name="kid-not-in-jwks",
        description=(
            "JWT_AUTH_ADD_KID_HEADER is on and the private signing JWK carries kid 'openedx-2025' while the "
            "public set publishes the same key under kid 'openedx'."
        ),
        area="jwt",
        catches=[
            "jwt.signature.verifies",
            "jwt.header.kid",
            "key-rotation.lms.kid",
            "jwt-cookies.jwt.conformant",
        ],
    ),
    Fault(
        name="clock-ahead",
        description=(
            "The LMS host's clock runs 5 minutes fast: iat and exp of every JWT are in the future, and "
            "resource servers with a correct clock (the LMS's own API included) refuse them."
        ),
        area="jwt",
        catches=[
            "jwt.claims.times",
            "resources.jwt.accepted",
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.lms.accepts-cookies",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={
            "resources.jwt.scheme-case": _REFUSED_ANYWAY,
            "services.forged.refused": _SERVICE_BASELINE,
            "jwt-attacks.tampered-payload": _BASELINE,
            "jwt-attacks.bad-signature": _BASELINE,
            "jwt-attacks.alg-none": _BASELINE,
            "jwt-attacks.key-confusion": _BASELINE,
            "jwt-attacks.header-keys": _BASELINE,
            "jwt-attacks.kid": _BASELINE,
            "jwt-attacks.expired": _BASELINE,
            "resources.jwt.wrong-audience": _BASELINE,
            "resources.jwt.wrong-issuer": _BASELINE,
        },
    ),
    Fault(
        name="exp-from-opaque-lifetime",
        description=(
            "The JWT's exp is taken from the underlying DOT access token (iat + 36000) while the response "
            "says expires_in 3600."
        ),
        area="jwt",
        catches=["jwt.claims.lifetime", "key-rotation.retired-key.lifetime"],
    ),
    Fault(
        name="missing-openedx-claims",
        description="JWTs lack the Open edX claims version and filters (an outdated custom JWT builder).",
        area="jwt",
        catches=[
            "jwt.structure.compact-jws",
            "jwt.claims.openedx",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
        ],
    ),
    Fault(
        name="sub-is-username",
        description="The sub claim is the username instead of the anonymous user id.",
        area="jwt",
        catches=[
            "jwt.structure.compact-jws",
            "jwt.claims.openedx",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
        ],
    ),
    Fault(
        name="grant-type-underscore",
        description=(
            "The grant_type claim is the request's grant type with an underscore (client_credentials) "
            "instead of the application's (client-credentials)."
        ),
        area="jwt",
        catches=["jwt.structure.compact-jws", "jwt.claims.openedx", "authorization-code.exchange.token"],
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
        catches=["jwt.jwks.public-only", "key-rotation.jwks.keys"],
    ),
    Fault(
        name="rsa-1024-key",
        description="The RS512 signing key is a 1024-bit RSA key (made with an old openssl genrsa default).",
        area="jwt",
        catches=["jwt.jwks.rsa-2048", "key-rotation.jwks.keys"],
    ),
    Fault(
        name="jwks-duplicate-kid",
        description=(
            "A key rotation added the new key to the JWK set under the old key's kid: two keys share kid "
            "'openedx'."
        ),
        area="jwt",
        catches=["jwt.jwks.distinct-kids", "key-rotation.jwks.keys"],
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
        catches=[
            "response-schema.cache-control.no-store",
            "response-schema.pragma.no-cache",
            "response-schema.cache-control.error-no-store",
            "response-schema.pragma.error-no-cache",
        ],
    ),
    Fault(
        name="no-pragma",
        description="Token responses lack Pragma: no-cache only (a proxy strips HTTP/1.0 headers).",
        area="response-schema",
        catches=["response-schema.pragma.no-cache", "response-schema.pragma.error-no-cache"],
    ),
    Fault(
        name="expires-in-string",
        description='Token responses send expires_in as a JSON string ("3600") instead of a number.',
        area="response-schema",
        catches=[
            "response-schema.token.schema",
            "response-schema.expires-in.value",
            "jwt.claims.lifetime",
            "authorization-code.exchange.token",
        ],
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
        catches=[
            "response-schema.token-type.value",
            "token-endpoint.token-type.case-insensitive",
            "authorization-code.exchange.token",
        ],
    ),
    Fault(
        name="scope-as-list",
        description="Token responses give scope as a JSON list instead of a space-delimited string.",
        area="response-schema",
        catches=[
            "response-schema.token.schema",
            "response-schema.scope.default",
            "jwt.claims.openedx",
            "authorization-code.exchange.token",
        ],
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
        catches=["response-schema.expires-in.value", "key-rotation.retired-key.lifetime"],
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
        catches=["response-schema.access-token.unique"],
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
            "token-endpoint.password.bad-credentials",
            "token-endpoint.refresh.rotation",
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.client.unknown",
            "bad-credentials.secret.variant",
            "bad-credentials.secret.variant-basic",
            "response-schema.error.schema",
            "revocation.refresh-token.revoked",
        ],
        collateral={
            "authorization-code.code.bound": _ERROR_AS_200,
            "authorization-code.code.single-use": _ERROR_AS_200,
            "authorization-code.pkce.enforced": _ERROR_AS_200,
        },
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
        catches=["token-endpoint.password.bad-credentials"],
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
                "resources.jwt.scheme-case",
                "jwt-cookies.lms.mismatched-refused",
                "jwt-cookies.services.mismatched-refused",
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
                "resources.jwt.wrong-audience",
                "resources.jwt.wrong-issuer",
                "resources.scheme.mismatch",
                "resources.services.accept-jwt",
                "services.genuine.accepted",
                "services.forged.refused",
                "services.audience.checked",
                "services.issuer.checked",
                "services.expiry.checked",
                "key-rotation.retired-key.lifetime",
                "jwt.profile-keys.hs256-secret",
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
        catches=["token-endpoint.client-credentials.body-auth", "authorization-code.exchange.token"],
        collateral={
            check_id: _SHARED_BODY
            for check_id in (
                "token-endpoint.token-type.default-bearer",
                "response-schema.token.schema",
                "response-schema.token-type.value",
                "response-schema.expires-in.value",
                "response-schema.refresh-token.absent",
                "response-schema.access-token.syntax",
                "response-schema.access-token.unique",
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
                "services.genuine.accepted",
                "services.forged.refused",
                "key-rotation.lms.signing-key",
                "key-rotation.lms.kid",
                "key-rotation.retired-key.lifetime",
                "jwt.claims.times",
                "jwt.claims.openedx",
                "jwt.claims.scope-dependent",
                "jwt.profile-keys.jwks",
            )
        }
        | {"revocation.unknown-token": "the revocation request authenticates with body credentials too"}
        | {
            "authorization-code.code.single-use": _BODY_EXCHANGE,
            "authorization-code.pkce.s256": _BODY_EXCHANGE,
        },
    ),
    # ---- bad-credentials: client authentication ----------------------------------------------------
    Fault(
        name="secret-prefix",
        description=(
            "Client secrets are compared by prefix: any non-empty prefix of the real secret authenticates "
            "the client (a truncating comparison bug)."
        ),
        area="bad-credentials",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    Fault(
        name="secret-case-insensitive",
        description="Client secrets are compared case-insensitively (a collation or .lower() bug).",
        area="bad-credentials",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    Fault(
        name="secret-whitespace-stripped",
        description="Submitted client secrets are stripped of surrounding whitespace before comparison.",
        area="bad-credentials",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    Fault(
        name="secret-empty-accepted",
        description=(
            'An empty client_secret ("") authenticates a confidential client (a blank-means-unset check '
            "written the wrong way round)."
        ),
        area="bad-credentials",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    Fault(
        name="secret-any-accepted",
        description="Client authentication checks only the client id: any secret obtains a token.",
        area="bad-credentials",
        catches=[
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.secret.variant",
            "bad-credentials.secret.variant-basic",
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
        catches=[
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
    ),
    Fault(
        name="discovery-secret-divergence",
        description=(
            "The discovery service's JWT_ISSUERS[0].SECRET_KEY differs from the LMS's JWT_SECRET_KEY: it "
            "refuses HS256 JWTs and accepts RS512 ones."
        ),
        area="resources",
        catches=["resources.services.accept-jwt", "services.genuine.accepted"],
        collateral={"services.forged.refused": _SERVICE_BASELINE},
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
            "resources.jwt.scheme-case": _REFUSED_ANYWAY,
            "jwt-attacks.tampered-payload": _BASELINE,
            "jwt-attacks.bad-signature": _BASELINE,
            "jwt-attacks.alg-none": _BASELINE,
            "jwt-attacks.expired": _BASELINE,
            "resources.jwt.wrong-audience": _BASELINE,
            "resources.jwt.wrong-issuer": _BASELINE,
        },
    ),
    Fault(
        name="aud-not-verified",
        description=(
            "The LMS API's JWT decoder does not verify the audience (JWT_VERIFY_AUDIENCE off, honoured at "
            "the signature step too): tokens minted for another audience are accepted."
        ),
        area="resources",
        catches=["resources.jwt.wrong-audience"],
    ),
    Fault(
        name="anonymous-allowed",
        description="The probe API's permission is AllowAny: a request without credentials gets 200.",
        area="resources",
        catches=[
            "resources.no-credentials.refused",
            "resources.query-token.refused",
            "jwt-cookies.lms.mismatched-refused",
        ],
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
            "jwt-cookies.lms.mismatched-refused",
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
    # ---- transport: the TLS front of `serve --tls` (where Caddy or the operator's proxy lives) -----
    Fault(
        name="tls-cert-expired",
        description=(
            "The front's certificate expired yesterday (its renewal failed unnoticed): no client that "
            "verifies certificates can talk to the LMS."
        ),
        area="transport",
        tls=True,
        unreachable="certificate has expired",
    ),
    Fault(
        name="tls-cert-expiring",
        description=(
            "The front's certificate expires in 10 days: the renewal Caddy attempts with 30 days left "
            "has been failing for three weeks."
        ),
        area="transport",
        catches=["transport.tls.certificate-expiry"],
        tls=True,
    ),
    Fault(
        name="tls-legacy-accepted",
        description=(
            "The front also accepts TLS 1.0 and 1.1 (an old protocol list kept in the proxy's "
            "configuration, OpenSSL at security level 0)."
        ),
        area="transport",
        catches=["transport.tls.version"],
        tls=True,
    ),
    Fault(
        name="no-hsts",
        description=(
            "The front sends no Strict-Transport-Security header: Tutor's stock Caddyfile, to which "
            "nobody added one (Caddy sends none by itself)."
        ),
        area="transport",
        catches=["transport.hsts"],
        tls=True,
    ),
    Fault(
        name="plain-http-token-endpoint",
        description=(
            "Plain http is proxied to the LMS instead of redirected to https: the token endpoint "
            "answers OAuth, and would issue tokens, over http."
        ),
        area="transport",
        catches=["transport.plain-http.no-token"],
        tls=True,
    ),
    Fault(
        name="issuer-http-behind-tls",
        description=(
            "ENABLE_HTTPS left false behind a TLS front: every service's JWT issuer is "
            "http://<host>/oauth2 while the LMS is served, and named in the profile, over https."
        ),
        area="transport",
        catches=[
            "transport.https.token-endpoint",
            "jwt.claims.iss",
            "authorization-code.exchange.token",
            "jwt-cookies.jwt.conformant",
        ],
        tls=True,
    ),
    # ---- resources: a proxy in front of the API ------------------------------------------------------
    Fault(
        name="gateway-scheme-case-sensitive",
        description=(
            "A proxy in front of the LMS API forwards the Authorization header only when its scheme is "
            "spelt exactly JWT or Bearer (a case-sensitive rule): 'jwt <token>' arrives without "
            "credentials."
        ),
        area="resources",
        catches=["resources.jwt.scheme-case"],
    ),
    # ---- services: another Open edX service's own JWT settings (the reference discovery service) --
    Fault(
        name="discovery-aud-not-verified",
        description=(
            "The discovery service runs an edx-drf-extensions older than 8.8.0 (pyjwkest verified the "
            "signature only) with JWT_VERIFY_AUDIENCE: False, as course-discovery's and ecommerce's "
            "settings have it: tokens minted for another audience are accepted. On the pinned 10.6.0 the "
            "setting alone changes nothing (aud is checked at the signature step): the clean instance has it."
        ),
        area="services",
        catches=["services.audience.checked"],
    ),
    Fault(
        name="discovery-accept-expired",
        description=(
            "The discovery service runs an edx-drf-extensions older than 8.8.0 with JWT_VERIFY_EXPIRATION: "
            "False: expired tokens are accepted (from 8.8.0 exp is checked at the signature step). With "
            "the stock JWT_VERIFY_AUDIENCE: False that old library ignores aud too."
        ),
        area="services",
        catches=["services.expiry.checked", "services.audience.checked"],
    ),
    Fault(
        name="discovery-accept-alg-none",
        description=(
            "The discovery service's JWT decode handler lets unsigned tokens (alg: none) through to the "
            "claims checks."
        ),
        area="services",
        catches=["services.forged.refused"],
    ),
    Fault(
        name="discovery-iss-not-checked",
        description=(
            "The discovery service's own JWT_DECODE_HANDLER verifies the signature, aud and exp like "
            "edx-drf-extensions but skips its issuer check (iss must equal some JWT_ISSUERS entry): a token "
            "any holder of the key signs for any issuer is accepted."
        ),
        area="services",
        catches=["services.issuer.checked"],
    ),
    Fault(
        name="discovery-second-issuer-first",
        description=(
            "The discovery service's JWT_ISSUERS lists another issuer (an old LMS domain, its own secret) "
            "before the LMS's: edx-drf-extensions verifies HS256 with the first entry's SECRET_KEY only, so "
            "the LMS's HS256 tokens are refused and its RS512 tokens accepted."
        ),
        area="services",
        catches=["services.genuine.accepted", "resources.services.accept-jwt"],
        collateral={"services.forged.refused": _BASELINE},
    ),
    Fault(
        name="discovery-missing-signing-key",
        description=(
            "The discovery service's JWT_PUBLIC_SIGNING_JWK_SET holds only a retired key, not the one the "
            "LMS signs with (a rotation that skipped a service): its RS512 tokens are refused."
        ),
        area="services",
        catches=[
            "services.genuine.accepted",
            "resources.services.accept-jwt",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={"services.forged.refused": _BASELINE},
    ),
    # ---- key-rotation: the LMS's signing key and the sets over time -------------------------------
    Fault(
        name="private-jwk-missing-crt",
        description=(
            "JWT_PRIVATE_SIGNING_JWK lacks dp, dq and qi (as Tutor rendered it before v17): PyJWT refuses it "
            "(InvalidKeyError), so every RS512 token request (and every login, on the platform) fails with "
            "HTTP 500 while HS256 tokens are still issued."
        ),
        area="key-rotation",
        catches=["key-rotation.lms.signing-key", "jwt.signature.verifies", "resources.jwt.accepted"],
        collateral={
            check_id: _SHARED_RS
            for check_id in (
                "jwt-attacks.alg-none",
                "jwt-attacks.bad-signature",
                "jwt-attacks.header-keys",
                "jwt-attacks.key-confusion",
                "jwt-attacks.kid",
                "jwt-attacks.tampered-payload",
                "jwt.claims.aud",
                "jwt.claims.iss",
                "jwt.claims.lifetime",
                "jwt.claims.times",
                "jwt.header.alg",
                "jwt.header.kid",
                "jwt.structure.compact-jws",
                "key-rotation.lms.kid",
                "key-rotation.retired-key.lifetime",
                "resources.services.accept-jwt",
                "response-schema.token.schema",
                "services.forged.refused",
                "services.genuine.accepted",
            )
        },
    ),
    # ---- the profile's key material: positive controls -------------------------------------------
    # Each pairs a stale key in the operator's hands with a resource bug that only tokens made with
    # the right key could show: the dependent checks must be "not verified", never passed, and the
    # profile problem reported once.
    Fault(
        name="hs256-secret-stale",
        description=(
            "JWT_SECRET_KEY was rotated across the deployment but the secret handed to the operator "
            "(the profile's jwt.hs256_secret) is the old one; and the LMS API's JWT decoder checks "
            "neither aud nor exp (JWT_VERIFY_AUDIENCE and JWT_VERIFY_EXPIRATION off)."
        ),
        area="jwt",
        catches=["jwt.profile-keys.hs256-secret"],
        collateral={
            check: "the sign-in JWTs' signature is checked with the profile's key, which this fault makes "
            "stale (the profile-keys check names it)"
            for check in ("authorization-code.exchange.token", "jwt-cookies.jwt.conformant")
        },
    ),
    Fault(
        name="jwks-stale",
        description=(
            "The RS512 signing key was rotated across the deployment but the JWK set handed to the "
            "operator (the profile's jwt.jwks) holds the old key; and the LMS API verifies HS* tokens "
            "with its public RSA key as the HMAC key (the key-confusion bug)."
        ),
        area="jwt",
        catches=["jwt.profile-keys.jwks", "key-rotation.lms.signing-key"],
        collateral={
            check: "the sign-in JWTs' signature is checked with the profile's key, which this fault makes "
            "stale (the profile-keys check names it)"
            for check in ("authorization-code.exchange.token", "jwt-cookies.jwt.conformant")
        },
    ),
    # ---- checks split so that each failure names one requirement ---------------------------------
    Fault(
        name="iss-not-verified",
        description=(
            "The LMS API's JWT decoder only logs an issuer that is not in JWT_ISSUERS: validly signed "
            "tokens naming any issuer are accepted."
        ),
        area="resources",
        catches=["resources.jwt.wrong-issuer"],
    ),
    Fault(
        name="revoke-on-get",
        description=(
            "A wrapper around the revocation view answers GET with 200, like an empty successful "
            "revocation, instead of 405."
        ),
        area="revocation",
        catches=["revocation.method.post-only"],
    ),
    Fault(
        name="jwks-single-key",
        description=(
            "The public key handed to the operator (the profile's jwt.jwks) is a single JWK, not a JWK "
            'set ({"keys": [...]}) as JWT_PUBLIC_SIGNING_JWK_SET is.'
        ),
        area="jwt",
        catches=["jwt.jwks.well-formed", "key-rotation.jwks.keys"],
    ),
    Fault(
        name="isalnum-token-alphabet",
        description=(
            "A custom ACCESS_TOKEN_GENERATOR draws opaque tokens from the characters str.isalnum() "
            "accepts over Latin-1: tokens carry characters such as 'é' that are not VSCHAR and that "
            "no Authorization header can hold."
        ),
        area="response-schema",
        catches=["response-schema.access-token.syntax", "response-schema.token.schema"],
        collateral={
            check_id: "it sends the opaque token in an Authorization header, which cannot hold it"
            for check_id in (
                "resources.bearer.accepted",
                "resources.scheme.mismatch",
                "revocation.opaque.revoked",
            )
        },
    ),
    Fault(
        name="rotation-key-not-published",
        description=(
            "Mid-rotation (phase 1): the new private key exists (the profile's jwt.rotation_key) but its "
            "public half was added to no JWT_PUBLIC_SIGNING_JWK_SET: switching the LMS now would break "
            "every service."
        ),
        area="key-rotation",
        catches=[
            "key-rotation.preflight.new-key",
            "key-rotation.preflight.lms",
            "key-rotation.preflight.service",
        ],
    ),
    Fault(
        name="discovery-missing-next-key",
        description=(
            "Mid-rotation (phase 1): the new public key is in the LMS's and the published set but not in the "
            "discovery service's JWT_PUBLIC_SIGNING_JWK_SET."
        ),
        area="key-rotation",
        catches=["key-rotation.preflight.service"],
    ),
    # ---- authorization-code: the SSO clients' sign-in (DOT's authorization view and validator) ----
    Fault(
        name="sso-redirect-uri-other-scheme",
        description=(
            "The SSO application's redirect URI was registered with the other scheme (Tutor's init ran "
            "before ENABLE_HTTPS changed): the service's real redirect URI gets 'Mismatching redirect "
            "URI.'. On an https LMS this is the http URI registered under https."
        ),
        area="authorization-code",
        catches=["authorization-code.redirect-uri.registered"],
        collateral={
            "authorization-code.redirect-uri.unregistered-refused": "its other-scheme case is now "
            "the registered URI, which the LMS rightly redirects to",
            "authorization-code.state.preserved": _NO_CODE,
            "authorization-code.exchange.token": _NO_CODE,
            "authorization-code.code.single-use": _NO_CODE,
            "authorization-code.code.bound": _NO_CODE,
            "authorization-code.pkce.enforced": _NO_CODE,
            "authorization-code.pkce.s256": _NO_CODE,
        },
    ),
    Fault(
        name="redirect-uri-prefix-match",
        description=(
            "The OAuth validator accepts any redirect URI that starts with a registered one (an override "
            "meant to allow sub-paths): an open redirect that leaks codes to any path on the host."
        ),
        area="authorization-code",
        catches=["authorization-code.redirect-uri.unregistered-refused"],
    ),
    Fault(
        name="authorization-code-reusable",
        description=(
            "The validator never deletes an exchanged grant (invalidate_authorization_code is a no-op): "
            "the same code is exchanged again for new tokens."
        ),
        area="authorization-code",
        catches=["authorization-code.code.single-use"],
    ),
    Fault(
        name="pkce-ignored",
        description=(
            "The validator never returns the stored code_challenge (get_code_challenge overridden): a "
            "code requested with PKCE is exchanged without, or with any, code_verifier."
        ),
        area="authorization-code",
        catches=["authorization-code.pkce.enforced"],
    ),
    Fault(
        name="authorize-state-dropped",
        description=(
            "An authorization-view override rebuilds the redirect as redirect_uri?code=...: the client's "
            "state (its CSRF protection) and the redirect URI's own query are dropped."
        ),
        area="authorization-code",
        catches=["authorization-code.state.preserved", "authorization-code.redirect-uri.extra-query"],
    ),
    # ---- jwt-cookies: the micro-frontends' cookies (user_authn cookies, services' middleware) -------
    Fault(
        name="jwt-cookie-not-httponly",
        description=(
            "set_logged_in_cookies sets edx-jwt-cookie-signature without HttpOnly: any script on the LMS "
            "origin (an XSS) reads a whole JWT."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.flags.httponly"],
    ),
    Fault(
        name="jwt-cookie-domain-narrow",
        description=(
            "SHARED_COOKIE_DOMAIN names a host the MFEs are not served from ('localhost' while LMS and "
            "MFEs are on 127.0.0.1; in production: lms.example.org with MFEs on apps.example.org)."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.domain.covers-mfe"],
    ),
    Fault(
        name="jwt-cookie-samesite-none-insecure",
        description=(
            "The JWT cookies are set with SameSite=None (copied from Tutor's https settings) but without "
            "Secure (request.is_secure() is false behind a TLS proxy whose X-Forwarded-Proto is not "
            "trusted, or plain http): browsers drop them. Meant for the https reference; it shows on "
            "the http one too."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.flags.samesite"],
    ),
    Fault(
        name="discovery-no-jwt-cookie-middleware",
        description=(
            "The discovery service's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the "
            "MFEs' two cookies are never reassembled there, and their calls are anonymous (401)."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.services.accept-cookies"],
    ),
    Fault(
        name="implicit-grant-for-sso",
        description=(
            "The validator lets every application use every response_type: response_type=token gives "
            "the SSO client an access token in the redirect's fragment (the implicit grant)."
        ),
        area="authorization-code",
        catches=["authorization-code.response-type.refused"],
    ),
    Fault(
        name="code-redirect-uri-not-confirmed",
        description=(
            "The validator never compares the redirect_uri of the code exchange with the one the code "
            "was issued for (confirm_redirect_uri always true)."
        ),
        area="authorization-code",
        catches=["authorization-code.code.bound"],
    ),
    Fault(
        name="pkce-method-lost",
        description=(
            "The grant's code_challenge_method is lost (read back as plain): an S256 challenge is "
            "compared with the verifier itself, and the right verifier is refused."
        ),
        area="authorization-code",
        catches=["authorization-code.pkce.s256"],
    ),
    Fault(
        name="jwt-cookies-not-set",
        description=(
            "Login and /login_refresh set no JWT cookies (JWT_AUTH['JWT_LOGIN_CLIENT_ID'] names no "
            "application): MFEs find the user signed in but hold no JWT."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.login.set", "jwt-cookies.refresh.renews"],
        collateral={
            "jwt-cookies.flags.httponly": _NO_COOKIES,
            "jwt-cookies.flags.samesite": _NO_COOKIES,
            "jwt-cookies.domain.covers-mfe": _NO_COOKIES,
            "jwt-cookies.jwt.conformant": _NO_COOKIES,
            "jwt-cookies.lms.accepts-cookies": _NO_COOKIES,
            "jwt-cookies.services.accept-cookies": _NO_COOKIES,
            "jwt-cookies.logout.clears": "logout deletes cookies that were never set; a deletion is "
            "still sent, but the check's sign-in finds no cookies first",
        },
    ),
    Fault(
        name="login-refresh-jwt-cookie-auth",
        description=(
            "/login_refresh also authenticates with the JWT cookie it refreshes: a stolen cookie pair "
            "is renewed forever without a session."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.refresh.requires-session"],
        collateral={"jwt-cookies.logout.clears": "the signed-out browser's JWT cookies still refresh"},
    ),
    Fault(
        name="lms-no-jwt-cookie-middleware",
        description=(
            "The LMS's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the MFEs' calls to "
            "the LMS API with the two cookies are anonymous (401)."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.lms.accepts-cookies"],
    ),
    Fault(
        name="discovery-cookie-payload-trusted",
        description=(
            "The discovery service takes the user from the readable header-payload cookie (as the MFEs "
            "do) without checking the signature cookie: anyone can forge a user there."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.services.mismatched-refused"],
    ),
    Fault(
        name="logout-keeps-jwt-cookies",
        description=(
            "A customised logout page flushes the session but never deletes the JWT cookies: the next "
            "user of a shared computer calls the MFEs' APIs as the previous one until the JWT expires."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.logout.clears"],
    ),
    Fault(
        name="error-content-type-text",
        description=(
            "A proxy rewrites the Content-Type of the token endpoint's 4xx answers to text/plain "
            "(the JSON body is kept)."
        ),
        area="response-schema",
        catches=["response-schema.content-type.error-json"],
    ),
    Fault(
        name="refresh-token-dropped",
        description=(
            "A token-response hook drops refresh_token from every token response (meant to make "
            "client-credentials tokens non-renewable, applied to the password grant as well)."
        ),
        area="token-endpoint",
        catches=["token-endpoint.password.grant", "token-endpoint.refresh.rotation"],
        collateral={
            "revocation.refresh-token.revoked": "the password grant returns no refresh token to revoke",
        }
        | {
            check_id: "its [refresh] case needs the password grant's refresh token, which is not returned"
            for check_id in (
                "jwt.structure.compact-jws",
                "jwt.header.alg",
                "jwt.signature.verifies",
                "jwt.claims.iss",
                "jwt.claims.aud",
                "jwt.claims.times",
                "jwt.claims.lifetime",
                "jwt.claims.openedx",
                "jwt.claims.scope-dependent",
            )
        },
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
    # Found by the merged matrix: later areas meeting earlier faults.
    "private-jwk-missing-crt": {
        check_id: "the LMS cannot sign RS512, so no login, no JWT cookie, no SSO token and no restricted "
        "client's token is issued (as every login failed on the platform)"
        for check_id in (
            "accounts.restricted-client.refused",
            "authorization-code.code.bound",
            "authorization-code.code.single-use",
            "authorization-code.exchange.token",
            "authorization-code.pkce.enforced",
            "authorization-code.pkce.s256",
            "authorization-code.redirect-uri.extra-query",
            "authorization-code.redirect-uri.registered",
            "authorization-code.redirect-uri.unregistered-refused",
            "authorization-code.response-type.refused",
            "authorization-code.state.preserved",
            "jwt-cookies.domain.covers-mfe",
            "jwt-cookies.flags.httponly",
            "jwt-cookies.flags.samesite",
            "jwt-cookies.jwt.conformant",
            "jwt-cookies.lms.accepts-cookies",
            "jwt-cookies.lms.mismatched-refused",
            "jwt-cookies.login.set",
            "jwt-cookies.login.signs-in",
            "jwt-cookies.logout.clears",
            "jwt-cookies.refresh.renews",
            "jwt-cookies.refresh.requires-session",
            "jwt-cookies.services.accept-cookies",
            "jwt-cookies.services.mismatched-refused",
            "jwt.claims.openedx",
            "jwt.claims.scope-dependent",
            "jwt.profile-keys.jwks",
        )
    },
    "isalnum-token-alphabet": {
        "accounts.disabled-user.no-refresh": "it judges the opaque token the refresh issues, whose alphabet "
        "the fault changes"
    },
    "api-authorization-dropped": {
        check_id: "its baseline (the genuine token accepted at /me) fails first: the header never arrives"
        for check_id in (
            "jwt-attacks.expired",
            "resources.jwt.scheme-case",
            "resources.jwt.wrong-audience",
            "resources.jwt.wrong-issuer",
        )
    },
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
# ---- preconditions: the flows the checks share, each broken at its layer ----------------------------
_SIGN_IN_NOTE = "it needs a signed-in session, which the fault prevents"
PRECONDITION_FAULTS: tuple[Fault, ...] = (
    Fault(
        name="login-api-missing",
        description=(
            "The login API (POST /api/user/v2/account/login_session/) is not routed: a URL conf or proxy "
            "that lacks user_authn's routes. Nobody signs in; SSO and the MFEs' cookies cannot work."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.login.signs-in"],
        cause="sign-in",
    ),
    Fault(
        name="csrf-endpoint-missing",
        description=(
            "edx-drf-extensions' CSRF token API (GET /csrf/api/v1/token) is not routed (lms/urls.py "
            "without `include('csrf.urls')`): the login page gets no token to sign in with."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.login.signs-in"],
        cause="sign-in",
    ),
    Fault(
        name="login-api-waf-403",
        description=(
            "A web application firewall in front of the LMS blocks POSTs to the login API with its own "
            "403 HTML page (a rule that treats a posted password as an attack)."
        ),
        area="jwt-cookies",
        catches=["jwt-cookies.login.signs-in"],
        cause="sign-in",
    ),
    Fault(
        name="basic-client-auth-refused",
        description=(
            "The token endpoint authenticates clients only from the form body: HTTP Basic client "
            "authentication (RFC 6749 2.3.1's MUST) is refused with 401 invalid_client."
        ),
        area="token-endpoint",
        catches=["token-endpoint.client-credentials.basic-auth"],
        cause="basic-auth",
    ),
    Fault(
        name="service-down",
        description=(
            "The discovery-like service is down behind its proxy, which answers every request with "
            "502 Bad Gateway."
        ),
        area="services",
        catches=["services.genuine.accepted", "resources.services.accept-jwt"],
        cause="service:discovery",
    ),
)
# The causes of faults listed above whose first cause is not their first catch.
CAUSES: dict[str, str] = {
    "wrong-issuer": "mismatch.issuer",
    "issuer-https-scheme": "edge.issuer-scheme",
    "issuer-http-behind-tls": "edge.issuer-scheme",
    "wrong-audience": "mismatch.audience",
    "authorization-header-stripped": "basic-auth",
    "body-credentials-ignored": "shared-token",
    "api-authorization-dropped": "edge.dropped-authorization",
    "gateway-scheme-case-sensitive": "edge.dropped-authorization",
    "error-as-200": "edge.error-status",
    "hs256-secret-stale": "profile-key.jwt.hs256_secret",
    "jwks-stale": "profile-key.jwt.jwks",
    "asymmetric-jwt-ignored": "asymmetric-token",
    "private-jwk-missing-crt": "asymmetric-token",
    "discovery-missing-signing-key": "service:discovery",
    "discovery-second-issuer-first": "service:discovery",
    "discovery-secret-divergence": "service:discovery",
    "discovery-wrong-issuer": "service:discovery",
    "signing-key-not-published": "profile-key.jwt.jwks",
    # Two findings of one fault, neither explaining the other: the one the console lists first.
    "discovery-accept-expired": "check:services.audience.checked",
    "token-on-get": "check:token-endpoint.credentials.not-in-query",
    "expires-in-mismatch": "check:jwt.claims.lifetime",
    "login-refresh-jwt-cookie-auth": "check:jwt-cookies.logout.clears",
    "grant-type-not-enforced": "check:token-endpoint.grant-type.not-allowed-for-client",
}
FAULTS = tuple(
    replace(
        fault,
        collateral=fault.collateral | LATER_COLLATERAL.get(fault.name, {}),
        cause=fault.cause or CAUSES.get(fault.name, ""),
    )
    for fault in FAULTS + PRECONDITION_FAULTS
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


# ---- advisories: each published sign-in advisory's unpatched behaviour, at its layer -------------
# (one block, appended, for easy merging; conformance/reference/lms/advisories.py holds the switches)
ADVISORY_FAULTS: tuple[Fault, ...] = (
    Fault(
        name="account-api-activation-key",
        description=(
            "An image built without the April 2026 fix (GHSA-m6rg-rp98-4crw): the account API lists "
            "activation_key in a user's own account, so a password-grant token of an unactivated "
            "account can read the key and activate it without the e-mail."
        ),
        area="advisories",
        catches=["advisories.account-api.no-activation-key"],
    ),
    Fault(
        name="logout-next-unescaped",
        description=(
            "A theme's logout.html from before the 2022 fix (CVE-2022-32195) writes the logout target "
            "into the page unescaped: a crafted next breaks out of the attribute (reflected XSS)."
        ),
        area="advisories",
        catches=["advisories.logout.next-escaped"],
    ),
    Fault(
        name="logout-open-redirect",
        description=(
            "A LogoutView from before the 2022 redirect fixes: redirect_url and next are followed "
            "without the safe-redirect test, to any host."
        ),
        area="advisories",
        catches=["advisories.logout.no-open-redirect"],
    ),
    Fault(
        name="login-open-redirect",
        description=(
            "get_next_url_for_login_page from before the 2022 redirect fixes: a signed-in user's "
            "/login?next= is followed to any host."
        ),
        area="advisories",
        catches=["advisories.login.no-open-redirect"],
    ),
    Fault(
        name="inactive-next-open-redirect",
        description=(
            "The third-party-auth inactive-user view from before the April 2022 fix: "
            "/auth/inactive?next= redirects anywhere."
        ),
        area="advisories",
        catches=["advisories.auth-inactive.no-open-redirect"],
    ),
    Fault(
        name="xblock-handler-restricted-jwt",
        description=(
            "An XBlock handler from before the January 2024 fix (CVE-2024-22209): a RestrictedApplication's "
            "JWT authenticates its owner there like any other user's."
        ),
        area="advisories",
        catches=["advisories.xblock-handler.restricted-jwt-refused"],
    ),
    Fault(
        name="user-api-cacheable",
        description=(
            "Signed-in responses of the user API carry no Cache-Control (CVE-2025-65681: Tutor <= 20.0.2): "
            "a shared cache in front may keep one learner's account data for the next."
        ),
        area="advisories",
        catches=["advisories.user-api.not-cacheable"],
    ),
    Fault(
        name="login-no-username-ratelimit",
        description=(
            "login_user without its per-username rate limit (before the 2022 rate-limiting fix): only the "
            "per-IP limit stands between a botnet and one learner's password."
        ),
        area="advisories",
        catches=["advisories.login.rate-limited-by-username"],
        profile={"options": {"login_rate_limit_probe": True, "max_requests": 400}},
    ),
    Fault(
        name="support-disable-keeps-tokens",
        description=(
            "The support tool's 'disable user' from before Tutor 14.2.3's fix retires the support person's "
            "OAuth tokens instead of the disabled user's: the user's refresh token still works, and the "
            "JWT it yields is honoured (JWT authentication does not look at disabled users)."
        ),
        area="accounts",
        catches=["accounts.disabled-user.no-refresh"],
    ),
)
# The advisories checks (and the disabled-user refresh check, which now refuses on the normal path)
# meeting earlier faults.
_NO_SIGN_IN = "the LMS cannot sign RS512, so no login (and no restricted client's token) succeeds"
ADVISORY_COLLATERAL: dict[str, dict[str, str]] = {
    "private-jwk-missing-crt": {
        check_id: _NO_SIGN_IN
        for check_id in (
            "advisories.account-api.no-activation-key",
            "advisories.login.no-open-redirect",
            "advisories.auth-inactive.no-open-redirect",
            "advisories.user-api.not-cacheable",
            "advisories.xblock-handler.restricted-jwt-refused",
        )
    },
    "error-as-200": {"accounts.disabled-user.no-refresh": _ERROR_AS_200},
    "authorization-header-stripped": {
        "advisories.xblock-handler.restricted-jwt-refused": "the restricted application authenticates with "
        "HTTP Basic, which never arrives"
    },
}
FAULTS = (
    tuple(
        replace(fault, collateral=fault.collateral | ADVISORY_COLLATERAL.get(fault.name, {}))
        for fault in FAULTS
    )
    + ADVISORY_FAULTS
)
BY_NAME = {fault.name: fault for fault in FAULTS}
