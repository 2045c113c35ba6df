"""Release awareness: the release table is sourced data, a profile's `release` selects expectations and
levels, `run --target-release` reports an upgrade preflight, and `compare` tells release-explained
differences from regressions."""

from __future__ import annotations

import json

import pytest

from conformance import releases
from conformance._lib.profile import profile_from_data
from conformance._lib.registry import REGISTRY
from conformance.cli import load_checks
from conformance.compare import compare_dirs
from tests.conftest import run_cli

ENV = {"ID": "client-id", "SECRET": "client-secret-value"}


def profile(**extra):
    data = {
        "name": "p",
        "base_url": "https://lms.example.org",
        "client": {"id": "${ID}", "secret": "${SECRET}"},
    }
    return profile_from_data({**data, **extra}, ENV)


def test_every_row_is_sourced_and_names_known_releases_and_checks():
    load_checks()
    table = releases.table()
    names = releases.names()
    assert names[-1] == releases.latest() and len(set(names)) == len(names)
    for key, spec in table["expectations"].items():
        assert set(spec["checks"]) <= set(REGISTRY), key
        sinces = [names.index(entry["since"]) for entry in spec["history"]]
        assert sinces == sorted(sinces) and sinces[0] == 0, f"{key}: history oldest first, from {names[0]}"
        assert all(entry["source"].startswith("https://") for entry in spec["history"])


def test_jwt_lifetime_went_from_ten_hours_to_one_in_olive():
    assert releases.expectations("nutmeg")["jwt_expires_in"].value == 36000
    assert releases.expectations("olive")["jwt_expires_in"].value == 3600
    assert releases.expectations(None)["jwt_expires_in"].value == 3600  # today's defaults


def test_release_sets_profile_defaults_but_the_profile_wins():
    assert profile(release="nutmeg").data["expect"]["jwt_expires_in"] == 36000
    assert profile(release="nutmeg", expect={"jwt_expires_in": 600}).data["expect"]["jwt_expires_in"] == 600
    assert profile().data["expect"]["jwt_expires_in"] == 3600
    unknown = profile(release="zebrawood")
    assert any("'zebrawood' is not in the release table" in w for w in unknown.warnings)
    assert unknown.data["expect"]["jwt_expires_in"] == 3600


def test_retiring_behaviour_is_never_a_must_failure():
    load_checks()
    bearer = REGISTRY["resources.bearer.accepted"]
    assert bearer.level == "MUST"
    assert releases.adjusted(bearer, profile()) is bearer  # without release, today's defaults stand
    assert releases.adjusted(bearer, profile(release="ulmo")).level == "SHOULD"
    untouched = REGISTRY["jwt.claims.iss"]
    assert releases.adjusted(untouched, profile(release="ulmo")) is untouched


def test_preflight_lists_what_changes_for_the_profiles_clients():
    pre = releases.preflight(profile(release="nutmeg", expect={"opaque_tokens": False}), "ulmo")
    changes = {c["expectation"]: c for c in pre["changes"]}
    assert (changes["jwt_expires_in"]["from"], changes["jwt_expires_in"]["to"]) == (36000, 3600)
    assert {"kid_header", "private_signing_jwk", "symmetric_jwt"} <= set(changes)
    assert "bearer_tokens" not in changes  # deprecated in both
    retiring = {r["expectation"]: r for r in pre["retiring"]}
    assert retiring["bearer_tokens"]["affects_profile"] is False  # this profile uses no opaque tokens
    assert releases.preflight(profile(), "ulmo")["from_label"] == "today's defaults (ulmo)"


