"""JWT access tokens as oauth_dispatch's ``jwt.py`` builds them, and the LMS's JWT decode handler.

Claims, their order, the HS256/RS512 choice and the absence of ``kid`` follow the platform. The
faults of the token's contents live in the builder; those of a careless resource server (alg none,
no signature or expiry check, key confusion, keys named by the token) in the decode handler.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt as pyjwt
from django.conf import settings
from edx_rest_framework_extensions.auth.jwt import decoder
from oauth2_provider.models import AccessToken, Application

from conformance.reference import faults, keys
from conformance.reference.decoding import decode_with_faults
from conformance.reference.defects import Defect
from conformance.reference.faults import effects as fault_effects
from conformance.reference.lms.models import ApplicationAccess, RestrictedApplication, UserProfile

FILTER_USER_ME = "user:me"


def anonymous_id_for_user(user: Any) -> str:
    """A stable, opaque per-user id (32 lowercase hex characters), never the username."""
    digest = hmac.new(settings.SECRET_KEY.encode("utf-8"), str(user.id).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:32]


def jwt_expires_in() -> int:
    return int(getattr(settings, "JWT_ACCESS_TOKEN_EXPIRE_SECONDS", 60 * 60))


def updated_scopes(scopes: list[str], grant_type: str) -> list[str]:
    """Password-grant JWTs always carry ``user_id``: mobile apps need the user's id."""
    scopes = list(scopes) or ["email", "profile"]
    if grant_type == Application.GRANT_PASSWORD and "user_id" not in scopes:
        scopes.append("user_id")
    return scopes


def authorization_filters(application: Application) -> list[str]:
    """Client-credentials applications may act on all users; every other grant on the user only."""
    filters = ApplicationAccess.filters_for(application)
    if application.authorization_grant_type != Application.GRANT_CLIENT_CREDENTIALS:
        filters.append(FILTER_USER_ME)
    return filters


def create_jwt_token_dict(token_dict: dict[str, Any], use_asymmetric_key: bool) -> dict[str, Any]:
    """The JWT variant of an opaque token response: same dict, four values swapped."""
    access_token = AccessToken.objects.select_related("user", "application").get(
        token=token_dict["access_token"]
    )
    application = access_token.application
    grant_type = application.authorization_grant_type
    scopes = updated_scopes(token_dict["scope"].split(), grant_type)
    expires_in = jwt_expires_in()
    exp = None
    if faults.is_active(Defect.EXP_FROM_OPAQUE_LIFETIME):
        exp = int(access_token.expires.timestamp())
    encoded = create_jwt(
        access_token.user,
        scopes=scopes,
        expires_in=expires_in,
        use_asymmetric_key=use_asymmetric_key,
        filters=authorization_filters(application),
        grant_type=grant_type,
        is_restricted=RestrictedApplication.is_restricted(application),
        exp=exp,
    )
    jwt_dict = dict(token_dict)
    if faults.is_active(Defect.EXPIRES_IN_MISMATCH):
        expires_in = token_dict["expires_in"]  # the opaque token's lifetime, left in place
    token_type = "bearer" if faults.is_active(Defect.TOKEN_TYPE_BEARER_FOR_JWT) else "JWT"
    # Updating existing keys keeps the oauthlib order; refresh_token is the one value kept.
    jwt_dict.update(
        {
            "access_token": encoded,
            "token_type": token_type,
            "expires_in": expires_in,
            "scope": " ".join(scopes),
        }
    )
    return jwt_dict


