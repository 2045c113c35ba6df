"""The unit cases of the authorization-code checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_signin import SSO_CLIENT_ID, SSO_REDIRECT_URI
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Skip, Unit, fails, unit
from tests.units.patches import WRONG_ISSUER

AREA = "authorization-code"

TABLE: dict[str, Unit] = {
    "authorization-code.redirect-uri.registered": unit(
        fails(Defect.REDIRECT_URI_MISMATCH, "back to its registered redirect URI with a code"),
    ),
    "authorization-code.redirect-uri.https": unit(
        fails(
            Defect.SSO_REDIRECT_HTTP,
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
        fails(Defect.REDIRECT_URI_UNCHECKED, "is refused and the browser is not sent there"),
        fails(Defect.REDIRECT_URI_PREFIX_MATCH, "(path-suffix) is refused", "path-suffix"),
    ),
    "authorization-code.redirect-uri.extra-query": unit(
        fails(Defect.EXTRA_QUERY_DROPPED, "keeps its query component"),
        either=(Defect.EXTRA_QUERY_REFUSED,),
    ),
    "authorization-code.response-type.refused": unit(
        fails(Defect.RESPONSE_TYPE_IGNORED, "is refused for an authorization-code client"),
    ),
    "authorization-code.state.preserved": unit(
        fails(Defect.STATE_DROPPED, "the state the client sent comes back exactly"),
    ),
    "authorization-code.exchange.token": unit(
        fails(WRONG_ISSUER, "the SSO access token: iss is the profile's issuer"),
    ),
    "authorization-code.code.single-use": unit(
        fails(Defect.CODE_REUSABLE, "a used authorization code is refused"),
    ),
    "authorization-code.code.bound": unit(
        fails(Defect.CODE_NOT_BOUND, "a code issued to one client is refused to another", "other-client"),
        fails(Defect.CODE_NOT_BOUND, "only with the redirect URI it was issued for", "other-redirect-uri"),
    ),
    "authorization-code.pkce.enforced": unit(
        fails(Defect.PKCE_IGNORED, "a code bound to a PKCE challenge is refused"),
    ),
    "authorization-code.pkce.s256": unit(
        fails(Defect.PKCE_S256_UNSUPPORTED, "issues an authorization code"),
    ),
}

# Cases that skip by themselves (`need(...)`, a failed control): the reason tells the operator
# what to add. (check id, case, stub mutations, profile changes, reason)
SKIPS: list[Skip] = [
    (
        "authorization-code.state.preserved",
        None,
        (Defect.CSRF_ENDPOINT_MISSING,),
        {},
        "blocked (jwt-cookies.login.signs-in)",
    ),
    (
        "authorization-code.code.single-use",
        None,
        (Defect.REDIRECT_URI_MISMATCH,),
        {},
        "blocked (authorization-code.redirect-uri.registered[studio])",
    ),
    (
        "authorization-code.exchange.token",
        None,
        (),
        {"sso_clients": [{"name": "studio", "client_id": SSO_CLIENT_ID, "redirect_uri": SSO_REDIRECT_URI}]},
        "sso_clients.client_secret",
    ),
]
