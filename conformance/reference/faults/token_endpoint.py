"""The faults of the token-endpoint area: grants, parameters, client authentication, error codes."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import (
    OAUTH,
    TOKEN,
    ErrorRewritten,
    MemberChanged,
    RequestHeaderDropped,
    Setting,
    StatusRewritten,
)
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import (
    BODY_EXCHANGE,
    DEFAULT_JWT_CHECKS,
    ERROR_AS_200,
    SHARED_BODY,
    SHARED_JWT,
    SIGNED_JWT_ATTACKS,
)

# Every fault of this module is of the token-endpoint area.
_fault = partial(Fault, area="token-endpoint")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.ERROR_AS_200,
        description=(
            "An error-normalising layer answers every OAuth error of the token endpoint with HTTP 200 and "
            "the error body."
        ),
        effects=(StatusRewritten(TOKEN, (400, 401), 200),),
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
            **dict.fromkeys(
                (
                    "authorization-code.code.bound",
                    "authorization-code.code.single-use",
                    "authorization-code.pkce.enforced",
                ),
                ERROR_AS_200,
            ),
            **dict.fromkeys(
                (
                    "accounts.disabled-user.no-password-grant",
                    "accounts.deleted-client.no-token",
                    "accounts.changed-grant.no-token",
                    "token-endpoint.path.no-redirect",
                    "accounts.disabled-user.no-refresh",
                ),
                ERROR_AS_200,
            ),
        },
        cause="edge.error-status",
    ),
    _fault(
        name=Defect.INVALID_GRANT_FOR_UNSUPPORTED,
        description=(
            "A missing or unknown grant_type is answered invalid_grant instead of unsupported_grant_type."
        ),
        effects=(ErrorRewritten(TOKEN, "unsupported_grant_type", "invalid_grant"),),
        catches=[
            "token-endpoint.grant-type.unknown",
            "token-endpoint.grant-type.missing",
            "response-schema.error.schema",
        ],
    ),
    _fault(
        name=Defect.UNKNOWN_SCOPE_500,
        description=(
            "A custom scopes backend looks every requested scope up in a dict: an unknown scope is a "
            "KeyError and an HTML 500 instead of 400 invalid_scope."
        ),
        catches=["token-endpoint.scope.unknown", "response-schema.error.schema"],
    ),
    _fault(
        name=Defect.UNSUPPORTED_FOR_UNAUTHORIZED_CLIENT,
        description=(
            "A grant type the client is not registered for is answered unsupported_grant_type instead of "
            "unauthorized_client."
        ),
        catches=["token-endpoint.grant-type.not-allowed-for-client"],
        collateral={
            "accounts.changed-grant.no-token": (
                "the grant the application lost is refused as unsupported_grant_type, not unauthorized_client"
            ),
        },
    ),
    _fault(
        name=Defect.BAD_PASSWORD_INVALID_CLIENT,
        description=(
            "Wrong user credentials in the password grant are answered 401 invalid_client instead of 400 "
            "invalid_grant."
        ),
        catches=["token-endpoint.password.bad-credentials"],
        collateral={
            "accounts.disabled-user.no-password-grant": (
                "the disabled user's former password is refused as invalid_client, not invalid_grant"
            ),
        },
    ),
    _fault(
        name=Defect.TOKEN_ON_GET,
        description=(
            "The token endpoint serves GET too, reading the grant and the client credentials from the "
            "query string."
        ),
        catches=["token-endpoint.method.post-only", "token-endpoint.credentials.not-in-query"],
        cause="check:token-endpoint.credentials.not-in-query",
    ),
    _fault(
        name=Defect.GATEWAY_NORMALISES_PARAMS,
        description=(
            "An API gateway in front of the token endpoint moves query parameters into the form body and "
            "joins repeated parameters with commas: client credentials in the URL obtain a token, and a "
            "repeated grant_type becomes 'password,client_credentials'."
        ),
        catches=["token-endpoint.credentials.not-in-query", "token-endpoint.grant-type.repeated"],
    ),
    _fault(
        name=Defect.JSON_BODY_ACCEPTED,
        description="A middleware parses JSON bodies into the form: a JSON token request gets a token.",
        catches=["token-endpoint.body.json-rejected"],
    ),
    _fault(
        name=Defect.UNKNOWN_PARAMS_REJECTED,
        description=(
            "The token endpoint refuses parameters it does not know with 400 invalid_request instead of "
            "ignoring them."
        ),
        catches=["token-endpoint.params.unknown-ignored"],
    ),
    _fault(
        name=Defect.TOKEN_TYPE_CASE_SENSITIVE,
        description="token_type is compared case-sensitively: token_type=JwT gets an opaque Bearer token.",
        catches=["token-endpoint.token-type.case-insensitive"],
    ),
    _fault(
        name=Defect.SIGNED_OPAQUE_TOKENS,
        description=(
            "ACCESS_TOKEN_GENERATOR makes JWT-shaped opaque tokens: without token_type the client gets "
            "something that looks like a JWT but is only valid as a Bearer token."
        ),
        effects=(
            Setting(
                "OAUTH2_PROVIDER",
                "conformance.reference.lms.validators.jwt_shaped_token",
                key="ACCESS_TOKEN_GENERATOR",
            ),
        ),
        catches=["token-endpoint.token-type.default-bearer"],
    ),
    _fault(
        name=Defect.NO_REFRESH_ROTATION,
        description="ROTATE_REFRESH_TOKEN is off: a refresh token keeps working after use.",
        effects=(Setting("OAUTH2_PROVIDER", False, key="ROTATE_REFRESH_TOKEN"),),
        catches=["token-endpoint.refresh.rotation"],
    ),
    _fault(
        name=Defect.GATEWAY_PATH_ALIAS,
        description=(
            "The LMS also routes the hosted gateway's /oauth2/v1/access_token to its token view "
            "(a recorded deviation only: the check is MAY, so the run still passes)."
        ),
        catches=["token-endpoint.path.gateway-v1"],
    ),
    _fault(
        name=Defect.AUTHORIZATION_HEADER_STRIPPED,
        description=(
            "The proxy in front of /oauth2/ drops the Authorization header (proxy_set_header Authorization "
            '"" left from a staging basic-auth setup): HTTP Basic client authentication never arrives.'
        ),
        effects=(RequestHeaderDropped(OAUTH, "Authorization"),),
        catches=["token-endpoint.client-credentials.basic-auth"],
        collateral={
            **dict.fromkeys(
                (
                    "token-endpoint.token-type.case-insensitive",
                    "token-endpoint.params.unknown-ignored",
                    "token-endpoint.scope.unknown",
                    "token-endpoint.grant-type.not-allowed-for-client",
                    "token-endpoint.grant-type.repeated",
                    "response-schema.error.schema",
                ),
                "its request authenticates with HTTP Basic, which never arrives: 401 invalid_client",
            ),
            **dict.fromkeys(
                (
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
                    *DEFAULT_JWT_CHECKS,
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
                ),
                SHARED_JWT,
            ),
            "accounts.restricted-client.refused": (
                "the restricted application authenticates with HTTP Basic, which never arrives"
            ),
            "advisories.xblock-handler.restricted-jwt-refused": (
                "the restricted application authenticates with HTTP Basic, which never arrives"
            ),
        },
        cause="basic-auth",
    ),
    _fault(
        name=Defect.BODY_CREDENTIALS_IGNORED,
        description=(
            "The token endpoint supports only HTTP Basic client authentication (client_secret_post off): "
            "client_id and client_secret in the body, as edx-rest-api-client sends them, are refused."
        ),
        catches=["token-endpoint.client-credentials.body-auth", "authorization-code.exchange.token"],
        collateral={
            **dict.fromkeys(
                (
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
                    *SIGNED_JWT_ATTACKS,
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
                ),
                SHARED_BODY,
            ),
            "revocation.unknown-token": "the revocation request authenticates with body credentials too",
            "authorization-code.code.single-use": BODY_EXCHANGE,
            "authorization-code.pkce.s256": BODY_EXCHANGE,
        },
        cause="shared-token",
    ),
    _fault(
        name=Defect.REFRESH_TOKEN_DROPPED,
        description=(
            "A token-response hook drops refresh_token from every token response (meant to make "
            "client-credentials tokens non-renewable, applied to the password grant as well)."
        ),
        effects=(MemberChanged(TOKEN, "refresh_token", "drop"),),
        catches=["token-endpoint.password.grant", "token-endpoint.refresh.rotation"],
        collateral={
            "revocation.refresh-token.revoked": "the password grant returns no refresh token to revoke",
            **dict.fromkeys(
                (*DEFAULT_JWT_CHECKS,),
                "its [refresh] case needs the password grant's refresh token, which is not returned",
            ),
        },
    ),
    _fault(
        name=Defect.TOKEN_PATH_SLASH_STRIPPED,
        description=(
            "A 'strip trailing slashes' rewrite in the front server (nginx rewrite ^/(.*)/$ /$1 "
            "permanent) answers POST /oauth2/access_token/ with a 301: clients configured with the "
            "slash follow it as a GET and get no token."
        ),
        catches=["token-endpoint.path.no-redirect"],
    ),
    _fault(
        name=Defect.BASIC_CLIENT_AUTH_REFUSED,
        description=(
            "The token endpoint authenticates clients only from the form body: HTTP Basic client "
            "authentication (RFC 6749 2.3.1's MUST) is refused with 401 invalid_client."
        ),
        catches=["token-endpoint.client-credentials.basic-auth"],
        cause="basic-auth",
    ),
)
