"""The faults of the advisories area: each published sign-in advisory's unpatched behaviour."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import USER_API, ResponseHeaderSet
from conformance.reference.faults.model import Fault

# Every fault of this module is of the advisories area.
_fault = partial(Fault, area="advisories")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.ACCOUNT_API_ACTIVATION_KEY,
        description=(
            "An image built without the April 2026 fix (GHSA-m6rg-rp98-4crw): the account API lists "
            "activation_key in a user's own account, so a password-grant token of an unactivated "
            "account can read the key and activate it without the e-mail."
        ),
        catches=["advisories.account-api.no-activation-key"],
    ),
    _fault(
        name=Defect.LOGOUT_NEXT_UNESCAPED,
        description=(
            "A theme's logout.html from before the 2022 fix (CVE-2022-32195) writes the logout target "
            "into the page unescaped: a crafted next breaks out of the attribute (reflected XSS)."
        ),
        catches=["advisories.logout.next-escaped"],
    ),
    _fault(
        name=Defect.LOGOUT_OPEN_REDIRECT,
        description=(
            "A LogoutView from before the 2022 redirect fixes: redirect_url and next are followed "
            "without the safe-redirect test, to any host."
        ),
        catches=["advisories.logout.no-open-redirect"],
    ),
    _fault(
        name=Defect.LOGIN_OPEN_REDIRECT,
        description=(
            "get_next_url_for_login_page from before the 2022 redirect fixes: a signed-in user's "
            "/login?next= is followed to any host."
        ),
        catches=["advisories.login.no-open-redirect"],
    ),
    _fault(
        name=Defect.INACTIVE_NEXT_OPEN_REDIRECT,
        description=(
            "The third-party-auth inactive-user view from before the April 2022 fix: "
            "/auth/inactive?next= redirects anywhere."
        ),
        catches=["advisories.auth-inactive.no-open-redirect"],
    ),
    _fault(
        name=Defect.XBLOCK_HANDLER_RESTRICTED_JWT,
        description=(
            "An XBlock handler from before the January 2024 fix (CVE-2024-22209): a RestrictedApplication's "
            "JWT authenticates its owner there like any other user's."
        ),
        catches=["advisories.xblock-handler.restricted-jwt-refused"],
    ),
    _fault(
        name=Defect.USER_API_CACHEABLE,
        description=(
            "A CDN or proxy rule caches the user API: signed-in answers leave as Cache-Control: public, "
            "max-age=300 (CVE-2025-65681), so a shared cache may serve one learner's account data to the "
            "next."
        ),
        effects=(ResponseHeaderSet(USER_API, "Cache-Control", "public, max-age=300"),),
        catches=["advisories.user-api.not-cacheable"],
    ),
    _fault(
        name=Defect.LOGIN_NO_USERNAME_RATELIMIT,
        description=(
            "login_user without its per-username rate limit (before the 2022 rate-limiting fix): only the "
            "per-IP limit stands between a botnet and one learner's password."
        ),
        catches=["advisories.login.rate-limited-by-username"],
        profile={"options": {"login_rate_limit_probe": True, "max_requests": 400}},
    ),
)
