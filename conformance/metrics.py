"""`run --metrics FILE`: a run's summary as OpenMetrics text, for the node_exporter textfile collector
or a Pushgateway.

Only gauges, no timestamps, no units metadata, and the closing `# EOF`: the text parses both as
OpenMetrics 1.0 and as the Prometheus text format 0.0.4 that the textfile collector and the
Pushgateway read (`# EOF` is a comment there). Every sample carries the profile's name, so the files
of several instances can sit side by side in one textfile directory.

Figures: each check case's outcome, counts per area and outcome, run duration, requests sent,
token-endpoint latency, certificate days left (https instances, when the handshake works), the exit
status, whether the run was complete, and the time of the last complete run (carried over from the
previous file when this run was not complete, so an alert on its age keeps counting).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import socket
import ssl
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "PREFIX",
    "certificate_days_left",
    "metrics_text",
    "previous_complete_run",
    "record_run",
    "write_metrics",
]

PREFIX = "oauth_conformance"
OUTCOMES = ("passed", "failed", "skipped", "waived")
LAST_COMPLETE = f"{PREFIX}_last_complete_run_timestamp_seconds"
# Exit statuses that mean every check reached a verdict (0 pass, 1 fail); 2 usage, 3 unreachable,
# 4 inconclusive, 130/143 interrupted do not.
COMPLETE_EXITS = (0, 1)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


class _Families:
    """Metric families in the order they are first declared; samples grouped under each."""

    def __init__(self) -> None:
        self._help: dict[str, str] = {}
        self._samples: dict[str, list[str]] = {}

    def add(self, name: str, help_text: str, labels: Mapping[str, str], value: float) -> None:
        full = f"{PREFIX}_{name}"
        self._help.setdefault(full, help_text)
        self._samples.setdefault(full, []).append(f"{full}{_labels(labels)} {_number(value)}")

    def text(self) -> str:
        lines: list[str] = []
        for name, help_text in self._help.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *self._samples[name]]
        return "\n".join([*lines, "# EOF"]) + "\n"


def _complete(summary: Mapping[str, Any], exit_code: int) -> bool:
    complete = summary.get("complete")
    if isinstance(complete, bool):
        return complete
    return exit_code in COMPLETE_EXITS


def metrics_text(
    summary: Mapping[str, Any],
    *,
    exit_code: int | None = None,
    now: float | None = None,
    certificate_days: float | None = None,
    previous_complete: float | None = None,
) -> str:
    """The OpenMetrics text of one run's summary.json (a dict)."""
    now = time.time() if now is None else now
    code = int(summary.get("exit_code") if exit_code is None else exit_code)  # type: ignore[arg-type]
    profile = {"profile": str(summary["profile"])}
    families = _Families()
    families.add(
        "info",
        "The instance and the suite version of the last run (always 1).",
        {
            **profile,
            "base_url": str(summary.get("base_url", "")),
            "version": str(summary.get("suite_version", "")),
        },
        1,
    )
    for entry in summary.get("checks", []):
        case = str(entry["id"])
        families.add(
            "check_outcome",
            "1 for each check case with its outcome of the last run (passed, failed, skipped, waived).",
            {
                **profile,
                "check": case.split("[", 1)[0],
                "case": case,
                "area": str(entry.get("area", "")),
                "level": str(entry.get("level", "")),
                "outcome": str(entry.get("outcome", "")),
            },
            1,
        )
    per_area: dict[str, dict[str, int]] = {}
    for entry in summary.get("checks", []):
        tally = per_area.setdefault(str(entry.get("area", "")), dict.fromkeys(OUTCOMES, 0))
        outcome = str(entry.get("outcome", ""))
        tally[outcome] = tally.get(outcome, 0) + 1
    for area, tally in per_area.items():
        for outcome, count in tally.items():
            families.add(
                "checks",
                "Number of check cases per area and outcome in the last run.",
                {**profile, "area": area, "outcome": outcome},
                count,
            )
    causes = [c for c in summary.get("causes") or [] if isinstance(c, Mapping)]
    families.add(
        "causes",
        "Number of causes of the last run's failed and blocked cases (each one finding to fix).",
        profile,
        len(causes),
    )
    for cause in causes:
        families.add(
            "cause",
            "1 for each cause of the last run, with the failed and blocked cases it explains.",
            {
                **profile,
                "cause": str(cause.get("id", "")),
                "kind": str(cause.get("kind", "")),
                "failed": str(len(cause.get("failed") or [])),
                "blocked": str(len(cause.get("blocked") or [])),
            },
            1,
        )
    failing = {"MUST"} | ({"SHOULD"} if summary.get("strict") else set())
    for level in ("MUST", "SHOULD", "MAY"):
        failed = sum(
            1 for c in summary.get("checks", []) if c.get("level") == level and c.get("outcome") == "failed"
        )
        families.add(
            "failed_checks",
            "Number of failed check cases per level in the last run (waived ones aside).",
            {**profile, "level": level, "gating": "true" if level in failing else "false"},
            failed,
        )
    coverage = summary.get("coverage")
    if isinstance(coverage, Mapping):
        for level, figures in coverage.items():
            if not isinstance(figures, Mapping):
                continue
            for what, value in figures.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    families.add(
                        "coverage",
                        "Coverage of the last run per level (applicable, ran, not verified ...).",
                        {**profile, "level": str(level), "figure": str(what)},
                        value,
                    )
    families.add(
        "run_duration_seconds", "Wall time of the last run.", profile, float(summary.get("duration_s", 0))
    )
    families.add("requests", "HTTP requests the last run sent.", profile, int(summary.get("requests", 0)))
    if "token_requests" in summary:
        families.add(
            "token_requests",
            "Token-endpoint requests the last run sent (the LMS allows 120 a minute per IP).",
            profile,
            int(summary["token_requests"]),
        )
    latency = summary.get("token_endpoint_ms")
    if isinstance(latency, Mapping):
        for stat in ("median", "p90", "max"):
            if isinstance(latency.get(stat), int | float):
                families.add(
                    "token_endpoint_latency_seconds",
                    "Token-endpoint response time in the last run (median, p90, max of its exchanges).",
                    {**profile, "stat": stat},
                    round(float(latency[stat]) / 1000, 5),
                )
    if certificate_days is not None:
        families.add(
            "certificate_days_left",
            "Days until the instance's TLS certificate expires (https instances).",
            profile,
            round(certificate_days, 2),
        )
    complete = _complete(summary, code)
    families.add(
        "exit_status",
        "Exit status of the last run (0 ok, 1 failed, 2 usage, 3 unreachable, 4 inconclusive).",
        profile,
        code,
    )
    families.add("run_complete", "1 when the last run reached a verdict for every check.", profile, complete)
    families.add("last_run_timestamp_seconds", "When the last run ended (Unix time).", profile, round(now, 3))
    last_complete = now if complete else previous_complete
    if last_complete is not None:
        families.add(
            "last_complete_run_timestamp_seconds",
            "When the last complete run ended (Unix time); kept across incomplete runs.",
            profile,
            round(last_complete, 3),
        )
    return families.text()


