"""The RFC 9700 posture section: each item read from the outcomes of the checks that observe it, the
DOT upgrade notes with --target-release, the console lines; and where the advisories' redirect
reader says a browser would go."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance import posture
from conformance._lib.advisories import _leaves, targets
from conformance._lib.http import Exchange
from conformance._lib.outcomes import Outcome
from conformance._lib.profile import profile_from_data
from conformance._lib.registry import load_checks
from conformance._lib.schemas import schema_errors

CHECKS = load_checks()
BASE = {
    "name": "posture",
    "base_url": "https://lms.example.org",
    "client": {"id": "c", "secret": "${SECRET}"},
    "jwt": {"issuer": "https://lms.example.org/oauth2", "audience": "openedx"},
}


def _profile(**extra):
    return profile_from_data({**BASE, **extra}, env={"SECRET": "s3cret-value-long-enough"})


def _outcomes(**verdicts):
    return [Outcome(CHECKS[check_id], check_id, outcome) for check_id, outcome in verdicts.items()]


def _item(section, item_id):
    return next(i for i in section["items"] if i["id"] == item_id)


def test_a_working_password_grant_is_a_deliberate_deviation_and_a_missing_verdict_is_not_observed():
    section = posture.build(_outcomes(**{"token-endpoint.password.grant": "passed"}), _profile())
    password = _item(section, "password-grant")
    assert password["status"] == "deviates" and "mobile apps" in password["why"]
    assert password["url"] == "https://www.rfc-editor.org/rfc/rfc9700#section-2.4"
    assert _item(section, "code-single-use")["status"] == "not observed"


def test_a_failing_check_turns_a_practice_into_a_deviation():
    section = posture.build(_outcomes(**{"authorization-code.code.single-use": "failed"}), _profile())
    assert _item(section, "code-single-use")["status"] == "deviates"
    section = posture.build(_outcomes(**{"authorization-code.code.single-use": "passed"}), _profile())
    assert _item(section, "code-single-use")["status"] == "follows"


def test_http_redirect_uris_are_read_from_the_profile_once_registered():
    clients = [{"name": "studio", "client_id": "s", "redirect_uri": "http://studio.example.org/complete/"}]
    section = posture.build(
        _outcomes(**{"authorization-code.redirect-uri.registered": "passed"}), _profile(sso_clients=clients)
    )
    item = _item(section, "https-redirect-uris")
    assert item["status"] == "deviates" and "http://studio.example.org/complete/" in item["observed"]


def test_target_release_adds_the_dot_upgrade_and_the_summary_stays_valid(tmp_path):
    clients = [{"name": "studio", "client_id": "s", "redirect_uri": "https://studio.example.org/complete/"}]
    profile = _profile(sso_clients=clients)
    summary = {
        "profile": "posture",
        "base_url": profile.base_url,
        "suite_version": "0",
        "started_at": "2026-01-01T00:00:00+00:00",
        "duration_s": 1.0,
        "requests": 1,
        "counts": {"passed": 0, "failed": 0, "skipped": 0, "waived": 0},
        "checks": [],
        "posture": posture.build([], profile),
    }
    path = tmp_path / "summary.json"
    posture.annotate_summary(path, summary, profile, None)
    assert not path.exists()  # without --target-release nothing is added
    posture.annotate_summary(path, summary, profile, "ulmo")
    written = json.loads(path.read_text())
    assert schema_errors(written, "summary") == []
    changes = written["posture"]["dot_upgrade"]
    assert any("PKCE_REQUIRED" in c["change"] and "studio" in c["client"] for c in changes)
    lines = posture.console_lines(written)
    assert lines[0].startswith("security posture against RFC 9700")
    assert any("DOT 2.x" in line for line in lines)


@pytest.mark.parametrize(
    ("target", "leaves"),
    [
        ("/", False),
        ("/dashboard?next=https://evil.example/", False),
        ("https://lms.example.org/courses", False),
        ("https://evil.example/", True),
        ("//evil.example/", True),
        ("/\t/evil.example/", True),
        ("https:///evil.example/", True),
        ("java\r\nscript\r\n:alert(1)", True),
        ("/%09/evil.example/", False),  # percent-encoded in a Location: a path on the site
    ],
)
def test_where_a_browser_would_go(target, leaves):
    assert (_leaves(target, "lms.example.org") is not None) is leaves


def _exchange(status, body="", headers=None):
    return Exchange(
        "GET",
        "https://lms.example.org/logout",
        {},
        b"",
        status,
        httpx.Headers(headers or {}),
        body.encode(),
        1.0,
    )


def test_targets_are_the_location_or_the_page_links():
    page = (
        '<a href="/x">x</a><div data-redirect-url="/y"></div><meta http-equiv="refresh" content="0;url=/z">'
    )
    assert targets(_exchange(200, page)) == ["/x", "/y", "/z"]
    assert targets(_exchange(302, headers={"Location": "/dashboard"})) == ["/dashboard"]
