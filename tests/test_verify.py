"""The shared verifiers' own behaviour where a check's unit cases do not pin it."""

from __future__ import annotations

import pytest

from conformance._lib.schemas import schema_errors
from conformance._lib.verify import ConformanceFailure, expect_equal, wrong_members

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
