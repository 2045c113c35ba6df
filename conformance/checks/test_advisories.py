"""Published Open edX sign-in advisories, checked from outside: is the instance patched?

One check per advisory visible over HTTP, each safe on a production instance: it reads, or acts
only on the test account's own session (an anonymous logout, a signed-in page view); nothing
activates, writes or runs a payload the instance could keep. The advisory is the check's clause;
a failure's fix line names the releases that carry the fix (conformance/_lib/advisories.py).
A disabled user's refresh (Tutor 14.2.3) is `accounts.disabled-user.no-refresh`.
"""

from __future__ import annotations

import secrets
import threading
import weakref
from urllib.parse import quote, urlsplit

import pytest

from conformance._lib.accounts import client_credentials, entry
from conformance._lib.advisories import EVIL_HOST, OPEN_REDIRECTS, expect_stays_on_site, fix_of, targets
from conformance._lib.registry import check, clauses, need, not_verified, requires
from conformance._lib.resources import call
from conformance._lib.signin import LOGOUT_PATH
from conformance._lib.verify import expect, expect_json, expect_status, expect_token, fail

ACCOUNT_PATH = "/api/user/v1/accounts/{username}"
LOGIN_PAGE = "/login"
INACTIVE_PATH = "/auth/inactive"
# A course and block that exist nowhere: a patched handler refuses a restricted JWT before looking.
XBLOCK_PATH = (
    "/courses/course-v1:ConformanceX+Advisory+2024/xblock/"
    "block-v1:ConformanceX+Advisory+2024+type@problem+block@conformance/handler/xmodule_handler/problem_get"
)
# Pages are asked for as a browser asks (the login page follows next only for an HTML Accept).
HTML = {"Accept": "text/html"}


def _host(profile):
    return (urlsplit(profile.base_url).hostname or "").lower()


# Controls shared by a check's cases: one request per run, not one per case.
_CONTROLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _control(owner, name, fetch):
    with _LOCK:
        found = _CONTROLS.setdefault(owner, {})
        if name not in found:
            found[name] = fetch()
        return found[name]


@check("advisories.account-api.no-activation-key", level="MUST", ref="AD-01")
@clauses("GHSA-m6rg-rp98-4crw", "openedx-auth")
@requires("login")
def test_account_api_activation_key(signin):
    """The account API does not expose the user's activation key"""
    # The signed-in session reads the same serializer as the advisory's password-grant token, and
    # issues no token (the run leaves nothing behind but its session).
    username = signin.credentials[0]
    ex = signin.shared().browser.send("GET", ACCOUNT_PATH.format(username=quote(username)))
    if ex.status == 404:
        not_verified("base_url", "the LMS serves no account API (/api/user/v1/accounts/<username>)")
    expect_status(ex, 200, "the account API answers the user's own account (the probe of the advisory)")
    body = expect_json(ex, "the account API answers JSON")
    expect(
        isinstance(body, dict) and "activation_key" not in body,
        "the account API does not list activation_key (present, even null, is the unpatched serializer)",
        "no activation_key field",
        lambda: "activation_key present" if isinstance(body, dict) else f"not an object: {ex.text[:100]}",
        hint=fix_of("GHSA-m6rg-rp98-4crw"),
    )


@pytest.mark.parametrize("param", ["next", "redirect_url"])
@check("advisories.logout.next-escaped", level="MUST", ref="AD-02")
@clauses("CVE-2022-32195", "openedx-logout")
def test_logout_xss(http, param):
    """The logout page does not echo a crafted next into its markup"""
    # The platform's own case (test_logout.py, test_logout_redirect_failure_with_xss_vulnerability),
    # with a marker of this run; anonymous: nobody's session is ended.
    marker = f"conformance{secrets.token_hex(4)}"
    payload = f"\"><script>alert('{marker}')</script>"
    ex = http.get(LOGOUT_PATH, params={param: payload}, headers=HTML)
    if ex.status in (404, 405):
        not_verified(
            "base_url", f"no logout page answers GET {LOGOUT_PATH} (HTTP {ex.status}): nothing to escape"
        )
    expect_status(ex, 200, "the logout page answers (an anonymous logout)")
    expect(
        f"<script>alert('{marker}')" not in ex.text.lower(),
        f"the logout page escapes or drops a {param} that breaks out of an attribute",
        "the payload escaped (&quot;&gt;&lt;script&gt;...) or removed",
        f"the page holds <script>alert('{marker}')</script> as sent",
        hint=fix_of("CVE-2022-32195"),
    )


