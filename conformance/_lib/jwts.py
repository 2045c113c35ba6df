"""JWT and JWK-set helpers: parse without trusting, verify with the profile's keys, forge attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import jwt.warnings
from jwt.algorithms import RSAAlgorithm

from conformance._lib.http import Http, HttpProblem, http_for
from conformance._lib.profile import Profile
from conformance._lib.redact import REDACTOR
from conformance._lib.verify import ConformanceFailure

__all__ = [
    "PRIVATE_MEMBERS",
    "JwkSet",
    "MalformedJwt",
    "ParsedJwt",
    "b64decode",
    "b64url",
    "load_jwks",
    "parse_jwt",
    "sign_hmac",
    "verify_signature",
]

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class MalformedJwt(ConformanceFailure, ValueError):
    """A token that should be a JWT and is not: a conformance failure wherever it is met."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            "the access token of a token_type=jwt response is a compact JWS (RFC 7515 7.1)",
            "header.payload.signature, each base64url, header and payload JSON objects",
            problem,
        )


@dataclass(frozen=True)
class ParsedJwt:
    """A JWT split into its parts; header and claims decoded, nothing trusted."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: str
    signature: bytes

    def describe(self) -> str:
        """Header and claims for the report: the raw token and signature are never shown."""
        return json.dumps({"header": self.header, "claims": self.claims}, indent=2, default=str)


def parse_jwt(token: str) -> ParsedJwt:
    """Split and decode a compact JWS; ValueError says what is malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJwt(f"{len(parts)} dot-separated parts, not 3")
    decoded: list[Any] = []
    for name, part in zip(("header", "payload"), parts[:2], strict=True):
        if not part or any(c not in _B64URL for c in part):
            raise MalformedJwt(f"the {name} is not base64url")
        try:
            value = json.loads(b64decode(part))
        except (ValueError, RecursionError):
            raise MalformedJwt(f"the {name} is not base64url-encoded JSON") from None
        if not isinstance(value, dict):
            raise MalformedJwt(f"the {name} is JSON but not an object")
        decoded.append(value)
    if any(c not in _B64URL for c in parts[2]):
        raise MalformedJwt("the signature is not base64url")
    REDACTOR.add(token, parts[2])
    return ParsedJwt(token, decoded[0], decoded[1], f"{parts[0]}.{parts[1]}", b64decode(parts[2]))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass
class JwkSet:
    """The profile's public JWK set, with private members stripped before it is kept."""

    source: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    private_found: list[str] = field(default_factory=list)

    def rsa_keys(self) -> list[dict[str, Any]]:
        return [k for k in self.keys if k.get("kty") == "RSA"]

    def public_pem(self, key: dict[str, Any]) -> bytes:
        from cryptography.hazmat.primitives import serialization

        public = RSAAlgorithm.from_jwk(json.dumps(key))
        return public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def load_jwks(profile: Profile, http: Http | None = None) -> JwkSet | None:
    """None when the profile gives no key set; problems are recorded, never raised. A URL is fetched
    through the run's client (timeouts, body limit, CA bundle, budget)."""
    spec = profile.get("jwt", "jwks")
    if not spec:
        return None
    spec = str(spec).strip()
    text: str | None = None
    if spec.startswith("{"):
        source, text = "inline JSON (jwt.jwks)", spec
    elif spec.startswith("https://") or spec.startswith("http://"):
        source = spec
        client = http or http_for(profile)
        try:
            exchange = client.get(spec)
        except HttpProblem as exc:
            return JwkSet(source, problems=[f"{spec} could not be fetched ({exc})"])
        finally:
            if http is None:
                client.close()
        if exchange.status != 200 or exchange.truncated:
            why = "a body over the size limit" if exchange.truncated else f"HTTP {exchange.status}"
            return JwkSet(source, problems=[f"{spec} answered {why}"])
        text = exchange.text
    else:
        path = Path(spec)
        path = path if path.is_absolute() else profile.directory / path
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return JwkSet(source, problems=[f"cannot read {path} ({type(exc).__name__})"])
    return parse_jwks(text, source)


def parse_jwks(text: str, source: str) -> JwkSet:
    result = JwkSet(source)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        result.problems.append("not valid JSON")
        return result
    if isinstance(data, dict) and "keys" not in data and "kty" in data:
        result.problems.append('a single JWK, not a JWK set ({"keys": [...]})')
        data = {"keys": [data]}
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        result.problems.append('no "keys" array')
        return result
    for index, key in enumerate(data["keys"]):
        if not isinstance(key, dict):
            result.problems.append(f"keys[{index}] is not an object")
            continue
        private = [m for m in PRIVATE_MEMBERS if m in key]
        if private:
            # Remember that it happened and which key, never the values.
            result.private_found.append(f"keys[{index}] (kid {key.get('kid')!r}): {private}")
            for member in private:
                value = key.pop(member)
                if isinstance(value, str):
                    REDACTOR.add(value)
        result.keys.append(key)
    return result


def verify_signature(
    token: str,
    jwks: JwkSet | None,
    hs256_secret: str | None,
    algorithms: list[str],
    *,
    ignore_kid: bool = False,
) -> tuple[bool, str]:
    """(verified, how): tries the header's alg against matching keys from the set or the secret.
    `ignore_kid` tries every key of the set: whether the key material is right, the kid aside."""
    parsed = parse_jwt(token)
    alg = parsed.header.get("alg")
    if alg not in algorithms:
        return False, f"alg {alg!r} is not among the profile's algorithms {algorithms}"
    options = {
        "verify_exp": False,
        "verify_aud": False,
        "verify_iss": False,
        "verify_iat": False,
        "verify_nbf": False,
    }
    candidates: list[tuple[str, Any]] = []
    if str(alg).startswith("HS"):
        if not hs256_secret:
            return False, "an HMAC-signed token, and the profile gives no jwt.hs256_secret"
        candidates.append(("jwt.hs256_secret", hs256_secret))
    else:
        if jwks is None or not jwks.keys:
            return False, "the profile's JWK set has no usable key"
        kid = None if ignore_kid else parsed.header.get("kid")
        keys = [k for k in jwks.keys if kid is None or k.get("kid") == kid]
        if not keys:
            return False, f"no key with kid {kid!r} in the JWK set"
        for key in keys:
            try:
                candidates.append((f"kid {key.get('kid')!r}", jwt.PyJWK(key, alg).key))
            except jwt.PyJWTError:
                continue
    for name, key in candidates:
        try:
            with warnings.catch_warnings():
                # Short HMAC keys are exactly what JA-08 tries on purpose.
                warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
                jwt.decode(token, key, algorithms=[str(alg)], options=options)  # type: ignore[arg-type]
            return True, f"verified with {name} ({alg})"
        except jwt.InvalidSignatureError:
            continue
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
    return False, f"no key verified the {alg} signature ({len(candidates)} tried)"


def sign_hmac(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: str) -> str:
    """HMAC-sign with any key bytes. PyJWT refuses PEM keys as HMAC secrets, which is exactly the
    key-confusion attack (RFC 8725 2.1) the suite must be able to send."""
    signing_input = f"{b64url(json.dumps(header, separators=(',', ':')))}." + b64url(
        json.dumps(claims, separators=(",", ":"))
    )
    mac = hmac.new(key, signing_input.encode(), getattr(hashlib, digest)).digest()
    token = f"{signing_input}.{b64url(mac)}"
    REDACTOR.add(token, b64url(mac))
    return token
