"""Verifiers: small assertions that raise one failure type saying requirement, expected, actual."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypedDict, Unpack

from conformance._lib.diagnose import ASYMMETRIC_TOKEN, edge_cause, explain
from conformance._lib.http import TOKEN_FIELDS, Exchange
from conformance._lib.redact import REDACTOR
from conformance._lib.schemas import schema_errors

__all__ = [
    "ConformanceFailure",
    "expect",
    "expect_equal",
    "expect_header",
    "expect_json",
    "expect_no_token",
    "expect_oauth_error",
    "expect_schema",
    "expect_status",
    "expect_token",
    "fail",
    "finding_of",
]


class ConformanceFailure(AssertionError):
    """The instance does not do what a requirement says. `cause` names the cause a diagnosis tied
    it to (conformance._lib.causes), `evidence` the values whose presence in another failure's
    message ties that failure to the same cause (a mismatched issuer, say)."""

    def __init__(
        self,
        requirement: str,
        expected: str,
        actual: str,
        hint: str = "",
        *,
        cause: str = "",
        evidence: tuple[str, ...] = (),
    ) -> None:
        self.requirement = requirement
        self.expected = REDACTOR.redact(expected)
        self.actual = REDACTOR.redact(actual)
        self.hint = hint
        self.cause = cause
        self.evidence = evidence
        text = f"{requirement}\nexpected: {self.expected}\nactual:   {self.actual}"
        super().__init__(text + (f"\nfix:      {hint}" if hint else ""))


@contextmanager
def finding_of(case: str) -> Iterator[None]:
    """A failure inside is the same finding as `case`'s (the check that verifies the same thing):
    it takes that case's cause (conformance._lib.causes), unless a diagnosis named one."""
    try:
        yield
    except ConformanceFailure as failure:
        failure.cause = failure.cause or f"same-as:{case}"
        raise


def _short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _body_summary(ex: Exchange) -> str:
    body = ex.json()
    if body is not None:
        return _short(body)
    kind = ex.content_type.split(";")[0] or "no content type"
    return f"{len(ex.body)} bytes of {kind}" + (": " + _short(ex.text, 120) if ex.body else "")


# What a failure says it is: `actual` is text, or a function that makes it only on failure.
Actual = str | Callable[[], str]


class Diagnosis(TypedDict, total=False):
    """The cause a diagnosis tied a failure to, and its evidence (see ConformanceFailure)."""

    cause: str
    evidence: tuple[str, ...]


def expect(
    condition: bool, requirement: str, expected: str, actual: Actual, hint: str = "", **why: Unpack[Diagnosis]
) -> None:
    """The one assertion: requirement, expected, actual, and what the operator can do about it
    (and, where a diagnosis knows it, the cause: see ConformanceFailure)."""
    if not condition:
        fail(requirement, expected, actual, hint, **why)


def fail(
    requirement: str, expected: str, actual: Actual, hint: str = "", **why: Unpack[Diagnosis]
) -> NoReturn:
    """`expect` where the verdict is already known to be a failure."""
    text = actual() if callable(actual) else actual
    raise ConformanceFailure(requirement, expected, text, hint, **why)


def expect_equal(actual: Any, expected: Any, requirement: str) -> None:
    shown = _short(actual)
    if actual != expected and shown == _short(expected):  # '3600' and 3600 print alike: say which
        shown = f"{actual!r} ({type(actual).__name__}, not {type(expected).__name__})"
    expect(actual == expected, requirement, _short(expected), shown)


def expect_status(
    ex: Exchange, expected: int | Collection[int], requirement: str, *, rs512_signed: bool = False
) -> None:
    """`ex` has one of the `expected` statuses. `rs512_signed`: the LMS signs this answer's JWT with
    its asymmetric key (a login's JWT cookies, a restricted application's token), so a server error
    is the finding of the asymmetric token's control when that fails too."""
    allowed = {expected} if isinstance(expected, int) else set(expected)

    if ex.status in allowed:
        return
    # What the web server in front did, when the symptom says so (a redirect, a dropped header).
    hint = explain(ex)
    cause = edge_cause(ex) or (f"same-as:{ASYMMETRIC_TOKEN}" if rs512_signed and ex.status >= 500 else "")
    fail(
        requirement,
        f"HTTP {' or '.join(map(str, sorted(allowed)))} from {ex.method} {ex.path}",
        f"HTTP {ex.status}: {_body_summary(ex)}" + (f"; {hint}" if hint else ""),
        cause=cause,
    )


