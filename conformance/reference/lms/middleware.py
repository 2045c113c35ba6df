"""LMS middleware for the token-response faults, applied where a proxy or a patch would apply them."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from conformance.reference import faults

TOKEN_PATHS = ("/oauth2/access_token", "/oauth2/access_token/")


class TokenResponseFaultsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.no_cache_headers = faults.is_active("no-cache-headers")
        self.expires_in_string = faults.is_active("expires-in-string")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path not in TOKEN_PATHS:
            return response
        if self.no_cache_headers:
            for header in ("Cache-Control", "Pragma"):
                if header in response:
                    del response[header]
        if self.expires_in_string and response.status_code == 200:
            body = json.loads(response.content.decode("utf-8"))
            if "expires_in" in body:
                body["expires_in"] = str(body["expires_in"])
                response.content = json.dumps(body).encode("utf-8")
        return response
