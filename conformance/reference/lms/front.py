"""The web server in front of the LMS, for the fault of its own that is code: a trailing-slash
rewrite on the OAuth paths. Installed first in MIDDLEWARE (so it acts before Django sees the
request) only when it is active. The front's faults that are data (an Authorization header dropped,
a WAF's own 403 page) are effects in the fault table, applied by ``FaultEffectsMiddleware``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect

from conformance.reference import faults
from conformance.reference.defects import Defect


class FrontServerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # nginx `rewrite ^/(.*)/$ /$1 permanent;`: every path with a trailing slash is redirected.
        self.strip_slash = faults.is_active(Defect.TOKEN_PATH_SLASH_STRIPPED)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.strip_slash and request.path.startswith("/oauth2/") and request.path.endswith("/"):
            return HttpResponsePermanentRedirect(request.path.rstrip("/"))
        return self.get_response(request)