@pytest.mark.parametrize("case", [*OPEN_REDIRECTS, "client-id-other-host"])
@check(
    "advisories.logout.no-open-redirect",
    level="MUST",
    ref="AD-03",
    case_requires={"client-id-other-host": ["sso_clients"]},
)
@clauses("openedx-open-redirects-2022", "openedx-logout", "RFC9700-4.11")
def test_logout_open_redirect(http, profile, case):
    """Logout sends the browser nowhere off the site"""
    host = _host(profile)
    control = _control(
        http,
        "logout",
        lambda: http.get(LOGOUT_PATH, params={"redirect_url": "/conformance-control"}, headers=HTML),
    )
    if "/conformance-control" not in targets(control):
        not_verified(
            "base_url",
            "the logout page names no target for a same-site redirect_url (a theme's logout.html "
            "without the link): where it would send the browser cannot be read",
        )
    params = {"redirect_url": OPEN_REDIRECTS.get(case, f"https://{EVIL_HOST}/")}
    if case == "client-id-other-host":
        # A client_id admits its own registered redirect URIs, never another host.
        need(profile, "sso_clients")
        params["client_id"] = profile.data["sso_clients"][0]["client_id"]
    ex = http.get(LOGOUT_PATH, params=params, headers=HTML)
    expect_status(ex, (200, 302), "the logout page answers (an anonymous logout)")
    expect_stays_on_site(
        ex,
        host,
        f"an unsafe redirect_url ({case}) falls back to a safe target",
        "openedx-open-redirects-2022",
    )


# A redirect's Location is percent-encoded by the server (Django's iri_to_uri), so the tab and CR/LF
# tricks, which work where a page writes the target into its markup, cannot leave the site there.
REDIRECTED = ["other-host", "scheme-relative", "empty-authority"]


@pytest.mark.parametrize("case", REDIRECTED)
@check("advisories.login.no-open-redirect", level="MUST", ref="AD-04")
@clauses("openedx-open-redirects-2022", "openedx-login", "RFC9700-4.11")
@requires("login")
def test_login_open_redirect(signin, profile, case):
    """The login page's post-login redirect stays on the site"""
    browser = signin.shared().browser
    control = _control(
        browser,
        "login",
        lambda: browser.send("GET", LOGIN_PAGE, params={"next": "/conformance-control"}, headers=HTML),
    )
    if control.status == 404:
        not_verified("base_url", "the LMS serves no /login page (a headless LMS): nothing to redirect")
    expect(
        control.status in (301, 302, 303, 307, 308),
        "a signed-in user's /login redirects (the post-login redirect)",
        "a redirect",
        f"HTTP {control.status}",
    )
    ex = browser.send("GET", LOGIN_PAGE, params={"next": OPEN_REDIRECTS[case]}, headers=HTML)
    expect_stays_on_site(
        ex,
        _host(profile),
        f"an unsafe next ({case}) falls back to the dashboard",
        "openedx-open-redirects-2022",
    )


@pytest.mark.parametrize("case", REDIRECTED)
@check("advisories.auth-inactive.no-open-redirect", level="MUST", ref="AD-05")
@clauses("openedx-inactive-redirect", "RFC9700-4.11")
@requires("login")
def test_inactive_open_redirect(signin, profile, case):
    """/auth/inactive sends a signed-in user nowhere off the site"""
    # The test user is active: the view sends no activation e-mail, it only redirects.
    browser = signin.shared().browser
    ex = browser.send("GET", INACTIVE_PATH, params={"next": OPEN_REDIRECTS[case]}, headers=HTML)
    if ex.status == 404:
        not_verified(
            "base_url", "the LMS serves no /auth/inactive (third-party auth off): nothing to redirect"
        )
    expect(
        300 <= ex.status < 400,
        "/auth/inactive redirects a signed-in user",
        "a redirect",
        f"HTTP {ex.status}: {ex.text[:120]}",
    )
    expect_stays_on_site(
        ex,
        _host(profile),
        f"an unsafe next ({case}) falls back to the dashboard",
        "openedx-inactive-redirect",
    )


