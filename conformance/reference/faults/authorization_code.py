"""The faults of the authorization-code area: the authorization-code (SSO) flow."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.model import Fault
from conformance.reference.faults.reasons import NO_CODE

# Every fault of this module is of the authorization-code area.
_fault = partial(Fault, area="authorization-code")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.SSO_REDIRECT_URI_OTHER_SCHEME,
        description=(
            "The SSO application's redirect URI was registered with the other scheme (Tutor's init ran "
            "before ENABLE_HTTPS changed): the service's real redirect URI gets 'Mismatching redirect "
            "URI.'. On an https LMS this is the http URI registered under https."
        ),
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
    _fault(
        name=Defect.REDIRECT_URI_PREFIX_MATCH,
        description=(
            "The OAuth validator accepts any redirect URI that starts with a registered one (an override "
            "meant to allow sub-paths): an open redirect that leaks codes to any path on the host."
        ),
        catches=["authorization-code.redirect-uri.unregistered-refused"],
    ),
    _fault(
        name=Defect.AUTHORIZATION_CODE_REUSABLE,
        description=(
            "The validator never deletes an exchanged grant (invalidate_authorization_code is a no-op): "
            "the same code is exchanged again for new tokens."
        ),
        catches=["authorization-code.code.single-use"],
    ),
    _fault(
        name=Defect.PKCE_IGNORED,
        description=(
            "The validator never returns the stored code_challenge (get_code_challenge overridden): a "
            "code requested with PKCE is exchanged without, or with any, code_verifier."
        ),
        catches=["authorization-code.pkce.enforced"],
    ),
    _fault(
        name=Defect.AUTHORIZE_STATE_DROPPED,
        description=(
            "An authorization-view override rebuilds the redirect as redirect_uri?code=...: the client's "
            "state (its CSRF protection) and the redirect URI's own query are dropped."
        ),
        catches=["authorization-code.state.preserved", "authorization-code.redirect-uri.extra-query"],
    ),
    _fault(
        name=Defect.IMPLICIT_GRANT_FOR_SSO,
        description=(
            "The validator lets every application use every response_type: response_type=token gives "
            "the SSO client an access token in the redirect's fragment (the implicit grant)."
        ),
        catches=["authorization-code.response-type.refused"],
    ),
    _fault(
        name=Defect.CODE_REDIRECT_URI_NOT_CONFIRMED,
        description=(
            "The validator never compares the redirect_uri of the code exchange with the one the code "
            "was issued for (confirm_redirect_uri always true)."
        ),
        catches=["authorization-code.code.bound"],
    ),
    _fault(
        name=Defect.PKCE_METHOD_LOST,
        description=(
            "The grant's code_challenge_method is lost (read back as plain): an S256 challenge is "
            "compared with the verifier itself, and the right verifier is refused."
        ),
        catches=["authorization-code.pkce.s256"],
    ),
)
