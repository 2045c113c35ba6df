"""Report artifacts: summary.json, Allure environment, and the redaction pass over every file."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

import conformance
from conformance._lib.causes import find_causes
from conformance._lib.outcomes import RunState, coverage
from conformance._lib.redact import REDACTOR
from conformance._lib.registry import SKIP_KINDS
from conformance.posture import build as build_posture

__all__ = ["build_summary", "polish_allure", "redact_tree", "write_environment", "write_summary"]

TEXT_SUFFIXES = {".json", ".xml", ".txt", ".properties", ".html", ".log", ".md", ".csv", ".js", ""}


def build_summary(state: RunState, exit_code: int) -> dict[str, Any]:
    outcomes = list(state.outcomes.values())
    checks = []
    for o in outcomes:
        entry = {
            "id": o.case,
            "title": o.meta.title,
            "area": o.meta.area,
            "level": o.meta.level,
            "spec": list(o.meta.spec),
            "outcome": o.outcome,
            "message": o.message,
        }
        if o.outcome == "skipped":
            entry["skip_kind"] = o.skip_kind
            if o.skip_key:
                entry["skip_key"] = o.skip_key
        checks.append(entry)
    counts = {k: sum(c["outcome"] == k for c in checks) for k in ("passed", "failed", "skipped", "waived")}
    return {
        "profile": state.profile.name,
        "base_url": state.profile.base_url,
        "suite_version": conformance.__version__,
        "started_at": dt.datetime.fromtimestamp(state.started, dt.UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.time() - state.started, 2),
        "requests": state.http.requests + state.other_requests,
        "token_requests": state.http.token_requests + state.other_token_requests,
        "token_endpoint_ms": latency_summary(state.http.token_latencies_ms),
        "seed": state.seed,
        "strict": state.strict,
        "require_complete": state.require_complete,
        "exit_code": exit_code,
        "complete": state.complete,
        "counts": counts,
        "skips": {kind: sum(c.get("skip_kind") == kind for c in checks) for kind in SKIP_KINDS},
        "coverage": coverage(outcomes, state.acceptances, judged=state.selected_all),
        "notes": list(state.notes) + ([state.exit_message] if state.exit_message else []),
        "checks": checks,
        # RFC 9700's recommendations, read from the checks that observe them (conformance/posture.py).
        "posture": build_posture(outcomes, state.profile),
        # Every failed and blocked case tied to one cause, in the order to fix them.
        "causes": [cause.as_dict() for cause in find_causes(outcomes)],
    }


def latency_summary(samples_ms: list[float]) -> dict[str, float] | None:
    """Token-endpoint latency of this process's exchanges (under --workers: the controller's)."""
    if not samples_ms:
        return None
    ordered = sorted(samples_ms)
    return {
        "count": len(ordered),
        "median": round(ordered[len(ordered) // 2], 1),
        "p90": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 1),
        "max": round(ordered[-1], 1),
    }


def write_summary(path: Path, state: RunState, exit_code: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = build_summary(state, exit_code)
    # The catalogue (ids, titles, clauses) is ours, never a secret: only what came from the run is
    # redacted, so a short secret can never rename a check.
    summary = {k: v if k == "checks" else REDACTOR.redact_json(v) for k, v in summary.items()}
    for check in summary["checks"]:
        check["message"] = REDACTOR.redact(check["message"])
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def write_environment(alluredir: Path, state: RunState) -> None:
    alluredir.mkdir(parents=True, exist_ok=True)
    lines = {
        "profile": state.profile.name,
        "target": state.profile.base_url,
        "suite_version": conformance.__version__,
        "seed": str(state.seed),
        "strict": str(state.strict).lower(),
    }
    # The RFC 9700 posture on the report's overview (Allure's Environment widget), one line an item.
    for item in build_posture(list(state.outcomes.values()), state.profile)["items"]:
        lines[f"posture.{item['clause']}.{item['id']}"] = item["status"]
    body = "\n".join(f"{k}={v}" for k, v in lines.items())
    (alluredir / "environment.properties").write_text(REDACTOR.redact(body) + "\n", encoding="utf-8")


def redact_tree(target: Path) -> int:
    """Rewrite every text file under `target` (a file or a folder) through the redactor."""
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    changed = 0
    for file in files:
        if file.suffix.lower() not in TEXT_SUFFIXES and not file.name.endswith("-attachment"):
            continue
        try:
            original = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        cleaned = _redact_text(file, original)
        if cleaned != original:
            file.write_text(cleaned, encoding="utf-8")
            changed += 1
    return changed


def _redact_text(file: Path, text: str) -> str:
    """JSON files are redacted value by value, so that they stay parseable; the rest as text."""
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError:
            return REDACTOR.redact(text)
        cleaned = REDACTOR.redact_json(data)
        return text if cleaned == data else json.dumps(cleaned)
    return REDACTOR.redact(text)


SKIP_TITLES = {
    "not-applicable": "Not applicable",
    "not-verified": "Not verified",
    "opt-in": "Opt-in, left off",
    "inconclusive": "Inconclusive",
    "blocked": "Blocked",
}
# The run's causes as Allure categories (html.py puts them before the static ones).
CAUSE_CATEGORIES = "cause-categories.json"


def polish_allure(alluredir: Path, state: RunState, param_names: set[str]) -> None:
    """allure-pytest writes pytest's view; the report shows the suite's: each result's message is the
    suite's own (no exception class, nothing cut), a skip's reason is a reason (kind first, no
    trace), a waived check is `unknown` (neither skipped nor failed) with its waiver, a stale waiver
    says so, and the parametrization pseudo-fixtures and their `<lambda>` finalizers are dropped."""
    by_case = {o.case: o for o in state.outcomes.values()}
    causes = find_causes(state.outcomes.values())
    cause_of = {case: c for c in causes for case in [*c.failed, *c.blocked]}
    for path in alluredir.glob("*-result.json"):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        case = next((x["value"] for x in result.get("labels", []) if x.get("name") == "case"), None)
        outcome = by_case.get(case or "")
        if outcome is None:
            continue
        details: dict[str, Any] = {}
        if outcome.outcome == "failed":
            details["message"] = f"[{outcome.meta.level}] {', '.join(outcome.meta.spec)}: {outcome.message}"
            if outcome.message.startswith("stale waiver"):
                result["status"] = "failed"
        elif outcome.outcome == "skipped":
            title = SKIP_TITLES.get(outcome.skip_kind, "Not run")
            key = f" ({outcome.skip_key})" if outcome.skip_key else ""
            details["message"] = f"{title}{key}: {outcome.message}"
            result["status"] = "skipped"
        elif outcome.outcome == "waived":
            details["message"] = f"Waived: {outcome.message}"
            result["status"] = "unknown"
            result.setdefault("labels", []).append({"name": "tag", "value": "waived"})
        cause = cause_of.get(outcome.case)
        if cause is not None:
            result.setdefault("labels", []).append({"name": "cause", "value": cause.id})
            details["message"] = f"Cause {cause.id}: {cause.title}. Fix: {cause.fix}\n\n" + details.get(
                "message", ""
            )
        if details:
            result["statusDetails"] = details
        path.write_text(json.dumps(result), encoding="utf-8")
    rules = [
        {
            "name": f"Cause: {c.title}",
            "matchedStatuses": ["failed", "skipped"],
            "labels": {"cause": "^" + re.escape(c.id) + "$"},
        }
        for c in causes
    ]
    (alluredir / CAUSE_CATEGORIES).write_text(json.dumps(rules), encoding="utf-8")
    for path in alluredir.glob("*-container.json"):
        try:
            container = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        container["befores"] = [b for b in container.get("befores", []) if b.get("name") not in param_names]
        container["afters"] = [
            a for a in container.get("afters", []) if not str(a.get("name", "")).endswith("<lambda>")
        ]
        path.write_text(json.dumps(container), encoding="utf-8")
