"""Accepted coverage gaps (`[coverage] accept`): the profile keys, the coverage they change, the console,
and the production example with its CI recipes' flags against the reference instance: it passes
`--require-complete` with its acceptances and exits 4 without one of them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from conformance._lib.acceptances import Acceptance, acceptance_states, load_acceptances
from conformance._lib.outcomes import Outcome, coverage
from conformance._lib.profile import ProfileError, load_profile
from conformance._lib.registry import CheckMeta
from conformance._lib.schemas import schema_errors
from conformance.cli import print_summary
from tests.conftest import MINIMAL_ENV, MINIMAL_PROFILE, run_cli, write_profile
from tests.test_ci_recipes import RUNS, profile_placeholders, profiles_of
from tests.test_docs import parse_cli

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ROOT / "examples" / "profiles" / "production.toml"


def gap(level: str, key: str, case: str = "jwt.x") -> Outcome:
    meta = CheckMeta(case, "a check", level, ("RFC7519-4.1",))
    return Outcome(meta, case, "skipped", message="add it", skip_kind="not-verified", skip_key=key)


# The profile keys ----------------------------------------------------------------------------------


def load(tmp_path: Path, coverage_toml: str):
    return load_profile(
        write_profile(tmp_path, MINIMAL_PROFILE + "[coverage]\n" + coverage_toml), MINIMAL_ENV
    )


def test_acceptances_load_with_toml_dates_and_without(tmp_path):
    profile = load(
        tmp_path,
        'accept = [{ key = "jwt.hs256_secret", reason = "in the vault", expires = 2027-06-30 },\n'
        '          { key = "login", reason = "no test learner" }]\n',
    )
    assert load_acceptances(profile.data) == [
        Acceptance("jwt.hs256_secret", "in the vault", dt.date(2027, 6, 30)),
        Acceptance("login", "no test learner"),
    ]
    assert load_acceptances(load(tmp_path, "").data) == []


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('accept = [{ key = "login" }]', "coverage.accept.0.reason' is required"),
        ('accept = [{ key = "login", reason = "" }]', "coverage.accept.0.reason' is invalid"),
        ('accept = [{ key = "Login!", reason = "r" }]', "coverage.accept.0.key' is invalid"),
        ('accept = [{ key = "login", reason = "r", until = 2027-01-01 }]', "not a known profile key"),
        ('accept = [{ key = "login", reason = "r", expires = 2027-01-01T10:00:00 }]', "expires' is invalid"),
        ('accept = [{ key = "login", reason = "r", expires = "2027-02-30" }]', "is not a date"),
        ('accept = [{ key = "login", reason = "a" }, { key = "login", reason = "b" }]', "accepted twice"),
        ("accepted = []", "did you mean 'accept'"),
    ],
)
def test_a_bad_acceptance_is_a_profile_error_naming_the_key(tmp_path, toml, says):
    with pytest.raises(ProfileError, match=re.escape(says)):
        load(tmp_path, toml + "\n")


# Coverage and states -------------------------------------------------------------------------------


def test_coverage_marks_accepted_gaps_and_counts_them():
    outcomes = [gap("MUST", "jwt.hs256_secret", "jwt.a"), gap("SHOULD", "jwt.hs256_secret", "jwt.b")]
    outcomes.append(gap("MUST", "login", "jwt-cookies.c"))
    result = coverage(outcomes, [Acceptance("jwt.hs256_secret", "vault")])
    assert [e.get("accepted", False) for e in result["not_verified"]] == [True, True, False]
    assert result["partial"] is True  # an accepted gap is still a gap
    assert result["accepted"] == [
        {"key": "jwt.hs256_secret", "reason": "vault", "state": "accepting", "cases": 2, "must": 1}
    ]


def test_states_expired_stale_and_not_judged():
    today = dt.date(2027, 1, 1)
    acceptances = [
        Acceptance("jwt.hs256_secret", "vault", dt.date(2026, 12, 31)),  # expired yesterday
        Acceptance("jwt.hs256_secret2", "typo"),
        Acceptance("login", "no learner", dt.date(2027, 1, 1)),  # the last day still accepts
    ]
    states = acceptance_states(acceptances, ["jwt.hs256_secret", "login"], judged=True, today=today)
    assert [s["state"] for s in states] == ["expired", "stale", "accepting"]
    assert states[1]["did_you_mean"] == "jwt.hs256_secret"
    states = acceptance_states(acceptances[1:2], [], judged=False, today=today)
    assert states[0]["state"] == "not-judged"


def test_an_expired_acceptance_accepts_nothing():
    result = coverage([gap("MUST", "login")], [Acceptance("login", "r", dt.date(2020, 1, 1))])
    assert "accepted" not in result["not_verified"][0]
    assert result["accepted"][0]["state"] == "expired"


def console_of(capsys, accepted: list[dict], not_verified: list[dict]) -> str:
    summary = {
        "profile": "p",
        "requests": 3,
        "duration_s": 0.1,
        "exit_code": 0,
        "counts": {"passed": 0, "failed": 0, "skipped": 1, "waived": 0},
        "coverage": {"levels": {}, "not_verified": not_verified, "partial": True, "accepted": accepted},
        "checks": [
            {
                "area": "jwt",
                "outcome": "skipped",
                "skip_kind": "not-verified",
                "skip_key": e["key"],
                "id": e["id"],
                "level": e["level"],
                "spec": [],
                "title": "t",
                "message": "add it",
            }
            for e in not_verified
        ],
    }
    print_summary(summary, Path("reports/p"))
    return capsys.readouterr().out


def test_console_lists_accepted_gaps_apart_and_names_stale_and_expired(capsys):
    accepted = [
        {"key": "jwt.hs256_secret", "reason": "in the vault", "state": "accepting", "cases": 1, "must": 1},
        {"key": "logn", "reason": "r", "state": "stale", "cases": 0, "must": 0, "did_you_mean": "login"},
        {
            "key": "password_grant",
            "reason": "r",
            "state": "expired",
            "expires": "2026-01-01",
            "cases": 0,
            "must": 0,
        },
    ]
    gaps = [
        {"id": "jwt.a", "level": "MUST", "key": "jwt.hs256_secret", "reason": "add it", "accepted": True},
        {"id": "jwt.b", "level": "MUST", "key": "login", "reason": "add it"},
    ]
    out = console_of(capsys, accepted, gaps)
    assert "accepted jwt.hs256_secret: 1 case (1 MUST): in the vault" in out
    assert "add login: " in out and "add jwt.hs256_secret" not in out
    assert "STALE ACCEPTANCE logn: no case lacks it (did you mean login?)" in out
    assert "EXPIRED ACCEPTANCE password_grant (expired 2026-01-01)" in out
    assert "p: partial: " in out
    out = console_of(capsys, accepted[:1], gaps[:1])
    assert "p: partial, every MUST gap accepted: " in out


# The example profiles --------------------------------------------------------------------------------


def require_complete_profiles() -> list[Path]:
    return sorted({p for inv in RUNS if parse_cli(inv.argv).require_complete for p in profiles_of(inv)})


@pytest.mark.parametrize("path", require_complete_profiles(), ids=lambda p: p.name)
def test_example_run_with_require_complete_accepts_every_static_must_gap(path):
    """What a dry run knows (nothing sent): every MUST case the profile cannot verify names a key
    its [coverage] accept lists, so that the recipe's --require-complete gate can pass."""
    from conformance._lib.registry import REQUIREMENTS

    result = run_cli(["run", "--profile", str(path), "--dry-run"], env=profile_placeholders(path))
    assert result.code == 0, result.console[-2000:]
    key_of = {req.hint: req.key for req in REQUIREMENTS.values() if req.kind == "not-verified"}
    hints = re.findall(r"^\s+not-verified\s+\[MUST\s*\] \S+: (.*)$", result.out, re.M)
    assert all(h in key_of for h in hints), [h for h in hints if h not in key_of]
    gaps = {key_of[h] for h in hints}
    accepted = {a.key for a in load_acceptances(load_profile(path, profile_placeholders(path)).data)}
    assert gaps <= accepted, f"{path.name}: MUST gaps not accepted: {sorted(gaps - accepted)}"


