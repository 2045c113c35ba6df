"""Causes: every failed and blocked case tied to one cause, in the order an operator fixes them; the
console says each cause once, first, with its fix; summary.json carries them (its schema too)."""

from __future__ import annotations

from conformance._lib.causes import find_causes
from conformance._lib.outcomes import Outcome
from conformance._lib.registry import CheckMeta, parse_skip, skip_reason
from conformance._lib.schemas import schema_errors
from conformance.cli import cause_lines, failure_lines


def _meta(check_id: str, level: str = "MUST") -> CheckMeta:
    return CheckMeta(check_id, f"title of {check_id}", level, ("RFC6749-5.1",))


def failed(case: str, message: str = "requirement\nexpected: x\nactual:   y", **kw) -> Outcome:
    check_id = case.split("[", 1)[0]
    return Outcome(_meta(check_id), case, "failed", message, **kw)


def blocked(case: str, control: str) -> Outcome:
    check_id = case.split("[", 1)[0]
    return Outcome(_meta(check_id), case, "skipped", "why", skip_kind="blocked", skip_key=control)


def test_blocked_is_a_skip_kind_that_names_its_control():
    reason = skip_reason("blocked", "jwt-cookies.login.signs-in", "the test user cannot sign in")
    assert parse_skip(reason) == ("blocked", "jwt-cookies.login.signs-in", "the test user cannot sign in")


def test_a_failed_control_is_one_cause_that_explains_what_it_blocked():
    outcomes = [
        failed("jwt-cookies.login.signs-in"),
        blocked("jwt-cookies.login.set", "jwt-cookies.login.signs-in"),
        blocked("authorization-code.state.preserved[studio]", "jwt-cookies.login.signs-in"),
        Outcome(_meta("jwt.claims.iss"), "jwt.claims.iss[default]", "passed"),
    ]
    [cause] = find_causes(outcomes)
    assert (cause.id, cause.kind) == ("sign-in", "control")
    assert cause.failed == ["jwt-cookies.login.signs-in"]
    assert cause.blocked == ["jwt-cookies.login.set", "authorization-code.state.preserved[studio]"]
    assert "/api/user/v2/account/login_session/" in cause.fix


def test_a_mismatch_worked_out_once_explains_failures_that_show_its_value():
    iss = "http://localhost:8000/oauth2"
    outcomes = [
        failed(
            "jwt.claims.iss[default]",
            f"iss is ...\nexpected: 'http://127.0.0.1/oauth2'\nactual:   {iss!r}",
            cause="mismatch.issuer",
            evidence=(iss,),
        ),
        failed(
            "services.genuine.accepted[discovery]", f"... the LMS signs iss='{iss}', discovery accepts ..."
        ),
        blocked("services.forged.refused[discovery]", "services.genuine.accepted[discovery]"),
        failed("resources.jwt.wrong-audience", "something else entirely"),
    ]
    causes = find_causes(outcomes)
    assert [c.id for c in causes] == ["mismatch.issuer", "check:resources.jwt.wrong-audience"]
    assert causes[0].failed == ["jwt.claims.iss[default]", "services.genuine.accepted[discovery]"]
    assert causes[0].blocked == ["services.forged.refused[discovery]"]
    assert causes[1].kind == "check"


def test_same_as_follows_the_cause_of_another_case():
    outcomes = [
        failed(
            "resources.services.accept-jwt[discovery]", cause="same-as:services.genuine.accepted[discovery]"
        ),
        failed("services.genuine.accepted[discovery]", "discovery answers HTTP 502 at its probe"),
    ]
    [cause] = find_causes(outcomes)
    assert cause.id == "service:discovery"
    assert sorted(cause.failed) == [
        "resources.services.accept-jwt[discovery]",
        "services.genuine.accepted[discovery]",
    ]


def test_the_edge_comes_first_and_a_control_that_did_not_run_is_named():
    outcomes = [
        failed("jwt.claims.aud[default]", cause="mismatch.audience"),
        failed("resources.jwt.accepted[default]", cause="edge.dropped-authorization"),
        blocked("jwt-attacks.alg-none[alg-none]", "resources.jwt.accepted[default]"),
        blocked("jwt-cookies.login.set", "jwt-cookies.login.signs-in"),  # its control was not selected
    ]
    causes = find_causes(outcomes)
    assert [c.id for c in causes] == [
        "edge.dropped-authorization",
        "mismatch.audience",
        "blocked:jwt-cookies.login.signs-in",
    ]
    assert causes[0].blocked == ["jwt-attacks.alg-none[alg-none]"]


def test_a_check_cause_takes_the_fix_its_failure_gives():
    [cause] = find_causes([failed("jwt.header.alg[default]", "r\nexpected: a\nactual:   b\nfix:      set X")])
    assert (cause.id, cause.fix) == ("check:jwt.header.alg", "set X")


