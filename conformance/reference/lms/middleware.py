"""LMS middleware for the faults a proxy, a gateway or a request-munging middleware would cause:
on the way in (what reaches DOT and the API) and on the way out (what the client sees)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from conformance.reference import faults
from conformance.reference.defects import Defect
from conformance.reference.faults import effects

TOKEN_PATHS = ("/oauth2/access_token", "/oauth2/access_token/")
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
    """What reaches the token view and the API, where the fault is code: a JSON body taken as the
    form, parameters a gateway merges, scheme names a gateway matches case-sensitively."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.json_body = faults.is_active(Defect.JSON_BODY_ACCEPTED)
        self.normalise_params = faults.is_active(Defect.GATEWAY_NORMALISES_PARAMS)
        self.scheme_case_sensitive = faults.is_active(Defect.GATEWAY_SCHEME_CASE_SENSITIVE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
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


class FaultEffectsMiddleware:
    """The declared effects of the active faults (conformance/reference/faults/effects.py), applied
    where a proxy or gateway sits: first on the way in (a request header dropped, a request
    answered by the front itself), last on the way out (headers, statuses, error codes and token
    response members rewritten). Outermost in MIDDLEWARE after the latency middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.effects = faults.active_effects()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.effects:
            return self.get_response(request)
        answered = effects.answer(self.effects, request.method or "", request.path)
        if answered is not None:
            return HttpResponse(answered.body, status=answered.status, content_type=answered.content_type)
        for header in effects.dropped_request_headers(self.effects, request.path):
            request.META.pop("HTTP_" + header.upper().replace("-", "_"), None)
        response = self.get_response(request)
        if response.streaming:
            return response
        status, content = effects.rewrite_response(
            self.effects, request.path, response.status_code, response.headers, response.content
        )
        response.status_code = status
        if content is not None:
            response.content = content
            if "Content-Length" in response:
                response["Content-Length"] = str(len(content))
        return response
