"""Instances side by side: a check x instance matrix from summary.json files, differences first.

Each run is one column, keyed by its position among the folders given (never by its profile name:
two CI artifacts are often both `reports/reference`). A column's title is the profile name, with as
much of the folder's path as tells it apart from another run of the same name."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Comparison", "compare_dirs", "load_summaries"]

SYMBOL = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "waived": "waived", None: "-"}


class CompareError(Exception):
    """A report dir without a usable summary.json: the message names it."""


@dataclass
class Row:
    id: str
    title: str
    area: str
    level: str
    spec: list[str]
    # Keyed by the run's column (its position among the folders compared), never by its name.
    outcomes: dict[int, str | None]
    messages: dict[int, str]
    # Set when the instances' releases explain the difference (conformance/releases.py).
    explained_by_release: str = ""

    @property
    def differs(self) -> bool:
        return len({o for o in self.outcomes.values()}) > 1

    @property
    def regression(self) -> bool:
        return self.differs and not self.explained_by_release

    def as_dict(self, labels: list[str]) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "area": self.area,
            "level": self.level,
            "spec": self.spec,
            "differs": self.differs,
            "explained_by_release": self.explained_by_release,
            "outcomes": {labels[i]: outcome for i, outcome in sorted(self.outcomes.items())},
            "messages": {labels[i]: message for i, message in sorted(self.messages.items())},
        }


@dataclass
class Comparison:
    instances: list[dict[str, Any]]
    rows: list[Row]

    @property
    def labels(self) -> list[str]:
        return [i["label"] for i in self.instances]

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    def as_json(self) -> str:
        return json.dumps(
            {
                "instances": self.instances,
                "differences": len(self.differing),
                # Per instance, the causes of its failures (summary.json causes), in fix order.
                "causes": {i["label"]: i.get("causes") or [] for i in self.instances},
                "explained_by_release": sum(1 for r in self.differing if r.explained_by_release),
                "checks": [r.as_dict(self.labels) for r in self.rows],
            },
            indent=2,
        )

    def as_markdown(self) -> str:
        names = self.labels
        lines = [
            f"### Open edX OAuth conformance: {' vs '.join(names)}",
            "",
            f"{len(self.differing)} of {len(self.rows)} check cases differ.",
            "",
            "| check | level | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for row in self.rows:
            cells = " | ".join(_md_cell(row.outcomes[n]) for n in range(len(names)))
            mark = " **(differs)**" if row.regression else ""
            mark = f" (differs: release; {row.explained_by_release})" if row.explained_by_release else mark
            lines.append(f"| `{row.id}`{mark} | {row.level} | {cells} |")
        lines += [
            "",
            "| instance | passed | failed | skipped | waived | causes |",
            "|---|---|---|---|---|---|",
        ]
        for inst in self.instances:
            c = inst["counts"]
            causes = ", ".join(f"`{x}`" for x in inst.get("causes") or []) or "none"
            lines.append(
                f"| {inst['label']} | {c['passed']} | {c['failed']} | {c['skipped']} | {c['waived']} "
                f"| {len(inst.get('causes') or [])}: {causes} |"
            )
        return "\n".join(lines) + "\n"

    def as_html(self) -> str:
        names = self.labels
        head = "".join(
            f"<th>{html.escape(n)}<br><small>{html.escape(str(i.get('base_url') or ''))}</small></th>"
            for n, i in zip(names, self.instances, strict=True)
        )
        body = []
        for row in self.rows:
            cells = "".join(
                f'<td class="{row.outcomes[n] or "absent"}" title="{html.escape(row.messages.get(n, ""))}">'
                f"{SYMBOL[row.outcomes[n]]}</td>"
                for n in range(len(names))
            )
            why = ""
            if row.explained_by_release:
                reason = html.escape(row.explained_by_release)
                why = f"<br><small class=release>explained by release: {reason}</small>"
            kind = "release" if row.explained_by_release else "differs" if row.differs else "same"
            body.append(
                f'<tr class="{kind}"><td><code>{html.escape(row.id)}'
                f"</code><br><small>{html.escape(row.title)}</small>{why}</td><td>{row.level}</td>{cells}</tr>"
            )
        counts = "".join(
            f"<li><b>{html.escape(i['label'])}</b>: {i['counts']['passed']} passed, "
            f"{i['counts']['failed']} failed, {i['counts']['skipped']} skipped, "
            f"{i['counts']['waived']} waived</li>"
            for i in self.instances
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Open edX OAuth conformance: {html.escape(" vs ".join(names))}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse}} th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
td.passed{{background:#dff5df}} td.failed{{background:#f9d6d5;font-weight:bold}}
td.skipped{{background:#eee}} td.waived{{background:#fff2c6}} td.absent{{background:#fafafa}}
tr.differs td:first-child{{border-left:4px solid #c0392b}} h2{{margin-top:1.5em}}
tr.release td:first-child{{border-left:4px solid #e0a800}}
</style></head><body>
<h1>Open edX OAuth conformance: {html.escape(" vs ".join(names))}</h1>
<ul id="counts">{counts}</ul>
<p id="differences">{len(self.differing)} of {len(self.rows)} check cases differ; they come first.</p>
<table id="matrix"><thead><tr><th>check</th><th>level</th>{head}</tr></thead>
<tbody>
{"".join(body)}
</tbody></table>
</body></html>
"""


