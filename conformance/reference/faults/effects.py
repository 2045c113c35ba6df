"""What a fault does, where the fault is data: a header dropped or set, a status, error code or
response member rewritten, a JWT claim removed or shifted, a Django setting changed.

A fault entry lists its effects (``Fault.effects``); the LMS applies them in one place each: the
request and response effects in ``lms/middleware.py``'s ``FaultEffectsMiddleware`` (outermost,
where a proxy or gateway sits), the claim effects in the JWT builder (``lms/jwt.py``), the settings
in ``lms_settings.py``. Nothing here imports Django: the functions below work on plain values, so
the unit tests read the same effects the servers apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Place:
    """Where on the LMS an effect applies: exact paths, or every path under a prefix."""

    name: str
    paths: tuple[str, ...] = ()
    prefix: str = ""

    def matches(self, path: str) -> bool:
        return path in self.paths or bool(self.prefix and path.startswith(self.prefix))


TOKEN = Place("token endpoint", paths=("/oauth2/access_token", "/oauth2/access_token/"))
OAUTH = Place("OAuth endpoints", prefix="/oauth2/")
API = Place("LMS API", prefix="/api/")
USER_API = Place("user API", prefix="/api/user/")
LOGIN_API = Place("login API", paths=("/api/user/v2/account/login_session/",))


@dataclass(frozen=True)
class RequestHeaderDropped:
    """A request header the front never passes on (a proxy rule, mod_wsgi's default)."""

    place: Place
    header: str


@dataclass(frozen=True)
class Answered:
    """The front answers a request itself (a WAF rule): the LMS never sees it."""

    place: Place
    method: str
    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class ResponseHeaderDropped:
    """A response header the client never sees; ``statuses`` empty: on every status."""

    place: Place
    header: str
    statuses: tuple[int, ...] = ()


@dataclass(frozen=True)
class ResponseHeaderSet:
    """A response header replaced; ``errors_only``: only on answers with status 400 and above."""

    place: Place
    header: str
    value: str
    errors_only: bool = False


@dataclass(frozen=True)
class StatusRewritten:
    """A JSON error answer's status rewritten (``error`` empty: whatever its error code)."""

    place: Place
    statuses: tuple[int, ...]
    to: int
    error: str = ""


@dataclass(frozen=True)
class ErrorRewritten:
    """A JSON error answer's ``error`` code replaced."""

    place: Place
    error: str
    to: str


@dataclass(frozen=True)
class MemberChanged:
    """A member of a successful token response (status 200 with an ``access_token``) changed: given
    as a JSON string, split into a list, or dropped."""

    place: Place
    member: str
    change: Literal["string", "list", "drop"]


@dataclass(frozen=True)
class ClaimsRemoved:
    """Claims the JWT builder leaves out of every JWT it signs."""

    claims: tuple[str, ...]


@dataclass(frozen=True)
class ClaimsShifted:
    """Time claims of every JWT moved by ``seconds`` (a host clock that runs fast or slow)."""

    claims: tuple[str, ...]
    seconds: int


@dataclass(frozen=True)
class Setting:
    """A Django setting of the LMS changed: the whole setting, or one ``key`` of a dict setting."""

    name: str
    value: Any
    key: str = ""


Effect = (
    RequestHeaderDropped
    | Answered
    | ResponseHeaderDropped
    | ResponseHeaderSet
    | StatusRewritten
    | ErrorRewritten
    | MemberChanged
    | ClaimsRemoved
    | ClaimsShifted
    | Setting
)


_RESPONSE_EFFECTS = (ResponseHeaderDropped, ResponseHeaderSet, StatusRewritten, ErrorRewritten, MemberChanged)


def dropped_request_headers(effects: Iterable[Effect], path: str) -> list[str]:
    return [e.header for e in effects if isinstance(e, RequestHeaderDropped) and e.place.matches(path)]


def answer(effects: Iterable[Effect], method: str, path: str) -> Answered | None:
    for effect in effects:
        if isinstance(effect, Answered) and effect.method == method and effect.place.matches(path):
            return effect
    return None


def rewrite_response(
    effects: Iterable[Effect],
    path: str,
    status: int,
    headers: MutableMapping[str, str],
    content: bytes,
) -> tuple[int, bytes | None]:
    """The response the client gets: its status and, when the effects changed its JSON body, the new
    body (None: the body is unchanged). ``headers`` (case-insensitive, as Django's) is edited in
    place. Header effects act before the status rewrites, the content type after them."""
    effects = [e for e in effects if isinstance(e, _RESPONSE_EFFECTS) and e.place.matches(path)]
    if not effects:
        return status, None
    for effect in effects:
        if isinstance(effect, ResponseHeaderDropped) and effect.header in headers:
            if not effect.statuses or status in effect.statuses:
                del headers[effect.header]
    body = _json_body(headers, content)
    original = dict(body) if body is not None else None
    if body is not None:
        if status == 200 and "access_token" in body:
            for effect in effects:
                if isinstance(effect, MemberChanged) and effect.member in body:
                    _change_member(body, effect)
        error = body.get("error")
        if error is not None:
            for effect in effects:
                if isinstance(effect, ErrorRewritten) and error == effect.error:
                    body["error"] = effect.to
            for effect in effects:
                if isinstance(effect, StatusRewritten) and status in effect.statuses:
                    if not effect.error or effect.error == error:
                        status = effect.to
    for effect in effects:
        if isinstance(effect, ResponseHeaderSet) and (not effect.errors_only or status >= 400):
            headers[effect.header] = effect.value
    if body is None or body == original:
        return status, None
    return status, json.dumps(body).encode("utf-8")


def _change_member(body: dict[str, Any], effect: MemberChanged) -> None:
    value = body[effect.member]
    if effect.change == "drop":
        del body[effect.member]
    elif effect.change == "string":
        body[effect.member] = str(value)
    elif effect.change == "list" and isinstance(value, str):
        body[effect.member] = value.split()


def _json_body(headers: MutableMapping[str, str], content: bytes) -> dict[str, Any] | None:
    if not headers.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        body = json.loads(content.decode("utf-8"))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def apply_claims(effects: Iterable[Effect], payload: dict[str, Any]) -> None:
    """The claim effects on a JWT's payload, before it is signed."""
    for effect in effects:
        if isinstance(effect, ClaimsRemoved):
            for claim in effect.claims:
                payload.pop(claim, None)
        elif isinstance(effect, ClaimsShifted):
            for claim in effect.claims:
                if isinstance(payload.get(claim), int):
                    payload[claim] += effect.seconds


def apply_settings(effects: Iterable[Effect], namespace: MutableMapping[str, Any]) -> None:
    """The setting effects on a settings module's namespace (its ``globals()``)."""
    for effect in effects:
        if isinstance(effect, Setting):
            if effect.key:
                namespace[effect.name] = {**namespace[effect.name], effect.key: effect.value}
            else:
                namespace[effect.name] = effect.value
