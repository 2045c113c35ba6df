"""The faults of the response-schema area: the token response's members, headers and content types."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import (
    TOKEN,
    MemberChanged,
    ResponseHeaderDropped,
    ResponseHeaderSet,
    Setting,
)
from conformance.reference.faults.model import Fault

# Every fault of this module is of the response-schema area.
_fault = partial(Fault, area="response-schema")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.NO_CACHE_HEADERS,
        description="Token responses lack Cache-Control: no-store and Pragma: no-cache (a proxy drops them).",
        effects=(ResponseHeaderDropped(TOKEN, "Cache-Control"), ResponseHeaderDropped(TOKEN, "Pragma")),
        catches=[
            "response-schema.cache-control.no-store",
            "response-schema.pragma.no-cache",
            "response-schema.cache-control.error-no-store",
            "response-schema.pragma.error-no-cache",
        ],
    ),
    _fault(
        name=Defect.NO_PRAGMA,
        description="Token responses lack Pragma: no-cache only (a proxy strips HTTP/1.0 headers).",
        effects=(ResponseHeaderDropped(TOKEN, "Pragma"),),
        catches=["response-schema.pragma.no-cache", "response-schema.pragma.error-no-cache"],
    ),
    _fault(
        name=Defect.EXPIRES_IN_STRING,
        description='Token responses send expires_in as a JSON string ("3600") instead of a number.',
        effects=(MemberChanged(TOKEN, "expires_in", "string"),),
        catches=[
            "response-schema.token.schema",
            "response-schema.expires-in.value",
            "jwt.claims.lifetime",
            "authorization-code.exchange.token",
        ],
    ),
    _fault(
        name=Defect.TOKEN_RESPONSE_HTML,
        description=(
            "The JWT token response is rebuilt as a new HttpResponse without a content type: "
            "Content-Type: text/html; charset=utf-8."
        ),
        catches=["response-schema.content-type.json"],
    ),
    _fault(
        name=Defect.TOKEN_TYPE_BEARER_FOR_JWT,
        description='JWT token responses say token_type "bearer" (an RFC 6750 "fix") instead of "JWT".',
        catches=[
            "response-schema.token-type.value",
            "token-endpoint.token-type.case-insensitive",
            "authorization-code.exchange.token",
        ],
    ),
    _fault(
        name=Defect.SCOPE_AS_LIST,
        description="Token responses give scope as a JSON list instead of a space-delimited string.",
        effects=(MemberChanged(TOKEN, "scope", "list"),),
        catches=[
            "response-schema.token.schema",
            "response-schema.scope.default",
            "jwt.claims.openedx",
            "authorization-code.exchange.token",
        ],
    ),
    _fault(
        name=Defect.REFRESH_TOKEN_FOR_CLIENT_CREDENTIALS,
        description="client_credentials responses carry a refresh_token (RFC 6749 4.4.3: they should not).",
        catches=["response-schema.refresh-token.absent"],
    ),
    _fault(
        name=Defect.EXPIRES_IN_MISMATCH,
        description=(
            "JWT responses keep the opaque token's expires_in (36000) while the JWT itself expires after "
            "3600 s."
        ),
        catches=["response-schema.expires-in.value", "jwt.claims.lifetime"],
        cause="check:jwt.claims.lifetime",
    ),
    _fault(
        name=Defect.EXPIRES_IN_YEAR,
        description="JWT_ACCESS_TOKEN_EXPIRE_SECONDS is a year: year-long JWTs that cannot be revoked.",
        effects=(Setting("JWT_ACCESS_TOKEN_EXPIRE_SECONDS", 365 * 24 * 60 * 60),),
        catches=["response-schema.expires-in.value", "key-rotation.retired-key.lifetime"],
    ),
    _fault(
        name=Defect.NARROW_DEFAULT_SCOPES,
        description=(
            "OAUTH2_PROVIDER DEFAULT_SCOPES is ['read']: tokens requested without scope get read only, "
            "and JWTs lack the email and profile claims services expect."
        ),
        effects=(Setting("OAUTH2_PROVIDER", ["read"], key="DEFAULT_SCOPES"),),
        catches=["response-schema.scope.default", "jwt.claims.scope-dependent"],
    ),
    _fault(
        name=Defect.REUSE_ACCESS_TOKENS,
        description=(
            "The token endpoint hands out the client's existing unexpired access token instead of a new "
            "one (as the DOP provider once did): two requests get the same opaque token."
        ),
        catches=["response-schema.access-token.unique"],
    ),
    _fault(
        name=Defect.ISALNUM_TOKEN_ALPHABET,
        description=(
            "A custom ACCESS_TOKEN_GENERATOR draws opaque tokens from the characters str.isalnum() "
            "accepts over Latin-1: tokens carry characters such as 'é' that are not VSCHAR and that "
            "no Authorization header can hold."
        ),
        effects=(
            Setting(
                "OAUTH2_PROVIDER",
                "conformance.reference.lms.validators.isalnum_token",
                key="ACCESS_TOKEN_GENERATOR",
            ),
        ),
        catches=["response-schema.access-token.syntax", "response-schema.token.schema"],
        collateral={
            **dict.fromkeys(
                (
                    "resources.bearer.accepted",
                    "resources.scheme.mismatch",
                    "revocation.opaque.revoked",
                ),
                "it sends the opaque token in an Authorization header, which cannot hold it",
            ),
            "accounts.disabled-user.no-refresh": (
                "it judges the opaque token the refresh issues, whose alphabet the fault changes"
            ),
        },
    ),
    _fault(
        name=Defect.ERROR_CONTENT_TYPE_TEXT,
        description=(
            "A proxy rewrites the Content-Type of the token endpoint's 4xx answers to text/plain "
            "(the JSON body is kept)."
        ),
        # The JSON body is kept.
        effects=(ResponseHeaderSet(TOKEN, "Content-Type", "text/plain; charset=utf-8", errors_only=True),),
        catches=["response-schema.content-type.error-json"],
    ),
)
