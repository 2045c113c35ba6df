"""Negative inputs from data vectors: wrong secrets and forged JWTs, made from genuine ones."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from faker import Faker

from conformance._lib.data import data_file
from conformance._lib.jwts import JwkSet, b64url, parse_jwt, sign_hmac
from conformance._lib.redact import REDACTOR

__all__ = [
    "VECTORS_DIR",
    "forge_jwt",
    "load_vectors",
    "resign",
    "secret_variant",
    "weak_secrets",
]

VECTORS_DIR = data_file("vectors")
# Nothing listens on the discard port: a server that fetches jku/x5u gets nothing back.
UNSERVED_URL = "http://127.0.0.1:9/keys.json"


@functools.cache
def load_vectors(name: str) -> list[dict[str, Any]]:
    return list(json.loads(VECTORS_DIR.joinpath(f"{name}.json").read_text(encoding="utf-8"))["cases"])


@functools.cache
def weak_secrets() -> tuple[str, ...]:
    lines = VECTORS_DIR.joinpath("weak-jwt-secrets.txt").read_text(encoding="utf-8").splitlines()
    return tuple(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))


# Secret variants (BC-04) ---------------------------------------------------------------------------


def _change_last(secret: str) -> str:
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


_SECRET_TRANSFORMS: dict[str, Callable[[str, str, Faker], str | None]] = {
    "empty": lambda s, other, f: "",
    "missing": lambda s, other, f: None,
    "change_last_char": lambda s, other, f: _change_last(s),
    "truncate": lambda s, other, f: s[:-1],
    "first_half": lambda s, other, f: s[: max(1, len(s) // 2)],
    "suffix": lambda s, other, f: s + f.pystr(min_chars=3, max_chars=6),
    "swap_case": lambda s, other, f: s.swapcase() if s.swapcase() != s else _change_last(s),
    "pad": lambda s, other, f: f" {s} ",
    "other_client": lambda s, other, f: other,
    "random_long": lambda s, other, f: f.pystr(min_chars=64, max_chars=128),
}


def secret_variant(transform: str, secret: str, other_client: str, fake: Faker) -> str | None:
    """A wrong secret derived from the real one; registered for redaction before it is sent."""
    value = _SECRET_TRANSFORMS[transform](secret, other_client, fake)
    if value and len(value) >= 4:
        REDACTOR.add(value)
    return value


# JWT forgeries (JA-01..06) -------------------------------------------------------------------------


def _encode(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return (
        b64url(json.dumps(header, separators=(",", ":")))
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")))
    )


@functools.cache
def _attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _rsa_sign(header: dict[str, Any], claims: dict[str, Any], alg: str = "RS512") -> str:
    token = jwt.encode(claims, _attacker_key(), algorithm=alg, headers=header)
    REDACTOR.add(token)
    return token


def _public_jwk() -> dict[str, Any]:
    return json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_attacker_key().public_key()))


def forge_jwt(vector: dict[str, Any], genuine: str, jwks: JwkSet | None, fake: Faker) -> str:
    """Apply the vector's transform to a genuine token."""
    parsed = parse_jwt(genuine)
    header, claims = dict(parsed.header), dict(parsed.claims)
    params = vector.get("params", {})
    transform = vector["transform"]
    if transform == "tamper_claim":
        claim = params["claim"]
        if claim == "exp":
            # Longer than any sane lifetime, and never the genuine value (a year-long token issued
            # this second would otherwise be re-created byte for byte).
            extended = int(time.time()) + 86400 * 366
            claims[claim] = extended if extended != claims.get("exp") else extended + 86400
        else:
            claims[claim] = fake.user_name() + "x"
        return _encode(parsed.header, claims) + "." + genuine.rsplit(".", 1)[1]
    if transform == "strip_signature":
        return parsed.signing_input + "."
    if transform == "foreign_hmac":
        return sign_hmac(header, claims, fake.pystr(min_chars=32, max_chars=40).encode(), "sha256")
    if transform == "foreign_rsa":
        return _rsa_sign({k: v for k, v in header.items() if k != "alg"}, claims)
    if transform == "alg_none":
        return _encode({**header, "alg": params["alg"]}, claims) + "."
    if transform == "key_confusion":
        if jwks is None or not jwks.rsa_keys():
            raise LookupError("the profile's JWK set has no RSA key to confuse")
        key = jwks.rsa_keys()[0]
        secret = (
            jwks.public_pem(key)
            if params["form"] == "pem"
            else json.dumps(key, separators=(",", ":")).encode()
        )
        digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[params["alg"]]
        return sign_hmac({**header, "alg": params["alg"]}, claims, secret, digest)
    if transform == "embedded_jwk":
        return _rsa_sign({"jwk": _public_jwk(), "kid": _public_jwk().get("kid", "attacker")}, claims)
    if transform == "remote_key_url":
        return _rsa_sign({params["header"]: UNSERVED_URL, "kid": "attacker"}, claims)
    if transform == "kid_traversal":
        # The classic: a kid that points a file-based key lookup at /dev/null, HMAC with empty key.
        return sign_hmac({**header, "alg": "HS256", "kid": "../" * 20 + "dev/null"}, claims, b"", "sha256")
    if transform == "kid_unknown":
        return _rsa_sign({"kid": fake.pystr(min_chars=8, max_chars=8)}, claims)
    raise KeyError(f"unknown transform {transform!r}")


def resign(genuine: str, secret: str, **changes: Any) -> str:
    """Re-sign a genuine HS256 token's claims with the profile's secret after `changes`
    (a None value removes the claim): tokens the instance itself could have issued."""
    parsed = parse_jwt(genuine)
    claims = {k: v for k, v in {**parsed.claims, **changes}.items() if v is not None}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
    REDACTOR.add(token)
    return token


def now() -> int:
    return int(time.time())
