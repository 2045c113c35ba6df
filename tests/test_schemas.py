"""Each JSON Schema accepts what a stock LMS sends and rejects what breaks the contract."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance._lib.schemas import load_schema, schema_errors, schema_names

CASES = json.loads((Path(__file__).parent / "schema_cases" / "cases.json").read_text())


def test_every_schema_is_valid_and_has_cases():
    names = schema_names()
    for name in names:
        jsonschema.Draft202012Validator.check_schema(load_schema(name))
    assert sorted({c["schema"] for c in CASES}) == names
    for name in names:
        kinds = {c["valid"] for c in CASES if c["schema"] == name}
        assert kinds == {True, False}, f"{name} needs valid and invalid examples"


@pytest.mark.parametrize("case", CASES, ids=[f"{c['schema']}: {c['description']}" for c in CASES])
def test_schema_case(case):
    errors = schema_errors(case["data"], case["schema"])
    assert (not errors) == case["valid"], errors
