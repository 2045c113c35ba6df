"""The discovery service's authentication faults (its views import nothing from here)."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication


class HeaderPayloadCookieAuthentication(authentication.BaseAuthentication):
    """The discovery-cookie-payload-trusted fault: the user named by the readable header-payload
    cookie, whatever the signature cookie says (what an MFE may do to show a name, never a server)."""

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
