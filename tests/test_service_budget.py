"""Requests to the profile's [[services]] have a budget per origin, apart from the LMS's: listing
more services never starves the LMS's checks, and every request still counts in summary.json."""

from __future__ import annotations

import httpx
import pytest

from conformance._lib.http import BudgetExhausted, Http


def _client(max_requests: int, max_service_requests: int) -> Http:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
    return Http(
        "https://lms.example.org",
        transport=transport,
        max_requests=max_requests,
        max_service_requests=max_service_requests,
    )


def test_services_do_not_use_up_the_lms_budget() -> None:
    http = _client(max_requests=10, max_service_requests=10)
    for _ in range(10):
        http.get("https://discovery.example.org/api/v1/catalogs/")
        http.get("https://ecommerce.example.org/api/v2/")
    for _ in range(10):
        http.get("/api/user/v1/me")
    assert (http.requests, http.lms_requests) == (30, 10)
    assert http.service_requests == {"https://discovery.example.org": 10, "https://ecommerce.example.org": 10}


def test_each_budget_ends_on_its_own() -> None:
    http = _client(max_requests=10, max_service_requests=10)
    for _ in range(10):
        http.get("https://discovery.example.org/p")
    with pytest.raises(BudgetExhausted, match=r"https://discovery\.example\.org.*max_service_requests"):
        http.get("https://discovery.example.org/p")
    http.get("/api/user/v1/me")  # the LMS's budget is untouched
    http.get("https://ecommerce.example.org/p")  # and so is another service's
