"""Causes, not symptoms: every failed and blocked case of a run tied to one cause, in fix order.

A cause is one of:
- an edge diagnosis: what the web server or proxy in front of the LMS does (`edge.redirect`,
  `edge.dropped-authorization`, `edge.issuer-scheme`; conformance._lib.diagnose);
- a failed control: a flow the checks share, verified once by its own check (the shared token,
  HTTP Basic, the password grant, sign-in, an SSO client's code and its exchange, a service), whose
  dependent cases are *blocked* by it;
- a profile-versus-instance mismatch, worked out once by the check that compares the value
  (`mismatch.issuer`, `mismatch.audience`, `profile-key.<key>`): its failure names the value, and
  any other failure whose message shows that value is explained by it;
- the check itself (`check:<id>`), when nothing above explains a failure.

A failure is tied to a cause by, in this order: the cause its diagnosis named (`Outcome.cause`),
the evidence of another failure's cause found in its message, the control it is, or its check. A
blocked case follows the cause of the control that blocked it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance._lib.diagnose import ASYMMETRIC_TOKEN
from conformance._lib.outcomes import Outcome
from conformance._lib.registry import AREAS, LEVELS

__all__ = ["CONTROLS", "KNOWN", "Cause", "find_causes"]


@dataclass(frozen=True)
class Known:
    kind: str  # edge, control, mismatch, check
    title: str
    fix: str


KNOWN: dict[str, Known] = {
    "edge.redirect": Known(
        "edge",
        "The web server or proxy redirects OAuth requests",
        "exempt the OAuth paths from the redirect rule, or use the URL it redirects to in base_url "
        "(the failures below say which redirect)",
    ),
    "edge.dropped-authorization": Known(
        "edge",
        "The Authorization header is dropped in front of the application",
        "Apache mod_wsgi: `WSGIPassAuthorization On`; a proxy, CDN or WAF: stop stripping the "
        "Authorization header",
    ),
    "edge.error-status": Known(
        "edge",
        "OAuth errors are answered with HTTP 200",
        "find what rewrites the token endpoint's error statuses (a gateway, a middleware, an error "
        "page rule) and let the LMS's 400/401 through",
    ),
    "edge.issuer-scheme": Known(
        "edge",
        "The JWT issuer has the other scheme than the LMS (http issuer behind TLS, or the reverse)",
        "behind a TLS proxy, send X-Forwarded-Proto: https (SECURE_PROXY_SSL_HEADER) and set Tutor's "
        "ENABLE_HTTPS so that JWT_ISSUER is the https URL; or fix jwt.issuer in the profile",
    ),
    "basic-auth": Known(
        "control",
        "HTTP Basic client authentication fails while the form body works",
        "Apache mod_wsgi: `WSGIPassAuthorization On`; a proxy rule that strips Authorization (nginx "
        '`proxy_set_header Authorization "";`); or the token endpoint reads only the body',
    ),
    "shared-token": Known(
        "control",
        "The confidential client gets no token (client_credentials, credentials in the form body)",
        "check [client] id and secret against the LMS's application (Django admin, DOT "
        "applications): a confidential client-credentials application, and the token path",
    ),
    "password-grant": Known(
        "control",
        "The password grant gets no token for the test user",
        "check [password_grant]: a public password-grant application and an active test user with "
        "that password",
    ),
    "sign-in": Known(
        "control",
        "The test user cannot sign in through the LMS's login API (CSRF token, then login)",
        "the LMS must answer GET /csrf/api/v1/token and POST /api/user/v2/account/login_session/ "
        "(not blocked by a WAF or proxy), and [login] must be an active user with that password",
    ),
    "sso-code": Known(
        "control",
        "An SSO client gets no authorization code for its registered redirect URI",
        "check the [[sso_clients]] entry against its DOT application (client id, redirect URI, "
        "authorization-code grant); re-run Tutor's init after changing hosts or ENABLE_HTTPS",
    ),
    "sso-exchange": Known(
        "control",
        "An SSO client's authorization code is not exchanged for a token",
        "check the [[sso_clients]] client_secret and the application's grant type and redirect URI",
    ),
    "service": Known(
        "control",
        "A service does not accept the LMS's tokens (or does not answer)",
        "make the service's JWT_AUTH (JWT_ISSUERS, JWT_PUBLIC_SIGNING_JWK_SET) agree with the LMS, "
        "and the service reachable at its base_url (the failure below says which differs)",
    ),
    "api-lets-in": Known(
        "check",
        "The LMS's API lets in requests it must refuse (forged, garbage, restricted or no credentials)",
        "the API must authenticate with edx-drf-extensions' JwtAuthentication (signature, alg, kid, "
        "exp, restricted applications) and refuse anonymous requests: look for a custom "
        "JWT_DECODE_HANDLER, authentication class or permission; the failures below name what passed",
    ),
    "wrong-secret-accepted": Known(
        "check",
        "Wrong client credentials are not refused as RFC 6749 5.2 says "
        "(a token, or not a 401 invalid_client)",
        "client secrets must be compared whole and exactly (django-oauth-toolkit's own check); look "
        "for a custom OAuth2 validator or authentication backend; the failures below name the variants",
    ),
    "jwt-cookies": Known(
        "control",
        "Signing in sets no JWT cookies (the micro-frontends get no JWT)",
        "the LMS's login must set edx-jwt-cookie-header-payload and edx-jwt-cookie-signature "
        "(user_authn set_logged_in_cookies; JWT_AUTH_COOKIE_* settings)",
    ),
    "asymmetric-token": Known(
        "control",
        "The asymmetric (RS512) token is not issued as asked",
        "asymmetric_jwt=true must get an RS512 token signed with JWT_PRIVATE_SIGNING_JWK "
        "(a complete private RSA key, its public half in JWT_PUBLIC_SIGNING_JWK_SET)",
    ),
    "jwk-set": Known(
        "check",
        "The published JWK set has a key that is not sound (private, short, duplicate or malformed)",
        "publish only complete public RSA keys of 2048 bits or more, each with its own kid "
        "(JWT_PUBLIC_SIGNING_JWK_SET; docs/key-rotation.md); the failures below name the key",
    ),
    "cache-headers": Known(
        "check",
        "Token endpoint responses may be cached (Cache-Control: no-store / Pragma: no-cache missing)",
        "let the LMS's headers through: a proxy or cache rule in front strips or replaces them",
    ),
    "kid": Known(
        "check",
        "The kid in the LMS's tokens does not name the key that signed them",
        "JWT_PRIVATE_SIGNING_JWK and JWT_PUBLIC_SIGNING_JWK_SET must use the same kid for the key",
    ),
    "rotation-key": Known(
        "check",
        "The new signing key (jwt.rotation_key) is not ready to switch to",
        "publish the new key's public half in JWT_PUBLIC_SIGNING_JWK_SET of the LMS and of every "
        "service before the LMS signs with it (docs/key-rotation.md)",
    ),
    "mismatch.issuer": Known(
        "mismatch",
        "The JWT issuer differs from the profile's (and the services')",
        "make the LMS's JWT_ISSUER (Tutor: derived from LMS_HOST and ENABLE_HTTPS) and jwt.issuer in "
        "the profile, and every service's JWT_ISSUERS, the same URL",
    ),
    "mismatch.audience": Known(
        "mismatch",
        "The JWT audience differs from the profile's (and the services')",
        "make the LMS's JWT_AUDIENCE, jwt.audience in the profile and every service's "
        "JWT_ISSUERS[0]['AUDIENCE'] the same value",
    ),
    "profile-key.jwt.hs256_secret": Known(
        "mismatch",
        "The profile's jwt.hs256_secret is not the LMS's JWT secret",
        "set jwt.hs256_secret to the LMS's JWT_SECRET_KEY (JWT_AUTH['JWT_SECRET_KEY'])",
    ),
    "profile-key.jwt.jwks": Known(
        "mismatch",
        "The profile's jwt.jwks does not verify the LMS's RS512 tokens",
        "set jwt.jwks to the LMS's JWT_PUBLIC_SIGNING_JWK_SET (the public half of the key it signs with)",
    ),
}

# Batteries: checks that send variants of one attack, whose failures are one finding.
BATTERIES: dict[str, str] = {
    **dict.fromkeys(
        (
            "jwt-attacks.tampered-payload",
            "jwt-attacks.bad-signature",
            "jwt-attacks.alg-none",
            "jwt-attacks.key-confusion",
            "jwt-attacks.header-keys",
            "jwt-attacks.kid",
            "jwt-cookies.lms.mismatched-refused",
            "resources.no-credentials.refused",
            "resources.garbage-token.refused",
            "resources.query-token.refused",
            "resources.scheme.mismatch",
            "accounts.restricted-client.refused",
        ),
        "api-lets-in",
    ),
    **dict.fromkeys(
        (
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.secret.variant",
            "bad-credentials.secret.variant-basic",
            "bad-credentials.client.unknown",
            "accounts.deleted-client.no-token",
        ),
        "wrong-secret-accepted",
    ),
    **dict.fromkeys(
        (
            "jwt.jwks.well-formed",
            "jwt.jwks.public-only",
            "jwt.jwks.rsa-2048",
            "jwt.jwks.distinct-kids",
            "key-rotation.jwks.keys",
        ),
        "jwk-set",
    ),
    **dict.fromkeys(
        (
            "response-schema.cache-control.no-store",
            "response-schema.cache-control.error-no-store",
            "response-schema.pragma.no-cache",
            "response-schema.pragma.error-no-cache",
        ),
        "cache-headers",
    ),
    **dict.fromkeys(("jwt.header.kid", "key-rotation.lms.kid"), "kid"),
    **dict.fromkeys(
        ("key-rotation.preflight.new-key", "key-rotation.preflight.lms", "key-rotation.preflight.service"),
        "rotation-key",
    ),
}
# The check that verifies each shared flow once, and the cause its failure is.
CONTROLS: dict[str, str] = {
    "token-endpoint.client-credentials.body-auth": "shared-token",
    "token-endpoint.client-credentials.basic-auth": "basic-auth",
    "token-endpoint.password.grant[good-credentials]": "password-grant",
    "jwt-cookies.login.signs-in": "sign-in",
    "authorization-code.redirect-uri.registered": "sso-code",
    "services.genuine.accepted": "service",
    ASYMMETRIC_TOKEN: "asymmetric-token",
    "jwt-cookies.login.set": "jwt-cookies",
}
# The order an operator should fix them in: the edge first (it breaks what is behind it), then the
# flows everything shares, then the values the profile and the instance disagree on, then what the
# LMS does wrong (check causes, the most explaining first), and last the services (a service that
# refuses the LMS's tokens often does so because of one of the above).
ORDER = (
    "edge.redirect",
    "edge.dropped-authorization",
    "edge.error-status",
    "shared-token",
    "basic-auth",
    "password-grant",
    "asymmetric-token",
    "sign-in",
    "jwt-cookies",
    "sso-code",
    "sso-exchange",
    "edge.issuer-scheme",
    "mismatch.issuer",
    "mismatch.audience",
    "profile-key.jwt.hs256_secret",
    "profile-key.jwt.jwks",
)
_CASE = re.compile(r"\[(.*)\]$")


@dataclass
class Cause:
    id: str
    kind: str
    title: str
    fix: str
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _base(cause_id: str) -> str:
    return cause_id.split(":", 1)[0] if not cause_id.startswith("check:") else "check"


def _fix_of(message: str) -> str:
    for line in message.splitlines():
        if line.startswith("fix:"):
            return line.removeprefix("fix:").strip()
    return ""


def _control_cause(outcome: Outcome) -> str:
    if outcome.case in CONTROLS:  # a control that is one case of its check
        return CONTROLS[outcome.case]
    base = CONTROLS.get(outcome.meta.id, "")
    if not base:
        return ""
    case = _CASE.search(outcome.case)
    return f"{base}:{case.group(1)}" if case and case.group(1) not in ("", "none") else base


def find_causes(outcomes: Iterable[Outcome]) -> list[Cause]:
    """The causes of a run's failed and blocked cases, in the order to fix them."""
    cases = list(outcomes)
    failed = [o for o in cases if o.outcome == "failed" and not o.message.startswith("stale waiver")]
    evidence = [
        (o.cause, e)
        for o in failed
        if o.cause and not o.cause.startswith("same-as:")
        for e in o.evidence
        if e
    ]
    causes: dict[str, Cause] = {}
    cause_of_case: dict[str, str] = {}

    def add(cause_id: str, outcome: Outcome, bucket: str) -> None:
        cause = causes.get(cause_id)
        if cause is None:
            known = KNOWN.get(_base(cause_id))
            if known is not None:
                subject = cause_id.split(":", 1)[1] if ":" in cause_id else ""
                title = known.title + (f" ({subject})" if subject else "")
                cause = Cause(cause_id, known.kind, title, known.fix)
            elif cause_id.startswith("blocked:"):
                control = cause_id.removeprefix("blocked:")
                cause = Cause(
                    cause_id,
                    "control",
                    f"A control did not pass in this run: {control}",
                    f"run {control} (select it too), or see why it did not reach a verdict",
                )
            else:
                fix = _fix_of(outcome.message) or "see the failure: requirement, expected and actual"
                cause = Cause(cause_id, "check", f"{outcome.meta.id}: {outcome.meta.title}", fix)
            causes[cause_id] = cause
        getattr(cause, bucket).append(outcome.case)

    # A failure tagged `same-as:<case>` has the cause of that case (a control that failed too).
    deferred = [o for o in failed if o.cause.startswith("same-as:")]
    for outcome in [o for o in failed if o not in deferred] + deferred:
        tagged = outcome.cause
        if tagged.startswith("same-as:"):  # one case, or several (a|b): the first that failed
            targets = tagged.removeprefix("same-as:").split("|")
            tagged = next((cause_of_case[t] for t in targets if t in cause_of_case), "")
        cause_id = (
            tagged
            or next((c for c, e in evidence if e in outcome.message), "")
            or _control_cause(outcome)
            or BATTERIES.get(outcome.meta.id, "")
            or f"check:{outcome.meta.id}"
        )
        cause_of_case[outcome.case] = cause_id
        cause_of_case.setdefault(outcome.meta.id, cause_id)
        add(cause_id, outcome, "failed")
    for outcome in cases:
        if outcome.blocked:
            add(cause_of_case.get(outcome.skip_key) or f"blocked:{outcome.skip_key}", outcome, "blocked")
    # A check's cause that another failure reached first (by its evidence) is titled by its check.
    own = {o.meta.id: o for o in failed}
    for cause in causes.values():
        check_id = cause.id.removeprefix("check:")
        if cause.id.startswith("check:") and check_id in own:
            cause.title = f"{check_id}: {own[check_id].meta.title}"
            cause.fix = _fix_of(own[check_id].message) or cause.fix

    level_of = {o.case: LEVELS.index(o.meta.level) for o in failed if o.meta.level in LEVELS}
    area_of = {o.case: AREAS.index(o.meta.area) for o in failed if o.meta.area in AREAS}

    def rank(cause: Cause) -> tuple[int, int, int, int, str]:
        base = _base(cause.id)
        if base in ORDER:
            position = ORDER.index(base)
        else:  # checks and batteries, then the services, then controls that did not run
            position = len(ORDER) + {"service": 1, "blocked": 2}.get(base, 0)
        # Among the rest: MUST findings before SHOULD and MAY ones, the token endpoint's before
        # what is built on it (the catalogue's area order), then the one that explains most.
        level = min((level_of.get(c, len(LEVELS)) for c in cause.failed), default=len(LEVELS))
        area = min((area_of.get(c, len(AREAS)) for c in cause.failed), default=len(AREAS))
        return (position, level, area, -(len(cause.failed) + len(cause.blocked)), cause.id)

    return sorted(causes.values(), key=rank)
