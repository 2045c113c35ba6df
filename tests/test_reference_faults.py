"""Each fault of the reference instance changes what it should, and only that: the same probe that
shows the fault passes on the clean instance."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance.reference.faults import AREAS, FAULTS
from conformance.reference.launcher import RunningReference, running_reference

TOKEN = "/oauth2/access_token"
ME = "/api/user/v1/me"
CATALOGS = "/api/v1/catalogs/"
FAULT_NAMES = [fault.name for fault in FAULTS]


Instance = tuple[str | None, RunningReference]


@pytest.fixture(scope="module", params=[None, *FAULT_NAMES], ids=["clean", *FAULT_NAMES])
def instance(request: pytest.FixtureRequest) -> Iterator[Instance]:
    """The clean instance, then one instance per fault: each test checks both sides."""
    with running_reference(faults=[request.param] if request.param else [], rate_limit="100000/m") as running:
        yield request.param, running


def cc_form(ref: RunningReference, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
        "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
        **extra,
    }


def jwt_token(ref: RunningReference) -> str:
    response = httpx.post(ref.url + TOKEN, data=cc_form(ref, token_type="jwt"))
    assert response.status_code == 200
    return str(response.json()["access_token"])


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_fault_table_is_well_formed() -> None:
    assert len(set(FAULT_NAMES)) == len(FAULT_NAMES)
    for fault in FAULTS:
        assert fault.area in AREAS
        assert fault.description.endswith(".")
        assert isinstance(fault.catches, list)


def test_wrong_issuer(instance: Instance) -> None:
    fault, ref = instance
    claims = jwt.decode(jwt_token(ref), options={"verify_signature": False})
    if fault == "wrong-issuer":
        assert claims["iss"] != f"{ref.url}/oauth2"
        assert claims["iss"].endswith("/oauth2")
    else:
        assert claims["iss"] == f"{ref.url}/oauth2"


def test_the_lms_accepts_its_own_tokens_under_every_fault(instance: Instance) -> None:
    _fault, ref = instance
    assert httpx.get(ref.url + ME, headers={"Authorization": f"JWT {jwt_token(ref)}"}).status_code == 200


def test_discovery_accepts_lms_tokens_unless_an_issuer_is_wrong(instance: Instance) -> None:
    fault, ref = instance
    status = httpx.get(
        ref.discovery_url + CATALOGS, headers={"Authorization": f"JWT {jwt_token(ref)}"}
    ).status_code
    refused = fault in {"wrong-issuer", "discovery-wrong-issuer"}
    assert status == (401 if refused else 200)


@pytest.mark.parametrize("length", [1, 10, -1])
def test_secret_prefix(instance: Instance, length: int) -> None:
    fault, ref = instance
    prefix = ref.env["EDX_OAUTH_CLIENT_SECRET"][:length]
    body = httpx.post(ref.url + TOKEN, data=cc_form(ref, client_secret=prefix))
    basic = httpx.post(
        ref.url + TOKEN,
        data={"grant_type": "client_credentials"},
        auth=(ref.env["EDX_OAUTH_CLIENT_ID"], prefix),
    )
    expected = 200 if fault == "secret-prefix" else 401
    assert (body.status_code, basic.status_code) == (expected, expected)


@pytest.mark.parametrize("secret", ["", "x", "SUFFIX"])
def test_secret_prefix_still_refuses_non_prefixes(instance: Instance, secret: str) -> None:
    _fault, ref = instance
    value = ref.env["EDX_OAUTH_CLIENT_SECRET"] + "x" if secret == "SUFFIX" else secret
    if value == "x" and ref.env["EDX_OAUTH_CLIENT_SECRET"].startswith("x"):
        value = "y"
    assert httpx.post(ref.url + TOKEN, data=cc_form(ref, client_secret=value)).status_code == 401


def test_no_cache_headers(instance: Instance) -> None:
    fault, ref = instance
    for form in (cc_form(ref, token_type="jwt"), cc_form(ref, client_secret="wrong")):
        response = httpx.post(ref.url + TOKEN, data=form)
        if fault == "no-cache-headers":
            assert "cache-control" not in response.headers and "pragma" not in response.headers
        else:
            assert (response.headers["cache-control"], response.headers["pragma"]) == ("no-store", "no-cache")


@pytest.mark.parametrize("token_type", ["jwt", "bearer"])
def test_expires_in_string(instance: Instance, token_type: str) -> None:
    fault, ref = instance
    body = httpx.post(ref.url + TOKEN, data=cc_form(ref, token_type=token_type)).json()
    expected = 3600 if token_type == "jwt" else 36000
    if fault == "expires-in-string":
        assert body["expires_in"] == str(expected)
    else:
        assert body["expires_in"] == expected


def test_accept_alg_none(instance: Instance) -> None:
    fault, ref = instance
    claims = jwt.decode(jwt_token(ref), options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    me = httpx.get(ref.url + ME, headers={"Authorization": f"JWT {unsigned}"})
    if fault == "accept-alg-none":
        assert me.json() == {"username": "svc_worker"}
        # Only the signature is skipped: a bad audience is still refused, and so is discovery.
        wrong_aud = f"{b64({'alg': 'none'})}.{b64({**claims, 'aud': 'other'})}."
        assert httpx.get(ref.url + ME, headers={"Authorization": f"JWT {wrong_aud}"}).status_code == 401
    else:
        assert me.status_code == 401
        assert me.json() == {"detail": "Invalid token."}
    discovery = httpx.get(ref.discovery_url + CATALOGS, headers={"Authorization": f"JWT {unsigned}"})
    assert discovery.status_code == 401