def production_on(ref, tmp_path: Path, *, drop: str | None = None) -> tuple[Path, dict[str, str]]:
    """examples/profiles/production.toml (with its waivers beside it) aimed at the reference
    instance: its URLs replaced, its secrets from the reference, `drop` taken out of [coverage]."""
    text = PRODUCTION.read_text(encoding="utf-8")
    text = text.replace("https://lms.example.org", ref.url)
    text = text.replace("https://discovery.example.org", ref.discovery_url)
    if drop is not None:
        kept = [line for line in text.splitlines() if f'key = "{drop}"' not in line]
        assert len(kept) == len(text.splitlines()) - 1, f"production.toml accepts no {drop}"
        text = "\n".join(kept) + "\n"
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "production.toml").write_text(text, encoding="utf-8")
    shutil.copy(PRODUCTION.with_name("production.waivers.toml"), folder)
    env = dict(ref.env, EDX_JWT_PUBLIC_JWKS=(ref.state_dir / "jwks.json").read_text(encoding="utf-8"))
    return folder / "production.toml", env


def production_recipe_args() -> list[str]:
    """The strictest run of production.toml in the CI recipes (every other one gates on less)."""
    runs = [inv.argv for inv in RUNS if PRODUCTION in profiles_of(inv)]
    assert runs, "no CI recipe runs examples/profiles/production.toml"
    flags = [
        [
            a
            for a in argv[1:]
            if a not in ("--profile", "--report-dir") and not a.startswith(("examples/", "reports/"))
        ]
        for argv in runs
    ]
    strictest = max(flags, key=len)
    assert all(set(f) <= set(strictest) for f in flags), flags
    assert "--require-complete" in strictest
    return strictest


