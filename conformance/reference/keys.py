"""RSA signing keys for the reference LMS: generation (Tutor style), the public JWK set, loading.

The private key is parsed once per process (``load_private_key`` is cached): re-parsing a PEM on
every token request would dominate the cost of an RS512 token.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.reference.defects import Defect

# Tutor renders one 2048-bit key with this kid into both the private JWK and the public set.
KID = "openedx"
ALGORITHM = "RS512"


def generate_private_key(key_size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_jwk(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, kid: str = KID) -> dict[str, Any]:
    numbers = (
        key.public_key().public_numbers() if isinstance(key, rsa.RSAPrivateKey) else key.public_numbers()
    )
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
        "n": _b64uint(numbers.n),
        "e": _b64uint(numbers.e),
    }


def public_jwk_set(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    return {"keys": [public_jwk(key, kid)]}


def private_jwk(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    """The private JWK, as the platform keeps it in JWT_PRIVATE_SIGNING_JWK (dp, dq, qi included)."""
    numbers = key.private_numbers()
    return {
        **public_jwk(key, kid),
        "d": _b64uint(numbers.d),
        "p": _b64uint(numbers.p),
        "q": _b64uint(numbers.q),
        "dp": _b64uint(numbers.dmp1),
        "dq": _b64uint(numbers.dmq1),
        "qi": _b64uint(numbers.iqmp),
    }


@dataclass(frozen=True)
class KeyMaterial:
    """The signing key and three JWK sets: the LMS's own (JWT_PUBLIC_SIGNING_JWK_SET), the one the
    other services trust, and the one published to operators (the profile's jwks.json). A sound
    instance has one key in all three; the key faults make them differ. During a rotation
    (``rotation_phase`` 1-4) ``next_key`` is the rotation's new key (the profile's jwt.rotation_key)
    and ``signing_jwk`` is the private JWK the LMS signs with (JWT_PRIVATE_SIGNING_JWK)."""

    private_key: rsa.RSAPrivateKey
    lms_jwks: dict[str, Any]
    services_jwks: dict[str, Any]
    published_jwks: dict[str, Any]
    signing_jwk: dict[str, Any] | None = None
    next_key: rsa.RSAPrivateKey | None = None
    next_kid: str = ""
    rotation_phase: int = 0


# The rotation's new key: generate_jwt_signing_key gives each key its own kid.
NEXT_KID = "openedx-2026"
# Faults that only make sense mid-rotation: they put the instance in phase 1 (new key published,
# the LMS still signing with the old one) and break one part of it.
PHASE_1_FAULTS = frozenset({Defect.DISCOVERY_MISSING_NEXT_KEY, Defect.ROTATION_KEY_NOT_PUBLISHED})
# Private members PyJWT needs together with p and q (Tutor < 17 rendered n, e, d, p, q only).
CRT_MEMBERS = ("dp", "dq", "qi")


def rotation_phase_for(faults: Iterable[str], phase: int) -> int:
    return max(phase, 1 if PHASE_1_FAULTS & set(faults) else 0)


def key_material(faults: Iterable[str] = (), rotation_phase: int = 0) -> KeyMaterial:
    """Tutor's single 2048-bit key with kid "openedx", a rotation's phase, or what a key fault makes
    of them. Phases (docs/key-rotation.md): 0 one key; 1 the new key's public half added to every
    set, the LMS still signs with the old key; 2 (and 3, the wait) the LMS signs with the new key,
    both public keys everywhere; 4 the old public key removed."""
    active = set(faults)
    phase = rotation_phase_for(active, rotation_phase)
    if phase:
        return _rotation_material(active, phase)
    key = generate_private_key(1024 if Defect.RSA_1024_KEY in active else 2048)
    lms_jwks = services_jwks = published = public_jwk_set(key)
    if Defect.SIGNING_KEY_NOT_PUBLISHED in active:
        # Rotated on the LMS only: it signs with (and trusts) the new key; everyone else has the old.
        old = generate_private_key()
        lms_jwks = {"keys": [public_jwk(key, "openedx-2025"), public_jwk(old)]}
        services_jwks = published = public_jwk_set(old)
    if Defect.JWKS_STALE in active:
        # Rotated across the deployment; the set handed to the operator is the old one.
        published = public_jwk_set(generate_private_key())
    if Defect.JWKS_DUPLICATE_KID in active:
        # The rotation's new key went in under the old key's kid, everywhere.
        lms_jwks = services_jwks = published = {"keys": [public_jwk(generate_private_key()), public_jwk(key)]}
    if Defect.JWKS_SINGLE_KEY in active:
        # Published only: the operator was handed the bare JWK, not a set ({"keys": [...]}).
        published = public_jwk(key)
    if Defect.JWKS_PRIVATE_MEMBERS in active:
        # Published only: a resource server given the private JWK could not verify with it at all.
        published = {"keys": [private_jwk(key)]}
    if Defect.DISCOVERY_MISSING_SIGNING_KEY in active:
        # The LMS's key was replaced everywhere but in the discovery service's settings.
        services_jwks = {"keys": [public_jwk(generate_private_key(), "openedx-2024")]}
    return KeyMaterial(key, lms_jwks, services_jwks, published, signing_jwk=_signing_jwk(key, KID, active))


def _signing_jwk(key: rsa.RSAPrivateKey, kid: str, active: set[str]) -> dict[str, Any]:
    jwk = private_jwk(key, kid)
    if Defect.PRIVATE_JWK_MISSING_CRT in active:
        for member in CRT_MEMBERS:
            del jwk[member]
    return jwk


def _rotation_material(active: set[str], phase: int) -> KeyMaterial:
    old, new = generate_private_key(), generate_private_key()
    old_public, new_public = public_jwk(old), public_jwk(new, NEXT_KID)
    current, current_kid = (old, KID) if phase == 1 else (new, NEXT_KID)
    if phase == 1:
        everywhere = [old_public, new_public]
    elif phase in (2, 3):  # 3 is the wait after the switch: nothing changes in the settings
        everywhere = [new_public, old_public]  # generate_jwt_signing_key puts the new key first
    else:
        everywhere = [new_public]
    lms_jwks = services_jwks = published = {"keys": everywhere}
    if Defect.ROTATION_KEY_NOT_PUBLISHED in active:
        lms_jwks = services_jwks = published = {"keys": [old_public]}
    if Defect.DISCOVERY_MISSING_NEXT_KEY in active:
        services_jwks = {"keys": [old_public]}
    if Defect.DISCOVERY_MISSING_SIGNING_KEY in active:
        # A service that missed phase 1: it holds only the key the LMS no longer signs with.
        services_jwks = {
            "keys": [old_public if phase > 1 else public_jwk(generate_private_key(), "openedx-2024")]
        }
    return KeyMaterial(
        current,
        lms_jwks,
        services_jwks,
        published,
        signing_jwk=_signing_jwk(current, current_kid, active),
        next_key=new if phase < 4 else None,
        next_kid=NEXT_KID,
        rotation_phase=phase,
    )


@functools.cache
def load_signing_jwk(path: str) -> Any:
    """The LMS's JWT_PRIVATE_SIGNING_JWK, loaded the way the platform signs since Quince: PyJWT's
    PyJWK (which refuses a JWK with p and q but without dp, dq and qi: InvalidKeyError)."""
    import jwt

    return jwt.PyJWK(json.loads(Path(path).read_text()), ALGORITHM).key


@functools.cache
def load_private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key
