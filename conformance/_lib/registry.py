"""Check metadata: `@check` gives each check its id, level and area, `@clauses` its clauses,
`@requires` what it needs of the profile, and the function's docstring its title."""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest

if TYPE_CHECKING:
    from conformance._lib.profile import Profile

__all__ = [
    "AREAS",
    "CHECKS_DIR",
    "LEVELS",
    "REGISTRY",
    "REQUIREMENTS",
    "SKIP_KINDS",
    "CheckMeta",
    "Requirement",
    "blocked",
    "check",
    "clauses",
    "load_checks",
    "matches",
    "missing_requirement",
    "need",
    "not_applicable",
    "not_verified",
    "parse_skip",
    "requires",
    "skip_reason",
    "suggest",
]

LEVELS = ("MUST", "SHOULD", "MAY")
AREAS = (
    "token-endpoint",
    "response-schema",
    "jwt",
    "bad-credentials",
    "resources",
    "transport",
    "jwt-attacks",
    "revocation",
    "services",
    "key-rotation",
    "authorization-code",
    "jwt-cookies",
    "accounts",
    "advisories",
)
# Why a case did not reach a verdict. Kept apart everywhere (console, summary.json, JUnit, Allure):
#   not-applicable  the profile describes no such thing (no [[services]], a loopback http instance)
#   not-verified    the check applies but needs a profile key (the key is named)
#   opt-in          a costly check the profile left off
#   inconclusive    it applies and should have run, but a runtime reason stopped it (rate limit,
#                   request budget, repeated timeouts, an interrupted run)
#   blocked         a control it depends on failed (the key is the control's check id): never passed,
#                   never failed; the control's own failure decides the exit
SKIP_KINDS = ("not-applicable", "not-verified", "opt-in", "inconclusive", "blocked")


@dataclass(frozen=True)
class Requirement:
    """What a check may require of a profile: the kind of skip without it, the profile key that
    provides it, and what the operator adds."""

    kind: str
    key: str
    hint: str
    provided: Callable[[Profile], bool]


def _profile_sets(kind: str, key: str, hint: str, member: str = "") -> Requirement:
    """A requirement met when the profile gives the dotted ``key`` a value (or, with ``member``, when
    the table at ``key`` gives ``member`` one)."""
    path = key.split(".") + ([member] if member else [])

    def provided(profile: Profile) -> bool:
        value: Any = profile.data
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return bool(value)

    return Requirement(kind, key, hint, provided)


