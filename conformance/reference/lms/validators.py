"""EdxOAuth2Validator: the platform's django-oauth-toolkit validator overrides, plus the hooks of the
faults that live in client authentication, grant and scope validation, token storage and revocation."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import generate_token
from oauthlib.oauth2.rfc6749 import errors

from conformance.reference import faults
from conformance.reference.accounts import legacy_client
from conformance.reference.defects import Defect
from conformance.reference.lms.models import RestrictedApplication

# How each loose-comparison fault compares a submitted secret with the stored one.
_SECRET_COMPARISONS: dict[str, Callable[[str, object], bool]] = {
    Defect.SECRET_PREFIX: lambda stored, given: (
        isinstance(given, str) and len(given) >= 1 and stored.startswith(given)
    ),
    Defect.SECRET_CASE_INSENSITIVE: lambda stored, given: (
        isinstance(given, str) and given.lower() == stored.lower()
    ),
    Defect.SECRET_WHITESPACE_STRIPPED: lambda stored, given: (
        isinstance(given, str) and given.strip() == stored
    ),
    Defect.SECRET_EMPTY_ACCEPTED: lambda stored, given: given == "",
    Defect.SECRET_ANY_ACCEPTED: lambda stored, given: True,
}


class _LooselyComparedSecret(str):
    """A stored client secret that compares equal to what a loose-comparison fault lets through.

    DOT compares ``request.client.client_secret != given`` in both of its client-authentication
    paths (Basic and body); giving it this value is the whole of those faults.
    """

    def __new__(cls, value: str, compare: Callable[[str, object], bool]) -> _LooselyComparedSecret:
        instance = super().__new__(cls, value)
        instance._compare = compare
        return instance

    _compare: Callable[[str, object], bool]

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other) is True or self._compare(str(self), other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_shaped_token(request: Any, refresh_token: bool = False) -> str:
    """The ``signed-opaque-tokens`` fault's ACCESS_TOKEN_GENERATOR: header.payload.signature in
    form, but a random, database-backed opaque token in substance."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"jti": generate_token()}).encode())
    return f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"


# The isalnum-token-alphabet fault's alphabet: "letters and digits" taken as str.isalnum() over
# Latin-1, which also admits characters such as "é" that are not VSCHAR (RFC 6749 A.12).
_ISALNUM = [c for c in map(chr, range(256)) if c.isalnum()]


def isalnum_token(request: Any, refresh_token: bool = False) -> str:
    """The ``isalnum-token-alphabet`` fault's ACCESS_TOKEN_GENERATOR (30 characters, one of them
    always outside ASCII, so that every token shows the bug)."""
    chars = [secrets.choice(_ISALNUM) for _ in range(29)]
    return "".join(chars) + secrets.choice([c for c in _ISALNUM if ord(c) > 127])


