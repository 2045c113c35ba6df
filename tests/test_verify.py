"""The shared verifiers' own behaviour where a check's unit cases do not pin it."""

from __future__ import annotations

import httpx
import pytest

from conformance._lib.diagnose import ASYMMETRIC_TOKEN
from conformance._lib.http import Exchange
from conformance._lib.schemas import OUTSIDE_VSCHAR, schema_errors
from conformance._lib.verify import ConformanceFailure, expect_equal, expect_status, wrong_members

GOOD = {"access_token": "a" * 30, "token_type": "JWT", "expires_in": 3600, "scope": "read write"}


def test_expect_equal_says_the_type_where_values_print_alike():
    with pytest.raises(ConformanceFailure) as failed:
        expect_equal("3600", 3600, "expires_in is the lifetime")
    assert "'3600' (str, not int)" in str(failed.value)
    with pytest.raises(ConformanceFailure) as failed:
        expect_equal(7200, 3600, "expires_in is the lifetime")
    assert "(int" not in str(failed.value)


@pytest.mark.parametrize(
    ("changes", "evidence"),
    [
        ({}, ()),
        ({"expires_in": "3600"}, ("'3600'",)),
        ({"scope": ["read", "write"]}, ("['read', 'write']",)),
        ({"expires_in": "3600", "scope": ["read"]}, ("'3600'", "['read']")),
        ({"expires_in": -1}, ()),  # too short to be told apart from other text
        ({"access_token": 7}, ()),  # a token is never evidence, whatever its type
    ],
)
def test_wrong_members_are_the_values_that_break_the_schema(changes, evidence):
    body = GOOD | changes
    assert wrong_members(body, schema_errors(body, "token-response")) == evidence


def test_a_token_outside_vschar_is_said_one_way_without_its_value():
    # The schema, the request builder and the syntax check say it alike: the syntax check's finding
    # explains the others (conformance._lib.causes, evidence).
    body = GOOD | {"access_token": "abcé" * 8}
    assert schema_errors(body, "token-response") == [f"access_token: has {OUTSIDE_VSCHAR}"]
    assert "abc" not in " ".join(schema_errors(body, "token-response"))


def test_a_server_error_of_an_rs512_answer_is_the_asymmetric_tokens_finding():
    def answered(status):
        return Exchange(
            "POST", "http://lms.example.org/oauth2/access_token", {}, b"", status, httpx.Headers(), b"", 1.0
        )

    with pytest.raises(ConformanceFailure) as failed:
        expect_status(answered(500), 200, "a restricted application gets a JWT", rs512_signed=True)
    assert failed.value.cause == f"same-as:{ASYMMETRIC_TOKEN}"
    for status, signed in ((500, False), (401, True)):  # not RS512, or not a server error
        with pytest.raises(ConformanceFailure) as failed:
            expect_status(answered(status), 200, "a token", rs512_signed=signed)
        assert failed.value.cause == ""
