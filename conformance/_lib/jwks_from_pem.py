"""Derive a public JWK set from a private key (PEM or JSON JWK); private members never leave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conformance._lib.jwts import PRIVATE_MEMBERS, b64url

__all__ = ["KeyFileError", "public_jwks", "public_jwks_from_bytes"]


class KeyFileError(Exception):
    """The key file cannot be used; the message names the file, never key material."""


def _load_private(path: str, raw: bytes) -> tuple[Any, str | None]:
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            key = jwt.PyJWK(data).key
        except (ValueError, jwt.PyJWTError) as exc:
            raise KeyFileError(f"{path}: not a usable JWK ({type(exc).__name__})") from None
        return key, data.get("kid")
    try:
        return serialization.load_pem_private_key(raw, password=None), None
    except (ValueError, TypeError) as exc:
        hint = " (encrypted keys are not supported)" if "encrypted" in str(exc).lower() else ""
        raise KeyFileError(f"{path}: not an unencrypted PEM private key{hint}") from None


def public_jwks(path: Path, *, kid: str | None = None, alg: str = "RS512") -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return public_jwks_from_bytes(raw, source=str(path), kid=kid, alg=alg)


def public_jwks_from_bytes(
    raw: bytes, *, source: str, kid: str | None = None, alg: str = "RS512"
) -> dict[str, Any]:
    """The same from key material in memory (Tutor's JWT_RSA_PRIVATE_KEY); `source` names it."""
    key, jwk_kid = _load_private(source, raw)
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, rsa.RSAPublicKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    else:
        raise KeyFileError(f"{source}: only RSA and EC keys are supported")
    jwk = {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}
    if not kid:
        kid = jwk_kid or _thumbprint(jwk)
    jwk.update(kid=kid, use="sig", alg=alg)
    return {"keys": [jwk]}


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint: a stable kid when the key has none."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical.encode())
    return b64url(digest.finalize())
