"""How a check declares itself: `@check` with `@clauses` and `@requires` below it, its docstring the
title; the same as the argument form, and a misplaced or missing part is an error at import."""

from __future__ import annotations

import pytest

from conformance._lib import registry
from conformance._lib.registry import CheckMeta, check, clauses, requires


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {})


def _declared() -> CheckMeta:
    @check("jwt.example.declared", level="MUST", ref="JV-99", alone=True)
    @clauses("RFC7519-4.1.1", "oauth-9")
    @requires("jwks")
    def test_declared(tokens):
        """An example check's title
        on two lines

        More about it, not part of the title."""

    return test_declared.oauth_check  # type: ignore[attr-defined,no-any-return]


def test_decorators_and_docstring_say_what_the_arguments_say() -> None:
    meta = _declared()
    registry.REGISTRY.clear()

    @check(
        "jwt.example.declared",
        "An example check's title on two lines",
        level="MUST",
        spec=["RFC7519-4.1.1", "oauth-9"],
        ref="JV-99",
        requires=["jwks"],
        alone=True,
    )
    def test_declared(tokens):
        pass

    assert meta == test_declared.oauth_check  # type: ignore[attr-defined]
    assert meta.title == "An example check's title on two lines"
    assert registry.REGISTRY == {"jwt.example.declared": meta}


def test_a_declaration_above_check_is_an_error() -> None:
    with pytest.raises(TypeError, match="@requires goes below @check"):

        @requires("jwks")
        @check("jwt.example.misplaced", level="MUST")
        @clauses("RFC7519-4.1.1")
        def test_misplaced():
            """A misplaced declaration"""

    with pytest.raises(ValueError, match="no clause"):  # @clauses above: @check has none yet

        @clauses("RFC7519-4.1.1")
        @check("jwt.example.misplaced", level="MUST")
        def test_misplaced_clauses():
            """A misplaced declaration"""


@pytest.mark.parametrize(
    ("title", "doc", "spec", "words"),
    [
        ("", None, ("RFC7519-4.1.1",), "no title"),
        ("A title", None, (), "no clause"),
        ("A title", "Another title", ("RFC7519-4.1.1",), "given twice"),
    ],
)
def test_a_missing_or_doubled_part_is_an_error(
    title: str, doc: str | None, spec: tuple[str, ...], words: str
) -> None:
    def test_incomplete():
        pass

    test_incomplete.__doc__ = doc
    with pytest.raises(ValueError, match=words):
        check("jwt.example.incomplete", title, level="MUST", spec=spec)(test_incomplete)
