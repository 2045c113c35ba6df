"""JSON Schemas (the package's `schemas/`, the repository's top-level `schemas/`), loaded once and
validated with jsonschema."""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema

from conformance._lib.data import data_file

__all__ = ["SCHEMA_DIR", "load_schema", "schema_errors", "schema_names"]

SCHEMA_DIR = data_file("schemas")
_SUFFIX = ".schema.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_DIR.joinpath(name + _SUFFIX).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_names() -> list[str]:
    """The names of every schema the package carries (`profile`, `summary`, ...)."""
    return sorted(f.name.removesuffix(_SUFFIX) for f in SCHEMA_DIR.iterdir() if f.name.endswith(_SUFFIX))


def schema_errors(instance: Any, name: str) -> list[str]:
    """Every violation of schema `name`, as 'path: message' lines (empty when valid)."""
    validator = jsonschema.Draft202012Validator(load_schema(name))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]