def previous_complete_run(path: Path, profile: str) -> float | None:
    """The last complete run's time recorded in an earlier metrics file for this profile."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(
        rf'^{re.escape(LAST_COMPLETE)}\{{[^}}]*profile="{re.escape(_escape(profile))}"[^}}]*\}} (\S+)$', re.M
    )
    match = pattern.search(text)
    try:
        return float(match.group(1)) if match else None
    except ValueError:
        return None


def write_metrics(path: Path, text: str) -> None:
    """Write atomically (a temporary file in the same folder, then rename): the textfile collector
    must never read half a file. The file is world-readable, as node_exporter runs as its own user."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def certificate_days_left(base_url: str, cafile: str | None = None, timeout: float = 5.0) -> float | None:
    """Days left on the certificate an https instance presents; None for http or when the handshake
    fails (the transport checks say why)."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    context = ssl.create_default_context(cafile=cafile)
    try:
        with (
            socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
        ):
            cert = tls.getpeercert()
    except (OSError, ssl.SSLError, ValueError):
        return None
    if not cert or "notAfter" not in cert:
        return None
    not_after = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    return (not_after - dt.datetime.now(dt.UTC).timestamp()) / 86400


def record_run(
    path: Path,
    summary: Mapping[str, Any] | None,
    *,
    exit_code: int,
    profile: str,
    base_url: str,
    cafile: str | None = None,
) -> None:
    """Write the metrics file of one run; with no summary (the instance was unreachable, the profile
    unusable) the file still says so through the exit status and keeps the last complete run."""
    base = summary or {"profile": profile, "base_url": base_url, "checks": [], "duration_s": 0, "requests": 0}
    text = metrics_text(
        base,
        exit_code=exit_code,
        certificate_days=certificate_days_left(base_url, cafile),
        previous_complete=previous_complete_run(path, profile),
    )
    write_metrics(path, text)