def create_jwt(
    user: Any,
    *,
    scopes: list[str],
    expires_in: int,
    use_asymmetric_key: bool,
    filters: list[str],
    grant_type: str,
    is_restricted: bool = False,
    exp: int | None = None,
) -> str:
    jwt_auth = settings.JWT_AUTH
    now = int(time.time())
    claimed_grant_type = grant_type or ""
    if faults.is_active(Defect.GRANT_TYPE_UNDERSCORE):
        claimed_grant_type = claimed_grant_type.replace("-", "_")
    payload: dict[str, Any] = {
        "aud": jwt_auth["JWT_AUDIENCE"],
        "exp": now + expires_in if exp is None else exp,
        "grant_type": claimed_grant_type,
        "iat": now,
        "iss": jwt_auth["JWT_ISSUER"],
        "preferred_username": user.username,
        "scopes": scopes,
        "version": jwt_auth["JWT_SUPPORTED_VERSION"],
        "sub": user.username if faults.is_active(Defect.SUB_IS_USERNAME) else anonymous_id_for_user(user),
        "filters": filters,
        "is_restricted": is_restricted,
        "email_verified": user.is_active,
    }
    if faults.is_active(Defect.EMAIL_VERIFIED_ALWAYS_TRUE):
        payload["email_verified"] = bool(user.email)
    claim_scopes = list(scopes)
    if faults.is_active(Defect.CLAIMS_IGNORE_SCOPES):
        claim_scopes += [scope for scope in ("email", "profile") if scope not in claim_scopes]
    for scope in claim_scopes:
        handler = _CLAIM_HANDLERS.get(scope)
        if handler:
            handler(payload, user)
    # The active faults' declared claim effects (a claim removed, the clock's times shifted).
    fault_effects.apply_claims(faults.active_effects(), payload)
    return encode_and_sign(payload, use_asymmetric_key or is_restricted)


def _attach_email(payload: dict[str, Any], user: Any) -> None:
    payload["email"] = user.email


def _attach_profile(payload: dict[str, Any], user: Any) -> None:
    profile = UserProfile.objects.filter(user=user).first()
    payload.update(
        {
            "name": profile.name if profile else None,
            "family_name": user.last_name,
            "given_name": user.first_name,
            "administrator": user.is_staff,
            "superuser": user.is_superuser,
        }
    )


def _attach_user_id(payload: dict[str, Any], user: Any) -> None:
    payload["user_id"] = user.id


_CLAIM_HANDLERS = {"email": _attach_email, "profile": _attach_profile, "user_id": _attach_user_id}


def encode_and_sign(payload: dict[str, Any], use_asymmetric_key: bool) -> str:
    jwt_auth = settings.JWT_AUTH
    if use_asymmetric_key and jwt_auth.get("JWT_PRIVATE_SIGNING_JWK_FILE"):
        key: Any = keys.load_signing_jwk(jwt_auth["JWT_PRIVATE_SIGNING_JWK_FILE"])
        algorithm = jwt_auth["JWT_SIGNING_ALGORITHM"]
    elif use_asymmetric_key:
        key = keys.load_private_key(jwt_auth["JWT_PRIVATE_SIGNING_KEY_FILE"])
        algorithm = jwt_auth["JWT_SIGNING_ALGORITHM"]
    else:
        key = jwt_auth["JWT_SECRET_KEY"].encode("utf-8")
        algorithm = jwt_auth["JWT_ALGORITHM"]
    # No kid header: the platform adds one only under JWT_AUTH_ADD_KID_HEADER (default off), and
    # only to asymmetric tokens.
    headers = None
    if use_asymmetric_key and jwt_auth.get("JWT_AUTH_ADD_KID_HEADER"):
        headers = {"kid": jwt_auth["JWT_PRIVATE_SIGNING_KID"]}
    return pyjwt.encode(payload, key, algorithm=algorithm, headers=headers)


# Faults of the LMS API's JWT decoding; without any of them it is edx-drf-extensions' own handler.
DECODER_FAULTS = frozenset(
    {
        Defect.ACCEPT_ALG_NONE,
        Defect.ACCEPT_EXPIRED,
        Defect.AUD_NOT_VERIFIED,
        Defect.SIGNATURE_NOT_CHECKED,
        Defect.HMAC_WITH_PUBLIC_KEY,
        Defect.HEADER_JWK_HONOURED,
        Defect.KID_FILE_LOOKUP,
        Defect.HS256_SECRET_STALE,
        Defect.JWKS_STALE,
        Defect.ISS_NOT_VERIFIED,
    }
)
# Where the kid-file-lookup fault looks for HMAC keys, one file per kid.
KID_KEYS_DIR = "/etc/openedx/jwt-keys"