REQUIREMENTS: dict[str, Requirement] = {
    "password_grant": Requirement(
        "not-verified",
        "password_grant",
        "add a [password_grant] section (public client id, test user) to the profile",
        lambda p: p.has_password_grant,
    ),
    "jwks": _profile_sets(
        "not-verified",
        "jwt.jwks",
        "add jwt.jwks (the public JWK set: a file, inline JSON, ${ENV} or an https URL)",
    ),
    "hs256_secret": _profile_sets(
        "not-verified",
        "jwt.hs256_secret",
        'add jwt.hs256_secret = "${...}" (JWT_SECRET_KEY) to verify HS256 tokens and re-sign test tokens',
    ),
    "opaque_tokens": _profile_sets(
        "not-applicable",
        "expect.opaque_tokens",
        "set expect.opaque_tokens = true if the instance issues opaque Bearer tokens",
    ),
    "bearer_resource": _profile_sets(
        "not-applicable",
        "resources.bearer",
        "set resources.bearer = true if the probe accepts Bearer tokens",
    ),
    "services": _profile_sets(
        "not-applicable",
        "services",
        "add a [[services]] entry (name, base_url, probe) for each service that must accept the LMS's JWTs",
    ),
    "https": Requirement(
        "not-applicable",
        "base_url",
        "transport checks run only against an https base_url that is not loopback "
        "(or set options.loopback_tls = true for a loopback https instance)",
        lambda p: p.is_https and (not p.is_loopback or bool(p.get("options", "loopback_tls"))),
    ),
    "throttle_probe": _profile_sets(
        "opt-in",
        "options.throttle_probe",
        "set options.throttle_probe = true to send repeated wrong secrets (uses up the rate limit)",
    ),
    "wait_for_expiry": _profile_sets(
        "opt-in",
        "options.wait_for_expiry",
        "set options.wait_for_expiry = true to wait for a real token to expire",
    ),
    "rfc9068": Requirement(
        "not-applicable",
        "jwt.mode",
        'set jwt.mode = "rfc9068" for RFC 9068 access tokens',
        lambda p: p.get("jwt", "mode") == "rfc9068",
    ),
    "token_path_default": Requirement(
        "not-applicable",
        "token_path",
        "runs only where token_path is the LMS's /oauth2/access_token",
        lambda p: p.data["token_path"] == "/oauth2/access_token",
    ),
    "rotation_key": _profile_sets(
        "not-applicable",
        "jwt.rotation_key",
        "during a signing-key rotation, set jwt.rotation_key to the NEW private key (a file or ${ENV}) "
        "before the LMS switches to it: the preflight signs a control token with it",
    ),
    # ---- sign-in flows (authorization-code, jwt-cookies) ----
    "login": Requirement(
        "not-verified",
        "login",
        "add a [login] section (a test user's username and password; [password_grant]'s user is "
        "the default) so that the suite may sign in through the LMS's login API",
        lambda p: p.login is not None,
    ),
    "sso_clients": _profile_sets(
        "not-applicable",
        "sso_clients",
        "add an [[sso_clients]] entry (name, client_id, redirect_uri) for each service that signs "
        "users in through the LMS (Tutor: cms-sso)",
    ),
    "sso_client_secret": Requirement(
        "not-verified",
        "sso_clients.client_secret",
        'add client_secret = "${...}" to the [[sso_clients]] entry to exchange its codes',
        lambda p: any(c.get("client_secret") for c in p.data.get("sso_clients", [])),
    ),
    "mfe_origin": _profile_sets(
        "not-verified",
        "jwt_cookies.mfe_origin",
        'add [jwt_cookies] mfe_origin = "https://apps.example.org" (where the MFEs are served)',
    ),
    "https_base_url": Requirement(
        "not-applicable",
        "base_url",
        "runs only when base_url is https (cookies are Secure only on https)",
        lambda p: p.is_https,
    ),
    # Test accounts and applications the LMS must refuse ([accounts] in the profile).
    "inactive_user": _profile_sets(
        "not-verified",
        "accounts.inactive_user",
        "add [accounts.inactive_user] (username, password of an unactivated test learner)",
        member="username",
    ),
    "disabled_user": _profile_sets(
        "not-verified",
        "accounts.disabled_user",
        "add [accounts.disabled_user] (a test learner disabled by support, with its former password)",
        member="username",
    ),
    "disabled_refresh_token": _profile_sets(
        "not-verified",
        "accounts.disabled_user.refresh_token",
        "add accounts.disabled_user.refresh_token (issued to [password_grant].client_id before the "
        "user was disabled)",
    ),
    "restricted_client": _profile_sets(
        "not-verified",
        "accounts.restricted_client",
        "add [accounts.restricted_client] (id, secret of a client-credentials RestrictedApplication)",
        member="id",
    ),
    "deleted_client": _profile_sets(
        "not-verified",
        "accounts.deleted_client",
        "add [accounts.deleted_client] (id, secret of an application that was deleted)",
        member="id",
    ),
    "changed_grant_client": _profile_sets(
        "not-verified",
        "accounts.changed_grant_client",
        "add [accounts.changed_grant_client] (id, secret of an application whose grant type changed "
        "from client credentials)",
        member="id",
    ),
    # The published sign-in advisories (advisories area).
    "login_rate_limit_probe": _profile_sets(
        "opt-in",
        "options.login_rate_limit_probe",
        "set options.login_rate_limit_probe = true to send more failed logins for one made-up username "
        "than the login's per-username limit (31 login requests by default; no real account is locked)",
    ),
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    level: str
    spec: tuple[str, ...]
    ref: str = ""
    requires: tuple[str, ...] = field(default=())
    # Requirements of single cases, known before anything is sent: ((case id, requirements), ...)
    case_requires: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    # It changes state that other cases read (a shared session, a token an instance may hand out
    # again, the rate limit): it runs after them, at the end of the run, with nothing else in flight.
    alone: bool = False

    def requires_of(self, case: str | None) -> tuple[str, ...]:
        """What a case needs of the profile: the check's requirements, then the case's own."""
        extra = next((reqs for name, reqs in self.case_requires if name == case), ())
        return self.requires + tuple(r for r in extra if r not in self.requires)

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref": self.ref,
            "title": self.title,
            "area": self.area,
            "level": self.level,
            "spec": list(self.spec),
            "requires": list(self.requires),
        }