def test_console_prints_each_cause_once_first_with_its_fix():
    outcomes = [
        failed("jwt-cookies.login.signs-in"),
        blocked("jwt-cookies.login.set", "jwt-cookies.login.signs-in"),
        failed("jwt.header.alg[default]"),
    ]
    summary = {
        "causes": [c.as_dict() for c in find_causes(outcomes)],
        "checks": [
            {
                "id": o.case,
                "outcome": o.outcome,
                "level": "MUST",
                "spec": ["RFC6749-5.1"],
                "title": o.meta.title,
                "message": o.message,
            }
            for o in outcomes
        ],
    }
    lines = cause_lines(summary)
    assert lines[0] == "Causes (2), in the order to fix them:"
    assert lines[1].startswith("  1. [control] sign-in: ")
    assert lines[2].startswith("     fix: ")
    assert lines[3] == "     explains 1 failed, 1 blocked"
    assert lines[4].startswith("  2. [check] check:jwt.header.alg")
    failures = failure_lines(summary)
    assert sum(line.startswith("FAILED") for line in failures) == 2
    assert failures[0].endswith("(cause sign-in)")


def test_summary_schema_accepts_causes_and_blocked():
    causes = [c.as_dict() for c in find_causes([failed("jwt-cookies.login.signs-in")])]
    minimal = {
        "profile": "p",
        "base_url": "http://127.0.0.1",
        "suite_version": "0",
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 1,
        "requests": 1,
        "counts": {"passed": 0, "failed": 1, "skipped": 1, "waived": 0},
        "checks": [],
        "skips": {"not-applicable": 0, "not-verified": 0, "opt-in": 0, "inconclusive": 0, "blocked": 1},
        "causes": causes,
    }
    assert schema_errors(minimal, "summary") == []
    assert schema_errors({**minimal, "causes": [{"id": "x"}]}, "summary") != []


def test_blocked_cases_never_pass_a_run():
    from types import SimpleNamespace

    from conformance._lib.outcomes import EXIT_FAILED, EXIT_INCONCLUSIVE, EXIT_OK, decide_exit

    def state(*outcomes: Outcome):
        return SimpleNamespace(
            exit_code=None,
            outcomes={o.case: o for o in outcomes},
            strict=False,
            complete=True,
            require_complete=False,
            acceptances=[],
        )

    control = failed("jwt-cookies.login.signs-in")
    dependent = blocked("jwt-cookies.login.set", "jwt-cookies.login.signs-in")
    passed = Outcome(_meta("jwt.claims.iss"), "jwt.claims.iss[default]", "passed")
    assert decide_exit(state(control, dependent, passed)) == EXIT_FAILED  # the control decides
    assert decide_exit(state(dependent, passed)) == EXIT_INCONCLUSIVE  # its control did not run
    assert decide_exit(state(passed)) == EXIT_OK


def test_list_faults_names_each_faults_expected_cause():
    from tests.conftest import run_cli

    result = run_cli(["reference", "list-faults", "--format", "json"])
    table = {entry["name"]: entry for entry in __import__("json").loads(result.out)}
    assert table["login-api-missing"]["cause"] == "sign-in"
    assert table["basic-client-auth-refused"]["cause"] == "basic-auth"
    assert table["service-down"]["cause"] == "service:discovery"
    assert all(entry["cause"] for entry in table.values() if entry["catches"])


def test_metrics_and_compare_count_causes(tmp_path):
    import json

    from conformance.compare import compare_dirs
    from conformance.metrics import metrics_text

    causes = [
        c.as_dict() for c in find_causes([failed("jwt-cookies.login.signs-in"), failed("jwt.header.alg")])
    ]
    base = {
        "base_url": "http://127.0.0.1",
        "suite_version": "0",
        "started_at": "2026-01-01T00:00:00+00:00",
        "counts": {"passed": 0, "failed": 2, "skipped": 0, "waived": 0},
        "exit_code": 1,
        "checks": [],
    }
    text = metrics_text({**base, "profile": "a", "causes": causes})
    assert 'oauth_conformance_causes{profile="a"} 2' in text
    assert 'cause="sign-in"' in text and 'kind="control"' in text
    for name, found in (("a", causes), ("b", [])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({**base, "profile": name, "causes": found}))
    comparison = compare_dirs([tmp_path / "a", tmp_path / "b"])
    assert json.loads(comparison.as_json())["causes"] == {"a": ["sign-in", "check:jwt.header.alg"], "b": []}
    assert "| 2: `sign-in`, `check:jwt.header.alg` |" in comparison.as_markdown()
