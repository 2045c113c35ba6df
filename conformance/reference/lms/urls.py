"""URL routes of the reference LMS (``lms/urls.py`` and ``oauth_dispatch/urls.py`` paths)."""

from __future__ import annotations

from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from conformance.reference import faults
from conformance.reference.defects import Defect
from conformance.reference.lms import advisories, signin, views

urlpatterns = [
    re_path(r"^oauth2/access_token/?$", csrf_exempt(views.AccessTokenView.as_view()), name="access_token"),
    re_path(r"^oauth2/revoke_token/?$", csrf_exempt(views.RevokeTokenView.as_view()), name="revoke_token"),
    re_path(r"^api/user/v1/me$", views.MeView.as_view(), name="own_username_api"),
    re_path(
        r"^api/user/v1/accounts/(?P<username>[\w.@+-]+)$", views.AccountView.as_view(), name="accounts_api"
    ),
    # Sign-in: the login API (user_authn urls_common.py), edx-drf-extensions' CSRF token API,
    # /login_refresh, /logout, and /oauth2/authorize (oauth_dispatch urls.py: csrf_exempt).
    # The login-api-missing and csrf-endpoint-missing faults: a deployment whose URL conf (or
    # proxy routing) lacks the route.
    *(
        []
        if faults.is_active(Defect.LOGIN_API_MISSING)
        else [
            re_path(
                r"^api/user/(?P<api_version>v(1|2))/account/login_session/$",
                signin.LoginSessionView.as_view(),
            )
        ]
    ),
    *([] if faults.is_active(Defect.CSRF_ENDPOINT_MISSING) else [path("", include("csrf.urls"))]),
    path("login_refresh", signin.login_refresh, name="login_refresh"),
    path("logout", signin.logout_view, name="logout"),
    re_path(r"^oauth2/authorize/?$", signin.authorize_view, name="authorize"),
    # The pages of the published sign-in advisories (login page, inactive-user redirect, XBlock handler).
    re_path(r"^login/?$", advisories.login_page, name="signin_user"),
    path("dashboard", advisories.dashboard, name="dashboard"),
    path("auth/inactive", advisories.inactive_user_view, name="third_party_inactive_redirect"),
    re_path(
        r"^courses/(?P<course_id>[^/]+)/xblock/(?P<usage_id>[^/]+)/handler/(?P<handler>[^/]*)(?:/(?P<suffix>.*))?$",
        advisories.xblock_handler,
        name="xblock_handler",
    ),
    # DOT's own views, as the LMS mounts them (not for direct use; OIDC routes 404 with OIDC off).
    path("_o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
if faults.is_active(Defect.GATEWAY_PATH_ALIAS):
    # The hosted gateway's path, routed to the same view "for clients that follow edX's API guide".
    urlpatterns.append(
        re_path(
            r"^oauth2/v1/access_token/?$", csrf_exempt(views.AccessTokenView.as_view()), name="gateway_alias"
        )
    )
