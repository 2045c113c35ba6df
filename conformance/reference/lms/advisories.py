"""The LMS pages the published sign-in advisories are about, as a patched platform serves them: the
login page's post-login redirect, the logout page's target, the third-party-auth inactive-user
redirect, and the XBlock handler's authentication.

Sources (openedx-platform, read through the search index; links in docs/clauses.md):
``openedx/core/djangoapps/user_authn/utils.py`` (``is_safe_login_or_logout_redirect``: tab, CR and LF
removed, then Django's ``url_has_allowed_host_and_scheme`` against the request's host,
``LOGIN_REDIRECT_WHITELIST`` and the redirect URIs of the DOT application named by ``client_id``),
``user_authn/views/logout.py`` (``LogoutView.target``), ``common/djangoapps/student/helpers.py``
(``get_next_url_for_login_page``), ``common/djangoapps/third_party_auth/views.py``
(``inactive_user_view``) and ``lms/djangoapps/courseware/block_render.py``
(``handle_xblock_callback``). Each advisory's fault brings the unpatched behaviour back here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import Application

from conformance.reference import faults
from conformance.reference.defects import Defect

DASHBOARD = "/dashboard"


def is_safe_redirect(request: HttpRequest, target: str, client_id: str | None) -> bool:
    """``is_safe_login_or_logout_redirect``: the request's host, the whitelist, and a redirect URI
    registered for the DOT application ``client_id`` (its host then counts as allowed)."""
    allowed = set(getattr(settings, "LOGIN_REDIRECT_WHITELIST", [])) | {request.get_host()}
    for byte in ("\t", "\r", "\n"):
        target = target.replace(byte, "")
    if client_id:
        app = Application.objects.filter(client_id=client_id).first()
        if app is not None and target in app.redirect_uris:
            allowed.add(urlparse(target).netloc)
    return url_has_allowed_host_and_scheme(target, allowed_hosts=allowed, require_https=request.is_secure())


def logout_target(request: HttpRequest) -> str:
    """``LogoutView.target``: ``redirect_url`` or ``next`` when safe, else ``/``."""
    target = request.GET.get("redirect_url") or request.GET.get("next")
    if not target:
        return "/"
    if faults.is_active(Defect.LOGOUT_OPEN_REDIRECT):
        return target  # the unpatched view: any target is followed
    return target if is_safe_redirect(request, target, request.GET.get("client_id")) else "/"


def logout_page(target: str) -> HttpResponse:
    """``logout.html``: the target in the page's link and in the iframe container's data attribute
    (the page's script sends the browser there)."""
    if faults.is_active(Defect.LOGOUT_NEXT_UNESCAPED):
        # The unpatched template: the target written into the markup as it came.
        html = (
            "<html><body><h1>You have signed out.</h1>"
            f'<p><a href="{target}">click here to go to the home page</a></p>'
            f'<div id="iframeContainer" data-redirect-url="{target}"></div></body></html>'
        )
        return HttpResponse(mark_safe(html))
    return HttpResponse(
        format_html(
            "<html><body><h1>You have signed out.</h1>"
            '<p><a href="{}">click here to go to the home page</a></p>'
            '<div id="iframeContainer" data-redirect-url="{}"></div></body></html>',
            target,
            target,
        )
    )


def next_url_for_login(request: HttpRequest) -> str:
    """``get_next_url_for_login_page``: a safe ``next``, else the dashboard."""
    target = request.GET.get("next")
    if target and (
        faults.is_active(Defect.LOGIN_OPEN_REDIRECT)
        or is_safe_redirect(request, target, request.GET.get("client_id"))
    ):
        return target
    return DASHBOARD


def login_page(request: HttpRequest) -> HttpResponse:
    """``/login``: a signed-in user is sent on to ``next`` (the post-login redirect); anyone else
    gets the sign-in page."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url_for_login(request))
    return HttpResponse("<html><body><h1>Sign in</h1><form id='login'></form></body></html>")


def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?next={DASHBOARD}")
    return HttpResponse(f"<html><body><h1>Dashboard of {escape(request.user.username)}</h1></body></html>")


def inactive_user_view(request: HttpRequest) -> HttpResponse:
    """``/auth/inactive`` (third_party_auth ``inactive_user_view``): an active user is sent on to a
    safe ``next`` or the dashboard (an inactive one would also be sent the activation e-mail, which
    the reference does not model)."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?next=/auth/inactive")
    target = request.GET.get("next")
    if target and (
        faults.is_active(Defect.INACTIVE_NEXT_OPEN_REDIRECT)
        or is_safe_redirect(request, target, request.GET.get("client_id"))
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(DASHBOARD)


@csrf_exempt
def xblock_handler(
    request: HttpRequest, course_id: str, usage_id: str, handler: str, suffix: str = ""
) -> Any:
    """``handle_xblock_callback``: a session, else JwtAuthentication then Bearer authentication;
    anonymous writes and RestrictedApplications' JWTs get 403 ``Unauthenticated`` before the course
    is looked up. The reference has no courses: past that point every request is 404."""
    from django.http import Http404
    from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
    from edx_rest_framework_extensions.auth.jwt.decoder import decode_jwt_is_restricted
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request

    from conformance.reference.lms.authentication import BearerAuthenticationAllowInactiveUser

    restricted = False
    if not request.user.is_authenticated:
        drf_request = Request(request)
        for authenticator in (JwtAuthentication(), BearerAuthenticationAllowInactiveUser()):
            try:
                found = authenticator.authenticate(drf_request)
            except APIException:
                continue
            if found is not None:
                request.user = found[0]
                # JwtRestrictedApplication: authenticated by JwtAuthentication with a restricted JWT.
                restricted = isinstance(authenticator, JwtAuthentication) and decode_jwt_is_restricted(
                    found[1]
                )
                break
    if faults.is_active(Defect.XBLOCK_HANDLER_RESTRICTED_JWT):
        restricted = False  # before GHSA-qx8m-mqx3-j9fm: a restricted JWT is just another user
    if (request.method != "GET" and not request.user.is_authenticated) or restricted:
        return HttpResponseForbidden("Unauthenticated")
    raise Http404(f"{course_id} does not exist in the modulestore")
