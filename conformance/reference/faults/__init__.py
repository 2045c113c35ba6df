"""The named faults of the reference instance: the fault table, one module per area, and the switch
the servers read.

Each fault is a real misconfiguration or bug, implemented at the layer where it would live in an
Open edX deployment (a setting, a middleware, a validator hook, the JWT builder, the resource
authentication). Where the fault is data (a header dropped, a status or member rewritten, a claim
removed, a setting changed) its entry declares ``effects`` (``effects.py``), applied in one place
each; where it is code, the servers ask ``is_active(name)`` at that one place.

Per fault the table says what the suite must make of it:
- ``catches``: the check ids (no case brackets) that MUST fail against an instance with the fault;
- ``collateral``: check ids that may fail too, each with the reason (anything else failing is a
  bug in the fault or in a check, and fails the project's fault matrix); shared reasons are in
  ``reasons.py``;
- ``profile``: keys added to (or overriding) the generated profile so that opt-in checks run;
- ``rate_limit``: the token endpoint's rate for this fault (None: the matrix's generous one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.reference.faults import (
    accounts,
    advisories,
    authorization_code,
    bad_credentials,
    jwt,
    jwt_attacks,
    jwt_cookies,
    key_rotation,
    resources,
    response_schema,
    revocation,
    services,
    token_endpoint,
    transport,
)
from conformance.reference.faults.effects import Effect
from conformance.reference.faults.model import Fault

__all__ = [
    "BY_NAME",
    "FAULTS",
    "UNKILLABLE",
    "Fault",
    "active_effects",
    "active_faults",
    "as_json_table",
    "effects_of",
    "is_active",
    "unknown",
]

# Check ids that no fault of the reference instance can make fail, and why.
UNKILLABLE: dict[str, str] = {
    "transport.tls.certificate": "a certificate that does not verify makes the instance unreachable for "
    "every client: the run stops at its reachability probe with exit 3 naming the certificate error "
    "(fault tls-cert-expired), before any check runs",
    "jwt.rfc9068.profile": "runs only in profile mode rfc9068; an Open edX LMS issues no RFC 9068 "
    "tokens (no typ at+jwt, client_id or jti), so that mode fails on a clean instance too",
    "authorization-code.redirect-uri.https": "runs only against an https LMS: needs the TLS reference "
    "(reference serve --tls)",
    "jwt-cookies.flags.secure": "runs only against an https LMS (cookies are Secure only there): needs "
    "the TLS reference (reference serve --tls)",
}

# In the order of the areas (conformance._lib.registry.AREAS).
FAULTS: tuple[Fault, ...] = (
    *token_endpoint.FAULTS,
    *response_schema.FAULTS,
    *jwt.FAULTS,
    *bad_credentials.FAULTS,
    *resources.FAULTS,
    *transport.FAULTS,
    *jwt_attacks.FAULTS,
    *revocation.FAULTS,
    *services.FAULTS,
    *key_rotation.FAULTS,
    *authorization_code.FAULTS,
    *jwt_cookies.FAULTS,
    *accounts.FAULTS,
    *advisories.FAULTS,
)
BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}
if len(BY_NAME) != len(FAULTS):
    raise ValueError("two faults share a name")


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are not faults, in the order given."""
    return [name for name in names if name not in BY_NAME]


def active_faults() -> frozenset[str]:
    """The faults this service process was started with (they travel in its run-time config)."""
    from conformance.reference.runtime import current

    return frozenset(current().faults)


def is_active(name: str) -> bool:
    if name not in BY_NAME:
        raise KeyError(f"unknown fault {name!r}")
    return name in active_faults()


def effects_of(names: Iterable[str]) -> tuple[Effect, ...]:
    """The declared effects of the named faults, in the fault table's order."""
    wanted = set(names)
    return tuple(effect for fault in FAULTS if fault.name in wanted for effect in fault.effects)


def active_effects() -> tuple[Effect, ...]:
    """The declared effects of the faults this service process was started with."""
    return effects_of(active_faults())


def as_json_table() -> list[dict[str, Any]]:
    return [fault.as_dict() for fault in FAULTS]
