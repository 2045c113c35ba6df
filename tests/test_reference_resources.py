"""The reference LMS's protected resources and the discovery service, against the stock LMS's and
edx-drf-extensions' behaviour (docs/clauses.md, sections observed-4 and edx-drf-extensions): which
Authorization headers pass, and the exact failure bodies and headers."""

from __future__ import annotations

import base64
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

TOKEN = "/oauth2/access_token"
ME = "/api/user/v1/me"
CATALOGS = "/api/v1/catalogs/"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
INVALID_TOKEN = {"detail": "Invalid token."}
NONEXISTENT = {
    "error_code": "token_nonexistent",
    "developer_message": "The provided access token does not match any valid tokens.",
}
NOT_PROVIDED_BEARER = {
    "error_code": "token_not_provided",
    "developer_message": "Invalid token header. No credentials provided.",
}


@pytest.fixture(scope="module")
def ref() -> Iterator[RunningReference]:
    with running_reference(rate_limit="100000/m") as running:
        yield running


@pytest.fixture(scope="module")
def lms(ref: RunningReference) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ref.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def discovery(ref: RunningReference) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ref.discovery_url, timeout=10) as client:
        yield client


def token(ref: RunningReference, lms: httpx.Client, **extra: str) -> dict[str, Any]:
    form = {
        "grant_type": "client_credentials",
        "client_id": ref.env["EDX_OAUTH_CLIENT_ID"],
        "client_secret": ref.env["EDX_OAUTH_CLIENT_SECRET"],
        **extra,
    }
    response = lms.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def learner_token(ref: RunningReference, lms: httpx.Client, **extra: str) -> str:
    """An access token of the test learner, from the password grant of the public client."""
    form = {
        "grant_type": "password",
        "client_id": ref.env["EDX_PUBLIC_CLIENT_ID"],
        "username": ref.env["EDX_TEST_USERNAME"],
        "password": ref.env["EDX_TEST_PASSWORD"],
        **extra,
    }
    return str(lms.post(TOKEN, data=form).json()["access_token"])


@pytest.fixture(scope="module")
def hs256(ref: RunningReference, lms: httpx.Client) -> str:
    return str(token(ref, lms, token_type="jwt")["access_token"])


@pytest.fixture(scope="module")
def rs512(ref: RunningReference, lms: httpx.Client) -> str:
    return str(token(ref, lms, token_type="jwt", asymmetric_jwt="true")["access_token"])


@pytest.fixture(scope="module")
def opaque(ref: RunningReference, lms: httpx.Client) -> str:
    return str(token(ref, lms)["access_token"])


def claims_of(encoded: str) -> dict[str, Any]:
    return dict(jwt.decode(encoded, options={"verify_signature": False}))


def resign(ref: RunningReference, claims: dict[str, Any], **changes: Any) -> str:
    """The same claims, changed, signed with the real HS256 secret."""
    return jwt.encode({**claims, **changes}, ref.env["EDX_JWT_SECRET"], algorithm="HS256")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def get_me(lms: httpx.Client, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return lms.get(ME, headers=headers)


def assert_401(response: httpx.Response, body: dict[str, str]) -> None:
    assert response.status_code == 401
    assert response.json() == body
    assert response.headers["www-authenticate"] == 'JWT realm="api"'
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


# /api/user/v1/me: accepted ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["JWT", "jwt"])
def test_me_accepts_hs256_jwt(lms: httpx.Client, hs256: str, scheme: str) -> None:
    response = get_me(lms, f"{scheme} {hs256}")
    assert response.status_code == 200
    assert response.content == b'{"username":"svc_worker"}'


def test_me_accepts_rs512_jwt(lms: httpx.Client, rs512: str) -> None:
    assert get_me(lms, f"JWT {rs512}").json() == {"username": "svc_worker"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_me_accepts_bearer_opaque(lms: httpx.Client, opaque: str, scheme: str) -> None:
    assert get_me(lms, f"{scheme} {opaque}").json() == {"username": "svc_worker"}


def test_me_for_password_grant_user(ref: RunningReference, lms: httpx.Client) -> None:
    access = learner_token(ref, lms, token_type="jwt")
    assert get_me(lms, f"JWT {access}").json() == {"username": ref.env["EDX_TEST_USERNAME"]}


def test_rs256_with_the_same_key_and_unknown_kid_are_accepted(
    ref: RunningReference, lms: httpx.Client, hs256: str
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key((ref.state_dir / "jwt-private.pem").read_bytes(), password=None)
    rs256 = jwt.encode(claims_of(hs256), key, algorithm="RS256", headers={"kid": "unknown"})  # type: ignore[arg-type]
    assert get_me(lms, f"JWT {rs256}").status_code == 200


def test_jwt_for_unknown_username_creates_the_user(
    ref: RunningReference, lms: httpx.Client, hs256: str
) -> None:
    forged = resign(ref, claims_of(hs256), preferred_username="made_up_user")
    assert get_me(lms, f"JWT {forged}").json() == {"username": "made_up_user"}


# /api/user/v1/me: refused --------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Token xyz"], ids=["none", "unknown-scheme"])
def test_me_without_credentials(lms: httpx.Client, authorization: str | None) -> None:
    assert_401(get_me(lms, authorization), NOT_PROVIDED)


@pytest.mark.parametrize("authorization", ["Bearer", "JWT"])
def test_me_scheme_without_token(lms: httpx.Client, authorization: str) -> None:
    assert_401(get_me(lms, authorization), NOT_PROVIDED_BEARER)


def test_me_bearer_with_spaces(lms: httpx.Client) -> None:
    response = get_me(lms, "Bearer a b")
    assert response.status_code == 401
    assert response.json()["error_code"] == "token_malformed"
    assert response.headers["www-authenticate"] == 'JWT realm="api"'


@pytest.mark.parametrize("kind", ["jwt", "unknown", "alg-none"])
def test_me_bearer_non_dot_tokens(lms: httpx.Client, hs256: str, kind: str) -> None:
    value = {
        "jwt": hs256,
        "unknown": "not-a-token",
        "alg-none": f"{b64({'alg': 'none'})}.{b64(claims_of(hs256))}.",
    }
    assert_401(get_me(lms, f"Bearer {value[kind]}"), NONEXISTENT)


def test_me_jwt_scheme_with_opaque_token(lms: httpx.Client, opaque: str) -> None:
    assert_401(get_me(lms, f"JWT {opaque}"), INVALID_TOKEN)


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example.org/oauth2"},
        {"version": "2.0.0"},
        {"exp": int(time.time()) - 10},
        {"exp": int(time.time())},
    ],
    ids=["aud", "iss", "version", "expired", "exp-now"],
)
def test_me_rejects_bad_claims(
    ref: RunningReference, lms: httpx.Client, hs256: str, change: dict[str, Any]
) -> None:
    assert_401(get_me(lms, f"JWT {resign(ref, claims_of(hs256), **change)}"), INVALID_TOKEN)


def test_me_rejects_missing_exp(ref: RunningReference, lms: httpx.Client, hs256: str) -> None:
    claims = claims_of(hs256)
    del claims["exp"]
    assert_401(get_me(lms, f"JWT {resign(ref, claims)}"), INVALID_TOKEN)


@pytest.mark.parametrize("which", ["hs256", "rs512"])
def test_me_rejects_tampered_signature_and_payload(
    lms: httpx.Client, hs256: str, rs512: str, which: str
) -> None:
    header, payload, signature = (hs256 if which == "hs256" else rs512).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_401(get_me(lms, f"JWT {header}.{payload}.{flipped}"), INVALID_TOKEN)
    other = b64({**claims_of(hs256), "preferred_username": "someone"})
    assert_401(get_me(lms, f"JWT {header}.{other}.{signature}"), INVALID_TOKEN)


def test_me_rejects_alg_none(lms: httpx.Client, hs256: str) -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_of(hs256))}."
    assert_401(get_me(lms, f"JWT {unsigned}"), INVALID_TOKEN)