@check("advisories.xblock-handler.restricted-jwt-refused", level="MUST", ref="AD-06")
@clauses("CVE-2024-22209", "edx-drf-extensions")
@requires("restricted_client")
def test_xblock_restricted(http, tokens, profile):
    """XBlock handlers refuse a restricted application's JWT"""
    # Route control: an anonymous POST is refused before anything is looked up, patched or not.
    control = http.request("POST", XBLOCK_PATH)
    if control.status != 403:
        not_verified(
            "base_url",
            f"no XBlock handler answers at /courses/.../handler/ as the LMS does (anonymous POST: HTTP "
            f"{control.status}, not 403)",
        )
    body = expect_token(
        client_credentials(tokens, entry(profile, "restricted_client")),
        "a RestrictedApplication gets a (restricted) JWT",
        rs512_signed=True,  # the LMS signs a restricted application's JWT with its RS512 key
    )
    # The JWT must authenticate at all (the LMS's API refuses it with 403, not 401): a token that
    # authenticates nobody reaches a handler as an anonymous GET, patched or not.
    genuine = call(http, profile, body["access_token"])
    if genuine.status == 401:
        not_verified(
            "accounts.restricted_client",
            "the restricted application's JWT does not authenticate at the LMS's API (HTTP 401): see "
            "accounts.restricted-client.refused",
        )
    ex = http.get(XBLOCK_PATH, headers={"Authorization": f"JWT {body['access_token']}"})
    expect(
        ex.status == 403,
        "an XBlock handler refuses a restricted JWT before looking the course up",
        "HTTP 403 Unauthenticated",
        f"HTTP {ex.status} (the JWT authenticated its owner; the made-up course was looked up)",
        hint=fix_of("CVE-2024-22209"),
    )


@pytest.mark.parametrize("api", ["me", "account"])
# MAY: the advisory's fix was not found in the platform's or Tutor's sources. What is judged is what
# RFC 9111 lets a shared cache do with the answer: reuse it for another user only when it is neither
# private (or no-store) nor keyed on the session cookie (Vary: Cookie, which the platform's
# SessionMiddleware adds), or when it is marked for shared caches (public, s-maxage).
@check("advisories.user-api.not-cacheable", level="MAY", ref="AD-07")
@clauses("CVE-2025-65681", "RFC9111-5.2.2.7", "RFC9111-4.1")
@requires("login")
def test_user_api_cache(signin, profile, api):
    """Signed-in user API responses are not reused for other users by shared caches"""
    # The session-cookie answer: a shared cache may store it unless told otherwise (an Authorization
    # header alone already keeps shared caches off, RFC 9111 3.5).
    username = signin.credentials[0]
    path = "/api/user/v1/me" if api == "me" else ACCOUNT_PATH.format(username=quote(username))
    ex = signin.shared().browser.send("GET", path)
    if ex.status == 404:
        not_verified("base_url", f"the LMS serves no {path}")
    expect_status(ex, 200, f"the signed-in browser reads {path}")
    cache_control = ex.headers.get("cache-control", "")
    directives = {d.strip().split("=")[0].lower() for d in cache_control.split(",") if d.strip()}
    varies = {v.strip().lower() for v in ex.headers.get("vary", "").split(",")}
    private = bool(directives & {"no-store", "private"})
    # RFC 9111 4.1: a stored answer that varies on Cookie serves only requests with the same cookie.
    keyed = bool(varies & {"cookie", "*"}) and not directives & {"public", "s-maxage"}
    expect(
        private or keyed,
        f"{path} signed in is private, or keyed on the session cookie and not marked for shared caches",
        "Cache-Control: private (or no-store); or Vary: Cookie without public or s-maxage",
        f"Cache-Control: {cache_control or '(none)'}; Vary: {ex.headers.get('vary', '(none)')}",
        hint=fix_of("CVE-2025-65681"),
    )


# Alone: it spends the login API's limits on purpose: no sign-in may be in flight meanwhile.
@check("advisories.login.rate-limited-by-username", level="MUST", ref="AD-08", alone=True)
@clauses("openedx-login-ratelimit", "openedx-login")
@requires("login", "login_rate_limit_probe")
def test_login_rate_limit(signin, profile):
    """Repeated failed logins for one username are throttled"""
    # The limit is keyed on the posted e-mail or username, whether or not such a user exists: a
    # made-up name of this run is throttled like a real one, and no real account is locked.
    limit = int(profile.data["options"].get("login_rate_limit_attempts", 30))
    username = f"conformance-ratelimit-{secrets.token_hex(6)}"
    last = None
    for _ in range(limit + 1):
        last = signin.try_login(username, "not-the-password-" + secrets.token_hex(4), opted_in=True)
        if "too many failed login attempts" in last.text.lower():
            return
    assert last is not None
    fail(
        f"after {limit} failed logins for one username the login API answers 'Too many failed login "
        "attempts'",
        "Too many failed login attempts. Try again later.",
        f"attempt {limit + 1}: HTTP {last.status} {last.text[:120]}",
        hint=fix_of("openedx-login-ratelimit"),
    )
