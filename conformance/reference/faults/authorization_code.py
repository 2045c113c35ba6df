"""The faults of the authorization-code area: the authorization-code (SSO) flow."""

from __future__ import annotations

from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import NO_CODE

FAULTS: tuple[Fault, ...] = (
    Fault(
        name="sso-redirect-uri-other-scheme",
        description=(
            "The SSO application's redirect URI was registered with the other scheme (Tutor's init ran "
            "before ENABLE_HTTPS changed): the service's real redirect URI gets 'Mismatching redirect "
            "URI.'. On an https LMS this is the http URI registered under https."
        ),
        area="authorization-code",
        catches=["authorization-code.redirect-uri.registered"],
        collateral={
            "authorization-code.redirect-uri.unregistered-refused": (
                "its other-scheme case is now the registered URI, which the LMS rightly redirects to"
            ),
            **dict.fromkeys(
                (
                    "authorization-code.state.preserved",
                    "authorization-code.exchange.token",
                    "authorization-code.code.single-use",
                    "authorization-code.code.bound",
                    "authorization-code.pkce.enforced",
                    "authorization-code.pkce.s256",
                ),
                NO_CODE,
            ),
        },
    ),
    Fault(
        name="redirect-uri-prefix-match",
        description=(
            "The OAuth validator accepts any redirect URI that starts with a registered one (an override "
            "meant to allow sub-paths): an open redirect that leaks codes to any path on the host."
        ),
        area="authorization-code",
        catches=["authorization-code.redirect-uri.unregistered-refused"],
    ),
    Fault(
        name="authorization-code-reusable",
        description=(
            "The validator never deletes an exchanged grant (invalidate_authorization_code is a no-op): "
            "the same code is exchanged again for new tokens."
        ),
        area="authorization-code",
        catches=["authorization-code.code.single-use"],
    ),
    Fault(
        name="pkce-ignored",
        description=(
            "The validator never returns the stored code_challenge (get_code_challenge overridden): a "
            "code requested with PKCE is exchanged without, or with any, code_verifier."
        ),
        area="authorization-code",
        catches=["authorization-code.pkce.enforced"],
    ),
    Fault(
        name="authorize-state-dropped",
        description=(
            "An authorization-view override rebuilds the redirect as redirect_uri?code=...: the client's "
            "state (its CSRF protection) and the redirect URI's own query are dropped."
        ),
        area="authorization-code",
        catches=["authorization-code.state.preserved", "authorization-code.redirect-uri.extra-query"],
    ),
    Fault(
        name="implicit-grant-for-sso",
        description=(
            "The validator lets every application use every response_type: response_type=token gives "
            "the SSO client an access token in the redirect's fragment (the implicit grant)."
        ),
        area="authorization-code",
        catches=["authorization-code.response-type.refused"],
    ),
    Fault(
        name="code-redirect-uri-not-confirmed",
        description=(
            "The validator never compares the redirect_uri of the code exchange with the one the code "
            "was issued for (confirm_redirect_uri always true)."
        ),
        area="authorization-code",
        catches=["authorization-code.code.bound"],
    ),
    Fault(
        name="pkce-method-lost",
        description=(
            "The grant's code_challenge_method is lost (read back as plain): an S256 challenge is "
            "compared with the verifier itself, and the right verifier is refused."
        ),
        area="authorization-code",
        catches=["authorization-code.pkce.s256"],
    ),
)
