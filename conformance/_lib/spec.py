"""Spec-clause registry: turns a clause id such as `RFC6749-5.1` or `oauth-4` into a link for the report.

RFC clauses link to their section at rfc-editor.org. Open edX clauses (`oauth-N`, `observed-N`,
`edx-api-guide`) link to their anchor in docs/clauses.md, which states the behaviour each stands for
and links the upstream source lines it comes from.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["CLAUSES_PAGE", "OPENEDX_CLAUSES", "clause_anchor", "clause_url"]

_RFC = re.compile(r"^RFC(\d{4})-([A-Z]?[\d.]*\d)$")
# The Open edX clauses: each is a heading (and so an anchor) of docs/clauses.md.
OPENEDX_CLAUSES = (
    "oauth-1",
    "oauth-2",
    "oauth-3",
    "oauth-4",
    "oauth-5",
    "oauth-6",
    "oauth-7",
    "oauth-9",
    "observed-2",
    "observed-3",
    "observed-4",
    "observed-5",
    "edx-api-guide",
    "edx-drf-extensions",
    "openedx-cookies",
    "openedx-login",
    "openedx-logout",
    "edx-drf-cookies",
    "samesite-none-secure",
    "profile-jwt",
    "openedx-auth",
    # The published sign-in advisories (advisories area; accounts.disabled-user.no-refresh).
    "GHSA-m6rg-rp98-4crw",
    "CVE-2022-32195",
    "openedx-open-redirects-2022",
    "openedx-inactive-redirect",
    "CVE-2024-22209",
    "CVE-2025-65681",
    "openedx-login-ratelimit",
    "tutor-disabled-user-tokens",
)
# The page that states them. The project has no published home yet, so the link goes to the copy
# beside the installed package (a checkout); a published one would replace this.
CLAUSES_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "clauses.md").as_uri()


def clause_anchor(clause: str) -> str | None:
    """The fragment a clause links to (`section-5.1`, `appendix-A.12`, `oauth-4`), or None when the
    registry does not know it."""
    m = _RFC.match(clause)
    if m:
        section = m.group(2)
        return f"{'appendix' if section[0].isalpha() else 'section'}-{section}"
    return clause if clause in OPENEDX_CLAUSES else None


def clause_url(clause: str) -> str | None:
    """The URL of a clause, always with its anchor, or None when the registry does not know it."""
    anchor = clause_anchor(clause)
    if anchor is None:
        return None
    m = _RFC.match(clause)
    if m:
        return f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}#{anchor}"
    return f"{CLAUSES_PAGE}#{anchor}"
