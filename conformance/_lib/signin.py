"""Sign-in flows: the LMS login API (with CSRF, as the LMS's own login page sends it), the
authorization-code flow of the SSO clients (with PKCE S256), and the micro-frontends' JWT cookies.

The one place that signs in. The run's shared HTTP client keeps no cookies, so a `Browser` holds its
own jar and sends it explicitly; nothing it holds can leak into another check's requests. Every
session id, CSRF token, JWT cookie, authorization code and PKCE verifier it meets is registered with
the redactor before anything is recorded.

Facts about the platform (upstream sources in docs/clauses.md, sections openedx-login, openedx-cookies,
openedx-logout and edx-drf-cookies):
- login: `GET /csrf/api/v1/token` (edx-drf-extensions `CsrfTokenView`) gives the masked token and the
  `csrftoken` cookie; `POST /api/user/v2/account/login_session/` (openedx-platform
  `user_authn/views/login.py` `LoginSessionView.post`, `csrf_protect`) with `email_or_username`,
  `password` and `X-CSRFToken` answers `{"success": true}` and sets the session and JWT cookies
  (`user_authn/cookies.py` `set_logged_in_cookies`).
- `/oauth2/authorize` is DOT 1.7.1's `AuthorizationView` (login required first; fatal errors are
  rendered, never redirected); `/login_refresh` and `/logout` as in `user_authn/views`.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance._lib.diagnose import JWT_HEADER_PAYLOAD
from conformance._lib.http import Exchange, Http, HttpProblem
from conformance._lib.jwts import b64url
from conformance._lib.profile import Profile
from conformance._lib.redact import REDACTOR
from conformance._lib.registry import blocked
from conformance._lib.tokens import TokenFlows
from conformance._lib.verify import (
    ConformanceFailure,
    expect,
    expect_status,
    expect_token,
)

__all__ = [
    "AUTHORIZE_PATH",
    "JWT_HEADER_PAYLOAD",
    "JWT_SIGNATURE",
    "LOGIN_PATH",
    "LOGOUT_PATH",
    "REFRESH_PATH",
    "Authorized",
    "Browser",
    "Pkce",
    "SetCookie",
    "SignIn",
    "SignedIn",
    "cookie_covers",
    "parse_set_cookies",
]

# The checks that verify the shared sign-in flows once (their controls).
SIGNIN_CONTROL = "jwt-cookies.login.signs-in"
CODE_CONTROL = "authorization-code.redirect-uri.registered"
EXCHANGE_CONTROL = "authorization-code.exchange.token"
CSRF_PATH = "/csrf/api/v1/token"
LOGIN_PATH = "/api/user/v2/account/login_session/"
AUTHORIZE_PATH = "/oauth2/authorize"
REFRESH_PATH = "/login_refresh"
LOGOUT_PATH = "/logout"
# edx-drf-extensions setting JWT_AUTH_COOKIE_SIGNATURE (default); its header-payload twin is
# diagnose.JWT_HEADER_PAYLOAD.
JWT_SIGNATURE = "edx-jwt-cookie-signature"
# Cookies whose values are credentials: the session, CSRF secrets, the JWT halves.
_SECRET_COOKIE_WORDS = ("session", "csrf", "jwt", "token")


@dataclass(frozen=True)
class SetCookie:
    """One Set-Cookie header: the cookie and its attributes (lower-case names; flags are True)."""

    name: str
    value: str
    attrs: dict[str, str | bool]

    @property
    def httponly(self) -> bool:
        return "httponly" in self.attrs

    @property
    def secure(self) -> bool:
        return "secure" in self.attrs

    @property
    def samesite(self) -> str | None:
        value = self.attrs.get("samesite")
        return str(value) if value is not None else None

    @property
    def domain(self) -> str | None:
        value = self.attrs.get("domain")
        return str(value).lstrip(".").lower() if isinstance(value, str) and value else None

    @property
    def deleted(self) -> bool:
        """An instruction to drop the cookie: empty value, Max-Age <= 0 or an Expires in the past."""
        max_age = self.attrs.get("max-age")
        if isinstance(max_age, str) and max_age.lstrip("-").isdigit() and int(max_age) <= 0:
            return True
        expires = self.attrs.get("expires")
        if isinstance(expires, str):
            try:
                return parsedate_to_datetime(expires).timestamp() < 86400 * 365 * 30  # 1970-ish
            except (TypeError, ValueError):
                pass
        return self.value in ("", '""')

    def describe(self) -> str:
        flags = "; ".join(k if v is True else f"{k}={v}" for k, v in self.attrs.items())
        return f"{self.name}=<value>; {flags}" if flags else f"{self.name}=<value>"


def parse_set_cookies(ex: Exchange) -> dict[str, SetCookie]:
    """The cookies a response sets, by name (the last header wins, as in a browser)."""
    found: dict[str, SetCookie] = {}
    for header in ex.headers.get_list("set-cookie"):
        first, *rest = header.split(";")
        name, _, value = first.strip().partition("=")
        attrs: dict[str, str | bool] = {}
        for part in rest:
            key, eq, val = part.strip().partition("=")
            if key:
                attrs[key.lower()] = val.strip() if eq else True
        cookie = SetCookie(name.strip(), value.strip(), attrs)
        if any(word in cookie.name.lower() for word in _SECRET_COOKIE_WORDS):
            REDACTOR.add(cookie.value)
        found[cookie.name] = cookie
    return found


def cookie_covers(cookie: SetCookie, request_host: str, host: str) -> bool:
    """Whether a browser sends `cookie` (set by `request_host`) to `host` (RFC 6265 5.1.3, 5.3):
    a host-only cookie goes back to the same host only, a Domain cookie to that domain and below."""
    host, request_host = host.lower(), request_host.lower()
    if cookie.domain is None:
        return host == request_host
    return host == cookie.domain or host.endswith("." + cookie.domain)


class Browser:
    """A user agent signed in (or not) at the LMS: its own cookie jar, sent explicitly."""

    def __init__(self, http: Http, profile: Profile) -> None:
        self.http = http
        self.profile = profile
        self.jar: dict[str, str] = {}

    def send(
        self,
        method: str,
        path: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        opted_in: bool = False,
    ) -> Exchange:
        """One request with this browser's cookies (or exactly `cookies`); the jar takes what the
        response sets only when it was the jar that was sent. `opted_in`: a probe the profile asked
        for, meant to exceed a rate limit (counted, not held to the request budget)."""
        jar = dict(self.jar) if cookies is None else dict(cookies)  # a copy: other threads may set
        sent = dict(headers or {})
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        ex = self.http.request(
            method, path, headers=sent, data=data, params=params, expect_rate_limit=opted_in
        )
        for cookie in parse_set_cookies(ex).values():
            if cookies is None:
                if cookie.deleted:
                    self.jar.pop(cookie.name, None)
                else:
                    self.jar[cookie.name] = cookie.value
        return ex

    def jwt_cookies(self) -> dict[str, str]:
        """Only the two JWT cookies, as an MFE's request to a service carries them."""
        return {k: v for k, v in dict(self.jar).items() if k in (JWT_HEADER_PAYLOAD, JWT_SIGNATURE)}


