"""The LMS's sign-in endpoints as the platform serves them: the login API with CSRF, the JWT cookies
it sets, ``/login_refresh``, logout, and DOT's authorization view as ``/oauth2/authorize`` mounts it.

Sources (openedx-platform, read through the search index; the links are in docs/clauses.md):
``openedx/core/djangoapps/user_authn/views/login.py`` (``LoginSessionView``, ``login_user``,
``login_refresh``), ``user_authn/cookies.py`` (``set_logged_in_cookies``, ``delete_logged_in_cookies``,
``_create_jwt``), ``user_authn/views/logout.py`` (``LogoutView``), ``oauth_dispatch/urls.py`` and
``dot_overrides/views.py`` (``EdxOAuth2AuthorizationView``), and the LMS's authorize error template
``lms/templates/oauth2_provider/authorize.html``.
"""

from __future__ import annotations

import json
import time
from importlib import import_module
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, logout
from django.contrib.auth import login as django_login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt, csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods
from oauth2_provider import views as dot_views
from oauth2_provider.models import Application
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from conformance.reference import faults
from conformance.reference.defects import Defect
from conformance.reference.lms import advisories
from conformance.reference.lms.jwt import FILTER_USER_ME, create_jwt, updated_scopes
from conformance.reference.lms.views import RECORDER

HEADER_PAYLOAD = "edx-jwt-cookie-header-payload"
SIGNATURE = "edx-jwt-cookie-signature"
LOGGED_IN = "edxloggedin"
USER_INFO = "edx-user-info"
ALL_LOGGED_IN_COOKIE_NAMES = (HEADER_PAYLOAD, SIGNATURE, LOGGED_IN, USER_INFO)
# login_user: request.session.set_expiry(604800 * 4)
SESSION_AGE = 604800 * 4


def _json(obj: Any, status: int = 200) -> HttpResponse:
    """util.json_request.JsonResponse: indent=2, ensure_ascii, application/json."""
    return HttpResponse(
        json.dumps(obj, indent=2, ensure_ascii=True), status=status, content_type="application/json"
    )


# ---- cookies.py ------------------------------------------------------------------------------------


def _cookie_settings(request: HttpRequest, max_age: int) -> dict[str, Any]:
    """standard_cookie_settings: SHARED_COOKIE_DOMAIN, path /, secure=request.is_secure(), no SameSite."""
    options: dict[str, Any] = {
        "domain": settings.SHARED_COOKIE_DOMAIN or None,
        "path": "/",
        "max_age": max_age,
        "expires": None,
        "secure": request.is_secure(),
        "httponly": None,
    }
    if faults.is_active(Defect.JWT_COOKIE_SAMESITE_NONE_INSECURE):
        # SameSite=None copied from Tutor's https settings, Secure lost behind a TLS proxy whose
        # X-Forwarded-Proto is not trusted (request.is_secure() is False).
        options.update(samesite="None", secure=False)
    return options


def _cookie_jwt(user: Any) -> str:
    """_create_jwt: an RS512 password-grant JWT of the login client, scopes user_id email profile."""
    scopes = updated_scopes(["user_id", "email", "profile"], Application.GRANT_PASSWORD)
    return create_jwt(
        user,
        scopes=scopes,
        expires_in=int(settings.JWT_ACCESS_TOKEN_EXPIRE_SECONDS),
        use_asymmetric_key=True,
        filters=[FILTER_USER_ME],
        grant_type=Application.GRANT_PASSWORD,
    )


def set_jwt_cookies(request: HttpRequest, response: HttpResponse, user: Any) -> None:
    if faults.is_active(Defect.JWT_COOKIES_NOT_SET):
        return  # no login client (JWT_AUTH['JWT_LOGIN_CLIENT_ID']): the platform logs and sets none
    token = _cookie_jwt(user)
    header, payload, signature = token.split(".")
    RECORDER.record(token, f"{header}.{payload}", signature)  # for the leak tests
    options = _cookie_settings(request, settings.JWT_AUTH["JWT_IN_COOKIE_EXPIRATION"])
    response.set_cookie(HEADER_PAYLOAD, f"{header}.{payload}", **options)
    signature_options = dict(options, httponly=not faults.is_active(Defect.JWT_COOKIE_NOT_HTTPONLY))
    response.set_cookie(SIGNATURE, signature, **signature_options)


