"""The machinery of the checks' unit tests: a check's table entry, the stub profile, and running a
check case in-process against the stub LMS.

Each `tests/units/test_<area>.py` holds the `TABLE` of its area's checks (and its `SKIPS` and
`DIAGNOSES`) and imports the generic tests below; `tests/units/conftest.py` parametrizes them from
that module's tables. A check passes against the stock stub and fails, naming its requirement,
against each of its entry's mutations (`fails(...)`), which break exactly what it checks. The check
functions are called directly with hand-built fixtures: a profile from a dict, an `Http` on an
`httpx.MockTransport`, `TokenFlows`, the profile's JWK set and a seeded Faker.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from _pytest.mark.structures import ParameterSet
from faker import Faker

import conformance.checks
from conformance._lib import profile as profile_module
from conformance._lib.http import Http
from conformance._lib.jwts import load_jwks
from conformance._lib.profile import Profile, profile_from_data
from conformance._lib.registry import load_checks, missing_requirement
from conformance._lib.signin import SignIn
from conformance._lib.tokens import TokenFlows
from conformance._lib.verify import ConformanceFailure
from tests.stub_lms import (
    AUDIENCE,
    CHANGED_CLIENT_ID,
    CHANGED_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    DELETED_CLIENT_ID,
    DELETED_SECRET,
    DISABLED,
    DISABLED_REFRESH_TOKEN,
    DISCOVERY_PROBE,
    DISCOVERY_URL,
    INACTIVE,
    ISSUER,
    LEARNER,
    LMS_URL,
    PUBLIC_CLIENT_ID,
    RESTRICTED_CLIENT_ID,
    RESTRICTED_SECRET,
    Patch,
    StubLms,
)
from tests.stub_signin import MFE_ORIGIN, SSO_CLIENT_ID, SSO_REDIRECT_URI, SSO_SECRET

REGISTRY = load_checks()
CHECK_MODULES = {
    name: importlib.import_module(f"conformance.checks.{name}")
    for _, name, _ in pkgutil.iter_modules(conformance.checks.__path__)
    if name.startswith("test_")
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    fn.oauth_check.id: fn
    for module in CHECK_MODULES.values()
    for fn in vars(module).values()
    if callable(fn) and hasattr(fn, "oauth_check") and fn.__module__ == module.__name__
}


# A check's entry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaks:
    """A mutation that must fail the check, with a fragment of the requirement the failure names
    (`{case}` stands for the case id) and optionally of what it reports as actual; `cases` limits it
    to some cases (default: every case)."""

    mutation: Patch
    says: str
    cases: tuple[str, ...] = ()
    profile: Mapping[str, Any] = field(default_factory=dict)
    actual: str = ""


@dataclass(frozen=True)
class Unit:
    breaks: tuple[Breaks, ...]
    base: tuple[Patch, ...] = ()  # stub variants every run of this check uses
    profile: Mapping[str, Any] = field(default_factory=dict)  # profile changes for every run
    either: tuple[Patch, ...] = ()  # mutations the check must still pass (either outcome allowed)


def unit(
    *breaks: Breaks,
    base: tuple[Patch, ...] = (),
    profile: Mapping[str, Any] | None = None,
    either: tuple[Patch, ...] = (),
) -> Unit:
    return Unit(breaks, base, profile or {}, either)


def fails(
    mutation: Patch, says: str, *cases: str, profile: Mapping[str, Any] | None = None, actual: str = ""
) -> Breaks:
    return Breaks(mutation, says, cases, profile or {}, actual)


# The stub's [accounts] entries (literal values: the stub's own test accounts).
ACCOUNTS: dict[str, Any] = {
    "accounts": {
        "inactive_user": {"username": INACTIVE.username, "password": INACTIVE.password},
        "disabled_user": {
            "username": DISABLED.username,
            "password": DISABLED.password,
            "refresh_token": DISABLED_REFRESH_TOKEN,
        },
        "restricted_client": {"id": RESTRICTED_CLIENT_ID, "secret": RESTRICTED_SECRET},
        "deleted_client": {"id": DELETED_CLIENT_ID, "secret": DELETED_SECRET},
        "changed_grant_client": {"id": CHANGED_CLIENT_ID, "secret": CHANGED_SECRET},
    }
}

# Checks that send no HTTP request: they read the profile's JWK set or do a TLS handshake.
OFFLINE = {
    "jwt.jwks.well-formed",
    "transport.tls.version",
    "transport.tls.certificate",
    "transport.tls.certificate-expiry",
    "key-rotation.jwks.keys",
    "key-rotation.preflight.new-key",
    "jwt.jwks.public-only",
    "jwt.jwks.rsa-2048",
    "jwt.jwks.distinct-kids",
}

# A skip a case must take (check id, case, stub mutations, profile changes, the reason's fragment).
Skip = tuple[str, str | None, tuple[Patch, ...], dict[str, Any], str]


def skips(
    check_id: str, case: str | None, says: str, *mutations: Patch, profile: Mapping[str, Any] | None = None
) -> Skip:
    """A case that must skip, its reason saying `says`, under the stub `mutations` or the `profile`
    changes (None removes a key: the case then asks for it)."""
    return (check_id, case, mutations, dict(profile or {}), says)


def without(check_id: str, case: str | None, key: str, says: str = "", value: Any = None) -> Skip:
    """A case that must skip when the profile lacks `key` (dotted: `jwt.hs256_secret`; removed, or
    set to `value`: False for a switch), its reason saying `says` (default: the key)."""
    *parents, last = key.split(".")
    changes: dict[str, Any] = {last: value}
    for parent in reversed(parents):
        changes = {parent: changes}
    return skips(check_id, case, says or key, profile=changes)


def blocked(check_id: str, case: str | None, control: str, *mutations: Patch) -> Skip:
    """A case that a failed control blocks: the `mutations` fail the `control` case first."""
    return skips(check_id, case, f"blocked ({control})", *mutations)


# A failure that must carry a front-server diagnosis (check id, case, mutation, the diagnosis' words).
Diagnosis = tuple[str, str | None, Patch, str]


# Running a check ------------------------------------------------------------------------------------


def cases_of(check_id: str) -> tuple[str | None, list[tuple[str | None, Any]]]:
    """The parametrized argument of a check and its (case id, value) pairs, read from its marks."""
    fn = FUNCTIONS[check_id]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize":
            argname, values = mark.args[:2]
            # pytest.param(value, id=..., marks=...) carries its own id (and requirement marks).
            params = [v if isinstance(v, ParameterSet) else None for v in values]
            values = [p.values[0] if p is not None else v for p, v in zip(params, values, strict=True)]
            ids = mark.kwargs.get("ids") or [
                p.id if p is not None and p.id else str(v) for p, v in zip(params, values, strict=True)
            ]
            return argname, list(zip(ids, values, strict=True))
    if "service" in inspect.signature(fn).parameters:  # from the plugin's pytest_generate_tests
        return "service", [("discovery", "discovery")]
    return None, [(None, None)]


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge profile changes; None removes a key (kept as None where absent, so that merging
    the result into a profile removes it there)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            if key in result:
                result.pop(key)
            else:
                result[key] = None
        elif isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def stub_profile(stub: StubLms, changes: Mapping[str, Any] | None = None) -> Profile:
    """The profile an operator would write for the stub: secrets as ${ENV}, its public JWK set."""
    data = {
        "name": "stub-lms",
        "base_url": LMS_URL,
        "client": {"id": "${EDX_OAUTH_CLIENT_ID}", "secret": "${EDX_OAUTH_CLIENT_SECRET}"},
        "jwt": {
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "jwks": stub.published_jwks(),
            "hs256_secret": "${EDX_JWT_SECRET}",
        },
        "password_grant": {
            "client_id": "${EDX_PUBLIC_CLIENT_ID}",
            "username": "${EDX_TEST_USERNAME}",
            "password": "${EDX_TEST_PASSWORD}",
        },
        "services": [{"name": "discovery", "base_url": DISCOVERY_URL, "probe": DISCOVERY_PROBE}],
        # sign-in flows: [login] defaults to [password_grant]'s user
        "sso_clients": [
            {
                "name": "studio",
                "client_id": "${EDX_SSO_CLIENT_ID}",
                "redirect_uri": SSO_REDIRECT_URI,
                "client_secret": "${EDX_SSO_CLIENT_SECRET}",
            }
        ],
        "jwt_cookies": {"mfe_origin": MFE_ORIGIN},
    }
    env = {
        "EDX_OAUTH_CLIENT_ID": CLIENT_ID,
        "EDX_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "EDX_JWT_SECRET": stub.published_secret,
        "EDX_PUBLIC_CLIENT_ID": PUBLIC_CLIENT_ID,
        "EDX_TEST_USERNAME": LEARNER.username,
        "EDX_TEST_PASSWORD": LEARNER.password,
        "EDX_SSO_CLIENT_ID": SSO_CLIENT_ID,
        "EDX_SSO_CLIENT_SECRET": SSO_SECRET,
    }
    return profile_from_data(merge(data, changes or {}), env=env)


@pytest.fixture(scope="session")
def faker_instance() -> Faker:
    return Faker()


@pytest.fixture
def run_check(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, faker_instance: Faker
) -> Iterator[Callable[..., StubLms]]:
    """Runs one case of a check (of this module's `TABLE`) against a fresh stub with the given
    mutations; returns the stub."""
    table: dict[str, Unit] = request.module.TABLE
    clients: list[Http] = []

    def run(
        check_id: str,
        case: str | None,
        mutations: tuple[Patch, ...] = (),
        changes: Mapping[str, Any] | None = None,
        *,
        may_skip: bool = False,
    ) -> StubLms:
        unit_ = table[check_id]
        stub = StubLms((*unit_.base, *mutations))
        profile = stub_profile(stub, merge(dict(unit_.profile), changes or {}))
        options = profile.data["options"]
        http = Http(
            profile.base_url,
            transport=stub.transport(),
            max_requests=int(options["max_requests"]),
            max_token_requests=int(options["max_token_requests"]),
            token_path=profile.data["token_path"],
        )
        clients.append(http)
        # The TLS handshake and the expiry wait of the checks go to the stub.
        monkeypatch.setattr(CHECK_MODULES["test_transport"], "_handshake", stub.handshake)
        monkeypatch.setattr(CHECK_MODULES["test_jwt_attacks"], "time", stub.clock)
        faker_instance.seed_instance(f"{check_id}[{case}]")
        fixtures: dict[str, Any] = {
            "tokens": TokenFlows(http, profile),
            "http": http,
            "profile": profile,
            "jwks": load_jwks(profile),
            "fake": faker_instance,
        }
        fixtures["signin"] = SignIn(http, profile, fixtures["tokens"])
        fixtures["sso_client"] = "studio"
        argname, cases = cases_of(check_id)
        if argname is not None:
            fixtures[argname] = dict(cases)[case]
        fn = FUNCTIONS[check_id]
        try:
            fn(**{name: fixtures[name] for name in inspect.signature(fn).parameters})
        except pytest.skip.Exception as skipped:
            if may_skip:
                raise
            # A skip is not a pass (nor a failure): this test itself must not end as "skipped".
            pytest.fail(f"the check skipped instead of running: {skipped}")
        return stub

    yield run
    for http in clients:
        http.close()


def requirement_met(unit_: Unit, check_id: str, changes: Mapping[str, Any] | None = None) -> str | None:
    """What the plugin would skip the check for, with the entry's profile (no DNS for the host)."""
    profile = stub_profile(StubLms(unit_.base), merge(dict(unit_.profile), changes or {}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profile_module, "is_loopback_url", lambda url: False)
        return missing_requirement(profile, REGISTRY[check_id].requires)


# The parameters of the generic tests, from a unit module's tables ----------------------------------


def area_of(module: ModuleType) -> str:
    """The area whose unit cases a module holds, from its name (`test_jwt_attacks`: jwt-attacks)."""
    return module.__name__.rpartition(".")[2].removeprefix("test_").replace("_", "-")


def _label(check_id: str, case: str | None) -> str:
    return f"{check_id}[{case}]" if case is not None else check_id


def _pass_cases(module: ModuleType) -> list[Any]:
    return [
        pytest.param(check_id, case, id=_label(check_id, case))
        for check_id in sorted(module.TABLE)
        for case, _ in cases_of(check_id)[1]
    ]


def _fail_cases(module: ModuleType) -> list[Any]:
    params = []
    for check_id in sorted(module.TABLE):
        all_cases = [case for case, _ in cases_of(check_id)[1]]
        for breaks in module.TABLE[check_id].breaks:
            for case in breaks.cases or all_cases:
                label = f"{_label(check_id, case)}-{breaks.mutation.defect}"
                params.append(pytest.param(check_id, case, breaks, id=label))
    return params


def _either_cases(module: ModuleType) -> list[Any]:
    return [
        pytest.param(check_id, case, mutation, id=f"{check_id}[{case}]-{mutation.defect}")
        for check_id in sorted(module.TABLE)
        for mutation in module.TABLE[check_id].either
        for case, _ in cases_of(check_id)[1]
    ]


def _skip_cases(module: ModuleType) -> list[Any]:
    return [pytest.param(*s, id=f"{s[0]}[{s[1]}]-{s[4]}") for s in getattr(module, "SKIPS", [])]


def _diagnosis_cases(module: ModuleType) -> list[Any]:
    return [
        pytest.param(*d, id=f"{_label(d[0], d[1])}-{d[2].defect}") for d in getattr(module, "DIAGNOSES", [])
    ]


def _check_ids(module: ModuleType) -> list[Any]:
    return sorted(module.TABLE)


def parametrized(argnames: str, cases: Callable[[ModuleType], list[Any]]) -> Callable[[Any], Any]:
    """Marks a generic test: `conftest.pytest_generate_tests` gives it `cases(module)` as `argnames`."""

    def mark(fn: Any) -> Any:
        fn.unit_parameters = (argnames, cases)
        return fn

    return mark


# The generic tests (imported by every tests/units/test_<area>.py) ------------------------------------


@parametrized("check_id", _check_ids)
def test_every_case_has_a_failing_mutation(request, check_id):
    unit_ = request.module.TABLE[check_id]
    cases = [case for case, _ in cases_of(check_id)[1]]
    assert unit_.breaks, "at least one mutation must fail the check"
    for breaks in unit_.breaks:
        assert set(breaks.cases) <= set(cases), f"{breaks.mutation.defect}: no such case {breaks.cases}"
    failed = {case for b in unit_.breaks for case in (b.cases or cases)}
    assert failed == set(cases), f"cases no mutation fails: {sorted(set(cases) - failed, key=str)}"
    assert REGISTRY[check_id].area == area_of(request.module), "a check's unit cases live in its area's file"


@parametrized("check_id,case", _pass_cases)
def test_passes_on_stock_lms(request, run_check, check_id, case):
    unit_ = request.module.TABLE[check_id]
    assert requirement_met(unit_, check_id) is None, "the table's profile lets the plugin run the check"
    stub = run_check(check_id, case)
    assert stub.requests or check_id in OFFLINE, "the check talked to the instance"


@parametrized("check_id,case,breaks", _fail_cases)
def test_fails_on_mutation(run_check, check_id, case, breaks):
    with pytest.raises(ConformanceFailure) as failure:
        run_check(check_id, case, (breaks.mutation,), breaks.profile)
    assert breaks.says.format(case=case) in failure.value.requirement
    assert breaks.actual in failure.value.actual


@parametrized("check_id,case,mutation", _either_cases)
def test_passes_either_allowed_outcome(run_check, check_id, case, mutation):
    run_check(check_id, case, (mutation,))


@parametrized("check_id,case,mutations,changes,reason", _skip_cases)
def test_skips_say_what_to_add(run_check, check_id, case, mutations, changes, reason):
    with pytest.raises(pytest.skip.Exception) as skipped:
        run_check(check_id, case, mutations, changes, may_skip=True)
    assert reason in str(skipped.value)


@parametrized("check_id,case,mutation,names", _diagnosis_cases)
def test_failures_diagnose_the_front_server(run_check, check_id, case, mutation, names):
    with pytest.raises(ConformanceFailure) as failure:
        run_check(check_id, case, (mutation,))
    assert names in failure.value.actual


GENERIC_TESTS = (
    test_every_case_has_a_failing_mutation,
    test_passes_on_stock_lms,
    test_fails_on_mutation,
    test_passes_either_allowed_outcome,
    test_skips_say_what_to_add,
    test_failures_diagnose_the_front_server,
)

# What `from tests.units.harness import *` gives a unit module: the generic tests alone.
__all__ = [fn.__name__ for fn in GENERIC_TESTS]
