"""Token flows: the one helper that asks the token endpoint for tokens, and the run's token cache."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest

from conformance._lib.http import Exchange, Http, HttpProblem
from conformance._lib.profile import Profile
from conformance._lib.redact import REDACTOR
from conformance._lib.registry import blocked
from conformance._lib.verify import ConformanceFailure, expect_token, fail

__all__ = [
    "ASYMMETRIC_CONTROL",
    "PASSWORD_CONTROL",
    "SHARED_CONTROL",
    "Issued",
    "TokenFlows",
    "basic_header",
    "export_shared",
    "import_shared",
]

# The checks that verify the shared flows once (their controls): a case that only needs a shared
# token is *blocked* by the control when the flow fails, and the control alone fails.
SHARED_CONTROL = "token-endpoint.client-credentials.body-auth"
PASSWORD_CONTROL = "token-endpoint.password.grant"
ASYMMETRIC_CONTROL = "jwt.header.alg[asymmetric]"


@dataclass(frozen=True)
class Issued:
    """A successful token response: the exchange, its JSON body and the access token."""

    exchange: Exchange
    body: dict[str, Any]

    @property
    def token(self) -> str:
        return str(self.body["access_token"])

    @property
    def refresh_token(self) -> str | None:
        value = self.body.get("refresh_token")
        return value if isinstance(value, str) else None

    def expect_refresh_token(self, requirement: str) -> str:
        """The refresh token the response carries; without one, a failure of `requirement`."""
        if self.refresh_token is None:
            fail(requirement, "refresh_token", "none")
        return self.refresh_token


class TokenFlows:
    """Builds token requests from the profile; caches the tokens that checks may share."""

    def __init__(self, http: Http, profile: Profile) -> None:
        self.http = http
        self.profile = profile
        self.path = profile.data["token_path"]
        self.revoke_path = profile.data["revoke_path"]
        self._cache: dict[str, Issued | ConformanceFailure] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        # The run's positive controls of profile key material (conformance._lib.controls).
        self.controls: dict[str, Any] = {}
        self._errors: dict[str, Exchange] = {}
        self._wrong: str | None = None
        self._wrong_lock = threading.Lock()

    @property
    def client_id(self) -> str:
        return str(self.profile.data["client"]["id"])

    @property
    def client_secret(self) -> str:
        return str(self.profile.data["client"]["secret"])

    def request(
        self,
        grant_type: str | None = "client_credentials",
        *,
        auth: str = "body",
        client_id: str | None = None,
        secret: str | None = None,
        token_type: str | None = "jwt",
        asymmetric: bool = False,
        scope: str | None = None,
        extra: Mapping[str, str] | None = None,
        fields: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Exchange:
        """One token request. auth: "body" (id+secret in the form, as the edX API guide sends
        them: the default), "basic" (HTTP Basic), "id" (public client: client_id only) or "none".
        A request that authenticates in the body is blocked by the shared flow's control when that
        flow gets no token: whatever it answers then says nothing about what the case checks."""
        if auth == "body":
            self.jwt()
        return self._request(
            grant_type,
            auth=auth,
            client_id=client_id,
            secret=secret,
            token_type=token_type,
            asymmetric=asymmetric,
            scope=scope,
            extra=extra,
            fields=fields,
            headers=headers,
            method=method,
            content=content,
            params=params,
        )

    def _request(
        self,
        grant_type: str | None,
        *,
        auth: str,
        client_id: str | None,
        secret: str | None,
        token_type: str | None,
        asymmetric: bool,
        scope: str | None,
        extra: Mapping[str, str] | None,
        fields: list[tuple[str, str]] | None,
        headers: Mapping[str, str] | None,
        method: str,
        content: bytes | None,
        params: Mapping[str, str] | None,
    ) -> Exchange:
        client_id = self.client_id if client_id is None else client_id
        secret = self.client_secret if secret is None else secret
        form: list[tuple[str, str]] = []
        if grant_type is not None:
            form.append(("grant_type", grant_type))
        if token_type is not None:
            form.append(("token_type", token_type))
        if asymmetric:
            form.append(("asymmetric_jwt", "true"))
        if scope is not None:
            form.append(("scope", scope))
        basic = None
        if auth == "basic":
            basic = (client_id, secret)
        elif auth == "body":
            form += [("client_id", client_id), ("client_secret", secret)]
        elif auth == "id":
            form.append(("client_id", client_id))
        form += list((extra or {}).items()) + list(fields or [])
        if content is not None:
            return self.http.request(
                method, self.path, content=content, headers=headers, auth=basic, params=params
            )
        return self.http.request(
            method, self.path, data=form or None, headers=headers, auth=basic, params=params
        )

    def password_request(
        self, *, username: str | None = None, password: str | None = None, **kw: Any
    ) -> Exchange:
        grant = self.profile.data["password_grant"]
        fields = {
            "username": grant["username"] if username is None else username,
            "password": grant["password"] if password is None else password,
        }
        fields = {k: v for k, v in fields.items() if v != ""}
        return self.request("password", auth="id", client_id=grant["client_id"], extra=fields, **kw)

    def issued(self) -> list[Exchange]:
        """The token requests behind the run's shared tokens (a reproduction obtains them again)."""
        return [hit.exchange for hit in list(self._cache.values()) if isinstance(hit, Issued)]

    def _cached(
        self,
        key: str,
        fetch: Callable[[], Exchange],
        requirement: str,
        *,
        control: str = "",
        verdict: bool = False,
    ) -> Issued:
        """The shared token `key`, fetched once. When the fetch failed, the `control` check
        (`verdict=True`) gets the failure; every other case is blocked by it."""
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:  # one fetch per key; different keys may be fetched at the same time
            hit = self._cache.get(key)
            if hit is None:
                try:
                    ex = fetch()
                    hit = Issued(ex, expect_token(ex, requirement))
                except ConformanceFailure as failure:
                    hit = failure
                self._cache[key] = hit
        if isinstance(hit, ConformanceFailure):
            if control and not verdict:
                blocked(control, f"{requirement}: {hit.requirement}: {hit.actual}")
            raise hit
        return hit

    def _body_request(
        self,
        *,
        grant_type: str = "client_credentials",
        auth: str = "body",
        secret: str | None = None,
        scope: str | None = None,
        token_type: str | None = "jwt",
        asymmetric: bool = False,
    ) -> Exchange:
        """A token request of the client's own that bypasses `request`'s shared-flow guard: the
        shared flow's request itself (client_credentials, id and secret in the body) and the shared
        refused requests, which `shared_error` sends under the run's lock after passing the guard."""
        return self._request(
            grant_type,
            auth=auth,
            client_id=None,
            secret=secret,
            token_type=token_type,
            asymmetric=asymmetric,
            scope=scope,
            extra=None,
            fields=None,
            headers=None,
            method="POST",
            content=None,
            params=None,
        )

    def jwt_works(self) -> bool:
        """Whether the shared flow (credentials in the form body) obtains a token."""
        try:
            self.jwt(verdict=True)
        except ConformanceFailure:
            return False
        return True

    # Shared tokens: fetched once per run (per worker), reused by every check that only reads them.
    # Client credentials go in the form body, the flow of the edX API guide; HTTP Basic has its own
    # cases (token-endpoint.client-credentials.basic-auth, bad-credentials.basic.*).
    def jwt(self, *, verdict: bool = False) -> Issued:
        return self._cached(
            "jwt",
            lambda: self._body_request(),
            "client_credentials with the client's id and secret in the form body issues a JWT",
            control=SHARED_CONTROL,
            verdict=verdict,
        )

    def asymmetric_jwt(self, *, verdict: bool = False) -> Issued:
        if not self.jwt_works():  # the shared flow fails: that is the one finding
            blocked(
                SHARED_CONTROL, "client_credentials with the client's id and secret in the body gets no token"
            )
        return self._cached(
            "asymmetric",
            lambda: self._body_request(asymmetric=True),
            "client_credentials with asymmetric_jwt issues a token",
            control=ASYMMETRIC_CONTROL,  # verified by jwt.header.alg[asymmetric]
            verdict=verdict,
        )

    def bearer(self) -> Issued:
        return self._cached(
            "bearer",
            lambda: self._body_request(token_type=None),
            "client_credentials without token_type issues an opaque token",
            control="" if self.jwt_works() else SHARED_CONTROL,
        )

    def password_jwt(self, *, verdict: bool = False) -> Issued:
        return self._cached(
            "password",
            lambda: self.password_request(),
            "the password grant with good credentials issues a token",
            control=PASSWORD_CONTROL,
            verdict=verdict,
        )

    def refresh_jwt(self) -> Issued:
        """A JWT from the refresh_token grant, made with the shared password token's refresh token
        (one more token request per run; that refresh token is then rotated away)."""

        def fetch() -> Exchange:
            refresh_token = self.password_jwt().refresh_token
            if refresh_token is None:  # token-endpoint.password.grant reports it
                blocked(PASSWORD_CONTROL, "the password grant returns no refresh_token to refresh")
            return self.refresh(str(refresh_token))

        return self._cached("refresh", fetch, "the refresh_token grant issues a new token")

    # The refused requests that several checks judge, each sent once per run: "400" an unknown
    # grant_type, "invalid_scope" a scope no application has, "401" a wrong secret in HTTP Basic,
    # "401-body" the same wrong secret in the form body. The wrong secret is long and random (the
    # near miss "a long random string" of the secret variants), and no part of the real one.
    SHARED_ERRORS = ("400", "invalid_scope", "401", "401-body")
    UNKNOWN_GRANT = "x_unknown_grant"
    UNKNOWN_SCOPE = "x_unknown_scope:nope"

    def shared_error(self, kind: str) -> Exchange:
        """The run's one refused token request of a kind (SHARED_ERRORS), shown again to each case
        that reads it (its report and curl line)."""
        if kind in ("400", "invalid_scope", "401-body"):
            self.jwt()  # (outside the lock) blocked with the shared flow, whose credentials it sends
        with self._lock:
            hit = self._errors.get(kind)
            if hit is None:
                if kind == "400":
                    hit = self._body_request(grant_type=self.UNKNOWN_GRANT)
                elif kind == "invalid_scope":
                    hit = self._body_request(scope=self.UNKNOWN_SCOPE)
                elif kind == "401":
                    hit = self._body_request(auth="basic", secret=self.wrong_secret)
                elif kind == "401-body":
                    hit = self._body_request(secret=self.wrong_secret)
                else:
                    raise ValueError(f"no shared error {kind!r}; one of {self.SHARED_ERRORS}")
                self._errors[kind] = hit
                return hit
        return self.http.replay(hit)

    @property
    def wrong_secret(self) -> str:
        """The run's wrong client secret (for the shared 401s), registered for redaction."""
        with self._wrong_lock:
            if self._wrong is None:
                self._wrong = _wrong_secret(self.client_secret)
                REDACTOR.add_client(self.client_id, self._wrong)
            return self._wrong

    def second_bearer(self) -> Issued:
        """A second opaque token (after `bearer`): one check compares the two, another revokes
        this one (nothing else reads it)."""
        return self._cached(
            "bearer-2",
            lambda: self.request(auth="body", token_type=None),
            "client_credentials without token_type issues a second opaque token",
        )

    def body_jwt(self) -> Issued:
        """A second JWT from the shared flow's request, for the check that revokes it (nothing else
        reads it; cached so that a reproduction of that case obtains it again)."""
        return self._cached(
            "body-jwt",
            lambda: self.request(auth="body"),
            "client_id and client_secret in the body are accepted",
        )

    def refresh(self, refresh_token: str) -> Exchange:
        """The refresh_token grant, by the public password-grant client that obtained the token."""
        client_id = self.profile.data["password_grant"]["client_id"]
        return self.request(
            "refresh_token", auth="id", client_id=client_id, extra={"refresh_token": refresh_token}
        )

    def revoke(
        self,
        token: str,
        *,
        hint: str | None = None,
        auth: str = "body",
        fields: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> Exchange:
        if auth == "body":
            self.jwt()  # blocked with the shared flow: the same credentials in the same place
        form = {} if fields is not None else {"token": token}
        form.update(fields or {})
        if hint:
            form["token_type_hint"] = hint
        basic = None
        if auth == "basic":
            basic = (self.client_id, self.client_secret)
        elif auth == "body":
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        elif auth == "public":  # the password-grant client: public, it sends its id only
            form["client_id"] = self.profile.data["password_grant"]["client_id"]
        return self.http.request(method, self.revoke_path, data=form, auth=basic)


def _wrong_secret(secret: str) -> str:
    """A long random secret (64 characters) that is not the client's (nothing derived from it)."""
    wrong = secrets.token_urlsafe(48)
    return wrong if wrong != secret else wrong + "x"


def basic_header(client_id: str, secret: str | None) -> dict[str, str]:
    """An Authorization: Basic header built as RFC 6749 2.3.1 says (form-urlencoded id and secret);
    with `secret` None, the id alone and no colon (credentials without a secret)."""
    pair = quote_plus(client_id) + ("" if secret is None else ":" + quote_plus(secret))
    if secret:
        REDACTOR.add_client(client_id, secret)
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def export_shared(flows: TokenFlows) -> list[dict[str, Any]]:
    """Fetch the shared tokens once (the --workers controller) and describe them for the workers.
    Only successes travel: a worker whose token is missing fetches it itself and reports why."""
    wanted: dict[str, Callable[[], Issued]] = {"jwt": flows.jwt, "asymmetric": flows.asymmetric_jwt}
    if flows.profile.get("expect", "opaque_tokens"):
        wanted["bearer"] = flows.bearer
    if flows.profile.has_password_grant:
        wanted["password"] = flows.password_jwt
        wanted["refresh"] = flows.refresh_jwt

    def attempt(fetch: Callable[[], Issued]) -> Issued | None:
        try:
            return fetch()
        except (ConformanceFailure, HttpProblem, pytest.skip.Exception):  # blocked by a control
            return None

    # Concurrently: against a remote instance this costs one round trip, not four.
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        results = dict(zip(wanted, pool.map(attempt, wanted.values()), strict=True))
    shared: list[dict[str, Any]] = _export_controls(flows)
    for key, issued in results.items():
        if issued is not None:
            shared.append({"key": key, "body": issued.body, "exchange": _dump(issued.exchange)})
    for kind in flows.SHARED_ERRORS:  # the refused responses several checks judge
        try:
            shared.append({"error": kind, "exchange": _dump(flows.shared_error(kind))})
        except HttpProblem:
            continue
    if flows._wrong is not None:  # the 401s' secret: a check looks for it echoed in the body
        shared.append({"wrong_secret": flows._wrong})
    return shared


def _dump(ex: Exchange) -> dict[str, Any]:
    return {
        "method": ex.method,
        "url": ex.url,
        "request_headers": ex.request_headers,
        "request_body": base64.b64encode(ex.request_body).decode(),
        "status": ex.status,
        "headers": list(ex.headers.multi_items()),
        "body": base64.b64encode(ex.body).decode(),
        "elapsed_ms": ex.elapsed_ms,
    }


def _load(ex: dict[str, Any]) -> Exchange:
    return Exchange(
        method=ex["method"],
        url=ex["url"],
        request_headers=dict(ex["request_headers"]),
        request_body=base64.b64decode(ex["request_body"]),
        status=ex["status"],
        headers=httpx.Headers(ex["headers"]),
        body=base64.b64decode(ex["body"]),
        elapsed_ms=ex["elapsed_ms"],
    )


def _export_controls(flows: TokenFlows) -> list[dict[str, Any]]:
    """The positive controls of the profile's key material, computed once for every worker (they
    use the shared tokens, so they run after them)."""
    from conformance._lib.controls import hs256_control, jwks_control
    from conformance._lib.jwts import load_jwks

    profile, exported = flows.profile, []
    runs: dict[str, Callable[[], Any]] = {}
    if profile.get("jwt", "hs256_secret"):
        runs["hs256"] = lambda: hs256_control(flows)
    if profile.get("jwt", "jwks"):
        runs["jwks"] = lambda: jwks_control(flows, load_jwks(profile, flows.http))
    for name, run in runs.items():
        try:
            control = run()
        except (ConformanceFailure, HttpProblem, pytest.skip.Exception):
            continue  # the workers find out again and report it
        exported.append(
            {
                "control": name,
                "key": control.key,
                "state": control.state,
                "detail": control.detail,
                "offline": control.offline,
            }
        )
    return exported


def import_shared(flows: TokenFlows, shared: list[dict[str, Any]]) -> None:
    """A worker takes the controller's shared tokens instead of asking the instance again."""
    from conformance._lib.controls import KeyControl

    for entry in shared:
        if "wrong_secret" in entry:
            flows._wrong = entry["wrong_secret"]
            REDACTOR.add_client(flows.client_id, flows._wrong)
            continue
        if "control" in entry:
            flows.controls[entry["control"]] = KeyControl(
                entry["key"], entry["state"], entry["detail"], entry["offline"]
            )
            continue
        exchange = _load(entry["exchange"])
        if "error" in entry:
            flows._errors[entry["error"]] = exchange
            continue
        Http._register_tokens(exchange)
        flows._cache[entry["key"]] = Issued(exchange, dict(entry["body"]))