@dataclass
class SignedIn:
    """A browser after a successful login: the login exchange and the cookies it set."""

    browser: Browser
    login: Exchange
    cookies: dict[str, SetCookie]

    def jwt(self) -> str:
        """The JWT the two cookies reassemble to (JwtAuthCookieMiddleware: header.payload + '.' + sig)."""
        return f"{self.browser.jar.get(JWT_HEADER_PAYLOAD, '')}.{self.browser.jar.get(JWT_SIGNATURE, '')}"


@dataclass(frozen=True)
class Pkce:
    """A PKCE pair (RFC 7636 4.1-4.2): a 64-character verifier and its S256 (or plain) challenge."""

    verifier: str
    method: str = "S256"

    @classmethod
    def new(cls, method: str = "S256") -> Pkce:
        verifier = secrets.token_urlsafe(48)
        REDACTOR.add(verifier)
        return cls(verifier, method)

    @property
    def challenge(self) -> str:
        if self.method == "plain":
            return self.verifier
        return b64url(hashlib.sha256(self.verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class Authorized:
    """The answer to an authorization request: where it redirects, and the parameters it carries."""

    exchange: Exchange
    redirect_uri: str
    state: str

    @property
    def location(self) -> str | None:
        if 300 <= self.exchange.status < 400:
            return self.exchange.headers.get("location")
        return None

    @property
    def params(self) -> dict[str, str]:
        if not self.location:
            return {}
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.location).query, keep_blank_values=True).items()}

    @property
    def code(self) -> str | None:
        return self.params.get("code")

    def redirects_to(self, uri: str) -> bool:
        """The browser is sent to `uri` (same scheme, host, port and path), whatever the query."""
        if not self.location:
            return False
        got, want = urlsplit(self.location), urlsplit(uri)
        return (got.scheme, got.netloc.lower(), got.path) == (want.scheme, want.netloc.lower(), want.path)

    def describe(self) -> str:
        if self.location is None:
            return f"HTTP {self.exchange.status} (no redirect): {self.exchange.text[:200]}"
        return f"HTTP {self.exchange.status} to {REDACTOR.redact(self.location)}"


