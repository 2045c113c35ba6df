"""RSA signing keys for the reference LMS: generation (Tutor style), the public JWK set, loading.

The private key is parsed once per process (``load_private_key`` is cached): re-parsing a PEM on
every token request would dominate the cost of an RS512 token.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# Tutor renders one 2048-bit key with this kid into both the private JWK and the public set.
KID = "openedx"
ALGORITHM = "RS512"


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


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


@functools.cache
def load_private_key(path: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key
