"""The "reproduce with curl" line of an exchange: the request as sent, runnable in a shell.

Secrets never appear: a value that came from the profile's `${VAR}` is written as `"$VAR"` (so the
line runs once the operator exports the same variables as for the run). A token the run obtained
(an access token, a refresh token, the genuine signature under a tampered payload) is obtained
again by a curl line of its own, the token request that issued it, on a line before the request
(`ACCESS_TOKEN=$(curl ... | python3 -c ...)`): the lines run as pasted. Forged tokens are spelled
out: they are the test input, not a credential. A secret the line can neither name nor obtain gets
a named placeholder that says what to put there. Whatever is left still passes through the
redactor.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit

from conformance._lib.forge import FORGED, GENUINE
from conformance._lib.http import Exchange
from conformance._lib.profile import Profile
from conformance._lib.redact import REDACTOR

__all__ = ["curl_line"]

# A segment of one shell word: (kind, text). Kinds: "lit" literal text (redacted, quoted), "var" a
# variable (`"$NAME"`), "raw" text of the suite's own or a forged token (quoted, not redacted: no
# credential), "shell" a word already written for the shell.
Segment = tuple[str, str]
_SKIPPED_HEADERS = ("host", "content-length", "accept-encoding", "connection", "user-agent")
# Placeholders for secrets that did not come from a `${VAR}` of the profile.
_FALLBACK = {
    "client_secret": "CLIENT_SECRET",
    "password": "PASSWORD",
    "token": "TOKEN",
    "refresh_token": "REFRESH_TOKEN",
    "access_token": "ACCESS_TOKEN",
}
# Fields whose value is a token of the run, which an earlier token request issued.
_OBTAINABLE = {"token", "refresh_token", "access_token"}


class _Names:
    """Which literal stands for which variable in this profile, and which earlier exchange issued
    each token of the run (`sources`), so that a line can obtain it again."""

    def __init__(self, profile: Profile | None, sources: Iterable[Exchange] = ()) -> None:
        self.by_value: dict[str, str] = {}
        # Shell variables the line sets itself, each on a line of its own before the request: forged
        # tokens spelled out (`FORGED_TOKEN='eyJ...'`), where no credential shape can be read into
        # them, and tokens obtained again (`ACCESS_TOKEN=$(curl ...)`).
        self.assigned: dict[str, list[Segment]] = {}
        self.needed: set[str] = set()  # variables those lines use
        self.sources = list(sources)
        self.unobtainable: set[str] = set()  # placeholders no line sets: a value of this run
        if profile is None:
            return
        ids = {
            profile.get("client", "id"),
            profile.get("password_grant", "client_id"),
            profile.get("password_grant", "username"),
        }
        known = REDACTOR.known()
        for value, var in profile.placeholders.items():
            if value in known or value in ids:
                self.by_value[value] = var
        for section, key, var in (
            ("client", "secret", "CLIENT_SECRET"),
            ("password_grant", "password", "TEST_PASSWORD"),
            ("jwt", "hs256_secret", "JWT_SECRET"),
        ):
            value = profile.get(section, key)
            if isinstance(value, str) and value and value not in self.by_value:
                self.by_value[value] = var  # a literal secret in the profile: name it, never show it

    def fresh(self, base: str) -> str:
        """A variable name not yet set by this line."""
        n, name = 1, base
        while name in self.assigned:
            n += 1
            name = f"{base}_{n}"
        return name

    def obtain(
        self, token: str, base: str, *, signature: bool = False, depth: int = 0
    ) -> list[Segment] | None:
        """`"$NAME"` set by a line that asks the token endpoint again as the exchange that issued
        `token` did (its signature only, with `signature`), or None when no earlier exchange did."""
        for source in reversed(self.sources):
            body = source.json()
            if not isinstance(body, dict) or depth > 3:
                continue
            key = next((k for k in ("access_token", "refresh_token") if body.get(k) == token), None)
            if key is None:
                continue
            command = " ".join(_word(word) for word in _words(source, self, depth + 1, headers_out=False))
            pick = f'json.load(sys.stdin)["{key}"]' + ('.rsplit(".", 1)[1]' if signature else "")
            script = f"import json,sys; print({pick})"
            name = self.fresh(base)
            # In double quotes: `ACCESS_TOKEN=$(` would read as a credential to the report's
            # redaction pass, `ACCESS_TOKEN="$(` does not.
            self.assigned[name] = [("shell", f'"$({command} | python3 -c {shlex.quote(script)})"')]
            return [("var", name)]
        return None

    def placeholder(self, base: str) -> list[Segment]:
        self.unobtainable.add(base)
        return [("var", base)]

    def value(self, text: str, field: str = "", depth: int = 0) -> list[Segment]:
        """One value: its variable, a token obtained again, a forged token spelled out, or the text."""
        if text in self.by_value:
            return [("var", self.by_value[text])]
        if text in FORGED:
            spelled, rest = FORGED[text]
            rest_segments: list[Segment] = []
            if rest:
                genuine = GENUINE.get(text, "")
                obtained = self.obtain(genuine, rest, signature=True, depth=depth)
                rest_segments = obtained or self.placeholder(rest)
            name = self.fresh("FORGED_TOKEN")
            self.assigned[name] = [("raw", spelled), *rest_segments]
            return [("var", name)]
        if field in _FALLBACK and text and text in REDACTOR.known():
            if field in _OBTAINABLE:
                obtained = self.obtain(text, _FALLBACK[field], depth=depth)
                if obtained:
                    return obtained
            return self.placeholder(_FALLBACK[field] if field != "client_secret" else "WRONG_CLIENT_SECRET")
        return self.within(text)

    def within(self, text: str) -> list[Segment]:
        """Free text (a JSON body, a header): each profile value in it becomes its variable."""
        values = sorted((v for v in self.by_value if len(v) >= 4), key=len, reverse=True)
        if not values or not any(v in text for v in values):
            return [("lit", text)]
        pattern = re.compile("|".join(re.escape(v) for v in values))
        segments: list[Segment] = []
        last = 0
        for m in pattern.finditer(text):
            segments += [("lit", text[last : m.start()]), ("var", self.by_value[m.group(0)])]
            last = m.end()
        return [*segments, ("lit", text[last:])]


def _authorization(value: str, names: _Names, depth: int = 0) -> list[Segment] | None:
    """The Authorization header as segments, or None for Basic (which becomes `-u`)."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "basic":
        return None
    spelled = names.value(credentials, "access_token", depth)
    if spelled == [("lit", credentials)] and credentials in REDACTOR.known():
        spelled = names.obtain(credentials, "ACCESS_TOKEN", depth=depth) or names.placeholder("ACCESS_TOKEN")
    return [("raw", f"{scheme} "), *spelled]


