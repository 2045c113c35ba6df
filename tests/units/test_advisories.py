"""The unit cases of the advisories checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import ACCOUNTS, Unit, fails, unit

AREA = "advisories"

TABLE: dict[str, Unit] = {
    "advisories.account-api.no-activation-key": unit(
        fails(Defect.ACTIVATION_KEY_EXPOSED, "the account API does not list activation_key"),
    ),
    "advisories.logout.next-escaped": unit(
        fails(Defect.LOGOUT_NEXT_UNESCAPED, "the logout page escapes or drops a {case}"),
    ),
    "advisories.logout.no-open-redirect": unit(
        fails(Defect.LOGOUT_OPEN_REDIRECT, "an unsafe redirect_url ({case}) falls back to a safe target"),
    ),
    "advisories.login.no-open-redirect": unit(
        fails(Defect.LOGIN_OPEN_REDIRECT, "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.auth-inactive.no-open-redirect": unit(
        fails(Defect.INACTIVE_OPEN_REDIRECT, "an unsafe next ({case}) falls back to the dashboard"),
    ),
    "advisories.xblock-handler.restricted-jwt-refused": unit(
        fails(Defect.XBLOCK_RESTRICTED_JWT_ACCEPTED, "an XBlock handler refuses a restricted JWT"),
        profile=ACCOUNTS,
    ),
    "advisories.user-api.not-cacheable": unit(
        fails(Defect.USER_API_CACHEABLE, "signed in is marked private or no-store"),
    ),
    "advisories.login.rate-limited-by-username": unit(
        fails(Defect.LOGIN_NO_USERNAME_RATELIMIT, "failed logins for one username the login API answers"),
        profile={"options": {"login_rate_limit_probe": True}},
    ),
}
