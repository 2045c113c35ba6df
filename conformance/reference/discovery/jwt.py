"""The discovery service's JWT decode handler: edx-drf-extensions' own, unless a decoder fault models
a service whose JWT validation is older or looser than the pinned edx-drf-extensions 10.6.0.

Why the faults are modelled here and not by settings alone: on 10.6.0 (since 8.8.0, PR #311, which
replaced pyjwkest by PyJWT) ``_verify_jwt_signature`` checks ``aud`` against
``JWT_ISSUERS[0]['AUDIENCE']`` and ``exp`` while it verifies the signature, whatever
``JWT_VERIFY_AUDIENCE`` and ``JWT_VERIFY_EXPIRATION`` say. Before 8.8.0 pyjwkest's
``JWS().verify_compact`` checked the signature only, and those two settings (read by
``_decode_and_verify_token``) were the only audience and expiry checks (decoder.py at 8.7.0,
v8.8.0, v10.6.0; CHANGELOG 8.8.0). The faults ``discovery-aud-not-verified`` and
``discovery-accept-expired`` run that pre-8.8.0 signature step with the service's settings turned
off, as stock course-discovery and ecommerce settings turn ``JWT_VERIFY_AUDIENCE`` off.
"""

from __future__ import annotations

from typing import Any

import jwt as pyjwt
from django.conf import settings
from edx_rest_framework_extensions.auth.jwt import decoder

from conformance.reference.decoding import decode_with_faults
from conformance.reference.defects import Defect

DECODER_FAULTS = frozenset(
    {
        Defect.DISCOVERY_AUD_NOT_VERIFIED,
        Defect.DISCOVERY_ACCEPT_EXPIRED,
        Defect.DISCOVERY_ACCEPT_ALG_NONE,
        Defect.DISCOVERY_ISS_NOT_CHECKED,
    }
)


def decode_handler(token: str) -> dict[str, Any]:
    return decode_with_faults(token, DECODER_FAULTS, _faulty_decode)


def _faulty_decode(
    token: str, header: dict[str, Any], issuer: dict[str, Any], active: frozenset[str]
) -> dict[str, Any]:
    unsigned = str(header.get("alg", "")).lower() == "none"
    if not (unsigned and Defect.DISCOVERY_ACCEPT_ALG_NONE in active):
        _signature_step(token, issuer, active)
    if Defect.DISCOVERY_ISS_NOT_CHECKED in active:
        # A home-made claims pass: exp and iat required (checked at the signature step), iss never.
        claims = pyjwt.decode(token, options={"verify_signature": False, "require": ["exp", "iat"]})
        return dict(decoder._set_token_defaults(claims))
    # The claims pass of the pinned edx-drf-extensions (exp, iat, aud, issuer, version), with the
    # service's JWT_VERIFY_EXPIRATION and JWT_VERIFY_AUDIENCE settings.
    claims = decoder._decode_and_verify_token(token, issuer)
    return dict(decoder._set_token_defaults(claims))


def _signature_step(token: str, issuer: dict[str, Any], active: frozenset[str]) -> None:
    key_set = decoder.get_verification_jwk_key_set(
        asymmetric_keys=settings.JWT_AUTH.get("JWT_PUBLIC_SIGNING_JWK_SET"), secret_key=issuer["SECRET_KEY"]
    )
    old_library = bool(active & {Defect.DISCOVERY_AUD_NOT_VERIFIED, Defect.DISCOVERY_ACCEPT_EXPIRED})
    try:
        if old_library:
            # pyjwkest's verify_compact: the signature, nothing else.
            decoder.verify_jwk_signature_using_keyset(token, key_set, aud=None, verify_exp=False)
        else:
            decoder.verify_jwk_signature_using_keyset(token, key_set, aud=issuer["AUDIENCE"])
    except Exception as exc:
        raise pyjwt.InvalidTokenError(str(exc)) from exc
