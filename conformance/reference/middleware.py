"""Middleware and logging shared by both reference services: the artificial latency, quiet logs, and
the proxy of a service that is down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from conformance.reference.runtime import current


class LatencyMiddleware:
    """Delays every response by ``--latency-ms``: the reference then stands in for a remote
    instance in benchmarks (request budgets, parallelism, timeouts)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.delay_s = current().latency_ms / 1000.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.delay_s > 0:
            time.sleep(self.delay_s)
        return self.get_response(request)


class UpstreamDownMiddleware:
    """The service-down fault: the proxy in front of the service answers every request with its
    502 page, as nginx or Caddy do when the application behind them is not running."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return HttpResponse(page, status=502, content_type="text/html")


class ExpectedErrorsFilter(logging.Filter):
    """Drops the log records of errors the reference produces on purpose, so that a suite run
    does not print tracebacks for behaviour it is checking (DOT 1.7.1's 500 on query strings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            if type(exc).__name__ == "InvalidRequestError" and "query parameters" in str(exc):
                return False
        return True
