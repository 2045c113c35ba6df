"""Against the reference instance: the advisories area runs (opt-in included) and passes, and it is
safe on production: the LMS's database is the same afterwards, apart from what signing in and asking
for a token leave (the test user's last_login, the restricted application's token row)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("django")

# What the area may leave behind: a sign-in updates the user's last_login (Django's login), and
# the XBlock check's client-credentials request stores the restricted application's token.
ALLOWED_NEW_ROWS = {"oauth2_provider_accesstoken"}


def _snapshot(db: Path) -> dict[str, set[tuple[object, ...]]]:
    """Every row of every table (read through a read-only connection beside the running server)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        # sqlite_sequence is SQLite's own counter of AUTOINCREMENT ids, not the LMS's data.
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        tables = [r[0] for r in conn.execute(query)]
        snapshot: dict[str, set[tuple[object, ...]]] = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
            keep = [c for c in columns if not (table == "auth_user" and c == "last_login")]
            select = ", ".join(f'"{c}"' for c in keep)
            snapshot[table] = set(conn.execute(f'SELECT {select} FROM "{table}"'))
    return snapshot


def test_advisories_pass_and_leave_the_database_as_it_was(tmp_path):
    from conformance.reference.launcher import running_reference

    with running_reference(state_dir=tmp_path / "state", rate_limit="100000/m") as ref:
        db = tmp_path / "state" / "lms.sqlite3"
        before = _snapshot(db)
        profile = Path(ref.profile_path).read_text(encoding="utf-8")
        opted = tmp_path / "profile.toml"
        opted.write_text(
            profile.replace("[options]\n", "[options]\nlogin_rate_limit_probe = true\n", 1)
            if "[options]\n" in profile
            else profile + "\n[options]\nlogin_rate_limit_probe = true\n",
            encoding="utf-8",
        )
        argv = ["run", "--profile", str(opted), "--no-html", "--select", "advisories"]
        result = run_cli(argv, env=ref.env, report_dir=tmp_path / "report")
        after = _snapshot(db)

    assert result.code == 0, result.console[-3000:]
    checks = result.summary()["checks"]
    assert checks and all(c["outcome"] == "passed" for c in checks), [
        (c["id"], c["outcome"], c.get("message", "")[:200]) for c in checks if c["outcome"] != "passed"
    ]
    assert set(before) == set(after)
    for table in sorted(before):
        assert before[table] <= after[table], f"{table}: rows changed or went away"
        added = after[table] - before[table]
        if table not in ALLOWED_NEW_ROWS:
            assert not added, f"{table}: {len(added)} rows added"
    # Two tokens at most: the restricted application's JWT (AD-06) and the run's shared token, the
    # control every client-credentials request is blocked by when the flow itself fails.
    assert len(after["oauth2_provider_accesstoken"] - before["oauth2_provider_accesstoken"]) <= 2
