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


def public_jwk_set_json(key: rsa.RSAPrivateKey, kid: str = KID) -> str:
    return json.dumps(public_jwk_set(key, kid))


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
    instance has one key in all three; the key faults make them differ."""

    private_key: rsa.RSAPrivateKey
    lms_jwks: dict[str, Any]
    services_jwks: dict[str, Any]
    published_jwks: dict[str, Any]


def key_material(faults: Iterable[str] = ()) -> KeyMaterial:
    """Tutor's single 2048-bit key with kid "openedx", or what a key fault makes of it."""
    active = set(faults)
    key = generate_private_key(1024 if "rsa-1024-key" in active else 2048)
    lms_jwks = services_jwks = published = public_jwk_set(key)
    if "signing-key-not-published" in active:
        # Rotated on the LMS only: it signs with (and trusts) the new key; everyone else has the old.
        old = generate_private_key()
        lms_jwks = {"keys": [public_jwk(key, "openedx-2025"), public_jwk(old)]}
        services_jwks = published = public_jwk_set(old)
    if "jwks-stale" in active:
        # Rotated across the deployment; the set handed to the operator is the old one.
        published = public_jwk_set(generate_private_key())
    if "jwks-duplicate-kid" in active:
        # The rotation's new key went in under the old key's kid, everywhere.
        lms_jwks = services_jwks = published = {"keys": [public_jwk(generate_private_key()), public_jwk(key)]}
    if "jwks-single-key" in active:
        # Published only: the operator was handed the bare JWK, not a set ({"keys": [...]}).
        published = public_jwk(key)
    if "jwks-private-members" in active:
        # Published only: a resource server given the private JWK could not verify with it at all.
        published = {"keys": [private_jwk(key)]}
    return KeyMaterial(key, lms_jwks, services_jwks, published)


@functools.cache
def load_private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key
