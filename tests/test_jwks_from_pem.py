"""jwks-from-pem: the public JWK set derived from a private key verifies the instance's tokens and
holds no private member."""

from __future__ import annotations

import json

import httpx
import jwt

from conformance._lib.jwts import PRIVATE_MEMBERS
from tests.conftest import run_cli


def asymmetric_token(ref) -> str:
    response = httpx.post(
        f"{ref.url}/oauth2/access_token",
        data={"grant_type": "client_credentials", "token_type": "jwt", "asymmetric_jwt": "true"},
        auth=(ref.env["EDX_OAUTH_CLIENT_ID"], ref.env["EDX_OAUTH_CLIENT_SECRET"]),
    )
    assert response.status_code == 200
    return response.json()["access_token"]


def private_key_file(ref):
    return next(p for p in ref.state_dir.rglob("*.pem") if b"PRIVATE KEY" in p.read_bytes())


def test_derived_jwks_verifies_a_reference_token_and_is_public(reference, tmp_path):
    out = tmp_path / "public.json"
    result = run_cli(["jwks-from-pem", str(private_key_file(reference)), "--kid", "openedx", "-o", str(out)])
    assert result.code == 0, result.console
    jwks = json.loads(out.read_text())
    key = jwks["keys"][0]
    assert not set(PRIVATE_MEMBERS) & set(key)
    assert key["kid"] == "openedx" and key["kty"] == "RSA"
    token = asymmetric_token(reference)
    claims = jwt.decode(token, jwt.PyJWK(key, "RS512").key, algorithms=["RS512"], audience="openedx")
    assert claims["iss"] == f"{reference.url}/oauth2"
    assert "PRIVATE" not in result.console


def test_stdout_output_and_bad_input(reference, tmp_path):
    result = run_cli(["jwks-from-pem", str(private_key_file(reference))])
    assert result.code == 0
    assert json.loads(result.out)["keys"][0]["kid"]  # an RFC 7638 thumbprint when none is given
    bad = tmp_path / "not-a-key.pem"
    bad.write_text("-----BEGIN NOTHING-----\n")
    result = run_cli(["jwks-from-pem", str(bad)])
    assert result.code == 2 and "not an unencrypted PEM private key" in result.console
    assert "Traceback" not in result.console


def test_output_into_a_folder_that_does_not_exist_yet(reference, tmp_path):
    """The operator guide's `--output keys/production-public.json`, run where `keys/` is not there."""
    key = private_key_file(reference)
    result = run_cli(["jwks-from-pem", str(key), "--output", "keys/x.json"], cwd=tmp_path)
    assert result.code == 0, result.console
    assert json.loads((tmp_path / "keys" / "x.json").read_text())["keys"]
    (tmp_path / "file").write_text("")
    result = run_cli(["jwks-from-pem", str(key), "--output", "file/x.json"], cwd=tmp_path)
    assert result.code == 2 and "--output file/x.json: cannot write it" in result.console
    assert "Traceback" not in result.console
