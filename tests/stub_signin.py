"""The stub LMS's sign-in flows, for the unit tests of the authorization-code and jwt-cookies checks.

As a stock LMS does them (docs/clauses.md, openedx-login and openedx-cookies): the CSRF token API
and the login API (v2, form fields, X-CSRFToken), the four logged-in cookies (JWT split in two,
the signature HttpOnly, Domain = SHARED_COOKIE_DOMAIN, Secure on https, no SameSite),
`/login_refresh` (session only), `/logout`, DOT 1.7.1's `/oauth2/authorize` (login first; fatal
errors rendered with 400, the rest redirected;
scheme/host/path matching with the registered query a subset; PKCE plain and S256), the
authorization_code grant (code bound to client and redirect URI, deleted on use), and
JwtAuthCookieMiddleware on the LMS and the discovery service (a failing cookie is forgiven: 401).

`StubLms` calls `handle` for these paths, `exchange` for the grant and `cookie_user` before its
anonymous 401. `SignInSettings` is their configuration, which `on_signin` patches change.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from conformance.reference.defects import Defect
from tests.stub_lms import (
    APPS,
    LEARNER,
    OWNER,
    PUBLIC_CLIENT_ID,
    USERS,
    App,
    Patch,
    b64url,
    field_patch,
    stub_advisories,
)

if TYPE_CHECKING:
    from tests.stub_lms import StubLms

SSO_CLIENT_ID = "stub-studio-sso"
SSO_SECRET = "Sso7kQ2mW9xV4bN8cJ3fH6tR1yL5pD0g"
SSO_REDIRECT_URI = "https://studio.example.org/complete/edx-oauth2/"
MFE_ORIGIN = "https://apps.example.org"
SHARED_COOKIE_DOMAIN = "example.org"
SSO_APP = App(SSO_CLIENT_ID, SSO_SECRET, "authorization-code", OWNER.username)

PATHS = (
    "/csrf/api/v1/token",
    "/api/user/v2/account/login_session/",
    "/oauth2/authorize",
    "/login_refresh",
    "/logout",
)


@dataclass
class SignInSettings:
    """The sign-in flows' configuration as the stub answers by it; an `on_signin` patch changes
    fields (once per stub)."""

    registered_redirect_uri: str = SSO_REDIRECT_URI  # the SSO application's redirect URI
    # How /oauth2/authorize matches a redirect URI with the registered one: "path" (scheme, host and
    # path; a query may be added), "exact" (no query added), "prefix" (also any URI it starts), "any".
    redirect_uri_match: str = "path"
    redirect_keeps_query: bool = True  # the redirect keeps the redirect URI's own query
    state_returned: bool = True
    response_type_checked: bool = True  # only response_type=code issues a code
    pkce_methods: tuple[str, ...] = ("plain", "S256")
    codes_bound: bool = True  # a code is exchanged only by its client, with its redirect URI
    codes_single_use: bool = True
    pkce_checked: bool = True  # the exchange checks the code's PKCE challenge
    unrouted: frozenset[str] = frozenset()  # sign-in paths the LMS does not route (404)
    jwt_cookies: bool = True  # login and /login_refresh set the JWT cookies
    cookie_domain: str | None = SHARED_COOKIE_DOMAIN  # None: host-only cookies
    cookies_secure: bool = True
    samesite: str | None = None
    signature_httponly: bool = True
    payload_httponly: bool = False
    refresh_needs_session: bool = True  # /login_refresh needs the session, not only the JWT cookies
    logout_deletes_cookies: bool = True
    # The services whose JwtAuthCookieMiddleware reassembles the cookies, and checks their signature.
    cookie_middleware: frozenset[str] = frozenset({"lms", "discovery"})
    cookie_signature_checked: frozenset[str] = frozenset({"lms", "discovery"})


def on_signin(defect: Defect, **fields: Any) -> Patch:
    """A patch that sets fields of the sign-in flows' configuration (`SignInSettings`)."""
    return field_patch(defect, "signin", SignInSettings, fields)


def _settings(stub: StubLms) -> SignInSettings:
    return stub.configuration("signin", SignInSettings)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    username: str
    challenge: str | None
    method: str | None


@dataclass
class SignInState:
    sessions: dict[str, str] = field(default_factory=dict)
    csrf: set[str] = field(default_factory=set)
    codes: dict[str, _Code] = field(default_factory=dict)


def _state(stub: StubLms) -> SignInState:
    return stub.__dict__.setdefault("signin_state", SignInState())  # type: ignore[no-any-return]


def _cookies(request: httpx.Request) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    jar.load(request.headers.get("cookie", ""))
    return {name: morsel.value for name, morsel in jar.items()}


