"""The published Open edX sign-in advisories the `advisories` area checks, and the helpers that read
where a page sends the browser.

Each advisory says where it was published, which releases carry its fix and what the operator does
(the `fix` line of a failure). Sources and their links: docs/clauses.md, one section per advisory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from conformance._lib.http import Exchange
from conformance._lib.verify import expect

__all__ = [
    "ADVISORIES",
    "EVIL_HOST",
    "OPEN_REDIRECTS",
    "Advisory",
    "expect_stays_on_site",
    "fix_of",
    "targets",
]

# A host under .invalid (RFC 6761 6.4): no request can ever reach it.
EVIL_HOST = "evil.conformance.invalid"

# The unsafe targets of the platform's own tests (user_authn/views/tests/test_logout.py
# test_logout_redirect_failure, student/tests/test_helpers.py test_next_failures) and of the 2022
# redirect fixes: another host, the tab trick, scheme-relative and empty-authority URLs, and a
# javascript: URL split by CR/LF (a browser drops tab, CR and LF from a URL).
OPEN_REDIRECTS = {
    "other-host": f"https://{EVIL_HOST}/",
    "tab-slash": f"/\t/{EVIL_HOST}/",
    "scheme-relative": f"//{EVIL_HOST}/",
    "empty-authority": f"https:///{EVIL_HOST}/",
    "javascript-crlf": "java\r\nscript\r\n:alert(document.domain)",
}


@dataclass(frozen=True)
class Advisory:
    """One published advisory: its id (the clause), what it was, where its fix is (empty: not
    found), the fix line."""

    id: str
    summary: str
    fixed_in: str
    fix: str


ADVISORIES: dict[str, Advisory] = {
    advisory.id: advisory
    for advisory in (
        Advisory(
            "GHSA-m6rg-rp98-4crw",
            "the account API exposed activation_key (CVE-2026-34736, 2026-04)",
            "openedx-platform commit 21cead23 (PR #38241); Tutor 21.0.4",
            "upgrade to Tutor >= 21.0.4 (or apply openedx-platform commit "
            "21cead238466ca398ba368518f1d3288431d68f4) and rebuild the openedx image",
        ),
        Advisory(
            "CVE-2022-32195",
            "reflected XSS through next on /logout (2022)",
            "the logout redirect fixes of June 2022 (Tutor 13.3.0) and the next-parameter XSS fix "
            "of November 2022 (Tutor 14.1.2)",
            "upgrade to Tutor >= 14.1.2 (Nutmeg) or a later named release; a theme that overrides "
            "logout.html must escape the target",
        ),
        Advisory(
            "openedx-open-redirects-2022",
            "open redirects through redirect_url/next on /logout and next on /login (2022)",
            "edx-platform PRs #31255, #31256, #31305 (November 2022); Tutor 13.3.0 (logout) and 14.1.2",
            "upgrade to Tutor >= 14.1.2 or a later named release; list extra redirect hosts in "
            "LOGIN_REDIRECT_WHITELIST instead of patching the check out",
        ),
        Advisory(
            "openedx-inactive-redirect",
            "open redirect through next on /auth/inactive (2022-04)",
            "edx-platform PR #30212; Tutor 13.1.9",
            "upgrade to Tutor >= 13.1.9 or a later named release",
        ),
        Advisory(
            "CVE-2024-22209",
            "XBlock handlers accepted a RestrictedApplication's JWT (GHSA-qx8m-mqx3-j9fm, 2024-01)",
            "edx-platform PR #34047 (commit 89f5f696); Tutor 17.0.1",
            "upgrade to Tutor >= 17.0.1 (Quince) or apply edx-platform commit "
            "89f5f69682a5e1422f89e867491e8974dd0a8208",
        ),
        Advisory(
            "CVE-2025-65681",
            "authenticated responses cacheable (Tutor <= 20.0.2)",
            "",
            "upgrade Tutor past 20.0.2; a proxy or CDN in front must not cache the user API for "
            "everyone: no public or s-maxage there, and keep the LMS's Vary: Cookie (or send "
            "Cache-Control: private or no-store)",
        ),
        Advisory(
            "openedx-login-ratelimit",
            "no rate limit per username on the login API (2022)",
            "the rate-limiting security fix (overhangio/edx-platform commit b5723e41); Tutor 13.2.0",
            "upgrade to Tutor >= 13.2.0; keep LOGISTRATION_PER_EMAIL_RATELIMIT_RATE set",
        ),
        Advisory(
            "tutor-disabled-user-tokens",
            "a disabled user kept access through refresh (Tutor 14.2.3, 2022-12)",
            "the support tool's disable retiring the user's OAuth tokens (overhangio/edx-platform "
            "commit 4df942b3); Tutor 14.2.3",
            "upgrade to Tutor >= 14.2.3; for users disabled before, delete their OAuth tokens "
            "(retire_dot_oauth2_models) or revoke the refresh tokens",
        ),
    )
}


def fix_of(advisory_id: str) -> str:
    """The fix line a failure carries: the advisory, where the fix is, what to do."""
    advisory = ADVISORIES[advisory_id]
    where = (
        f"fixed in {advisory.fixed_in}"
        if advisory.fixed_in
        else "its fix was not found in the sources searched (docs/clauses.md)"
    )
    return f"{advisory.id} ({advisory.summary}); {where}: {advisory.fix}"


class _Targets(HTMLParser):
    """The URLs a page sends the browser to: links, data-redirect-url, meta refresh."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "data-redirect-url", "action"):
            if values.get(name):
                self.found.append(str(values[name]))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url\s*=\s*(.+)$", values.get("content") or "", re.I | re.S)
            if match:
                self.found.append(match.group(1).strip("'\" "))


def targets(ex: Exchange) -> list[str]:
    """Where the answer sends the browser: its Location (a redirect), else the page's targets."""
    if 300 <= ex.status < 400:
        return [ex.headers.get("location", "")]
    parser = _Targets()
    parser.feed(ex.text)
    return parser.found


def _leaves(target: str, host: str) -> str | None:
    """Why a browser following `target` from `host` leaves the site (or runs script), else None. A
    browser drops tab, CR and LF, reads a backslash as a slash, and takes the host after any run of
    slashes following http(s):."""
    url = re.sub(r"[\t\r\n]", "", target).replace("\\", "/").lstrip(" \x00-\x1f")
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if scheme:
        name = scheme.group(1).lower()
        if name not in ("http", "https"):
            return f"a {name}: URL"
        rest = url[scheme.end() :].lstrip("/")
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    elif url.startswith("//"):
        netloc = re.split(r"[/?#]", url.lstrip("/"), maxsplit=1)[0]
    else:
        return None
    target_host = urlsplit(f"//{netloc}").hostname or ""
    return None if target_host == host.lower() else f"another host ({target_host or 'none'})"


def expect_stays_on_site(ex: Exchange, host: str, requirement: str, advisory_id: str) -> None:
    """No target of the answer takes the browser off `host` or to a script URL."""
    for target in targets(ex):
        why = _leaves(target, host)
        expect(
            why is None,
            requirement,
            f"a target on {host} (the unsafe one replaced by a safe default)",
            f"HTTP {ex.status} sends the browser to {why}: {target!r}",
            hint=fix_of(advisory_id),
        )