def set_logged_in_cookies(request: HttpRequest, response: HttpResponse, user: Any) -> None:
    options = _cookie_settings(request, SESSION_AGE)
    response.set_cookie(LOGGED_IN, "true", **options)
    info = {
        "version": 1,
        "username": user.username,
        "email": user.email,
        "header_urls": {"logout": "/logout"},
    }
    response.set_cookie(USER_INFO, json.dumps(info), **options)
    set_jwt_cookies(request, response, user)


def delete_logged_in_cookies(response: HttpResponse) -> None:
    for name in ALL_LOGGED_IN_COOKIE_NAMES:
        response.delete_cookie(name, path="/", domain=settings.SHARED_COOKIE_DOMAIN or None)


# ---- views/login.py --------------------------------------------------------------------------------


def _enforce_single_login(request: HttpRequest, user: Any) -> None:
    """PREVENT_CONCURRENT_LOGINS (on in the LMS): the user's previous session is deleted, as
    student/models/user.py enforce_single_login and UserProfile.set_login_session do (the LMS keeps
    the session key in the profile's meta; here, beside the sessions in the cache)."""
    if not settings.FEATURES.get("PREVENT_CONCURRENT_LOGINS", False):
        return
    request.session.save()  # a key for the new session
    key = f"login-session:{user.pk}"
    old = cache.get(key)
    if old and old != request.session.session_key:
        import_module(settings.SESSION_ENGINE).SessionStore(session_key=old).delete()
    cache.set(key, request.session.session_key, None)


def login_user(request: HttpRequest) -> HttpResponse:
    """POST email_or_username + password (api v2): 200 {"success": true} and the logged-in cookies,
    or 400 {"success": false, "value": ..., "error_code": ...}."""
    identifier = request.POST.get("email_or_username") or request.POST.get("email")
    password = request.POST.get("password")
    if identifier and _limited_by_username(request, identifier):
        return _json({"success": False, "value": "Too many failed login attempts. Try again later."}, 400)
    if not identifier or not password:
        return _json({"success": False, "value": "There was an error receiving your login information."}, 400)
    user_model = get_user_model()
    found = user_model.objects.filter(email=identifier).first() or (
        user_model.objects.filter(username=identifier).first()
    )
    user = authenticate(request, username=found.username if found else "", password=password)
    if user is None:
        return _json(
            {
                "success": False,
                "value": "Email or password is incorrect.",
                "error_code": "incorrect-email-or-password",
                "email": identifier,
            },
            400,
        )
    django_login(request, user, backend="django.contrib.auth.backends.AllowAllUsersModelBackend")
    request.session.set_expiry(SESSION_AGE)
    _enforce_single_login(request, user)
    RECORDER.record(request.session.session_key)  # for the leak tests
    response = _json({"success": True, "redirect_url": None})
    set_logged_in_cookies(request, response, user)
    return response


def _limited_by_username(request: HttpRequest, identifier: str) -> bool:
    """``login_user``'s django-ratelimit decorator keyed on the posted e-mail or username
    (``LOGISTRATION_PER_EMAIL_RATELIMIT_RATE``, block=False): every login POST counts, and past the
    rate the login answers "Too many failed login attempts"."""
    from django_ratelimit.core import is_ratelimited

    if faults.is_active(Defect.LOGIN_NO_USERNAME_RATELIMIT):
        return False  # before the 2022 rate-limiting fix: only the per-IP limit
    return is_ratelimited(
        request,
        group="login_user_by_username",
        key=lambda group, req: identifier,
        rate=settings.LOGISTRATION_PER_EMAIL_RATELIMIT_RATE,
        method="POST",
        increment=True,
    )


