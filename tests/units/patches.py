"""The stub patches that unit cases of more than one area apply (a patch used in one area stands in
that area's file)."""

from __future__ import annotations

from conformance.reference.defects import Defect
from tests.stub_lms import (
    ISSUER,
    JWT_SECRET,
    KID,
    on_jwt,
    on_published_jwks,
    on_resource,
    on_settings,
    public_jwk,
    rsa_key,
)
from tests.stub_signin import on_signin

LONG_LIVED_JWT = on_settings(Defect.LONG_LIVED_JWT, jwt_lifetime=172800)
WRONG_ISSUER = on_settings(Defect.WRONG_ISSUER, issuer="http://localhost:8000/oauth2")
WRONG_AUDIENCE = on_settings(Defect.WRONG_AUDIENCE, audience="lms-key")
ISS_HTTP_SCHEME = on_settings(Defect.ISS_HTTP_SCHEME, issuer=ISSUER.replace("https://", "http://", 1))
# The instance signs (and trusts) other keys than the ones the operator holds.
ROTATED_KEYS = on_settings(Defect.ROTATED_KEYS, signing_secret="rotated-" + JWT_SECRET, signing_key="rotated")
KID_UNKNOWN = on_jwt(Defect.KID_UNKNOWN, lambda t: t.header.update(kid="stub-lms-retired"))
KID_PUBLISHED = on_jwt(Defect.KID_PUBLISHED, lambda t: t.header.update(kid=KID))
JWKS_NOT_JSON = on_published_jwks(Defect.JWKS_NOT_JSON, lambda p: setattr(p, "text", "{not json"))
JWKS_PRIVATE = on_published_jwks(
    Defect.JWKS_PRIVATE, lambda p: p.keys.__setitem__(0, public_jwk(rsa_key("signing"), KID, private=True))
)
JWKS_WEAK_KEY = on_published_jwks(
    Defect.JWKS_WEAK_KEY, lambda p: p.keys.append(public_jwk(rsa_key("weak", 1024), "stub-lms-weak"))
)
JWKS_DUPLICATE_KID = on_published_jwks(
    Defect.JWKS_DUPLICATE_KID, lambda p: p.keys.append(public_jwk(rsa_key("rotated"), KID))
)
NO_WWW_AUTHENTICATE = on_settings(Defect.NO_WWW_AUTHENTICATE, www_authenticate=False)
DISCOVERY_WRONG_ISSUER = on_resource(
    Defect.DISCOVERY_WRONG_ISSUER, "discovery", issuer="https://lms.other.example.org/oauth2"
)
DISCOVERY_HS256_ONLY = on_resource(Defect.DISCOVERY_HS256_ONLY, "discovery", rsa_keys=[])
NO_BODY_AUTH = on_settings(Defect.NO_BODY_AUTH, body_auth=False)
GRANT_TYPE_NOT_ENFORCED = on_settings(Defect.GRANT_TYPE_NOT_ENFORCED, grants_enforced=False)
CSRF_ENDPOINT_MISSING = on_signin(Defect.CSRF_ENDPOINT_MISSING, unrouted=frozenset({"/csrf/api/v1/token"}))