class SignIn:
    """The run's sign-in flows: one shared signed-in browser, authorization requests, code exchange."""

    def __init__(self, http: Http, profile: Profile, tokens: TokenFlows) -> None:
        self.http = http
        self.profile = profile
        self.tokens = tokens
        self._lock = threading.Lock()
        self._authorizing = threading.Lock()
        self._shared: SignedIn | ConformanceFailure | HttpProblem | None = None
        self._ended = False  # a check's own sign-in ended the shared session
        self._authorized: dict[str, Authorized] = {}
        self._exchanged: dict[str, tuple[str, Exchange, dict[str, Any]] | ConformanceFailure] = {}

    @property
    def credentials(self) -> tuple[str, str]:
        login = self.profile.login
        assert login is not None
        return login["username"], login["password"]

    def sign_in(self) -> SignedIn:
        """A session of the check's own: a fresh browser signs in as `[login]`. The LMS keeps one
        session per user (PREVENT_CONCURRENT_LOGINS: a new login deletes the previous session), so
        the shared session is signed in again before it is next used."""
        self.shared()  # the control first: blocked, not failed, when signing in fails
        session = self._sign_in()
        with self._lock:
            self._ended = True
        return session

    def _sign_in(self) -> SignedIn:
        """A fresh browser signs in as `[login]` the way the LMS's login page does: CSRF token
        first, then the login API with it (same-origin Origin and Referer)."""
        browser = Browser(self.http, self.profile)
        token_ex = browser.send("GET", CSRF_PATH)
        requirement = "the test user ([login]) signs in through the LMS's login API"
        expect_status(token_ex, 200, f"{requirement}: GET {CSRF_PATH} gives a CSRF token")
        body = token_ex.json()
        token = body.get("csrfToken") if isinstance(body, dict) else None
        expect(isinstance(token, str) and bool(token), requirement, "a csrfToken", token_ex.text[:100])
        REDACTOR.add(str(token))
        username, password = self.credentials
        origin = self.profile.base_url
        login = browser.send(
            "POST",
            LOGIN_PATH,
            data={"email_or_username": username, "password": password},
            headers={"X-CSRFToken": str(token), "Origin": origin, "Referer": f"{origin}/login"},
        )
        expect_status(login, 200, requirement, rs512_signed=True)  # the JWT cookies are RS512
        answer = login.json()
        expect(
            isinstance(answer, dict) and answer.get("success") is True,
            requirement,
            '{"success": true}',
            login.text[:200],
        )
        return SignedIn(browser, login, parse_set_cookies(login))

    def try_login(self, username: str, password: str, *, opted_in: bool = False) -> Exchange:
        """One login attempt by a fresh browser, as `sign_in` sends it, whatever the answer."""
        browser = Browser(self.http, self.profile)
        token_ex = browser.send("GET", CSRF_PATH, opted_in=opted_in)
        body = token_ex.json()
        token = str(body.get("csrfToken", "")) if isinstance(body, dict) else ""
        REDACTOR.add(token)
        origin = self.profile.base_url
        return browser.send(
            "POST",
            LOGIN_PATH,
            data={"email_or_username": username, "password": password},
            headers={"X-CSRFToken": token, "Origin": origin, "Referer": f"{origin}/login"},
            opted_in=opted_in,
        )

    def shared(self, *, verdict: bool = False) -> SignedIn:
        """The run's one signed-in browser (checks that only read it share it). A login that failed,
        or got no answer, is tried once a run: the control (`jwt-cookies.login.signs-in`, with
        `verdict=True`) reports it, and every other case that needs it is blocked by it. A session
        that a check's own sign-in ended is replaced by a new one."""
        with self._lock:
            if self._shared is None or (self._ended and isinstance(self._shared, SignedIn)):
                self._ended = False
                self._authorized.clear()
                try:
                    self._shared = self._sign_in()
                except (ConformanceFailure, HttpProblem) as failure:
                    self._shared = failure
            shared = self._shared
        if isinstance(shared, ConformanceFailure) and not verdict:
            blocked(SIGNIN_CONTROL, f"the test user cannot sign in: {shared.requirement}: {shared.actual}")
        if isinstance(shared, ConformanceFailure | HttpProblem):
            raise shared
        return shared

    def authorize(
        self,
        client: Mapping[str, Any],
        *,
        redirect_uri: str | None = None,
        response_type: str = "code",
        state: str | None = None,
        pkce: Pkce | None = None,
        browser: Browser | None = None,
    ) -> Authorized:
        """`GET /oauth2/authorize` for an SSO client, signed in; redirects are never followed."""
        browser = browser or self.shared().browser
        uri = client["redirect_uri"] if redirect_uri is None else redirect_uri
        state = state if state is not None else secrets.token_urlsafe(12)
        params = {"client_id": client["client_id"], "response_type": response_type, "redirect_uri": uri}
        params["state"] = state
        if pkce is not None:
            params.update(code_challenge=pkce.challenge, code_challenge_method=pkce.method)
        answer = Authorized(browser.send("GET", AUTHORIZE_PATH, params=params), uri, state)
        if answer.code:
            REDACTOR.add(answer.code)
        return answer

    def authorized(self, client: Mapping[str, Any]) -> Authorized:
        """The run's one authorization request with the registered redirect URI and a state that
        needs encoding (shared by the checks that only read its answer)."""
        key = str(client["client_id"])
        with self._authorizing:  # one request, however many cases ask at once (--concurrency)
            with self._lock:
                hit = self._authorized.get(key)
            if hit is None:
                hit = self.authorize(client, state="xyz/+= &?" + secrets.token_hex(4))
                with self._lock:
                    self._authorized[key] = hit
        return hit

    def require_code(self, client: Mapping[str, Any]) -> Authorized:
        """The run's one authorization request (`authorized`), blocked by its control
        (authorization-code.redirect-uri.registered) when it got no code at the registered URI."""
        control = self.authorized(client)
        if not (control.redirects_to(str(client["redirect_uri"])) and control.code):
            blocked(
                f"{CODE_CONTROL}[{client['name']}]",
                f"{client['name']} gets no authorization code for its registered redirect URI: "
                + control.describe(),
            )
        return control

    def code(self, client: Mapping[str, Any], pkce: Pkce | None = None) -> tuple[Authorized, str]:
        """A fresh authorization code for the client (a failure says why none came back). Blocked
        when the control (the run's one authorization request, `authorized`) got no code."""
        self.require_code(client)
        answer = self.authorize(client, pkce=pkce)
        expect(
            answer.redirects_to(str(client["redirect_uri"])) and bool(answer.code),
            f"the LMS issues an authorization code to {client['name']} for its registered redirect URI",
            "a redirect to the registered redirect URI with a code",
            answer.describe(),
        )
        return answer, str(answer.code)

    def exchanged(
        self, client: Mapping[str, Any], *, verdict: bool = False
    ) -> tuple[str, Exchange, dict[str, Any]]:
        """The control of the client's code exchange, once a run: a code for the registered
        redirect URI (no PKCE), its exchange and the token response's body, shared by the check
        that judges the exchange and the one that sends the code again (each sees the exchange in
        its report). Its check (`authorization-code.exchange.token`, `verdict=True`) reports a
        failure; the other exchange checks are blocked by it."""
        key = str(client["client_id"])
        with self._lock:
            hit = self._exchanged.get(key)
        if hit is None:
            _, code = self.code(client)
            exchange = self.exchange(client, code)
            try:
                hit = (code, exchange, expect_token(exchange, "the code is exchanged for a token"))
            except ConformanceFailure as failure:
                failure.cause = failure.cause or f"sso-exchange:{client['name']}"
                hit = failure
            with self._lock:
                hit = self._exchanged.setdefault(key, hit)
        elif not isinstance(hit, ConformanceFailure):
            self.http.replay(hit[1])
        if isinstance(hit, ConformanceFailure):
            if not verdict:
                blocked(
                    f"{EXCHANGE_CONTROL}[{client['name']}]",
                    f"{client['name']}'s code is not exchanged for a token: {hit.actual}",
                )
            raise hit
        return hit

    def exchange(
        self,
        client: Mapping[str, Any],
        code: str,
        *,
        redirect_uri: str | None = None,
        verifier: str | None = None,
        client_id: str | None = None,
        secret: str | None = None,
    ) -> Exchange:
        """The code exchange at the token endpoint (grant_type=authorization_code, token_type=jwt),
        client_id and client_secret in the body as the services send them: auth-backends'
        EdXOAuth2.auth_complete_params adds token_type=jwt to social-core's BaseOAuth2 parameters,
        which carry the client credentials in the body (USE_BASIC_AUTH off)."""
        fields = {
            "code": code,
            "redirect_uri": client["redirect_uri"] if redirect_uri is None else redirect_uri,
        }
        if verifier is not None:
            fields["code_verifier"] = verifier
        return self.tokens.request(
            "authorization_code",
            auth="body",
            client_id=client["client_id"] if client_id is None else client_id,
            secret=client["client_secret"] if secret is None else secret,
            extra=fields,
        )
