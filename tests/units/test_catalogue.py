"""The unit tables as a whole: every registered check has its unit cases in its area's file, every
stub branch is used, and every defect name (a fault's, a unit case's) is in the catalogue."""

from __future__ import annotations

import importlib

from conformance._lib.registry import AREAS
from conformance.reference import faults
from conformance.reference.defects import Defect
from tests import stub_advisories, stub_lms, stub_signin
from tests.units.harness import FUNCTIONS, REGISTRY, Unit, defect_of

MODULES = {area: importlib.import_module(f"tests.units.test_{area.replace('-', '_')}") for area in AREAS}
TABLES: dict[str, dict[str, Unit]] = {area: module.TABLE for area, module in MODULES.items()}
TABLE: dict[str, Unit] = {check_id: u for table in TABLES.values() for check_id, u in table.items()}


def _mutations() -> list[stub_lms.Mutation]:
    found: list[stub_lms.Mutation] = []
    for module in MODULES.values():
        for u in module.TABLE.values():
            found += [b.mutation for b in u.breaks] + list(u.base + u.either)
        found += [m for skip in getattr(module, "SKIPS", []) for m in skip[2]]
        found += [diagnosis[2] for diagnosis in getattr(module, "DIAGNOSES", [])]
    return found


def test_table_covers_every_registered_check():
    assert set(REGISTRY) == set(FUNCTIONS), "every registered check has a function in conformance/checks"
    assert sorted(set(REGISTRY) - set(TABLE)) == [], "checks without a unit test"
    assert sorted(set(TABLE) - set(REGISTRY)) == [], "table entries for checks that do not exist"
    assert sum(len(table) for table in TABLES.values()) == len(TABLE), "a check in two unit files"
    misplaced = sorted(c for area, table in TABLES.items() for c in table if REGISTRY[c].area != area)
    assert misplaced == [], "a check's unit cases live in tests/units/test_<its area>.py"
    assert all(u.breaks for u in TABLE.values()), "every check has a failing unit case"


def test_every_branch_is_used():
    """A defect the stub applies as a branch of its code is some unit case's mutation."""
    used = {defect_of(m) for m in _mutations()}
    branches = stub_lms.BRANCHES | stub_signin.BRANCHES | stub_advisories.BRANCHES
    assert sorted(branches - used) == []


def test_every_unit_case_names_a_catalogued_defect():
    """A unit case's mutation is a catalogued defect: a bare name the stub applies as a branch of its
    code, or a patch that names its defect."""
    branches = stub_lms.BRANCHES | stub_signin.BRANCHES | stub_advisories.BRANCHES
    for mutation in _mutations():
        assert isinstance(defect_of(mutation), Defect), mutation
        assert not isinstance(mutation, Defect) or mutation in branches, f"{mutation}: no stub branch"


def test_every_fault_is_a_catalogued_defect():
    missing = sorted(fault.name for fault in faults.FAULTS if fault.name not in set(Defect))
    assert missing == [], "add these faults' names to conformance/reference/defects.py"


def test_every_catalogued_defect_is_used():
    """The catalogue names what a fault or a unit case applies, nothing else."""
    used = {fault.name for fault in faults.FAULTS} | {str(defect_of(m)) for m in _mutations()}
    assert sorted(set(Defect) - used) == []
