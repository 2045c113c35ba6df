"""The unit cases of the bad-credentials checks (tests/units/harness.py runs the tables below)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import APPS, on_client_secret, on_invalid_client, on_settings
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit
from tests.units.patches import NO_WWW_AUTHENTICATE

NO_RATE_LIMIT = on_settings(Defect.NO_RATE_LIMIT, rate_limit=None)
BODY_SECRET_UNCHECKED = on_settings(Defect.BODY_SECRET_UNCHECKED, body_secret_checked=False)
UNKNOWN_CLIENT_400 = on_settings(Defect.UNKNOWN_CLIENT_400, unknown_client_status=400)
# Client secrets compared wrongly: each also accepts some secret that is not the application's.
ACCEPT_ANY_SECRET = on_client_secret(Defect.ACCEPT_ANY_SECRET, lambda real, given: True)
ACCEPT_EMPTY_SECRET = on_client_secret(Defect.ACCEPT_EMPTY_SECRET, lambda real, given: given == "")
SECRET_MISSING_OK = on_client_secret(Defect.SECRET_MISSING_OK, lambda real, given: given is None)
ACCEPT_ANY_SECRET_PREFIX = on_client_secret(
    Defect.ACCEPT_ANY_SECRET_PREFIX, lambda real, given: bool(given) and real.startswith(given or "")
)
SECRET_SUFFIX_IGNORED = on_client_secret(
    Defect.SECRET_SUFFIX_IGNORED, lambda real, given: given is not None and given.startswith(real)
)
SECRET_CASE_INSENSITIVE = on_client_secret(
    Defect.SECRET_CASE_INSENSITIVE, lambda real, given: given is not None and given.lower() == real.lower()
)
SECRET_STRIP_WHITESPACE = on_client_secret(
    Defect.SECRET_STRIP_WHITESPACE, lambda real, given: given is not None and given.strip() == real
)
SECRET_COMPARE_FIRST_16 = on_client_secret(
    Defect.SECRET_COMPARE_FIRST_16,
    lambda real, given: given is not None and len(given) >= 16 and given[:16] == real[:16],
)
ACCEPT_CLIENT_ID_AS_SECRET = on_client_secret(
    Defect.ACCEPT_CLIENT_ID_AS_SECRET, lambda real, given: given in APPS
)
ECHO_SECRET = on_invalid_client(
    Defect.ECHO_SECRET, lambda refusal: f"Invalid client secret: {refusal.given}" if refusal.given else None
)
STACK_TRACE_IN_ERRORS = on_invalid_client(
    Defect.STACK_TRACE_IN_ERRORS,
    lambda refusal: (
        "Traceback (most recent call last):\n  File "
        '"/openedx/venv/lib/python3.11/site-packages/oauthlib/oauth2/rfc6749/'
        'endpoints/token.py", line 112, in create_token_response\n'
        "oauthlib.oauth2.rfc6749.errors.InvalidClientError"
    ),
)

# The secrets that are not the client's, sent in the body (secret.variant) and with Basic (variant-basic).
SECRET_VARIANTS = (
    fails(ACCEPT_EMPTY_SECRET, "an empty client_secret field is not the secret", "empty"),
    fails(SECRET_MISSING_OK, "without any client_secret field is not the secret", "missing"),
    fails(SECRET_COMPARE_FIRST_16, "its last character changed is not the secret", "one-char-changed"),
    fails(ACCEPT_ANY_SECRET_PREFIX, "without its last character is not the secret", "truncated"),
    fails(ACCEPT_ANY_SECRET_PREFIX, "the first half of the secret", "first-half"),
    fails(SECRET_SUFFIX_IGNORED, "followed by extra characters is not the secret", "suffixed"),
    fails(SECRET_CASE_INSENSITIVE, "upper and lower case swapped is not the secret", "case-flipped"),
    fails(SECRET_STRIP_WHITESPACE, "a space before and after is not the secret", "whitespace-padded"),
    fails(ACCEPT_CLIENT_ID_AS_SECRET, "another client's identifier", "other-client"),
    fails(ACCEPT_ANY_SECRET, "a long random string is not the secret", "long-random"),
)

TABLE: dict[str, Unit] = {
    "bad-credentials.basic.wrong-secret": unit(
        fails(NO_WWW_AUTHENTICATE, "a 401 names the authentication scheme"),
        fails(ACCEPT_ANY_SECRET, "a wrong Basic secret is invalid_client"),
    ),
    "bad-credentials.body.wrong-secret": unit(
        fails(BODY_SECRET_UNCHECKED, "a wrong secret in the body is invalid_client"),
    ),
    "bad-credentials.client.unknown": unit(
        fails(UNKNOWN_CLIENT_400, "a client the server does not know is refused"),
    ),
    "bad-credentials.secret.variant": unit(*SECRET_VARIANTS),
    "bad-credentials.error.no-leak": unit(
        fails(ECHO_SECRET, "the submitted secret is not echoed"),
        fails(STACK_TRACE_IN_ERRORS, "no stack trace or internals in the error"),
        either=(ACCEPT_ANY_SECRET,),  # no token for a wrong secret is BC-02's requirement
    ),
    "bad-credentials.throttling": unit(
        fails(NO_RATE_LIMIT, "brute force on client secrets is throttled"),
        # 130 probes: the run's token budget must allow them (see the report on BC-06).
        profile={"options": {"throttle_probe": True, "max_requests": 300, "max_token_requests": 200}},
    ),
    "bad-credentials.secret.variant-basic": unit(*SECRET_VARIANTS),
}
