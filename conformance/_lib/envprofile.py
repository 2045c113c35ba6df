"""A profile built from the environment Tutor's `do tests` gives its test process (no file to write).

Tutor (21.0.8 and later) runs `python -m pytest` on the host with LMS_HOST, ENABLE_HTTPS, LMS_PORT,
OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET, TEST_USERNAME and TEST_PASSWORD in the environment. The
Tutor plugin (tutor-plugin/) adds what only Tutor's configuration knows, under OAUTH_CONFORMANCE_*:
the JWT issuer and audience, the HS256 secret, the public JWK set it derived from JWT_RSA_PRIVATE_KEY
(never the private key), the enabled services, Studio's SSO client (cms-sso), the MFEs' origin, the
release and where reports go.

Secrets stay `${VAR}` references in the profile data, so the profile file written beside the report
holds none; `profile_from_data` substitutes them and registers them with the redactor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

__all__ = ["ENV", "EnvProfileError", "env_profile_data", "write_env_profile"]

# What the Tutor plugin passes on (besides Tutor's own variables); none holds a private key.
ENV = {
    "name": "OAUTH_CONFORMANCE_NAME",  # profile and report folder name (default "tutor")
    "issuer": "OAUTH_CONFORMANCE_JWT_ISSUER",  # JWT_COMMON_ISSUER
    "audience": "OAUTH_CONFORMANCE_JWT_AUDIENCE",  # JWT_COMMON_AUDIENCE
    "hs256_secret": "OAUTH_CONFORMANCE_JWT_SECRET",  # JWT_COMMON_SECRET_KEY (a secret)
    "jwks": "OAUTH_CONFORMANCE_JWKS",  # the public JWK set, JSON
    "password_client_id": "OAUTH_CONFORMANCE_PASSWORD_CLIENT_ID",  # default login-service-client-id
    "services": "OAUTH_CONFORMANCE_SERVICES",  # JSON list of {name, base_url, probe}
    "report_dir": "OAUTH_CONFORMANCE_REPORT_DIR",  # reports go to <this>/<name>/
    "release": "OAUTH_CONFORMANCE_RELEASE",  # the release OPENEDX_COMMON_VERSION names
    "sso_client_id": "OAUTH_CONFORMANCE_SSO_CLIENT_ID",  # CMS_OAUTH2_KEY_SSO
    "sso_redirect_uri": "OAUTH_CONFORMANCE_SSO_REDIRECT_URI",  # as Tutor's LMS init job registers it
    "sso_client_secret": "OAUTH_CONFORMANCE_SSO_CLIENT_SECRET",  # CMS_OAUTH2_SECRET (a secret)
    "mfe_origin": "OAUTH_CONFORMANCE_MFE_ORIGIN",  # http(s)://MFE_HOST, with the mfe plugin
}
# The [[sso_clients]] entry for Tutor's cms-sso application: Studio signs its users in through the LMS.
SSO_CLIENT_NAME = "studio"
TRUE = ("true", "1", "yes", "on")
# The public password-grant application every Open edX LMS has (JWT_AUTH['JWT_LOGIN_CLIENT_ID']).
LOGIN_SERVICE_CLIENT_ID = "login-service-client-id"


class EnvProfileError(Exception):
    """The environment cannot describe an instance: the message names the variable, never a value."""


def env_profile_data(env: Mapping[str, str]) -> dict[str, Any]:
    """Profile data (before substitution) for the LMS Tutor's test variables describe."""
    host = env.get("LMS_HOST", "").strip()
    if not host:
        raise EnvProfileError("LMS_HOST is not set: run through `tutor local|k8s|dev do tests`")
    for var in ("OAUTH2_CLIENT_ID", "OAUTH2_CLIENT_SECRET"):
        if not env.get(var):
            raise EnvProfileError(f"{var} is not set (Tutor's --setup creates that application)")
    scheme = "https" if env.get("ENABLE_HTTPS", "").strip().lower() in TRUE else "http"
    port = env.get("LMS_PORT", "").strip()
    base_url = f"{scheme}://{host}" + (f":{port}" if port else "")
    # Tutor's JWT_COMMON_ISSUER default: the LMS host without a port, whatever port tests use.
    issuer = env.get(ENV["issuer"]) or f"{scheme}://{host}/oauth2"
    data: dict[str, Any] = {
        "name": env.get(ENV["name"]) or "tutor",
        "base_url": base_url,
        "client": {"id": "${OAUTH2_CLIENT_ID}", "secret": "${OAUTH2_CLIENT_SECRET}"},
        "jwt": {"issuer": issuer, "audience": env.get(ENV["audience"]) or "openedx"},
    }
    if env.get(ENV["jwks"]):
        data["jwt"]["jwks"] = f"${{{ENV['jwks']}}}"
    if env.get(ENV["hs256_secret"]):
        data["jwt"]["hs256_secret"] = f"${{{ENV['hs256_secret']}}}"
    if env.get(ENV["release"]):
        data["release"] = env[ENV["release"]]
    if env.get("TEST_USERNAME") and env.get("TEST_PASSWORD"):
        data["password_grant"] = {
            "client_id": env.get(ENV["password_client_id"]) or LOGIN_SERVICE_CLIENT_ID,
            "username": "${TEST_USERNAME}",
            "password": "${TEST_PASSWORD}",
        }
        # The sign-in checks sign in as the test user (the LMS's login API, then the SSO flows).
        data["login"] = {"username": "${TEST_USERNAME}", "password": "${TEST_PASSWORD}"}
    if env.get(ENV["sso_client_id"]) and env.get(ENV["sso_redirect_uri"]):
        client = {
            "name": SSO_CLIENT_NAME,
            "client_id": env[ENV["sso_client_id"]],
            "redirect_uri": env[ENV["sso_redirect_uri"]],
        }
        if env.get(ENV["sso_client_secret"]):
            client["client_secret"] = f"${{{ENV['sso_client_secret']}}}"
        data["sso_clients"] = [client]
    if env.get(ENV["mfe_origin"]):
        data["jwt_cookies"] = {"mfe_origin": env[ENV["mfe_origin"]]}
    services = env.get(ENV["services"])
    if services:
        try:
            listed = json.loads(services)
        except ValueError:
            raise EnvProfileError(f"{ENV['services']} is not JSON") from None
        if not isinstance(listed, list) or not all(isinstance(s, dict) for s in listed):
            raise EnvProfileError(f"{ENV['services']} is not a JSON list of objects")
        if listed:
            data["services"] = [dict(s) for s in listed]
    return data


def write_env_profile(env: Mapping[str, str], directory: Path) -> Path:
    """Write the environment's profile as `profile.toml` in `directory` (it holds no secret)."""
    data = env_profile_data(env)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "profile.toml"
    header = (
        "# Written by the oauth-conformance Tutor plugin from Tutor's configuration and test\n"
        "# environment; secrets are ${VAR} references, the JWK set is public.\n"
    )
    path.write_text(header + tomli_w.dumps(data), encoding="utf-8")
    return path
