"""The profile's own key material: `jwt.hs256_secret` and `jwt.jwks` are the instance's (positive
controls for every check that forges or re-signs tokens with them; see conformance/_lib/controls.py)."""

from __future__ import annotations

from conformance._lib.controls import expect_profile_key, hs256_control, jwks_control
from conformance._lib.registry import check, clauses, requires


@check("jwt.profile-keys.hs256-secret", level="MUST", ref="JV-13")
@clauses("profile-jwt")
@requires("hs256_secret")
def test_hs256_secret(tokens):
    """The profile's jwt.hs256_secret is the secret of the tokens the instance accepts"""
    # A wrong secret is reported here, once; the checks that re-sign with it are "not verified".
    expect_profile_key(hs256_control(tokens))


@check("jwt.profile-keys.jwks", level="MUST", ref="JV-14")
@clauses("profile-jwt")
@requires("jwks")
def test_jwks(tokens, jwks):
    """The profile's jwt.jwks verifies the RS512 tokens the instance accepts"""
    expect_profile_key(jwks_control(tokens, jwks))
