"""Signing keys over time: the JWK set's keys audited one by one, and the rotation preflight's key.

The preflight key (`jwt.rotation_key`) is the NEW private signing key of a rotation: a PEM file
(Tutor keeps `JWT_RSA_PRIVATE_KEY` as PEM), a private JWK (what `generate_jwt_signing_key` prints and
`JWT_PRIVATE_SIGNING_JWK` holds), or either inline through `${ENV}`. It is read when a check needs it,
registered with the redactor (text and private members), used to sign one control token and then
dropped: it is never printed, written or kept beyond the call.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance._lib.jwts import PRIVATE_MEMBERS, JwkSet, b64decode, b64url, parse_jwt
from conformance._lib.profile import Profile
from conformance._lib.redact import REDACTOR

__all__ = [
    "KeyProblem",
    "RotationKey",
    "RotationKeyError",
    "audit_keys",
    "key_for",
    "load_rotation_key",
    "longest_lifetime",
    "sign_control",
    "thumbprint",
]

MIN_RSA_BITS = 2048
# What edx-drf-extensions verifies RSA keys with (decoder.verify_jwk_signature_using_keyset).
RSA_ALGORITHMS = ("RS256", "RS512")


@dataclass(frozen=True)
class KeyProblem:
    """What is wrong with one key of the set (never a key value)."""

    index: int
    kid: Any
    problem: str

    def __str__(self) -> str:
        return f"keys[{self.index}] (kid {self.kid!r}): {self.problem}"


def audit_keys(jwks: JwkSet) -> list[KeyProblem]:
    """Every key a resource server may verify with across a rotation: RSA (edx-drf-extensions verifies
    nothing else asymmetrically), n and e present and parseable (PyJWT refuses whitespace inside
    base64url, edx-drf-extensions 8.8.0 changelog), >= 2048 bits, no private member, and a kid of its
    own when the set holds more than one key."""
    problems: list[KeyProblem] = []
    for entry in jwks.private_found:
        index = int(entry.split("]", 1)[0].removeprefix("keys["))
        kid = jwks.keys[index].get("kid") if index < len(jwks.keys) else None
        problems.append(
            KeyProblem(index, kid, "PRIVATE members (" + entry.split(": ", 1)[1] + "): rotate it now")
        )
    kids = [k.get("kid") for k in jwks.keys]
    for index, key in enumerate(jwks.keys):
        kid = key.get("kid")
        if key.get("kty") != "RSA":
            problems.append(
                KeyProblem(index, kid, f"kty {key.get('kty')!r}, not RSA: services cannot use it")
            )
            continue
        missing = [m for m in ("n", "e") if not isinstance(key.get(m), str) or not key.get(m)]
        if missing:
            problems.append(KeyProblem(index, kid, f"public member(s) {missing} missing"))
            continue
        try:
            jwt.PyJWK(key, "RS512")
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            problems.append(KeyProblem(index, kid, f"not a usable RSA public key ({type(exc).__name__})"))
            continue
        bits = len(b64decode(key["n"]).lstrip(b"\0")) * 8
        if bits < MIN_RSA_BITS:
            problems.append(KeyProblem(index, kid, f"{bits}-bit modulus, under {MIN_RSA_BITS}"))
        if len(kids) > 1 and not kid:
            problems.append(KeyProblem(index, kid, "no kid, in a set of several keys"))
        elif kid and kids.count(kid) > 1:
            problems.append(KeyProblem(index, kid, "kid shared with another key of the set"))
    return problems


def key_for(token: str, jwks: JwkSet | None) -> dict[str, Any] | None:
    """The key of the set whose public half verifies this RS* token (kid ignored, as
    edx-drf-extensions ignores it), or None."""
    parsed = parse_jwt(token)
    alg = str(parsed.header.get("alg"))
    if jwks is None or alg not in ("RS256", "RS384", "RS512"):
        return None
    for key in jwks.rsa_keys():
        try:
            public = jwt.PyJWK(key, alg).key
            # The signature only: a clock-skewed iat or an exp are other checks' business.
            options = {"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False}
            jwt.decode(token, public, algorithms=[alg], options=options)  # type: ignore[arg-type]
            return key
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
    return None


def longest_lifetime(tokens: list[str]) -> int:
    """The longest exp - iat among these JWTs: how long a token signed with a key stays usable."""
    lifetimes = []
    for token in tokens:
        claims = parse_jwt(token).claims
        exp, iat = claims.get("exp"), claims.get("iat")
        if isinstance(exp, int | float) and isinstance(iat, int | float):
            lifetimes.append(int(exp - iat))
    return max(lifetimes, default=0)


@dataclass(frozen=True)
class RotationKey:
    """The new private key, only for the duration of one check: its public JWK and where it came
    from; `private` signs and must not outlive the check."""

    private: rsa.RSAPrivateKey
    kid: str | None
    source: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        if self.kid:
            jwk["kid"] = self.kid
        return dict(jwk)

    @property
    def bits(self) -> int:
        return self.private.key_size

    def find_in(self, jwks: JwkSet | None) -> dict[str, Any] | None:
        """The profile's key with the same modulus and exponent, if the set holds it."""
        if jwks is None:
            return None
        mine = self.public_jwk
        return next(
            (k for k in jwks.rsa_keys() if (k.get("n"), k.get("e")) == (mine["n"], mine["e"])),
            None,
        )


