"""The suite's own texts: ids, titles, levels, areas and clauses are complete and consistent."""

from __future__ import annotations

import re

import pytest

from conformance._lib.registry import AREAS, LEVELS, load_checks
from conformance._lib.spec import clause_url

CHECKS = sorted(load_checks().values(), key=lambda m: m.id)
ID = re.compile(r"^[a-z-]+(\.[a-z0-9-]+)+$")


def test_catalogue_covers_every_area():
    assert {m.area for m in CHECKS} == set(AREAS)


def test_titles_and_refs_are_unique():
    titles = [m.title for m in CHECKS]
    assert len(titles) == len(set(titles))
    refs = [m.ref for m in CHECKS if m.ref]
    assert len(refs) == len(set(refs)) == len(CHECKS)


@pytest.mark.parametrize("meta", CHECKS, ids=[m.id for m in CHECKS])
def test_check_text(meta):
    assert ID.match(meta.id)
    assert meta.level in LEVELS and meta.area in AREAS
    assert 0 < len(meta.title) < 100
    lowered = meta.title.lower()
    assert "should" not in lowered.split() and not lowered.startswith(("test", "check that"))
    assert not meta.title.endswith(".")
    assert meta.spec, "every check names at least one clause"
    for clause in meta.spec:
        assert clause_url(clause), f"{clause} has no link in the clause registry"
