"""An in-process stub of a stock Open edX LMS (plus a discovery service) for the checks' unit tests.

`StubLms(patches).handle` is an `httpx.MockTransport` handler that answers the way a stock LMS does
(docs/clauses.md states each behaviour with its upstream source, observed-2 to observed-5 what the
pinned libraries were seen to do): the token endpoint (client_credentials, password and
refresh_token grants; HS256 JWTs by default, RS512 with `asymmetric_jwt`, opaque Bearer tokens
otherwise; oauthlib's error bodies and headers; 405 for other methods, 500 for a query string on the
POST, the 120-a-minute rate limit), `/oauth2/revoke_token`, `/api/user/v1/me` (edx-drf-extensions'
JWT authentication checked with PyJWT's algorithms against the stub's own keys, and DOT's Bearer
lookup), and a discovery service on a second host that trusts the LMS's JWTs. Behind a Tutor-style
proxy: https with HSTS, plain http redirected. `StubLms.handshake` stands in for the transport
checks' TLS handshake.

Its behaviour reads a few named hooks (`HOOKS`): the instance's `Settings`, a resource server's
`ResourceAuth`, a JWT about to be signed, the token response's body and headers, the front server, and
the sign-in flows' and advisories' own settings (tests/stub_signin.py, tests/stub_advisories.py). A
unit case in tests/units/ carries its mutation as a `Patch` on one hook, named by its defect in the
catalogue (conformance/reference/defects.py): it breaks (or, for a "variant", legitimately changes)
one behaviour, so that a check can be shown to pass against the stock stub and to fail against it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import posixpath
import secrets
import ssl
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote_plus

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms

from conformance.reference.defects import Defect

LMS_URL = "https://lms.example.org"
LMS_HOST = "lms.example.org"
DISCOVERY_URL = "https://discovery.example.org"
DISCOVERY_HOST = "discovery.example.org"
DISCOVERY_PROBE = "/api/v1/catalogs/"
ISSUER = f"{LMS_URL}/oauth2"
AUDIENCE = "openedx"
JWT_SECRET = "stub-JWT_SECRET_KEY-4c1f0e9b7a2d58e6c3b1a0f9"
KID = "stub-lms-20240101"
CLIENT_ID = "stub-cc-client-id"
CLIENT_SECRET = "Xq7LmT2vR9pW4sK8dF3hJ6nB1cZ5yG0aE2uI7oPq"
PUBLIC_CLIENT_ID = "stub-public-client-id"
DEFAULT_SCOPES = ("read", "write", "email", "profile")
APP_SCOPES = frozenset(DEFAULT_SCOPES)
# Parameters the token endpoint knows (what `Settings.unknown_params_rejected` refuses is the rest).
KNOWN_PARAMS = frozenset(
    {
        "grant_type",
        "client_id",
        "client_secret",
        "token_type",
        "asymmetric_jwt",
        "scope",
        "username",
        "password",
        "refresh_token",
    }
)

# Mutations: a unit case's patch on one of the stub's named hooks.


@dataclass(frozen=True)
class Patch:
    """A unit case's mutation: the defect it stands for, and its change to the value at one of the
    stub's named hooks (`HOOKS`). The change edits that value in place."""

    defect: Defect
    hook: str
    change: Callable[[Any], object]

    def __post_init__(self) -> None:
        if self.hook not in HOOKS:
            raise ValueError(f"{self.defect}: no stub hook {self.hook!r} (one of {sorted(HOOKS)})")


T = TypeVar("T")

# The hooks: what each one hands a patch's change (`StubLms.hook`).
HOOKS: dict[str, str] = {
    "settings": "the instance's configuration (`Settings`), once, when the stub is made",
    "oauth_headers": "the headers of every token-endpoint answer oauthlib makes (dict)",
    "oauth_error": "the JSON body of a token-endpoint or revocation error (dict: error, error_description)",
    "token_body": "the JSON body of a successful token response (dict), after the grant is stored",
    "jwt": "a JWT the LMS is about to sign (`JwtDraft`: header, claims, app, user)",
    "published_jwks": "the JWK set the operator is given for the profile (`Published`)",
    "resource": "a resource server's authentication (`ResourceAuth`), each time it authenticates",
    "front": "a request to the LMS as the front server gets it (`Front`), before the LMS routes it",
    "invalid_client": "an invalid_client refusal being made (`InvalidClient`)",
    "client_secret": "a wrong client secret being compared (`SecretCheck`)",
    "signin": "the sign-in flows' configuration (`stub_signin.SignInSettings`), once per stub",
    "advisories": "the advisories' fixes in place (`stub_advisories.Fixes`), once per stub",
}


def field_patch(
    defect: Defect, hook: str, kind: type, fields: dict[str, Any], applies: Callable[[Any], bool] = bool
) -> Patch:
    """A patch that sets `fields` of the dataclass `kind` a hook hands over (where `applies`)."""
    unknown = sorted(set(fields) - set(kind.__dataclass_fields__))
    if unknown:
        raise ValueError(f"{defect}: no such {kind.__name__} field(s) {unknown}")
    return Patch(defect, hook, lambda value: applies(value) and value.__dict__.update(fields))


def on_settings(defect: Defect, **fields: Any) -> Patch:
    """A patch that sets fields of the instance's configuration (`Settings`)."""
    return field_patch(defect, "settings", Settings, fields)


def on_oauth_headers(defect: Defect, change: Callable[[dict[str, str]], object]) -> Patch:
    return Patch(defect, "oauth_headers", change)


def on_oauth_error(defect: Defect, change: Callable[[dict[str, Any]], object]) -> Patch:
    return Patch(defect, "oauth_error", change)


def on_jwt(defect: Defect, change: Callable[[JwtDraft], object]) -> Patch:
    return Patch(defect, "jwt", change)


