"""Profiles: one TOML file per instance, `${VAR}` secrets, validated against the profile schema."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import ipaddress
import json
import os
import re
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from conformance._lib.redact import REDACTOR, echoed_forms
from conformance._lib.release_table import UnknownRelease, profile_defaults
from conformance._lib.schemas import load_schema

__all__ = ["Profile", "ProfileError", "is_loopback_url", "load_profile"]

_VAR = re.compile(r"\$\{([^}]*)\}")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Keys whose values are secrets: a literal value there earns a warning, and the value is redacted.
SECRET_KEYS = (
    ("client", "secret"),
    ("password_grant", "password"),
    ("jwt", "hs256_secret"),
    ("login", "password"),
)


class ProfileError(Exception):
    """A profile that cannot be used: the message names the file and the key, never a value."""


@dataclass(frozen=True)
class Profile:
    path: Path | None
    data: dict[str, Any]
    warnings: tuple[str, ...] = field(default=())
    # Values that came whole from a `${VAR}`, and the variable: a reproduction (the curl line of a
    # failing exchange) names the variable instead of the value.
    placeholders: dict[str, str] = field(default_factory=dict)

    # The contract's keys (README, "Profiles"), with stock-LMS defaults for the rest.
    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def base_url(self) -> str:
        return str(self.data["base_url"]).rstrip("/")

    def get(self, section: str, key: str, default: Any = None) -> Any:
        value = self.data.get(section, {})
        return value.get(key, default) if isinstance(value, dict) else default

    @property
    def issuer(self) -> str:
        """JWT_ISSUER; a stock Tutor LMS uses its own URL plus /oauth2."""
        return str(self.get("jwt", "issuer") or f"{self.base_url}/oauth2")

    @property
    def audience(self) -> str:
        return str(self.get("jwt", "audience", "openedx"))

    @property
    def is_loopback(self) -> bool:
        return is_loopback_url(self.base_url)

    @property
    def is_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def has_password_grant(self) -> bool:
        return "password_grant" in self.data

    @property
    def login(self) -> dict[str, str] | None:
        """The user the sign-in checks sign in as: [login], else [password_grant]'s user."""
        section = self.data.get("login") or self.data.get("password_grant")
        if not section:
            return None
        return {"username": str(section["username"]), "password": str(section["password"])}

    @property
    def directory(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def entry(self, table: str, name: str) -> dict[str, Any]:
        """The entry of an array of tables (`[[services]]`, `[[sso_clients]]`) with this name, as a
        copy (cases are parametrized by the names the profile lists)."""
        return dict(next(e for e in self.data.get(table, []) if e["name"] == name))


# The [accounts.*] tables (test accounts and applications the LMS must refuse): their secrets.
_ACCOUNT_SECRET_FIELDS = ("password", "secret", "refresh_token")


def accounts_secret_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, value) of every secret of the `[accounts]` tables (passwords, client secrets,
    refresh tokens)."""
    section = data.get("accounts")
    if not isinstance(section, dict):
        return []
    return [
        (f"accounts.{name}.{key}", value)
        for name, table in section.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if key in _ACCOUNT_SECRET_FIELDS and isinstance(value, str)
    ]


def accounts_secret_values(data: dict[str, Any]) -> list[str]:
    return [value for _, value in accounts_secret_fields(data)]


def register_accounts_secrets(data: dict[str, Any]) -> None:
    for value in accounts_secret_values(data):
        REDACTOR.add(*echoed_forms(value))
    section = data.get("accounts")
    for name in ("restricted_client", "deleted_client", "changed_grant_client"):
        table = section.get(name) if isinstance(section, dict) else None
        if isinstance(table, dict) and table.get("id") and table.get("secret"):
            REDACTOR.add_client(str(table["id"]), str(table["secret"]))


def is_loopback_url(url: str) -> bool:
    """A loopback address, or a name that resolves only to loopback (Tutor's local.openedx.io)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _defaults(schema: Mapping[str, Any], data: dict[str, Any]) -> None:
    """Fill schema defaults into the sections the profile has (and the optional sections)."""
    for key, sub in schema.get("properties", {}).items():
        if "default" in sub and key not in data:
            data[key] = copy.deepcopy(sub["default"])
        if sub.get("type") == "object" and key not in ("client", "password_grant", "login"):
            section = data.setdefault(key, {})
            if isinstance(section, dict):
                _defaults(sub, section)


def _placeholders(raw: Any, substituted: Any) -> dict[str, str]:
    """Substituted value -> variable name, for every value that was one whole `${VAR}`."""
    found: dict[str, str] = {}
    if isinstance(raw, dict) and isinstance(substituted, dict):
        for key, value in raw.items():
            found.update(_placeholders(value, substituted.get(key)))
    elif isinstance(raw, list) and isinstance(substituted, list):
        for value, done in zip(raw, substituted, strict=False):
            found.update(_placeholders(value, done))
    elif isinstance(raw, str) and isinstance(substituted, str) and substituted:
        whole = _VAR.fullmatch(raw.strip())
        if whole:
            found.setdefault(substituted, whole.group(1))
    return found


def _substitute(value: Any, where: str, env: Mapping[str, str], source: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, f"{where}.{k}" if where else k, env, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, f"{where}[{i}]", env, source) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(m: re.Match[str]) -> str:
        var = m.group(1)
        if not _VAR_NAME.match(var):
            raise ProfileError(f"{source}: key '{where}': '${{{var}}}' is not a valid variable name")
        if var not in env:
            raise ProfileError(
                f"{source}: key '{where}' needs the environment variable {var}, which is not set"
            )
        return env[var]

    return _VAR.sub(replace, value)


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        key = ".".join([*map(str, error.absolute_path), missing[0]]) if missing else where
        return f"key '{key}' is required"
    if error.validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        guess = difflib.get_close_matches(extra[0], known, n=1)
        hint = f" (did you mean '{guess[0]}'?)" if guess else ""
        key = ".".join([*map(str, error.absolute_path), extra[0]])
        return f"key '{key}' is not a known profile key{hint}"
    if error.validator in ("pattern", "enum", "type", "minLength", "minimum", "maximum"):
        # Never echo the value: it may be a secret that was substituted in.
        return f"key '{where}' is invalid ({error.validator}: {json.dumps(error.validator_value)})"
    return f"key '{where}' is invalid ({error.validator})"


def load_profile(path: str | Path, env: Mapping[str, str] | None = None) -> Profile:
    """Read, substitute and validate a profile; ProfileError names the file and the key."""
    source = str(path)
    env = os.environ if env is None else env
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProfileError(f"{source}: cannot read the profile ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML ({exc})") from None
    except ValueError as exc:  # tomllib lets int()'s digit limit through: 5000-digit integers
        raise ProfileError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ProfileError(f"{source}: not valid TOML (arrays or tables nested too deeply)") from None
    return profile_from_data(data, env, source, Path(path).resolve())


def profile_from_data(
    data: dict[str, Any],
    env: Mapping[str, str],
    source: str = "<profile>",
    path: Path | None = None,
) -> Profile:
    warnings = []
    for section, key in SECRET_KEYS:
        value = data.get(section, {}).get(key) if isinstance(data.get(section), dict) else None
        if isinstance(value, str) and value and not _VAR.fullmatch(value.strip()):
            warnings.append(
                f"{source}: key '{section}.{key}' holds a literal secret; use ${{ENV_VAR}} instead"
            )
    clients = data.get("sso_clients")
    for index, client in enumerate(clients if isinstance(clients, list) else []):
        value = client.get("client_secret") if isinstance(client, dict) else None
        if isinstance(value, str) and value and not _VAR.fullmatch(value.strip()):
            warnings.append(
                f"{source}: key 'sso_clients[{index}].client_secret' holds a literal secret; "
                "use ${ENV_VAR} instead"
            )
    for where, value in accounts_secret_fields(data):
        if value and not _VAR.fullmatch(value.strip()):
            warnings.append(f"{source}: key '{where}' holds a literal secret; use ${{ENV_VAR}} instead")
    _dates_as_text(data)
    schema = load_schema("profile")
    # Validate the shape before substitution, so that a missing key is named as such; then again
    # after, so that substituted values are checked too.
    _validate(data, schema, source, before_substitution=True)
    raw = data
    data = _substitute(data, "", env, source)
    _validate(data, schema, source)
    try:
        warnings += profile_defaults(data, source)  # the release's expectations, before today's defaults
    except UnknownRelease as exc:
        raise ProfileError(str(exc)) from None
    _defaults(schema, data)
    _check_urls(data, source)
    _check_acceptances(data, source)
    profile = Profile(path=path, data=data, warnings=tuple(warnings), placeholders=_placeholders(raw, data))
    for section, key in SECRET_KEYS:
        value = profile.get(section, key)
        if isinstance(value, str):
            # Also as an error page would echo it back (HTML- or JSON-escaped), not only verbatim.
            REDACTOR.add(*echoed_forms(value))
    if "client" in data:
        REDACTOR.add_client(data["client"]["id"], data["client"]["secret"])
    for client in data.get("sso_clients", []):
        if client.get("client_secret"):
            REDACTOR.add(*echoed_forms(client["client_secret"]))
            REDACTOR.add_client(client["client_id"], client["client_secret"])
    register_accounts_secrets(data)
    url = urlsplit(profile.base_url)
    if url.scheme == "http" and not profile.is_loopback:
        raise ProfileError(
            f"{source}: key 'base_url' uses plain http for a non-loopback host; use https "
            "(credentials must not cross the network in clear)"
        )
    return profile


def _dates_as_text(data: dict[str, Any]) -> None:
    """`[coverage] accept` expiries may be TOML dates (`expires = 2027-06-30`): as ISO text, which the
    schema checks (a TOML date-time is not a date and fails there)."""
    coverage = data.get("coverage")
    entries = coverage.get("accept") if isinstance(coverage, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        value = entry.get("expires") if isinstance(entry, dict) else None
        if isinstance(value, dt.date):
            entry["expires"] = value.isoformat()


def _check_acceptances(data: dict[str, Any], source: str) -> None:
    """What the schema cannot say of `[coverage] accept`: a real date, and each key once."""
    seen: set[str] = set()
    for index, entry in enumerate(data.get("coverage", {}).get("accept", [])):
        where = f"coverage.accept[{index}]"
        if "expires" in entry:
            try:
                dt.date.fromisoformat(entry["expires"])
            except ValueError:
                raise ProfileError(f"{source}: key '{where}.expires' is not a date (YYYY-MM-DD)") from None
        if entry["key"] in seen:
            raise ProfileError(f"{source}: key '{where}.key': {entry['key']} is accepted twice")
        seen.add(entry["key"])


def _check_urls(data: dict[str, Any], source: str) -> None:
    """The schema's URL pattern lets through what urllib cannot parse ("http://[", a port of 99999)."""
    urls = [("base_url", data["base_url"])]
    urls += [(f"services[{i}].base_url", s["base_url"]) for i, s in enumerate(data.get("services", []))]
    urls += [
        (f"sso_clients[{i}].redirect_uri", c["redirect_uri"])
        for i, c in enumerate(data.get("sso_clients", []))
    ]
    if data.get("jwt_cookies", {}).get("mfe_origin"):
        urls.append(("jwt_cookies.mfe_origin", data["jwt_cookies"]["mfe_origin"]))
    for where, url in urls:
        try:
            parts = urlsplit(url)
            _ = parts.hostname, parts.port
        except ValueError:
            # The value is not echoed: it may have come from the environment.
            raise ProfileError(
                f"{source}: key '{where}' is not a valid URL (its host or port cannot be parsed)"
            ) from None


def _validate(data: Any, schema: dict[str, Any], source: str, before_substitution: bool = False) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    found = validator.iter_errors(data)
    if before_substitution:
        # `base_url = "${LMS_URL}"` is fine: its value is checked after substitution.
        found = (e for e in found if not (isinstance(e.instance, str) and _VAR.search(e.instance)))
    # Unknown keys first: a typo ("clinet") also makes the real key look missing.
    errors = sorted(
        found,
        key=lambda e: (len(e.absolute_path), e.validator != "additionalProperties", list(map(str, e.path))),
    )
    if errors:
        raise ProfileError(f"{source}: {_schema_message(errors[0])}")
