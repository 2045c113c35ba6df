"""Runs of the real command line against the reference instance, shared by the fault matrix
(tests/test_fault_matrix.py) and the concurrency comparison (tests/test_concurrency.py): each
(instance, concurrency) is run once per test session, whichever test asks first.

An instance is `clean`, `clean-tls`, `clean-as-<fault>` (the clean instance under a fault's profile
overlay, rate limit and TLS front) or a fault's name. Every run uses one seed, so that two runs of
one instance differ only in what the concurrency changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from conformance.reference.faults import BY_NAME, FAULTS
from conformance.selftest.mutation import GENEROUS_RATE, FaultRun, run_fault, run_suite

WORKERS = int(os.environ.get("FAULT_MATRIX_WORKERS", "4"))
SEED = 20261206
# The fault matrix's concurrency: the most in flight, whose outcomes the comparison with
# --concurrency 1 proves to be a sequential run's.
MATRIX_CONCURRENCY = 8


def clean_variants() -> dict[str, tuple[dict[str, Any], str, bool]]:
    """The clean instance under every (profile overlay, rate limit, TLS front) some fault runs with:
    an overlay that made the clean instance fail would make its fault's catches meaningless."""
    variants = {"clean": ({}, GENEROUS_RATE, False), "clean-tls": ({}, GENEROUS_RATE, True)}
    for fault in FAULTS:
        if fault.profile or fault.rate_limit:
            variants[f"clean-as-{fault.name}"] = (fault.profile, fault.rate_limit or GENEROUS_RATE, fault.tls)
    return variants


class SuiteRuns:
    """(instance, concurrency) -> FaultRun, each made once, WORKERS at a time."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._done: dict[tuple[str, int], FaultRun] = {}
        self._lock = threading.Lock()

    def runs(self, names: Iterable[str], concurrency: int) -> dict[str, FaultRun]:
        names = list(names)
        with self._lock:
            missing = [n for n in dict.fromkeys(names) if (n, concurrency) not in self._done]
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                futures = {n: pool.submit(self._run, n, concurrency) for n in missing}
                for name, future in futures.items():
                    self._done[(name, concurrency)] = future.result()
            return {n: self._done[(n, concurrency)] for n in names}

    def _run(self, name: str, concurrency: int) -> FaultRun:
        workdir = self.base / f"{name}-c{concurrency}"
        if name in BY_NAME:
            return run_fault(BY_NAME[name], workdir=workdir, seed=SEED, concurrency=concurrency)
        overlay, rate, tls = clean_variants()[name]
        return run_suite(
            [], workdir=workdir, overlay=overlay, rate_limit=rate, tls=tls, seed=SEED, concurrency=concurrency
        )