def on_published_jwks(defect: Defect, change: Callable[[Published], object]) -> Patch:
    return Patch(defect, "published_jwks", change)


def on_resource(defect: Defect, service: str = "lms", **fields: Any) -> Patch:
    """A patch that sets fields of one resource server's authentication (`ResourceAuth`)."""
    return field_patch(defect, "resource", ResourceAuth, fields, lambda auth: auth.service == service)


def on_front(defect: Defect, answer: Callable[[httpx.Request], httpx.Response | None]) -> Patch:
    """A patch with which the front server answers some requests itself (`answer` returns None for
    the others)."""

    def change(front: Front) -> None:
        if front.response is None:
            front.response = answer(front.request)

    return Patch(defect, "front", change)


def on_invalid_client(defect: Defect, describe: Callable[[InvalidClient], str | None]) -> Patch:
    """A patch that gives invalid_client refusals an error_description."""
    return Patch(defect, "invalid_client", lambda refusal: setattr(refusal, "description", describe(refusal)))


def on_client_secret(defect: Defect, accepts: Callable[[str, str | None], bool]) -> Patch:
    """A patch under which a wrong client secret is also accepted when `accepts(real, given)`."""

    def change(check: SecretCheck) -> None:
        check.accepted = check.accepted or accepts(check.real, check.given)

    return Patch(defect, "client_secret", change)


def on_token_body(defect: Defect, change: Callable[[dict[str, Any]], object]) -> Patch:
    return Patch(defect, "token_body", change)


NEXT_KID = "stub-lms-next"


