"""The faults of the services area: the discovery-like service that trusts the LMS's JWTs."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import BASELINE

# Every fault of this module is of the services area.
_fault = partial(Fault, area="services")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.DISCOVERY_AUD_NOT_VERIFIED,
        description=(
            "The discovery service runs an edx-drf-extensions older than 8.8.0 (pyjwkest verified the "
            "signature only) with JWT_VERIFY_AUDIENCE: False, as course-discovery's and ecommerce's "
            "settings have it: tokens minted for another audience are accepted. On the pinned 10.6.0 the "
            "setting alone changes nothing (aud is checked at the signature step): the clean instance has it."
        ),
        catches=["services.audience.checked"],
    ),
    _fault(
        name=Defect.DISCOVERY_ACCEPT_EXPIRED,
        description=(
            "The discovery service runs an edx-drf-extensions older than 8.8.0 with JWT_VERIFY_EXPIRATION: "
            "False: expired tokens are accepted (from 8.8.0 exp is checked at the signature step). With "
            "the stock JWT_VERIFY_AUDIENCE: False that old library ignores aud too."
        ),
        catches=["services.expiry.checked", "services.audience.checked"],
        cause="check:services.audience.checked",
    ),
    _fault(
        name=Defect.DISCOVERY_ACCEPT_ALG_NONE,
        description=(
            "The discovery service's JWT decode handler lets unsigned tokens (alg: none) through to the "
            "claims checks."
        ),
        catches=["services.forged.refused"],
    ),
    _fault(
        name=Defect.DISCOVERY_ISS_NOT_CHECKED,
        description=(
            "The discovery service's own JWT_DECODE_HANDLER verifies the signature, aud and exp like "
            "edx-drf-extensions but skips its issuer check (iss must equal some JWT_ISSUERS entry): a token "
            "any holder of the key signs for any issuer is accepted."
        ),
        catches=["services.issuer.checked"],
    ),
    _fault(
        name=Defect.DISCOVERY_SECOND_ISSUER_FIRST,
        description=(
            "The discovery service's JWT_ISSUERS lists another issuer (an old LMS domain, its own secret) "
            "before the LMS's: edx-drf-extensions verifies HS256 with the first entry's SECRET_KEY only, so "
            "the LMS's HS256 tokens are refused and its RS512 tokens accepted."
        ),
        catches=["services.genuine.accepted", "resources.services.accept-jwt"],
        collateral={
            "services.forged.refused": BASELINE,
        },
        cause="service:discovery",
    ),
    _fault(
        name=Defect.DISCOVERY_MISSING_SIGNING_KEY,
        description=(
            "The discovery service's JWT_PUBLIC_SIGNING_JWK_SET holds only a retired key, not the one the "
            "LMS signs with (a rotation that skipped a service): its RS512 tokens are refused."
        ),
        catches=[
            "services.genuine.accepted",
            "resources.services.accept-jwt",
            "jwt-cookies.services.accept-cookies",
        ],
        collateral={
            "services.forged.refused": BASELINE,
        },
        cause="service:discovery",
    ),
    _fault(
        name=Defect.SERVICE_DOWN,
        description=(
            "The discovery-like service is down behind its proxy, which answers every request with "
            "502 Bad Gateway."
        ),
        catches=["services.genuine.accepted", "resources.services.accept-jwt"],
        cause="service:discovery",
    ),
)
