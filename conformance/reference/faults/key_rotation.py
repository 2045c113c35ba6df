"""The faults of the key-rotation area: the signing keys during a rotation."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import NO_SIGN_IN, SHARED_RS

# Every fault of this module is of the key-rotation area.
_fault = partial(Fault, area="key-rotation")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.PRIVATE_JWK_MISSING_CRT,
        description=(
            "JWT_PRIVATE_SIGNING_JWK lacks dp, dq and qi (as Tutor rendered it before v17): PyJWT refuses it "
            "(InvalidKeyError), so every RS512 token request (and every login, on the platform) fails with "
            "HTTP 500 while HS256 tokens are still issued."
        ),
        catches=["key-rotation.lms.signing-key", "jwt.signature.verifies", "resources.jwt.accepted"],
        collateral={
            **dict.fromkeys(
                (
                    "jwt-attacks.alg-none",
                    "jwt-attacks.bad-signature",
                    "jwt-attacks.header-keys",
                    "jwt-attacks.key-confusion",
                    "jwt-attacks.kid",
                    "jwt-attacks.tampered-payload",
                    "jwt.claims.aud",
                    "jwt.claims.iss",
                    "jwt.claims.lifetime",
                    "jwt.claims.times",
                    "jwt.header.alg",
                    "jwt.header.kid",
                    "jwt.structure.compact-jws",
                    "key-rotation.lms.kid",
                    "key-rotation.retired-key.lifetime",
                    "resources.services.accept-jwt",
                    "response-schema.token.schema",
                    "services.forged.refused",
                    "services.genuine.accepted",
                ),
                SHARED_RS,
            ),
            **dict.fromkeys(
                (
                    "accounts.restricted-client.refused",
                    "authorization-code.code.bound",
                    "authorization-code.code.single-use",
                    "authorization-code.exchange.token",
                    "authorization-code.pkce.enforced",
                    "authorization-code.pkce.s256",
                    "authorization-code.redirect-uri.extra-query",
                    "authorization-code.redirect-uri.registered",
                    "authorization-code.redirect-uri.unregistered-refused",
                    "authorization-code.response-type.refused",
                    "authorization-code.state.preserved",
                    "jwt-cookies.domain.covers-mfe",
                    "jwt-cookies.flags.httponly",
                    "jwt-cookies.flags.samesite",
                    "jwt-cookies.jwt.conformant",
                    "jwt-cookies.lms.accepts-cookies",
                    "jwt-cookies.lms.mismatched-refused",
                    "jwt-cookies.login.set",
                    "jwt-cookies.login.signs-in",
                    "jwt-cookies.logout.clears",
                    "jwt-cookies.refresh.renews",
                    "jwt-cookies.refresh.requires-session",
                    "jwt-cookies.services.accept-cookies",
                    "jwt-cookies.services.mismatched-refused",
                    "jwt.claims.openedx",
                    "jwt.claims.scope-dependent",
                    "jwt.profile-keys.jwks",
                ),
                (
                    "the LMS cannot sign RS512, so no login, no JWT cookie, no SSO token and no restricted "
                    "client's token is issued (as every login failed on the platform)"
                ),
            ),
            **dict.fromkeys(
                (
                    "advisories.account-api.no-activation-key",
                    "advisories.login.no-open-redirect",
                    "advisories.auth-inactive.no-open-redirect",
                    "advisories.user-api.not-cacheable",
                    "advisories.xblock-handler.restricted-jwt-refused",
                ),
                NO_SIGN_IN,
            ),
        },
        cause="asymmetric-token",
    ),
    _fault(
        name=Defect.ROTATION_KEY_NOT_PUBLISHED,
        description=(
            "Mid-rotation (phase 1): the new private key exists (the profile's jwt.rotation_key) but its "
            "public half was added to no JWT_PUBLIC_SIGNING_JWK_SET: switching the LMS now would break "
            "every service."
        ),
        catches=[
            "key-rotation.preflight.new-key",
            "key-rotation.preflight.lms",
            "key-rotation.preflight.service",
        ],
    ),
    _fault(
        name=Defect.DISCOVERY_MISSING_NEXT_KEY,
        description=(
            "Mid-rotation (phase 1): the new public key is in the LMS's and the published set but not in the "
            "discovery service's JWT_PUBLIC_SIGNING_JWK_SET."
        ),
        catches=["key-rotation.preflight.service"],
    ),
)
