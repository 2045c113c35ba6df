"""The unit cases of the token-endpoint checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Diagnosis, Unit, fails, unit

AREA = "token-endpoint"

TABLE: dict[str, Unit] = {
    "token-endpoint.client-credentials.basic-auth": unit(
        fails(Defect.NO_BASIC_AUTH, "client_credentials with HTTP Basic and token_type=jwt issues a token"),
    ),
    "token-endpoint.client-credentials.body-auth": unit(
        fails(Defect.NO_BODY_AUTH, "with the client's id and secret in the form body issues a JWT"),
    ),
    "token-endpoint.token-type.default-bearer": unit(
        fails(Defect.DEFAULT_JWT, "a request without token_type gets an opaque Bearer token"),
    ),
    "token-endpoint.token-type.case-insensitive": unit(
        fails(Defect.TOKEN_TYPE_CASE_SENSITIVE, "token_type=JwT is treated as jwt"),
    ),
    "token-endpoint.method.post-only": unit(
        fails(Defect.TOKEN_ENDPOINT_ANY_METHOD, "{case} on the token endpoint is refused as a method"),
    ),
    "token-endpoint.credentials.not-in-query": unit(
        fails(Defect.QUERY_CREDENTIALS_ACCEPTED, "credentials in the query string are not accepted"),
    ),
    "token-endpoint.grant-type.missing": unit(
        fails(Defect.MISSING_GRANT_DEFAULTS_CLIENT_CREDENTIALS, "a missing grant_type is an error"),
    ),
    "token-endpoint.grant-type.unknown": unit(
        fails(Defect.UNKNOWN_GRANT_INVALID_REQUEST, "is unsupported"),
    ),
    "token-endpoint.body.json-rejected": unit(
        fails(Defect.JSON_BODY_ACCEPTED, "the token endpoint reads only form-encoded parameters"),
    ),
    "token-endpoint.grant-type.repeated": unit(
        fails(Defect.DUPLICATE_PARAM_500, "a repeated parameter is refused or the last value used"),
        either=(Defect.DUPLICATE_PARAM_REJECTED,),
    ),
    "token-endpoint.params.unknown-ignored": unit(
        fails(Defect.UNKNOWN_PARAM_REJECTED, "an unknown parameter does not stop the grant"),
    ),
    "token-endpoint.scope.unknown": unit(
        fails(Defect.UNKNOWN_SCOPE_IGNORED, "a scope the application does not have is refused"),
    ),
    "token-endpoint.grant-type.not-allowed-for-client": unit(
        fails(Defect.GRANT_TYPE_NOT_ENFORCED, "a grant the client is not registered for is refused"),
    ),
    "token-endpoint.password.grant": unit(
        fails(Defect.NO_REFRESH_TOKEN, "the password grant returns a refresh_token", "good-credentials"),
    ),
    "token-endpoint.refresh.rotation": unit(
        fails(Defect.REFRESH_NOT_ROTATED, "the refresh token is rotated"),
        fails(Defect.REFRESH_REUSABLE, "a used refresh token is refused"),
    ),
    "token-endpoint.path.gateway-v1": unit(
        fails(Defect.GATEWAY_PATH_SERVED, "an LMS has no /oauth2/v1/access_token"),
    ),
    "token-endpoint.password.bad-credentials": unit(
        fails(Defect.PASSWORD_NOT_CHECKED, "a wrong password is invalid_grant", "bad-password"),
        fails(
            Defect.MISSING_USERNAME_INVALID_GRANT, "a missing username is invalid_request", "missing-username"
        ),
    ),
    "token-endpoint.path.no-redirect": unit(
        fails(
            Defect.TOKEN_PATH_SLASH_REDIRECT, "reaches the token endpoint", actual="trailing-slash rewrite"
        ),
    ),
}

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    (
        "token-endpoint.client-credentials.basic-auth",
        None,
        Defect.TOKEN_PATH_REDIRECTED,
        "re-sends the POST as a GET",
    ),
]
