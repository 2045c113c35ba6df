"""The instance's security posture against RFC 9700 (OAuth 2.0 Security Best Current Practice,
January 2025): a report section, not failures, where the platform deviates on purpose.

Each item is read from the outcomes of the checks that observe it (and the profile): `follows`,
`deviates` (with why the platform does), or `not observed` (none of its checks reached a verdict).
`dot_upgrade` (with `run --target-release`) says what a django-oauth-toolkit upgrade would change for
the profile's clients. Sources: docs/clauses.md and the DOT changelog linked below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance._lib.profile import is_loopback_url
from conformance._lib.spec import clause_url

if TYPE_CHECKING:
    from conformance._lib.outcomes import Outcome
    from conformance._lib.profile import Profile

__all__ = ["ITEMS", "PostureItem", "annotate_summary", "build", "console_lines", "dot_upgrade"]

REFERENCE = "RFC 9700 (OAuth 2.0 Security Best Current Practice, January 2025)"
DOT_CHANGELOG = "https://github.com/jazzband/django-oauth-toolkit/blob/2.0.0/CHANGELOG.md"


@dataclass(frozen=True)
class PostureItem:
    """One recommendation: its clause, what RFC 9700 asks, the checks that observe it, and whether
    a passing check shows the practice followed (`passed_means`) or the deviation."""

    id: str
    clause: str
    title: str
    asks: str
    checks: tuple[str, ...]
    passed_means: str  # "follows" or "deviates"
    why: str = ""  # why the platform deviates (when it does on purpose)
    note: str = ""  # what the checks cannot tell apart, said whatever the status


ITEMS: tuple[PostureItem, ...] = (
    PostureItem(
        "password-grant",
        "RFC9700-2.4",
        "The resource owner password credentials grant is not offered",
        "MUST NOT",
        ("token-endpoint.password.grant",),
        "deviates",
        "the platform's mobile apps and its login client sign in with it; MAY for the platform",
    ),
    PostureItem(
        "pkce-confidential",
        "RFC9700-2.1.1",
        "PKCE is required of every client, confidential ones too",
        "SHOULD (MUST for public clients)",
        ("authorization-code.exchange.token",),
        "deviates",
        "django-oauth-toolkit 1.7.1 does not require PKCE, PKCE_REQUIRED being false, and the "
        "services' sign-in (auth-backends) sends none; a code requested with a challenge does need "
        "its verifier",
    ),
    PostureItem(
        "redirect-uri-exact",
        "RFC9700-4.1.3",
        "Redirect URIs are matched exactly",
        "MUST",
        ("authorization-code.redirect-uri.unregistered-refused",),
        "follows",
        note="scheme, host and path compared exactly; django-oauth-toolkit 1.7.1 also accepts an added "
        "query (the registered one must be a subset): authorization-code.redirect-uri.extra-query "
        "says which this instance does",
    ),
    PostureItem(
        "code-single-use",
        "RFC9700-4.2.4",
        "Authorization codes are single-use",
        "MUST",
        ("authorization-code.code.single-use",),
        "follows",
    ),
    PostureItem(
        "public-refresh-rotated",
        "RFC9700-4.14.2",
        "Refresh tokens of public clients are rotated (or sender-constrained)",
        "MUST",
        ("token-endpoint.refresh.rotation",),
        "follows",
    ),
    PostureItem(
        "https-redirect-uris",
        "RFC9700-2.6",
        "No plain-http redirect URI is registered (loopback aside)",
        "SHOULD NOT use http",
        ("authorization-code.redirect-uri.registered",),
        "follows",
        "an instance served over http registers its services' redirect URIs with http",
    ),
    PostureItem(
        "audience-restricted",
        "RFC9700-2.3",
        "Access tokens are audience-restricted",
        "SHOULD",
        ("jwt.claims.aud", "resources.jwt.wrong-audience", "services.audience.checked"),
        "follows",
        "",
    ),
)


def _verdict(outcomes: Iterable[Outcome], check_ids: tuple[str, ...]) -> str | None:
    """passed, failed, or None (no case of the checks reached a verdict)."""
    seen = [o.outcome for o in outcomes if o.meta.id in check_ids and o.outcome in ("passed", "failed")]
    if not seen:
        return None
    return "failed" if "failed" in seen else "passed"


def _http_redirect_uris(profile: Profile) -> list[str]:
    return [
        str(c["redirect_uri"])
        for c in profile.data.get("sso_clients") or []
        if urlsplit(str(c.get("redirect_uri", ""))).scheme == "http"
        and not is_loopback_url(str(c["redirect_uri"]))
    ]


def build(outcomes: Iterable[Outcome], profile: Profile) -> dict[str, Any]:
    """The `posture` section of summary.json."""
    outcomes = list(outcomes)
    items = []
    for item in ITEMS:
        verdict = _verdict(outcomes, item.checks)
        if verdict is None:
            status = "not observed"
        elif verdict == "passed":
            status = item.passed_means
        else:
            status = "deviates" if item.passed_means == "follows" else "follows"
        observed = ""
        if item.id == "https-redirect-uris" and verdict == "passed":
            plain = _http_redirect_uris(profile)
            status = "deviates" if plain else "follows"
            observed = f"registered: {', '.join(plain)}" if plain else "no SSO redirect URI is plain http"
        entry = {
            "id": item.id,
            "clause": item.clause,
            "url": clause_url(item.clause),
            "title": item.title,
            "rfc9700": item.asks,
            "status": status,
            "checks": list(item.checks),
        }
        if observed or item.note:
            entry["observed"] = observed or item.note
        if status == "deviates" and item.why:
            entry["why"] = item.why
        items.append(entry)
    return {"reference": REFERENCE, "items": items}


def dot_upgrade(profile: Profile) -> list[dict[str, str]]:
    """What a django-oauth-toolkit upgrade would change for the profile's clients (the platform pins
    1.7.1). 2.x: the DOT 2.0.0 changelog; 3.4: its COMPLIANT_BCP_RFC9700_* settings, named as
    downstream settings files use them (not confirmed in the DOT sources searched, which end at 3.0.1)."""
    changes = [
        {
            "client": "[client]",
            "dot": "2.x",
            "change": "client secrets are hashed on save: the secret keeps working, but cannot be read "
            "back from Django admin (keep the profile's copy)",
            "source": DOT_CHANGELOG,
        }
    ]
    if profile.has_password_grant:
        changes.append(
            {
                "client": "[password_grant].client_id",
                "dot": "3.4 (unverified)",
                "change": "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT = True refuses the password grant: the "
                "mobile apps' sign-in and this suite's password-grant checks stop working",
                "source": "RFC 9700 section 2.4",
            }
        )
    for client in profile.data.get("sso_clients") or []:
        name = f"[[sso_clients]] {client.get('name', client.get('client_id', ''))}"
        changes.append(
            {
                "client": name,
                "dot": "2.x",
                "change": "PKCE_REQUIRED defaults to True: its code requests without code_challenge (the "
                "services' auth-backends send none) are refused unless the LMS sets PKCE_REQUIRED False",
                "source": DOT_CHANGELOG,
            }
        )
        changes.append(
            {
                "client": name,
                "dot": "3.4 (unverified)",
                "change": "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING and _PKCE_METHOD: an added query on "
                "the redirect URI and the plain PKCE method are refused (S256 only)",
                "source": "RFC 9700 sections 4.1.3, 2.1.1",
            }
        )
    return changes


def annotate_summary(
    summary_path: Path, summary: dict[str, Any], profile: Profile, target: str | None
) -> None:
    """With --target-release: add `dot_upgrade` to the posture section of summary.json."""
    if target is None or "posture" not in summary:
        return
    summary["posture"]["dot_upgrade"] = dot_upgrade(profile)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def console_lines(summary: dict[str, Any]) -> list[str]:
    """The console section: one line per item, and the DOT upgrade notes."""
    posture = summary.get("posture")
    if not posture:
        return []
    lines = [f"security posture against {posture['reference']}:"]
    for item in posture["items"]:
        detail = item.get("why") or item.get("observed") or ""
        lines.append(
            f"  {item['status'].upper():12} {item['clause']:15} {item['title']}"
            + (f" ({detail})" if detail else "")
        )
    for change in posture.get("dot_upgrade", []):
        lines.append(f"  DOT {change['dot']}: {change['client']}: {change['change']}")
    return lines