REGISTRY: dict[str, CheckMeta] = {}
# The check modules (`test_<area>.py`): importing them fills REGISTRY.
CHECKS_DIR = Path(__file__).resolve().parents[1] / "checks"


def load_checks() -> dict[str, CheckMeta]:
    """Every registered check by id, after importing every check module (no instance contacted)."""
    for module in pkgutil.iter_modules([str(CHECKS_DIR)]):
        if module.name.startswith("test_"):
            importlib.import_module(f"conformance.checks.{module.name}")
    return dict(REGISTRY)


def check(
    id: str,
    title: str = "",
    *,
    level: str,
    spec: list[str] | tuple[str, ...] = (),
    ref: str = "",
    requires: list[str] | tuple[str, ...] = (),
    case_requires: dict[str, list[str] | tuple[str, ...]] | None = None,
    alone: bool = False,
) -> Callable[[F], F]:
    """Register a check; the plugin reads the `oauth_check` mark for labels, skips and summary.
    Its title is the first paragraph of the function's docstring, its clauses are named by
    `@clauses(...)` and what it needs of the profile by `@requires(...)`, both below `@check`
    (`title`, `spec` and `requires` say the same as arguments). `case_requires` names what single
    cases need ({"asymmetric": ["jwks"]}), so that a dry run and the coverage report know before
    anything is sent. `alone`: the check changes state other cases read, so it never runs beside
    them (`_lib/schedule.py`)."""

    def decorate(fn: F) -> F:
        doc = " ".join((inspect.getdoc(fn) or "").split("\n\n")[0].split())
        named = fn.__dict__.get(_CLAUSES, ())
        needs = fn.__dict__.get(_NEEDS, ())
        if (title and doc) or (spec and named) or (requires and needs):
            raise ValueError(
                f"{id}: title, clauses or requirements given twice (argument and docstring/decorator)"
            )
        per_case = tuple((case, tuple(reqs)) for case, reqs in (case_requires or {}).items())
        meta = CheckMeta(
            id, title or doc, level, tuple(spec) or named, ref, tuple(requires) or needs, per_case, alone
        )
        _validate(meta)
        if id in REGISTRY and REGISTRY[id] != meta:
            raise ValueError(f"check id {id} registered twice")
        REGISTRY[id] = meta
        fn.__dict__["oauth_check"] = meta
        if "signin" in inspect.signature(fn).parameters:
            # One user's sessions: the LMS keeps one per user (PREVENT_CONCURRENT_LOGINS), so the
            # checks that sign in share one process under --workers (pytest-xdist loadgroup).
            fn = pytest.mark.xdist_group("signin")(fn)
        return pytest.mark.oauth_check(meta)(fn)  # type: ignore[no-any-return]

    return decorate


def _validate(meta: CheckMeta) -> None:
    if not meta.title:
        raise ValueError(f"{meta.id}: no title (the check function's docstring)")
    if not meta.spec:
        raise ValueError(f"{meta.id}: no clause (@clauses below @check)")
    if meta.level not in LEVELS:
        raise ValueError(f"{meta.id}: level {meta.level!r} is not one of {LEVELS}")
    if meta.area not in AREAS:
        raise ValueError(f"{meta.id}: area {meta.area!r} is not one of {AREAS}")
    unknown = {r for _, reqs in meta.case_requires for r in reqs} | set(meta.requires)
    unknown -= set(REQUIREMENTS)
    if unknown:
        raise ValueError(f"{meta.id}: unknown requirement(s) {sorted(unknown)}")


# Where `@clauses` and `@requires` leave their values for `@check` (which is applied after them).
_CLAUSES = "oauth_clauses"
_NEEDS = "oauth_needs"


