"""The release table (`conformance/data/releases.json`): what each Open edX named release expects,
with a source per row, and the defaults a profile's `release` gives it. Data only: it imports nothing
of the suite, so the profile loader can use it; `conformance.releases` builds on it (levels, the
upgrade preflight, compare)."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["Expectation", "expectations", "latest", "names", "profile_defaults", "table"]


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
    return names()[-1]


def expectations(release: str | None) -> dict[str, Expectation]:
    """Every expectation as `release` has it (None or an unknown name: the latest, today's defaults)."""
    order = names()
    position = order.index(release) if release in order else len(order) - 1
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
    returns warnings (a release the table does not know yet)."""
    release = data.get("release")
    if not isinstance(release, str):
        return []
    if release not in names():
        return [
            f"{source}: key 'release': {release!r} is not in the release table "
            f"({', '.join(names())}); today's defaults stand"
        ]
    for expectation in expectations(release).values():
        if expectation.profile_key and isinstance(expectation.value, int):
            section, key = expectation.profile_key.split(".")
            table_ = data.setdefault(section, {})
            if isinstance(table_, dict):
                table_.setdefault(key, expectation.value)
    return []
