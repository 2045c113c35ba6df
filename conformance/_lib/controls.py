"""Positive controls: key material from the profile is shown to be the instance's own before a check
relies on it.

Checks that re-sign tokens with `jwt.hs256_secret` (a wrong `aud`, an expired `exp`) or forge them
with `jwt.jwks` (HMAC keyed with the public RSA key) prove something only when that key material is
what the instance really uses: a token re-signed with a stale secret is refused for its signature,
whatever the resource thinks of its `aud` or `exp`, and the check would pass on a resource that
checks neither. So, once per run and per key, a control:

- `jwt.hs256_secret`: the instance's own default token is accepted at the resource probe (the
  baseline), a token re-signed with the secret and the same, correct, claims is accepted too, and an
  HMAC-signed genuine token verifies with the secret;
- `jwt.jwks`: the instance's own RS512 token verifies with a key of the set (its `kid` aside: a
  wrong `kid` is the instance's fault, which `jwt.signature.verifies` reports); when it does not, the
  probe is asked whether it accepts that token.

A control ends in one of these states: `verified` (the dependent checks run), `wrong` (the profile's
key is not the instance's: the dependent cases are *blocked* by the `jwt.profile-keys.*` check,
which fails once, as a profile problem), `no-baseline` (the instance's own
resource refuses its own token: nothing forged can be judged against it, which is the instance's
failure) or `untestable` (asked for an RS512 token, the instance signed with something else: the
key set cannot be tested, `jwt.header.alg` says why). The result is cached on the run's
`TokenFlows` (and, under --workers, computed by the controller), so every check shares one.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from conformance._lib.diagnose import ASYMMETRIC_TOKEN
from conformance._lib.forge import resign
from conformance._lib.jwts import JwkSet, parse_jwt, verify_signature
from conformance._lib.registry import blocked
from conformance._lib.resources import call
from conformance._lib.verify import ConformanceFailure

if TYPE_CHECKING:
    from conformance._lib.http import Exchange, Http
    from conformance._lib.profile import Profile


class TokenFlows(Protocol):
    """What a control needs of the run's token flows (`conformance._lib.tokens.TokenFlows`, which
    caches the controls and hands them to xdist workers; it imports this module, not the reverse)."""

    http: Http
    profile: Profile
    controls: dict[str, Any]

    def jwt(self) -> Any: ...

    def asymmetric_jwt(self) -> Any: ...


__all__ = ["KeyControl", "expect_profile_key", "hs256_control", "jwks_control", "require_control"]

VERIFIED, WRONG, NO_BASELINE, UNTESTABLE = "verified", "wrong", "no-baseline", "untestable"
# The control of the baseline each key's control starts from: the probe accepts the instance's own
# HS256 (default) or RS512 (asymmetric) token.
_BASELINE_CONTROL = {
    "jwt.hs256_secret": "resources.jwt.accepted[default]",
    "jwt.jwks": "resources.jwt.accepted[asymmetric]",
}
# Which check reports a wrong key, by the profile key it names.
REPORTED_BY = {
    "jwt.hs256_secret": "jwt.profile-keys.hs256-secret",
    "jwt.jwks": "jwt.profile-keys.jwks",
}


@dataclass(frozen=True)
class KeyControl:
    """The outcome of one control: the profile key, its state, what was seen, and whether the
    genuine token verified offline with the key (None: not tried, the token is not of its kind)."""

    key: str
    state: str
    detail: str
    offline: bool | None = None
    baseline: Exchange | None = None

    @property
    def hint(self) -> str:
        return (
            f"the profile's {self.key} is not the instance's own key material "
            f"({REPORTED_BY[self.key]} says why): tokens forged with it prove nothing; fix {self.key}"
        )


def _cached(tokens: TokenFlows, name: str) -> KeyControl | None:
    hit = tokens.controls.get(name)
    return hit if isinstance(hit, KeyControl) else None


def _store(tokens: TokenFlows, name: str, control: KeyControl) -> KeyControl:
    tokens.controls[name] = control
    return control


def _probe_path(tokens: TokenFlows) -> str:
    return str(tokens.profile.data["resources"]["me"])


def _once(name: str) -> Callable[[Callable[..., KeyControl]], Callable[..., KeyControl]]:
    """A control is computed once per run even when cases ask for it at the same time
    (--concurrency): the others wait for it and read the cached one."""
    lock = threading.Lock()

    def wrap(compute: Callable[..., KeyControl]) -> Callable[..., KeyControl]:
        @functools.wraps(compute)
        def once(tokens: TokenFlows, *args: Any) -> KeyControl:
            hit = _cached(tokens, name)
            if hit is not None:
                return hit
            with lock:
                return _cached(tokens, name) or compute(tokens, *args)

        return once

    return wrap


@_once("hs256")
def hs256_control(tokens: TokenFlows) -> KeyControl:
    """The control of `jwt.hs256_secret` (the profile must give one). Costs at most two probe
    requests per run, and one on a stock instance (the re-signed control is then the genuine token
    byte for byte, so its answer is the baseline's)."""
    hit = _cached(tokens, "hs256")
    if hit is not None:
        return hit
    key, profile = "jwt.hs256_secret", tokens.profile
    secret = str(profile.get("jwt", "hs256_secret"))
    genuine = tokens.jwt().token  # a token-endpoint failure is the check's failure, as elsewhere
    alg = str(parse_jwt(genuine).header.get("alg"))
    offline = verify_signature(genuine, None, secret, [alg])[0] if alg.startswith("HS") else None
    baseline = call(tokens.http, profile, genuine)
    probe = _probe_path(tokens)
    if baseline.status != 200:
        detail = f"the instance's own {alg} token is refused by its {probe} (HTTP {baseline.status})"
        return _store(tokens, "hs256", KeyControl(key, NO_BASELINE, detail, offline, baseline))
    control = resign(genuine, secret)
    status = baseline.status if control == genuine else call(tokens.http, profile, control).status
    if status == 200 and offline is not False:
        detail = f"a token re-signed with {key} (same claims) is accepted by {probe}"
        return _store(tokens, "hs256", KeyControl(key, VERIFIED, detail, offline, baseline))
    if offline is False:
        detail = (
            f"{key} does not verify the instance's {alg} tokens, which its own {probe} accepts: "
            "the secret in the profile is wrong or stale (it must be the LMS's JWT_SECRET_KEY)"
        )
    else:
        detail = (
            f"a token re-signed with {key} and the instance's own claims is refused by {probe} "
            f"(HTTP {status}) while the instance's token is accepted: {key} is not the secret "
            "the instance verifies with (JWT_ISSUERS[0].SECRET_KEY)"
        )
    return _store(tokens, "hs256", KeyControl(key, WRONG, detail, offline, baseline))


@_once("jwks")
def jwks_control(tokens: TokenFlows, jwks: JwkSet | None) -> KeyControl:
    """The control of `jwt.jwks` (the profile must give one): offline first; the probe is asked
    only when the set does not verify the instance's RS512 token."""
    hit = _cached(tokens, "jwks")
    if hit is not None:
        return hit
    key, profile = "jwt.jwks", tokens.profile
    genuine = tokens.asymmetric_jwt().token
    alg = str(parse_jwt(genuine).header.get("alg"))
    if not alg.startswith(("RS", "PS", "ES")):
        # No asymmetric token to test the set with: jwt.header.alg reports that; what the set is
        # worth stays open, and the attacks that use it still run (their baselines guard them).
        detail = f"the token asked for with asymmetric_jwt is {alg}: no RS512 token to verify {key} with"
        return _store(tokens, "jwks", KeyControl(key, UNTESTABLE, detail))
    algorithms = list(profile.data["jwt"]["algorithms"])
    ok, how = verify_signature(genuine, jwks, None, algorithms, ignore_kid=True)
    if ok:
        detail = f"the instance's {alg} token verifies with {key} ({how})"
        return _store(tokens, "jwks", KeyControl(key, VERIFIED, detail, True))
    baseline = call(tokens.http, profile, genuine)
    probe = _probe_path(tokens)
    if baseline.status != 200:
        detail = (
            f"{key} does not verify the instance's {alg} token ({how}), and its own {probe} "
            f"refuses that token too (HTTP {baseline.status})"
        )
        return _store(tokens, "jwks", KeyControl(key, NO_BASELINE, detail, False, baseline))
    detail = (
        f"{key} does not verify the instance's {alg} tokens ({how}), which its own {probe} "
        "accepts: the profile holds a wrong or stale key set, or the LMS signs with a key missing "
        "from the set it publishes (JWT_PUBLIC_SIGNING_JWK_SET)"
    )
    return _store(tokens, "jwks", KeyControl(key, WRONG, detail, False, baseline))


def require_control(control: KeyControl) -> None:
    """Before a check relies on the profile's key: run on `verified`, report *blocked* (naming
    the key) on `wrong`, and fail on `no-baseline` (a refusal of a forged token means nothing when
    the genuine one is refused as well)."""
    if control.state == WRONG:
        blocked(REPORTED_BY[control.key], control.hint)
    if control.state == NO_BASELINE:
        blocked(
            _BASELINE_CONTROL[control.key], f"{control.detail}: a refusal of a forged token proves nothing"
        )


def expect_profile_key(control: KeyControl) -> None:
    """The verdict of a `jwt.profile-keys.*` check: the key is the instance's, or a profile problem
    named once. When the probe refuses the instance's own token, a key that verifies that token
    offline is still shown to be right; one that does not cannot be told apart from a faulty
    instance, and fails as that baseline."""
    if control.state == VERIFIED or (control.state == NO_BASELINE and control.offline):
        return
    if control.state == UNTESTABLE:
        raise ConformanceFailure(
            f"{control.key} is verified against a token signed with the instance's private key",
            "an RS512 token when asymmetric_jwt is sent",
            control.detail,
            cause=f"same-as:{ASYMMETRIC_TOKEN}",  # the finding jwt.header.alg reports
        )
    if control.state == WRONG:
        raise ConformanceFailure(
            f"{control.key} is the instance's own key material (the profile contract)",
            f"{control.key} verifies the tokens the instance issues and accepts",
            control.detail,
            cause=f"profile-key.{control.key}",
        )
    raise ConformanceFailure(
        "baseline: the genuine token is accepted at the resource probe",
        "HTTP 200 for the instance's own token",
        control.detail,
        cause=f"same-as:{_BASELINE_CONTROL[control.key]}",
    )
