"""The unit cases of the resources checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import Patch, on_resource
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Breaks, Diagnosis, Skip, Unit, blocked, fails, unit, without
from tests.units.patches import (
    DISCOVERY_HS256_ONLY,
    DISCOVERY_WRONG_ISSUER,
    NO_WWW_AUTHENTICATE,
    ROTATED_KEYS,
    WRONG_ISSUER,
)

ME_WRONG_USERNAME = on_resource(Defect.ME_WRONG_USERNAME, username_suffix="-shadow")
ME_REJECTS_RS512 = on_resource(Defect.ME_REJECTS_RS512, rsa_keys=[])
ME_REJECTS_BEARER = on_resource(Defect.ME_REJECTS_BEARER, bearer=False)
ANONYMOUS_ALLOWED = on_resource(Defect.ANONYMOUS_ALLOWED, anonymous=True)
GARBAGE_TOKEN_403 = on_resource(Defect.GARBAGE_TOKEN_403, invalid_status=403)
ACCEPT_QUERY_TOKEN = on_resource(Defect.ACCEPT_QUERY_TOKEN, query_token=True)
ME_NO_AUD_CHECK = on_resource(Defect.ME_NO_AUD_CHECK, check_aud=False)
ME_NO_ISS_CHECK = on_resource(Defect.ME_NO_ISS_CHECK, check_iss=False)
BEARER_ACCEPTS_JWT = on_resource(Defect.BEARER_ACCEPTS_JWT, bearer_jwt=True)
JWT_ACCEPTS_OPAQUE = on_resource(Defect.JWT_ACCEPTS_OPAQUE, jwt_opaque=True)
JWT_SCHEME_CASE_SENSITIVE = on_resource(Defect.JWT_SCHEME_CASE_SENSITIVE, jwt_scheme_exact=True)
API_AUTHORIZATION_DROPPED = on_resource(Defect.API_AUTHORIZATION_DROPPED, authorization_header=False)


def service_refuses(mutation: Patch, cause: str) -> Breaks:
    """Under `mutation` discovery refuses the LMS's tokens, and the failure names the `cause`."""
    return fails(mutation, "discovery accepts the tokens the LMS issues", actual=cause)


TABLE: dict[str, Unit] = {
    "resources.jwt.accepted": unit(
        fails(ME_WRONG_USERNAME, "the resource identifies the token's owner"),
        fails(ME_REJECTS_RS512, "the resource accepts the LMS's own JWT", "asymmetric"),
    ),
    "resources.bearer.accepted": unit(
        fails(ME_REJECTS_BEARER, "the resource accepts a Bearer token"),
    ),
    "resources.no-credentials.refused": unit(
        fails(NO_WWW_AUTHENTICATE, "a 401 challenges the client"),
        fails(ANONYMOUS_ALLOWED, "an anonymous request is unauthenticated"),
    ),
    "resources.garbage-token.refused": unit(
        fails(GARBAGE_TOKEN_403, "an invalid token is an authentication failure"),
    ),
    "resources.query-token.refused": unit(
        fails(ACCEPT_QUERY_TOKEN, "tokens in URLs (logged, cached, leaked by Referer) are not accepted"),
    ),
    "resources.jwt.wrong-audience": unit(
        fails(ME_NO_AUD_CHECK, "a token with aud="),
    ),
    "resources.jwt.wrong-issuer": unit(
        fails(ME_NO_ISS_CHECK, "a token with iss="),
    ),
    "resources.scheme.mismatch": unit(
        fails(BEARER_ACCEPTS_JWT, "the token is accepted only under its own scheme", "bearer-with-jwt"),
        fails(JWT_ACCEPTS_OPAQUE, "the token is accepted only under its own scheme", "jwt-with-opaque"),
    ),
    "resources.services.accept-jwt": unit(
        service_refuses(DISCOVERY_WRONG_ISSUER, "check the service's JWT_ISSUERS"),
        service_refuses(DISCOVERY_HS256_ONLY, "only one signing method works"),
        service_refuses(WRONG_ISSUER, "'http://localhost:8000/oauth2'"),
    ),
    "resources.jwt.scheme-case": unit(
        fails(JWT_SCHEME_CASE_SENSITIVE, "schemes are case-insensitive"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    without("resources.garbage-token.refused", "Bearer", "resources.bearer", value=False),
    blocked(
        "resources.jwt.wrong-audience", None, "jwt.profile-keys.hs256-secret", ME_NO_AUD_CHECK, ROTATED_KEYS
    ),
    blocked(
        "resources.jwt.wrong-issuer", None, "jwt.profile-keys.hs256-secret", ME_NO_ISS_CHECK, ROTATED_KEYS
    ),
]

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    ("resources.jwt.accepted", "default", API_AUTHORIZATION_DROPPED, "WSGIPassAuthorization On"),
]
