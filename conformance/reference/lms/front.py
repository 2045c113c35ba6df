"""The web server in front of the LMS, for the faults that live there: a rule that drops the
Authorization header of API requests, and a trailing-slash rewrite on the OAuth paths. Installed
first in MIDDLEWARE (so it acts before Django sees the request) only when one of them is active."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from conformance.reference import faults

FRONT_FAULTS = frozenset({"api-authorization-dropped", "token-path-slash-stripped"})


class FrontServerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Apache mod_wsgi without `WSGIPassAuthorization On` (or a proxy's cache location with
        # `proxy_set_header Authorization ""`): the API never sees the credential. The token
        # endpoint still authenticates clients by their form fields.
        self.drop_api_authorization = faults.is_active("api-authorization-dropped")
        # nginx `rewrite ^/(.*)/$ /$1 permanent;`: every path with a trailing slash is redirected.
        self.strip_slash = faults.is_active("token-path-slash-stripped")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.strip_slash and request.path.startswith("/oauth2/") and request.path.endswith("/"):
            return HttpResponsePermanentRedirect(request.path.rstrip("/"))
        if self.drop_api_authorization and request.path.startswith("/api/"):
            request.META.pop("HTTP_AUTHORIZATION", None)
        return self.get_response(request)
