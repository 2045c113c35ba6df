"""The stub LMS's pages of the published sign-in advisories, for the unit tests of the advisories
checks: the account API, the logout page's target, a signed-in user's /login and /auth/inactive
redirects, the XBlock handler's authentication, the login's per-username rate limit, and the
caching of signed-in user API answers, each as a patched platform answers
(conformance/reference/lms/advisories.py says the same with the platform's sources); each
`on_advisories` patch takes one advisory's fix out (`Fixes`).

`StubLms` calls `handle` for these paths; `stub_signin` asks `logout_page`, `limited` and
`cache_headers`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from conformance.reference.defects import Defect
from tests.stub_lms import USERS, Patch, field_patch

if TYPE_CHECKING:
    from tests.stub_lms import StubLms


@dataclass
class Fixes:
    """The advisories' fixes the stub has in place (all, as a patched platform); an `on_advisories`
    patch takes one out (once per stub)."""

    activation_key_hidden: bool = True  # the account API does not list activation_key
    logout_target_escaped: bool = True  # the logout page escapes the target it writes
    logout_redirect_checked: bool = True  # logout follows only safe redirect_url/next targets
    login_redirect_checked: bool = True  # a signed-in user's /login?next= likewise
    inactive_redirect_checked: bool = True  # /auth/inactive?next= likewise
    xblock_refuses_restricted: bool = True  # XBlock handlers refuse a restricted application's JWT
    user_api_private: bool = True  # signed-in user API answers stay private (Vary: Cookie, no public)
    login_username_limit: int | None = 30  # LOGISTRATION_PER_EMAIL_RATELIMIT_RATE (30/5m); None: none


def on_advisories(defect: Defect, **fields: Any) -> Patch:
    """A patch that takes fixes out (`Fixes` fields)."""
    return field_patch(defect, "advisories", Fixes, fields)


def _fixes(stub: StubLms) -> Fixes:
    return stub.configuration("advisories", Fixes)


XBLOCK = re.compile(r"^/courses/[^/]+/xblock/[^/]+/handler/")


def _query(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


def _safe(target: str, host: str) -> bool:
    """is_safe_login_or_logout_redirect without a whitelist: same host, http(s) or relative."""
    target = re.sub(r"[\t\r\n]", "", target)
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    parts = urlsplit(target)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return False
    if parts.scheme and not parts.netloc:
        return False
    return not parts.netloc or parts.hostname == host


def logout_page(stub: StubLms, request: httpx.Request) -> bytes:
    query = _query(request)
    target = query.get("redirect_url") or query.get("next") or "/"
    fixes = _fixes(stub)
    if fixes.logout_redirect_checked and not _safe(target, request.url.host):
        target = "/"
    shown = escape(target) if fixes.logout_target_escaped else target
    return (
        f'<h1>Signed out</h1><p><a href="{shown}">home</a></p><div data-redirect-url="{shown}"></div>'
    ).encode()


def limited(stub: StubLms, identifier: str) -> bool:
    """The login's per-username limit: every login POST counts; past the limit, refused."""
    counts: dict[str, int] = stub.__dict__.setdefault("login_counts", {})
    counts[identifier] = counts.get(identifier, 0) + 1
    limit = _fixes(stub).login_username_limit
    return limit is not None and counts[identifier] > limit


def cache_headers(stub: StubLms, request: httpx.Request) -> dict[str, str]:
    """Signed-in (cookie) answers of the user API vary on the cookie, as the platform's
    SessionMiddleware makes them; without the fix a CDN rule marks them for shared caches."""
    if "cookie" not in request.headers:
        return {}
    if not _fixes(stub).user_api_private:
        return {"Cache-Control": "public, max-age=300"}
    return {"Vary": "Accept-Language, origin, Cookie"}


def handle(stub: StubLms, request: httpx.Request) -> httpx.Response | None:
    from tests import stub_signin

    path = request.url.path
    host = request.url.host
    if path.startswith("/api/user/v1/accounts/"):
        username = stub._authenticate(request, "lms")
        user = USERS.get(path.rsplit("/", 1)[1])
        if user is None:
            return httpx.Response(404, json={"detail": "Not found."})
        body: dict[str, object] = {"username": user.username}
        if user.username == username:
            body.update(email=user.email, name=user.name, is_active=True, account_privacy="private")
            if not _fixes(stub).activation_key_hidden:
                body["activation_key"] = None
        headers = {"Content-Type": "application/json", **cache_headers(stub, request)}
        return httpx.Response(200, headers=headers, content=json.dumps(body).encode())
    if path in ("/login", "/auth/inactive"):
        if stub_signin._session_user(stub, request) is None:
            return httpx.Response(302, headers={"Location": "/login?next=" + path})
        target = _query(request).get("next") or ""
        fixes = _fixes(stub)
        checked = fixes.login_redirect_checked if path == "/login" else fixes.inactive_redirect_checked
        if not target or (checked and not _safe(target, host)):
            target = "/dashboard"
        # Django's redirect: iri_to_uri percent-encodes what a header cannot carry (tab, CR, LF).
        return httpx.Response(302, headers={"Location": quote(target, safe="/:?&=#%@+,;!$'()*[]~")})
    if XBLOCK.match(path):
        header = request.headers.get("authorization", "")
        if not header:
            status = 403 if request.method != "GET" else 404
            return httpx.Response(status, content=b"Unauthenticated" if status == 403 else b"Not found")
        try:
            stub._authenticate(request, "lms")
        except Exception as refused:  # the stub's _Reply: a restricted JWT is refused with 403
            restricted = getattr(getattr(refused, "response", None), "status_code", 0) == 403
            if restricted and _fixes(stub).xblock_refuses_restricted:
                return httpx.Response(403, content=b"Unauthenticated")
        return httpx.Response(404, content=b"course-v1 does not exist in the modulestore")
    return None


__all__ = ["Fixes", "cache_headers", "handle", "limited", "logout_page", "on_advisories"]
