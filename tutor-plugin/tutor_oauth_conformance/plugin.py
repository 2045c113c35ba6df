"""The `oauth-conformance` Tutor plugin: `tutor local|k8s|dev do tests oauth-conformance` runs the suite.

Tutor's `do tests` runs `python -m pytest <paths>` on the host with the LMS's address and the test
credentials in the environment (tutor/commands/jobs.py `tests_command`, Tutor 21.0.8 and 22). This
plugin registers the suite's checks under the suite name `oauth-conformance` (TESTS filter) and, when
such a run starts (DO_JOB action, in Tutor's own process), passes on what only Tutor's configuration
knows: the JWT issuer, audience and HS256 secret, the *public* JWK set derived here from
JWT_RSA_PRIVATE_KEY (the private key itself is never put anywhere), the enabled services, Studio's
SSO client as Tutor's LMS init job registers it, the MFEs' origin, the release and the report folder.
The pytest side (`tutor_oauth_conformance.pytest_profile`) builds the profile.
"""

from __future__ import annotations

import json
import os
import shlex
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
from tutor import config as tutor_config
from tutor import fmt, hooks

import conformance.checks
from conformance._lib.envprofile import ENV
from conformance._lib.jwks_from_pem import KeyFileError, public_jwks_from_bytes
from conformance._lib.release_table import classify, latest, release_for_version

SUITE = "oauth-conformance"
# Tutor's key id for its one RSA key (tutor/templates/apps/openedx/settings/partials/common_all.py).
TUTOR_KID = "openedx"
# The Tutor plugins whose service accepts the LMS's JWTs, and the config key of their host.
SERVICE_HOSTS = {
    "discovery": "DISCOVERY_HOST",
    "ecommerce": "ECOMMERCE_HOST",
    "credentials": "CREDENTIALS_HOST",
}
# Tutor's nightly builds the platform's development branch (OPENEDX_COMMON_VERSION "master").
DEVELOPMENT_BRANCHES = ("master",)

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [
        ("OAUTH_CONFORMANCE_NAME", "tutor"),
        ("OAUTH_CONFORMANCE_PASSWORD_CLIENT_ID", "login-service-client-id"),
        (
            "OAUTH_CONFORMANCE_SERVICE_PROBES",
            {
                "discovery": "/api/v1/catalogs/",
                "ecommerce": "/api/v2/orders/",
                "credentials": "/api/v2/credentials/",
            },
        ),
    ]
)

hooks.Filters.TESTS.add_item(("lms", SUITE, str(Path(conformance.checks.__file__).resolve().parent)))


def services(config: dict[str, Any]) -> list[dict[str, str]]:
    """A `[[services]]` entry for each enabled Tutor plugin whose service takes the LMS's JWTs."""
    enabled = set(config.get("PLUGINS") or [])
    scheme = "https" if config.get("ENABLE_HTTPS") else "http"
    probes = config.get("OAUTH_CONFORMANCE_SERVICE_PROBES") or {}
    found = []
    for name, host_key in SERVICE_HOSTS.items():
        host = config.get(host_key)
        if name in enabled and host and name in probes:
            found.append({"name": name, "base_url": f"{scheme}://{host}", "probe": str(probes[name])})
    return found


def release_of(version: str) -> tuple[str | None, str]:
    """The release an OPENEDX_COMMON_VERSION builds (`release/verawood.1` -> verawood; the
    development branch -> the newest shipped release the suite knows), and why there is none: a
    fork's branch, or a name the suite would refuse (misspelt, or older than its release table)."""
    version = version.strip()
    if not version:
        return None, ""
    if version in DEVELOPMENT_BRANCHES:
        return latest(), ""
    release = release_for_version(version)
    if release is None:
        return None, f"OPENEDX_COMMON_VERSION {version!r} names no Open edX release"
    kind, why = classify(release)
    if kind == "unknown":
        return None, f"OPENEDX_COMMON_VERSION {version!r}: {why}"
    return release, ""


