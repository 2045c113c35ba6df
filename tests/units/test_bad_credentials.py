"""The unit cases of the bad-credentials checks: each passes against the stock stub LMS and fails against
its mutations (tests/units/harness.py runs them).
"""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.units.harness import *  # noqa: F403  (the generic tests, run on the tables below)
from tests.units.harness import Unit, fails, unit
from tests.units.patches import NO_WWW_AUTHENTICATE

AREA = "bad-credentials"

TABLE: dict[str, Unit] = {
    "bad-credentials.basic.wrong-secret": unit(
        fails(NO_WWW_AUTHENTICATE, "a 401 names the authentication scheme"),
        fails(Defect.ACCEPT_ANY_SECRET, "a wrong Basic secret is invalid_client"),
    ),
    "bad-credentials.body.wrong-secret": unit(
        fails(Defect.BODY_SECRET_UNCHECKED, "a wrong secret in the body is invalid_client"),
    ),
    "bad-credentials.client.unknown": unit(
        fails(Defect.UNKNOWN_CLIENT_400, "a client the server does not know is refused"),
    ),
    "bad-credentials.secret.variant": unit(
        fails(Defect.ACCEPT_EMPTY_SECRET, "an empty client_secret field is not the secret", "empty"),
        fails(
            Defect.SECRET_MISSING_OK, "client_id without any client_secret field is not the secret", "missing"
        ),
        fails(
            Defect.SECRET_COMPARE_FIRST_16, "its last character changed is not the secret", "one-char-changed"
        ),
        fails(Defect.ACCEPT_ANY_SECRET_PREFIX, "without its last character is not the secret", "truncated"),
        fails(Defect.ACCEPT_ANY_SECRET_PREFIX, "the first half of the secret", "first-half"),
        fails(Defect.SECRET_SUFFIX_IGNORED, "followed by extra characters is not the secret", "suffixed"),
        fails(
            Defect.SECRET_CASE_INSENSITIVE, "upper and lower case swapped is not the secret", "case-flipped"
        ),
        fails(
            Defect.SECRET_STRIP_WHITESPACE, "a space before and after is not the secret", "whitespace-padded"
        ),
        fails(Defect.ACCEPT_CLIENT_ID_AS_SECRET, "another client's identifier", "other-client"),
        fails(Defect.ACCEPT_ANY_SECRET, "a long random string is not the secret", "long-random"),
    ),
    "bad-credentials.error.no-leak": unit(
        fails(Defect.ECHO_SECRET, "the submitted secret is not echoed"),
        fails(Defect.STACK_TRACE_IN_ERRORS, "no stack trace or internals in the error"),
        either=(Defect.ACCEPT_ANY_SECRET,),  # no token for a wrong secret is BC-02's requirement
    ),
    "bad-credentials.throttling": unit(
        fails(Defect.NO_RATE_LIMIT, "brute force on client secrets is throttled"),
        # 130 probes: the run's token budget must allow them (see the report on BC-06).
        profile={"options": {"throttle_probe": True, "max_requests": 300, "max_token_requests": 200}},
    ),
    "bad-credentials.secret.variant-basic": unit(
        fails(Defect.ACCEPT_EMPTY_SECRET, "an empty client_secret field is not the secret", "empty"),
        fails(Defect.SECRET_MISSING_OK, "without any client_secret field is not the secret", "missing"),
        fails(
            Defect.SECRET_COMPARE_FIRST_16, "its last character changed is not the secret", "one-char-changed"
        ),
        fails(Defect.ACCEPT_ANY_SECRET_PREFIX, "without its last character is not the secret", "truncated"),
        fails(Defect.ACCEPT_ANY_SECRET_PREFIX, "the first half of the secret", "first-half"),
        fails(Defect.SECRET_SUFFIX_IGNORED, "followed by extra characters is not the secret", "suffixed"),
        fails(
            Defect.SECRET_CASE_INSENSITIVE, "upper and lower case swapped is not the secret", "case-flipped"
        ),
        fails(
            Defect.SECRET_STRIP_WHITESPACE, "a space before and after is not the secret", "whitespace-padded"
        ),
        fails(Defect.ACCEPT_CLIENT_ID_AS_SECRET, "another client's identifier", "other-client"),
        fails(Defect.ACCEPT_ANY_SECRET, "a long random string is not the secret", "long-random"),
    ),
}
