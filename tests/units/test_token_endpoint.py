"""The unit cases of the token-endpoint checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

import httpx

from conformance.reference.defects import Defect
from tests.stub_lms import on_front, on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Diagnosis, Unit, fails, unit
from tests.units.patches import GRANT_TYPE_NOT_ENFORCED, NO_BODY_AUTH


def _moved(target: str) -> httpx.Response:
    return httpx.Response(301, headers={"Location": target, "Content-Length": "0"})


NO_BASIC_AUTH = on_settings(Defect.NO_BASIC_AUTH, basic_auth=False)
DEFAULT_JWT = on_settings(Defect.DEFAULT_JWT, jwt_by_default=True)
TOKEN_TYPE_CASE_SENSITIVE = on_settings(Defect.TOKEN_TYPE_CASE_SENSITIVE, token_type_case_sensitive=True)
TOKEN_ENDPOINT_ANY_METHOD = on_settings(Defect.TOKEN_ENDPOINT_ANY_METHOD, token_any_method=True)
QUERY_CREDENTIALS_ACCEPTED = on_settings(
    Defect.QUERY_CREDENTIALS_ACCEPTED, token_any_method=True, token_query_params=True
)
MISSING_GRANT_DEFAULTS_CLIENT_CREDENTIALS = on_settings(
    Defect.MISSING_GRANT_DEFAULTS_CLIENT_CREDENTIALS, default_grant="client_credentials"
)
UNKNOWN_GRANT_INVALID_REQUEST = on_settings(
    Defect.UNKNOWN_GRANT_INVALID_REQUEST, unknown_grant_error="invalid_request"
)
JSON_BODY_ACCEPTED = on_settings(Defect.JSON_BODY_ACCEPTED, json_body=True)
DUPLICATE_PARAM_500 = on_settings(Defect.DUPLICATE_PARAM_500, repeated_param="500")
DUPLICATE_PARAM_REJECTED = on_settings(Defect.DUPLICATE_PARAM_REJECTED, repeated_param="rejected")
UNKNOWN_PARAM_REJECTED = on_settings(Defect.UNKNOWN_PARAM_REJECTED, unknown_params_rejected=True)
UNKNOWN_SCOPE_IGNORED = on_settings(Defect.UNKNOWN_SCOPE_IGNORED, unknown_scopes_dropped=True)
NO_REFRESH_TOKEN = on_settings(Defect.NO_REFRESH_TOKEN, password_refresh=False)
PASSWORD_NOT_CHECKED = on_settings(Defect.PASSWORD_NOT_CHECKED, passwords_checked=False)
MISSING_USERNAME_INVALID_GRANT = on_settings(
    Defect.MISSING_USERNAME_INVALID_GRANT, missing_username_error="invalid_grant"
)
REFRESH_NOT_ROTATED = on_settings(Defect.REFRESH_NOT_ROTATED, refresh_rotated=False)
REFRESH_REUSABLE = on_settings(Defect.REFRESH_REUSABLE, refresh_single_use=False)
GATEWAY_PATH_SERVED = on_settings(
    Defect.GATEWAY_PATH_SERVED, token_paths=("/oauth2/access_token", "/oauth2/v1/access_token")
)
# Front-server rewrites of the token endpoint's path (a 301 that clients follow as a GET).
TOKEN_PATH_SLASH_REDIRECT = on_front(
    Defect.TOKEN_PATH_SLASH_REDIRECT,
    lambda r: _moved("/oauth2/access_token") if r.url.path == "/oauth2/access_token/" else None,
)
TOKEN_PATH_REDIRECTED = on_front(
    Defect.TOKEN_PATH_REDIRECTED,
    lambda r: _moved("/oauth2/access_token/") if r.url.path == "/oauth2/access_token" else None,
)

TABLE: dict[str, Unit] = {
    "token-endpoint.client-credentials.basic-auth": unit(
        fails(NO_BASIC_AUTH, "client_credentials with HTTP Basic and token_type=jwt issues a token"),
    ),
    "token-endpoint.client-credentials.body-auth": unit(
        fails(NO_BODY_AUTH, "with the client's id and secret in the form body issues a JWT"),
    ),
    "token-endpoint.token-type.default-bearer": unit(
        fails(DEFAULT_JWT, "a request without token_type gets an opaque Bearer token"),
    ),
    "token-endpoint.token-type.case-insensitive": unit(
        fails(TOKEN_TYPE_CASE_SENSITIVE, "token_type=JwT is treated as jwt"),
    ),
    "token-endpoint.method.post-only": unit(
        fails(TOKEN_ENDPOINT_ANY_METHOD, "{case} on the token endpoint is refused as a method"),
    ),
    "token-endpoint.credentials.not-in-query": unit(
        fails(QUERY_CREDENTIALS_ACCEPTED, "credentials in the query string are not accepted"),
    ),
    "token-endpoint.grant-type.missing": unit(
        fails(MISSING_GRANT_DEFAULTS_CLIENT_CREDENTIALS, "a missing grant_type is an error"),
    ),
    "token-endpoint.grant-type.unknown": unit(
        fails(UNKNOWN_GRANT_INVALID_REQUEST, "is unsupported"),
    ),
    "token-endpoint.body.json-rejected": unit(
        fails(JSON_BODY_ACCEPTED, "the token endpoint reads only form-encoded parameters"),
    ),
    "token-endpoint.grant-type.repeated": unit(
        fails(DUPLICATE_PARAM_500, "a repeated parameter is refused or the last value used"),
        either=(DUPLICATE_PARAM_REJECTED,),
    ),
    "token-endpoint.params.unknown-ignored": unit(
        fails(UNKNOWN_PARAM_REJECTED, "an unknown parameter does not stop the grant"),
    ),
    "token-endpoint.scope.unknown": unit(
        fails(UNKNOWN_SCOPE_IGNORED, "a scope the application does not have is refused"),
    ),
    "token-endpoint.grant-type.not-allowed-for-client": unit(
        fails(GRANT_TYPE_NOT_ENFORCED, "a grant the client is not registered for is refused"),
    ),
    "token-endpoint.password.grant": unit(
        fails(NO_REFRESH_TOKEN, "the password grant returns a refresh_token", "good-credentials"),
    ),
    "token-endpoint.refresh.rotation": unit(
        fails(REFRESH_NOT_ROTATED, "the refresh token is rotated"),
        fails(REFRESH_REUSABLE, "a used refresh token is refused"),
    ),
    "token-endpoint.path.gateway-v1": unit(
        fails(GATEWAY_PATH_SERVED, "an LMS has no /oauth2/v1/access_token"),
    ),
    "token-endpoint.password.bad-credentials": unit(
        fails(PASSWORD_NOT_CHECKED, "a wrong password is invalid_grant", "bad-password"),
        fails(MISSING_USERNAME_INVALID_GRANT, "a missing username is invalid_request", "missing-username"),
    ),
    "token-endpoint.path.no-redirect": unit(
        fails(TOKEN_PATH_SLASH_REDIRECT, "reaches the token endpoint", actual="trailing-slash rewrite"),
    ),
}

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    (
        "token-endpoint.client-credentials.basic-auth",
        None,
        TOKEN_PATH_REDIRECTED,
        "re-sends the POST as a GET",
    ),
]
