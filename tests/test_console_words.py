"""Counts in the console agree with their nouns: "1 request", "2 requests"."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import print_summary


@pytest.mark.parametrize(
    ("requests", "says"), [(1, "; 1 request in"), (2, "; 2 requests in"), (0, "; 0 requests in")]
)
def test_request_count_is_singular_for_one(capsys, requests, says):
    summary = {
        "profile": "p",
        "requests": requests,
        "duration_s": 0.1,
        "exit_code": 0,
        "counts": {"passed": 1, "failed": 0, "skipped": 0, "waived": 0},
        "checks": [
            {"area": "jwt", "outcome": "passed", "id": "jwt.x", "level": "MUST", "spec": [], "title": "t"}
        ],
    }
    print_summary(summary, Path("reports/p"))
    assert says in capsys.readouterr().out
