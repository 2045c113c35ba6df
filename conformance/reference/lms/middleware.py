"""LMS middleware for the faults a proxy, a gateway or a request-munging middleware would cause on
the OAuth endpoints: on the way in (what reaches DOT) and on the way out (what the client sees)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from conformance.reference import faults

TOKEN_PATHS = ("/oauth2/access_token", "/oauth2/access_token/")
OAUTH_PREFIX = "/oauth2/"
API_PREFIX = "/api/"


def _replace_form(request: HttpRequest, pairs: list[tuple[str, str]]) -> None:
    """Make ``pairs`` the request's form, as Django would have parsed it from the body."""
    form = QueryDict(mutable=True)
    for key, value in pairs:
        form.appendlist(key, value)
    form._mutable = False
    request._post = form  # type: ignore[attr-defined]
    request._files = MultiValueDict()  # type: ignore[attr-defined]


class TokenRequestFaultsMiddleware:
    """What reaches the token view: headers a proxy drops, parameters a middleware invents."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.strip_authorization = faults.is_active("authorization-header-stripped")
        self.json_body = faults.is_active("json-body-accepted")
        self.normalise_params = faults.is_active("gateway-normalises-params")
        self.scheme_case_sensitive = faults.is_active("gateway-scheme-case-sensitive")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.strip_authorization and request.path.startswith(OAUTH_PREFIX):
            request.META.pop("HTTP_AUTHORIZATION", None)
        if self.scheme_case_sensitive and request.path.startswith(API_PREFIX):
            scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
            if scheme.lower() in ("jwt", "bearer") and scheme not in ("JWT", "Bearer"):
                request.META.pop("HTTP_AUTHORIZATION", None)
        if request.method == "POST" and request.path in TOKEN_PATHS:
            if self.json_body and request.content_type == "application/json":
                self._form_from_json(request)
            if self.normalise_params:
                self._normalise_params(request)
        return self.get_response(request)

    @staticmethod
    def _form_from_json(request: HttpRequest) -> None:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return
        if isinstance(data, dict):
            _replace_form(request, [(str(k), str(v)) for k, v in data.items()])

    @staticmethod
    def _normalise_params(request: HttpRequest) -> None:
        # The gateway moves query parameters into the body and joins repeated parameters with
        # commas, as it combines repeated headers.
        values: dict[str, list[str]] = {}
        for source in (request.GET, request.POST):
            for key, items in source.lists():
                values.setdefault(key, []).extend(items)
        _replace_form(request, [(key, ",".join(items)) for key, items in values.items()])
        request.GET = QueryDict()
        request.META["QUERY_STRING"] = ""


class TokenResponseFaultsMiddleware:
    """What the client sees of a token response: headers dropped, statuses and members rewritten."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.no_cache_headers = faults.is_active("no-cache-headers")
        self.no_pragma = faults.is_active("no-pragma")
        self.no_www_authenticate = faults.is_active("no-www-authenticate")
        self.expires_in_string = faults.is_active("expires-in-string")
        self.scope_as_list = faults.is_active("scope-as-list")
        self.invalid_client_400 = faults.is_active("invalid-client-400")
        self.error_as_200 = faults.is_active("error-as-200")
        self.invalid_grant_for_unsupported = faults.is_active("invalid-grant-for-unsupported")
        self.error_text_plain = faults.is_active("error-content-type-text")
        self.refresh_dropped = faults.is_active("refresh-token-dropped")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path not in TOKEN_PATHS:
            return response
        response = self._rewrite(response)
        if self.error_text_plain and response.status_code >= 400:
            response["Content-Type"] = "text/plain; charset=utf-8"  # the JSON body is kept
        return response

    def _rewrite(self, response: HttpResponse) -> HttpResponse:
        dropped = (
            ("Cache-Control", "Pragma") if self.no_cache_headers else ("Pragma",) if self.no_pragma else ()
        )
        for header in dropped:
            if header in response:
                del response[header]
        if self.no_www_authenticate and response.status_code == 401 and "WWW-Authenticate" in response:
            del response["WWW-Authenticate"]
        body = self._json(response)
        if body is None:
            return response
        original = dict(body)
        if response.status_code == 200 and "access_token" in body:
            if self.expires_in_string and "expires_in" in body:
                body["expires_in"] = str(body["expires_in"])
            if self.scope_as_list and isinstance(body.get("scope"), str):
                body["scope"] = body["scope"].split()
            if self.refresh_dropped:
                body.pop("refresh_token", None)
        error = body.get("error")
        if error is not None:
            if self.invalid_grant_for_unsupported and error == "unsupported_grant_type":
                body["error"] = "invalid_grant"
            if self.invalid_client_400 and error == "invalid_client" and response.status_code == 401:
                response.status_code = 400
            if self.error_as_200 and response.status_code in (400, 401):
                response.status_code = 200
        if body != original:
            response.content = json.dumps(body).encode("utf-8")
        return response

    @staticmethod
    def _json(response: HttpResponse) -> dict[str, Any] | None:
        if not response.get("Content-Type", "").startswith("application/json"):
            return None
        try:
            body = json.loads(response.content.decode("utf-8"))
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
