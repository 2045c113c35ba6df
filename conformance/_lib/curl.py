"""The "reproduce with curl" line of an exchange: the request as sent, runnable in a shell.

Secrets never appear: a value that came from the profile's `${VAR}` is written as `"$VAR"` (so the
line runs once the operator exports the same variables as for the run), other secrets as a named
placeholder that says what to put there. Forged tokens are spelled out: they are the test input,
not a credential (a tampered token's genuine signature excepted). Whatever is left still passes
through the redactor.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit

from conformance._lib.forge import FORGED
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


class _Names:
    """Which literal stands for which variable in this profile."""

    def __init__(self, profile: Profile | None) -> None:
        self.by_value: dict[str, str] = {}
        # Shell variables the line sets itself: forged tokens, spelled out on a line of their own
        # (`FORGED_TOKEN='eyJ...'`), where no credential shape can be read into them.
        self.assigned: dict[str, list[Segment]] = {}
        self.needed: set[str] = set()  # variables those lines use
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

    def value(self, text: str, field: str = "") -> list[Segment]:
        """One value: its variable, a forged token spelled out, or the text itself."""
        if text in self.by_value:
            return [("var", self.by_value[text])]
        if text in FORGED:
            spelled, rest = FORGED[text]
            name = "FORGED_TOKEN" + (f"_{len(self.assigned) + 1}" if self.assigned else "")
            self.assigned[name] = [("raw", spelled)] + ([("var", rest)] if rest else [])
            return [("var", name)]
        if field in _FALLBACK and text and text in REDACTOR.known():
            return [("var", _FALLBACK[field] if field != "client_secret" else "WRONG_CLIENT_SECRET")]
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


def _authorization(value: str, names: _Names) -> list[Segment] | None:
    """The Authorization header as segments, or None for Basic (which becomes `-u`)."""
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "basic":
        return None
    spelled = names.value(credentials, "access_token")
    if spelled == [("lit", credentials)] and credentials in REDACTOR.known():
        spelled = [("var", "ACCESS_TOKEN")]
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
    names.assigned["BASIC_AUTH"] = [("shell", f"$(python3 -c {shlex.quote(script)})")]
    names.needed.update(variables)
    return [[("lit", "-H")], [("raw", "Authorization: Basic "), ("var", "BASIC_AUTH")]]


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


def _query(url: str, names: _Names) -> list[Segment]:
    parts = urlsplit(url)
    base = url.split("?", 1)[0]
    if not parts.query:
        return [("lit", base)]
    segments: list[Segment] = [("lit", base + "?")]
    for i, (key, value) in enumerate(parse_qsl(parts.query, keep_blank_values=True)):
        segments.append(("lit", ("&" if i else "") + quote_plus(key) + "="))
        segments += [
            (kind, text if kind == "var" else quote(text, safe="")) for kind, text in names.value(value, key)
        ]
    return segments


def curl_line(exchange: Exchange, profile: Profile | None = None) -> str:
    """A shell line that sends the same request again, its secrets as shell variables."""
    names = _Names(profile)
    words: list[list[Segment]] = [[("lit", "curl")], [("lit", "-sS")], [("lit", "-i")]]
    words += [[("lit", "-X")], [("lit", exchange.method)]]
    content_type = ""
    for key, value in exchange.request_headers.items():
        lowered = key.lower()
        if lowered in _SKIPPED_HEADERS:
            continue
        if lowered == "content-type":
            content_type = value.lower()
        if lowered == "authorization":
            header = _authorization(value, names)
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
            words += [[("lit", "--data-urlencode")], [("lit", f"{key}="), *names.value(value, key)]]
    elif body:
        words += [[("lit", "--data-raw")], names.within(body)]
    words.append(_query(exchange.url, names))
    prelude = [f"{name}={_word(value, quoted=True)}" for name, value in names.assigned.items()]
    settable = [text for value in names.assigned.values() for kind, text in value if kind == "var"]
    settable += sorted(names.needed)
    used = sorted({text for word in words for kind, text in word if kind == "var"} - set(names.assigned))
    used += sorted(set(settable) - set(used))
    line = "\n".join([*prelude, " ".join(_word(word) for word in words)])
    if not used:
        return line
    note = "# export first: " + ", ".join(f"${v}" for v in used)
    note += " (the profile's own variables; any other name stands for a value of this run, never shown)"
    return f"{note}\n{line}"