def expect_header(
    ex: Exchange,
    name: str,
    requirement: str,
    *,
    predicate: Callable[[str], bool] | None = None,
    expected: str = "present",
) -> str:
    value = ex.headers.get(name)
    expect(
        value is not None and (predicate is None or predicate(value)),
        requirement,
        f"{name}: {expected}",
        f"{name}: {value}" if value is not None else f"no {name} header (HTTP {ex.status})",
    )
    return value or ""


def expect_json(ex: Exchange, requirement: str) -> Any:
    body = ex.json()
    expect(body is not None, requirement, "a JSON body", lambda: _body_summary(ex))
    return body


def expect_schema(instance: Any, schema: str, requirement: str, *, evidence_for: str = "") -> None:
    """`instance` validates against `schema`. With `evidence_for` (a cause), a failure names that
    cause and, as its evidence, the values of the members that break the schema (wrong_members):
    another check that reads such a member shows the same value and takes the cause."""
    errors = schema_errors(instance, schema)
    if not errors:
        return
    why: Diagnosis = {}
    evidence = wrong_members(instance, errors) if evidence_for else ()
    if evidence:
        why = {"cause": evidence_for, "evidence": evidence}
    fail(requirement, f"valid against schemas/{schema}.schema.json", "; ".join(errors[:5]), **why)


def wrong_members(instance: Any, errors: list[str]) -> tuple[str, ...]:
    """The values of the top-level members that schema_errors' `errors` name, as Python prints them
    (`'3600'`, `['read', 'write']`): another check that reads the same member shows the same value."""
    if not isinstance(instance, dict):
        return ()
    members = {line.split(":", 1)[0].split("/", 1)[0] for line in errors}
    members -= set(TOKEN_FIELDS)  # secrets are never evidence
    values = (repr(instance[m]) for m in sorted(members) if m in instance)
    return tuple(v for v in values if len(v) >= 4)  # a short value would match unrelated text


def expect_token(ex: Exchange, requirement: str, *, rs512_signed: bool = False) -> dict[str, Any]:
    """A 200 response whose JSON body carries an access_token (`rs512_signed`: see expect_status)."""
    expect_status(ex, 200, requirement, rs512_signed=rs512_signed)
    body = expect_json(ex, requirement)
    expect(
        isinstance(body, dict) and isinstance(body.get("access_token"), str) and body["access_token"],
        requirement,
        "a JSON object with a non-empty access_token",
        lambda: _short(body),
    )
    return dict(body)


def expect_no_token(ex: Exchange, requirement: str) -> None:
    body = ex.json()
    leaked = isinstance(body, dict) and any(k in body for k in ("access_token", "refresh_token"))
    expect(
        not leaked and ex.status != 200,
        requirement,
        "no token issued (an error status without access_token)",
        lambda: f"HTTP {ex.status}: {_body_summary(ex)}" + (f"; {hint}" if (hint := explain(ex)) else ""),
        cause=edge_cause(ex) or "",
    )


def expect_oauth_error(
    ex: Exchange, status: int | Collection[int], errors: str | Iterable[str], requirement: str
) -> dict[str, Any]:
    """An OAuth error response: the status, a JSON body, `error` one of `errors`, no token."""
    expect_no_token(ex, requirement)
    expect_status(ex, status, requirement)
    body = expect_json(ex, requirement)
    allowed = {errors} if isinstance(errors, str) else set(errors)
    expect(
        isinstance(body, dict) and body.get("error") in allowed,
        requirement,
        f"error: {' or '.join(sorted(allowed))}",
        lambda: f"error: {body.get('error') if isinstance(body, dict) else _short(body)}",
    )
    return dict(body)
