"""The package's own data files (schemas, vectors, Allure categories), read with importlib.resources.

They live inside the package, so a checkout, an editable install and a wheel in any folder find
them the same way; nothing is looked up relative to a repository root. ``schemas/`` at the top of
the repository is the one copy of the schemas: ``conformance/schemas`` is a symlink to it, and the
wheel and sdist carry the files themselves (tests/test_wheel.py).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

__all__ = ["data_file", "read_text"]


def data_file(*parts: str) -> Traversable:
    """A file or folder inside the package, e.g. ``data_file("schemas", "profile.schema.json")``."""
    return files("conformance").joinpath(*parts)


def read_text(*parts: str) -> str:
    return data_file(*parts).read_text(encoding="utf-8")
