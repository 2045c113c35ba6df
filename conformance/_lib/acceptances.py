"""Accepted coverage gaps: the profile's `[coverage] accept`, each a key left out on purpose, with why.

A gap is a case that applies but was not verified for lack of a profile key (skip kind
`not-verified`, registry.SKIP_KINDS). An acceptance names that key (`jwt.hs256_secret`), says why it
stays out of the profile, and may expire. What it changes is `--require-complete` only: a MUST case
whose key is accepted no longer makes the run inconclusive. The case itself stays not verified and is
listed as accepted (console, summary.json); nothing is counted as passed.

An acceptance is in one of three states at the end of a run:
    accepting  it matches at least one not-verified case of the run
    expired    its date has passed: it accepts nothing (the gap counts again), said once in the notes
    stale      it matched no not-verified case of a run that covered every case (no --select or
               --deselect): the key is in the profile now, or no check needs it. Reported on the
               console and in summary.json; it does not change the exit status, because it accepts
               nothing and so cannot hide a gap (a waiver that no longer matches a failure is
               different: it is a verdict that changed, and fails the run). Remove it: if the gap came
               back later, a forgotten acceptance would accept it again without anyone deciding so.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Acceptance", "acceptance_states", "load_acceptances"]


@dataclass(frozen=True)
class Acceptance:
    key: str
    reason: str
    expires: dt.date | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires is not None and (today or dt.date.today()) > self.expires

    def describe(self) -> str:
        until = f" (until {self.expires})" if self.expires else ""
        return f"{self.reason}{until}"


def load_acceptances(data: dict[str, Any]) -> list[Acceptance]:
    """The acceptances of a validated profile's data (`expires` is an ISO date there)."""
    entries = (data.get("coverage") or {}).get("accept") or []
    return [
        Acceptance(
            str(e["key"]),
            str(e["reason"]),
            dt.date.fromisoformat(e["expires"]) if e.get("expires") else None,
        )
        for e in entries
    ]


def acceptance_states(
    acceptances: Iterable[Acceptance],
    gap_keys: Iterable[str],
    *,
    judged: bool,
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Each acceptance with its state (see the module docstring) and the keys it could have meant.
    `gap_keys` are the keys of the run's not-verified cases; `judged` is False for a run that left
    cases out (--select), which cannot tell stale from unselected."""
    keys = set(gap_keys)
    states = []
    for acceptance in acceptances:
        entry: dict[str, Any] = {"key": acceptance.key, "reason": acceptance.reason}
        if acceptance.expires is not None:
            entry["expires"] = acceptance.expires.isoformat()
        if acceptance.expired(today):
            entry["state"] = "expired"
        elif acceptance.key in keys:
            entry["state"] = "accepting"
        elif judged:
            entry["state"] = "stale"
            guess = difflib.get_close_matches(acceptance.key, sorted(keys), n=1)
            if guess:
                entry["did_you_mean"] = guess[0]
        else:
            entry["state"] = "not-judged"
        states.append(entry)
    return states