class RotationKeyError(ValueError):
    """The rotation key cannot be used; the message names the key and never its value."""


def load_rotation_key(profile: Profile) -> RotationKey:
    """Read `jwt.rotation_key` (a path relative to the profile, or inline PEM / JWK JSON)."""
    spec = str(profile.get("jwt", "rotation_key") or "").strip()
    if not spec:
        raise RotationKeyError("jwt.rotation_key is not set")
    if spec.startswith(("{", "-----BEGIN")):
        source, text = "jwt.rotation_key (inline)", spec
    else:
        path = Path(spec)
        path = path if path.is_absolute() else profile.directory / path
        source = f"jwt.rotation_key ({path})"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RotationKeyError(f"{source} cannot be read ({type(exc).__name__})") from None
    REDACTOR.add(text.strip())
    if text.lstrip().startswith("{"):
        return _from_jwk(text, source)
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise RotationKeyError(
            f"{source} is neither an unencrypted PEM private key nor a private JWK"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RotationKeyError(f"{source} is not an RSA key (the LMS signs RS512)")
    return RotationKey(key, None, source)


def _from_jwk(text: str, source: str) -> RotationKey:
    try:
        data = json.loads(text)
    except ValueError:
        raise RotationKeyError(f"{source} is not valid JSON") from None
    if isinstance(data, dict) and isinstance(data.get("keys"), list) and len(data["keys"]) == 1:
        data = data["keys"][0]
    if not isinstance(data, dict):
        raise RotationKeyError(f"{source} is not a JWK object")
    for member in PRIVATE_MEMBERS:
        if isinstance(data.get(member), str):
            REDACTOR.add(data[member])
    if "d" not in data:
        raise RotationKeyError(f"{source} holds no private key (no d): give the NEW private JWK")
    try:
        # PyJWT, as the LMS signs since Quince: a JWK with p and q but no dp/dq/qi fails here too.
        key = jwt.PyJWK(data, "RS512").key
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise RotationKeyError(f"{source} cannot sign: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RotationKeyError(f"{source} is not an RSA private key")
    kid = data.get("kid")
    return RotationKey(key, str(kid) if kid else None, source)


def sign_control(genuine: str, key: RotationKey, **changes: Any) -> str:
    """A control token: the genuine token's claims with a fresh iat/exp (and `changes`), signed RS512
    with the new key under its kid, as the LMS will sign once it switches."""
    claims = dict(parse_jwt(genuine).claims)
    lifetime = int(claims.get("exp", 0)) - int(claims.get("iat", 0))
    now = int(time.time())
    claims.update(iat=now, exp=now + (lifetime if 0 < lifetime <= 3600 else 300))
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"typ": "JWT", **({"kid": key.kid} if key.kid else {})}
    token = jwt.encode(claims, key.private, algorithm="RS512", headers=headers)
    REDACTOR.add(token, token.rsplit(".", 1)[1])
    return token


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an RSA public key, shortened: names a key without its kid."""
    import hashlib

    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())[:12]