class EdxOAuth2Validator(OAuth2Validator):
    """Users may log in with username or email and need not be active; client-credentials tokens
    belong to the application's owner; scopes are limited by ApplicationAccess."""

    def validate_user(
        self, username: str, password: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        user = self._authenticate(username=username, password=password)
        if user is not None:
            request.user = user
            return True
        if faults.is_active(Defect.BAD_PASSWORD_INVALID_CLIENT):
            raise errors.InvalidClientError(request=request)
        return False

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        allowed = bool(super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs))
        if faults.is_active(Defect.GRANT_TYPE_NOT_ENFORCED):
            # "Trusted partners may use any grant": a custom validator that skips DOT's check.
            return True
        if not allowed and faults.is_active(Defect.UNSUPPORTED_FOR_UNAUTHORIZED_CLIENT):
            raise errors.UnsupportedGrantTypeError(request=request)
        return allowed

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated = bool(super().authenticate_client(request, *args, **kwargs))
        if not authenticated and faults.is_active(Defect.ERROR_ECHOES_SECRET):
            given = getattr(request, "client_secret", None) or _basic_secret(request)
            raise errors.InvalidClientError(description=f"Invalid client secret: {given}", request=request)
        return authenticated

    def _authenticate_basic_auth(self, request: Any) -> bool:
        # A token endpoint that reads the client only from the form body (a custom validator or
        # client_secret_basic switched off): HTTP Basic never authenticates.
        if faults.is_active(Defect.BASIC_CLIENT_AUTH_REFUSED):
            return False
        return bool(super()._authenticate_basic_auth(request))

    def _authenticate_request_body(self, request: Any) -> bool:
        # client_secret_post switched off: only HTTP Basic authenticates a confidential client.
        if faults.is_active(Defect.BODY_CREDENTIALS_IGNORED):
            return False
        return bool(super()._authenticate_request_body(request))

    @staticmethod
    def _authenticate(username: str, password: str) -> Any:
        user = authenticate(username=username, password=password)
        if user is None:
            user_model = get_user_model()
            try:
                by_email = user_model.objects.get(email=username)
            except (user_model.DoesNotExist, user_model.MultipleObjectsReturned):
                return None
            user = authenticate(username=by_email.username, password=password)
        return user

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        grant_type, user = request.grant_type, request.user
        if grant_type == "client_credentials":
            if faults.is_active(Defect.REUSE_ACCESS_TOKENS) and self._reuse_access_token(token, request):
                return
            if faults.is_active(Defect.REFRESH_TOKEN_FOR_CLIENT_CREDENTIALS):
                token["refresh_token"] = generate_token()
            # DOT drops request.user for this grant; hiding the grant type keeps the owner we set.
            request.grant_type = None
            request.user = request.client.user
        try:
            super().save_bearer_token(token, request, *args, **kwargs)
        finally:
            request.grant_type, request.user = grant_type, user
        _expire_if_restricted(token, request)

    @staticmethod
    def _reuse_access_token(token: dict[str, Any], request: Any) -> bool:
        """Hand out the client's newest unexpired token for the same scopes, as DOP did."""
        existing = (
            AccessToken.objects.filter(
                application=request.client,
                user=request.client.user,
                scope=token["scope"],
                expires__gt=timezone.now(),
            )
            .order_by("-id")
            .first()
        )
        if existing is None:
            return False
        token["access_token"] = existing.token
        return True

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        default_scopes = list(super().get_default_scopes(client_id, request, *args, **kwargs))
        if request.grant_type == "client_credentials" and not request.scopes:
            if get_scopes_backend().has_user_id_in_application_scopes(application=request.client):
                return [*default_scopes, "user_id"]
        return default_scopes

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if faults.is_active(Defect.UNKNOWN_SCOPE_500):
            # Looks each scope's description up before checking it is known: KeyError, HTTP 500.
            [oauth2_settings.SCOPES[scope] for scope in scopes]
        available = get_scopes_backend().get_available_scopes(application=client, request=request)
        return set(scopes).issubset(set(available))

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if faults.is_active(Defect.REFRESH_REVOKE_KEEPS_REFRESH):
            refresh = RefreshToken.objects.filter(token=token).select_related("access_token").first()
            if refresh is not None:
                # Only the access token issued with it goes; the refresh token stays usable.
                if refresh.access_token is not None:
                    refresh.access_token.revoke()
                return
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)

    def _load_application(self, client_id: str, request: Any) -> Any:
        client = super()._load_application(client_id, request)
        if client is None and faults.is_active(Defect.DELETED_CLIENT_STILL_AUTHENTICATES):
            client = request.client = legacy_client(client_id)
        if client is None or isinstance(client.client_secret, _LooselyComparedSecret):
            return client
        for name, compare in _SECRET_COMPARISONS.items():
            if faults.is_active(name):
                client.client_secret = _LooselyComparedSecret(client.client_secret, compare)
                break
        return client

    # ---- the authorization-code flow (DOT 1.7.1's own behaviour unless a fault is active) --------

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if faults.is_active(Defect.REDIRECT_URI_PREFIX_MATCH):
            # An override that "allows sub-paths": the registered URI as a prefix of the given one.
            return any(redirect_uri.startswith(uri) for uri in request.client.redirect_uris.split())
        return bool(super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs))

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if faults.is_active(Defect.AUTHORIZATION_CODE_REUSABLE):
            return  # the grant is kept (as if marked used but never checked): the code works again
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        if faults.is_active(Defect.PKCE_IGNORED):
            return None  # the stored challenge is never looked up: any verifier, or none, passes
        challenge = super().get_code_challenge(code, request)
        return str(challenge) if challenge else None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        if faults.is_active(Defect.PKCE_METHOD_LOST):
            return "plain"  # the stored method is lost: an S256 challenge is compared as plain
        method = super().get_code_challenge_method(code, request)
        return str(method) if method else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if faults.is_active(Defect.CODE_REDIRECT_URI_NOT_CONFIRMED):
            return True  # the grant's redirect URI is never compared with the exchange's
        return bool(
            super().confirm_redirect_uri(client_id, code, redirect_uri, client, request, *args, **kwargs)
        )

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if faults.is_active(Defect.IMPLICIT_GRANT_FOR_SSO):
            return True  # every application may use every response type (implicit included)
        return bool(
            super().validate_response_type(client_id, response_type, client, request, *args, **kwargs)
        )


def _basic_secret(request: Any) -> str | None:
    """The secret of an HTTP Basic Authorization header, for the error-echoes-secret fault."""
    header = (getattr(request, "headers", None) or {}).get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode("utf-8")
    except ValueError:
        return None
    return decoded.split(":", 1)[1] if ":" in decoded else None


def _expire_if_restricted(token: dict[str, Any], request: Any) -> None:
    """oauth_dispatch's pre-save hook and ``_update_token_expiry_if_restricted_client``: an opaque
    token of a RestrictedApplication is stored already expired (1970-01-01) and its ``expires_in``
    is negative; a JWT request keeps its token (the JWT says ``is_restricted`` instead)."""
    if not RestrictedApplication.is_restricted(request.client):
        return
    params = dict(getattr(request, "decoded_body", None) or [])
    if str(params.get("token_type", "")).lower() == "jwt":
        return
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    AccessToken.objects.filter(token=token["access_token"]).update(expires=epoch)
    token["expires_in"] = (epoch - timezone.now()).total_seconds()
