"""``/api/v1/catalogs/``: an empty, paginated catalog list behind the service's own JWT settings."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication, generics, serializers


class CatalogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CatalogListView(generics.ListAPIView):
    serializer_class = CatalogSerializer

    def get_queryset(self) -> Any:
        return []


class HeaderPayloadCookieAuthentication(authentication.BaseAuthentication):
    """The discovery-cookie-payload-trusted fault: the user named by the unsigned header-payload
    cookie, whatever the signature cookie says."""

    def authenticate(self, request: Any) -> Any:
        value = request.COOKIES.get("edx-jwt-cookie-header-payload", "")
        try:
            payload = value.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            username = str(claims["preferred_username"])
        except (IndexError, KeyError, TypeError, ValueError):
            return None
        user, _ = get_user_model().objects.get_or_create(username=username)
        return (user, None)
