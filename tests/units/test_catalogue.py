"""The unit tables as a whole: every registered check has its unit cases in its area's file, each
defect has one patch, every hook of the stub is used, and every defect name (a fault's, a unit
case's) is in the catalogue."""

from __future__ import annotations

import importlib

from conformance._lib.registry import AREAS
from conformance.reference import faults
from conformance.reference.defects import Defect
from tests.stub_lms import HOOKS, Patch
from tests.units.harness import FUNCTIONS, REGISTRY, Unit

MODULES = {area: importlib.import_module(f"tests.units.test_{area.replace('-', '_')}") for area in AREAS}
TABLES: dict[str, dict[str, Unit]] = {area: module.TABLE for area, module in MODULES.items()}
TABLE: dict[str, Unit] = {check_id: u for table in TABLES.values() for check_id, u in table.items()}


def _patches() -> list[Patch]:
    """Every mutation of every unit case: the failing ones, the variants, the skips', the diagnoses'."""
    found: list[Patch] = []
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


def test_every_unit_case_names_a_catalogued_defect():
    for patch in _patches():
        assert isinstance(patch, Patch) and isinstance(patch.defect, Defect), patch


def test_each_defect_has_one_patch():
    """A defect applied by several unit cases is one patch they share (a name, spelled once)."""
    by_defect: dict[Defect, set[int]] = {}
    for patch in _patches():
        by_defect.setdefault(patch.defect, set()).add(id(patch))
    assert sorted(str(d) for d, ids in by_defect.items() if len(ids) > 1) == []


def test_every_hook_is_used():
    assert sorted(set(HOOKS) - {patch.hook for patch in _patches()}) == []


def test_every_fault_is_a_catalogued_defect():
    missing = sorted(fault.name for fault in faults.FAULTS if fault.name not in set(Defect))
    assert missing == [], "add these faults' names to conformance/reference/defects.py"


def test_every_catalogued_defect_is_used():
    """The catalogue names what a fault or a unit case applies, nothing else."""
    used = {fault.name for fault in faults.FAULTS} | {str(patch.defect) for patch in _patches()}
    assert sorted(set(Defect) - used) == []


def test_the_reference_spells_no_defect_name_itself():
    """The fault table and the reference's switches name defects by `Defect` members: a name spelled
    as a string there would be a second spelling the catalogue does not govern."""
    import re
    from pathlib import Path

    import conformance.reference

    names = {d.value for d in Defect}
    root = Path(conformance.reference.__file__).parent
    spelled = sorted(
        f"{path.relative_to(root)}: {literal}"
        for path in root.rglob("*.py")
        if path.name != "defects.py"
        for literal in re.findall(r'"([a-z0-9][a-z0-9-]*)"', path.read_text(encoding="utf-8"))
        if literal in names
    )
    assert spelled == []
