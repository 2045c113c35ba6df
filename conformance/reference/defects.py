"""The catalogue of defect names: every way the suite's self-tests break an Open edX LMS, named once.

A defect is one misbehaviour of an instance (or a legitimate variant of it, marked "variant:"). The
same names serve the reference instance's faults (`conformance.reference.faults`, each fault's
name is a defect here) and the mutations of the unit tests' stub LMS (`tests/stub_lms.py`, each
unit case in `tests/units/` names the defect its patch applies). A name means the same in both;
`tests/units/test_catalogue.py` fails on a fault or a unit case whose name is not here.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Defect"]


class Defect(StrEnum):
    """A defect's name (the member's value, as faults and reports spell it) and its one-line meaning."""

    meaning: str

    def __new__(cls, name: str, meaning: str) -> Defect:
        member = str.__new__(cls, name)
        member._value_ = name
        member.meaning = meaning
        return member

    # token-endpoint
    AUTHORIZATION_HEADER_STRIPPED = (
        "authorization-header-stripped",
        "The proxy in front of /oauth2/ drops the Authorization header (proxy_set_header Authorization "
        '"" left from a staging basic-auth setup): HTTP Basic client authentication never arrives',
    )
    BAD_PASSWORD_INVALID_CLIENT = (
        "bad-password-invalid-client",
        "Wrong user credentials in the password grant are answered 401 invalid_client instead of 400 "
        "invalid_grant",
    )
    BASIC_CLIENT_AUTH_REFUSED = (
        "basic-client-auth-refused",
        "The token endpoint authenticates clients only from the form body: HTTP Basic client "
        "authentication (RFC 6749 2.3.1's MUST) is refused with 401 invalid_client",
    )
    BODY_CREDENTIALS_IGNORED = (
        "body-credentials-ignored",
        "The token endpoint supports only HTTP Basic client authentication (client_secret_post off): "
        "client_id and client_secret in the body, as edx-rest-api-client sends them, are refused",
    )
    DEFAULT_JWT = "default-jwt", "without token_type the endpoint issues a JWT"
    DUPLICATE_PARAM_500 = "duplicate-param-500", "a repeated parameter crashes the endpoint (HTTP 500)"
    DUPLICATE_PARAM_REJECTED = (
        "duplicate-param-rejected",
        "variant: a repeated parameter is 400 invalid_request (RFC 6749 3.2)",
    )
    ERROR_AS_200 = (
        "error-as-200",
        "An error-normalising layer answers every OAuth error of the token endpoint with HTTP 200 and the"
        " error body",
    )
    GATEWAY_NORMALISES_PARAMS = (
        "gateway-normalises-params",
        "An API gateway in front of the token endpoint moves query parameters into the form body and "
        "joins repeated parameters with commas: client credentials in the URL obtain a token, and a "
        "repeated grant_type becomes 'password,client_credentials'",
    )
    GATEWAY_PATH_ALIAS = (
        "gateway-path-alias",
        "The LMS also routes the hosted gateway's /oauth2/v1/access_token to its token view (a recorded "
        "deviation only: the check is MAY, so the run still passes)",
    )
    GATEWAY_PATH_SERVED = "gateway-path-served", "/oauth2/v1/access_token is served like the token endpoint"
    INVALID_GRANT_FOR_UNSUPPORTED = (
        "invalid-grant-for-unsupported",
        "A missing or unknown grant_type is answered invalid_grant instead of unsupported_grant_type",
    )
    JSON_BODY_ACCEPTED = (
        "json-body-accepted",
        "A middleware parses JSON bodies into the form: a JSON token request gets a token",
    )
    MISSING_GRANT_DEFAULTS_CLIENT_CREDENTIALS = (
        "missing-grant-defaults-client-credentials",
        "a missing grant_type means client_credentials",
    )
    MISSING_USERNAME_INVALID_GRANT = "missing-username-invalid-grant", "a missing username is invalid_grant"
    NO_BASIC_AUTH = "no-basic-auth", "HTTP Basic client authentication is ignored"
    NO_BODY_AUTH = (
        "no-body-auth",
        "client_secret in the form body is ignored (confidential clients need Basic)",
    )
    NO_REFRESH_ROTATION = (
        "no-refresh-rotation",
        "ROTATE_REFRESH_TOKEN is off: a refresh token keeps working after use",
    )
    NO_REFRESH_TOKEN = "no-refresh-token", "the password grant issues no refresh_token"
    PASSWORD_NOT_CHECKED = "password-not-checked", "the password grant accepts any password"
    QUERY_CREDENTIALS_ACCEPTED = (
        "query-credentials-accepted",
        "parameters are read from the URL query, on any method",
    )
    REFRESH_NOT_ROTATED = (
        "refresh-not-rotated",
        "the refresh grant hands back the same, still valid, refresh token",
    )
    REFRESH_REUSABLE = "refresh-reusable", "a used refresh token keeps working"
    REFRESH_TOKEN_DROPPED = (
        "refresh-token-dropped",
        "A token-response hook drops refresh_token from every token response (meant to make client-"
        "credentials tokens non-renewable, applied to the password grant as well)",
    )
    SIGNED_OPAQUE_TOKENS = (
        "signed-opaque-tokens",
        "ACCESS_TOKEN_GENERATOR makes JWT-shaped opaque tokens: without token_type the client gets "
        "something that looks like a JWT but is only valid as a Bearer token",
    )
    TOKEN_ENDPOINT_ANY_METHOD = "token-endpoint-any-method", "GET, PUT and DELETE are processed like POST"
    TOKEN_ON_GET = (
        "token-on-get",
        "The token endpoint serves GET too, reading the grant and the client credentials from the query "
        "string",
    )
    TOKEN_PATH_REDIRECTED = (
        "token-path-redirected",
        "every POST to /oauth2/access_token is redirected (301) to .../access_token/",
    )
    TOKEN_PATH_SLASH_REDIRECT = (
        "token-path-slash-redirect",
        "POST /oauth2/access_token/ is redirected (301) to the path without slash",
    )
    TOKEN_PATH_SLASH_STRIPPED = (
        "token-path-slash-stripped",
        "A 'strip trailing slashes' rewrite in the front server (nginx rewrite ^/(.*)/$ /$1 permanent) "
        "answers POST /oauth2/access_token/ with a 301: clients configured with the slash follow it as a "
        "GET and get no token",
    )
    TOKEN_TYPE_CASE_SENSITIVE = (
        "token-type-case-sensitive",
        "token_type is compared case-sensitively: token_type=JwT gets an opaque Bearer token",
    )
    UNKNOWN_GRANT_INVALID_REQUEST = (
        "unknown-grant-invalid-request",
        "an unknown grant_type is invalid_request",
    )
    UNKNOWN_PARAM_REJECTED = "unknown-param-rejected", "an unknown parameter is 400 invalid_request"
    UNKNOWN_PARAMS_REJECTED = (
        "unknown-params-rejected",
        "The token endpoint refuses parameters it does not know with 400 invalid_request instead of "
        "ignoring them",
    )
    UNKNOWN_SCOPE_500 = (
        "unknown-scope-500",
        "A custom scopes backend looks every requested scope up in a dict: an unknown scope is a KeyError"
        " and an HTML 500 instead of 400 invalid_scope",
    )
    UNKNOWN_SCOPE_IGNORED = "unknown-scope-ignored", "unknown scopes are dropped instead of refused"
    UNSUPPORTED_FOR_UNAUTHORIZED_CLIENT = (
        "unsupported-for-unauthorized-client",
        "A grant type the client is not registered for is answered unsupported_grant_type instead of "
        "unauthorized_client",
    )

    # response-schema
    CLIENT_CREDENTIALS_REFRESH_TOKEN = (
        "client-credentials-refresh-token",
        "client_credentials responses carry a refresh_token",
    )
    ERROR_AS_DETAIL = "error-as-detail", 'OAuth errors are DRF-style {"detail": ...} bodies'
    ERROR_CONTENT_TYPE_TEXT = (
        "error-content-type-text",
        "A proxy rewrites the Content-Type of the token endpoint's 4xx answers to text/plain (the JSON "
        "body is kept)",
    )
    EXPIRES_IN_MISMATCH = (
        "expires-in-mismatch",
        "JWT responses keep the opaque token's expires_in (36000) while the JWT itself expires after 3600 s",
    )
    EXPIRES_IN_STRING = (
        "expires-in-string",
        'Token responses send expires_in as a JSON string ("3600") instead of a number',
    )
    EXPIRES_IN_YEAR = (
        "expires-in-year",
        "JWT_ACCESS_TOKEN_EXPIRE_SECONDS is a year: year-long JWTs that cannot be revoked",
    )
    ISALNUM_TOKEN_ALPHABET = (
        "isalnum-token-alphabet",
        "A custom ACCESS_TOKEN_GENERATOR draws opaque tokens from the characters str.isalnum() accepts "
        "over Latin-1: tokens carry characters such as 'é' that are not VSCHAR and that no Authorization "
        "header can hold",
    )
    LIFETIMES_CHANGED = "lifetimes-changed", "JWTs live 600 s and opaque tokens 3600 s"
    LONG_LIVED_JWT = "long-lived-jwt", "JWTs live two days"
    NARROW_DEFAULT_SCOPES = (
        "narrow-default-scopes",
        "OAUTH2_PROVIDER DEFAULT_SCOPES is ['read']: tokens requested without scope get read only, and "
        "JWTs lack the email and profile claims services expect",
    )
    NO_CACHE_HEADERS = (
        "no-cache-headers",
        "Token responses lack Cache-Control: no-store and Pragma: no-cache (a proxy drops them)",
    )
    NO_PRAGMA = "no-pragma", "Token responses lack Pragma: no-cache only (a proxy strips HTTP/1.0 headers)"
    OPAQUE_TOKEN_CONSTANT = "opaque-token-constant", "every opaque token is the same string"
    REFRESH_TOKEN_FOR_CLIENT_CREDENTIALS = (
        "refresh-token-for-client-credentials",
        "client_credentials responses carry a refresh_token (RFC 6749 4.4.3: they should not)",
    )
    REUSE_ACCESS_TOKENS = (
        "reuse-access-tokens",
        "The token endpoint hands out the client's existing unexpired access token instead of a new one "
        "(as the DOP provider once did): two requests get the same opaque token",
    )
    SCOPE_AS_LIST = (
        "scope-as-list",
        "Token responses give scope as a JSON list instead of a space-delimited string",
    )
    SCOPE_DEFAULT_READ = "scope-default-read", "the default scope is only 'read'"
    TEXT_PLAIN_CONTENT_TYPE = "text-plain-content-type", "token endpoint JSON is sent as text/plain"
    TOKEN_NON_VSCHAR = "token-non-vschar", "access tokens end with a non-ASCII character"
    TOKEN_RESPONSE_HTML = (
        "token-response-html",
        "The JWT token response is rebuilt as a new HttpResponse without a content type: Content-Type: "
        "text/html; charset=utf-8",
    )
    TOKEN_TYPE_BEARER_FOR_JWT = (
        "token-type-bearer-for-jwt",
        'JWT token responses say token_type "bearer" (an RFC 6750 "fix") instead of "JWT"',
    )
    TOKEN_TYPE_SWAPPED = "token-type-swapped", "token_type says Bearer for JWTs and JWT for opaque tokens"

    # jwt
    ASYMMETRIC_IGNORED = "asymmetric-ignored", "asymmetric_jwt is ignored: always HS256"
    ASYMMETRIC_JWT_IGNORED = (
        "asymmetric-jwt-ignored",
        "The token view ignores the asymmetric_jwt parameter: every JWT is HS256, also when RS512 was "
        "asked for",
    )
    CLAIMS_IGNORE_SCOPE = "claims-ignore-scope", "email and profile claims are present whatever the scope"
    CLAIMS_IGNORE_SCOPES = (
        "claims-ignore-scopes",
        "The JWT builder adds the email and profile claims whatever the scopes: a scope=read token "
        "carries personal data",
    )
    CLOCK_AHEAD = (
        "clock-ahead",
        "The LMS host's clock runs 5 minutes fast: iat and exp of every JWT are in the future, and "
        "resource servers with a correct clock (the LMS's own API included) refuse them",
    )
    EXP_FLOAT = "exp-float", "exp is a float"
    EXP_FROM_OPAQUE_LIFETIME = (
        "exp-from-opaque-lifetime",
        "The JWT's exp is taken from the underlying DOT access token (iat + 36000) while the response "
        "says expires_in 3600",
    )
    EXPIRED_ON_ISSUE = "expired-on-issue", "exp is already past when the JWT is issued"
    GRANT_TYPE_CLAIM_UNDERSCORE = (
        "grant-type-claim-underscore",
        "the grant_type claim is client_credentials (the request's name)",
    )
    GRANT_TYPE_UNDERSCORE = (
        "grant-type-underscore",
        "The grant_type claim is the request's grant type with an underscore (client_credentials) instead"
        " of the application's (client-credentials)",
    )
    HS256_SECRET_STALE = (
        "hs256-secret-stale",
        "JWT_SECRET_KEY was rotated across the deployment but the secret handed to the operator (the "
        "profile's jwt.hs256_secret) is the old one; and the LMS API's JWT decoder checks neither aud nor"
        " exp (JWT_VERIFY_AUDIENCE and JWT_VERIFY_EXPIRATION off)",
    )
    IAT_IN_FUTURE = "iat-in-future", "iat is ten minutes ahead"
    ISS_HTTP_SCHEME = (
        "iss-http-scheme",
        "JWTs carry (and the LMS trusts) iss http://lms.example.org/oauth2 behind TLS",
    )
    ISSUER_HTTPS_SCHEME = (
        "issuer-https-scheme",
        "JWT_ISSUER says https while the LMS is served over http (Tutor's ENABLE_HTTPS flipped, or a TLS "
        "proxy without X-Forwarded-Proto): only the scheme of iss differs from what services trust",
    )
    JWKS_DUPLICATE_KID = (
        "jwks-duplicate-kid",
        "A key rotation added the new key to the JWK set under the old key's kid: two keys share kid "
        "'openedx'",
    )
    JWKS_NOT_JSON = "jwks-not-json", "the published JWK set is not JSON"
    JWKS_PRIVATE_MEMBERS = (
        "jwks-private-members",
        "The published JWK set is the private signing JWK (d, p, q, dp, dq, qi included), pasted where "
        "the public set belongs",
    )
    JWKS_SINGLE_KEY = (
        "jwks-single-key",
        "The public key handed to the operator (the profile's jwt.jwks) is a single JWK, not a JWK set "
        '({"keys": [...]}) as JWT_PUBLIC_SIGNING_JWK_SET is',
    )
    JWKS_STALE = (
        "jwks-stale",
        "The RS512 signing key was rotated across the deployment but the JWK set handed to the operator "
        "(the profile's jwt.jwks) holds the old key; and the LMS API verifies HS* tokens with its public "
        "RSA key as the HMAC key (the key-confusion bug)",
    )
    JWT_HEADER_JKU = "jwt-header-jku", "JWT headers carry a jku"
    JWT_HS512 = "jwt-hs512", "default JWTs are signed HS512 (and accepted so)"
    JWT_NO_VERSION = "jwt-no-version", "JWTs lack the version claim"
    JWT_SHORT_EXP = "jwt-short-exp", "exp - iat is 600 while expires_in says 3600"
    KID_NOT_IN_JWKS = (
        "kid-not-in-jwks",
        "JWT_AUTH_ADD_KID_HEADER is on and the private signing JWK carries kid 'openedx-2025' while the "
        "public set publishes the same key under kid 'openedx'",
    )
    KID_PUBLISHED = "kid-published", "variant: JWT headers carry the published key's kid"
    KID_UNKNOWN = "kid-unknown", "JWT headers carry a kid that names no published key"
    MISSING_OPENEDX_CLAIMS = (
        "missing-openedx-claims",
        "JWTs lack the Open edX claims version and filters (an outdated custom JWT builder)",
    )
    NO_PROFILE_CLAIMS = "no-profile-claims", "the profile scope brings no profile claims"
    RESTRICTED_CLAIM = "restricted-claim", "tokens are marked is_restricted"
    RFC9068 = "rfc9068", "variant: RFC 9068 access tokens (typ at+jwt, client_id, jti)"
    RFC9068_NO_CLIENT_ID = "rfc9068-no-client-id", "with rfc9068: no client_id claim"
    RFC9068_NO_JTI = "rfc9068-no-jti", "with rfc9068: no jti claim"
    RFC9068_TYP_JWT = "rfc9068-typ-jwt", "with rfc9068: typ stays JWT"
    RSA_1024_KEY = (
        "rsa-1024-key",
        "The RS512 signing key is a 1024-bit RSA key (made with an old openssl genrsa default)",
    )
    SCOPES_CLAIM_MISMATCH = "scopes-claim-mismatch", "the scopes claim lists only the first scope"
    SIGNING_KEY_NOT_PUBLISHED = (
        "signing-key-not-published",
        "A rotated RS512 signing key is in the LMS's settings but not in the published JWK set that the "
        "profile and the other services use (they still hold the old key)",
    )
    SIGNING_KEY_UNPUBLISHED = (
        "signing-key-unpublished",
        "JWTs are signed with keys neither the profile nor the LMS's /me trust",
    )
    SUB_IS_USERNAME = "sub-is-username", "The sub claim is the username instead of the anonymous user id"
    WRONG_AUDIENCE = (
        "wrong-audience",
        "JWT_AUDIENCE is left at the platform default 'change-me' on the LMS (signing and its own "
        "JWT_ISSUERS) while other services expect 'openedx'",
    )
    WRONG_ISSUER = (
        "wrong-issuer",
        "The LMS signs its JWTs with an issuer other than the profile's (http://localhost:<port>/oauth2, "
        "as when LMS_HOST or JWT_ISSUER is misconfigured)",
    )

    # bad-credentials
    ACCEPT_ANY_SECRET = "accept-any-secret", "any client secret, or none, is accepted"
    ACCEPT_ANY_SECRET_PREFIX = "accept-any-secret-prefix", "any non-empty prefix of the secret is accepted"
    ACCEPT_CLIENT_ID_AS_SECRET = (
        "accept-client-id-as-secret",
        "any registered client id is accepted as a secret",
    )
    ACCEPT_EMPTY_SECRET = "accept-empty-secret", "an empty client secret is accepted"
    BODY_SECRET_UNCHECKED = "body-secret-unchecked", "a client_secret in the body is not compared at all"
    ECHO_SECRET = "echo-secret", "invalid_client errors echo the submitted secret"
    ERROR_ECHOES_SECRET = (
        "error-echoes-secret",
        "invalid_client errors echo the submitted client secret in error_description",
    )
    INVALID_CLIENT_400 = (
        "invalid-client-400",
        "invalid_client is answered with HTTP 400 instead of 401 (an error-mapping layer)",
    )
    NO_RATE_LIMIT = (
        "no-rate-limit",
        "RATELIMIT_ENABLE is off: the token endpoint takes unlimited wrong secrets (brute force)",
    )
    NO_WWW_AUTHENTICATE = (
        "no-www-authenticate",
        "401 responses of the token endpoint lack WWW-Authenticate (a proxy drops it)",
    )
    SECRET_ANY_ACCEPTED = (
        "secret-any-accepted",
        "Client authentication checks only the client id: any secret obtains a token",
    )
    SECRET_CASE_INSENSITIVE = (
        "secret-case-insensitive",
        "Client secrets are compared case-insensitively (a collation or .lower() bug)",
    )
    SECRET_COMPARE_FIRST_16 = (
        "secret-compare-first-16",
        "only the first 16 characters of the secret are compared",
    )
    SECRET_EMPTY_ACCEPTED = (
        "secret-empty-accepted",
        'An empty client_secret ("") authenticates a confidential client (a blank-means-unset check '
        "written the wrong way round)",
    )
    SECRET_MISSING_OK = "secret-missing-ok", "a confidential client authenticates with its client_id alone"
    SECRET_PREFIX = (
        "secret-prefix",
        "Client secrets are compared by prefix: any non-empty prefix of the real secret authenticates the"
        " client (a truncating comparison bug)",
    )
    SECRET_STRIP_WHITESPACE = "secret-strip-whitespace", "secrets are stripped before comparison"
    SECRET_SUFFIX_IGNORED = "secret-suffix-ignored", "the secret followed by anything is accepted"
    SECRET_WHITESPACE_STRIPPED = (
        "secret-whitespace-stripped",
        "Submitted client secrets are stripped of surrounding whitespace before comparison",
    )
    STACK_TRACE_IN_ERRORS = "stack-trace-in-errors", "invalid_client errors carry a Python traceback"
    UNKNOWN_CLIENT_400 = "unknown-client-400", "an unknown client is 400 invalid_client, not 401"

    # resources
    ACCEPT_QUERY_TOKEN = "accept-query-token", "/me reads ?access_token="
    ANONYMOUS_ALLOWED = (
        "anonymous-allowed",
        "The probe API's permission is AllowAny: a request without credentials gets 200",
    )
    API_AUTHORIZATION_DROPPED = (
        "api-authorization-dropped",
        "The front server drops the Authorization header of /api/ requests (Apache mod_wsgi without "
        "WSGIPassAuthorization On, or a proxy cache rule): tokens are issued, and every API answers that "
        "no credentials were provided",
    )
    AUD_NOT_VERIFIED = (
        "aud-not-verified",
        "The LMS API's JWT decoder does not verify the audience (JWT_VERIFY_AUDIENCE off, honoured at the"
        " signature step too): tokens minted for another audience are accepted",
    )
    BEARER_ACCEPTS_JWT = "bearer-accepts-jwt", "/me accepts JWTs under Bearer"
    BEARER_NOT_ACCEPTED = (
        "bearer-not-accepted",
        "The probe API lists only JWT and session authentication (the LMS's default classes, without "
        "BearerAuthentication): opaque tokens are refused",
    )
    DISCOVERY_HS256_ONLY = "discovery-hs256-only", "discovery has no public key (RS512 tokens refused)"
    DISCOVERY_SECRET_DIVERGENCE = (
        "discovery-secret-divergence",
        "The discovery service's JWT_ISSUERS[0].SECRET_KEY differs from the LMS's JWT_SECRET_KEY: it "
        "refuses HS256 JWTs and accepts RS512 ones",
    )
    DISCOVERY_WRONG_ISSUER = (
        "discovery-wrong-issuer",
        "The discovery service's JWT_ISSUERS names another issuer, so it refuses every token the LMS "
        "issues (the classic cross-service issuer mismatch)",
    )
    GARBAGE_TOKEN_403 = "garbage-token-403", "/me answers an unparsable token with 403"
    GATEWAY_SCHEME_CASE_SENSITIVE = (
        "gateway-scheme-case-sensitive",
        "A proxy in front of the LMS API forwards the Authorization header only when its scheme is spelt "
        "exactly JWT or Bearer (a case-sensitive rule): 'jwt <token>' arrives without credentials",
    )
    ISS_NOT_VERIFIED = (
        "iss-not-verified",
        "The LMS API's JWT decoder only logs an issuer that is not in JWT_ISSUERS: validly signed tokens "
        "naming any issuer are accepted",
    )
    JWT_ACCEPTS_OPAQUE = "jwt-accepts-opaque", "/me accepts opaque tokens under JWT"
    JWT_SCHEME_CASE_SENSITIVE = (
        "jwt-scheme-case-sensitive",
        "the resource takes JWTs only under the exact scheme name JWT",
    )
    LMS_SECRET_DIVERGENCE = (
        "lms-secret-divergence",
        "The LMS signs HS256 with JWT_SECRET_KEY but verifies with a different JWT_ISSUERS[0].SECRET_KEY "
        "(Tutor's JWT_COMMON_SECRET_KEY vs OPENEDX_SECRET_KEY): its own API refuses its HS256 tokens",
    )
    ME_NO_AUD_CHECK = "me-no-aud-check", "/me does not check aud"
    ME_NO_ISS_CHECK = "me-no-iss-check", "/me does not check iss"
    ME_REJECTS_BEARER = "me-rejects-bearer", "/me refuses opaque Bearer tokens"
    ME_REJECTS_RS512 = "me-rejects-rs512", "/me trusts no RSA key (HS256 only)"
    ME_WRONG_USERNAME = "me-wrong-username", "/me answers another username than the token's"
    QUERY_TOKEN_ACCEPTED = (
        "query-token-accepted",
        "The LMS API also authenticates ?access_token=<jwt> from the URL query",
    )
    SCHEME_AGNOSTIC_AUTH = (
        "scheme-agnostic-auth",
        "A custom authentication class, listed first, accepts either token under any scheme (Bearer "
        "<jwt>, JWT <opaque>) and has no authenticate_header, so DRF answers 403 instead of 401 with WWW-"
        "Authenticate",
    )

    # transport
    CERT_EXPIRING = "cert-expiring", "the certificate expires in 10 days"
    CERT_WRONG_HOST = "cert-wrong-host", "the certificate is for another host"
    ISSUER_HTTP_BEHIND_TLS = (
        "issuer-http-behind-tls",
        "ENABLE_HTTPS left false behind a TLS front: every service's JWT issuer is http://<host>/oauth2 "
        "while the LMS is served, and named in the profile, over https",
    )
    NO_HSTS = (
        "no-hsts",
        "The front sends no Strict-Transport-Security header: Tutor's stock Caddyfile, to which nobody "
        "added one (Caddy sends none by itself)",
    )
    PLAIN_HTTP_CLOSED = "plain-http-closed", "variant: nothing listens on plain http"
    PLAIN_HTTP_SERVED = "plain-http-served", "plain http serves the LMS instead of redirecting"
    PLAIN_HTTP_TOKEN_ENDPOINT = (
        "plain-http-token-endpoint",
        "Plain http is proxied to the LMS instead of redirected to https: the token endpoint answers "
        "OAuth, and would issue tokens, over http",
    )
    REDIRECT_TO_HTTP = "redirect-to-http", "the token endpoint redirects to http (GET 301, POST 308)"
    TLS_CERT_EXPIRED = (
        "tls-cert-expired",
        "The front's certificate expired yesterday (its renewal failed unnoticed): no client that "
        "verifies certificates can talk to the LMS",
    )
    TLS_CERT_EXPIRING = (
        "tls-cert-expiring",
        "The front's certificate expires in 10 days: the renewal Caddy attempts with 30 days left has "
        "been failing for three weeks",
    )
    TLS_LEGACY_ACCEPTED = (
        "tls-legacy-accepted",
        "The front also accepts TLS 1.0 and 1.1 (an old protocol list kept in the proxy's configuration, "
        "OpenSSL at security level 0)",
    )
    TLS_LEGACY_ONLY = "tls-legacy-only", "the server speaks only TLS 1.0 and 1.1"
    TLS_LEGACY_UNTRUSTED_CERT = (
        "tls-legacy-untrusted-cert",
        "TLS 1.0 and 1.1 accepted, with a certificate that does not verify",
    )

    # jwt-attacks
    ACCEPT_ALG_NONE = (
        "accept-alg-none",
        "The LMS resource /api/user/v1/me accepts unsigned JWTs (alg: none) whose claims are otherwise valid",
    )
    ACCEPT_EXPIRED = (
        "accept-expired",
        "The LMS API's JWT decoder does not check exp (JWT_VERIFY_EXPIRATION off, honoured at the "
        "signature step too): expired tokens are accepted",
    )
    DEFAULT_RS512 = "default-rs512", "variant: default JWTs are RS512 too"
    EXP_OPTIONAL = "exp-optional", "/me accepts tokens without exp"
    HEADER_JWK_HONOURED = (
        "header-jwk-honoured",
        "The LMS API verifies a JWT with the key embedded in its own jwk header",
    )
    HMAC_WITH_PUBLIC_KEY = (
        "hmac-with-public-key",
        "The LMS API verifies HS* tokens that fail with the shared secret against the public RSA key's "
        "PEM as the HMAC key (the RS/HS key-confusion bug)",
    )
    KID_FILE_LOOKUP = (
        "kid-file-lookup",
        "The LMS API loads the HMAC key of a token from a file named by its kid, unsanitised (kid "
        "../../dev/null gives an empty key)",
    )
    ME_NO_SIGNATURE_CHECK = "me-no-signature-check", "/me does not verify JWT signatures"
    SIGNATURE_NOT_CHECKED = (
        "signature-not-checked",
        "The LMS API's JWT decoder checks the claims but never the signature (decoded with "
        "verify_signature off)",
    )
    TRUST_HEADER_KEYS = (
        "trust-header-keys",
        "/me verifies with a jwk header key, and lets jku/x5u tokens through",
    )
    UNKNOWN_KID_FAIL_OPEN = "unknown-kid-fail-open", "/me lets tokens with an unknown kid through unverified"
    WEAK_HS256_SECRET = (
        "weak-hs256-secret",
        "JWT_SECRET_KEY (the HS256 signing secret) is devstack's published 'lms-secret', copied into a "
        "production configuration",
    )

    # revocation
    BEARER_LOOKUP_CACHED = (
        "bearer-lookup-cached",
        "The LMS API caches opaque token lookups for 5 minutes: a revoked token keeps working until the "
        "cache entry expires",
    )
    REFRESH_REVOKE_KEEPS_REFRESH = (
        "refresh-revoke-keeps-refresh",
        "Revoking a refresh token revokes only the access token issued with it: the refresh token still "
        "refreshes",
    )
    REVOKE_ANY_METHOD = "revoke-any-method", "GET on the revocation endpoint is processed like POST"
    REVOKE_JWT_400 = "revoke-jwt-400", "revoking a JWT is 400 unsupported_token_type"
    REVOKE_JWT_BLOCKLIST = "revoke-jwt-blocklist", "variant: a revoked JWT is refused afterwards"
    REVOKE_MISSING_TOKEN_200 = "revoke-missing-token-200", "a revocation without token is 200"
    REVOKE_MISSING_TOKEN_OK = (
        "revoke-missing-token-ok",
        "The revocation endpoint answers 200 to a request without a token parameter",
    )
    REVOKE_NOOP = "revoke-noop", "revocation answers 200 and revokes nothing"
    REVOKE_ON_GET = (
        "revoke-on-get",
        "A wrapper around the revocation view answers GET with 200, like an empty successful revocation, "
        "instead of 405",
    )
    REVOKE_REQUIRES_HINT = (
        "revoke-requires-hint",
        "The revocation endpoint refuses requests without token_type_hint (400 invalid_request), though "
        "RFC 7009 makes the hint optional",
    )
    REVOKE_UNKNOWN_400 = "revoke-unknown-400", "revoking an unknown token is 400"

    # services
    DISCOVERY_ACCEPT_ALG_NONE = (
        "discovery-accept-alg-none",
        "The discovery service's JWT decode handler lets unsigned tokens (alg: none) through to the "
        "claims checks",
    )
    DISCOVERY_ACCEPT_EXPIRED = (
        "discovery-accept-expired",
        "The discovery service runs an edx-drf-extensions older than 8.8.0 with JWT_VERIFY_EXPIRATION: "
        "False: expired tokens are accepted (from 8.8.0 exp is checked at the signature step)",
    )
    DISCOVERY_AUD_NOT_VERIFIED = (
        "discovery-aud-not-verified",
        "The discovery service runs an edx-drf-extensions older than 8.8.0 (pyjwkest verified the "
        "signature only) with JWT_VERIFY_AUDIENCE: False, as course-discovery's and ecommerce's settings "
        "have it: tokens minted for another audience are accepted",
    )
    DISCOVERY_ISS_NOT_CHECKED = (
        "discovery-iss-not-checked",
        "The discovery service's own JWT_DECODE_HANDLER verifies the signature, aud and exp like edx-drf-"
        "extensions but skips its issuer check (iss must equal some JWT_ISSUERS entry): a token any "
        "holder of the key signs for any issuer is accepted",
    )
    DISCOVERY_MISSING_SIGNING_KEY = (
        "discovery-missing-signing-key",
        "The discovery service's JWT_PUBLIC_SIGNING_JWK_SET holds only a retired key, not the one the LMS"
        " signs with (a rotation that skipped a service): its RS512 tokens are refused",
    )
    DISCOVERY_NO_AUD_CHECK = "discovery-no-aud-check", "discovery does not check aud"
    DISCOVERY_NO_ISS_CHECK = "discovery-no-iss-check", "discovery does not check iss"
    DISCOVERY_OTHER_SECRET = (
        "discovery-other-secret",
        "discovery verifies HS256 with another JWT_ISSUERS[0] secret",
    )
    DISCOVERY_SECOND_ISSUER_FIRST = (
        "discovery-second-issuer-first",
        "The discovery service's JWT_ISSUERS lists another issuer (an old LMS domain, its own secret) "
        "before the LMS's: edx-drf-extensions verifies HS256 with the first entry's SECRET_KEY only, so "
        "the LMS's HS256 tokens are refused and its RS512 tokens accepted",
    )
    SERVICE_DOWN = (
        "service-down",
        "The discovery-like service is down behind its proxy, which answers every request with 502 Bad "
        "Gateway",
    )

    # key-rotation
    DISCOVERY_MISSING_NEXT_KEY = (
        "discovery-missing-next-key",
        "Mid-rotation (phase 1): the new public key is in the LMS's and the published set but not in the "
        "discovery service's JWT_PUBLIC_SIGNING_JWK_SET",
    )
    JWKS_PRIVATE = "jwks-private", "the published JWK set holds the private key"
    JWKS_WEAK_KEY = "jwks-weak-key", "the published JWK set holds a 1024-bit RSA key too"
    LMS_MISSING_NEXT_KEY = (
        "lms-missing-next-key",
        "with rotation-phase-1: the LMS's own set lacks the next key",
    )
    PRIVATE_JWK_MISSING_CRT = (
        "private-jwk-missing-crt",
        "JWT_PRIVATE_SIGNING_JWK lacks dp, dq and qi (as Tutor rendered it before v17): PyJWT refuses it "
        "(InvalidKeyError), so every RS512 token request (and every login, on the platform) fails with "
        "HTTP 500 while HS256 tokens are still issued",
    )
    PRIVATE_JWK_NO_CRT = (
        "private-jwk-no-crt",
        "the private signing JWK lacks dp, dq and qi: RS512 token requests are 500",
    )
    ROTATED_KEYS = "rotated-keys", "JWTs are signed with keys other than the published secret and JWK set"
    ROTATION_KEY_NOT_PUBLISHED = (
        "rotation-key-not-published",
        "Mid-rotation (phase 1): the new private key exists (the profile's jwt.rotation_key) but its "
        "public half was added to no JWT_PUBLIC_SIGNING_JWK_SET: switching the LMS now would break every "
        "service",
    )
    ROTATION_NEXT_KEY_UNPUBLISHED = (
        "rotation-next-key-unpublished",
        "with rotation-phase-1: the next key is in no public set",
    )
    ROTATION_PHASE_1 = (
        "rotation-phase-1",
        "variant: a next key is published and trusted everywhere; the LMS signs the old",
    )

    # authorization-code
    AUTHORIZATION_CODE_REUSABLE = (
        "authorization-code-reusable",
        "The validator never deletes an exchanged grant (invalidate_authorization_code is a no-op): the "
        "same code is exchanged again for new tokens",
    )
    AUTHORIZE_STATE_DROPPED = (
        "authorize-state-dropped",
        "An authorization-view override rebuilds the redirect as redirect_uri?code=...: the client's "
        "state (its CSRF protection) and the redirect URI's own query are dropped",
    )
    CODE_NOT_BOUND = "code-not-bound", "a code is exchanged by any client, with any redirect URI"
    CODE_REDIRECT_URI_NOT_CONFIRMED = (
        "code-redirect-uri-not-confirmed",
        "The validator never compares the redirect_uri of the code exchange with the one the code was "
        "issued for (confirm_redirect_uri always true)",
    )
    CODE_REUSABLE = "code-reusable", "an exchanged code is kept and works again"
    EXTRA_QUERY_DROPPED = "extra-query-dropped", "an added query is accepted but dropped from the redirect"
    EXTRA_QUERY_REFUSED = (
        "extra-query-refused",
        "variant: redirect URIs are matched exactly (an added query is refused)",
    )
    IMPLICIT_GRANT_FOR_SSO = (
        "implicit-grant-for-sso",
        "The validator lets every application use every response_type: response_type=token gives the SSO "
        "client an access token in the redirect's fragment (the implicit grant)",
    )
    PKCE_IGNORED = (
        "pkce-ignored",
        "The validator never returns the stored code_challenge (get_code_challenge overridden): a code "
        "requested with PKCE is exchanged without, or with any, code_verifier",
    )
    PKCE_METHOD_LOST = (
        "pkce-method-lost",
        "The grant's code_challenge_method is lost (read back as plain): an S256 challenge is compared "
        "with the verifier itself, and the right verifier is refused",
    )
    PKCE_S256_UNSUPPORTED = "pkce-s256-unsupported", "code_challenge_method=S256 is refused"
    REDIRECT_URI_MISMATCH = (
        "redirect-uri-mismatch",
        "the registered redirect URI is refused (registered with the other scheme)",
    )
    REDIRECT_URI_PREFIX_MATCH = (
        "redirect-uri-prefix-match",
        "The OAuth validator accepts any redirect URI that starts with a registered one (an override "
        "meant to allow sub-paths): an open redirect that leaks codes to any path on the host",
    )
    REDIRECT_URI_UNCHECKED = "redirect-uri-unchecked", "any redirect URI is accepted for the SSO client"
    RESPONSE_TYPE_IGNORED = "response-type-ignored", "any response_type issues a code"
    SSO_REDIRECT_HTTP = "sso-redirect-http", "variant: the SSO client's registered redirect URI is http"
    SSO_REDIRECT_URI_OTHER_SCHEME = (
        "sso-redirect-uri-other-scheme",
        "The SSO application's redirect URI was registered with the other scheme (Tutor's init ran before"
        " ENABLE_HTTPS changed): the service's real redirect URI gets 'Mismatching redirect URI.'",
    )
    STATE_DROPPED = "state-dropped", "the redirect carries no state"

    # jwt-cookies
    COOKIE_SIGNATURE_IGNORED = (
        "cookie-signature-ignored",
        "the LMS takes the user from the header-payload cookie unverified",
    )
    CSRF_ENDPOINT_MISSING = (
        "csrf-endpoint-missing",
        "edx-drf-extensions' CSRF token API (GET /csrf/api/v1/token) is not routed (lms/urls.py without "
        "`include('csrf.urls')`): the login page gets no token to sign in with",
    )
    DISCOVERY_COOKIE_PAYLOAD_TRUSTED = (
        "discovery-cookie-payload-trusted",
        "The discovery service takes the user from the readable header-payload cookie (as the MFEs do) "
        "without checking the signature cookie: anyone can forge a user there",
    )
    DISCOVERY_COOKIE_SIGNATURE_IGNORED = (
        "discovery-cookie-signature-ignored",
        "discovery takes the user from the header-payload cookie",
    )
    DISCOVERY_NO_COOKIE_MIDDLEWARE = (
        "discovery-no-cookie-middleware",
        "the discovery service does not reassemble the JWT cookies",
    )
    DISCOVERY_NO_JWT_COOKIE_MIDDLEWARE = (
        "discovery-no-jwt-cookie-middleware",
        "The discovery service's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the MFEs' "
        "two cookies are never reassembled there, and their calls are anonymous (401)",
    )
    JWT_COOKIE_DOMAIN_NARROW = (
        "jwt-cookie-domain-narrow",
        "SHARED_COOKIE_DOMAIN names a host the MFEs are not served from ('localhost' while LMS and MFEs "
        "are on 127.0.0.1; in production: lms.example.org with MFEs on apps.example.org)",
    )
    JWT_COOKIE_HOST_ONLY = "jwt-cookie-host-only", "the JWT cookies are host-only (no SHARED_COOKIE_DOMAIN)"
    JWT_COOKIE_NOT_HTTPONLY = (
        "jwt-cookie-not-httponly",
        "set_logged_in_cookies sets edx-jwt-cookie-signature without HttpOnly: any script on the LMS "
        "origin (an XSS) reads a whole JWT",
    )
    JWT_COOKIE_NOT_SECURE = "jwt-cookie-not-secure", "the JWT cookies are not Secure on https"
    JWT_COOKIE_PAYLOAD_HTTPONLY = (
        "jwt-cookie-payload-httponly",
        "the header-payload cookie is HttpOnly (MFEs cannot read it)",
    )
    JWT_COOKIE_SAMESITE_NONE_INSECURE = (
        "jwt-cookie-samesite-none-insecure",
        "The JWT cookies are set with SameSite=None (copied from Tutor's https settings) but without "
        "Secure (request.is_secure() is false behind a TLS proxy whose X-Forwarded-Proto is not trusted, "
        "or plain http): browsers drop them",
    )
    JWT_COOKIES_NOT_SET = (
        "jwt-cookies-not-set",
        "Login and /login_refresh set no JWT cookies (JWT_AUTH['JWT_LOGIN_CLIENT_ID'] names no "
        "application): MFEs find the user signed in but hold no JWT",
    )
    LMS_NO_COOKIE_MIDDLEWARE = "lms-no-cookie-middleware", "the LMS does not reassemble the JWT cookies"
    LMS_NO_JWT_COOKIE_MIDDLEWARE = (
        "lms-no-jwt-cookie-middleware",
        "The LMS's MIDDLEWARE lacks edx-drf-extensions' JwtAuthCookieMiddleware: the MFEs' calls to the "
        "LMS API with the two cookies are anonymous (401)",
    )
    LOGIN_API_MISSING = (
        "login-api-missing",
        "The login API (POST /api/user/v2/account/login_session/) is not routed: a URL conf or proxy that"
        " lacks user_authn's routes",
    )
    LOGIN_API_WAF_403 = (
        "login-api-waf-403",
        "A web application firewall in front of the LMS blocks POSTs to the login API with its own 403 "
        "HTML page (a rule that treats a posted password as an attack)",
    )
    LOGIN_REFRESH_JWT_COOKIE_AUTH = (
        "login-refresh-jwt-cookie-auth",
        "/login_refresh also authenticates with the JWT cookie it refreshes: a stolen cookie pair is "
        "renewed forever without a session",
    )
    LOGOUT_KEEPS_COOKIES = "logout-keeps-cookies", "logout leaves the JWT cookies in place"
    LOGOUT_KEEPS_JWT_COOKIES = (
        "logout-keeps-jwt-cookies",
        "A customised logout page flushes the session but never deletes the JWT cookies: the next user of"
        " a shared computer calls the MFEs' APIs as the previous one until the JWT expires",
    )
    REFRESH_WITHOUT_SESSION = (
        "refresh-without-session",
        "/login_refresh also refreshes for the JWT cookies alone",
    )

    # accounts
    DELETED_CLIENT_ACCEPTED = (
        "deleted-client-accepted",
        "a deleted application's credentials still get tokens",
    )
    DELETED_CLIENT_STILL_AUTHENTICATES = (
        "deleted-client-still-authenticates",
        "Client ids DOT does not know fall back to a legacy client table (DOP's, kept after the migration"
        " to DOT) that still lists a deleted application: its credentials get tokens",
    )
    DISABLED_BY_IS_ACTIVE = (
        "disabled-by-is-active",
        "A learner is 'disabled' in Django admin by unticking Active instead of with the support tool "
        "(which makes the password unusable): the platform signs inactive users in, and their Bearer "
        "tokens work on the account APIs",
    )
    DISABLED_USER_REFRESHES = (
        "disabled-user-refreshes",
        "a disabled user's refresh token still works (its tokens not retired) and the token is honoured "
        "at /me",
    )
    DISABLED_USER_SIGNS_IN = (
        "disabled-user-signs-in",
        "a user disabled by support still signs in with its former password",
    )
    DISABLED_USER_STILL_REFRESHING = (
        "disabled-user-still-refreshing",
        "The LMS's Bearer authentication lacks the check for users disabled by support (unusable "
        "password): a disabled user's refresh token still yields a token the APIs honour",
    )
    EMAIL_VERIFIED_ALWAYS_TRUE = (
        "email-verified-always-true",
        "The JWT builder fills email_verified from 'has an email address' instead of the user's "
        "activation (is_active): an unactivated learner's token claims a verified address",
    )
    GRANT_TYPE_NOT_ENFORCED = (
        "grant-type-not-enforced",
        "A custom OAuth validator lets 'trusted' applications use any grant: an application moved to "
        "authorization code still gets client-credentials tokens, and a client-credentials client may use"
        " the password grant",
    )
    INACTIVE_USER_REFUSED = (
        "inactive-user-refused",
        "variant: unactivated users are refused the password grant",
    )
    RESTRICTED_ACCEPTED = "restricted-accepted", "/me accepts a RestrictedApplication's JWT"
    RESTRICTED_NOT_MARKED = "restricted-not-marked", "a RestrictedApplication's JWT says is_restricted false"
    RESTRICTED_TOKEN_ACCEPTED = (
        "restricted-token-accepted",
        "A settings override rebuilt MIDDLEWARE without edx-drf-extensions' "
        "EnsureJWTAuthSettingsMiddleware, so views no longer get NotJwtRestrictedApplication: a "
        "RestrictedApplication's JWT is accepted where it has no scope",
    )
    SUPPORT_DISABLE_KEEPS_TOKENS = (
        "support-disable-keeps-tokens",
        "The support tool's 'disable user' from before Tutor 14.2.3's fix retires the support person's "
        "OAuth tokens instead of the disabled user's: the user's refresh token still works, and the JWT "
        "it yields is honoured (JWT authentication does not look at disabled users)",
    )

    # advisories
    ACCOUNT_API_ACTIVATION_KEY = (
        "account-api-activation-key",
        "An image built without the April 2026 fix (GHSA-m6rg-rp98-4crw): the account API lists "
        "activation_key in a user's own account, so a password-grant token of an unactivated account can "
        "read the key and activate it without the e-mail",
    )
    ACTIVATION_KEY_EXPOSED = (
        "activation-key-exposed",
        "the account API lists activation_key (null) in the user's own account",
    )
    INACTIVE_NEXT_OPEN_REDIRECT = (
        "inactive-next-open-redirect",
        "The third-party-auth inactive-user view from before the April 2022 fix: /auth/inactive?next= "
        "redirects anywhere",
    )
    INACTIVE_OPEN_REDIRECT = "inactive-open-redirect", "/auth/inactive?next= redirects anywhere"
    LOGIN_NO_USERNAME_RATELIMIT = (
        "login-no-username-ratelimit",
        "login_user without its per-username rate limit (before the 2022 rate-limiting fix): only the "
        "per-IP limit stands between a botnet and one learner's password",
    )
    LOGIN_OPEN_REDIRECT = (
        "login-open-redirect",
        "get_next_url_for_login_page from before the 2022 redirect fixes: a signed-in user's /login?next="
        " is followed to any host",
    )
    LOGOUT_NEXT_UNESCAPED = (
        "logout-next-unescaped",
        "A theme's logout.html from before the 2022 fix (CVE-2022-32195) writes the logout target into "
        "the page unescaped: a crafted next breaks out of the attribute (reflected XSS)",
    )
    LOGOUT_OPEN_REDIRECT = (
        "logout-open-redirect",
        "A LogoutView from before the 2022 redirect fixes: redirect_url and next are followed without the"
        " safe-redirect test, to any host",
    )
    USER_API_CACHEABLE = (
        "user-api-cacheable",
        "A CDN or proxy rule caches the user API (Cache-Control: public, max-age=300 on signed-in answers; "
        "CVE-2025-65681): a shared cache in front may serve one learner's account data to the next",
    )
    XBLOCK_HANDLER_RESTRICTED_JWT = (
        "xblock-handler-restricted-jwt",
        "An XBlock handler from before the January 2024 fix (CVE-2024-22209): a RestrictedApplication's "
        "JWT authenticates its owner there like any other user's",
    )
    XBLOCK_RESTRICTED_JWT_ACCEPTED = (
        "xblock-restricted-jwt-accepted",
        "XBlock handlers take a restricted JWT as its owner (404: no course)",
    )
