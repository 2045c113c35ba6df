"""The fault matrix again, with the profile an operator starts with: `base_url` and a client, nothing
else (plus what the fault's overlay says of the instance). No fault may end in a green run: each is
either detected (a check that catches it fails) or shows up as *not verified* (a check that would
catch it names the profile key it lacks) or *not applicable* (the fault is in a service the profile
lists no `[[services]]` for), and `--require-complete` keeps those runs from exiting 0.

The per-fault result is written to `minimal-matrix.json` in the module's temporary folder and printed
as one line of numbers (detected / not verified / neither).
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("django")

from conformance.reference.faults import FAULTS, Fault
from conformance.selftest.mutation import GENEROUS_RATE, check_ids, merge_overlay, to_toml
from tests.conftest import run_cli

WORKERS = int(os.environ.get("FAULT_MATRIX_WORKERS", "4"))
LEVELS = check_ids()
# Faults of the TLS front (the instance is started with --tls and its profile trusts the generated
# CA): a minimal profile of an http instance cannot reach them.
NEEDS_TLS = {fault.name for fault in FAULTS if fault.tls or fault.area == "transport"}


def _run(fault: Fault | None, base: Path) -> dict[str, Any]:
    """One minimal-profile run; a run that could not be made says why (its test fails with that)."""
    try:
        return _run_one(fault, base)
    except Exception as exc:  # the instance did not start, the suite timed out, ...
        return {"code": None, "checks": [], "console": f"{type(exc).__name__}: {exc}"[-3000:]}


def _run_one(fault: Fault | None, base: Path) -> dict[str, Any]:
    from conformance.reference.launcher import running_reference

    name = fault.name if fault else "clean"
    workdir = base / name
    with running_reference(
        state_dir=workdir / "state",
        faults=[fault.name] if fault else [],
        rate_limit=(fault.rate_limit if fault else None) or GENEROUS_RATE,
    ) as ref:
        data: dict[str, Any] = {
            "name": f"minimal-{name}"[:60],
            "base_url": ref.url,
            "client": {"id": "${EDX_OAUTH_CLIENT_ID}", "secret": "${EDX_OAUTH_CLIENT_SECRET}"},
        }
        data = merge_overlay(data, fault.profile if fault else {})
        data.get("jwt", {}).pop("jwks", None)  # what the operator does not have yet
        data.get("jwt", {}).pop("hs256_secret", None)
        profile = workdir / "minimal.toml"
        profile.write_text(to_toml(data))
        result = run_cli(
            ["run", "--profile", str(profile), "--no-html", "--strict", "--require-complete"],
            env=ref.env,
            report_dir=workdir / "report",
            timeout=600,
        )
    summary = result.summary() if (workdir / "report" / "summary.json").exists() else {"checks": []}
    return {"code": result.code, "checks": summary["checks"], "console": result.console[-3000:]}


@pytest.fixture(scope="module")
def minimal_matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("minimal-matrix")
    started = time.monotonic()
    chosen = [f for f in FAULTS if f.name not in NEEDS_TLS]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = dict(
            zip(["clean", *(f.name for f in chosen)], pool.map(lambda f: _run(f, base), [None, *chosen]))
        )
    verdicts = {
        name: _verdict(next((f for f in FAULTS if f.name == name), None), run) for name, run in runs.items()
    }
    (base / "minimal-matrix.json").write_text(json.dumps(verdicts, indent=1))
    tally: dict[str, int] = {}
    for name, verdict in verdicts.items():
        if name != "clean":
            tally[verdict["kind"]] = tally.get(verdict["kind"], 0) + 1
    sys.stdout.write(
        f"\nminimal-profile fault matrix: {len(chosen)} faults in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(tally.items()))
        + f" ({base / 'minimal-matrix.json'})\n"
    )
    for name, run in runs.items():
        run["verdict"] = verdicts[name]
    return runs


def _verdict(fault: Fault | None, run: dict[str, Any]) -> dict[str, Any]:
    catches = set(fault.catches) if fault else set()
    by_check: dict[str, set[str]] = {}
    for case in run["checks"]:
        check_id = case["id"].split("[", 1)[0]
        kind = case["outcome"] if case["outcome"] != "skipped" else case.get("skip_kind", "?")
        by_check.setdefault(check_id, set()).add(kind)
    detected = sorted(c for c in catches if "failed" in by_check.get(c, set()))
    not_verified = sorted(c for c in catches if "not-verified" in by_check.get(c, set()))
    # A fault in something the profile does not describe (a service it lists no [[services]] for).
    not_applicable = sorted(c for c in catches if by_check.get(c) == {"not-applicable"})
    kind = "detected" if detected else ("not verified" if not_verified else "neither")
    if kind == "neither" and not_applicable:
        kind = "not applicable"
    return {"code": run["code"], "kind": kind, "detected": detected, "not_verified": not_verified}


def test_clean_instance_with_a_minimal_profile_is_partial_not_failed(minimal_matrix):
    run = minimal_matrix["clean"]
    assert not [c["id"] for c in run["checks"] if c["outcome"] == "failed"], run["console"]
    assert run["code"] == 4, run["console"]  # partial: --require-complete says so


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.name not in NEEDS_TLS], ids=lambda f: f.name)
def test_no_fault_passes_a_minimal_profile_unseen(minimal_matrix, fault):
    run = minimal_matrix[fault.name]
    verdict = run["verdict"]
    assert run["code"] != 0, f"{fault.name}: exit 0 with a minimal profile\n{run['console']}"
    lacks = f"{fault.name}: none of {sorted(fault.catches)} failed or said what it lacks: {verdict}"
    assert verdict["kind"] != "neither", f"{lacks}\n{run['console']}"
    if verdict["kind"] != "detected":  # then nothing may pass it: --require-complete says partial
        assert run["code"] in (1, 4), f"{fault.name}: {verdict}\n{run['console']}"
