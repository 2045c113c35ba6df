"""JWT access tokens as oauth_dispatch's ``jwt.py`` builds them, and the LMS's JWT decode handler.

Claims, their order, the HS256/RS512 choice and the absence of ``kid`` follow the platform; the
``accept-alg-none`` fault lives in the decode handler, where a careless resource server would
have it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import jwt as pyjwt
from django.conf import settings
from edx_rest_framework_extensions.auth.jwt import decoder
from oauth2_provider.models import AccessToken, Application

from conformance.reference import faults, keys
from conformance.reference.lms.models import ApplicationAccess, UserProfile

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
    encoded = create_jwt(
        access_token.user,
        scopes=scopes,
        expires_in=expires_in,
        use_asymmetric_key=use_asymmetric_key,
        filters=authorization_filters(application),
        grant_type=grant_type,
    )
    jwt_dict = dict(token_dict)
    # Updating existing keys keeps the oauthlib order; refresh_token is the one value kept.
    jwt_dict.update(
        {"access_token": encoded, "token_type": "JWT", "expires_in": expires_in, "scope": " ".join(scopes)}
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
) -> str:
    jwt_auth = settings.JWT_AUTH
    now = int(time.time())
    payload: dict[str, Any] = {
        "aud": jwt_auth["JWT_AUDIENCE"],
        "exp": now + expires_in,
        "grant_type": grant_type or "",
        "iat": now,
        "iss": jwt_auth["JWT_ISSUER"],
        "preferred_username": user.username,
        "scopes": scopes,
        "version": jwt_auth["JWT_SUPPORTED_VERSION"],
        "sub": anonymous_id_for_user(user),
        "filters": filters,
        "is_restricted": is_restricted,
        "email_verified": user.is_active,
    }
    for scope in scopes:
        handler = _CLAIM_HANDLERS.get(scope)
        if handler:
            handler(payload, user)
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
    if use_asymmetric_key:
        key: Any = keys.load_private_key(jwt_auth["JWT_PRIVATE_SIGNING_KEY_FILE"])
        algorithm = jwt_auth["JWT_SIGNING_ALGORITHM"]
    else:
        key = jwt_auth["JWT_SECRET_KEY"].encode("utf-8")
        algorithm = jwt_auth["JWT_ALGORITHM"]
    # No kid header: the platform adds one only under JWT_AUTH_ADD_KID_HEADER (default off).
    return pyjwt.encode(payload, key, algorithm=algorithm)


def decode_handler(token: str) -> dict[str, Any]:
    """edx-drf-extensions' decoder; under ``accept-alg-none`` an unsigned token skips the signature
    step and gets only the claims checks (exp, iat, aud, issuer, version)."""
    if faults.is_active("accept-alg-none"):
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError:
            header = {}
        if str(header.get("alg", "")).lower() == "none":
            # Private helpers of the pinned edx-drf-extensions: exactly its checks after the signature.
            claims = decoder._decode_and_verify_token(token, decoder.get_first_jwt_issuer())
            return decoder._set_token_defaults(claims)
    return decoder.jwt_decode_handler(token)
