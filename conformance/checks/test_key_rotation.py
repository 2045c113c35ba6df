"""Signing keys over time: the JWK set can carry a rotation, the LMS signs with a key of it, and the
rotation preflight (`jwt.rotation_key` = the NEW private key) proves that the LMS's own API and
every service accept tokens signed with the new key BEFORE the LMS switches to it.

`--select key-rotation` is the one command an operator runs between the phases of a rotation
(docs/key-rotation.md says what each check says at each phase).
"""

from __future__ import annotations

import allure

from conformance._lib.jwts import parse_jwt
from conformance._lib.registry import check, clauses, requires
from conformance._lib.resources import call
from conformance._lib.rotation import (
    RotationKeyError,
    audit_keys,
    key_for,
    load_rotation_key,
    longest_lifetime,
    sign_control,
    thumbprint,
)
from conformance._lib.services import probe
from conformance._lib.verify import ConformanceFailure, expect

# The platform warns above this JWT lifetime (oauth_dispatch jwt.py setting_warning: "1 hour ...
# maximum recommended").
RECOMMENDED_MAX_LIFETIME_S = 3600
DPDQQI = (
    "; the default (HS256) token is issued, so the LMS fails only when it signs RS512: a private JWK "
    "without dp, dq and qi makes PyJWT raise InvalidKeyError ('RSA key must include all parameters "
    "if any are present besides d') since Quince replaced pyjwkest (Tutor v17.0.0 changelog, "
    "overhangio/tutor#925); every login fails with it. Regenerate JWT_PRIVATE_SIGNING_JWK with all "
    "CRT members"
)


def _kids(jwks) -> list:
    return [k.get("kid") for k in jwks.keys]


@check("key-rotation.jwks.keys", level="MUST", ref="KR-01")
@clauses("RFC7517-4.5", "RFC7518-6.3.1", "RFC7518-3.3")
@requires("jwks")
def test_jwks_keys(jwks):
    """Every key of the JWK set is a complete public RSA key of 2048 bits or more"""
    expect(
        not jwks.problems, "the JWK set loads", "a JSON object with a keys array", "; ".join(jwks.problems)
    )
    expect(bool(jwks.keys), "the JWK set holds a key", "at least one RSA key", "an empty keys array")
    problems = audit_keys(jwks)
    expect(
        not problems,
        "every key a service is given can verify the LMS's tokens across a rotation",
        "public RSA keys (n, e), >= 2048 bits, each with its own kid",
        "; ".join(map(str, problems)),
    )


def _asymmetric(tokens, member):
    """The LMS's RS512 token and a member of its header; a 500 while HS256 works names the private
    JWK's missing members."""
    try:
        token = tokens.asymmetric_jwt(verdict=True).token
    except ConformanceFailure as failure:
        hint = DPDQQI if "HTTP 500" in failure.actual and tokens.jwt_works() else ""
        # The same finding as the asymmetric token's control (jwt.header.alg[asymmetric]).
        raise ConformanceFailure(
            failure.requirement,
            failure.expected,
            failure.actual + hint,
            cause=failure.cause or "same-as:jwt.header.alg[asymmetric]",
        ) from None
    return token, parse_jwt(token).header.get(member)


@check("key-rotation.lms.signing-key", level="MUST", ref="KR-02")
@clauses("RFC7515-5.2", "oauth-5")
@requires("jwks")
def test_signing_key(tokens, jwks):
    """The LMS signs asymmetric JWTs with a key of the JWK set"""
    token, alg = _asymmetric(tokens, "alg")
    expect(
        str(alg).startswith("RS"),
        "a token requested with asymmetric_jwt is signed with the LMS's RSA key",
        "alg RS512",
        f"alg {alg!r}: the LMS never uses its private signing key, so rotating it proves nothing",
        cause="same-as:jwt.header.alg[asymmetric]",
    )
    key = key_for(token, jwks)
    expect(
        key is not None,
        "the key the LMS signs with is in the JWK set services are given",
        f"a key of the set {_kids(jwks)} verifies the RS512 token",
        "no key of the set verifies it: the LMS's JWT_PRIVATE_SIGNING_JWK is not the private half of any "
        "published key. Switching the LMS's key before every set holds the new public key (phase 1) "
        "breaks every service (docs/key-rotation.md)",
        cause="same-as:jwt.profile-keys.jwks",  # the profile holds the set services are given
    )
    allure.attach(
        f"The LMS signs with kid {key.get('kid')!r} (thumbprint {thumbprint(key)}).",  # type: ignore[union-attr]
        name="current signing key",
        attachment_type=allure.attachment_type.TEXT,
    )


