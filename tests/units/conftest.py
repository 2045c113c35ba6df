"""The unit modules' fixtures, and the parameters of their generic tests (from each module's tables)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.units.harness import faker_instance, run_check

__all__ = ["faker_instance", "run_check"]


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> list[Any] | None:
    """A generic test without cases in this module (no SKIPS, say) is not collected at all."""
    parameters = getattr(obj, "unit_parameters", None)
    if parameters is not None and isinstance(collector, pytest.Module) and not parameters[1](collector.obj):
        return []
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parameters = getattr(metafunc.function, "unit_parameters", None)
    if parameters is not None:
        argnames, cases = parameters
        metafunc.parametrize(argnames, cases(metafunc.module))
