"""The one redaction routine: every byte the suite writes passes through `REDACTOR.redact`."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["REDACTOR", "Redactor", "echoed_forms", "redact"]

MASK = "[REDACTED]"
SHORT = 12  # secrets shorter than this are matched as whole words only
# Names whose values are credentials wherever they appear: form fields, JSON members, headers.
SENSITIVE_KEYS = (
    "client_secret",
    "password",
    "access_token",
    "refresh_token",
    "token",
    "id_token",
    "hs256_secret",
    "secret",
    # sign-in flows: authorization codes, PKCE verifiers, session and CSRF cookies, the JWT cookies
    "code",
    "code_verifier",
    "sessionid",
    "csrftoken",
    "csrfmiddlewaretoken",
    "csrfToken",
    "edx-jwt-cookie-header-payload",
    "edx-jwt-cookie-signature",
)
_JWT = re.compile(r"\b(eyJ[A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{8,})")
# Credentials after a scheme name; 20+ characters so that prose ("JWT requests") is left alone.
_AUTH_SCHEME = re.compile(r"(?i)\b(Basic|Bearer|JWT)([ \t]+)(?!\[REDACTED)([A-Za-z0-9._~+/=%:-]{20,})")
_AUTH_HEADER = re.compile(
    r"(?i)((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)([^\r\n\"'\\]+)"
)
_KEYS = "|".join(SENSITIVE_KEYS)
_FORM = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_KEYS})=(?!\[REDACTED)([^&\s\"'<>\\]+)")
_JSON = re.compile(rf"(?i)(\\?[\"'](?:{_KEYS})\\?[\"']\s*:\s*\\?[\"'])(?!\[REDACTED)([^\"'\\]+)")


class Redactor:
    """Knows every secret the run has seen and masks it, plus anything shaped like a credential."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._stale = True  # a secret was added: the two lists below must be rebuilt
        self._long: list[str] = []
        self._short: re.Pattern[str] | None = None
        # Values known to be no secret although shaped like one (forged tokens: the test input,
        # refused by a conformant instance): shown as they are.
        self._public: list[str] = []

    def add(self, *values: str | None) -> None:
        """Register secrets; short values (under 4 characters) would mask ordinary text."""
        new = set()
        for value in values:
            if not value or len(value) < 4:
                continue
            new.update({value, quote(value, safe=""), quote_plus(value)})
        with self._lock:
            new -= set(self._public)
            if not new <= self._secrets:
                self._secrets |= new
                self._stale = True

    def publish(self, value: str) -> None:
        """Declare a value no secret (a forged token): it is shown verbatim wherever it appears,
        whatever its shape. Never for anything that carries a real credential."""
        if len(value) < 20:
            return  # short values could sit inside real secrets
        with self._lock:
            self._secrets -= {value, quote(value, safe=""), quote_plus(value)}
            if value not in self._public:  # a new list, never changed in place under a reader
                self._public = sorted([*self._public, value], key=len, reverse=True)
            self._stale = True

    def add_client(self, client_id: str, secret: str) -> None:
        """A client secret also travels as base64(id:secret) in a Basic header."""
        self.add(secret)
        for pair in (f"{client_id}:{secret}", f"{quote_plus(client_id)}:{quote_plus(secret)}"):
            encoded = base64.b64encode(pair.encode()).decode()
            self.add(encoded, encoded.rstrip("="))

    def known(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def _known(self) -> tuple[list[str], re.Pattern[str] | None]:
        """Long secrets (longest first, for plain replacement) and one pattern for the short ones,
        rebuilt only when a secret was added since the last call."""
        with self._lock:
            if self._stale:
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._long = [s for s in ordered if len(s) >= SHORT]
                short = "|".join(re.escape(s) for s in ordered if len(s) < SHORT)
                # A short secret ("secret") is masked only as a whole word, so that it cannot mask
                # words such as the check id jwt-attacks.weak-hmac-secret.
                self._short = re.compile(rf"(?<![\w-])(?:{short})(?![\w-])") if short else None
                self._stale = False
            return self._long, self._short

    def redact(self, text: str) -> str:
        if not text:
            return text
        longs, short = self._known()
        shown = [value for value in self._public if value in text]
        for i, value in enumerate(shown):  # set aside, so that no rule below touches them
            text = text.replace(value, f"\x00{i}\x00")
        for secret in longs:
            if secret in text:
                text = text.replace(secret, MASK)
        if short is not None:
            text = short.sub(MASK, text)
        text = _JWT.sub(lambda m: f"{m.group(1)}.{m.group(2)}.{MASK}", text)
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + _mask_credentials(m.group(2)), text)
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        text = _FORM.sub(lambda m: f"{m.group(1)}={MASK}", text)
        text = _JSON.sub(lambda m: f"{m.group(1)}{MASK}", text)
        for i, value in enumerate(shown):
            text = text.replace(f"\x00{i}\x00", value)
        return text

    def redact_json(self, value: Any) -> Any:
        """Redact every string inside a JSON value, so that the result is still valid JSON."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redact_json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.redact_json(v) for k, v in value.items()}
        return value


# Scheme names alone carry no credential: prose such as a check title ("... with Authorization:
# Bearer") keeps them.
_SCHEMES = ("basic", "bearer", "jwt", "token", "digest")


def _mask_credentials(value: str) -> str:
    if value.strip().lower() in _SCHEMES:
        return value
    scheme, _, rest = value.partition(" ")
    return f"{scheme} {MASK}" if rest else MASK


REDACTOR = Redactor()


def redact(text: str) -> str:
    return REDACTOR.redact(text)


def echoed_forms(secret: str) -> tuple[str, ...]:
    """A secret as a server may echo it back: raw (URL-encoded forms are added by the redactor),
    HTML-escaped (a debug error page) and JSON-escaped (an error_description)."""
    if len(secret) < 4:
        return (secret,)
    return (
        secret,
        html.escape(secret),
        html.escape(secret).replace("&#x27;", "&#39;"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1].replace("/", "\\/"),
    )
