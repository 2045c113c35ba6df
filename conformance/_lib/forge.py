"""Negative inputs from data vectors: wrong secrets and forged JWTs, made from genuine ones."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from faker import Faker

from conformance._lib.data import data_file
from conformance._lib.jwts import JwkSet, ParsedJwt, b64url, parse_jwt, sign_hmac
from conformance._lib.redact import REDACTOR
from conformance._lib.schemas import schema_errors

__all__ = [
    "FORGED",
    "GENUINE",
    "JWT_TRANSFORMS",
    "SECRET_TRANSFORMS",
    "VECTORS_DIR",
    "VECTOR_FILES",
    "Forgery",
    "forge_jwt",
    "load_vectors",
    "resign",
    "secret_variant",
    "vector_errors",
    "vectors_for",
    "weak_secrets",
]

VECTORS_DIR = data_file("vectors")
# Nothing listens on the discard port: a server that fetches jku/x5u gets nothing back.
UNSERVED_URL = "http://127.0.0.1:9/keys.json"


@functools.cache
def weak_secrets() -> tuple[str, ...]:
    lines = VECTORS_DIR.joinpath("weak-jwt-secrets.txt").read_text(encoding="utf-8").splitlines()
    return tuple(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))


# Secret variants (BC-04) ---------------------------------------------------------------------------


def _change_last(secret: str) -> str:
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


# The transforms a secret-variants vector may name: (real secret, another client's id, Faker) -> the
# wrong secret to send (None: send no client_secret field at all).
SECRET_TRANSFORMS: dict[str, Callable[[str, str, Faker], str | None]] = {
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
    value = SECRET_TRANSFORMS[transform](secret, other_client, fake)
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


@dataclass(frozen=True)
class Forgery:
    """What a JWT transform starts from: the genuine token taken apart, the vector's params, the
    profile's key set and the run's Faker."""

    genuine: str
    parsed: ParsedJwt
    params: Mapping[str, Any]
    jwks: JwkSet | None
    fake: Faker

    @property
    def header(self) -> dict[str, Any]:
        return dict(self.parsed.header)

    @property
    def claims(self) -> dict[str, Any]:
        return dict(self.parsed.claims)


def _tamper_claim(f: Forgery) -> str:
    claims, claim = f.claims, f.params["claim"]
    if claim == "exp":
        # Longer than any sane lifetime, and never the genuine value (a year-long token issued this
        # second would otherwise be re-created byte for byte).
        extended = int(time.time()) + 86400 * 366
        claims[claim] = extended if extended != claims.get("exp") else extended + 86400
    else:
        claims[claim] = f.fake.user_name() + "x"
    return _encode(f.header, claims) + "." + f.genuine.rsplit(".", 1)[1]


def _key_confusion(f: Forgery) -> str:
    if f.jwks is None or not f.jwks.rsa_keys():
        raise LookupError("the profile's JWK set has no RSA key to confuse")
    key = f.jwks.rsa_keys()[0]
    secret = (
        f.jwks.public_pem(key)
        if f.params["form"] == "pem"
        else json.dumps(key, separators=(",", ":")).encode()
    )
    digest = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[f.params["alg"]]
    return sign_hmac({**f.header, "alg": f.params["alg"]}, f.claims, secret, digest)


def _kid_traversal(f: Forgery) -> str:
    # The classic: a kid that points a file-based key lookup at /dev/null, HMAC with an empty key.
    header = {**f.header, "alg": "HS256", "kid": "../" * 20 + "dev/null"}
    return sign_hmac(header, f.claims, b"", "sha256")


# The transforms a jwt-attacks vector may name (its `transform`), each from a genuine token.
JWT_TRANSFORMS: dict[str, Callable[[Forgery], str]] = {
    "tamper_claim": _tamper_claim,
    "strip_signature": lambda f: f.parsed.signing_input + ".",
    "foreign_hmac": lambda f: sign_hmac(
        f.header, f.claims, f.fake.pystr(min_chars=32, max_chars=40).encode(), "sha256"
    ),
    "foreign_rsa": lambda f: _rsa_sign({k: v for k, v in f.header.items() if k != "alg"}, f.claims),
    "alg_none": lambda f: _encode({**f.header, "alg": f.params["alg"]}, f.claims) + ".",
    "key_confusion": _key_confusion,
    "embedded_jwk": lambda f: _rsa_sign(
        {"jwk": _public_jwk(), "kid": _public_jwk().get("kid", "attacker")}, f.claims
    ),
    "remote_key_url": lambda f: _rsa_sign({f.params["header"]: UNSERVED_URL, "kid": "attacker"}, f.claims),
    "kid_traversal": _kid_traversal,
    "kid_unknown": lambda f: _rsa_sign({"kid": f.fake.pystr(min_chars=8, max_chars=8)}, f.claims),
}


# Forged tokens are no credential (the instance must refuse them): a reproduction spells them out.
# token -> (what to spell, the variable that stands for the rest or ""): a tampered payload keeps a
# genuine signature, which stays a secret.
FORGED: dict[str, tuple[str, str]] = {}
# A tampered token -> the genuine token whose signature it keeps (a reproduction obtains a genuine
# token again for it).
GENUINE: dict[str, str] = {}


def forge_jwt(vector: Mapping[str, Any], genuine: str, jwks: JwkSet | None, fake: Faker) -> str:
    """Apply the vector's transform to a genuine token."""
    forgery = Forgery(genuine, parse_jwt(genuine), vector.get("params", {}), jwks, fake)
    token = JWT_TRANSFORMS[vector["transform"]](forgery)
    signature = token.rsplit(".", 1)[-1]
    if signature == genuine.rsplit(".", 1)[-1]:
        FORGED[token] = (token.rsplit(".", 1)[0] + ".", "GENUINE_JWT_SIGNATURE")
        GENUINE[token] = genuine
    else:
        FORGED[token] = (token, "")
        if signature and token not in genuine:
            REDACTOR.publish(token)  # shown as sent in the report's curl lines: it is no credential
    return token


