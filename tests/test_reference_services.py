"""The reference discovery service as a resource server, and the LMS's signing key, at HTTP level:
what the services and key-rotation checks rely on, shown without the suite in between.

The point of the first tests: on the pinned edx-drf-extensions (10.6.0) a service whose settings say
`JWT_VERIFY_AUDIENCE: False` (course-discovery's and ecommerce's base settings) still refuses a
token minted for another audience, because `aud` is checked at the signature step since 8.8.0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance.reference.launcher import RunningReference, running_reference
from tests.conftest import ROOT

CATALOGS = "/api/v1/catalogs/"


@pytest.fixture(scope="module")
def ref() -> Iterator[RunningReference]:
    with running_reference(rate_limit="100000/m") as running:
        yield running


def _token(ref: RunningReference, **extra: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
        "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
        "token_type": "jwt",
        **extra,
    }
    response = httpx.post(f"{ref.url}/oauth2/access_token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _resigned(ref: RunningReference, token: str, **changes: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return jwt.encode(claims, ref.env["EDX_JWT_SECRET"], algorithm="HS256")


def _catalogs(ref: RunningReference, token: str) -> int:
    return httpx.get(
        f"{ref.discovery_url}{CATALOGS}", headers={"Authorization": f"JWT {token}"}, timeout=10
    ).status_code


def test_discovery_settings_turn_the_audience_setting_off() -> None:
    text = (ROOT / "conformance" / "reference" / "discovery_settings.py").read_text()
    assert '"JWT_VERIFY_AUDIENCE": False,' in text


def test_pinned_edx_drf_extensions_checks_aud_anyway(ref: RunningReference) -> None:
    genuine = _token(ref)
    assert _catalogs(ref, _resigned(ref, genuine)) == 200  # the positive control
    assert _catalogs(ref, _resigned(ref, genuine, aud="another-service")) == 401


def test_discovery_refuses_expired_and_foreign_issuer(ref: RunningReference) -> None:
    genuine = _token(ref)
    now = int(time.time())
    assert _catalogs(ref, _resigned(ref, genuine, iat=now - 3720, exp=now - 120)) == 401
    assert _catalogs(ref, _resigned(ref, genuine, iss="https://elsewhere.example/oauth2")) == 401


def test_the_lms_signs_rs512_with_its_private_jwk(ref: RunningReference) -> None:
    jwk = json.loads((ref.state_dir / "jwt-private.json").read_text())
    assert {"dp", "dq", "qi"} <= set(jwk)
    token = _token(ref, asymmetric_jwt="true")
    public = jwt.PyJWK({k: v for k, v in jwk.items() if k in ("kty", "n", "e", "kid")}, "RS512").key
    assert jwt.decode(token, public, algorithms=["RS512"], audience="openedx")["aud"] == "openedx"
    assert _catalogs(ref, token) == 200


def test_a_private_jwk_without_crt_members_breaks_rs512_only(tmp_path) -> None:
    with running_reference(
        state_dir=tmp_path, faults=["private-jwk-missing-crt"], rate_limit="100000/m"
    ) as bad:
        assert not {"dp", "dq", "qi"} & set(json.loads((bad.state_dir / "jwt-private.json").read_text()))
        form = {
            "grant_type": "client_credentials",
            "client_id": bad.env["EDX_OAUTH_CLIENT_ID"],
            "client_secret": bad.env["EDX_OAUTH_CLIENT_SECRET"],
            "token_type": "jwt",
        }
        assert httpx.post(f"{bad.url}/oauth2/access_token", data=form, timeout=10).status_code == 200
        broken = httpx.post(
            f"{bad.url}/oauth2/access_token", data={**form, "asymmetric_jwt": "true"}, timeout=10
        )
        assert broken.status_code == 500
