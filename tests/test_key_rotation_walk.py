"""docs/key-rotation.md is true: its table of what each key-rotation check says at each phase is what
the real command (`run --select key-rotation`) says against the reference instance serving that
phase with two keys (`reference serve --rotation-phase N`, and the faults that model a rotation's
mistakes)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

from conformance.reference.launcher import running_reference
from tests.conftest import ROOT, run_cli

DOC = ROOT / "docs" / "key-rotation.md"
# Each column of the doc's table: the phase the reference serves and the faults it starts with.
COLUMNS: dict[str, tuple[int, tuple[str, ...]]] = {
    "0 steady": (0, ()),
    "1 new key published": (1, ()),
    "2 LMS switched": (2, ()),
    "4 old key removed": (4, ()),
    "1, a service missed the new key": (1, ("discovery-missing-next-key",)),
    "1, new key published nowhere": (1, ("rotation-key-not-published",)),
    "2, a service missed the new key": (2, ("discovery-missing-signing-key",)),
}


def doc_table() -> dict[str, dict[str, str]]:
    """column -> {check case -> outcome}, read from the doc's markdown table."""
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table: dict[str, dict[str, str]] = {column: {} for column in header[1:]}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        for column, outcome in zip(header[1:], cells[1:], strict=True):
            table[column][cells[0]] = outcome
    return table


def run_phase(column: str, workdir: Path) -> dict[str, Any]:
    phase, faults = COLUMNS[column]
    with running_reference(state_dir=workdir / "state", faults=faults, rotation_phase=phase) as ref:
        profile = ref.profile_path.read_text()
        result = run_cli(
            ["run", "--profile", str(ref.profile_path), "--select", "key-rotation", "--no-html"],
            env=ref.env,
            report_dir=workdir / "report",
        )
        summary = result.summary()
        next_key = ref.state_dir / "jwt-next-private.json"
        private = json.loads(next_key.read_text()) if next_key.exists() else {}
    secrets = [v for k, v in private.items() if k in ("d", "p", "q", "dp", "dq", "qi")]
    artifacts = "".join(f.read_text(errors="replace") for f in (workdir / "report").rglob("*") if f.is_file())
    return {
        "profile": profile,
        "code": result.code,
        "summary": summary,
        "console": result.console,
        "secrets": secrets,
        "artifacts": artifacts,
    }


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("rotation")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            column: pool.submit(run_phase, column, base / re.sub(r"\W+", "-", column)) for column in COLUMNS
        }
        return {column: future.result() for column, future in futures.items()}


def test_the_doc_table_has_every_phase_and_check() -> None:
    table = doc_table()
    assert set(table) == set(COLUMNS)
    from conformance.cli import load_checks

    ids = {i for i in load_checks() if i.startswith("key-rotation.")}
    for outcomes in table.values():
        assert {case.split("[")[0] for case in outcomes} == ids


@pytest.mark.parametrize("column", list(COLUMNS))
def test_each_phase_says_what_the_doc_says(walk: dict[str, dict[str, Any]], column: str) -> None:
    run = walk[column]
    actual = {c["id"]: c["outcome"] for c in run["summary"]["checks"]}
    expected = doc_table()[column]
    messages = json.dumps({c["id"]: c["message"][:300] for c in run["summary"]["checks"]}, indent=1)
    assert actual == expected, messages
    assert run["code"] == (1 if "failed" in expected.values() else 0), run["console"]


def test_the_rotation_key_is_in_the_profile_only_mid_rotation(walk: dict[str, dict[str, Any]]) -> None:
    for column, (phase, _) in COLUMNS.items():
        assert ("rotation_key" in walk[column]["profile"]) == (1 <= phase < 4), column


def test_failures_name_the_phase_and_the_service(walk: dict[str, dict[str, Any]]) -> None:
    checks = {c["id"]: c for c in walk["1, a service missed the new key"]["summary"]["checks"]}
    message = checks["key-rotation.preflight.service[discovery]"]["message"]
    assert "phase 1: discovery's JWT_PUBLIC_SIGNING_JWK_SET holds the new public key" in message
    assert "would refuse every asymmetric token" in message


def test_the_new_private_key_is_never_shown(walk: dict[str, dict[str, Any]]) -> None:
    # The rotation key's private members reach neither the console nor any artifact of the run.
    mid_rotation = [run for column, run in walk.items() if run["secrets"]]
    assert len(mid_rotation) == 5
    for run in mid_rotation:
        text = run["console"] + run["artifacts"]
        leaked = [secret[:6] for secret in run["secrets"] if secret in text]
        assert not leaked and "PRIVATE KEY" not in text
