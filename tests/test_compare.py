"""`compare` keys each run by its folder, never by its profile name: two runs named alike (two CI
artifacts both called `reports/reference`) are two columns with distinct titles, and a difference
between them is counted, not hidden."""

from __future__ import annotations

import json
import shutil

import pytest

from conformance.compare import compare_dirs
from tests.conftest import run_cli

FAULT = "wrong-issuer"  # the LMS signs JWTs with an issuer of its own: jwt.claims.iss fails


def _summary(folder, profile, outcomes):
    folder.mkdir(parents=True)
    checks = [
        {
            "id": cid,
            "title": "t",
            "area": cid.split(".")[0],
            "level": "MUST",
            "spec": [],
            "outcome": o,
            "message": "",
        }
        for cid, o in outcomes.items()
    ]
    counts = {
        k: sum(1 for c in checks if c["outcome"] == k) for k in ("passed", "failed", "skipped", "waived")
    }
    summary = {"profile": profile, "base_url": "http://127.0.0.1:1", "counts": counts, "checks": checks}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_same_named_runs_are_two_columns_and_their_difference_counts(tmp_path):
    clean = _summary(
        tmp_path / "a" / "reference", "reference", {"jwt.claims.iss": "passed", "jwt.x": "passed"}
    )
    failing = _summary(
        tmp_path / "b" / "reference", "reference", {"jwt.claims.iss": "failed", "jwt.x": "passed"}
    )
    comparison = compare_dirs([clean, failing])
    assert comparison.labels == ["reference (a/reference)", "reference (b/reference)"]
    assert [row.id for row in comparison.differing] == ["jwt.claims.iss"]
    data = json.loads(comparison.as_json())
    assert data["differences"] == 1
    assert [i["folder"] for i in data["instances"]] == [str(clean), str(failing)]
    row = next(c for c in data["checks"] if c["id"] == "jwt.claims.iss")
    assert row["outcomes"] == {"reference (a/reference)": "passed", "reference (b/reference)": "failed"}
    markdown = comparison.as_markdown()
    assert "1 of 2 check cases differ." in markdown
    assert "| check | level | reference (a/reference) | reference (b/reference) |" in markdown
    assert (
        "reference (a/reference)" in comparison.as_html()
        and "reference (b/reference)" in comparison.as_html()
    )


def test_titles_take_as_much_of_the_path_as_tells_runs_apart(tmp_path):
    one = _summary(tmp_path / "x" / "ci" / "reference", "reference", {"jwt.a": "passed"})
    two = _summary(tmp_path / "y" / "ci" / "reference", "reference", {"jwt.a": "passed"})
    other = _summary(tmp_path / "z" / "staging", "staging", {"jwt.a": "passed"})
    labels = compare_dirs([one, two, other]).labels
    assert labels == ["reference (x/ci/reference)", "reference (y/ci/reference)", "staging"]


def test_one_folder_given_twice_is_numbered_not_merged(tmp_path):
    folder = _summary(tmp_path / "reference", "reference", {"jwt.a": "failed"})
    comparison = compare_dirs([folder, folder])
    assert len(set(comparison.labels)) == 2 and comparison.labels[0].endswith("#1")
    assert comparison.differing == []


def test_a_folder_without_a_summary_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "summary.json").write_text('"just a string"')
    for folder in ("empty", "other"):
        result = run_cli(
            ["compare", str(tmp_path / folder), str(tmp_path / folder), "--out", str(tmp_path / "o")]
        )
        assert result.code == 2 and "Traceback" not in result.console, result.console


@pytest.fixture(scope="module")
def two_reference_runs(tmp_path_factory):
    """The reference instance run twice under one report name, as two CI jobs would: clean, and
    with a fault; each report folder is `<job>/reference`."""
    pytest.importorskip("django")
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp("same-name")
    results = {}
    for job, faults in (("clean-job", []), ("fault-job", [FAULT])):
        with running_reference(state_dir=tmp / f"state-{job}", faults=faults, rate_limit="100000/m") as ref:
            argv = ["run", "--profile", str(ref.profile_path), "--no-html", "--select", "jwt"]
            results[job] = run_cli(argv, env=ref.env, report_dir=tmp / job / "reference")
    return tmp, results


def test_compare_of_a_clean_and_a_failing_run_of_one_name_shows_the_failure(two_reference_runs):
    tmp, results = two_reference_runs
    assert results["clean-job"].code == 0, results["clean-job"].console[-2000:]
    assert results["fault-job"].code == 1, results["fault-job"].console[-2000:]
    failed = {c["id"] for c in results["fault-job"].summary()["checks"] if c["outcome"] == "failed"}
    assert failed
    out = tmp / "cmp"
    compared = run_cli(
        [
            "compare",
            str(tmp / "clean-job" / "reference"),
            str(tmp / "fault-job" / "reference"),
            "--out",
            str(out),
        ]
    )
    assert compared.code == 0, compared.console
    data = json.loads((out / "comparison.json").read_text())
    differing = {c["id"] for c in data["checks"] if c["differs"]}
    assert failed <= differing, (failed, differing)
    assert f"{data['differences']} of {len(data['checks'])} check cases differ" in compared.console
    assert data["differences"] >= len(failed) > 0
    assert "reference (clean-job/reference)=passed" in compared.console
    assert "reference (fault-job/reference)=failed" in compared.console
    shutil.rmtree(out)
