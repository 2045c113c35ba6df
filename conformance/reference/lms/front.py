"""The web server in front of the LMS, for the faults that live there: a rule that drops the
Authorization header of API requests, a trailing-slash rewrite on the OAuth paths, and a WAF rule
that blocks the login API with its own 403 page. Installed
first in MIDDLEWARE (so it acts before Django sees the request) only when one of them is active."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from conformance.reference import faults

FRONT_FAULTS = frozenset({"api-authorization-dropped", "token-path-slash-stripped", "login-api-waf-403"})
LOGIN_API = "/api/user/v2/account/login_session/"
# What a WAF (ModSecurity's default deny page, a CDN's bot rule) answers: HTML, never JSON.
WAF_PAGE = (
    "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1>"
    "<p>Request blocked by the web application firewall.</p></body></html>"
)


class FrontServerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Apache mod_wsgi without `WSGIPassAuthorization On` (or a proxy's cache location with
        # `proxy_set_header Authorization ""`): the API never sees the credential. The token
        # endpoint still authenticates clients by their form fields.
        self.drop_api_authorization = faults.is_active("api-authorization-dropped")
        # nginx `rewrite ^/(.*)/$ /$1 permanent;`: every path with a trailing slash is redirected.
        self.strip_slash = faults.is_active("token-path-slash-stripped")
        # A WAF rule that treats a POST of a password as an attack: the login API never answers.
        self.waf_login = faults.is_active("login-api-waf-403")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.waf_login and request.method == "POST" and request.path == LOGIN_API:
            return HttpResponse(WAF_PAGE, status=403, content_type="text/html")
        if self.strip_slash and request.path.startswith("/oauth2/") and request.path.endswith("/"):
            return HttpResponsePermanentRedirect(request.path.rstrip("/"))
        if self.drop_api_authorization and request.path.startswith("/api/"):
            request.META.pop("HTTP_AUTHORIZATION", None)
        return self.get_response(request)