def _json(status: int, body: Any, cookies: list[str] | None = None) -> httpx.Response:
    headers = [("Content-Type", "application/json")] + [("Set-Cookie", c) for c in cookies or []]
    return httpx.Response(status, headers=headers, content=json.dumps(body, indent=2).encode())


def _session_user(stub: StubLms, request: httpx.Request) -> str | None:
    return _state(stub).sessions.get(_cookies(request).get("sessionid", ""))


def _jwt_cookies(stub: StubLms, username: str, *, delete: bool = False) -> list[str]:
    settings = _settings(stub)
    if not settings.jwt_cookies and not delete:
        return []
    if delete:
        if not settings.logout_deletes_cookies:
            return []
        values = {"edx-jwt-cookie-header-payload": "", "edx-jwt-cookie-signature": ""}
    else:
        user = USERS[username]
        app = App(PUBLIC_CLIENT_ID, None, "password", username)
        token = stub._make_jwt(app, user, ["user_id", "email", "profile"], 3600, True)
        header_payload, signature = token.rsplit(".", 1)
        values = {"edx-jwt-cookie-header-payload": header_payload, "edx-jwt-cookie-signature": signature}
    cookies = []
    for name, value in values.items():
        parts = [f"{name}={value}"]
        if settings.cookie_domain is not None:
            parts.append(f"Domain={settings.cookie_domain}")
        parts.append("expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0" if delete else "Max-Age=3600")
        parts.append("Path=/")
        if settings.cookies_secure:
            parts.append("Secure")
        if settings.signature_httponly if name.endswith("signature") else settings.payload_httponly:
            parts.append("HttpOnly")
        if settings.samesite is not None:
            parts.append(f"SameSite={settings.samesite}")
        cookies.append("; ".join(parts))
    return cookies


def handle(stub: StubLms, request: httpx.Request) -> httpx.Response | None:
    """The sign-in paths of the LMS, or None for any other path."""
    path = request.url.path
    if path not in PATHS:
        return None
    state = _state(stub)
    if path in _settings(stub).unrouted:
        return httpx.Response(404, content=b"<h1>Not Found</h1>")
    if path == "/csrf/api/v1/token":
        token = secrets.token_urlsafe(32)
        state.csrf.add(token)
        return _json(200, {"csrfToken": token}, [f"csrftoken={token}; Path=/; SameSite=Lax; Secure"])
    if path == "/api/user/v2/account/login_session/":
        return _login(stub, request)
    if path == "/oauth2/authorize":
        return _authorize(stub, request)
    if path == "/login_refresh":
        if request.method != "POST":
            return httpx.Response(405, headers={"Allow": "POST"})
        username = _session_user(stub, request)
        if username is None and not _settings(stub).refresh_needs_session:
            username = cookie_user(stub, request, "lms")
        if username is None:
            return _json(401, "Unauthorized")
        return _json(200, {"success": True}, _jwt_cookies(stub, username))
    # /logout
    state.sessions.pop(_cookies(request).get("sessionid", ""), None)
    cookies = [
        *_jwt_cookies(stub, "", delete=True),
        "sessionid=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/",
    ]
    page = stub_advisories().logout_page(stub, request)
    return httpx.Response(200, headers=[("Set-Cookie", c) for c in cookies], content=page)


def _login(stub: StubLms, request: httpx.Request) -> httpx.Response:
    state = _state(stub)
    cookie = _cookies(request).get("csrftoken")
    if request.method != "POST" or cookie not in state.csrf or request.headers.get("x-csrftoken") != cookie:
        return httpx.Response(403, content=b"<h1>CSRF verification failed. Request aborted.</h1>")
    form = dict(parse_qsl(request.content.decode()))
    identifier = form.get("email_or_username", "")
    if stub_advisories().limited(stub, identifier):
        return _json(400, {"success": False, "value": "Too many failed login attempts. Try again later."})
    user = USERS.get(identifier) or next((u for u in USERS.values() if u.email == identifier), None)
    if user is None or user.password != form.get("password"):
        body = {"success": False, "value": "Email or password is incorrect.", "email": identifier}
        return _json(400, body)
    sid = secrets.token_hex(16)
    # PREVENT_CONCURRENT_LOGINS (on in the LMS): a new login ends the user's other sessions.
    for other in [k for k, name in state.sessions.items() if name == user.username]:
        del state.sessions[other]
    state.sessions[sid] = user.username
    cookies = [
        f"sessionid={sid}; HttpOnly; Max-Age=2419200; Path=/; SameSite=None; Secure",
        f"edxloggedin=true; Domain={SHARED_COOKIE_DOMAIN}; Path=/; Secure",
        *_jwt_cookies(stub, user.username),
    ]
    return _json(200, {"success": True, "redirect_url": None}, cookies)


