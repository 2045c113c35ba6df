"""The faults of the bad-credentials area: how the token endpoint refuses bad client or user credentials."""

from __future__ import annotations

from functools import partial

from conformance.reference.defects import Defect
from conformance.reference.faults.effects import TOKEN, ResponseHeaderDropped, Setting, StatusRewritten
from conformance.reference.faults.model import Fault

# Every fault of this module is of the bad-credentials area.
_fault = partial(Fault, area="bad-credentials")

FAULTS: tuple[Fault, ...] = (
    _fault(
        name=Defect.SECRET_PREFIX,
        description=(
            "Client secrets are compared by prefix: any non-empty prefix of the real secret authenticates "
            "the client (a truncating comparison bug)."
        ),
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    _fault(
        name=Defect.SECRET_CASE_INSENSITIVE,
        description="Client secrets are compared case-insensitively (a collation or .lower() bug).",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    _fault(
        name=Defect.SECRET_WHITESPACE_STRIPPED,
        description="Submitted client secrets are stripped of surrounding whitespace before comparison.",
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    _fault(
        name=Defect.SECRET_EMPTY_ACCEPTED,
        description=(
            'An empty client_secret ("") authenticates a confidential client (a blank-means-unset check '
            "written the wrong way round)."
        ),
        catches=["bad-credentials.secret.variant", "bad-credentials.secret.variant-basic"],
    ),
    _fault(
        name=Defect.SECRET_ANY_ACCEPTED,
        description="Client authentication checks only the client id: any secret obtains a token.",
        catches=[
            "bad-credentials.basic.wrong-secret",
            "bad-credentials.body.wrong-secret",
            "bad-credentials.secret.variant",
            "bad-credentials.secret.variant-basic",
            "response-schema.error.schema",
        ],
    ),
    _fault(
        name=Defect.INVALID_CLIENT_400,
        description="invalid_client is answered with HTTP 400 instead of 401 (an error-mapping layer).",
        effects=(StatusRewritten(TOKEN, (401,), 400, error="invalid_client"),),
        catches=["bad-credentials.basic.wrong-secret", "bad-credentials.client.unknown"],
        collateral={
            "accounts.deleted-client.no-token": (
                "the deleted application's credentials (sent with HTTP Basic) are refused with 400, not 401"
            ),
        },
    ),
    _fault(
        name=Defect.NO_WWW_AUTHENTICATE,
        description="401 responses of the token endpoint lack WWW-Authenticate (a proxy drops it).",
        effects=(ResponseHeaderDropped(TOKEN, "WWW-Authenticate", statuses=(401,)),),
        catches=["bad-credentials.basic.wrong-secret"],
    ),
    _fault(
        name=Defect.ERROR_ECHOES_SECRET,
        description="invalid_client errors echo the submitted client secret in error_description.",
        catches=["bad-credentials.error.no-leak"],
    ),
    _fault(
        name=Defect.NO_RATE_LIMIT,
        description=(
            "RATELIMIT_ENABLE is off: the token endpoint takes unlimited wrong secrets (brute force). "
            "Run with the stock 120/m limit and the throttling probe on."
        ),
        effects=(Setting("RATELIMIT_ENABLE", False),),
        catches=["bad-credentials.throttling"],
        profile={"options": {"throttle_probe": True, "max_requests": 400, "max_token_requests": 250}},
        rate_limit="120/m",
    ),
)