def next_key_pem() -> str:
    """The rotation's NEW private key (PEM), as an operator gives it in jwt.rotation_key."""
    return (
        rsa_key("next")
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


# Users and applications -----------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    email: str
    password: str
    user_id: int
    name: str | None
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True

    @property
    def sub(self) -> str:
        """The anonymous user id: 32 lowercase hex, stable per user, not the username."""
        return hashlib.md5(f"anonymous:{self.username}".encode()).hexdigest()


@dataclass(frozen=True)
class App:
    client_id: str
    secret: str | None  # None: a public client
    grant: str  # the application's grant type, as the JWT's grant_type claim spells it
    owner: str


OWNER = User("svc_worker", "svc_worker@example.org", "Owner-Passw0rd-9", 3, "Service Worker", is_staff=True)
LEARNER = User("stub_learner", "learner@example.org", "Learner-Passw0rd-7", 7, "Stub Learner")
# The [accounts] entries: an unactivated learner, a learner disabled by support (unusable password)
# holding a refresh token from before, a RestrictedApplication, a deleted application's credentials
# and an application moved to authorization code.
INACTIVE = User(
    "stub_unactivated", "unactivated@example.org", "Inactive-Passw0rd-3", 11, None, is_active=False
)
DISABLED = User("stub_disabled", "disabled@example.org", "Disabled-Passw0rd-5", 12, "Dee Sabled")
DISABLED_REFRESH_TOKEN = "StubDisabledUsersRefreshToken01"
RESTRICTED_CLIENT_ID, RESTRICTED_SECRET = "stub-restricted-client", "Rk2vX9mQ4tL7wS1pZ8cN3bH6yF0dJ5gA"
DELETED_CLIENT_ID, DELETED_SECRET = "stub-deleted-client", "Dl4nP7qR2sT9vW1xY6zB3cF8gH0jK5mN"
CHANGED_CLIENT_ID, CHANGED_SECRET = "stub-changed-client", "Ch5gR8aN1tE4dG7rA2nT9cL3iE6nT0sQ"
USERS = {u.username: u for u in (OWNER, LEARNER, INACTIVE, DISABLED)}
APPS = {
    CLIENT_ID: App(CLIENT_ID, CLIENT_SECRET, "client-credentials", OWNER.username),
    PUBLIC_CLIENT_ID: App(PUBLIC_CLIENT_ID, None, "password", LEARNER.username),
    RESTRICTED_CLIENT_ID: App(RESTRICTED_CLIENT_ID, RESTRICTED_SECRET, "client-credentials", OWNER.username),
    CHANGED_CLIENT_ID: App(CHANGED_CLIENT_ID, CHANGED_SECRET, "authorization-code", OWNER.username),
}
RESTRICTED_APPS = frozenset({RESTRICTED_CLIENT_ID})


@dataclass
class Grant:
    username: str
    client_id: str
    scopes: list[str]
    expires_at: float


# Keys ---------------------------------------------------------------------------------------------


@functools.cache
def rsa_key(name: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """Generated once per test session (2048-bit generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_jwk(key: rsa.RSAPrivateKey, kid: str, *, private: bool = False) -> dict[str, Any]:
    """As the platform's generate_jwt_signing_key writes it (JWT_PUBLIC_SIGNING_JWK_SET)."""
    numbers = key.private_numbers()
    jwk: dict[str, Any] = {
        "kid": kid,
        "kty": "RSA",
        "use": "sig",
        "alg": "RS512",
        "e": _int(numbers.public_numbers.e),
        "n": _int(numbers.public_numbers.n),
    }
    if private:
        jwk.update(
            d=_int(numbers.d),
            p=_int(numbers.p),
            q=_int(numbers.q),
            dp=_int(numbers.dmp1),
            dq=_int(numbers.dmq1),
            qi=_int(numbers.iqmp),
        )
    return jwk


def _hmac(alg: str, key: bytes, data: bytes) -> bytes:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return hmac.new(key, data, digest).digest()


class _Reply(Exception):
    """Flow control: answer with this response now."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


@dataclass
class ResourceAuth:
    """A resource server's authentication as the stub applies it: edx-drf-extensions'
    JwtAuthentication with its settings, then (on the LMS) the platform's Bearer authentication, and
    what the proxy in front passes on. An `on_resource` patch changes fields for one service."""

    service: str  # "lms" (its /api/) or "discovery"
    issuer: str  # JWT_ISSUERS: the iss it accepts
    audience: str  # JWT_AUDIENCE
    secret: str  # JWT_ISSUERS[0].SECRET_KEY: HMAC JWTs verify with it
    hmac_algs: set[str]
    rsa_keys: list[Any]  # JWT_PUBLIC_SIGNING_JWK_SET
    check_signature: bool = True
    alg_none: bool = False  # unsigned JWTs (alg none, any casing) pass the signature step
    hmac_public_key: bool = False  # HMAC JWTs also verify with the public RSA key (key confusion)
    header_keys: bool = False  # a jwk in the JOSE header verifies its token; jku/x5u ones pass
    kid_files: bool = False  # HMAC keys are read from the file the kid names
    unknown_kid_passes: bool = False  # a JWT whose kid names no key passes unverified
    require_exp: bool = True
    check_exp: bool = True
    check_iss: bool = True
    check_aud: bool = True
    restricted_refused: bool = True  # a RestrictedApplication's JWT is refused (403) without a scope
    username_suffix: str = ""  # appended to the username it answers (someone else's)
    authorization_header: bool = True  # the Authorization header reaches it (a proxy may drop it)
    query_token: bool = False  # ?access_token= is read
    anonymous: bool = False  # a request without credentials is answered (AllowAny)
    jwt_scheme_exact: bool = False  # JWTs only under the scheme spelt exactly "JWT"
    bearer: bool = True  # opaque tokens are accepted under Bearer (the LMS only)
    bearer_jwt: bool = False  # JWTs are accepted under Bearer
    jwt_opaque: bool = False  # opaque tokens are accepted under JWT
    invalid_status: int = 401  # the answer to an unparsable or unknown token


class StubClock:
    """The stub's clock; `sleep` moves it forward instead of waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)


@dataclass
class Published:
    """The public JWK set handed to the operator: its keys, or a text that replaces the JSON."""

    keys: list[dict[str, Any]]
    text: str | None = None


@dataclass
class JwtDraft:
    """A JWT the LMS is about to sign: its JOSE header (without alg) and claims, and whom it is for."""

    header: dict[str, Any]
    claims: dict[str, Any]
    app: App
    user: User


@dataclass
class Front:
    """A request as it reaches the front server; a `front` patch may answer it there."""

    request: httpx.Request
    response: httpx.Response | None = None


@dataclass
class InvalidClient:
    """An invalid_client refusal: the secret the client sent, and the error_description (none)."""

    given: str | None
    description: str | None = None


@dataclass
class SecretCheck:
    """A client secret that is not the application's: a `client_secret` patch may accept it."""

    real: str
    given: str | None  # None: no secret sent at all
    accepted: bool = False


@dataclass
class Settings:
    """The stock instance's configuration (the LMS's settings, its front server's), as the stub answers
    by it; an `on_settings` patch changes fields before the first request."""

    issuer: str = ISSUER  # JWT_ISSUER: the iss the LMS signs, and its own API trusts
    audience: str = AUDIENCE  # JWT_AUDIENCE, likewise
    signing_secret: str = JWT_SECRET  # JWT_SECRET_KEY: the LMS signs its HMAC JWTs with it
    trusted_secret: str | None = None  # JWT_ISSUERS[0].SECRET_KEY (None: the signing secret)
    published_secret: str = JWT_SECRET  # the JWT_SECRET_KEY handed to the operator (the profile's)
    signing_key: str = "signing"  # JWT_PRIVATE_SIGNING_JWK: the `rsa_key` the LMS signs RS512 with
    trusted_key: str | None = None  # the `rsa_key` its API verifies RS512 with (None: the signing key)
    hmac_alg: str = "HS256"  # the LMS signs (and its API accepts) its HMAC JWTs with this algorithm
    honours_asymmetric_jwt: bool = True  # asymmetric_jwt asks for an RS512 token
    # Where the rotation's next public key is trusted (phase 1: "profile", "lms", "discovery").
    next_key_in: frozenset[str] = frozenset()
    www_authenticate: bool = True  # a 401 (token endpoint, resources) names its scheme
    jwt_lifetime: int = 3600  # JWT_EXPIRATION: expires_in (and exp - iat) of a JWT
    opaque_lifetime: int = 36000  # ACCESS_TOKEN_EXPIRE_SECONDS: expires_in of an opaque token
    default_scopes: tuple[str, ...] = DEFAULT_SCOPES  # granted when the request names none
    client_credentials_refresh: bool = False  # the client_credentials grant issues a refresh token
    # ACCESS_TOKEN_GENERATOR: makes each opaque token
    opaque_token: Callable[[], str] = field(default_factory=lambda: _random_token)
    # The token endpoint (DOT 1.7.1 and oauthlib as the platform configures them)
    token_paths: tuple[str, ...] = ("/oauth2/access_token",)  # routed to it (without a final slash)
    rate_limit: int | None = 120  # token requests a minute before 403 (None: never throttled)
    token_any_method: bool = False  # methods other than POST are processed like POST
    token_query_params: bool = False  # URL query parameters are read (on any method)
    json_body: bool = False  # a JSON body is read like a form
    repeated_param: str = "last"  # a repeated parameter: the "last" value wins, "500", or "rejected"
    unknown_params_rejected: bool = False
    default_grant: str | None = None  # the grant a request without grant_type gets
    unknown_grant_error: str = "unsupported_grant_type"
    unknown_scopes_dropped: bool = False  # instead of invalid_scope
    grants_enforced: bool = True  # an application uses only its own grant type
    jwt_by_default: bool = False  # without token_type the endpoint issues a JWT
    token_type_case_sensitive: bool = False  # token_type must be exactly "jwt"
    default_rs512: bool = False  # every JWT is RS512, asked for or not
    private_jwk_complete: bool = True  # JWT_PRIVATE_SIGNING_JWK has dp, dq and qi (else RS512 is 500)
    missing_username_error: str = "invalid_request"
    passwords_checked: bool = True  # the password grant compares the password
    password_refresh: bool = True  # the password grant issues a refresh token
    refresh_rotated: bool = True  # the refresh grant hands out a new refresh token
    refresh_single_use: bool = True  # a used refresh token is deleted
    # Client authentication
    basic_auth: bool = True  # HTTP Basic is read
    body_auth: bool = True  # client_secret in the form body is read
    body_secret_checked: bool = True  # a client_secret in the body is compared
    unknown_client_status: int = 401  # an unknown client's invalid_client
    legacy_apps: tuple[App, ...] = ()  # applications still found after deletion (a legacy table)
    # Users
    inactive_users_sign_in: bool = True  # the password grant takes unactivated users
    disabled_users_sign_in: bool = False  # support's "disable" makes the password unusable
    disabled_users_keep_tokens: bool = False  # support's "disable" retires the user's tokens
    # Revocation
    revocation_any_method: bool = False
    revocation_needs_token: bool = True  # no token parameter is 400 invalid_request
    revocation_unknown_error: bool = False  # an unknown token is 400 (RFC 7009 says 200)
    revocation_jwt_error: bool = False  # a JWT is 400 unsupported_token_type
    revocation_revokes: bool = True
    revocation_blocklists_jwt: bool = False  # a revoked JWT is refused afterwards
    # The front server (Tutor's Caddy) and its certificate
    hsts: bool = True
    plain_http: str = "redirect"  # plain http is "redirect"ed to https, "served", or "closed"
    tls_versions: tuple[str, ...] = ("TLSv1.3", "TLSv1.2")  # offered, best first
    certificate_verifies: bool = True  # for the LMS's host name
    certificate_days: int = 80  # left before the certificate expires


# The stub -----------------------------------------------------------------------------------------


class StubLms:
    def __init__(self, patches: Iterable[Patch] = ()) -> None:
        self.patches = tuple(patches)
        if not all(isinstance(p, Patch) for p in self.patches):
            raise TypeError(f"a stub mutation is a Patch: {self.patches}")
        self.settings = self.hook("settings", Settings())
        self.clock = StubClock()
        self.opaque: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {
            DISABLED_REFRESH_TOKEN: Grant(DISABLED.username, PUBLIC_CLIENT_ID, list(DEFAULT_SCOPES), 0)
        }
        self.revoked_jwts: set[str] = set()
        self.token_hits: list[float] = []
        self.requests: list[httpx.Request] = []

    def configuration(self, name: str, default: Callable[[], T]) -> T:
        """A once-per-stub hook's value: `default()` with the hook's patches applied, made on first use."""
        made: dict[str, Any] = self.__dict__.setdefault("configurations", {})
        if name not in made:
            made[name] = self.hook(name, default())
        return made[name]  # type: ignore[no-any-return]

    def hook(self, name: str, value: T) -> T:
        """Applies the patches on hook `name` to `value` (in the order the mutations were given)."""
        for patch in self.patches:
            if patch.hook == name:
                patch.change(value)
        return value

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # Configuration: what the instance signs with, and what its operator publishes -----------------

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        return rsa_key(self.settings.signing_key)

    @property
    def published_secret(self) -> str:
        """The JWT_SECRET_KEY the operator puts in the profile."""
        return self.settings.published_secret

    def published_jwks(self) -> str:
        """The public JWK set the operator puts in the profile (the LMS itself serves none)."""
        published = Published([public_jwk(rsa_key("signing"), KID)])
        if "profile" in self.settings.next_key_in:
            published.keys.append(public_jwk(rsa_key("next"), NEXT_KID))
        self.hook("published_jwks", published)
        return json.dumps({"keys": published.keys}) if published.text is None else published.text

    def _trust(self, service: str) -> ResourceAuth:
        """The authentication of a resource server ("lms" or "discovery"), its patches applied."""
        lms = service == "lms"
        keys = [rsa_key(self.settings.trusted_key or self.settings.signing_key).public_key()]
        if service in self.settings.next_key_in:
            keys.append(rsa_key("next").public_key())
        auth = ResourceAuth(
            service,
            issuer=self.settings.issuer if lms else ISSUER,
            audience=self.settings.audience if lms else AUDIENCE,
            secret=self.settings.trusted_secret or self.settings.signing_secret,
            hmac_algs={"HS256", self.settings.hmac_alg},
            rsa_keys=keys,
        )
        return self.hook("resource", auth)

    def now(self) -> float:
        return self.clock.time()

    # Dispatch ---------------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host, scheme = request.url.host, request.url.scheme
        if host == DISCOVERY_HOST:
            return self._discovery(request)
        if host != LMS_HOST:
            raise httpx.ConnectError(f"[Errno -2] Name or service not known: {host}", request=request)
        if scheme == "http":
            if self.settings.plain_http == "closed":
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            if self.settings.plain_http == "redirect":
                location = str(request.url.copy_with(scheme="https"))
                return httpx.Response(301, headers={"Location": location, "Content-Length": "0"})
        front = self.hook("front", Front(request))
        try:
            response = front.response or self._lms(request)
        except _Reply as reply:
            response = reply.response
        if scheme == "https" and self.settings.hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    def _lms(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.rstrip("/") in self.settings.token_paths:
            return self._token_endpoint(request)
        if path.rstrip("/") == "/oauth2/revoke_token":
            return self._revoke(request)
        if path == "/api/user/v1/me":
            return self._me(request)
        advisory = stub_advisories().handle(self, request)  # the advisories' pages
        if advisory is not None:
            return advisory
        signin = stub_signin().handle(self, request)  # login API, /oauth2/authorize, JWT cookies
        if signin is not None:
            return signin
        if path == "/":
            return _html(200, "<html><body><h1>Welcome to Your Platform Name Here</h1></body></html>")
        return _html(404, "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>")

    # Responses --------------------------------------------------------------------------------------

    def _oauth_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """oauthlib's responses: json.dumps bodies, no-store and no-cache on every one."""
        all_headers = {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "X-Frame-Options": "DENY",
            "Vary": "Accept-Language, origin, Cookie",
            "Content-Language": "en",
            **(headers or {}),
        }
        self.hook("oauth_headers", all_headers)
        return httpx.Response(status, headers=all_headers, content=json.dumps(body).encode())

    def _oauth_error(self, status: int, error: str, description: str | None = None) -> _Reply:
        body: dict[str, Any] = {"error": error}
        if description is not None:
            body["error_description"] = description
        self.hook("oauth_error", body)
        headers = {}
        if status == 401 and self.settings.www_authenticate:
            headers["WWW-Authenticate"] = f'Bearer error="{error}"'
        return _Reply(self._oauth_json(status, body, headers))

    def _invalid_client(self, given: str | None, *, unknown: bool = False) -> _Reply:
        refusal = self.hook("invalid_client", InvalidClient(given))
        status = self.settings.unknown_client_status if unknown else 401
        return self._oauth_error(status, "invalid_client", refusal.description)

    # Parameters and client authentication -----------------------------------------------------------

    def _form(self, request: httpx.Request) -> list[tuple[str, str]]:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = request.content.decode("utf-8", "replace")
        if ctype == "application/x-www-form-urlencoded":
            return parse_qsl(body, keep_blank_values=True)
        if ctype == "application/json" and self.settings.json_body:
            try:
                data = json.loads(body)
            except ValueError:
                return []
            return [(str(k), str(v)) for k, v in data.items()] if isinstance(data, dict) else []
        return []

    def _secret_matches(self, real: str, given: str | None) -> bool:
        exact = given is not None and hmac.compare_digest(given.encode(), real.encode())
        return exact or self.hook("client_secret", SecretCheck(real, given)).accepted

    def _client(self, request: httpx.Request, params: dict[str, str]) -> App:
        """DOT's client authentication: HTTP Basic wins; else the body; public clients by id."""
        header = request.headers.get("authorization", "")
        client_id: str | None
        secret: str | None
        from_body = False
        if header[:6].lower() == "basic " and self.settings.basic_auth:
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except ValueError:
                raise self._invalid_client(None) from None
            raw_id, colon, raw_secret = decoded.partition(":")
            # No colon: an id without any secret (DOT's Basic parsing fails; nothing is compared).
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret) if colon else None
        else:
            client_id, secret = params.get("client_id"), params.get("client_secret")
            from_body = True
            if not self.settings.body_auth:
                secret = None
        app = APPS.get(client_id or "") or next(
            (a for a in self.settings.legacy_apps if a.client_id == client_id), None
        )
        if app is None:
            raise self._invalid_client(secret, unknown=bool(client_id))
        if app.secret is None:
            return app
        if from_body and not self.settings.body_secret_checked:
            return app
        if not self._secret_matches(app.secret, secret):
            raise self._invalid_client(secret)
        return app

    # Token endpoint ---------------------------------------------------------------------------------

    def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        now = self.now()
        if self.settings.rate_limit is not None:
            self.token_hits = [t for t in self.token_hits if t > now - 60] + [now]
            if len(self.token_hits) > self.settings.rate_limit:
                return _html(403, "<h1>403 Forbidden</h1>")
        method = request.method
        allow = {"Allow": "POST, OPTIONS"}
        if method == "OPTIONS":
            return httpx.Response(200, headers={**allow, "Content-Type": "text/html; charset=utf-8"})
        if method != "POST" and not self.settings.token_any_method:
            return httpx.Response(405, headers={**allow, "Content-Type": "text/html; charset=utf-8"})
        pairs = self._form(request)
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        if query:
            if self.settings.token_query_params:
                pairs = query + pairs
            elif method == "POST":
                # DOT 1.7.1 lets oauthlib's "URL query parameters are not allowed" escape: a 500 page.
                return _html(500, "<h1>Server Error (500)</h1>")
        names = [k for k, _ in pairs]
        repeated = sorted({k for k in names if names.count(k) > 1})
        if repeated and self.settings.repeated_param == "500":
            return _html(500, "<h1>Server Error (500)</h1>")
        try:
            if repeated and self.settings.repeated_param == "rejected":
                raise self._oauth_error(400, "invalid_request", f"Duplicate {repeated[0]} parameter.")
            params = dict(pairs)  # Django's request.POST.items(): the last value of a repeated key
            return self._grant(request, params)
        except _Reply as reply:
            return reply.response

    def _grant(self, request: httpx.Request, params: dict[str, str]) -> httpx.Response:
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown and self.settings.unknown_params_rejected:
            raise self._oauth_error(400, "invalid_request", f"Unknown parameter {unknown[0]}.")
        grant = params.get("grant_type")
        grant = grant or self.settings.default_grant
        if grant == "authorization_code":
            return stub_signin().exchange(self, request, params)
        if grant not in ("client_credentials", "password", "refresh_token"):
            if grant and self.settings.unknown_grant_error == "invalid_request":
                raise self._oauth_error(400, "invalid_request", "Unknown grant type.")
            raise self._oauth_error(400, "unsupported_grant_type")
        app = self._client(request, params)
        if grant == "client_credentials":
            if app.secret is None:
                raise self._invalid_client(None)
            if app.grant != "client-credentials" and self.settings.grants_enforced:
                raise self._oauth_error(400, "unauthorized_client")
            scopes = self._scopes(params.get("scope"))
            return self._issue(request, params, app, USERS[app.owner], scopes, refresh=None)
        if grant == "password":
            for name in ("username", "password"):
                if not params.get(name):
                    if name == "username" and self.settings.missing_username_error == "invalid_grant":
                        raise self._oauth_error(400, "invalid_grant", "Invalid credentials given.")
                    raise self._oauth_error(400, "invalid_request", f"Request is missing {name} parameter.")
            user = USERS.get(params["username"]) or next(
                (u for u in USERS.values() if u.email == params["username"]), None
            )
            usable = user is not DISABLED or self.settings.disabled_users_sign_in  # support's "disable"
            if user is None or not (
                (params["password"] == user.password and usable) or not self.settings.passwords_checked
            ):
                raise self._oauth_error(400, "invalid_grant", "Invalid credentials given.")
            if user is INACTIVE and not self.settings.inactive_users_sign_in:
                raise self._oauth_error(400, "invalid_grant", "Invalid credentials given.")
            if app.grant != "password" and self.settings.grants_enforced:
                raise self._oauth_error(400, "unauthorized_client")
            scopes = self._scopes(params.get("scope"))
            refresh = "" if self.settings.password_refresh else None
            return self._issue(request, params, app, user, scopes, refresh=refresh)
        old = params.get("refresh_token")
        if not old:
            raise self._oauth_error(400, "invalid_request", "Missing refresh token parameter.")
        record = self.refresh.get(old)
        if record is None or record.client_id != app.client_id:
            raise self._oauth_error(400, "invalid_grant")
        if record.username == DISABLED.username and not self.settings.disabled_users_keep_tokens:
            raise self._oauth_error(400, "invalid_grant")  # support's "disable" retired its tokens
        reuse = not self.settings.refresh_rotated
        if not reuse and self.settings.refresh_single_use:
            del self.refresh[old]
        user = USERS[record.username]
        return self._issue(request, params, app, user, list(record.scopes), refresh=old if reuse else "")

    def _scopes(self, requested: str | None) -> list[str]:
        if requested is None:
            return list(self.settings.default_scopes)
        asked = requested.split()
        if any(s not in APP_SCOPES for s in asked):
            if not self.settings.unknown_scopes_dropped:
                raise self._oauth_error(400, "invalid_scope")
            asked = [s for s in asked if s in APP_SCOPES] or list(DEFAULT_SCOPES)
        return asked

    def _issue(
        self,
        request: httpx.Request,
        params: dict[str, str],
        app: App,
        user: User,
        scopes: list[str],
        *,
        refresh: str | None,
    ) -> httpx.Response:
        """refresh: None for no refresh token, "" for a new one, else the one to hand back."""
        token_type = params.get("token_type") or request.headers.get("x-token-type")
        if token_type is None:
            wants_jwt = self.settings.jwt_by_default
        elif self.settings.token_type_case_sensitive:
            wants_jwt = token_type == "jwt"
        else:
            wants_jwt = token_type.lower() == "jwt"
        if wants_jwt:
            lifetime = self.settings.jwt_lifetime
            if app.grant == "password" and "user_id" not in scopes:
                scopes = [*scopes, "user_id"]  # the platform adds user_id for the password grant
            asymmetric = bool(params.get("asymmetric_jwt")) and self.settings.honours_asymmetric_jwt
            rs512 = asymmetric or self.settings.default_rs512
            if rs512 and not self.settings.private_jwk_complete:
                return _html(500, "<h1>Server Error (500)</h1>")
            token = self._make_jwt(app, user, scopes, lifetime, rs512)
            kind = "JWT"
        else:
            lifetime = self.settings.opaque_lifetime
            token = self.settings.opaque_token()
            self.opaque[token] = Grant(user.username, app.client_id, scopes, self.now() + lifetime)
            if app.client_id in RESTRICTED_APPS:  # stored as expired at 1970-01-01
                self.opaque[token].expires_at = 0
                lifetime = -int(self.now())
            kind = "Bearer"
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": lifetime,
            "token_type": kind,
            "scope": " ".join(scopes),
        }
        if refresh is None and self.settings.client_credentials_refresh:
            refresh = ""
        if refresh is not None:
            refresh = refresh or _random_token()
            self.refresh[refresh] = Grant(user.username, app.client_id, list(scopes), 0)
            body["refresh_token"] = refresh
        return self._oauth_json(200, self.hook("token_body", body))

    def _make_jwt(self, app: App, user: User, scopes: list[str], lifetime: int, asymmetric: bool) -> str:
        """The platform's JwtBuilder: claims in the order it emits them (docs/clauses.md, observed-3)."""
        iat = int(self.now())
        claims: dict[str, Any] = {
            "aud": self.settings.audience,
            "exp": iat + lifetime,
            "grant_type": app.grant,
            "iat": iat,
            "iss": self.settings.issuer,
            "preferred_username": user.username,
            "scopes": list(scopes),
            "version": "1.2.0",
            "sub": user.sub,
            "filters": ["user:me"] if app.grant == "password" else [],
            "is_restricted": app.client_id in RESTRICTED_APPS,
            "email_verified": user.is_active,
        }
        if "email" in scopes:
            claims["email"] = user.email
        if "profile" in scopes:
            claims.update(profile_claims(user))
        if "user_id" in scopes:
            claims["user_id"] = user.user_id
        draft = self.hook("jwt", JwtDraft({"typ": "JWT"}, claims, app, user))
        if asymmetric or app.client_id in RESTRICTED_APPS:
            return sign({"alg": "RS512", **draft.header}, draft.claims, self.signing_key)
        secret = self.settings.signing_secret.encode()
        return sign({"alg": self.settings.hmac_alg, **draft.header}, draft.claims, secret)

    # Revocation -------------------------------------------------------------------------------------

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" and not self.settings.revocation_any_method:
            return httpx.Response(
                405, headers={"Allow": "POST, OPTIONS", "Content-Type": "text/html; charset=utf-8"}
            )
        params = dict(self._form(request))
        token = params.get("token")
        if not token:
            if not self.settings.revocation_needs_token:
                return _revoked()
            raise self._oauth_error(400, "invalid_request", "Missing token parameter.")
        app = self._client(request, params)
        known = token in self.opaque or token in self.refresh or token.count(".") == 2
        if self.settings.revocation_unknown_error and not known:
            raise self._oauth_error(400, "invalid_request", "Unknown token.")
        if self.settings.revocation_jwt_error and token.count(".") == 2:
            raise self._oauth_error(400, "unsupported_token_type")
        if self.settings.revocation_revokes:
            for store in (self.opaque, self.refresh):
                record = store.get(token)
                if record is not None and record.client_id == app.client_id:
                    del store[token]
            if self.settings.revocation_blocklists_jwt and token.count(".") == 2:
                self.revoked_jwts.add(token)
        return _revoked()

    # Resources --------------------------------------------------------------------------------------

    def _resource_error(self, status: int, body: dict[str, Any]) -> _Reply:
        headers = {"Content-Type": "application/json", "Allow": "GET, HEAD, OPTIONS"}
        if status == 401 and self.settings.www_authenticate:
            headers["WWW-Authenticate"] = 'JWT realm="api"'
        return _Reply(httpx.Response(status, headers=headers, content=_compact(body)))

    def _me(self, request: httpx.Request) -> httpx.Response:
        username = self._authenticate(request, "lms")
        if request.method not in ("GET", "HEAD"):
            raise self._resource_error(405, {"detail": f'Method "{request.method}" not allowed.'})
        headers = {"Content-Type": "application/json", **stub_advisories().cache_headers(self, request)}
        return httpx.Response(200, headers=headers, content=_compact({"username": username}))

    def _discovery(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != DISCOVERY_PROBE:
            return _html(404, "<h1>Not Found</h1>")
        try:
            self._authenticate(request, "discovery")
        except _Reply as reply:
            return reply.response
        body: dict[str, Any] = {"count": 0, "next": None, "previous": None, "results": []}
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=_compact(body))

    def _authenticate(self, request: httpx.Request, service: str) -> str:
        """edx-drf-extensions' JwtAuthentication, then the platform's Bearer authentication."""
        auth = self._trust(service)
        header = request.headers.get("authorization") if auth.authorization_header else None
        if header is None and auth.query_token:
            query = dict(parse_qsl(request.url.query.decode()))
            if query.get("access_token"):
                token = query["access_token"]
                header = f"{'JWT' if token.count('.') == 2 else 'Bearer'} {token}"
        if header is None:
            cookie_user = stub_signin().cookie_user(self, request, service)
            if cookie_user is not None:
                return cookie_user
            if auth.anonymous:
                return "anonymous"
            raise self._resource_error(401, {"detail": "Authentication credentials were not provided."})
        parts = header.split()
        if len(parts) == 1:
            raise self._resource_error(
                401,
                {
                    "error_code": "token_not_provided",
                    "developer_message": "Invalid token header. No credentials provided.",
                },
            )
        scheme = parts[0].lower()
        if scheme == "jwt" and parts[0] != "JWT" and auth.jwt_scheme_exact:
            raise self._resource_error(401, {"detail": "Authentication credentials were not provided."})
        if scheme == "jwt":
            if len(parts) > 2:
                raise self._resource_error(401, {"detail": "Invalid token."})
            token = parts[1]
            record = self.opaque.get(token)
            if auth.jwt_opaque and record and record.expires_at > self.now():
                return record.username
            return self._verify_jwt(token, service)
        if scheme == "bearer" and service == "lms":
            if len(parts) > 2:
                raise self._resource_error(
                    401, {"error_code": "token_malformed", "developer_message": "Invalid token header."}
                )
            token = parts[1]
            record = self.opaque.get(token)
            if (
                record
                and record.username == DISABLED.username
                and not self.settings.disabled_users_keep_tokens
            ):
                raise self._resource_error(
                    401, {"error_code": "user_is_disabled", "developer_message": "User disabled by admin."}
                )
            if record and record.expires_at > self.now() and auth.bearer:
                return record.username
            if auth.bearer_jwt and token.count(".") == 2:
                return self._verify_jwt(token, service)
            if auth.invalid_status == 403:
                raise self._resource_error(
                    403, {"detail": "You do not have permission to perform this action."}
                )
            raise self._resource_error(
                401,
                {
                    "error_code": "token_nonexistent",
                    "developer_message": "The provided access token does not match any valid tokens.",
                },
            )
        raise self._resource_error(401, {"detail": "Authentication credentials were not provided."})

    def _verify_jwt(self, token: str, service: str) -> str:
        auth = self._trust(service)
        invalid = self._resource_error(401, {"detail": "Invalid token."})
        try:
            parts = token.split(".")
            if len(parts) != 3:
                raise ValueError("not three parts")
            header, claims = (json.loads(b64decode(p)) for p in parts[:2])
            signature = b64decode(parts[2])
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError("not objects")
        except ValueError:
            if auth.invalid_status == 403:
                raise self._resource_error(
                    403, {"detail": "You do not have permission to perform this action."}
                ) from None
            raise invalid from None
        if token in self.revoked_jwts:
            raise invalid
        signing_input = f"{parts[0]}.{parts[1]}".encode()
        if not self._signature_ok(header, signing_input, signature, auth):
            raise invalid
        now = self.now()
        exp = claims.get("exp")
        if exp is None:
            if auth.require_exp:
                raise invalid
        elif not isinstance(exp, int | float) or (exp <= now and auth.check_exp):
            raise invalid  # exp == now is expired: the signature step allows no leeway
        if not isinstance(claims.get("iat"), int | float):
            raise invalid
        if claims.get("iss") != auth.issuer and auth.check_iss:
            raise invalid
        aud = claims.get("aud")
        aud_ok = aud == auth.audience or (isinstance(aud, list) and auth.audience in aud)
        if not aud_ok and auth.check_aud:
            raise invalid
        try:
            if int(str(claims.get("version", "1.0.0")).split(".")[0]) > 1:
                raise invalid
        except ValueError:
            raise invalid from None
        if claims.get("is_restricted") and auth.restricted_refused:
            raise self._resource_error(403, {"detail": "You do not have permission to perform this action."})
        username = claims.get("preferred_username")
        if not isinstance(username, str) or not username:
            raise invalid
        # A valid JWT for an unknown username creates that user: any name is answered.
        return username + auth.username_suffix

    def _signature_ok(
        self, header: dict[str, Any], signing_input: bytes, signature: bytes, auth: ResourceAuth
    ) -> bool:
        alg = str(header.get("alg"))
        algorithms = get_default_algorithms()
        if auth.alg_none and alg.lower() == "none":
            return True
        if not auth.check_signature:
            return True
        if auth.header_keys:
            if isinstance(header.get("jwk"), dict) and alg in algorithms:
                try:
                    key = jwt.PyJWK(header["jwk"], alg).key
                    return bool(algorithms[alg].verify(signing_input, key, signature))
                except (jwt.PyJWTError, ValueError, TypeError):
                    return False
            if "jku" in header or "x5u" in header:
                return True  # the key URL gave nothing, and the library failed open
        kid = header.get("kid")
        if auth.kid_files and isinstance(kid, str) and alg.startswith("HS"):
            if posixpath.normpath(posixpath.join("/openedx/keys", kid)) == "/dev/null":
                return hmac.compare_digest(_hmac(alg, b"", signing_input), signature)
        if auth.unknown_kid_passes and kid is not None and kid != KID:
            return True
        hmac_algs = auth.hmac_algs | ({"HS384", "HS512"} if auth.hmac_public_key else set())
        if alg in hmac_algs:
            keys = [auth.secret.encode()]
            if auth.hmac_public_key:
                jwk = json.loads(self.published_jwks())["keys"][0]
                keys += [
                    self.signing_key.public_key().public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                    ),
                    json.dumps(jwk, separators=(",", ":")).encode(),
                ]
            return any(hmac.compare_digest(_hmac(alg, key, signing_input), signature) for key in keys)
        if alg in ("RS256", "RS384", "RS512"):
            # JwtAuthentication's algorithm list lets RS256 through beside RS512 (observed-4); kid ignored.
            for key in auth.rsa_keys:
                try:
                    if algorithms[alg].verify(signing_input, key, signature):
                        return True
                except ValueError:
                    continue
        return False

    # TLS (the transport checks' `_handshake`) -------------------------------------------------------

    def handshake(self, profile: Any, context: ssl.SSLContext) -> tuple[str | None, dt.datetime | None]:
        """What the transport checks' `_handshake` would report for this server under `context`:
        the negotiated version and the certificate's notAfter (sent whether or not it is verified)."""
        offered = self.settings.tls_versions
        low, high = _version_number(context.minimum_version, 0), _version_number(context.maximum_version, 999)
        usable = [v for v in offered if low <= _TLS[v] <= high]
        if not usable:
            refused = ssl.SSLError(1, "[SSL: UNSUPPORTED_PROTOCOL] unsupported protocol")
            refused.library, refused.reason = "SSL", "UNSUPPORTED_PROTOCOL"  # as the ssl module sets them
            raise refused
        not_after = dt.datetime.now(dt.UTC) + dt.timedelta(days=self.settings.certificate_days, hours=1)
        if context.verify_mode == ssl.CERT_NONE:
            return usable[0], not_after
        if not self.settings.certificate_verifies:
            error = ssl.SSLCertVerificationError(
                1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
            )
            error.verify_code = 62
            error.verify_message = f"Hostname mismatch, certificate is not valid for '{LMS_HOST}'."
            raise error
        return usable[0], not_after


