"""Bearer (opaque DOT token) authentication, as ``openedx/core/lib/api/authentication.py`` has it."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from oauth2_provider.models import AccessToken, Application
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from conformance.reference import faults
from conformance.reference.defects import Defect

TOKEN_EXPIRED = "token_expired"
TOKEN_MALFORMED = "token_malformed"
TOKEN_NONEXISTENT = "token_nonexistent"
TOKEN_NOT_PROVIDED = "token_not_provided"
USER_NOT_ACTIVE = "user_not_active"
USER_DISABLED = "user_is_disabled"
BEARER_CACHE_SECONDS = 300


class BearerAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"
    allow_inactive_users = False

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        parts = get_authorization_header(request).split()
        # Any one-word header fails here, whatever its scheme (so does a bare "JWT").
        if len(parts) == 1:
            raise AuthenticationFailed(
                {
                    "error_code": TOKEN_NOT_PROVIDED,
                    "developer_message": "Invalid token header. No credentials provided.",
                }
            )
        if len(parts) > 2:
            raise AuthenticationFailed(
                {
                    "error_code": TOKEN_MALFORMED,
                    "developer_message": "Invalid token header. Token string should not contain spaces.",
                }
            )
        if not parts or parts[0].lower() != b"bearer":
            return None
        return self.authenticate_credentials(parts[1].decode("utf-8", errors="replace"))

    def authenticate_credentials(self, access_token: str) -> tuple[Any, AccessToken]:
        if not faults.is_active(Defect.BEARER_LOOKUP_CACHED):
            return self._lookup(access_token)
        # The fault: successful lookups are cached, so a token revoked since is still honoured.
        key = "bearer-auth:" + hashlib.sha256(access_token.encode("utf-8")).hexdigest()
        cached = cache.get(key)
        if cached is None:
            cached = self._lookup(access_token)
            cache.set(key, cached, BEARER_CACHE_SECONDS)
        return cached  # type: ignore[no-any-return]

    def _lookup(self, access_token: str) -> tuple[Any, AccessToken]:
        token = AccessToken.objects.select_related("user").filter(token=access_token).first()
        if not token:
            raise AuthenticationFailed(
                {
                    "error_code": TOKEN_NONEXISTENT,
                    "developer_message": "The provided access token does not match any valid tokens.",
                }
            )
        if token.expires < timezone.now():
            raise AuthenticationFailed(
                {
                    "error_code": TOKEN_EXPIRED,
                    "developer_message": "The provided access token has expired and is no longer valid.",
                }
            )
        user = token.user
        if user is None:
            raise AuthenticationFailed(
                {"error_code": TOKEN_NONEXISTENT, "developer_message": "The access token has no user."}
            )
        # The disabled-user-still-refreshing fault: the check the platform added for users disabled by
        # support (unusable password), missing; a token they refresh is then honoured.
        disabled_check = not faults.is_active(Defect.DISABLED_USER_STILL_REFRESHING)
        if (
            disabled_check
            and not user.has_usable_password()
            and not Application.objects.filter(user_id=user.id).exists()
        ):
            raise AuthenticationFailed(
                {
                    "error_code": USER_DISABLED,
                    "developer_message": f"User disabled by admin: {user.get_username()}",
                }
            )
        if not self.allow_inactive_users and not user.is_active:
            raise AuthenticationFailed(
                {
                    "error_code": USER_NOT_ACTIVE,
                    "developer_message": f"User inactive or deleted: {user.get_username()}",
                }
            )
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


class BearerAuthenticationAllowInactiveUser(BearerAuthentication):
    """For endpoints that unactivated users (e.g. fresh mobile sign-ups) may call."""

    allow_inactive_users = True


class QueryStringJwtAuthentication(JwtAuthentication):
    """The query-token-accepted fault: a JWT in ``?access_token=`` authenticates too."""

    def get_token_from_request(self, request: Request) -> str | None:  # type: ignore[override]
        return request.query_params.get("access_token") or None


class _GivenJwtAuthentication(JwtAuthentication):
    """edx-drf-extensions' JWT authentication of a token found elsewhere than under "JWT"."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def get_token_from_request(self, request: Request) -> str | None:  # type: ignore[override]
        return self.token


class AnySchemeTokenAuthentication(BaseAuthentication):
    """The scheme-agnostic-auth fault: a "convenience" class that takes a token under any scheme,
    decoding JWT-shaped ones as JWTs and looking the rest up as DOT tokens. It has no
    ``authenticate_header``, so listed first it turns every 401 of the view into a 403."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2:
            return None
        token = parts[1].decode("utf-8", errors="replace")
        if token.count(".") == 2:
            return _GivenJwtAuthentication(token).authenticate(request)
        return BearerAuthentication().authenticate_credentials(token)
