"""The reference LMS's token and revocation endpoints against the stock LMS's observed behaviour
(docs/clauses.md, sections observed-2, observed-3 and observed-5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

pytest.importorskip("django")
pytest.importorskip("oauth2_provider")

from conformance.reference.launcher import RunningReference, running_reference

TOKEN = "/oauth2/access_token"
REVOKE = "/oauth2/revoke_token"
ME = "/api/user/v1/me"
OPAQUE_RE = re.compile(r"^[A-Za-z0-9]{30}$")
CLAIM_ORDER = [
    "aud",
    "exp",
    "grant_type",
    "iat",
    "iss",
    "preferred_username",
    "scopes",
    "version",
    "sub",
    "filters",
    "is_restricted",
    "email_verified",
]
PROFILE_CLAIMS = ["name", "family_name", "given_name", "administrator", "superuser"]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tokens") / "issued.txt"


@pytest.fixture(scope="module")
def ref(records: Path) -> Iterator[RunningReference]:
    with running_reference(rate_limit="100000/m", record_tokens=records) as running:
        yield running


@pytest.fixture(scope="module")
def lms(ref: RunningReference) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ref.url, timeout=10) as client:
        yield client


def cc_form(ref: RunningReference, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
        "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
        **extra,
    }


def password_form(ref: RunningReference, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
        "username": ref.env["EDX_TEST_USERNAME"],
        "password": ref.env["EDX_TEST_PASSWORD"],
        **extra,
    }


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def verify_hs256(ref: RunningReference, token: str) -> dict[str, Any]:
    return jwt.decode(token, ref.env["EDX_JWT_SECRET"], algorithms=["HS256"], audience="openedx")


def verify_rs512(ref: RunningReference, token: str) -> dict[str, Any]:
    jwks = jwt.PyJWKSet.from_json((ref.state_dir / "jwks.json").read_text())
    return jwt.decode(token, jwks.keys[0].key, algorithms=["RS512"], audience="openedx")


def assert_oauth_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


# client_credentials ---------------------------------------------------------------------------------


def test_client_credentials_jwt_response_shape(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, data=cc_form(ref, token_type="jwt"))
    assert response.status_code == 200
    assert_oauth_headers(response)
    body = response.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope"]
    assert body["token_type"] == "JWT"
    assert body["expires_in"] == 3600 and isinstance(body["expires_in"], int)
    assert body["scope"] == "read write email profile"
    # json.dumps with its default separators, exactly as the LMS writes it.
    assert response.text == json.dumps(body)


def test_client_credentials_jwt_claims(ref: RunningReference, lms: httpx.Client) -> None:
    token = lms.post(TOKEN, data=cc_form(ref, token_type="jwt")).json()["access_token"]
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = verify_hs256(ref, token)
    assert list(claims) == [*CLAIM_ORDER, "email", *PROFILE_CLAIMS]
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["iss"] == f"{ref.url}/oauth2"
    assert claims["aud"] == "openedx"
    assert claims["grant_type"] == "client-credentials"
    assert claims["preferred_username"] == "svc_worker"
    assert claims["scopes"] == ["read", "write", "email", "profile"]
    assert claims["version"] == "1.2.0"
    assert re.fullmatch(r"[0-9a-f]{32}", claims["sub"])
    assert claims["filters"] == []
    assert claims["is_restricted"] is False
    assert claims["email_verified"] is True
    assert claims["administrator"] is True and claims["superuser"] is False
    assert "jti" not in claims and "nbf" not in claims


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        ({"token_type": "JWT"}, {}),
        ({}, {"X-Token-Type": "jwt"}),
    ],
    ids=["upper-case-parameter", "header"],
)
def test_jwt_requested_other_ways(
    ref: RunningReference, lms: httpx.Client, form: dict[str, str], headers: dict[str, str]
) -> None:
    response = lms.post(TOKEN + "/", data=cc_form(ref, **form), headers=headers)
    assert response.status_code == 200
    assert response.json()["token_type"] == "JWT"


def test_token_type_parameter_wins_over_header(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, data=cc_form(ref, token_type="bearer"), headers={"X-Token-Type": "jwt"})
    assert response.json()["token_type"] == "Bearer"


def test_basic_auth_and_basic_wins_over_body_client_id(ref: RunningReference, lms: httpx.Client) -> None:
    auth = (ref.env["EDX_OAUTH_CLIENT_ID"], ref.env["EDX_OAUTH_CLIENT_SECRET"])
    form = {
        "grant_type": "client_credentials",
        "token_type": "jwt",
        "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
    }
    response = lms.post(TOKEN, data=form, auth=auth)
    assert response.status_code == 200
    assert claims_of(response.json()["access_token"])["grant_type"] == "client-credentials"


@pytest.mark.parametrize("value", ["true", "false", "1"])
def test_asymmetric_jwt_any_value_gives_rs512(ref: RunningReference, lms: httpx.Client, value: str) -> None:
    token = lms.post(TOKEN, data=cc_form(ref, token_type="jwt", asymmetric_jwt=value)).json()["access_token"]
    assert jwt.get_unverified_header(token) == {"alg": "RS512", "typ": "JWT"}
    assert verify_rs512(ref, token)["preferred_username"] == "svc_worker"


def test_opaque_client_credentials_response(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, data=cc_form(ref))
    assert response.status_code == 200
    assert_oauth_headers(response)
    body = response.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope"]
    assert OPAQUE_RE.match(body["access_token"])
    assert body["expires_in"] == 36000
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body


def test_scope_read_only(ref: RunningReference, lms: httpx.Client) -> None:
    body = lms.post(TOKEN, data=cc_form(ref, token_type="jwt", scope="read")).json()
    assert body["scope"] == "read"
    claims = claims_of(body["access_token"])
    assert claims["scopes"] == ["read"]
    assert list(claims) == CLAIM_ORDER


@pytest.mark.parametrize("scope", ["user_id", "nonexistent", "read grades:read"])
def test_scope_not_permitted(ref: RunningReference, lms: httpx.Client, scope: str) -> None:
    response = lms.post(TOKEN, data=cc_form(ref, scope=scope))
    assert response.status_code == 400
    assert response.text == '{"error": "invalid_scope"}'


# errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"client_secret": "wrong"}, {"client_id": "nobody"}, {"client_id": "", "client_secret": ""}],
    ids=["wrong-secret", "unknown-client", "no-client"],
)
def test_invalid_client(ref: RunningReference, lms: httpx.Client, change: dict[str, str]) -> None:
    form = {k: v for k, v in {**cc_form(ref), **change}.items() if v}
    response = lms.post(TOKEN, data=form)
    assert response.status_code == 401
    assert_oauth_headers(response)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_client"'
    assert response.content == b'{"error": "invalid_client"}'


def test_invalid_client_basic(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=(ref.env["EDX_OAUTH_CLIENT_ID"], "x")
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


@pytest.mark.parametrize("grant", [None, "foo"])
def test_unsupported_grant_type(ref: RunningReference, lms: httpx.Client, grant: str | None) -> None:
    form = cc_form(ref)
    if grant is None:
        del form["grant_type"]
    else:
        form["grant_type"] = grant
    response = lms.post(TOKEN, data=form)
    assert response.status_code == 400
    assert_oauth_headers(response)
    assert "www-authenticate" not in response.headers
    assert response.text == '{"error": "unsupported_grant_type"}'


def test_json_body_is_unsupported_grant_type(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, json=cc_form(ref))
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type"}


def test_password_grant_on_client_credentials_app(ref: RunningReference, lms: httpx.Client) -> None:
    form = password_form(
        ref, client_id=ref.env["EDX_OAUTH_CLIENT_ID"], client_secret=ref.env["EDX_OAUTH_CLIENT_SECRET"]
    )
    response = lms.post(TOKEN, data=form)
    assert response.status_code == 400
    assert response.json() == {"error": "unauthorized_client"}


def test_duplicate_grant_type_keeps_the_last(ref: RunningReference, lms: httpx.Client) -> None:
    body = "&".join(f"{k}={v}" for k, v in cc_form(ref).items()) + "&grant_type=client_credentials"
    response = lms.post(TOKEN, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200


def test_query_string_on_post_is_a_server_error(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, params={"token_type": "jwt"}, data=cc_form(ref))
    assert response.status_code == 500


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(lms: httpx.Client, method: str) -> None:
    response = lms.request(method, TOKEN)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.content == b""
    assert "cache-control" not in response.headers


def test_options(lms: httpx.Client) -> None:
    response = lms.options(TOKEN)
    assert response.status_code == 200
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.content == b""


# password and refresh_token -------------------------------------------------------------------------


def test_password_grant_jwt(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(TOKEN, data=password_form(ref, token_type="jwt"))
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "expires_in", "token_type", "scope", "refresh_token"]
    assert body["scope"] == "read write email profile user_id"
    assert OPAQUE_RE.match(body["refresh_token"])
    claims = verify_hs256(ref, body["access_token"])
    assert list(claims) == [*CLAIM_ORDER, "email", *PROFILE_CLAIMS, "user_id"]
    assert claims["grant_type"] == "password"
    assert claims["filters"] == ["user:me"]
    assert claims["scopes"] == ["read", "write", "email", "profile", "user_id"]
    assert claims["preferred_username"] == ref.env["EDX_TEST_USERNAME"]
    assert isinstance(claims["user_id"], int)
    assert claims["administrator"] is False


def test_password_grant_bearer_has_no_user_id_scope(ref: RunningReference, lms: httpx.Client) -> None:
    body = lms.post(TOKEN, data=password_form(ref)).json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    assert body["scope"] == "read write email profile"
    assert "refresh_token" in body


def test_password_grant_with_email(ref: RunningReference, lms: httpx.Client) -> None:
    email = f"{ref.env['EDX_TEST_USERNAME']}@example.com"
    response = lms.post(TOKEN, data=password_form(ref, username=email, token_type="jwt"))
    assert response.status_code == 200
    assert claims_of(response.json()["access_token"])["preferred_username"] == ref.env["EDX_TEST_USERNAME"]


@pytest.mark.parametrize("change", [{"password": "wrong"}, {"username": "nobody"}])
def test_password_grant_bad_credentials(
    ref: RunningReference, lms: httpx.Client, change: dict[str, str]
) -> None:
    response = lms.post(TOKEN, data=password_form(ref, **change))
    assert response.status_code == 400
    assert response.text == '{"error": "invalid_grant", "error_description": "Invalid credentials given."}'


def test_password_grant_missing_password(ref: RunningReference, lms: httpx.Client) -> None:
    form = password_form(ref)
    del form["password"]
    response = lms.post(TOKEN, data=form)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Request is missing password parameter.",
    }


def test_refresh_rotates_and_old_token_fails(ref: RunningReference, lms: httpx.Client) -> None:
    first = lms.post(TOKEN, data=password_form(ref, token_type="jwt")).json()
    refresh = {
        "grant_type": "refresh_token",
        "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
        "token_type": "jwt",
    }
    second = lms.post(TOKEN, data={**refresh, "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    body = second.json()
    assert body["token_type"] == "JWT"
    assert body["refresh_token"] != first["refresh_token"]
    assert claims_of(body["access_token"])["preferred_username"] == ref.env["EDX_TEST_USERNAME"]
    reused = lms.post(TOKEN, data={**refresh, "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400
    assert reused.text == '{"error": "invalid_grant"}'


def test_refresh_without_token(ref: RunningReference, lms: httpx.Client) -> None:
    response = lms.post(
        TOKEN, data={"grant_type": "refresh_token", "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Missing refresh token parameter.",
    }


def test_sub_is_stable_per_user_and_not_the_username(ref: RunningReference, lms: httpx.Client) -> None:
    subs = [
        claims_of(lms.post(TOKEN, data=cc_form(ref, token_type="jwt")).json()["access_token"])["sub"]
        for _ in "ab"
    ]
    learner = claims_of(lms.post(TOKEN, data=password_form(ref, token_type="jwt")).json()["access_token"])[
        "sub"
    ]
    assert subs[0] == subs[1] != learner
    assert "svc_worker" not in subs[0]


# revocation ---------------------------------------------------------------------------------------


def revoke(ref: RunningReference, lms: httpx.Client, token: str, **extra: str) -> httpx.Response:
    form = {
        "token": token,
        "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
        "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
    }
    return lms.post(REVOKE, data={**form, **extra})


def test_revoke_opaque_token(ref: RunningReference, lms: httpx.Client) -> None:
    token = lms.post(TOKEN, data=cc_form(ref)).json()["access_token"]
    assert lms.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    response = revoke(ref, lms, token)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "cache-control" not in response.headers and "pragma" not in response.headers
    after = lms.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    assert after.json()["error_code"] == "token_nonexistent"
    assert revoke(ref, lms, token).status_code == 200


@pytest.mark.parametrize("token", ["unknown-token", "a.b.c"])
def test_revoke_unknown_token_is_200(ref: RunningReference, lms: httpx.Client, token: str) -> None:
    assert revoke(ref, lms, token, token_type_hint="foo").status_code == 200


def test_revoking_a_jwt_leaves_it_valid(ref: RunningReference, lms: httpx.Client) -> None:
    token = lms.post(TOKEN, data=cc_form(ref, token_type="jwt")).json()["access_token"]
    assert revoke(ref, lms, token).status_code == 200
    assert lms.get(ME, headers={"Authorization": f"JWT {token}"}).status_code == 200


def test_revoke_refresh_token_with_public_client(ref: RunningReference, lms: httpx.Client) -> None:
    refresh_token = lms.post(TOKEN, data=password_form(ref)).json()["refresh_token"]
    form = {
        "token": refresh_token,
        "token_type_hint": "refresh_token",
        "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
    }
    assert lms.post(REVOKE, data=form).status_code == 200
    again = lms.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
            "refresh_token": refresh_token,
        },
    )
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_revoke_errors(ref: RunningReference, lms: httpx.Client) -> None:
    missing = lms.post(
        REVOKE,
        data={
            "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
            "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
        },
    )
    assert missing.status_code == 400
    assert missing.json() == {"error": "invalid_request", "error_description": "Missing token parameter."}
    bad_client = revoke(ref, lms, "x", client_secret="wrong")
    assert bad_client.status_code == 401
    assert bad_client.json() == {"error": "invalid_client"}
    assert bad_client.headers["www-authenticate"] == 'Bearer error="invalid_client"'
    assert_oauth_headers(bad_client)
    get = lms.get(REVOKE)
    assert get.status_code == 405
    assert get.headers["allow"] == "POST, OPTIONS"


# recording ----------------------------------------------------------------------------------------


def test_issued_tokens_are_recorded(ref: RunningReference, lms: httpx.Client, records: Path) -> None:
    opaque = lms.post(TOKEN, data=cc_form(ref)).json()["access_token"]
    jwt_body = lms.post(TOKEN, data=password_form(ref, token_type="jwt")).json()
    assert records.stat().st_mode & 0o777 == 0o600
    recorded = set(records.read_text().split())
    assert {opaque, jwt_body["access_token"], jwt_body["refresh_token"]} <= recorded
