"""The web server in front of the LMS: redirects on the OAuth paths. (A dropped Authorization header
and an http issuer behind TLS are diagnosed by the checks that see them, through `_lib.diagnose`.)"""

from __future__ import annotations

from conformance._lib import diagnose
from conformance._lib.registry import check, clauses, requires
from conformance._lib.verify import expect


@check("token-endpoint.path.no-redirect", level="SHOULD", ref="ED-01")
@clauses("RFC9110-15.4.2", "RFC6749-3.2", "oauth-1")
@requires("token_path_default")
def test_token_path_not_redirected(tokens, profile):
    """The token path with the trailing slash toggled is served, not redirected"""
    # Open edX routes ^access_token/?$: clients written against either spelling work on a stock LMS.
    path = profile.data["token_path"]
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    ex = tokens.http.post(other, data={"grant_type": "client_credentials", "token_type": "jwt"})
    expect(
        not 300 <= ex.status < 400,
        f"POST {other} reaches the token endpoint (a redirect loses the POST)",
        "an OAuth answer (400 or 401 to this request without client credentials), not a redirect",
        lambda: diagnose.redirect(ex) or f"HTTP {ex.status}",
    )
    body = ex.json()
    expect(
        ex.status in (400, 401) and isinstance(body, dict) and "error" in body,
        f"POST {other} is answered by the token endpoint",
        "HTTP 400 or 401 with an OAuth error body",
        lambda: f"HTTP {ex.status}: {ex.text[:200]}",
    )
