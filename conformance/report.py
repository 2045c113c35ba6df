"""Report artifacts: summary.json, Allure environment, and the redaction pass over every file."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import conformance
from conformance._lib.redact import REDACTOR

if TYPE_CHECKING:
    from conformance.plugin import RunState

__all__ = ["build_summary", "redact_tree", "write_environment", "write_summary"]

TEXT_SUFFIXES = {".json", ".xml", ".txt", ".properties", ".html", ".log", ".md", ".csv", ".js", ""}


def build_summary(state: RunState, exit_code: int) -> dict[str, Any]:
    checks = [
        {
            "id": o.case,
            "title": o.meta.title,
            "area": o.meta.area,
            "level": o.meta.level,
            "spec": list(o.meta.spec),
            "outcome": o.outcome,
            "message": o.message,
        }
        for o in state.outcomes.values()
    ]
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
        "exit_code": exit_code,
        "counts": counts,
        "notes": list(state.notes),
        "checks": checks,
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
