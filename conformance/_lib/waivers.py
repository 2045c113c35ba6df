"""Waivers: accepted deviations kept as data next to the profile, each with reason, link, expiry."""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from conformance._lib.profile import Profile, ProfileError
from conformance._lib.schemas import load_schema

__all__ = ["Waiver", "load_waivers", "waivers_path"]


@dataclass(frozen=True)
class Waiver:
    check: str
    reason: str
    link: str
    expires: dt.date

    def expired(self, today: dt.date | None = None) -> bool:
        return (today or dt.date.today()) > self.expires

    def matches(self, case_id: str) -> bool:
        """`check` is an id (all its cases) or an id[case], matched literally; a value with `*` is a
        glob over either (brackets in it are literal: a case is never a character class)."""
        base = case_id.split("[", 1)[0]
        if "*" not in self.check:
            return self.check in (case_id, base)
        pattern = self.check.replace("[", "[[]")
        return fnmatch.fnmatchcase(case_id, pattern) or fnmatch.fnmatchcase(base, pattern)

    def describe(self) -> str:
        return f"waived until {self.expires}: {self.reason} ({self.link})"


def waivers_path(profile: Profile) -> Path | None:
    named = profile.data.get("waivers")
    if named:
        path = Path(named)
        return path if path.is_absolute() else profile.directory / path
    if profile.path is None:
        return None
    default = profile.path.with_name(f"{profile.path.stem}.waivers.toml")
    return default if default.exists() else None


def load_waivers(profile: Profile) -> list[Waiver]:
    """The profile's waivers; ProfileError (exit 2) names the file and the entry."""
    path = waivers_path(profile)
    if path is None:
        return []
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the waivers ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from None
    for entry in data.get("waiver", []) if isinstance(data.get("waiver"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("expires"), dt.date):
            entry["expires"] = entry["expires"].isoformat()
    errors = sorted(
        jsonschema.Draft202012Validator(load_schema("waivers")).iter_errors(data),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(top level)"
        raise ProfileError(f"{path}: {where}: {errors[0].message}")
    waivers = []
    for index, w in enumerate(data["waiver"]):
        try:
            expires = dt.date.fromisoformat(w["expires"])
        except ValueError:
            raise ProfileError(f"{path}: waiver/{index}/expires: not a date (YYYY-MM-DD)") from None
        waivers.append(Waiver(w["check"], w["reason"], w["link"], expires))
    return waivers


def check_known(waivers: Iterable[Waiver], known_ids: Iterable[str], source: str) -> None:
    """A waiver that names no existing check (or case) is an error: it would silently waive nothing.
    `known_ids` are case ids (id[case]) where the caller has them, else check ids."""
    known = list(known_ids)
    for waiver in waivers:
        if not any(waiver.matches(case) for case in known):
            bases = sorted({case.split("[", 1)[0] for case in known})
            guess = difflib.get_close_matches(waiver.check, known + bases, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise ProfileError(f"{source}: waiver '{waiver.check}' names no existing check{hint}")