def test_production_example_passes_its_recipes_gate_with_its_acceptances(generous_reference, tmp_path):
    profile, env = production_on(generous_reference, tmp_path)
    args = production_recipe_args()
    result = run_cli(
        ["run", "--profile", str(profile), "--no-html", *args], env=env, report_dir=tmp_path / "r"
    )
    assert result.code == 0, result.console[-4000:]
    summary = result.summary()
    assert not schema_errors(summary, "summary")
    assert summary["counts"]["failed"] == 0 and summary["coverage"]["partial"] is True
    must_gaps = [g for g in summary["coverage"]["not_verified"] if g["level"] == "MUST"]
    assert must_gaps and all(g.get("accepted") for g in must_gaps)
    declared = tomllib.loads(PRODUCTION.read_text())["coverage"]["accept"]
    states = {a["key"]: a["state"] for a in summary["coverage"]["accepted"]}
    assert states == {a["key"]: "accepting" for a in declared}, states  # none stale, none expired
    assert "partial, every MUST gap accepted" in result.out and "exit 0 (passed)" in result.out


def test_production_example_without_one_acceptance_exits_4(generous_reference, tmp_path):
    profile, env = production_on(generous_reference, tmp_path, drop="jwt.hs256_secret")
    args = production_recipe_args()
    result = run_cli(
        ["run", "--profile", str(profile), "--no-html", *args], env=env, report_dir=tmp_path / "r"
    )
    assert result.code == 4, result.console[-4000:]
    assert "add jwt.hs256_secret: " in result.out and "production: partial: " in result.out
    summary = result.summary()
    unaccepted = {g["key"] for g in summary["coverage"]["not_verified"] if not g.get("accepted")}
    assert unaccepted == {"jwt.hs256_secret"}


def test_an_expired_acceptance_makes_the_gate_4_again(generous_reference, tmp_path):
    profile, env = production_on(generous_reference, tmp_path)
    text = profile.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith('{ key = "jwt.hs256_secret"'))
    text = text.replace(line, line.replace(" }", ", expires = 2020-01-01 }"))
    profile.write_text(text)
    result = run_cli(
        ["run", "--profile", str(profile), "--no-html", "--require-complete", "--select", "jwt.signature"],
        env=env,
        report_dir=tmp_path / "r",
    )
    assert result.code == 4, result.console[-3000:]
    assert "acceptance of jwt.hs256_secret expired on 2020-01-01" in result.out
    assert "EXPIRED ACCEPTANCE jwt.hs256_secret" in result.out
