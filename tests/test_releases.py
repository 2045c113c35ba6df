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
    assert len(set(names)) == len(names) and names == sorted(names)  # named in alphabetical order
    assert all(row["source"].startswith("https://") for row in table["releases"])
    shipped = [row["name"] for row in table["releases"] if "inferred" not in row]
    assert names[: len(shipped)] == shipped and releases.latest() == shipped[-1]  # only the newest inferred
    assert not set(table["older"]["names"]) & set(names)
    for key, spec in table["expectations"].items():
        assert set(spec["checks"]) <= set(REGISTRY), key
        assert all(entry["release"] in names for entry in spec.get("checked", [])), key
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
    newer = profile(release="zebrawood")
    assert [w for w in newer.warnings if "zebrawood" in w] == [
        "<profile>: key 'release': 'zebrawood' is newer than the release table (maple to willow): "
        "today's defaults (verawood) stand; a newer suite knows its expectations"
    ]
    assert newer.data["expect"]["jwt_expires_in"] == 3600


def test_verawood_is_current_and_willow_is_inferred():
    assert releases.latest() == "verawood"
    assert releases.names()[-2:] == ["verawood", "willow"]
    assert releases.inferred("verawood") is None and "not shipped" in releases.inferred("willow")
    assert not profile(release="verawood").warnings and not profile(release="willow").warnings

    # Nothing in OAuth changes from Ulmo to Verawood, and Willow is Verawood's until it ships.
    def values(release):
        return {key: (e.value, e.status) for key, e in releases.expectations(release).items()}

    assert values("ulmo") == values("verawood") == values("willow") == values(None) == values("xylon")
    load_checks()
    bearer = REGISTRY["resources.bearer.accepted"]
    assert releases.adjusted(bearer, profile(release="verawood")).level == "SHOULD"  # still retiring


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("verawod", "did you mean 'verawood'?"),
        ("wilow", "did you mean 'willow'?"),
        ("sumak", "did you mean 'sumac'?"),
        ("lilac", "older than the release table"),
    ],
)
def test_misspelt_or_older_release_is_a_profile_error(name, message):
    from conformance._lib.profile import ProfileError

    with pytest.raises(ProfileError, match=message):
        profile(release=name)


def test_platform_version_names_its_release():
    for version, name in [
        ("release/verawood.1", "verawood"),
        ("release/verawood", "verawood"),
        ("open-release/ulmo.3", "ulmo"),
        ("open-release/maple.master", "maple"),
        ("master", None),
        ("v1.2", None),
    ]:
        assert releases.release_for_version(version) == name, version
    tags = {row["tag"]: row["name"] for row in releases.table()["releases"]}
    assert all(releases.release_for_version(tag) == name for tag, name in tags.items())


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
    assert releases.preflight(profile(), "ulmo")["from_label"] == "today's defaults (verawood)"
    assert "to_note" not in releases.preflight(profile(), "verawood")
    assert "has not shipped" in releases.preflight(profile(), "willow")["to_note"]
    newer = releases.preflight(profile(release="ulmo"), "xylon")
    assert "newer than the release table" in newer["to_note"] and newer["changes"] == []


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
    """Against one reference instance: a profile on nutmeg with an upgrade preflight to ulmo, the same
    profile on verawood with a preflight to willow (not shipped), and on xylon (newer than the table);
    then `compare` of the first two."""
    pytest.importorskip("django")
    from conformance.reference.launcher import running_reference

    tmp = tmp_path_factory.mktemp("releases")
    results = {}
    with running_reference(state_dir=tmp / "state", rate_limit="100000/m") as ref:
        legs = (
            ("nutmeg", ["--target-release", "ulmo"]),
            ("verawood", ["--target-release", "willow"]),
            ("xylon", []),
        )
        for release, extra in legs:
            text = ref.profile_path.read_text().replace(
                'name = "reference"\n', f'name = "on-{release}"\nrelease = "{release}"\n'
            )
            path = ref.state_dir / f"{release}.toml"
            path.write_text(text)
            argv = ["run", "--profile", str(path), "--no-html", "--select", "response-schema"]
            argv += ["--select", "resources", *extra]
            results[release] = run_cli(argv, env=ref.env, report_dir=tmp / release)
    compared = run_cli(["compare", str(tmp / "nutmeg"), str(tmp / "verawood"), "--out", str(tmp / "cmp")])
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
    verawood = results["verawood"]
    assert verawood.code == 0 and verawood.summary()["counts"]["failed"] == 0, verawood.console[-3000:]
    assert verawood.summary()["release"] == "verawood"
    assert "warning" not in verawood.console.split("upgrade preflight")[0]  # a known release: no warning


def test_a_release_newer_than_the_table_warns_once_and_runs_on_todays_defaults(release_runs):
    results, _, _ = release_runs
    xylon = results["xylon"]
    assert xylon.code == 0 and xylon.summary()["counts"]["failed"] == 0, xylon.console[-3000:]
    assert xylon.console.count("'xylon' is newer than the release table") == 1, xylon.console
    assert xylon.summary()["release"] == "xylon"


def test_target_release_reports_an_upgrade_preflight(release_runs):
    results, _, _ = release_runs
    nutmeg = results["nutmeg"]
    assert "upgrade preflight: nutmeg -> ulmo" in nutmeg.console
    assert "CHANGES JWT access token lifetime" in nutmeg.console
    assert "[REDACTED]" not in nutmeg.console.split("upgrade preflight:")[1]  # prose is not a credential
    pre = nutmeg.summary()["upgrade_preflight"]
    assert pre["to"] == "ulmo" and any(c["expectation"] == "jwt_expires_in" for c in pre["changes"])
    assert "upgrade_preflight" not in results["xylon"].summary()
    willow = results["verawood"]
    assert "upgrade preflight: verawood -> willow" in willow.console
    assert willow.console.count("'willow' has not shipped") == 1
    assert willow.summary()["upgrade_preflight"]["changes"] == []  # inferred: Verawood's expectations


def test_compare_of_two_releases_explains_the_lifetime(release_runs):
    _, compared, tmp = release_runs
    assert compared.code == 0, compared.console
    rows = {c["id"]: c for c in json.loads((tmp / "cmp" / "comparison.json").read_text())["checks"]}
    assert (
        "JWT access token lifetime" in rows["response-schema.expires-in.value[jwt]"]["explained_by_release"]
    )


def test_misspelt_target_release_is_a_usage_error_with_a_suggestion(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\nbase_url = "http://127.0.0.1:9"\n[client]\nid = "a"\nsecret = "b"\n')
    result = run_cli(["run", "--profile", str(path), "--target-release", "verawod"], report_dir=tmp_path)
    assert result.code == 2 and "did you mean 'verawood'?" in result.console
    assert "Traceback" not in result.console


def test_misspelt_profile_release_is_a_usage_error_with_a_suggestion(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'name = "p"\nbase_url = "http://127.0.0.1:9"\nrelease = "wilow"\n[client]\nid = "a"\nsecret = "b"\n'
    )
    result = run_cli(["run", "--profile", str(path)], report_dir=tmp_path)
    assert result.code == 2 and "did you mean 'willow'?" in result.console
    assert "Traceback" not in result.console
