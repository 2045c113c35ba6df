"""Other Open edX services as resource servers: their probe, and why one refuses the LMS's tokens.

A service (course discovery, ecommerce, credentials, an IDA) validates the LMS's JWTs with its own
edx-drf-extensions `JWT_AUTH` (edx-drf-extensions `auth/jwt/decoder.py`, 10.6.0):
- the signature is tried against every key of `JWT_PUBLIC_SIGNING_JWK_SET` (RS256/RS512), then with
  `JWT_ISSUERS[0]['SECRET_KEY']` (HS256): only the FIRST issuer entry's secret is used;
- `aud` is checked against `JWT_ISSUERS[0]['AUDIENCE']` at that signature step, whatever
  `JWT_VERIFY_AUDIENCE` says, since 8.8.0 (PR #311 replaced pyjwkest, which checked the signature
  only; before it, `JWT_VERIFY_AUDIENCE: False` let tokens of any audience through);
- `exp` is checked there too (no leeway), then `iss` must equal some `JWT_ISSUERS[*]['ISSUER']`.
Every refusal is the same 401 "Invalid token.", so the cause is found by comparing signing paths
(HS256 vs RS512) and, with the profile's HS256 secret, by re-signing variants of the claims.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from conformance._lib.diagnose import issued_ahead
from conformance._lib.forge import resign
from conformance._lib.http import Exchange, Http, Unreachable
from conformance._lib.jwts import JwkSet, parse_jwt
from conformance._lib.profile import Profile
from conformance._lib.registry import blocked, not_verified
from conformance._lib.rotation import RotationKeyError, key_for, load_rotation_key, sign_control, thumbprint
from conformance._lib.tokens import Issued, TokenFlows

__all__ = [
    "AUDIENCE_NOTE",
    "SERVICE_CONTROL",
    "Genuine",
    "Signer",
    "TokenKind",
    "accepts_genuine",
    "diagnose_refusal",
    "fetch",
    "genuine_tokens",
    "labelled",
    "probe",
    "remember",
    "require_service",
    "signer",
]

# The check that verifies, once per service, that it answers and accepts the LMS's tokens (its
# control): the other cases of that service are blocked when it fails.
SERVICE_CONTROL = "services.genuine.accepted"

# Settled from edx-drf-extensions' history (CHANGELOG 8.8.0; decoder.py at 8.7.0 / 8.8.0 / 10.6.0).
AUDIENCE_NOTE = (
    "JWT_VERIFY_AUDIENCE is off there and its edx-drf-extensions is older than 8.8.0: before 8.8.0 "
    "(pyjwkest checked the signature only) that setting turned the audience check off entirely; "
    "from 8.8.0 on, aud is checked against JWT_ISSUERS[0]['AUDIENCE'] at the signature step whatever "
    "the setting. Set JWT_VERIFY_AUDIENCE: True, or upgrade edx-drf-extensions"
)
# Audiences seen in real deployments: Tutor's, the platform default, devstack's.
KNOWN_AUDIENCES = ("openedx", "change-me", "lms-key")


def probe(http: Http, svc: dict[str, Any], token: str | None, *, scheme: str = "JWT") -> Exchange:
    """GET the service's probe with `Authorization: <scheme> <token>`."""
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    return http.get(str(svc["base_url"]).rstrip("/") + str(svc["probe"]), headers=headers)


class TokenKind(Enum):
    """A kind of JWT the LMS issues that a service must accept; the value is its label in messages."""

    DEFAULT = "default (HS256)"
    ASYMMETRIC = "asymmetric (RS512)"
    PASSWORD = "password grant"

    @property
    def label(self) -> str:
        return str(self.value)


def fetch(tokens: TokenFlows, kind: TokenKind) -> Issued:
    """The run's shared token of that kind."""
    flows = {
        TokenKind.DEFAULT: tokens.jwt,
        TokenKind.ASYMMETRIC: tokens.asymmetric_jwt,
        TokenKind.PASSWORD: tokens.password_jwt,
    }
    return flows[kind]()


@dataclass(frozen=True)
class Genuine:
    """One kind of token the LMS issues, with how to get it."""

    kind: TokenKind
    fetch: Callable[[], Issued]

    @property
    def label(self) -> str:
        return self.kind.label


def genuine_tokens(tokens: TokenFlows, profile: Profile) -> list[Genuine]:
    """The LMS's tokens a service must accept: the default (HS256) and asymmetric (RS512)
    client-credentials JWTs, and with [password_grant] a user's password-grant JWT."""
    kinds = [TokenKind.DEFAULT, TokenKind.ASYMMETRIC]
    if profile.has_password_grant:
        kinds.append(TokenKind.PASSWORD)
    return [Genuine(kind, functools.partial(fetch, tokens, kind)) for kind in kinds]


