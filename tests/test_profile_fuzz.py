"""Property: `load_profile` returns a Profile or raises ProfileError naming the file, whatever the
file holds and whatever the environment says; and a substituted value never shows in the error."""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import conformance._lib.profile as profile_module
from conformance._lib.profile import Profile, ProfileError, load_profile
from conformance._lib.redact import Redactor

# A small TOML writer: every key quoted, every table inline or a [section], so any dict is writable.


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def to_toml(data: dict[str, Any], sections: bool = True) -> str:
    """Scalars first, then (if `sections`) each table as a [section]; otherwise all inline."""
    lines = [
        f"{toml_string(k)} = {toml_value(v)}"
        for k, v in data.items()
        if not (sections and isinstance(v, dict))
    ]
    for key, value in data.items():
        if sections and isinstance(value, dict):
            lines.append(f"[{toml_string(key)}]")
            lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


# Strategies --------------------------------------------------------------------------------------

KNOWN_VARS = ["EDX_ID", "EDX_SECRET", "EDX_URL", "EDX_PASSWORD", "EDX_JWKS", "NEVER_SET"]
var_names = st.sampled_from(KNOWN_VARS) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
urls = st.sampled_from(
    [
        "http://127.0.0.1:8000",
        "https://lms.example.org",
        "http://lms.example.org",
        "http://localhost:8000/",
        "http://a.localhost",
        "http://[::1]:8000",
        "http://[",
        "https://[zz]/x",
        "http://[::1",
        "https://lms.example.org:99999",
        "ftp://lms.example.org",
        "https://lms.example.org/sub/",
        "http://local.openedx.io",
    ]
) | st.text(min_size=1, max_size=20).map(lambda h: f"https://{h}")
# References inside a URL or a path pass the schema before substitution, and may fail it after:
# the error then comes from a value that came from the environment.
TEMPLATES = {
    "base_url": [
        "https://${EDX_URL}",
        "https://${EDX_URL}/lms",
        "http://127.0.0.1:${EDX_ID}",
        "http://${EDX_SECRET}@127.0.0.1",
        "https://[${EDX_URL}]",
    ],
    "token_path": ["/${EDX_SECRET}", "/oauth2/${EDX_URL}"],
    "revoke_path": ["/${EDX_PASSWORD}"],
}
references = st.one_of(
    var_names.map(lambda n: "${" + n + "}"),
    st.tuples(st.text(max_size=4), var_names, st.text(max_size=4)).map(lambda t: f"{t[0]}${{{t[1]}}}{t[2]}"),
    st.sampled_from(["${}", "${1BAD}", "${A-B}", "${EDX_ID", "$${EDX_ID}", "${EDX_ID}${EDX_SECRET}", "${ }"]),
)
strings = st.one_of(st.text(max_size=30), references, urls)
scalars = st.one_of(
    strings,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.booleans(),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """one_of with weights (Hypothesis' own one_of draws its branches about evenly)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


def likely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a plausible value, sometimes anything at all."""
    return weighted((3, strategy), (1, values))


def section(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A table with some of its known keys, maybe an unknown key; now and then not a table at all."""
    known = st.fixed_dictionaries({}, optional={k: likely(s) for k, s in fields.items()})
    extra = st.dictionaries(st.text(max_size=10), values, min_size=1, max_size=1)
    return weighted((4, known), (1, st.builds(lambda a, b: {**b, **a}, known, extra)), (1, values))


ALGORITHMS = ["HS256", "RS512", "ES256", "none", "hs256"]
profile_fields = {
    "name": st.sampled_from(["staging", "p", "x" * 70, "-bad", "a b"]) | strings,
    "base_url": urls | strings,
    "token_path": st.sampled_from(["/oauth2/access_token", "oauth2/x", "/"]) | strings,
    "revoke_path": strings,
    "ca_bundle": strings,
    "timeout_s": st.sampled_from([0, -1, 0.001, 10, 120, 121, math.nan, math.inf]) | st.floats(),
    "waivers": strings,
    "client": weighted(
        (3, st.fixed_dictionaries({"id": references, "secret": references})),
        (1, section(id=strings, secret=strings)),
    ),
    "jwt": section(
        issuer=strings,
        audience=strings,
        jwks=strings,
        hs256_secret=strings,
        algorithms=st.lists(st.sampled_from(ALGORITHMS), max_size=3),
        max_clock_skew_s=st.integers(-10, 5000),
        mode=st.sampled_from(["openedx", "rfc9068", "x"]),
    ),
    "password_grant": section(client_id=strings, username=strings, password=strings),
    "expect": section(jwt_expires_in=st.integers(-1, 10**6), scope=strings, opaque_tokens=st.booleans()),
    "resources": section(me=strings, bearer=st.booleans()),
    "options": section(max_requests=st.integers(-1, 1000), throttle_probe=st.booleans()),
    "services": st.lists(section(name=strings, base_url=urls, probe=strings), max_size=2),
}
VALID = {
    "name": "p",
    "base_url": "http://127.0.0.1:8000",
    "client": {"id": "${EDX_ID}", "secret": "${EDX_SECRET}"},
}
field = st.sampled_from(sorted(profile_fields)).flatmap(
    lambda k: st.tuples(st.just(k), likely(profile_fields[k]))
)
# Mostly-valid profiles (the stock one with a key or two changed), profile-shaped ones, anything.
mostly_valid = st.lists(field, max_size=2).map(lambda changes: {**VALID, **dict(changes)})
profiles = weighted(
    (4, mostly_valid),
    (2, st.fixed_dictionaries({}, optional={k: likely(s) for k, s in profile_fields.items()})),
    (1, st.dictionaries(st.text(max_size=10), values, max_size=4)),
)
MARK = "Zq9:"  # secrets in the environment start with this, so that a leak cannot be a coincidence
# URL-breaking characters, often: a value may pass the schema as "${VAR}" and fail it substituted.
secret_text = st.lists(st.characters() | st.sampled_from(" /?#[]@:"), min_size=4, max_size=24).map("".join)
env_values = weighted((1, st.text(max_size=24)), (1, urls), (2, secret_text.map(lambda s: MARK + s)))
environments = weighted(
    (
        4,
        st.fixed_dictionaries(
            {"EDX_ID": st.text(min_size=1, max_size=12) | env_values, "EDX_SECRET": env_values},
            optional={v: env_values for v in KNOWN_VARS[2:-1]},
        ),
    ),
    (1, st.dictionaries(var_names, env_values, max_size=4)),
)
# Raw text: the profile written out, then cut or spliced (invalid TOML, half a file), or bytes.
written = st.tuples(profiles, st.booleans()).map(lambda t: to_toml(*t))
documents = weighted(
    (6, written),
    (
        1,
        st.tuples(profiles, st.booleans(), st.integers(0, 400), st.text(max_size=8)).map(
            lambda t: to_toml(t[0], t[1])[: t[2]] + t[3]
        ),
    ),
    (1, st.text(max_size=200)),
    (1, st.binary(max_size=200)),
)
# A reference inside a URL or path, and an environment that sets it, mostly to a marked value.
templated = st.tuples(
    st.fixed_dictionaries(
        {"base_url": st.sampled_from(TEMPLATES["base_url"])},
        optional={k: st.sampled_from(v) for k, v in TEMPLATES.items() if k != "base_url"},
    ).map(lambda changes: to_toml({**VALID, **changes})),
    st.fixed_dictionaries(
        {"EDX_ID": st.text(min_size=1, max_size=12) | env_values}
        | {v: env_values for v in ("EDX_SECRET", "EDX_URL", "EDX_PASSWORD")}
    ),
)
cases = weighted((2, st.tuples(documents, environments)), (1, templated))


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzzed.toml"


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
@example(case=("a = " + "[" * 5000 + "]" * 5000, {}))  # tomllib recurses: RecursionError
@example(case=("timeout_s = " + "1" * 5000, {}))  # int() digit limit: a plain ValueError
@example(case=(to_toml({**VALID, "base_url": "http://["}), {"EDX_ID": "i", "EDX_SECRET": "s"}))
@example(
    case=(
        to_toml({**VALID, "base_url": "https://${EDX_URL}"}),
        {"EDX_ID": "i", "EDX_SECRET": "s", "EDX_URL": "[zz]"},
    )
)
@example(
    case=(
        to_toml({**VALID, "base_url": "https://${EDX_URL}"}),
        {"EDX_ID": "i", "EDX_SECRET": "s", "EDX_URL": MARK + " leaked?"},
    )
)
def test_load_profile_returns_a_profile_or_a_profile_error(profile_path, case):
    document, env = case
    data = document if isinstance(document, bytes) else document.encode("utf-8")
    profile_path.write_bytes(data)
    # A throwaway redactor: the random secrets registered here must not mask text in other tests.
    with mock.patch.object(profile_module, "REDACTOR", Redactor()):
        try:
            result = load_profile(profile_path, env)
        except ProfileError as exc:
            message = str(exc)
        else:
            assert isinstance(result, Profile)
            return
    assert str(profile_path) in message, message
    text = data.decode("utf-8", "replace")
    substituted = {env[v] for v in _REFERENCE.findall(text) if v in env}
    for value in substituted:
        if value.startswith(MARK) and MARK not in text:
            assert value not in message, f"the value of a substituted variable shows in: {message}"


def test_the_toml_writer_round_trips():
    data = {
        "name": 'q"\\\n\x7f é',
        "n": [1, 2.5, True, dt.date(2024, 1, 2), {"k y": []}],
        "t": {"a": {"b": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}},
    }
    assert tomllib.loads(to_toml(data)) == data
    assert tomllib.loads(to_toml(data, sections=False)) == data
