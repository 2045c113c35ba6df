"""Forged JWTs at the resource probe: each must be refused like a request without credentials."""

from __future__ import annotations

import time

import pytest

from conformance._lib.controls import hs256_control, jwks_control, require_control
from conformance._lib.forge import forge_jwt, resign, vectors_for, weak_secrets
from conformance._lib.jwts import parse_jwt, verify_signature
from conformance._lib.registry import check, clauses, need, not_applicable
from conformance._lib.resources import call, expect_refused, require_accepted
from conformance._lib.verify import expect


def _cases(fn):
    """Parametrize a check (decorated with @check below this) with its vectors of jwt-attacks.json;
    what a vector needs of the profile is known before anything is sent (a dry run says it)."""
    cases = [
        pytest.param(v, id=v["id"], marks=pytest.mark.oauth_requires(*v.get("requires", [])))
        for v in vectors_for("jwt-attacks", fn.oauth_check.id)
    ]
    return pytest.mark.parametrize("vector", cases)(fn)


def _attack(http, profile, tokens, jwks, fake, vector) -> None:
    need(profile, *vector.get("requires", []))
    if "jwks" in vector.get("requires", []):
        # Forged with the profile's public key: only the instance's own key makes the attack real.
        require_control(jwks_control(tokens, jwks))
    genuine = (tokens.asymmetric_jwt() if vector["base"] == "rs" else tokens.jwt()).token
    # The baseline: the genuine token is accepted, so a refusal below is about the forgery.
    require_accepted(http, profile, genuine, "asymmetric" if vector["base"] == "rs" else "default")
    forged = forge_jwt(vector, genuine, jwks, fake)
    expect_refused(call(http, profile, forged), f"the forged token ({vector['id']}) is refused")


# One check a kind of forgery, level MUST, each running its vectors of jwt-attacks.json through
# `_attack`. A row: name (the check is jwt-attacks.<name>, its function test_<name>) | ref | clauses | title.
ATTACKS = """
tampered-payload | JA-01 | RFC7515-5.2 | A JWT whose payload was changed after signing is refused
bad-signature | JA-02 | RFC7515-5.2 | A JWT without its signature or signed by another key is refused
alg-none | JA-03 | RFC7518-3.6 RFC8725-3.2 | An unsigned JWT (alg none, any casing) is refused
key-confusion | JA-04 | RFC8725-2.1 RFC8725-3.1 | An HMAC JWT keyed with the public RSA key is refused
header-keys | JA-05 | RFC7515-4.1.3 RFC8725-3.10 | A JWT naming its own key (jwk, jku, x5u) is refused
kid | JA-06 | RFC8725-3.10 | A JWT with a traversal or unknown kid is refused
"""


def _attack_check(row):
    """The registered check of one row of ATTACKS."""
    name, ref, spec, title = (cell.strip() for cell in row.split("|"))

    def run(http, profile, tokens, jwks, fake, vector):
        _attack(http, profile, tokens, jwks, fake, vector)

    run.__name__ = run.__qualname__ = f"test_{name.replace('-', '_')}"
    run.__doc__ = title
    return _cases(check(f"jwt-attacks.{name}", level="MUST", ref=ref)(clauses(*spec.split())(run)))


globals().update({fn.__name__: fn for fn in map(_attack_check, ATTACKS.strip().splitlines())})


@pytest.mark.parametrize("case", ["resigned-expired", "resigned-no-exp", "real-expiry"])
@check(
    "jwt-attacks.expired",
    level="MUST",
    ref="JA-07",
    case_requires={
        "resigned-expired": ["hs256_secret"],
        "resigned-no-exp": ["hs256_secret"],
        "real-expiry": ["wait_for_expiry"],
    },
)
@clauses("RFC7519-4.1.4", "oauth-9")
def test_expired(http, profile, tokens, case):
    """An expired JWT is refused"""
    genuine = tokens.jwt().token
    if case == "real-expiry":
        need(profile, "wait_for_expiry")
        issued = tokens.request(auth="body")
        token = issued.json()["access_token"]
        time.sleep(max(0, parse_jwt(token).claims["exp"] - time.time()) + 2)
    else:
        need(profile, "hs256_secret")
        require_control(hs256_control(tokens))  # the same secret re-signs a token that is accepted
        now = int(time.time())
        exp = now - 120 if case == "resigned-expired" else None
        token = resign(genuine, profile.get("jwt", "hs256_secret"), iat=now - 3720, exp=exp)
    expect_refused(call(http, profile, token), f"a token past its exp ({case}) is refused")


@check("jwt-attacks.weak-hmac-secret", level="MUST", ref="JA-08")
@clauses("RFC7518-3.2", "RFC8725-3.5")
def test_weak_secret(tokens):
    """The HS256 signing secret is not a known default"""
    # Offline: no request beyond the shared token. A hit means anyone can mint tokens.
    token = tokens.jwt().token
    alg = parse_jwt(token).header.get("alg")
    if not str(alg).startswith("HS"):
        not_applicable(f"the default token is {alg}, not HMAC-signed")
    hits = [s for s in weak_secrets() if verify_signature(token, None, s, [str(alg)])[0]]
    expect(
        not hits,
        "JWT_SECRET_KEY is not a published default",
        f"no match among {len(weak_secrets())} known defaults",
        f"the token verifies with a known default secret (one of {len(hits)}): change JWT_SECRET_KEY",
    )
