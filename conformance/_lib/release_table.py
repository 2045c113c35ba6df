"""The release table (`conformance/data/releases.json`): what each Open edX named release expects,
with a source per row, and the defaults a profile's `release` gives it. Data only: it imports nothing
of the suite, so the profile loader can use it; `conformance.releases` builds on it (levels, the
upgrade preflight, compare)."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "Expectation",
    "UnknownRelease",
    "classify",
    "expectations",
    "inferred",
    "latest",
    "names",
    "profile_defaults",
    "release_for_version",
    "table",
]


class UnknownRelease(ValueError):
    """A release name that is neither in the table nor newer than it: a misspelling or a release
    older than the table (a usage error)."""


@dataclass(frozen=True)
class Expectation:
    """One expectation as a given release has it."""

    key: str
    title: str
    value: str | int
    status: str
    since: str
    source: str
    note: str
    checks: tuple[str, ...]
    impact: str
    profile_key: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@functools.cache
def table() -> dict[str, Any]:
    from conformance._lib.schemas import schema_errors

    data: dict[str, Any] = json.loads(
        resources.files("conformance").joinpath("data/releases.json").read_text(encoding="utf-8")
    )
    errors = schema_errors(data, "releases")
    if errors:
        raise ValueError(f"conformance/data/releases.json: {errors[0]}")
    return data


def names() -> list[str]:
    """Release names, oldest first."""
    return [r["name"] for r in table()["releases"]]


def latest() -> str:
    """The newest release that has shipped: its expectations are today's defaults."""
    return [r["name"] for r in table()["releases"] if "inferred" not in r][-1]


def inferred(release: str) -> str | None:
    """Why the table's row for `release` is inferred (a release not shipped yet), or None."""
    return next((r.get("inferred") for r in table()["releases"] if r["name"] == release), None)


def classify(release: str) -> tuple[str, str]:
    """("known", ""), ("newer", why) for a name after the table's last (releases are named in
    alphabetical order, so a later first letter is a release the table does not know yet), or
    ("unknown", why) for a misspelling or a release older than the table, with a suggestion."""
    order = names()
    if release in order:
        return "known", ""
    span = f"{order[0]} to {order[-1]}"
    if release[:1] > order[-1][:1]:
        return "newer", (
            f"{release!r} is newer than the release table ({span}): today's defaults ({latest()}) "
            "stand; a newer suite knows its expectations"
        )
    if release in table().get("older", {}).get("names", []):
        return "unknown", (
            f"{release!r} is older than the release table ({span}), which does not describe it; "
            f"use {order[0]} (the oldest it describes) or leave the release out"
        )
    close = difflib.get_close_matches(release, order, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return "unknown", f"{release!r} is not a known release; {hint}(known: {', '.join(order)})"


def release_for_version(version: str) -> str | None:
    """The release a platform version names (Tutor's OPENEDX_COMMON_VERSION): `release/verawood.1`,
    `open-release/ulmo.3`, `release/verawood`, `open-release/maple.master` -> the name; `master`
    or anything else -> None."""
    match = re.fullmatch(r"(?:open-)?release/([a-z]+)(?:\.[0-9a-z]+)?", version.strip())
    return match.group(1) if match else None


def expectations(release: str | None) -> dict[str, Expectation]:
    """Every expectation as `release` has it (None or a name the table does not know: the latest
    shipped release's, today's defaults)."""
    order = names()
    position = order.index(release) if release in order else order.index(latest())
    result = {}
    for key, spec in table()["expectations"].items():
        entries = [h for h in spec["history"] if order.index(h["since"]) <= position]
        if not entries:
            continue
        entry = entries[-1]
        result[key] = Expectation(
            key=key,
            title=spec["title"],
            value=entry["value"],
            status=entry["status"],
            since=entry["since"],
            source=entry["source"],
            note=entry.get("note", ""),
            checks=tuple(spec["checks"]),
            impact=spec["impact"],
            profile_key=spec.get("profile_key"),
        )
    return result


def profile_defaults(data: dict[str, Any], source: str) -> list[str]:
    """Fill the release's values into the profile where it sets none (before the schema's defaults);
    returns warnings (a release newer than the table). A misspelt or older name: UnknownRelease."""
    release = data.get("release")
    if not isinstance(release, str):
        return []
    kind, why = classify(release)
    if kind == "unknown":
        raise UnknownRelease(f"{source}: key 'release': {why}")
    if kind == "newer":
        return [f"{source}: key 'release': {why}"]
    for expectation in expectations(release).values():
        if expectation.profile_key and isinstance(expectation.value, int):
            section, key = expectation.profile_key.split(".")
            table_ = data.setdefault(section, {})
            if isinstance(table_, dict):
                table_.setdefault(key, expectation.value)
    return []
