"""The LMS endpoints: oauth_dispatch's AccessTokenView and RevokeTokenView over django-oauth-toolkit,
and the user API probes (``/api/user/v1/me``, ``/api/user/v1/accounts/<username>``)."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.views.generic import View
from django_ratelimit import ALL
from django_ratelimit.decorators import ratelimit
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from edx_rest_framework_extensions.auth.session.authentication import SessionAuthenticationAllowInactiveUser
from oauth2_provider import views as dot_views
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conformance.reference import faults
from conformance.reference.defects import Defect
from conformance.reference.lms.authentication import (
    AnySchemeTokenAuthentication,
    BearerAuthenticationAllowInactiveUser,
    QueryStringJwtAuthentication,
)
from conformance.reference.lms.jwt import create_jwt_token_dict
from conformance.reference.lms.models import UserProfile
from conformance.reference.runtime import current


def _rate(group: str, request: HttpRequest) -> str:
    # Read at request time so that `serve --rate-limit` (via settings) needs no re-import.
    return str(settings.RATELIMIT_RATE)


def get_token_type(request: HttpRequest) -> str:
    """``token_type`` from the form, else the ``X-Token-Type`` header; case-insensitive."""
    default = request.META.get("HTTP_X_TOKEN_TYPE", "no_token_type_supplied")
    value = str(request.POST.get("token_type", default))
    return value if faults.is_active(Defect.TOKEN_TYPE_CASE_SENSITIVE) else value.lower()


# What the token endpoint knows; the unknown-params-rejected fault refuses anything else.
KNOWN_TOKEN_PARAMETERS = frozenset(
    {
        "grant_type",
        "client_id",
        "client_secret",
        "scope",
        "token_type",
        "asymmetric_jwt",
        "username",
        "password",
        "refresh_token",
        "code",
        "redirect_uri",
        "code_verifier",
    }
)


def _oauth_error(status_code: int, error: str, description: str | None = None) -> HttpResponse:
    """An error response shaped as oauthlib's, for the faults that answer before DOT does."""
    body = {"error": error, **({"error_description": description} if description else {})}
    response = HttpResponse(json.dumps(body), status=status_code, content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


class _TokenRecorder:
    """Appends every token the LMS issues to ``--record-tokens`` FILE, so leak tests can look for
    them in the suite's artifacts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, *tokens: str | None) -> None:
        path = current().record_tokens
        lines = "".join(f"{token}\n" for token in tokens if token)
        if not path or not lines:
            return
        with self._lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(lines)


RECORDER = _TokenRecorder()


@method_decorator(ratelimit(key="ip", rate=_rate, method=ALL, block=True), name="dispatch")
class AccessTokenView(View):
    """DOT's TokenView; on a 200 with ``token_type=jwt`` the opaque body is swapped for a JWT one."""

    dot_view = staticmethod(dot_views.TokenView.as_view())

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and faults.is_active(Defect.TOKEN_ON_GET):
            _serve_get_as_post(request)
        if request.method == "POST" and faults.is_active(Defect.UNKNOWN_PARAMS_REJECTED):
            unknown = sorted(set(request.POST) - KNOWN_TOKEN_PARAMETERS)
            if unknown:
                return _oauth_error(400, "invalid_request", f"Unknown parameter: {unknown[0]}")
        response: HttpResponse = self.dot_view(request, *args, **kwargs)
        # OPTIONS also answers 200, with an empty body.
        if request.method != "POST" or response.status_code != 200:
            return response
        body = json.loads(response.content.decode("utf-8"))
        issued = [body.get("access_token"), body.get("refresh_token")]
        if get_token_type(request) == "jwt":
            # The raw form value: any non-empty string, "false" included, asks for RS512.
            use_asymmetric_key = bool(request.POST.get("asymmetric_jwt", ""))
            if faults.is_active(Defect.ASYMMETRIC_JWT_IGNORED):
                use_asymmetric_key = False
            body = create_jwt_token_dict(body, use_asymmetric_key=use_asymmetric_key)
            if faults.is_active(Defect.TOKEN_RESPONSE_HTML):
                response = _rebuilt_without_content_type(response)
            response.content = json.dumps(body).encode("utf-8")
            issued.append(body["access_token"])
        RECORDER.record(*issued)
        return response


def _serve_get_as_post(request: HttpRequest) -> None:
    """The token-on-get fault: a GET is handled as a POST of its query string."""
    form = request.GET.copy()
    form._mutable = False
    request.method = "POST"
    request._post = form  # type: ignore[attr-defined]
    request._files = MultiValueDict()  # type: ignore[attr-defined]
    request.GET = QueryDict()
    request.META["QUERY_STRING"] = ""


def _rebuilt_without_content_type(response: HttpResponse) -> HttpResponse:
    """A new HttpResponse for the JWT body, built without content_type (so text/html), keeping the
    cache headers: the token-response-html fault."""
    rebuilt = HttpResponse(status=response.status_code)
    for header in ("Cache-Control", "Pragma"):
        if header in response:
            rebuilt[header] = response[header]
    return rebuilt


class RevokeTokenView(View):
    """DOT's RevokeTokenView (RFC 7009). JWTs cannot be revoked; their refresh tokens can."""

    dot_view = staticmethod(dot_views.RevokeTokenView.as_view())

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and faults.is_active(Defect.REVOKE_ON_GET):
            return HttpResponse(status=200)  # a wrapper that answers GET like an empty revocation
        if request.method == "POST":
            if faults.is_active(Defect.REVOKE_MISSING_TOKEN_OK) and not request.POST.get("token"):
                return HttpResponse(status=200)
            if faults.is_active(Defect.REVOKE_REQUIRES_HINT) and not request.POST.get("token_type_hint"):
                return _oauth_error(400, "invalid_request", "Missing token_type_hint parameter.")
        return self.dot_view(request, *args, **kwargs)


class CanGetAccountInfo(permissions.BasePermission):
    """Lookups by email or LMS user id are for staff; by username for anyone authenticated."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.GET.get("lms_user_id") is None and request.GET.get("email") is None:
            return True
        return bool(request.user.is_staff or request.user.is_superuser)


class _AccountViewBase(APIView):
    authentication_classes = (
        JwtAuthentication,
        BearerAuthenticationAllowInactiveUser,
        SessionAuthenticationAllowInactiveUser,
    )
    permission_classes = (permissions.IsAuthenticated, CanGetAccountInfo)

    def get_authenticators(self) -> list[Any]:
        classes = list(self.authentication_classes)
        if faults.is_active(Defect.BEARER_NOT_ACCEPTED):
            classes.remove(BearerAuthenticationAllowInactiveUser)
        if faults.is_active(Defect.QUERY_TOKEN_ACCEPTED):
            classes.append(QueryStringJwtAuthentication)
        if faults.is_active(Defect.SCHEME_AGNOSTIC_AUTH):
            classes.insert(0, AnySchemeTokenAuthentication)
        return [auth() for auth in classes]

    def get_permissions(self) -> list[Any]:
        if faults.is_active(Defect.ANONYMOUS_ALLOWED):
            return [permissions.AllowAny()]
        return super().get_permissions()


class MeView(_AccountViewBase):
    def get(self, request: Request) -> Response:
        return Response({"username": request.user.username})


class AccountView(_AccountViewBase):
    """Full details for oneself or staff; other users see only what is shared (private by default)."""

    def get(self, request: Request, username: str) -> Response:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            return Response(status=status.HTTP_404_NOT_FOUND)
        if request.user.username != username and not request.user.is_staff:
            return Response({"username": user.username, "account_privacy": "private"})
        profile = UserProfile.objects.filter(user=user).first()
        return Response(
            {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "name": profile.name if profile else "",
                "is_active": user.is_active,
                "date_joined": user.date_joined.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "account_privacy": "private",
                # GHSA-m6rg-rp98-4crw: the unpatched serializer listed the (pending) activation key.
                **({"activation_key": None} if faults.is_active(Defect.ACCOUNT_API_ACTIVATION_KEY) else {}),
            }
        )
