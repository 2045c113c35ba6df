"""Verifiers of an LMS JWT: header, signature, issuer, audience and times, one verifier each.

Every JWT the LMS issues (client credentials, password grant, the authorization-code exchange, the
micro-frontends' JWT cookie) is judged by the same rules: the jwt area calls these verifiers one per
check on the token endpoint's tokens, the sign-in areas call them all at once on theirs
(`expect_conformant_jwt`), and each caller says in its own words what it requires. A verifier raises
`ConformanceFailure` (conformance._lib.verify).
"""

from __future__ import annotations

import time
from typing import Any

from conformance._lib.diagnose import CLOCK_AHEAD, issuer_scheme
from conformance._lib.jwts import JwkSet, ParsedJwt, parse_jwt, verify_signature
from conformance._lib.profile import Profile
from conformance._lib.verify import expect, expect_schema, fail, finding_of

__all__ = [
    "audience_matches",
    "expect_alg",
    "expect_audience",
    "expect_conformant_jwt",
    "expect_issuer",
    "expect_signature",
    "expect_times",
    "expect_well_formed",
]


def _said(what: str, requirement: str) -> str:
    return f"{what}: {requirement}" if what else requirement


def expect_well_formed(parsed: ParsedJwt, what: str = "") -> None:
    """The JOSE header and the Open edX claims validate against their schemas (RFC 7515 4,
    schemas/jwt-header and jwt-claims); `what` names the token in the requirement."""
    expect_schema(parsed.header, "jwt-header", _said(what, "the JOSE header is well formed"))
    expect_schema(
        parsed.claims, "jwt-claims", _said(what, "the claims are the Open edX set with their types")
    )


def expect_alg(parsed: ParsedJwt, profile: Profile, requirement: str) -> Any:
    """The header's alg is one of the profile's `jwt.algorithms` (RFC 8725 3.1); returns it."""
    alg = parsed.header.get("alg")
    allowed = profile.data["jwt"]["algorithms"]
    expect(alg in allowed, requirement, f"one of {allowed}", str(alg))
    return alg


def expect_signature(parsed: ParsedJwt, profile: Profile, jwks: JwkSet | None, requirement: str) -> None:
    """The signature verifies with the profile's key material: `jwt.hs256_secret` for HMAC, the JWK
    set otherwise (RFC 7515 5.2)."""
    ok, how = verify_signature(
        parsed.token, jwks, profile.get("jwt", "hs256_secret"), profile.data["jwt"]["algorithms"]
    )
    expect(ok, requirement, "a valid signature", how)


def expect_issuer(
    claims: dict[str, Any], profile: Profile, requirement: str, *, diagnose: bool = False
) -> None:
    """iss equals the profile's issuer exactly (RFC 7519 4.1.1, RFC 8725 3.8); the actual value
    says when it names the LMS's own host with the other scheme (a proxy's doing). `diagnose`: this
    is the check that works the mismatch out, so its failure carries the cause (`edge.issuer-scheme`
    or `mismatch.issuer`) and the issuer as evidence; others say they are the same finding."""
    iss = claims.get("iss")
    scheme = issuer_scheme(iss, profile.base_url)
    expect(
        iss == profile.issuer,
        requirement,
        repr(profile.issuer),
        "; ".join(filter(None, [repr(iss), scheme])),
        cause=("edge.issuer-scheme" if scheme else "mismatch.issuer") if diagnose else "",
        evidence=(str(iss),) if diagnose else (),
    )


def audience_matches(aud: Any, audience: str) -> bool:
    """aud is the audience, or a list that contains it (RFC 7519 4.1.3)."""
    return bool(aud == audience or (isinstance(aud, list) and audience in aud))


def expect_audience(
    claims: dict[str, Any], profile: Profile, requirement: str, *, diagnose: bool = False
) -> None:
    """aud equals or contains the profile's audience (RFC 7519 4.1.3, RFC 8725 3.9). `diagnose`: as
    for `expect_issuer` (cause `mismatch.audience`)."""
    aud = claims.get("aud")
    expect(
        audience_matches(aud, profile.audience),
        requirement,
        profile.audience,
        str(aud),
        cause="mismatch.audience" if diagnose else "",
        evidence=(f"aud={aud!r}", f"audience {aud!r}", f"actual:   {aud}")
        if diagnose and isinstance(aud, str)
        else (),
    )


def expect_times(claims: dict[str, Any], profile: Profile, what: str = "") -> None:
    """exp and iat are integers, exp is in the future and iat is not ahead of this machine's clock by
    more than `jwt.max_clock_skew_s` (RFC 7519 4.1.4, 4.1.6); `what` names the token."""
    exp, iat, now = claims.get("exp"), claims.get("iat"), time.time()
    skew = profile.data["jwt"]["max_clock_skew_s"]
    if not (isinstance(exp, int) and isinstance(iat, int)):
        fail(_said(what, "exp and iat are integers"), "integers", f"exp={exp!r}, iat={iat!r}")
    expect(exp > now, _said(what, "the token has not expired when issued"), f"exp > {int(now)}", f"exp={exp}")
    # A resource's 401 for a token issued in the future says CLOCK_AHEAD too (diagnose.clock_ahead):
    # this finding explains it.
    expect(
        iat <= now + skew,
        _said(what, "iat is not in the future (resource servers reject such tokens)"),
        f"iat <= now + {skew} s",
        f"iat is {iat - now:.0f} s {CLOCK_AHEAD}",
        "sync the LMS host's clock (and this machine's) with NTP: resource servers with a correct clock "
        "refuse a token issued in the future",
        cause="check:jwt.claims.times",
        evidence=(CLOCK_AHEAD,),
    )


def expect_conformant_jwt(token: str, profile: Profile, jwks: JwkSet | None, what: str) -> dict[str, Any]:
    """Every verifier above, for a token the jwt area's checks do not see (`what` names it): well
    formed, an allowed alg, a signature that verifies where the profile gives the key, the issuer,
    the audience, exp and iat. Returns the claims. A failure is the same finding as the failure of
    the jwt check that verifies the same thing (`finding_of`)."""
    parsed = parse_jwt(token)
    with finding_of("jwt.structure.compact-jws"):
        expect_well_formed(parsed, what)
    with finding_of("jwt.header.alg"):
        alg = expect_alg(parsed, profile, f"{what}: the signing algorithm is one the profile expects")
    has_key = bool(profile.get("jwt", "hs256_secret")) if str(alg).startswith("HS") else jwks is not None
    if has_key:
        with finding_of("jwt.signature.verifies|jwt.profile-keys.jwks|jwt.profile-keys.hs256-secret"):
            expect_signature(parsed, profile, jwks, f"{what}: the signature verifies with the profile's keys")
    with finding_of("jwt.claims.iss"):
        expect_issuer(parsed.claims, profile, f"{what}: iss is the profile's issuer")
    with finding_of("jwt.claims.aud"):
        expect_audience(parsed.claims, profile, f"{what}: aud is the profile's audience")
    with finding_of("jwt.claims.times"):
        expect_times(parsed.claims, profile, what)
    return parsed.claims
