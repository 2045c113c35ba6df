"""The JWT decode handler of the reference services: edx-drf-extensions' own, unless one of the
service's decoder faults is active; then the service's faulty decode, given the token's unverified
header and the first JWT issuer, as edx-drf-extensions' decoder reads them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt as pyjwt
from edx_rest_framework_extensions.auth.jwt import decoder

from conformance.reference import faults

__all__ = ["FaultyDecode", "decode_with_faults"]

# (token, unverified header, first JWT issuer, active decoder faults) -> claims
FaultyDecode = Callable[[str, dict[str, Any], dict[str, Any], frozenset[str]], dict[str, Any]]


def decode_with_faults(token: str, decoder_faults: frozenset[str], faulty: FaultyDecode) -> dict[str, Any]:
    active = faults.active_faults() & decoder_faults
    if not active:
        return decoder.jwt_decode_handler(token)
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError as exc:
        raise pyjwt.InvalidTokenError(str(exc)) from exc
    return faulty(token, header, decoder.get_first_jwt_issuer(), active)
