"""The unit cases of the response-schema checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit

AREA = "response-schema"

TABLE: dict[str, Unit] = {
    "response-schema.token.schema": unit(
        fails(Defect.EXPIRES_IN_STRING, "the success body has access_token, token_type, expires_in"),
    ),
    "response-schema.content-type.json": unit(
        fails(Defect.TEXT_PLAIN_CONTENT_TYPE, "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.no-store": unit(
        fails(Defect.NO_CACHE_HEADERS, "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.no-cache": unit(
        fails(Defect.NO_PRAGMA, "HTTP/1.0 caches are told not to cache"),
        fails(Defect.NO_CACHE_HEADERS, "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.token-type.value": unit(
        fails(Defect.TOKEN_TYPE_SWAPPED, "a token_type=jwt request is answered with token_type JWT", "jwt"),
        fails(Defect.TOKEN_TYPE_SWAPPED, "an opaque token's token_type is Bearer", "bearer"),
    ),
    "response-schema.expires-in.value": unit(
        fails(Defect.LIFETIMES_CHANGED, "token is the configured lifetime"),
        fails(
            Defect.LONG_LIVED_JWT,
            "access tokens are short-lived",
            "jwt",
            profile={"expect": {"jwt_expires_in": 172800}},
        ),
    ),
    "response-schema.refresh-token.absent": unit(
        fails(Defect.CLIENT_CREDENTIALS_REFRESH_TOKEN, "client_credentials issues no refresh token"),
    ),
    "response-schema.scope.default": unit(
        fails(Defect.SCOPE_DEFAULT_READ, "the default scopes are granted when none are asked for"),
    ),
    "response-schema.access-token.syntax": unit(
        fails(Defect.TOKEN_NON_VSCHAR, "access_token uses only VSCHAR", "vschar-jwt", "vschar-bearer"),
    ),
    "response-schema.error.schema": unit(
        fails(Defect.ERROR_AS_DETAIL, "error is a registered code; descriptions are strings"),
    ),
    "response-schema.content-type.error-json": unit(
        fails(Defect.TEXT_PLAIN_CONTENT_TYPE, "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.error-no-store": unit(
        fails(Defect.NO_CACHE_HEADERS, "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.error-no-cache": unit(
        fails(Defect.NO_PRAGMA, "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.access-token.unique": unit(
        fails(Defect.OPAQUE_TOKEN_CONSTANT, "two opaque tokens differ"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    (
        "response-schema.token.schema",
        "bearer",
        (),
        {"expect": {"opaque_tokens": False}},
        "expect.opaque_tokens",
    ),
]
