"""Spec-clause registry: turns a clause id such as `RFC6749-5.1` into a link for the report."""

from __future__ import annotations

import re

__all__ = ["clause_url", "is_known_clause"]

_RFC = re.compile(r"^RFC(\d{4})(?:-([A-Z]?[\d.]+))?$")
_OPENEDX = {
    "oauth": "https://github.com/openedx/openedx-platform/tree/master/openedx/core/djangoapps/oauth_dispatch",
    "observed": "https://github.com/openedx/openedx-platform/blob/master/openedx/core/djangoapps/oauth_dispatch/tests/test_views.py",
    "edx-drf-extensions": "https://github.com/openedx/edx-drf-extensions/blob/master/edx_rest_framework_extensions/auth/jwt/decoder.py",
    "openedx-auth": "https://github.com/openedx/openedx-platform/blob/master/openedx/core/lib/api/authentication.py",
    "edx-api-guide": "https://course-catalog-api-guide.readthedocs.io/en/latest/authentication/",
    # The profile contract for key material: jwt.hs256_secret is the LMS's JWT_AUTH JWT_SECRET_KEY,
    # jwt.jwks its JWT_PUBLIC_SIGNING_JWK_SET (both defined in the platform's JWT_AUTH settings).
    "profile-jwt": "https://github.com/openedx/openedx-platform/blob/master/openedx/envs/common.py",
}
_OPENEDX_SECTION = re.compile(r"^(oauth|observed)-(\d+(?:\.\d+)?)$")


def clause_url(clause: str) -> str | None:
    """The public URL of a clause, or None when the registry does not know it."""
    m = _RFC.match(clause)
    if m:
        number, section = m.groups()
        if section is None:
            return f"https://www.rfc-editor.org/rfc/rfc{number}"
        kind = "appendix" if section[0].isalpha() else "section"
        return f"https://www.rfc-editor.org/rfc/rfc{number}#{kind}-{section}"
    m = _OPENEDX_SECTION.match(clause)
    if m:
        return _OPENEDX[m.group(1)]
    return _OPENEDX.get(clause)


def is_known_clause(clause: str) -> bool:
    return clause_url(clause) is not None