def _authorize(stub: StubLms, request: httpx.Request) -> httpx.Response:
    username = _session_user(stub, request)
    if username is None:
        next_url = request.url.raw_path.decode()
        return httpx.Response(302, headers={"Location": "/login?" + urlencode({"next": next_url})})
    params = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))

    def fatal(description: str) -> httpx.Response:
        return httpx.Response(400, content=f"<h2>Error: invalid_request</h2><p>{description}</p>".encode())

    if params.get("client_id") != SSO_CLIENT_ID:
        return fatal("Invalid client_id parameter value.")
    settings = _settings(stub)
    uri = params.get("redirect_uri") or settings.registered_redirect_uri
    if "#" in uri and settings.redirect_uri_match != "any":
        return fatal("Invalid redirect URI.")
    if not _allowed(stub, uri):
        return fatal("Mismatching redirect URI.")

    def redirect(values: dict[str, str]) -> httpx.Response:
        target = uri
        if not settings.redirect_keeps_query:
            target = urlunsplit(urlsplit(uri)._replace(query=""))
        if params.get("state") and settings.state_returned:
            values["state"] = params["state"]
        return httpx.Response(
            302, headers={"Location": target + ("&" if "?" in target else "?") + urlencode(values)}
        )

    response_type = params.get("response_type")
    if response_type != "code" and settings.response_type_checked:
        error = "unauthorized_client" if response_type == "token" else "unsupported_response_type"
        return redirect({"error": error})
    challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
    if challenge:
        method = method or "plain"
        if method not in settings.pkce_methods:
            return redirect(
                {"error": "invalid_request", "error_description": "Transform algorithm not supported."}
            )
    code = secrets.token_urlsafe(22)
    _state(stub).codes[code] = _Code(SSO_CLIENT_ID, uri, username, challenge, method if challenge else None)
    return redirect({"code": code})


def _allowed(stub: StubLms, uri: str) -> bool:
    settings = _settings(stub)
    registered = settings.registered_redirect_uri
    if settings.redirect_uri_match == "any":
        return True
    if settings.redirect_uri_match == "prefix" and uri.startswith(registered):
        return True
    got, want = urlsplit(uri), urlsplit(registered)
    if settings.redirect_uri_match == "exact" and got.query:
        return False
    return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path)


def exchange(stub: StubLms, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
    """The authorization_code grant (oauthlib's order of checks)."""
    if not params.get("code"):
        raise stub._oauth_error(400, "invalid_request", "Missing code parameter.")
    app = stub._client(request, params)
    settings = _settings(stub)
    bound = settings.codes_bound
    if app.grant != "authorization-code" and bound:
        raise stub._oauth_error(400, "unauthorized_client")
    codes = _state(stub).codes
    grant = codes.get(params["code"])
    if grant is None or (bound and grant.client_id != app.client_id):
        raise stub._oauth_error(400, "invalid_grant")
    if grant.challenge and settings.pkce_checked:
        verifier = params.get("code_verifier")
        if not verifier:
            raise stub._oauth_error(400, "invalid_request", "Code verifier required.")
        expected = b64url(hashlib.sha256(verifier.encode()).digest()) if grant.method == "S256" else verifier
        if expected != grant.challenge:
            raise stub._oauth_error(400, "invalid_grant")
    if bound and params.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
        raise stub._oauth_error(400, "invalid_request", "Mismatching redirect URI.")
    if settings.codes_single_use:
        del codes[params["code"]]
    user = USERS[grant.username]
    return stub._issue(request, params, app, user, ["read", "write", "email", "profile"], refresh="")


def cookie_user(stub: StubLms, request: httpx.Request, service: str) -> str | None:
    """JwtAuthCookieMiddleware + JwtAuthentication on the cookie: the user, or None (forgiven)."""
    settings = _settings(stub)
    if service not in settings.cookie_middleware:
        return None
    jar = _cookies(request)
    header_payload = jar.get("edx-jwt-cookie-header-payload")
    signature = jar.get("edx-jwt-cookie-signature")
    if not header_payload or not signature:
        return None
    if service not in settings.cookie_signature_checked:
        from tests.stub_lms import b64decode

        claims = json.loads(b64decode(header_payload.split(".")[1]))
        return str(claims.get("preferred_username"))
    from tests.stub_lms import _Reply

    try:
        return stub._verify_jwt(f"{header_payload}.{signature}", service)
    except _Reply:
        return None


# The SSO client joins the stub's applications.
APPS[SSO_APP.client_id] = SSO_APP

__all__ = [
    "LEARNER",
    "MFE_ORIGIN",
    "SSO_APP",
    "SSO_REDIRECT_URI",
    "SSO_SECRET",
    "SignInSettings",
    "on_signin",
]