def _declare(attr: str, decorator: str, values: tuple[str, ...]) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        if "oauth_check" in fn.__dict__:
            raise TypeError(f"{fn.__name__}: {decorator} goes below @check, which has already registered it")
        fn.__dict__[attr] = values
        return fn

    return decorate


def clauses(*spec: str) -> Callable[[F], F]:
    """The clauses a check verifies (`RFC6749-5.1`, `oauth-2`; links from `_lib/spec.py`); below `@check`."""
    return _declare(_CLAUSES, "@clauses", spec)


def requires(*names: str) -> Callable[[F], F]:
    """What a check needs of the profile (keys of REQUIREMENTS: without one, the case is skipped with
    that requirement's kind and hint); below `@check`."""
    return _declare(_NEEDS, "@requires", names)


def missing_requirement(profile: Profile, requires: tuple[str, ...] | list[str]) -> str | None:
    """Why a check cannot run against this profile (a skip reason naming its kind and key), or None."""
    missing = [r for r in requires if not REQUIREMENTS[r].provided(profile)]
    if not missing:
        return None
    req = REQUIREMENTS[missing[0]]
    return skip_reason(req.kind, req.key, req.hint)


def need(profile: Profile, *requires: str) -> None:
    """Skip the current case (with its kind and what to add to the profile) unless the profile
    provides what it requires."""
    reason = missing_requirement(profile, requires)
    if reason:
        pytest.skip(reason)


def skip_reason(kind: str, key: str, hint: str) -> str:
    """The one spelling of a skip reason: `kind (key): hint`; `parse_skip` reads it back (it travels
    as text through pytest's reports, JUnit and pytest-xdist)."""
    if kind not in SKIP_KINDS:
        raise ValueError(f"skip kind {kind!r} is not one of {SKIP_KINDS}")
    return f"{kind} ({key}): {hint}" if key else f"{kind}: {hint}"


_SKIP = re.compile(r"^(?:Skipped: )?(" + "|".join(SKIP_KINDS) + r")(?: \(([^)]*)\))?: (.*)$", re.S)


def parse_skip(reason: str) -> tuple[str, str, str]:
    """(kind, key, text) of a skip reason. A skip that names no kind is *inconclusive*: a check that
    did not say why it stopped is never counted as covered or as not applicable."""
    match = _SKIP.match(reason.strip())
    if match is None:
        return "inconclusive", "", reason.strip().removeprefix("Skipped: ")
    return match.group(1), match.group(2) or "", match.group(3)


def not_applicable(hint: str, key: str = "") -> NoReturn:
    """Skip: the instance or profile has no such thing to check (say what would make it apply)."""
    pytest.skip(skip_reason("not-applicable", key, hint))


def blocked(control: str, hint: str) -> NoReturn:
    """Skip: a control this case depends on failed (`control` is the check id that reports it)."""
    pytest.skip(skip_reason("blocked", control, hint))


def not_verified(key: str, hint: str) -> NoReturn:
    """Skip: the check applies but cannot reach a verdict without `key` (say what to add)."""
    pytest.skip(skip_reason("not-verified", key, hint))


def matches(meta: CheckMeta, selector: str, case: str | None = None) -> bool:
    """A selector is a check id, an id prefix (dotted), an area, a catalogue ref (TE-01), a case
    (`id[case]`, literally), or a glob with `*` over ids and cases (`jwt.claims.*`)."""
    selector = selector.strip()
    if "*" in selector:
        pattern = selector.replace("[", "[[]")
        return fnmatch.fnmatchcase(meta.id, pattern) or (
            case is not None and fnmatch.fnmatchcase(case, pattern)
        )
    if "[" in selector:
        return case == selector
    return (
        meta.id == selector
        or meta.id.startswith(selector.rstrip(".") + ".")
        or meta.area == selector
        or (bool(meta.ref) and meta.ref.lower() == selector.lower())
    )


def suggest(selector: str, checks: Iterable[CheckMeta], cases: Iterable[str] = ()) -> str:
    """' (did you mean ...?)' for a selector that matches nothing, or ''."""
    names = {m.id for m in checks} | {m.area for m in checks} | {m.ref for m in checks if m.ref}
    names |= set(cases)
    guess = difflib.get_close_matches(selector.strip(), sorted(names), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(g) for g in guess)}?)" if guess else ""