_TLS = {"TLSv1": 769, "TLSv1.1": 770, "TLSv1.2": 771, "TLSv1.3": 772}


def _version_number(version: ssl.TLSVersion, default: int) -> int:
    value = int(version)
    return default if value < 0 else value  # MINIMUM_SUPPORTED / MAXIMUM_SUPPORTED are negative


def profile_claims(user: User) -> dict[str, Any]:
    """The claims the profile scope brings."""
    return {
        "name": user.name,
        "family_name": "",
        "given_name": "",
        "administrator": user.is_staff,
        "superuser": user.is_superuser,
    }


def sign(header: dict[str, Any], claims: dict[str, Any], key: Any) -> str:
    """Compact JWS with the header exactly as given (PyJWT's algorithms do the signing)."""
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    alg = header["alg"]
    if alg.startswith("HS"):
        signature = _hmac(alg, key, signing_input.encode())
    else:
        signature = get_default_algorithms()[alg].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64url(signature)}"


def _random_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(30))


def _compact(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _html(status: int, text: str) -> httpx.Response:
    return httpx.Response(status, headers={"Content-Type": "text/html; charset=utf-8"}, content=text.encode())


def _revoked() -> httpx.Response:
    """A successful revocation: empty text/html, no cache headers (docs/clauses.md, observed-5)."""
    return httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"})


# Sign-in flows (tests/stub_signin.py): the login API, /oauth2/authorize, the JWT cookies -----------


def stub_signin() -> Any:
    from tests import stub_signin as module

    return module


# The published sign-in advisories (tests/stub_advisories.py) ------------------------------------


def stub_advisories() -> Any:
    from tests import stub_advisories as module

    return module
