"""The faults of the resources area: the LMS API's authentication of access tokens."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import API, RequestHeaderDropped
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import (
    BASELINE,
    REFUSED_ANYWAY,
    SERVICE_BASELINE,
    SIGNED_JWT_ATTACKS,
)

# Every fault of this module is of the resources area.
_fault = partial(Fault, area="resources")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.DISCOVERY_WRONG_ISSUER,
        description=(
            "The discovery service's JWT_ISSUERS names another issuer, so it refuses every token the LMS "
            "issues (the classic cross-service issuer mismatch)."
        ),
        catches=[
            "resources.services.accept-jwt",
            "services.genuine.accepted",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="service:discovery",
    ),
    _fault(
        name=Defect.DISCOVERY_SECRET_DIVERGENCE,
        description=(
            "The discovery service's JWT_ISSUERS[0].SECRET_KEY differs from the LMS's JWT_SECRET_KEY: it "
            "refuses HS256 JWTs and accepts RS512 ones."
        ),
        catches=["resources.services.accept-jwt", "services.genuine.accepted"],
        collateral={
            "services.forged.refused": SERVICE_BASELINE,
        },
        cause="service:discovery",
    ),
    _fault(
        name=Defect.LMS_SECRET_DIVERGENCE,
        description=(
            "The LMS signs HS256 with JWT_SECRET_KEY but verifies with a different JWT_ISSUERS[0].SECRET_KEY "
            "(Tutor's JWT_COMMON_SECRET_KEY vs OPENEDX_SECRET_KEY): its own API refuses its HS256 tokens."
        ),
        catches=["resources.jwt.accepted"],
        collateral={
            "resources.jwt.scheme-case": REFUSED_ANYWAY,
            **dict.fromkeys(
                (
                    "jwt-attacks.tampered-payload",
                    "jwt-attacks.bad-signature",
                    "jwt-attacks.alg-none",
                    "jwt-attacks.expired",
                    "resources.jwt.wrong-audience",
                    "resources.jwt.wrong-issuer",
                ),
                BASELINE,
            ),
        },
    ),
    _fault(
        name=Defect.AUD_NOT_VERIFIED,
        description=(
            "The LMS API's JWT decoder does not verify the audience (JWT_VERIFY_AUDIENCE off, honoured at "
            "the signature step too): tokens minted for another audience are accepted."
        ),
        catches=["resources.jwt.wrong-audience"],
    ),
    _fault(
        name=Defect.ANONYMOUS_ALLOWED,
        description="The probe API's permission is AllowAny: a request without credentials gets 200.",
        catches=[
            "resources.no-credentials.refused",
            "resources.query-token.refused",
            "jwt-cookies.lms.mismatched-refused",
        ],
        collateral={
            "accounts.restricted-client.refused": (
                "the API lets every request through, the restricted JWT too"
            ),
        },
    ),
    _fault(
        name=Defect.QUERY_TOKEN_ACCEPTED,
        description="The LMS API also authenticates ?access_token=<jwt> from the URL query.",
        catches=["resources.query-token.refused"],
    ),
    _fault(
        name=Defect.SCHEME_AGNOSTIC_AUTH,
        description=(
            "A custom authentication class, listed first, accepts either token under any scheme "
            "(Bearer <jwt>, JWT <opaque>) and has no authenticate_header, so DRF answers 403 instead of "
            "401 with WWW-Authenticate."
        ),
        catches=[
            "resources.scheme.mismatch",
            "resources.no-credentials.refused",
            "resources.garbage-token.refused",
        ],
        collateral={
            "accounts.restricted-client.refused": (
                "the convenience class authenticates the restricted JWT outside edx-drf-extensions' "
                "JwtAuthentication, and the API lets it through"
            ),
        },
    ),
    _fault(
        name=Defect.BEARER_NOT_ACCEPTED,
        description=(
            "The probe API lists only JWT and session authentication (the LMS's default classes, without "
            "BearerAuthentication): opaque tokens are refused."
        ),
        catches=["resources.bearer.accepted", "revocation.opaque.revoked"],
    ),
    _fault(
        name=Defect.GATEWAY_SCHEME_CASE_SENSITIVE,
        description=(
            "A proxy in front of the LMS API forwards the Authorization header only when its scheme is "
            "spelt exactly JWT or Bearer (a case-sensitive rule): 'jwt <token>' arrives without "
            "credentials."
        ),
        catches=["resources.jwt.scheme-case"],
        cause="edge.dropped-authorization",
    ),
    _fault(
        name=Defect.ISS_NOT_VERIFIED,
        description=(
            "The LMS API's JWT decoder only logs an issuer that is not in JWT_ISSUERS: validly signed "
            "tokens naming any issuer are accepted."
        ),
        catches=["resources.jwt.wrong-issuer"],
    ),
    _fault(
        name=Defect.API_AUTHORIZATION_DROPPED,
        description=(
            "The front server drops the Authorization header of /api/ requests (Apache mod_wsgi without "
            "WSGIPassAuthorization On, or a proxy cache rule): tokens are issued, and every API answers "
            "that no credentials were provided."
        ),
        # Apache mod_wsgi without `WSGIPassAuthorization On` (or a proxy's cache location with
        # `proxy_set_header Authorization ""`): the API never sees the credential; the token endpoint
        # still authenticates clients by their form fields.
        effects=(RequestHeaderDropped(API, "Authorization"),),
        catches=["resources.jwt.accepted", "resources.bearer.accepted"],
        collateral={
            **dict.fromkeys(
                (*SIGNED_JWT_ATTACKS,),
                BASELINE,
            ),
            "revocation.opaque.revoked": "its baseline (the token works before it is revoked) fails first",
            "accounts.restricted-client.refused": (
                "the restricted JWT never reaches the API: 401, not NotJwtRestrictedApplication's 403"
            ),
            **dict.fromkeys(
                (
                    "jwt-attacks.expired",
                    "resources.jwt.scheme-case",
                    "resources.jwt.wrong-audience",
                    "resources.jwt.wrong-issuer",
                ),
                "its baseline (the genuine token accepted at /me) fails first: the header never arrives",
            ),
            # Runs only with jwt.rotation_key in the profile (predicted by tests/test_fault_effects.py).
            "key-rotation.preflight.lms": (
                "its control token signed with the new key goes to the LMS API, which never sees it"
            ),
        },
        cause="edge.dropped-authorization",
    ),
)
