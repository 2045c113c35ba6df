"""The exit policy as tables: outcomes in, status out (`_lib/outcomes.py`), for one run, for what
pytest and summary.json say of a run, and for several profiles. Nothing is run or contacted."""

from __future__ import annotations

import pytest

from conformance._lib.outcomes import (
    EXIT_FAILED,
    EXIT_INCONCLUSIVE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Outcome,
    exit_of_run,
    exit_of_runs,
    exit_of_stop,
    exit_status,
)
from conformance._lib.registry import CheckMeta

P = pytest.ExitCode


def case(level: str, outcome: str, kind: str = "", key: str = "") -> Outcome:
    """One case: "passed", "failed", "waived", "pending", or "skipped" with a kind and key."""
    meta = CheckMeta(f"jwt.{level.lower()}", "a check", level, ("RFC7519-4.1",))
    return Outcome(meta, meta.id, outcome, skip_kind=kind, skip_key=key)


PASS_MUST = case("MUST", "passed")
FAIL_MUST = case("MUST", "failed")
FAIL_SHOULD = case("SHOULD", "failed")
FAIL_MAY = case("MAY", "failed")
WAIVED_MUST = case("MUST", "waived")
PENDING = case("MUST", "pending")
INCONCLUSIVE = case("SHOULD", "skipped", "inconclusive")
NOT_APPLICABLE = case("MUST", "skipped", "not-applicable", "services")
OPT_IN = case("MUST", "skipped", "opt-in", "options.throttle_probe")
GAP_MUST = case("MUST", "skipped", "not-verified", "jwt.hs256_secret")
GAP_MUST_OTHER = case("MUST", "skipped", "not-verified", "password_grant")
GAP_SHOULD = case("SHOULD", "skipped", "not-verified", "login")
BLOCKED_MUST = case("MUST", "skipped", "blocked", "jwt-cookies.login.signs-in")
BLOCKED_SHOULD = case("SHOULD", "skipped", "blocked", "jwt-cookies.login.signs-in")

# (outcomes, options, status): options are exit_status's keywords.
RUN_TABLE = [
    ([], {}, EXIT_OK),
    ([PASS_MUST], {}, EXIT_OK),
    ([PASS_MUST, FAIL_MUST], {}, EXIT_FAILED),
    ([FAIL_SHOULD], {}, EXIT_OK),
    ([FAIL_SHOULD], {"strict": True}, EXIT_FAILED),
    ([FAIL_MAY], {"strict": True}, EXIT_OK),
    ([WAIVED_MUST], {"strict": True}, EXIT_OK),
    ([PENDING], {}, EXIT_INCONCLUSIVE),
    ([INCONCLUSIVE], {}, EXIT_INCONCLUSIVE),
    ([INCONCLUSIVE, FAIL_MUST], {}, EXIT_FAILED),  # a failure says more than a missing verdict
    ([PASS_MUST], {"complete": False}, EXIT_INCONCLUSIVE),
    ([NOT_APPLICABLE, OPT_IN], {"require_complete": True}, EXIT_OK),
    ([GAP_MUST], {}, EXIT_OK),
    ([GAP_MUST], {"require_complete": True}, EXIT_INCONCLUSIVE),
    ([GAP_SHOULD], {"require_complete": True}, EXIT_OK),
    ([GAP_MUST], {"require_complete": True, "accepted": ["jwt.hs256_secret"]}, EXIT_OK),
    ([GAP_MUST, GAP_MUST_OTHER], {"require_complete": True, "accepted": ["jwt.hs256_secret"]}, 4),
    # A key is accepted whole: "jwt" is not "jwt.hs256_secret".
    ([GAP_MUST, GAP_MUST_OTHER], {"require_complete": True, "accepted": ["jwt", "password_grant"]}, 4),
    # Accepting a gap never accepts a missing verdict.
    ([GAP_MUST, INCONCLUSIVE], {"require_complete": True, "accepted": ["jwt.hs256_secret"]}, 4),
    ([GAP_MUST], {"require_complete": True, "accepted": ["jwt.hs256_secret"], "complete": False}, 4),
    ([GAP_MUST, FAIL_MUST], {"require_complete": True, "accepted": ["jwt.hs256_secret"]}, EXIT_FAILED),
    # A blocked case has no verdict: its control's failure fails the run, else the run is inconclusive.
    ([BLOCKED_MUST, FAIL_MUST], {}, EXIT_FAILED),
    ([BLOCKED_MUST, FAIL_SHOULD], {}, EXIT_INCONCLUSIVE),
    ([BLOCKED_MUST], {}, EXIT_INCONCLUSIVE),
    ([BLOCKED_SHOULD, FAIL_SHOULD], {}, EXIT_OK),
    ([BLOCKED_SHOULD], {"strict": True}, EXIT_INCONCLUSIVE),
    ([FAIL_MUST], {"stopped": EXIT_UNREACHABLE}, EXIT_UNREACHABLE),
    ([PASS_MUST], {"stopped": EXIT_INTERRUPTED}, EXIT_INTERRUPTED),
    ([PASS_MUST], {"stopped": EXIT_TERMINATED}, EXIT_TERMINATED),
    ([], {"stopped": EXIT_USAGE}, EXIT_USAGE),
]