def labelled(answers: dict[TokenKind, int]) -> dict[str, int]:
    """Statuses by kind, as a message shows them (`{'default (HS256)': 401, ...}`)."""
    return {kind.label: status for kind, status in answers.items()}


# Results other checks of the same run may reuse (a control token's verdict), per client.
_MEMO: weakref.WeakKeyDictionary[Http, dict[Any, Any]] = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()


def remember(http: Http, key: Any, compute: Callable[[], Any]) -> Any:
    """Compute once per run (per HTTP client) and reuse: the positive control every re-signed case
    of a service needs is sent once."""
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(http, {})
        lock = memo.setdefault((_MEMO_LOCK, key), threading.Lock())
    with lock:  # cases running at the same time (--concurrency) wait for the one computing it
        if key not in memo:
            memo[key] = compute()
        return memo[key]


def accepts_genuine(http: Http, profile: Profile, tokens: TokenFlows, jwks: JwkSet | None, name: str) -> str:
    """The control of a service, once a run: '' when it accepts every kind of JWT the LMS issues,
    else what it answered and which of issuer, audience or key differs (or that it does not answer)."""

    def compute() -> str:
        svc = profile.entry("services", name)
        issued = {genuine.kind: genuine.fetch().token for genuine in genuine_tokens(tokens, profile)}
        answers: dict[TokenKind, int] = {}
        for kind, token in issued.items():
            try:
                answers[kind] = probe(http, svc, token).status
            except Unreachable as exc:
                return f"{name} does not answer at {svc['base_url']}: {exc}"
        if all(status == 200 for status in answers.values()):
            return ""
        return f"{labelled(answers)}; {diagnose_refusal(http, profile, svc, answers, issued, jwks)}"

    return str(remember(http, ("genuine", name), compute))


def require_service(http: Http, profile: Profile, tokens: TokenFlows, jwks: JwkSet | None, name: str) -> None:
    """Blocked by the service's control unless the service accepts the LMS's genuine tokens: a
    refusal of anything else proves nothing there."""
    why = accepts_genuine(http, profile, tokens, jwks, name)
    if why:
        blocked(f"{SERVICE_CONTROL}[{name}]", f"{name} does not accept the LMS's genuine tokens: {why}")


def _key_name(token: str, jwks: JwkSet | None) -> str:
    header = parse_jwt(token).header
    key = key_for(token, jwks)
    if key is not None:
        return f"kid {key.get('kid')!r} (thumbprint {thumbprint(key)})"
    if header.get("kid"):
        return f"kid {header['kid']!r}"
    return "the LMS's current RS512 key (no key of the profile's jwt.jwks verifies it)"