def sso_client(config: dict[str, Any], context_name: str) -> dict[str, str]:
    """Studio's SSO application as Tutor's LMS init job (jobs/init/lms.sh) registers it: cms-sso with
    the CMS host's /complete/edx-oauth2/ (scheme from ENABLE_HTTPS), and under `tutor dev`
    cms-sso-dev with plain http on port 8001."""
    host = config.get("CMS_HOST")
    if not host:
        return {}
    if context_name == "dev":
        client_id = config.get("CMS_OAUTH2_KEY_SSO_DEV")
        redirect_uri = f"http://{host}:8001/complete/edx-oauth2/"
    else:
        client_id = config.get("CMS_OAUTH2_KEY_SSO")
        scheme = "https" if config.get("ENABLE_HTTPS") else "http"
        redirect_uri = f"{scheme}://{host}/complete/edx-oauth2/"
    if not client_id:
        return {}
    found = {ENV["sso_client_id"]: str(client_id), ENV["sso_redirect_uri"]: redirect_uri}
    if config.get("CMS_OAUTH2_SECRET"):
        found[ENV["sso_client_secret"]] = str(config["CMS_OAUTH2_SECRET"])
    return found


def mfe_origin(config: dict[str, Any]) -> str | None:
    """Where tutor-mfe serves the MFEs (its Caddy site `{{ MFE_HOST }}`), when the mfe plugin is on."""
    if "mfe" not in set(config.get("PLUGINS") or []) or not config.get("MFE_HOST"):
        return None
    scheme = "https" if config.get("ENABLE_HTTPS") else "http"
    return f"{scheme}://{config['MFE_HOST']}"


def test_environment(config: dict[str, Any], root: str, context_name: str = "local") -> dict[str, str]:
    """What the test process needs from Tutor's configuration; the public key set, never the private."""
    env = {
        ENV["name"]: str(config.get("OAUTH_CONFORMANCE_NAME") or "tutor"),
        ENV["issuer"]: str(config["JWT_COMMON_ISSUER"]),
        ENV["audience"]: str(config["JWT_COMMON_AUDIENCE"]),
        ENV["hs256_secret"]: str(config["JWT_COMMON_SECRET_KEY"]),
        ENV["password_client_id"]: str(config.get("OAUTH_CONFORMANCE_PASSWORD_CLIENT_ID") or ""),
        ENV["services"]: json.dumps(services(config)),
        ENV["report_dir"]: str(Path(root) / "oauth-conformance" / "reports"),
        **sso_client(config, context_name),
    }
    release, why = release_of(str(config.get("OPENEDX_COMMON_VERSION") or ""))
    if release:  # one newer than the suite's table: the suite warns when it loads the profile
        env[ENV["release"]] = release
    elif config.get("OPENEDX_COMMON_VERSION"):
        fmt.echo_alert(f"oauth-conformance: {why}; the profile names no release (today's defaults)")
    origin = mfe_origin(config)
    if origin:
        env[ENV["mfe_origin"]] = origin
    private = str(config.get("JWT_RSA_PRIVATE_KEY") or "")
    if private:
        try:
            jwks = public_jwks_from_bytes(
                private.encode(), source="Tutor config JWT_RSA_PRIVATE_KEY", kid=TUTOR_KID, alg="RS512"
            )
        except KeyFileError as exc:  # the message names the setting, never key material
            fmt.echo_alert(f"oauth-conformance: no public JWK set ({exc}); the RS512 checks will say so")
        else:
            env[ENV["jwks"]] = json.dumps(jwks)
    return env


def pytest_plugin_args(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """`-p` options for the test process: the profile builder, and the suite's own pytest plugin
    unless pytest loads it already through its `pytest11` entry point."""
    args = ["-p", "tutor_oauth_conformance.pytest_profile"]
    autoload = not environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    registered = {ep.value.split(":")[0] for ep in entry_points(group="pytest11")}
    if not (autoload and "conformance.plugin" in registered):
        args += ["-p", "conformance.plugin"]
    if not (autoload and "allure_pytest.plugin" in registered):
        args += ["-p", "allure_pytest.plugin"]
    return args


@hooks.Actions.DO_JOB.add()
def _prepare_tests(job_name: str, *args: Any, **kwargs: Any) -> None:
    del args
    if job_name != "tests" or kwargs.get("suite") not in (None, SUITE):
        return
    if kwargs.get("limit") not in (None, SUITE):
        return
    context = click.get_current_context().obj
    config = tutor_config.load(context.root)
    # tests_command builds the test process's environment from os.environ after this action.
    os.environ.update(test_environment(config, context.root, getattr(context, "NAME", "local")))
    addopts = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    if "tutor_oauth_conformance.pytest_profile" not in addopts:
        os.environ["PYTEST_ADDOPTS"] = shlex.join([*addopts, *pytest_plugin_args(os.environ)])