@pytest.mark.parametrize(("outcomes", "options", "status"), RUN_TABLE)
def test_one_run(outcomes, options, status):
    assert exit_status(outcomes, **options) == status


# (pytest's code, summary.json's exit_code or None, SIGTERM seen, status, says an internal error)
PYTEST_TABLE = [
    (P.OK, 0, False, EXIT_OK, False),
    (P.TESTS_FAILED, 1, False, EXIT_FAILED, False),
    # The plugin sets pytest's status to ours, which overlaps pytest's: the summary decides.
    (4, 4, False, EXIT_INCONCLUSIVE, False),
    (2, 2, False, EXIT_USAGE, False),
    (P.INTERNAL_ERROR, EXIT_UNREACHABLE, False, EXIT_UNREACHABLE, False),  # our 3, not pytest's
    (P.INTERNAL_ERROR, 0, False, EXIT_FAILED, True),  # a crash is never a pass
    (P.INTERNAL_ERROR, None, False, EXIT_FAILED, True),
    (P.INTERRUPTED, EXIT_INTERRUPTED, False, EXIT_INTERRUPTED, False),
    (P.INTERRUPTED, None, False, EXIT_INTERRUPTED, False),
    (P.INTERRUPTED, None, True, EXIT_TERMINATED, False),
    (P.USAGE_ERROR, None, False, EXIT_USAGE, False),
    (P.NO_TESTS_COLLECTED, None, False, EXIT_USAGE, False),
    (P.OK, None, False, EXIT_FAILED, True),  # no summary after a run: something broke
    (P.TESTS_FAILED, None, False, EXIT_FAILED, True),
]


@pytest.mark.parametrize(("code", "summary_exit", "terminated", "status", "internal"), PYTEST_TABLE)
def test_one_run_from_pytest_and_summary(code, summary_exit, terminated, status, internal):
    got, problem = exit_of_run(int(code), summary_exit, terminated=terminated)
    assert got == status
    assert ("internal error" in problem) is internal


# (each profile's status, the whole run's)
MANY_TABLE = [
    ([0], EXIT_OK),
    ([0, 0, 0], EXIT_OK),
    ([0, 4], EXIT_INCONCLUSIVE),
    ([4, 1], EXIT_FAILED),
    ([1, 3], EXIT_UNREACHABLE),
    ([3, 2], EXIT_USAGE),
    ([2, 130], EXIT_INTERRUPTED),
    ([130, 143], EXIT_TERMINATED),
    ([0, -9], EXIT_FAILED),  # a child killed by a signal: never a pass
    ([0, 5], EXIT_FAILED),  # a status outside the contract
]


@pytest.mark.parametrize(("codes", "status"), MANY_TABLE)
def test_several_profiles(codes, status):
    assert exit_of_runs(codes) == status


@pytest.mark.parametrize(("terminated", "status"), [(False, EXIT_INTERRUPTED), (True, EXIT_TERMINATED)])
def test_a_stopped_run(terminated, status):
    assert exit_of_stop(terminated) == status