def _summary(tmp_path, name, release, outcome):
    folder = tmp_path / name
    folder.mkdir()
    checks = [
        {"id": "response-schema.expires-in.value[jwt]", "outcome": outcome},
        {"id": "jwt.claims.iss[default]", "outcome": outcome},
    ]
    for check in checks:
        check.update(title="t", area=check["id"].split(".")[0], level="SHOULD", spec=[], message="")
    counts = {"passed": 1, "failed": 1, "skipped": 0, "waived": 0}
    summary = {
        "profile": name,
        "base_url": "https://x",
        "counts": counts,
        "checks": checks,
        "release": release,
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_compare_tells_release_explained_differences_from_regressions(tmp_path):
    comparison = compare_dirs(
        [_summary(tmp_path, "old", "nutmeg", "passed"), _summary(tmp_path, "new", "ulmo", "failed")]
    )
    rows = {row.id: row for row in comparison.rows}
    explained = rows["response-schema.expires-in.value[jwt]"]
    assert explained.differs and "36000 (nutmeg) vs 3600 (ulmo)" in explained.explained_by_release
    assert rows["jwt.claims.iss[default]"].regression
    assert comparison.rows[0].id == "jwt.claims.iss[default]"  # regressions first
    assert "(differs: release;" in comparison.as_markdown()
    assert json.loads(comparison.as_json())["explained_by_release"] == 1


@pytest.fixture(scope="module")
def release_runs(tmp_path_factory):
    """Against one reference instance: a profile on nutmeg with an upgrade preflight to ulmo, and the
    same profile on ulmo; then `compare` of the two."""
    pytest.importorskip("django")
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp("releases")
    results = {}
    with running_reference(state_dir=tmp / "state", rate_limit="100000/m") as ref:
        for release, extra in (("nutmeg", ["--target-release", "ulmo"]), ("ulmo", [])):
            text = ref.profile_path.read_text().replace(
                'name = "reference"\n', f'name = "on-{release}"\nrelease = "{release}"\n'
            )
            path = ref.state_dir / f"{release}.toml"
            path.write_text(text)
            argv = ["run", "--profile", str(path), "--no-html", "--select", "response-schema"]
            argv += ["--select", "resources", *extra]
            results[release] = run_cli(argv, env=ref.env, report_dir=tmp / release)
    compared = run_cli(["compare", str(tmp / "nutmeg"), str(tmp / "ulmo"), "--out", str(tmp / "cmp")])
    return results, compared, tmp


def test_run_with_release_applies_its_expectations_and_levels(release_runs):
    results, _, _ = release_runs
    nutmeg = results["nutmeg"]
    assert nutmeg.code == 0, nutmeg.console[-3000:]  # a SHOULD failure: the release's 10 h lifetime
    summary = nutmeg.summary()
    assert summary["release"] == "nutmeg"
    checks = {c["id"]: c for c in summary["checks"]}
    lifetime = checks["response-schema.expires-in.value[jwt]"]
    assert lifetime["outcome"] == "failed" and "36000" in lifetime["message"]
    assert checks["resources.bearer.accepted"]["level"] == "SHOULD"  # Bearer is being retired
    assert results["ulmo"].code == 0 and results["ulmo"].summary()["counts"]["failed"] == 0


def test_target_release_reports_an_upgrade_preflight(release_runs):
    results, _, _ = release_runs
    nutmeg = results["nutmeg"]
    assert "upgrade preflight: nutmeg -> ulmo" in nutmeg.console
    assert "CHANGES JWT access token lifetime" in nutmeg.console
    assert "[REDACTED]" not in nutmeg.console.split("upgrade preflight:")[1]  # prose is not a credential
    pre = nutmeg.summary()["upgrade_preflight"]
    assert pre["to"] == "ulmo" and any(c["expectation"] == "jwt_expires_in" for c in pre["changes"])
    assert "upgrade_preflight" not in results["ulmo"].summary()


def test_compare_of_two_releases_explains_the_lifetime(release_runs):
    _, compared, tmp = release_runs
    assert compared.code == 0, compared.console
    rows = {c["id"]: c for c in json.loads((tmp / "cmp" / "comparison.json").read_text())["checks"]}
    assert (
        "JWT access token lifetime" in rows["response-schema.expires-in.value[jwt]"]["explained_by_release"]
    )


def test_unknown_target_release_is_a_usage_error(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\nbase_url = "http://127.0.0.1:9"\n[client]\nid = "a"\nsecret = "b"\n')
    result = run_cli(["run", "--profile", str(path), "--target-release", "zebrawood"], report_dir=tmp_path)
    assert result.code == 2 and "not a known release" in result.console
