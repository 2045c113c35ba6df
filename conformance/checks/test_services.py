"""Every Open edX service the profile lists is a resource server under test (one case per service):
it accepts the LMS's genuine JWTs, refuses the forged set the LMS's own probe gets, and refuses
re-signed tokens with a wrong aud, a wrong iss or a past exp (RFC 7519 4.1.1, 4.1.3, 4.1.4)."""

from __future__ import annotations

import time

from conformance._lib.controls import REPORTED_BY
from conformance._lib.forge import forge_jwt, load_vectors
from conformance._lib.registry import blocked, check, clauses, missing_requirement, not_verified, requires
from conformance._lib.schedule import fan_out
from conformance._lib.services import (
    AUDIENCE_NOTE,
    accepts_genuine,
    fetch,
    genuine_tokens,
    probe,
    remember,
    require_service,
    signer,
)
from conformance._lib.verify import expect

VECTORS = load_vectors("jwt-attacks")


@check("services.genuine.accepted", level="MUST", ref="SV-01")
@clauses("RFC8725-3.8", "RFC8725-3.9", "oauth-9", "edx-drf-extensions")
@requires("services")
def test_genuine_accepted(http, profile, tokens, jwks, service):
    """Each service accepts every kind of JWT the LMS issues"""
    # The control of the service: its other cases are blocked when this fails.
    why = accepts_genuine(http, profile, tokens, jwks, service)
    expect(
        not why,
        f"{service} accepts every JWT the LMS issues",
        "HTTP 200 at its probe for " + ", ".join(kind.label for kind in genuine_tokens(tokens, profile)),
        why,
    )


@check("services.forged.refused", level="MUST", ref="SV-02")
@clauses("RFC7515-5.2", "RFC7518-3.6", "RFC8725-2.1", "RFC8725-3.2", "RFC8725-3.10")
@requires("services")
def test_forged_refused(http, profile, tokens, jwks, fake, service):
    """Each service refuses the forged JWTs the LMS's own API must refuse"""
    require_service(http, profile, tokens, jwks, service)  # the baseline the forgeries start from
    svc = profile.entry("services", service)
    genuine = {"hs": tokens.jwt().token, "rs": tokens.asymmetric_jwt().token}
    left_out = [v["id"] for v in VECTORS if missing_requirement(profile, v.get("requires", []))]
    vectors = [v for v in VECTORS if v["id"] not in left_out]
    forged = [forge_jwt(vector, genuine[vector["base"]], jwks, fake) for vector in vectors]
    # Independent probes: sent several at a time under --concurrency (one after another otherwise).
    answers = fan_out(lambda token: probe(http, svc, token), forged, http.on_exchange)
    accepted = [
        f"{vector['id']} ({vector['check']})"
        for vector, ex in zip(vectors, answers, strict=True)
        if 200 <= ex.status < 300
    ]
    expect(
        not accepted,
        f"{service} refuses every forged token",
        f"401/403 for all {len(VECTORS) - len(left_out)} forgeries",
        f"ACCEPTED: {', '.join(accepted)}: its JWT_DECODE_HANDLER or authentication class does not "
        "verify signatures the way edx-drf-extensions does (oauth §6)",
    )
    if left_out:
        not_verified(
            "jwt.jwks",
            f"the other forgeries were refused; {', '.join(left_out)} need the public key set: add jwt.jwks",
        )


def _resigned_refused(http, profile, tokens, service, claim, changes, why):
    """After a positive control (a re-signed token with the genuine claims IS accepted), a re-signed
    token with `changes` to `claim` must be refused."""
    require_service(http, profile, tokens, None, service)
    svc = profile.entry("services", service)
    resigner = signer(profile)
    genuine = fetch(tokens, resigner.base).token
    control = remember(
        http,
        ("resign-control", service, resigner.key),
        lambda: probe(http, svc, resigner.sign(genuine)).status,
    )
    if control != 200:
        why = (
            f"{service} refuses even a token re-signed with {resigner.name} and the genuine claims "
            f"(HTTP {control}): its verifying key is not that one, so a refusal below would prove nothing"
        )
        # The service accepts the genuine token, so the HS256 secret the profile gives is wrong.
        if resigner.key == "jwt.hs256_secret":
            blocked(REPORTED_BY[resigner.key], why)
        not_verified(resigner.key, why)
    ex = probe(http, svc, resigner.sign(genuine, **changes))
    expect(
        not 200 <= ex.status < 300,
        f"{service} refuses a validly signed token whose {claim} is wrong",
        "HTTP 401 (Invalid token.)",
        lambda: f"HTTP {ex.status}: the token was ACCEPTED; {why}",
    )


@check("services.audience.checked", level="MUST", ref="SV-03")
@clauses("RFC7519-4.1.3", "RFC8725-3.9", "edx-drf-extensions", "RFC9700-2.3")
@requires("services")
def test_audience_checked(http, profile, tokens, fake, service):
    """Each service refuses a validly signed JWT minted for another audience"""
    audience = f"{fake.word()}-service"
    _resigned_refused(
        http, profile, tokens, service, "aud", {"aud": audience}, f"aud={audience!r}: {AUDIENCE_NOTE}"
    )


@check("services.issuer.checked", level="MUST", ref="SV-04")
@clauses("RFC7519-4.1.1", "RFC8725-3.8", "edx-drf-extensions")
@requires("services")
def test_issuer_checked(http, profile, tokens, fake, service):
    """Each service refuses a validly signed JWT from an issuer it does not trust"""
    issuer = f"https://{fake.domain_name()}/oauth2"
    why = (
        f"iss={issuer!r}: edx-drf-extensions requires iss to equal some JWT_ISSUERS[*]['ISSUER']; this "
        "service's JWT_DECODE_HANDLER (or its JWT_ISSUERS) lets any issuer through"
    )
    _resigned_refused(http, profile, tokens, service, "iss", {"iss": issuer}, why)


@check("services.expiry.checked", level="MUST", ref="SV-05")
@clauses("RFC7519-4.1.4", "oauth-9")
@requires("services")
def test_expiry_checked(http, profile, tokens, service):
    """Each service refuses a validly signed JWT past its exp"""
    now = int(time.time())
    why = (
        "an expired token works there: JWT_VERIFY_EXPIRATION is off with an edx-drf-extensions older "
        "than 8.8.0 (from 8.8.0 exp is checked at the signature step whatever the setting), or a custom "
        "decoder skips exp; a leaked or retired token then never stops working"
    )
    _resigned_refused(http, profile, tokens, service, "exp", {"iat": now - 3720, "exp": now - 120}, why)
