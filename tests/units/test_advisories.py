"""The unit cases of the advisories checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_advisories import on_advisories
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import ACCOUNTS, Unit, fails, unit

ACTIVATION_KEY_EXPOSED = on_advisories(Defect.ACTIVATION_KEY_EXPOSED, activation_key_hidden=False)
LOGOUT_NEXT_UNESCAPED = on_advisories(Defect.LOGOUT_NEXT_UNESCAPED, logout_target_escaped=False)
LOGOUT_OPEN_REDIRECT = on_advisories(Defect.LOGOUT_OPEN_REDIRECT, logout_redirect_checked=False)
LOGIN_OPEN_REDIRECT = on_advisories(Defect.LOGIN_OPEN_REDIRECT, login_redirect_checked=False)
INACTIVE_OPEN_REDIRECT = on_advisories(Defect.INACTIVE_OPEN_REDIRECT, inactive_redirect_checked=False)
XBLOCK_RESTRICTED_JWT_ACCEPTED = on_advisories(
    Defect.XBLOCK_RESTRICTED_JWT_ACCEPTED, xblock_refuses_restricted=False
)
USER_API_CACHEABLE = on_advisories(Defect.USER_API_CACHEABLE, user_api_private=False)
LOGIN_NO_USERNAME_RATELIMIT = on_advisories(Defect.LOGIN_NO_USERNAME_RATELIMIT, login_username_limit=None)

TABLE: dict[str, Unit] = {
    "advisories.account-api.no-activation-key": unit(
        fails(ACTIVATION_KEY_EXPOSED, "the account API does not list activation_key"),
    ),
    "advisories.logout.next-escaped": unit(
        fails(LOGOUT_NEXT_UNESCAPED, "the logout page escapes or drops a {case}"),
    ),
    "advisories.logout.no-open-redirect": unit(
        fails(LOGOUT_OPEN_REDIRECT, "an unsafe redirect_url ({case}) falls back to a safe target"),
    ),
    "advisories.login.no-open-redirect": unit(
        fails(LOGIN_OPEN_REDIRECT, "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.auth-inactive.no-open-redirect": unit(
        fails(INACTIVE_OPEN_REDIRECT, "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.xblock-handler.restricted-jwt-refused": unit(
        fails(XBLOCK_RESTRICTED_JWT_ACCEPTED, "an XBlock handler refuses a restricted JWT"),
        profile=ACCOUNTS,
    ),
    "advisories.user-api.not-cacheable": unit(
        fails(USER_API_CACHEABLE, "keyed on the session cookie and not marked for shared caches"),
    ),
    "advisories.login.rate-limited-by-username": unit(
        fails(LOGIN_NO_USERNAME_RATELIMIT, "failed logins for one username the login API answers"),
        profile={"options": {"login_rate_limit_probe": True}},
    ),
}
