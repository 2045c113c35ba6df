"""The unit cases of the resources checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Diagnosis, Skip, Unit, fails, unit
from tests.units.patches import ROTATED_KEYS, WRONG_ISSUER

AREA = "resources"

TABLE: dict[str, Unit] = {
    "resources.jwt.accepted": unit(
        fails(Defect.ME_WRONG_USERNAME, "the resource identifies the token's owner"),
        fails(Defect.ME_REJECTS_RS512, "the resource accepts the LMS's own JWT", "asymmetric"),
    ),
    "resources.bearer.accepted": unit(
        fails(Defect.ME_REJECTS_BEARER, "the resource accepts a Bearer token"),
    ),
    "resources.no-credentials.refused": unit(
        fails(Defect.NO_WWW_AUTHENTICATE, "a 401 challenges the client"),
        fails(Defect.ANONYMOUS_ALLOWED, "an anonymous request is unauthenticated"),
    ),
    "resources.garbage-token.refused": unit(
        fails(Defect.GARBAGE_TOKEN_403, "an invalid token is an authentication failure"),
    ),
    "resources.query-token.refused": unit(
        fails(
            Defect.ACCEPT_QUERY_TOKEN, "tokens in URLs (logged, cached, leaked by Referer) are not accepted"
        ),
    ),
    "resources.jwt.wrong-audience": unit(
        fails(Defect.ME_NO_AUD_CHECK, "a token with aud="),
    ),
    "resources.jwt.wrong-issuer": unit(
        fails(Defect.ME_NO_ISS_CHECK, "a token with iss="),
    ),
    "resources.scheme.mismatch": unit(
        fails(
            Defect.BEARER_ACCEPTS_JWT, "the token is accepted only under its own scheme", "bearer-with-jwt"
        ),
        fails(
            Defect.JWT_ACCEPTS_OPAQUE, "the token is accepted only under its own scheme", "jwt-with-opaque"
        ),
    ),
    "resources.services.accept-jwt": unit(
        fails(
            Defect.DISCOVERY_WRONG_ISSUER,
            "discovery accepts the tokens the LMS issues",
            actual="check the service's JWT_ISSUERS",
        ),
        fails(
            Defect.DISCOVERY_HS256_ONLY,
            "discovery accepts the tokens the LMS issues",
            actual="only one signing method works",
        ),
        fails(
            WRONG_ISSUER,
            "discovery accepts the tokens the LMS issues",
            actual="'http://localhost:8000/oauth2'",
        ),
    ),
    "resources.jwt.scheme-case": unit(
        fails(Defect.JWT_SCHEME_CASE_SENSITIVE, "schemes are case-insensitive"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    ("resources.garbage-token.refused", "Bearer", (), {"resources": {"bearer": False}}, "resources.bearer"),
    (
        "resources.jwt.wrong-audience",
        None,
        (Defect.ME_NO_AUD_CHECK, ROTATED_KEYS),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
    (
        "resources.jwt.wrong-issuer",
        None,
        (Defect.ME_NO_ISS_CHECK, ROTATED_KEYS),
        {},
        "blocked (jwt.profile-keys.hs256-secret)",
    ),
]

# Diagnoses the failures carry (the symptom, the usual causes, the fix).
DIAGNOSES: list[Diagnosis] = [
    ("resources.jwt.accepted", "default", Defect.API_AUTHORIZATION_DROPPED, "WSGIPassAuthorization On"),
]
