"""Interoperability: edx-rest-api-client, as Open edX services use it, against the reference LMS."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import jwt
import pytest

from conformance.reference.launcher import RunningReference, running_reference

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")


@pytest.fixture(scope="module")
def rest_client() -> ModuleType:
    """The client caches tokens in Django's cache (TieredCache), as inside an Open edX service:
    give it the smallest Django it needs, unless this process has one already."""
    client = pytest.importorskip("edx_rest_api_client.client")
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            OPENEDX_TELEMETRY=[],
            USE_TZ=True,
        )
        django.setup()
    return client


@pytest.fixture(scope="module")
def ref() -> Iterator[RunningReference]:
    with running_reference() as running:
        yield running


def test_oauth_api_client_gets_a_jwt_and_calls_me(rest_client: ModuleType, ref: RunningReference) -> None:
    client = rest_client.OAuthAPIClient(
        ref.url, ref.env["EDX_OAUTH_CLIENT_ID"], ref.env["EDX_OAUTH_CLIENT_SECRET"]
    )
    response = client.get(f"{ref.url}/api/user/v1/me")
    assert response.status_code == 200
    assert response.json() == {"username": "svc_worker"}
    # The client asked for, and sends, a JWT rather than an opaque token.
    token = client.get_jwt_access_token()
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert response.request.headers["Authorization"] == f"JWT {token}"


def test_oauth_api_client_with_oauth2_base_url_calls_discovery(
    rest_client: ModuleType, ref: RunningReference
) -> None:
    client = rest_client.OAuthAPIClient(
        f"{ref.url}/oauth2", ref.env["EDX_OAUTH_CLIENT_ID"], ref.env["EDX_OAUTH_CLIENT_SECRET"]
    )
    response = client.get(f"{ref.discovery_url}/api/v1/catalogs/")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_get_oauth_access_token_bearer(rest_client: ModuleType, ref: RunningReference) -> None:
    token, expires_at = rest_client.get_oauth_access_token(
        ref.url, ref.env["EDX_OAUTH_CLIENT_ID"], ref.env["EDX_OAUTH_CLIENT_SECRET"], token_type="bearer"
    )
    assert len(token) == 30
    assert expires_at is not None