class LoginSessionView(APIView):
    """``/api/user/v(1|2)/account/login_session/``: GET describes the form (and sets the CSRF cookie),
    POST logs in under CSRF protection."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    # The LMS's DRF defaults parse forms (the login MFE posts x-www-form-urlencoded).
    parser_classes = [FormParser, MultiPartParser]

    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Any, api_version: str = "v2") -> HttpResponse:
        fields = ["email_or_username" if api_version == "v2" else "email", "password"]
        return _json({"method": "post", "submit_url": request.path, "fields": [{"name": f} for f in fields]})

    @method_decorator(csrf_protect)
    def post(self, request: Any, api_version: str = "v2") -> HttpResponse:
        return login_user(request._request)


@csrf_exempt
@require_http_methods(["POST"])
def login_refresh(request: HttpRequest) -> HttpResponse:
    """Refreshes the JWT cookies of a signed-in session; a JWT cookie alone is not a session."""
    if faults.is_active(Defect.LOGIN_REFRESH_JWT_COOKIE_AUTH) and request.user.is_anonymous:
        # A "DRF-ified" refresh view that also authenticates with the JWT cookie it refreshes.
        user = _jwt_cookie_user(request)
        if user is not None:
            request.user = user
    if not request.user.is_authenticated or request.user.is_anonymous:
        return _json("Unauthorized", 401)
    now = int(time.time())
    expires = now + int(settings.JWT_AUTH["JWT_IN_COOKIE_EXPIRATION"])
    body = {
        "success": True,
        "user_id": request.user.id,
        "response_epoch_seconds": now,
        "expires_epoch_seconds": expires,
    }
    response = HttpResponse(json.dumps(body), content_type="application/json")
    set_jwt_cookies(request, response, request.user)
    return response


def _jwt_cookie_user(request: HttpRequest) -> Any:
    """The user of a valid JWT cookie pair (edx-drf-extensions' JwtAuthentication on the cookie)."""
    from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
    from rest_framework.request import Request

    header_payload, signature = request.COOKIES.get(HEADER_PAYLOAD), request.COOKIES.get(SIGNATURE)
    if not header_payload or not signature:
        return None
    # What JwtAuthCookieMiddleware does for DRF views (this plain view gets no such help).
    request.COOKIES["edx-jwt-cookie"] = f"{header_payload}.{signature}"
    request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]  # the view is csrf_exempt
    try:
        found = JwtAuthentication().authenticate(Request(request))
    except Exception:
        return None
    return found[0] if found else None


@csrf_exempt
def logout_view(request: HttpRequest) -> HttpResponse:
    """LogoutView (GET and POST): Django logout (the session is flushed), the logged-in cookies go."""
    logout(request)
    response = advisories.logout_page(advisories.logout_target(request))
    if not faults.is_active(Defect.LOGOUT_KEEPS_JWT_COOKIES):
        delete_logged_in_cookies(response)
    return response


# ---- oauth_dispatch: /oauth2/authorize ------------------------------------------------------------


class AuthorizationView(dot_views.AuthorizationView):
    """DOT 1.7.1's AuthorizationView. Fatal errors are rendered by the LMS's template
    ``oauth2_provider/authorize.html`` (``<h2>Error: ...</h2><p>description</p>``), status 400."""

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        error = context.get("error")
        status = int(kwargs.get("status", 200))
        if error is not None:
            html = format_html("<h2>Error: {}</h2><p>{}</p>", error.error, error.description or "")
            return HttpResponse(html, status=status)
        # Only applications without skip_authorization reach the consent form.
        app = context.get("application")
        return HttpResponse(format_html("<h2>Authorize {}?</h2>", getattr(app, "name", "")), status=status)

    def redirect(self, redirect_to: str, application: Any, token: Any = None) -> HttpResponse:
        code = dict(parse_qsl(urlsplit(redirect_to).query)).get("code")
        RECORDER.record(code)  # for the leak tests
        if faults.is_active(Defect.AUTHORIZE_STATE_DROPPED):
            redirect_to = _without_state(redirect_to)
        return super().redirect(redirect_to, application, token)


def _without_state(uri: str) -> str:
    """The authorize-state-dropped fault: an override that rebuilds the redirect as
    ``redirect_uri_path?code=...`` (dropping state and the client's own query parameters)."""
    parts = urlsplit(uri)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k in ("code", "error", "error_description")]
    return urlunsplit(parts._replace(query=urlencode(kept)))


authorize_view = csrf_exempt(AuthorizationView.as_view())
