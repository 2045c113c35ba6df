"""EdxOAuth2Validator: the platform's django-oauth-toolkit validator overrides, plus the hook of the
``secret-prefix`` fault."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend

from conformance.reference import faults


class _PrefixMatchingSecret(str):
    """A stored client secret that compares equal to any non-empty prefix of itself.

    DOT compares ``request.client.client_secret != given`` in both of its client-authentication
    paths (Basic and body); giving it this value is the whole of the ``secret-prefix`` fault.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) >= 1 and str.startswith(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


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
        return False

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
            # DOT drops request.user for this grant; hiding the grant type keeps the owner we set.
            request.grant_type = None
            request.user = request.client.user
        try:
            super().save_bearer_token(token, request, *args, **kwargs)
        finally:
            request.grant_type, request.user = grant_type, user

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        default_scopes = list(super().get_default_scopes(client_id, request, *args, **kwargs))
        if request.grant_type == "client_credentials" and not request.scopes:
            if get_scopes_backend().has_user_id_in_application_scopes(application=request.client):
                return [*default_scopes, "user_id"]
        return default_scopes

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        available = get_scopes_backend().get_available_scopes(application=client, request=request)
        return set(scopes).issubset(set(available))

    def _load_application(self, client_id: str, request: Any) -> Any:
        client = super()._load_application(client_id, request)
        if (
            client is not None
            and faults.is_active("secret-prefix")
            and not isinstance(client.client_secret, _PrefixMatchingSecret)
        ):
            client.client_secret = _PrefixMatchingSecret(client.client_secret)
        return client
