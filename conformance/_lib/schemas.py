"""JSON Schemas (the package's `schemas/`, the repository's top-level `schemas/`), loaded once and
validated with jsonschema."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema

from conformance._lib.data import data_file

__all__ = ["OUTSIDE_VSCHAR", "SCHEMA_DIR", "VSCHAR_PATTERN", "load_schema", "schema_errors", "schema_names"]

SCHEMA_DIR = data_file("schemas")
_SUFFIX = ".schema.json"
VSCHAR_PATTERN = "^[\\x20-\\x7E]+$"  # the schemas' pattern for VSCHAR strings (RFC 6749 A.12)
# What a token that no header can carry has, as the token schema, the request builder (http.py) and
# response-schema.access-token.syntax all say it: the syntax check's finding explains the others
# by this text.
OUTSIDE_VSCHAR = "characters outside VSCHAR (%x20-7E)"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_DIR.joinpath(name + _SUFFIX).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_names() -> list[str]:
    """The names of every schema the package carries (`profile`, `summary`, ...)."""
    return sorted(f.name.removesuffix(_SUFFIX) for f in SCHEMA_DIR.iterdir() if f.name.endswith(_SUFFIX))


def _message(error: jsonschema.ValidationError) -> str:
    # The VSCHAR pattern (an access token's alphabet) said as every other check says it, without
    # the value (a token).
    if error.validator == "pattern" and error.validator_value == VSCHAR_PATTERN:
        return f"has {OUTSIDE_VSCHAR}"
    return error.message


def schema_errors(instance: Any, name: str) -> list[str]:
    """Every violation of schema `name`, as 'path: message' lines (empty when valid)."""
    validator = jsonschema.Draft202012Validator(load_schema(name))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {_message(e)}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]