def _basic(value: str, names: _Names) -> list[Segment]:
    try:
        decoded = base64.b64decode(value.partition(" ")[2], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return [("var", "BASIC_CREDENTIALS")]
    client_id, _, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    return [*names.value(client_id), ("raw", ":"), *names.value(secret, "client_secret")]


def _basic_words(value: str, names: _Names) -> list[list[Segment]]:
    """`-u id:secret`, or, when form-encoding changes either (RFC 6749 2.3.1 encodes both before
    base64, curl -u does not), the header computed in the shell from the same variables."""
    credentials = _basic(value, names)
    plain = [text for kind, text in credentials if kind != "var"]
    variables = [text for kind, text in credentials if kind == "var"]
    if len(variables) != 2 or plain != [":"]:
        return [[("lit", "-u")], credentials]
    encoded = base64.b64decode(value.partition(" ")[2]).decode("utf-8")  # valid: _basic decoded it
    if unquote_plus(encoded) == encoded:
        return [[("lit", "-u")], credentials]
    script = (
        "import base64,os,urllib.parse as u;"
        "q=lambda v:u.quote_plus(os.environ[v]);"
        f'print(base64.b64encode((q("{variables[0]}")+":"+q("{variables[1]}")).encode()).decode())'
    )
    # On a line of its own: after `Authorization:` the report's redaction pass masks all but a
    # quoted scheme name.
    computed: list[Segment] = [("shell", f"$(python3 -c {shlex.quote(script)})")]
    name = next((n for n, v in names.assigned.items() if v == computed), None) or names.fresh("BASIC_AUTH")
    names.assigned[name] = computed
    names.needed.update(variables)
    return [[("lit", "-H")], [("raw", "Authorization: Basic "), ("var", name)]]


_FLAG = re.compile(r"^-[A-Za-z-]+$|^[A-Z]+$|^curl$")  # curl, its options, the method


def _needs_quotes(text: str) -> bool:
    return not _FLAG.match(text)


def _word(segments: list[Segment], quoted: bool = False) -> str:
    merged: list[Segment] = []
    for kind, text in segments:
        if kind == "lit":  # redacted on its own, then quoted with the raw text around it
            kind, text = "raw", REDACTOR.redact(text)
        if merged and merged[-1][0] == kind == "raw":
            merged[-1] = (kind, merged[-1][1] + text)
        elif text:
            merged.append((kind, text))
    out = []
    for kind, text in merged:
        if kind == "var":
            out.append(f'"${text}"')
        elif kind == "shell":
            out.append(text)
        elif text:
            # Always quoted, even when the shell would not need it: the redaction pass over the
            # report reads `token_type=jwt http://...` as a JWT credential, never `'...=jwt' '...'`.
            out.append(
                "'" + text.replace("'", "'\"'\"'") + "'"
                if quoted or len(merged) > 1 or _needs_quotes(text)
                else text
            )
    return "".join(out) or "''"


def _query(url: str, names: _Names, depth: int = 0) -> list[Segment]:
    parts = urlsplit(url)
    base = url.split("?", 1)[0]
    if not parts.query:
        return [("lit", base)]
    segments: list[Segment] = [("lit", base + "?")]
    for i, (key, value) in enumerate(parse_qsl(parts.query, keep_blank_values=True)):
        segments.append(("lit", ("&" if i else "") + quote_plus(key) + "="))
        segments += [
            (kind, text if kind == "var" else quote(text, safe=""))
            for kind, text in names.value(value, key, depth)
        ]
    return segments


def _words(
    exchange: Exchange, names: _Names, depth: int = 0, headers_out: bool = True
) -> list[list[Segment]]:
    """The curl command of one exchange, word by word (`-i` prints the response's headers too)."""
    words: list[list[Segment]] = [[("lit", "curl")], [("lit", "-sS")]]
    words += [[("lit", "-i")]] if headers_out else []
    words += [[("lit", "-X")], [("lit", exchange.method)]]
    content_type = ""
    for key, value in exchange.request_headers.items():
        lowered = key.lower()
        if lowered in _SKIPPED_HEADERS:
            continue
        if lowered == "content-type":
            content_type = value.lower()
        if lowered == "authorization":
            header = _authorization(value, names, depth)
            if header is None:
                words += _basic_words(value, names)
                continue
            words += [[("lit", "-H")], [("raw", f"{key}: "), *header]]
            continue
        words += [[("lit", "-H")], [("raw", f"{key}: "), *names.within(value)]]
    body = exchange.request_body.decode("utf-8", "replace")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        # One --data-urlencode per field: curl encodes each value as the suite did.
        for key, value in parse_qsl(body, keep_blank_values=True):
            words += [[("lit", "--data-urlencode")], [("lit", f"{key}="), *names.value(value, key, depth)]]
    elif body:
        words += [[("lit", "--data-raw")], names.within(body)]
    words.append(_query(exchange.url, names, depth))
    if depth:  # a token request inside another line: the variables it uses are needed too
        names.needed.update(text for word in words for kind, text in word if kind == "var")
    return words


def curl_line(exchange: Exchange, profile: Profile | None = None, sources: Iterable[Exchange] = ()) -> str:
    """Shell lines that send the same request again, its secrets as shell variables; a token that
    one of `sources` (earlier exchanges of the run) issued is obtained again by a line of its own."""
    names = _Names(profile, [s for s in sources if s is not exchange])
    words = _words(exchange, names)
    prelude = [f"{name}={_word(value, quoted=True)}" for name, value in names.assigned.items()]
    settable = [text for value in names.assigned.values() for kind, text in value if kind == "var"]
    settable += sorted(names.needed)
    used = sorted({text for word in words for kind, text in word if kind == "var"} - set(names.assigned))
    used += sorted(set(settable) - set(used) - set(names.assigned))
    line = "\n".join([*prelude, " ".join(_word(word) for word in words)])
    if not used:
        return line
    profile_vars = [v for v in used if v not in names.unobtainable]
    notes = []
    if profile_vars:
        notes.append(
            "# export first: " + ", ".join(f"${v}" for v in profile_vars) + " (the profile's own variables)"
        )
    unset = sorted(names.unobtainable & set(used))
    if unset:
        notes.append(
            "# "
            + ", ".join(f"${v}" for v in unset)
            + ": a value of this run that no request here obtains again (never shown): set it yourself"
        )
    return "\n".join([*notes, line])