def test_me_rejects_wrong_secret(lms: httpx.Client, hs256: str) -> None:
    forged = jwt.encode(claims_of(hs256), "not-the-secret-but-long-enough-for-hs256", algorithm="HS256")
    assert_401(get_me(lms, f"JWT {forged}"), INVALID_TOKEN)


def test_me_post_is_405(lms: httpx.Client, hs256: str) -> None:
    response = lms.post(ME, headers={"Authorization": f"JWT {hs256}"})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}


def test_me_is_not_rate_limited_and_has_no_trailing_slash(lms: httpx.Client, hs256: str) -> None:
    assert lms.get(ME + "/", headers={"Authorization": f"JWT {hs256}"}).status_code == 404


# accounts -------------------------------------------------------------------------------------------


def test_account_of_self(lms: httpx.Client, hs256: str) -> None:
    response = lms.get("/api/user/v1/accounts/svc_worker", headers={"Authorization": f"JWT {hs256}"})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "svc_worker"
    assert body["email"] == "svc_worker@example.com"
    assert body["is_active"] is True
    assert "name" in body


def test_account_of_unknown_user(lms: httpx.Client, hs256: str) -> None:
    response = lms.get("/api/user/v1/accounts/nobody_here", headers={"Authorization": f"JWT {hs256}"})
    assert response.status_code == 404


def test_account_of_another_user_as_non_staff(ref: RunningReference, lms: httpx.Client) -> None:
    learner = learner_token(ref, lms)
    response = lms.get("/api/user/v1/accounts/svc_worker", headers={"Authorization": f"Bearer {learner}"})
    assert response.status_code == 200
    assert "email" not in response.json()


def test_account_without_credentials(lms: httpx.Client) -> None:
    assert_401(lms.get("/api/user/v1/accounts/svc_worker"), NOT_PROVIDED)


# what does not exist --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/v1/access_token",
        "/oauth2/jwks.json",
        "/oauth2/jwks",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/oauth2/.well-known/openid-configuration",
        "/_o/.well-known/openid-configuration/",
        "/_o/.well-known/jwks.json",
        "/_o/userinfo/",
    ],
)
def test_no_discovery_or_jwks_endpoints(lms: httpx.Client, path: str) -> None:
    assert lms.get(path).status_code == 404


# the discovery service ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["hs256", "rs512"])
def test_discovery_accepts_lms_jwts(discovery: httpx.Client, hs256: str, rs512: str, which: str) -> None:
    response = discovery.get(
        CATALOGS, headers={"Authorization": f"JWT {hs256 if which == 'hs256' else rs512}"}
    )
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("kind", ["none", "bearer-opaque", "foreign-issuer"])
def test_discovery_refuses(
    ref: RunningReference, discovery: httpx.Client, opaque: str, hs256: str, kind: str
) -> None:
    headers = {
        "none": {},
        "bearer-opaque": {"Authorization": f"Bearer {opaque}"},
        "foreign-issuer": {
            "Authorization": f"JWT {resign(ref, claims_of(hs256), iss='https://other/oauth2')}"
        },
    }[kind]
    response = discovery.get(CATALOGS, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'JWT realm="api"'