# The vector files ----------------------------------------------------------------------------------

# Each vector file (`vectors/<name>.json`, schema `schemas/vectors-<name>.schema.json`) and the table
# of transforms its vectors name.
VECTOR_FILES: dict[str, Mapping[str, Callable[..., Any]]] = {
    "jwt-attacks": JWT_TRANSFORMS,
    "secret-variants": SECRET_TRANSFORMS,
}


def vector_errors(name: str, data: Any) -> list[str]:
    """Why the content of vector file `name` is not usable (empty when it is): its schema, unique
    ids, and a transform its table has."""
    errors = schema_errors(data, f"vectors-{name}")
    if errors:
        return errors
    transforms = VECTOR_FILES[name]
    ids = [case["id"] for case in data["cases"]]
    errors += [f"cases: id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    errors += [
        f"cases/{n}: transform {case['transform']!r} is not in the table of conformance/_lib/forge.py"
        for n, case in enumerate(data["cases"])
        if case["transform"] not in transforms
    ]
    return errors


@functools.cache
def load_vectors(name: str) -> tuple[dict[str, Any], ...]:
    """The vectors of `vectors/<name>.json`, validated (a typo fails loudly instead of dropping a case)."""
    with (VECTORS_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    errors = vector_errors(name, data)
    if errors:
        raise ValueError(f"vectors/{name}.json: " + "; ".join(errors))
    return tuple(data["cases"])


def vectors_for(name: str, check_id: str) -> list[dict[str, Any]]:
    """The vectors of file `name` that feed check `check_id` (there must be some)."""
    cases = [case for case in load_vectors(name) if case["check"] == check_id]
    if not cases:
        raise LookupError(f"vectors/{name}.json has no vector for check {check_id}")
    return cases


def resign(genuine: str, secret: str, **changes: Any) -> str:
    """Re-sign a genuine HS256 token's claims with the profile's secret after `changes`
    (a None value removes the claim): tokens the instance itself could have issued."""
    parsed = parse_jwt(genuine)
    claims = {k: v for k, v in {**parsed.claims, **changes}.items() if v is not None}
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
    REDACTOR.add(token)
    return token