@check("key-rotation.lms.kid", level="MUST", ref="KR-03")
@clauses("RFC7515-4.1.4", "RFC7517-4.5")
@requires("jwks")
def test_lms_kid(tokens, jwks):
    """A kid the LMS emits names the key of the set that verifies the token"""
    # A stock LMS sends no kid (JWT_AUTH_ADD_KID_HEADER off); once it does, verifiers that pick the
    # key by kid (the JWKS-aware libraries, unlike edx-drf-extensions) depend on it naming the key.
    token, kid = _asymmetric(tokens, "kid")
    if kid is None:
        return
    named = [k for k in jwks.keys if k.get("kid") == kid]
    verifying = key_for(token, jwks)
    expect(
        bool(named) and verifying is not None and verifying.get("kid") == kid,
        "the kid in the LMS's tokens names the key that signed them",
        f"kid {kid!r} is the kid of the verifying key",
        f"kid {kid!r}; kids in the set {_kids(jwks)}; the token verifies with "
        + (f"kid {verifying.get('kid')!r}" if verifying else "no key of the set")
        + ": the private JWK's kid (JWT_PRIVATE_SIGNING_JWK) differs from its public entry's",
    )


@check("key-rotation.retired-key.lifetime", level="MAY", ref="KR-04")
@clauses("RFC7519-4.1.4", "oauth-5", "oauth-9")
def test_retired_key_lifetime(profile, tokens):
    """Tokens signed with a retired key outlive the switch by at most one hour"""
    issued = [tokens.jwt().token, tokens.asymmetric_jwt().token]
    if profile.has_password_grant:
        issued.append(tokens.password_jwt().token)
    lifetime = longest_lifetime(issued)
    note = (
        f"A token signed just before the LMS switches keys stays valid for {lifetime} s (the longest "
        "exp - iat of its JWTs); clients such as edx-rest-api-client cache client-credentials JWTs "
        f"until shortly before exp. Keep the old public key in every service's set for at least "
        f"{lifetime} s after the switch (JWT cookies: JWT_IN_COOKIE_EXPIRATION, not observable here)."
    )
    allure.attach(note, name="cached-token hazard", attachment_type=allure.attachment_type.TEXT)
    expect(
        lifetime <= RECOMMENDED_MAX_LIFETIME_S,
        "the wait before a retired public key may be removed is short",
        f"JWT lifetime <= {RECOMMENDED_MAX_LIFETIME_S} s (the platform's recommended maximum)",
        note,
    )


def _rotation_key(profile):
    try:
        return load_rotation_key(profile)
    except RotationKeyError as exc:
        raise ConformanceFailure(
            "the rotation key can sign", "an RSA private key (PEM or private JWK)", str(exc)
        ) from None


@check("key-rotation.preflight.new-key", level="MUST", ref="KR-05")
@clauses("RFC7517-4.5", "RFC7518-3.3", "oauth-5")
@requires("rotation_key", "jwks")
def test_preflight_new_key(profile, jwks):
    """The new signing key is strong and its public half is in the JWK set"""
    key = _rotation_key(profile)
    expect(key.bits >= 2048, "the new key is strong enough", ">= 2048 bits", f"{key.bits} bits")
    published = key.find_in(jwks)
    expect(
        published is not None,
        "phase 1: the new public key is in the JWK set (the set every service is given)",
        f"a key with the new key's modulus among {_kids(jwks)}",
        f"jwt.jwks lacks it (thumbprint {thumbprint(key.public_jwk)}): add the new public key to "
        "JWT_PUBLIC_SIGNING_JWK_SET everywhere, and to the profile's jwt.jwks, before the LMS switches",
    )
    clash = [k for k in jwks.keys if key.kid and k.get("kid") == key.kid and k is not published]
    expect(
        not clash,
        "the new key's kid is its own",
        f"no other key with kid {key.kid!r}",
        f"kid {key.kid!r} already names another key of the set",
    )


@check("key-rotation.preflight.lms", level="MUST", ref="KR-06")
@clauses("RFC7515-5.2", "oauth-5")
@requires("rotation_key")
def test_preflight_lms(http, profile, tokens):
    """The LMS's own API accepts a token signed with the new key"""
    control = sign_control(tokens.asymmetric_jwt().token, _rotation_key(profile))
    ex = call(http, profile, control)
    expect(
        ex.status == 200,
        "phase 1: the LMS's JWT_PUBLIC_SIGNING_JWK_SET holds the new public key",
        "HTTP 200 for a control token signed with jwt.rotation_key",
        f"HTTP {ex.status}: the LMS's own API refuses it; do not switch the LMS's signing key yet",
    )


@check("key-rotation.preflight.service", level="MUST", ref="KR-07")
@clauses("RFC7515-5.2", "oauth-9")
@requires("rotation_key", "services")
def test_preflight_service(http, profile, tokens, service):
    """Each service accepts a token signed with the new key"""
    svc = profile.entry("services", service)
    control = sign_control(tokens.asymmetric_jwt().token, _rotation_key(profile))
    ex = probe(http, svc, control)
    expect(
        ex.status == 200,
        f"phase 1: {service}'s JWT_PUBLIC_SIGNING_JWK_SET holds the new public key",
        "HTTP 200 for a control token signed with jwt.rotation_key",
        f"HTTP {ex.status}: {service} refuses it; if the LMS switched now, {service} would refuse every "
        "asymmetric token (and JWT cookie) until it is given the new public key",
    )
