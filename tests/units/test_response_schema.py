"""The unit cases of the response-schema checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from typing import Any

from conformance.reference.defects import Defect
from tests.stub_lms import on_oauth_error, on_oauth_headers, on_settings, on_token_body
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit, without
from tests.units.patches import LONG_LIVED_JWT


def _detail_body(body: dict[str, Any]) -> None:
    """A DRF-style error: {"detail": the description, or the error code in words}."""
    detail = body.get("error_description") or body["error"].replace("_", " ").capitalize()
    body.clear()
    body["detail"] = detail


TEXT_PLAIN = on_oauth_headers(
    Defect.TEXT_PLAIN_CONTENT_TYPE, lambda h: h.update({"Content-Type": "text/plain"})
)
NO_CACHE_HEADERS = on_oauth_headers(
    Defect.NO_CACHE_HEADERS, lambda h: [h.pop("Cache-Control"), h.pop("Pragma")]
)
NO_PRAGMA = on_oauth_headers(Defect.NO_PRAGMA, lambda h: h.pop("Pragma"))
SWAPPED = {"JWT": "Bearer", "Bearer": "JWT"}
TOKEN_TYPE_SWAPPED = on_token_body(
    Defect.TOKEN_TYPE_SWAPPED, lambda body: body.update(token_type=SWAPPED[body["token_type"]])
)

TABLE: dict[str, Unit] = {
    "response-schema.token.schema": unit(
        fails(
            on_token_body(
                Defect.EXPIRES_IN_STRING, lambda body: body.update(expires_in=str(body["expires_in"]))
            ),
            "the success body has access_token, token_type, expires_in",
        ),
    ),
    "response-schema.content-type.json": unit(
        fails(TEXT_PLAIN, "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.no-store": unit(
        fails(NO_CACHE_HEADERS, "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.no-cache": unit(
        fails(NO_PRAGMA, "HTTP/1.0 caches are told not to cache"),
        fails(NO_CACHE_HEADERS, "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.token-type.value": unit(
        fails(TOKEN_TYPE_SWAPPED, "a token_type=jwt request is answered with token_type JWT", "jwt"),
        fails(TOKEN_TYPE_SWAPPED, "an opaque token's token_type is Bearer", "bearer"),
    ),
    "response-schema.expires-in.value": unit(
        fails(
            on_settings(Defect.LIFETIMES_CHANGED, jwt_lifetime=600, opaque_lifetime=3600),
            "token is the configured lifetime",
        ),
        fails(
            LONG_LIVED_JWT,
            "access tokens are short-lived",
            "jwt",
            profile={"expect": {"jwt_expires_in": 172800}},
        ),
    ),
    "response-schema.refresh-token.absent": unit(
        fails(
            on_settings(Defect.CLIENT_CREDENTIALS_REFRESH_TOKEN, client_credentials_refresh=True),
            "client_credentials issues no refresh token",
        ),
    ),
    "response-schema.scope.default": unit(
        fails(
            on_settings(Defect.SCOPE_DEFAULT_READ, default_scopes=("read",)),
            "the default scopes are granted when none are asked for",
        ),
    ),
    "response-schema.access-token.syntax": unit(
        fails(
            on_token_body(
                Defect.TOKEN_NON_VSCHAR,
                lambda body: body.update(access_token=body["access_token"] + "\u00e9"),
            ),
            "access_token uses only VSCHAR",
            "vschar-jwt",
            "vschar-bearer",
        ),
    ),
    "response-schema.error.schema": unit(
        fails(
            on_oauth_error(Defect.ERROR_AS_DETAIL, _detail_body),
            "error is a registered code; descriptions are strings",
        ),
    ),
    "response-schema.content-type.error-json": unit(
        fails(TEXT_PLAIN, "token endpoint responses are JSON"),
    ),
    "response-schema.cache-control.error-no-store": unit(
        fails(NO_CACHE_HEADERS, "responses holding or about tokens are not cached"),
    ),
    "response-schema.pragma.error-no-cache": unit(
        fails(NO_PRAGMA, "HTTP/1.0 caches are told not to cache"),
    ),
    "response-schema.access-token.unique": unit(
        fails(
            on_settings(Defect.OPAQUE_TOKEN_CONSTANT, opaque_token=lambda: "StubConstantOpaqueToken0123456"),
            "two opaque tokens differ",
        ),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    without("response-schema.token.schema", "bearer", "expect.opaque_tokens", value=False),
]
