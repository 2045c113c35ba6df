"""Every clause resolves: RFC clauses to their section, Open edX clauses to their heading in
docs/clauses.md, which states the behaviour and links the upstream source it comes from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance._lib.forge import VECTOR_FILES, load_vectors
from conformance._lib.registry import load_checks
from conformance._lib.spec import CLAUSES_PAGE, OPENEDX_CLAUSES, clause_anchor, clause_url

DOC = Path(__file__).resolve().parents[1] / "docs" / "clauses.md"
TEXT = DOC.read_text(encoding="utf-8")
SECTIONS = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", TEXT, flags=re.M | re.S))
USED = sorted(
    {clause for meta in load_checks().values() for clause in meta.spec}
    | {vector["spec"] for name in VECTOR_FILES for vector in load_vectors(name)}
)


@pytest.mark.parametrize("clause", USED)
def test_every_clause_in_use_links_to_an_anchor(clause: str) -> None:
    anchor = clause_anchor(clause)
    assert anchor, (
        f"{clause}: no anchor (an RFC clause names its section; an Open edX one is in docs/clauses.md)"
    )
    url = clause_url(clause)
    assert url and url.endswith(f"#{anchor}")
    if clause.startswith("RFC"):
        assert re.fullmatch(r"https://www\.rfc-editor\.org/rfc/rfc\d{4}#(section|appendix)-[A-Z]?[\d.]+", url)
    else:
        assert url.startswith(CLAUSES_PAGE) and anchor in SECTIONS, f"docs/clauses.md has no '## {anchor}'"


def test_every_open_edx_clause_has_its_section_and_nothing_else_does() -> None:
    assert sorted(SECTIONS) == sorted(OPENEDX_CLAUSES)
    assert DOC.as_uri() == CLAUSES_PAGE


@pytest.mark.parametrize("clause", OPENEDX_CLAUSES)
def test_each_section_states_the_behaviour_and_links_its_source(clause: str) -> None:
    body = SECTIONS[clause]
    statement = body.strip().split("\n\n", 1)[0]
    assert len(statement) > 60 and statement.rstrip().endswith((".", ")")), statement
    links = re.findall(r"\]\((https://[^)\s]+)\)", body)
    assert links, f"{clause}: no upstream source linked"
    upstream = [u for u in links if u.startswith("https://github.com/")]
    # Every GitHub link is pinned (a tag or a commit), never a moving branch.
    assert all("/blob/master/" not in u and "/blob/main/" not in u for u in upstream), upstream


def test_open_edx_clauses_are_used() -> None:
    # A section nobody cites is dead text; a cited clause without a section fails above.
    assert sorted(set(OPENEDX_CLAUSES) - set(USED)) == []


@pytest.mark.parametrize(
    "clause", ["RFC8996", "RFC6749", "oauth-8", "observed-99", "rfc6749-5.1", "RFC6749-5."]
)
def test_a_clause_without_an_anchor_does_not_resolve(clause: str) -> None:
    assert clause_anchor(clause) is None and clause_url(clause) is None


def test_rfc_anchors() -> None:
    assert clause_url("RFC6749-5.1") == "https://www.rfc-editor.org/rfc/rfc6749#section-5.1"
    assert clause_url("RFC6749-A.12") == "https://www.rfc-editor.org/rfc/rfc6749#appendix-A.12"
    assert clause_url("RFC7009-2.2.1") == "https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1"
