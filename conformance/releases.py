"""Release awareness: the profile's `release` selects expectations from `conformance/data/releases.json`.

- `profile_defaults(data)`: a release's values become the profile's defaults (`expect.jwt_expires_in`)
  where the profile sets none; without `release` today's defaults stand.
- `adjusted(meta, profile)`: a check that depends on behaviour the profile's release is retiring is
  never a MUST failure (deprecated: MUST -> SHOULD; removed: MUST or SHOULD -> MAY).
- `preflight(profile, target)`: what changes for the profile's clients when the instance moves to
  `target` (`run --target-release`): a console section and the `upgrade_preflight` key of summary.json.
- `explain(check_id, a, b)`: why a check may differ between instances on releases a and b (`compare`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance._lib.release_table import (
    Expectation,
    classify,
    expectations,
    inferred,
    latest,
    names,
    profile_defaults,
    release_for_version,
    table,
)

if TYPE_CHECKING:
    from conformance._lib.profile import Profile
    from conformance._lib.registry import CheckMeta

__all__ = [
    "Expectation",
    "adjusted",
    "annotate_summary",
    "classify",
    "console_lines",
    "expectations",
    "explain",
    "inferred",
    "latest",
    "names",
    "preflight",
    "profile_defaults",
    "release_for_version",
    "table",
]

DEMOTE = {
    "deprecated": {"MUST": "SHOULD"},
    "removed": {"MUST": "MAY", "SHOULD": "MAY"},
}


def adjusted(meta: CheckMeta, profile: Profile | None) -> CheckMeta:
    """The check's level under the profile's release: retiring behaviour never fails at MUST."""
    release = profile.data.get("release") if profile is not None else None
    if release not in names():
        return meta
    level = meta.level
    for expectation in expectations(release).values():
        if meta.id in expectation.checks:
            level = DEMOTE.get(expectation.status, {}).get(level, level)
    return meta if level == meta.level else dataclasses.replace(meta, level=level)


def _affects(key: str, profile: Profile) -> bool:
    """Whether the profile's clients use what the expectation is about."""
    if key == "bearer_tokens":
        return bool(profile.get("expect", "opaque_tokens"))
    if key == "password_grant":
        return profile.has_password_grant
    return True


def preflight(profile: Profile, target: str) -> dict[str, Any]:
    """What moving the profile's instance from its release (or today's defaults) to `target` changes."""
    current = profile.data.get("release") if profile.data.get("release") in names() else None
    before, after = expectations(current), expectations(target)
    changes, retiring = [], []
    for key, new in after.items():
        old = before.get(key)
        if old is None or (old.value, old.status) != (new.value, new.status):
            changes.append(
                {
                    "expectation": key,
                    "title": new.title,
                    "from": old.value if old else None,
                    "to": new.value,
                    "status_from": old.status if old else None,
                    "status_to": new.status,
                    "affects_profile": _affects(key, profile),
                    "impact": new.impact,
                    "checks": list(new.checks),
                    "source": new.source,
                }
            )
        if new.status != "current":
            retiring.append(
                {
                    "expectation": key,
                    "title": new.title,
                    "value": new.value,
                    "status": new.status,
                    "affects_profile": _affects(key, profile),
                    "impact": new.impact,
                    "source": new.source,
                }
            )
    result = {
        "from": current,
        "from_label": current or f"today's defaults ({latest()})",
        "to": target,
        "changes": changes,
        "retiring": retiring,
    }
    note = _target_note(target)
    if note:
        result["to_note"] = note
    return result


def _target_note(target: str) -> str:
    """Why the preflight to `target` rests on inference ("" when the table has it as a fact)."""
    kind, why = classify(target)
    if kind == "newer":
        return why
    reason = inferred(target)
    return f"{target!r} has not shipped: its row is inferred ({reason})" if reason else ""


def annotate_summary(
    summary_path: Path, summary: dict[str, Any], profile: Profile, target: str | None
) -> dict[str, Any]:
    """Add `release` (and, with --target-release, `upgrade_preflight`) to summary.json."""
    release = profile.data.get("release")
    if release is None and target is None:
        return summary
    if release is not None:
        summary["release"] = release
    if target is not None:
        summary["upgrade_preflight"] = preflight(profile, target)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def console_lines(summary: dict[str, Any]) -> list[str]:
    """The console section of an upgrade preflight."""
    pre = summary.get("upgrade_preflight")
    if not pre:
        return []
    lines = [f"upgrade preflight: {pre['from_label']} -> {pre['to']}"]
    if pre.get("to_note"):
        lines.append(f"  warning: {pre['to_note']}")
    for change in pre["changes"]:
        mark = "" if change["affects_profile"] else " (not used by this profile's clients)"
        lines.append(f"  CHANGES {change['title']}: {change['from']} -> {change['to']}{mark}")
        lines.append(f"          {change['impact']} ({change['source']})")
    for item in pre["retiring"]:
        mark = "" if item["affects_profile"] else " (not used by this profile's clients)"
        lines.append(f"  RETIRING ({item['status']}) {item['title']}{mark}: {item['impact']}")
    if not pre["changes"]:
        lines.append("  no OAuth behaviour in the release table changes")
    return lines


def explain(check_id: str, release_a: str | None, release_b: str | None) -> str | None:
    """How the release table explains a check differing between two instances' releases, or None."""
    if release_a == release_b or release_a not in names() or release_b not in names():
        return None
    a, b = expectations(release_a), expectations(release_b)
    for key, new in b.items():
        old = a.get(key)
        if old is None or check_id not in new.checks:
            continue
        if (old.value, old.status) != (new.value, new.status):
            return f"{new.title}: {old.value} ({release_a}) vs {new.value} ({release_b}); {new.source}"
    return None