def _md_cell(outcome: str | None) -> str:
    return {"failed": "**FAIL**"}.get(outcome or "", SYMBOL[outcome])


def load_summaries(dirs: list[Path]) -> list[dict[str, Any]]:
    """Each folder's summary.json, with `label` (its distinct column title) and `folder` set."""
    summaries = []
    for directory in dirs:
        path = directory / "summary.json" if directory.is_dir() else directory
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CompareError(f"{path}: no readable summary.json ({type(exc).__name__})") from None
        if not isinstance(summary, dict) or not isinstance(summary.get("checks"), list):
            raise CompareError(f"{path}: not a summary.json of this suite (no list of checks)")
        summary["folder"] = str(path.parent if path.name == "summary.json" else path)
        summaries.append(summary)
    for summary, label in zip(summaries, _labels(summaries), strict=True):
        summary["label"] = label
    return summaries


def _labels(summaries: list[dict[str, Any]]) -> list[str]:
    """Distinct column titles: the profile name; where names repeat, with the shortest tail of the
    folder path that tells the runs apart; the same folder given twice is numbered."""
    names = [str(s.get("profile") or "?") for s in summaries]
    labels = list(names)
    for name in set(names):
        same = [i for i, n in enumerate(names) if n == name]
        if len(same) < 2:
            continue
        parts = [Path(summaries[i]["folder"]).resolve().parts for i in same]
        depth = 1
        longest = max(len(p) for p in parts)
        while depth < longest and len({p[-depth:] for p in parts}) < len(parts):
            depth += 1
        for i, p in zip(same, parts, strict=True):
            labels[i] = f"{name} ({'/'.join(p[-depth:]).lstrip('/') or '/'})"
    for label in set(labels):
        repeats = [i for i, lab in enumerate(labels) if lab == label]
        if len(repeats) > 1:  # one folder given twice
            for n, i in enumerate(repeats, 1):
                labels[i] = f"{label} #{n}"
    return labels


def compare_dirs(dirs: list[Path]) -> Comparison:
    summaries = load_summaries(dirs)
    rows: dict[str, Row] = {}
    for column, summary in enumerate(summaries):
        for check in summary.get("checks", []):
            row = rows.setdefault(
                check["id"],
                Row(
                    check["id"],
                    check["title"],
                    check["area"],
                    check["level"],
                    check["spec"],
                    {},
                    {},
                ),
            )
            row.outcomes[column] = check["outcome"]
            if check.get("message"):
                row.messages[column] = check["message"]
    for row in rows.values():
        for column in range(len(summaries)):
            row.outcomes.setdefault(column, None)
        if row.differs:
            row.explained_by_release = _release_explains(row, summaries)
    # Regressions first, then what a release explains, then the rest.
    ordered = sorted(rows.values(), key=lambda r: (not r.regression, not r.differs, r.area, r.id))
    keys = ("label", "profile", "folder", "base_url", "suite_version", "started_at", "counts", "release")
    instances = [
        {k: s.get(k) for k in keys}
        | {"causes": [c.get("id") for c in s.get("causes") or [] if isinstance(c, dict)]}
        for s in summaries
    ]
    return Comparison(instances, ordered)


def _release_explains(row: Row, summaries: list[dict[str, Any]]) -> str:
    """Why the release table expects this check to differ between two instances' releases ("" if it
    does not): a release changed or retired the behaviour the check depends on."""
    from conformance import releases

    check_id = row.id.split("[", 1)[0]
    for i, a in enumerate(summaries):
        for j, b in enumerate(summaries):
            if row.outcomes.get(i) == row.outcomes.get(j):
                continue
            reason = releases.explain(check_id, a.get("release"), b.get("release"))
            if reason:
                return reason
    return ""
