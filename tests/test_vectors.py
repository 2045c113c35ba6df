"""The vectors are data that resolves: each file validates against its schema, every vector feeds a
registered check (and that check runs it), its clause is one of that check's, its transform is in the
table of conformance/_lib/forge.py, and every transform of a table is used."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from conformance._lib.forge import VECTOR_FILES, VECTORS_DIR, load_vectors, vector_errors
from conformance._lib.registry import load_checks
from conformance._lib.schemas import SCHEMA_DIR, schema_errors
from conformance._lib.spec import clause_url

CHECKS = load_checks()
NAMES = sorted(VECTOR_FILES)


def raw(name: str) -> dict[str, Any]:
    return json.loads((VECTORS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def parametrized_vectors(check_id: str) -> list[dict[str, Any]]:
    """The vectors a check's function is parametrized with (what pytest will run)."""
    import importlib

    module = importlib.import_module(f"conformance.checks.test_{check_id.split('.', 1)[0].replace('-', '_')}")
    for fn in vars(module).values():
        if getattr(fn, "oauth_check", None) is not None and fn.oauth_check.id == check_id:
            for mark in getattr(fn, "pytestmark", []):
                if mark.name == "parametrize":
                    values = [v if isinstance(v, dict) else v.values[0] for v in mark.args[1]]
                    return [v for v in values if isinstance(v, dict)]
    return []


def test_every_vector_file_is_in_the_table_and_has_a_schema() -> None:
    assert sorted(p.stem for p in VECTORS_DIR.glob("*.json")) == NAMES
    for name in NAMES:
        assert (SCHEMA_DIR / f"vectors-{name}.schema.json").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_every_vector_validates(name: str) -> None:
    assert schema_errors(raw(name), f"vectors-{name}") == []
    assert vector_errors(name, raw(name)) == []
    assert len(load_vectors(name)) == len(raw(name)["cases"])


@pytest.mark.parametrize("name", NAMES)
def test_every_check_resolves_and_runs_its_vectors(name: str) -> None:
    for vector in load_vectors(name):
        assert vector["check"] in CHECKS, f"{name}/{vector['id']}: no check {vector['check']}"
    for check_id in sorted({v["check"] for v in load_vectors(name)}):
        fed = [v for v in load_vectors(name) if v["check"] == check_id]
        # A vector is run, not merely listed: the check is parametrized with exactly these.
        assert [v["id"] for v in parametrized_vectors(check_id)] == [v["id"] for v in fed], check_id


@pytest.mark.parametrize("name", NAMES)
def test_every_clause_is_one_of_its_checks_and_resolves(name: str) -> None:
    for vector in load_vectors(name):
        assert vector["spec"] in CHECKS[vector["check"]].spec, f"{name}/{vector['id']}: {vector['spec']}"
        assert clause_url(vector["spec"]), vector["spec"]


@pytest.mark.parametrize("name", NAMES)
def test_every_transform_exists_and_is_used(name: str) -> None:
    used = {v["transform"] for v in load_vectors(name)}
    assert used <= set(VECTOR_FILES[name]), f"unknown transforms: {sorted(used - set(VECTOR_FILES[name]))}"
    assert set(VECTOR_FILES[name]) <= used, (
        f"transforms no vector uses: {sorted(set(VECTOR_FILES[name]) - used)}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_vector_ids_and_descriptions_are_unique(name: str) -> None:
    cases = load_vectors(name)
    assert len({v["id"] for v in cases}) == len(cases)
    assert len({v["description"] for v in cases}) == len(cases)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda v: v.update(check="JA-1"), "check"),  # a catalogue ref instead of the check id
        (lambda v: v.update(transform="alg_nnoe"), "alg_nnoe"),
        (lambda v: v.pop("spec"), "spec"),
        (lambda v: v.update(expect="maybe"), "expect"),
    ],
    ids=["check-is-a-ref", "transform-typo", "no-clause", "unknown-expectation"],
)
def test_a_broken_vector_is_an_error_not_a_missing_case(change: Any, says: str) -> None:
    data = copy.deepcopy(raw("jwt-attacks"))
    change(data["cases"][0])
    errors = vector_errors("jwt-attacks", data)
    assert errors and any(says in e for e in errors), errors


def test_a_duplicate_id_is_an_error() -> None:
    data = copy.deepcopy(raw("secret-variants"))
    data["cases"].append(dict(data["cases"][0]))
    assert any("used twice" in e for e in vector_errors("secret-variants", data))