def decode_handler(token: str) -> dict[str, Any]:
    """edx-drf-extensions' decoder, unless a decoder fault is active: then the signature step is the
    fault's, and the claims checks are edx-drf-extensions' own (exp, iat, aud, issuer, version),
    with the JWT_VERIFY_EXPIRATION and JWT_VERIFY_AUDIENCE settings the faults turn off."""
    return decode_with_faults(token, DECODER_FAULTS, _faulty_decode)


def _faulty_decode(
    token: str, header: dict[str, Any], issuer: dict[str, Any], active: frozenset[str]
) -> dict[str, Any]:
    try:
        _faulty_signature_step(token, header, issuer, active)
    except pyjwt.InvalidTokenError:
        raise
    except (pyjwt.PyJWTError, OSError, ValueError, KeyError, TypeError) as exc:
        raise pyjwt.InvalidTokenError(str(exc)) from exc
    # Private helpers of the pinned edx-drf-extensions: exactly its checks after the signature.
    try:
        claims = decoder._decode_and_verify_token(token, issuer)
    except pyjwt.InvalidTokenError as exc:
        # iss-not-verified: the issuer check (the last one) only logs a mismatch.
        if Defect.ISS_NOT_VERIFIED not in active or "is not a valid issuer" not in str(exc):
            raise
        claims = pyjwt.decode(token, options={"verify_signature": False})
    return dict(decoder._set_token_defaults(claims))


def _faulty_signature_step(
    token: str, header: dict[str, Any], issuer: dict[str, Any], active: frozenset[str]
) -> None:
    alg = str(header.get("alg", ""))
    if Defect.SIGNATURE_NOT_CHECKED in active:
        return
    if Defect.ACCEPT_ALG_NONE in active and alg.lower() == "none":
        return
    if Defect.HEADER_JWK_HONOURED in active and isinstance(header.get("jwk"), dict):
        key = pyjwt.PyJWK(header["jwk"]).key
        pyjwt.decode(token, key, algorithms=["RS256", "RS512"], options={"verify_aud": False})
        return
    if Defect.KID_FILE_LOOKUP in active and alg.startswith("HS") and header.get("kid"):
        # normpath "tidies" the path and so lets ../ climb out of the key directory.
        key_file = Path(os.path.normpath(os.path.join(KID_KEYS_DIR, str(header["kid"]))))
        _verify_hmac(token, alg, key_file.read_bytes())
        return
    verify_aud = settings.JWT_AUTH.get("JWT_VERIFY_AUDIENCE", True)
    verify_exp = settings.JWT_AUTH.get("JWT_VERIFY_EXPIRATION", True)
    asymmetric = settings.JWT_AUTH.get("JWT_PUBLIC_SIGNING_JWK_SET")
    key_set = decoder.get_verification_jwk_key_set(
        asymmetric_keys=asymmetric, secret_key=issuer["SECRET_KEY"]
    )
    try:
        decoder.verify_jwk_signature_using_keyset(
            token, key_set, aud=issuer["AUDIENCE"] if verify_aud else None, verify_exp=verify_exp
        )
    except Exception as exc:
        if active & {Defect.HMAC_WITH_PUBLIC_KEY, Defect.JWKS_STALE} and alg.startswith("HS"):
            # The classic: the verifying key is "the key", whatever the algorithm the token names.
            for key in json.loads(asymmetric or '{"keys": []}')["keys"]:
                try:
                    _verify_hmac(token, alg, _public_pem(key))
                    return
                except pyjwt.InvalidSignatureError:
                    continue
        raise pyjwt.InvalidTokenError(str(exc)) from exc


def _verify_hmac(token: str, alg: str, key: bytes) -> None:
    """HMAC-verify with any key bytes (PyJWT itself refuses PEM keys and empty ones)."""
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    if alg not in digests:
        raise pyjwt.InvalidAlgorithmError(alg)
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(key, signing_input.encode("ascii"), digests[alg]).digest()
    given = pyjwt.utils.base64url_decode(signature.encode("ascii"))
    if not hmac.compare_digest(expected, given):
        raise pyjwt.InvalidSignatureError("Signature verification failed")


def _public_pem(jwk: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = pyjwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    return public.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
