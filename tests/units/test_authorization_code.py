"""The unit cases of the authorization-code checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_signin import SSO_CLIENT_ID, SSO_REDIRECT_URI, on_signin
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, blocked, fails, skips, unit
from tests.units.patches import CSRF_ENDPOINT_MISSING, WRONG_ISSUER

HTTP_REDIRECT_URI = SSO_REDIRECT_URI.replace("https://", "http://")
# The SSO application registered with an http redirect URI: a variant when the profile says so too
# (sso-redirect-http), a mismatch when the profile names the https one.
SSO_REDIRECT_HTTP = on_signin(Defect.SSO_REDIRECT_HTTP, registered_redirect_uri=HTTP_REDIRECT_URI)
REDIRECT_URI_MISMATCH = on_signin(Defect.REDIRECT_URI_MISMATCH, registered_redirect_uri=HTTP_REDIRECT_URI)
REDIRECT_URI_UNCHECKED = on_signin(Defect.REDIRECT_URI_UNCHECKED, redirect_uri_match="any")
REDIRECT_URI_PREFIX_MATCH = on_signin(Defect.REDIRECT_URI_PREFIX_MATCH, redirect_uri_match="prefix")
EXTRA_QUERY_REFUSED = on_signin(Defect.EXTRA_QUERY_REFUSED, redirect_uri_match="exact")
EXTRA_QUERY_DROPPED = on_signin(Defect.EXTRA_QUERY_DROPPED, redirect_keeps_query=False)
RESPONSE_TYPE_IGNORED = on_signin(Defect.RESPONSE_TYPE_IGNORED, response_type_checked=False)
STATE_DROPPED = on_signin(Defect.STATE_DROPPED, state_returned=False)
PKCE_S256_UNSUPPORTED = on_signin(Defect.PKCE_S256_UNSUPPORTED, pkce_methods=("plain",))
CODE_REUSABLE = on_signin(Defect.CODE_REUSABLE, codes_single_use=False)
CODE_NOT_BOUND = on_signin(Defect.CODE_NOT_BOUND, codes_bound=False)
PKCE_IGNORED = on_signin(Defect.PKCE_IGNORED, pkce_checked=False)

TABLE: dict[str, Unit] = {
    "authorization-code.redirect-uri.registered": unit(
        fails(REDIRECT_URI_MISMATCH, "back to its registered redirect URI with a code"),
    ),
    "authorization-code.redirect-uri.https": unit(
        fails(
            SSO_REDIRECT_HTTP,
            "the code travels back over TLS",
            profile={
                "sso_clients": [
                    {
                        "name": "studio",
                        "client_id": SSO_CLIENT_ID,
                        "redirect_uri": SSO_REDIRECT_URI.replace("https://", "http://"),
                    }
                ]
            },
        ),
    ),
    "authorization-code.redirect-uri.unregistered-refused": unit(
        fails(REDIRECT_URI_UNCHECKED, "is refused and the browser is not sent there"),
        fails(REDIRECT_URI_PREFIX_MATCH, "(path-suffix) is refused", "path-suffix"),
    ),
    "authorization-code.redirect-uri.extra-query": unit(
        fails(EXTRA_QUERY_DROPPED, "keeps its query component"),
        either=(EXTRA_QUERY_REFUSED,),
    ),
    "authorization-code.response-type.refused": unit(
        fails(RESPONSE_TYPE_IGNORED, "is refused for an authorization-code client"),
    ),
    "authorization-code.state.preserved": unit(
        fails(STATE_DROPPED, "the state the client sent comes back exactly"),
    ),
    "authorization-code.exchange.token": unit(
        fails(WRONG_ISSUER, "the SSO access token: iss is the profile's issuer"),
    ),
    "authorization-code.code.single-use": unit(
        fails(CODE_REUSABLE, "a used authorization code is refused"),
    ),
    "authorization-code.code.bound": unit(
        fails(CODE_NOT_BOUND, "a code issued to one client is refused to another", "other-client"),
        fails(CODE_NOT_BOUND, "only with the redirect URI it was issued for", "other-redirect-uri"),
    ),
    "authorization-code.pkce.enforced": unit(
        fails(PKCE_IGNORED, "a code bound to a PKCE challenge is refused"),
    ),
    "authorization-code.pkce.s256": unit(
        fails(PKCE_S256_UNSUPPORTED, "issues an authorization code"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add.
SKIPS: list[Skip] = [
    blocked("authorization-code.state.preserved", None, "jwt-cookies.login.signs-in", CSRF_ENDPOINT_MISSING),
    blocked(
        "authorization-code.code.single-use",
        None,
        "authorization-code.redirect-uri.registered[studio]",
        REDIRECT_URI_MISMATCH,
    ),
    skips(
        "authorization-code.exchange.token",
        None,
        "sso_clients.client_secret",
        profile={
            "sso_clients": [{"name": "studio", "client_id": SSO_CLIENT_ID, "redirect_uri": SSO_REDIRECT_URI}]
        },
    ),
]
