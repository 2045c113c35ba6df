"""The redaction routine masks registered secrets and anything shaped like a credential."""

from __future__ import annotations

import base64

import pytest

from conformance._lib.redact import MASK, Redactor


@pytest.fixture
def r() -> Redactor:
    return Redactor()


def test_registered_secret_is_masked_everywhere(r):
    r.add("s3cr3t-value-123")
    assert r.redact("x s3cr3t-value-123 y") == f"x {MASK} y"
    assert "s3cr3t" not in r.redact("client_secret%3Ds3cr3t-value-123")


def test_url_encoded_forms_are_masked(r):
    r.add("a b/c+d=e")
    assert "a+b" not in r.redact("secret=a+b%2Fc%2Bd%3De")
    assert "a%20b" not in r.redact("q=a%20b%2Fc%2Bd%3De")


def test_basic_credentials_are_masked(r):
    r.add_client("client-id", "the-client-secret")
    basic = base64.b64encode(b"client-id:the-client-secret").decode()
    assert basic not in r.redact(f"Authorization: Basic {basic}")


def test_short_values_are_not_registered(r):
    r.add("abc")
    assert r.redact("abc abc") == "abc abc"


def test_jwt_signature_is_masked_but_claims_stay_readable(r):
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    out = r.redact(f"token {token}")
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in out
    assert "eyJzdWIiOiIxIn0" in out


@pytest.mark.parametrize(
    "text, leaked",
    [
        ('{"access_token": "opaque123opaque456"}', "opaque123opaque456"),
        ("grant_type=password&password=hunter22hunter", "hunter22hunter"),
        ("refresh_token=AbCdEfGhIjKlMnOp&x=1", "AbCdEfGhIjKlMnOp"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz0123"),
        ("authorization: JWT abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz0123"),
        ("curl -H 'Authorization: Token zzzzzzzzzzzz'", "zzzzzzzzzzzz"),
        ("Authorization: bareopaquetoken77", "bareopaquetoken77"),
        ('\\"client_secret\\": \\"escapedsecretvalue\\"', "escapedsecretvalue"),
    ],
)
def test_credential_shapes_are_masked_without_registration(r, text, leaked):
    assert leaked not in r.redact(text)


@pytest.mark.parametrize(
    "prose",
    [
        "The token endpoint answers JWT requests with a JWT",
        "token_type=jwt&grant_type=client_credentials",
        "Bearer tokens are accepted",
        # A header name followed by a scheme alone holds no credential (a check title says this).
        "An opaque token is accepted with Authorization: Bearer",
        "Authorization: JWT",
    ],
)
def test_prose_is_left_alone(r, prose):
    assert r.redact(prose) == prose


def test_a_short_secret_does_not_rename_checks(r):
    r.add("secret")
    assert r.redact("jwt-attacks.weak-hmac-secret") == "jwt-attacks.weak-hmac-secret"
    assert r.redact("client_secret=secret&x=1") == f"client_secret={MASK}&x=1"
    assert r.redact('{"k": "secret"}') == '{"k": "' + MASK + '"}'


def test_a_published_value_is_shown_whatever_its_shape(r):
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.Zm9yZ2VkLXNpZ25hdHVyZS1ieS1hbi1hdHRhY2tlcg"
    genuine = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.Z2VudWluZS1zaWduYXR1cmUtb2YtdGhlLWxtcw"
    r.add(forged, genuine)
    r.publish(forged)
    out = r.redact(f"FORGED_TOKEN='{forged}' and {genuine}")
    assert forged in out
    assert "Z2VudWluZS1zaWduYXR1cmUtb2YtdGhlLWxtcw" not in out
    r.add(forged)  # registering it again does not make it secret again
    assert forged in r.redact(forged)
    r.publish("short")  # too short to be set aside safely: ignored
    assert r.redact("client_secret=short") == f"client_secret={MASK}"