def diagnose_refusal(
    http: Http,
    profile: Profile,
    svc: dict[str, Any],
    answers: dict[TokenKind, int],
    tokens: dict[TokenKind, str],
    jwks: JwkSet | None,
) -> str:
    """Which of issuer, audience or key differs between the LMS and the service, from which tokens
    the service refused (`answers`: kind -> status) and, when the profile gives the HS256 secret,
    re-signed variants of the default token's claims."""
    hs, rs = answers.get(TokenKind.DEFAULT), answers.get(TokenKind.ASYMMETRIC)
    claims = parse_jwt(tokens[TokenKind.DEFAULT]).claims
    iss, aud = claims.get("iss"), claims.get("aud")
    name = svc["name"]
    if all(status not in (200, 401, 403) for status in answers.values()):
        status = next(iter(answers.values()))
        return (
            f"{name} answers HTTP {status} at its probe for every token: the service is down, or the "
            "proxy in front of it cannot reach it (or the probe path is wrong); start it, or fix its "
            "base_url and probe in the profile"
        )
    if all(status == 401 for status in answers.values()) and (ahead := issued_ahead(claims)):
        return ahead
    if any(status == 403 for status in answers.values()):
        return (
            f"{name} authenticated a token but refused the request (403): a permission of its probe "
            "view (a restricted application, a staff-only API), not its JWT settings; choose a probe "
            "any authenticated service user may read"
        )
    if hs == 200 and rs == 200:
        return (
            "the service tokens pass and the password-grant (user) token does not: issuer, audience "
            "and keys match; the probe's permissions refuse that user"
        )
    if hs != 200 and rs == 200:
        return (
            f"key: the HS256 secret differs. Issuer {iss!r} and audience {aud!r} match (the RS512 token "
            f"passes); {name} verifies HS256 with JWT_AUTH['JWT_ISSUERS'][0]['SECRET_KEY'] (only the "
            "FIRST entry's secret and audience are used: an entry for another issuer listed first "
            "breaks it), which must equal the LMS's JWT_SECRET_KEY (oauth §9.4)"
        )
    if hs == 200 and rs != 200:
        return (
            f"key: {name}'s JWT_PUBLIC_SIGNING_JWK_SET lacks the key the LMS signs RS512 tokens with "
            f"({_key_name(tokens[TokenKind.ASYMMETRIC], jwks)}); issuer and audience match (the HS256 "
            "token passes). Add the LMS's current public key to the service's set (docs/key-rotation.md)"
        )
    secret = profile.get("jwt", "hs256_secret")
    compare = (
        f"compare {name}'s JWT_AUTH['JWT_ISSUERS'][0]: ISSUER must be {iss!r}, AUDIENCE {aud!r}, "
        "SECRET_KEY the LMS's JWT_SECRET_KEY; and its JWT_PUBLIC_SIGNING_JWK_SET must hold "
        f"{_key_name(tokens[TokenKind.ASYMMETRIC], jwks)} (oauth §9.1-4)"
    )
    if not secret:
        return (
            "issuer or audience (both signing methods are refused, so keys alone do not explain it): "
            f"{compare}. Add jwt.hs256_secret to the profile to let the suite tell which"
        )
    genuine = tokens[TokenKind.DEFAULT]
    for claim, value in _variants(profile, str(iss), str(aud)):
        if probe(http, svc, resign(genuine, secret, **{claim: value})).status == 200:
            what = "issuer" if claim == "iss" else "audience"
            signed = iss if claim == "iss" else aud
            setting = "ISSUER" if claim == "iss" else "AUDIENCE"
            return (
                f"{what}: the LMS signs {claim}={signed!r}, {name} accepts {claim}={value!r} (a re-signed "
                f"token with that {claim} passes). Make JWT_AUTH['JWT_ISSUERS'][0]['{setting}'] of the "
                f"service and the LMS's JWT_{'ISSUER' if claim == 'iss' else 'AUDIENCE'} agree"
            )
    return (
        "issuer or audience, or both keys (both signing methods are refused, and no usual issuer or "
        f"audience variant passes): {compare}"
    )


def _variants(profile: Profile, iss: str, aud: str) -> list[tuple[str, str]]:
    """Claim values a drifted service may trust: the profile's own issuer and audience first, then
    the usual drifts (http vs https, a trailing slash; the platform's default audiences)."""
    issuers = [profile.issuer]
    if iss.startswith("http://"):
        issuers.append("https://" + iss.removeprefix("http://"))
    elif iss.startswith("https://"):
        issuers.append("http://" + iss.removeprefix("https://"))
    issuers.append(iss[:-1] if iss.endswith("/") else iss + "/")
    audiences = [profile.audience, *KNOWN_AUDIENCES]
    found: list[tuple[str, str]] = []
    for claim, values, current in (("iss", issuers, iss), ("aud", audiences, aud)):
        for value in values:
            if value != current and (claim, value) not in found:
                found.append((claim, value))
    return found[:7]


@dataclass(frozen=True)
class Signer:
    """How the suite re-signs test tokens: the profile key that holds the signing key (a skip names
    it), its algorithm, the kind of genuine token it starts from, and the signing function
    (`sign(genuine, **claim_changes)`)."""

    key: str
    alg: str
    base: TokenKind
    sign: Callable[..., str]

    @property
    def name(self) -> str:
        return f"{self.key} ({self.alg})"


def signer(profile: Profile) -> Signer:
    """The LMS's HS256 secret, else the rotation key (RS512); not verified without either."""
    secret = profile.get("jwt", "hs256_secret")
    if secret:
        return Signer(
            "jwt.hs256_secret",
            "HS256",
            TokenKind.DEFAULT,
            lambda genuine, **changes: resign(genuine, secret, **changes),
        )
    if profile.get("jwt", "rotation_key"):
        try:
            key = load_rotation_key(profile)
        except RotationKeyError as exc:
            not_verified("jwt.hs256_secret", f"{exc}; add jwt.hs256_secret to re-sign test tokens")
        return Signer(
            "jwt.rotation_key",
            "RS512",
            TokenKind.ASYMMETRIC,
            lambda genuine, **changes: sign_control(genuine, key, **changes),
        )
    not_verified(
        "jwt.hs256_secret",
        "add jwt.hs256_secret (the LMS's JWT_SECRET_KEY), or jwt.rotation_key, so that the suite can "
        "re-sign test tokens with a wrong aud, iss or exp",
    )
