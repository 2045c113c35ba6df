"""The `oauth-conformance` Tutor plugin: `tutor local|k8s|dev do tests oauth-conformance` runs the suite.

Tutor's `do tests` runs `python -m pytest <paths>` on the host with the LMS's address and the test
credentials in the environment (tutor/commands/jobs.py `tests_command`, Tutor 22). This plugin
registers the suite's checks under the suite name `oauth-conformance` (TESTS filter) and, when such a
run starts (DO_JOB action, in Tutor's own process), passes on what only Tutor's configuration knows:
the JWT issuer, audience and HS256 secret, the *public* JWK set derived here from
JWT_RSA_PRIVATE_KEY (the private key itself is never put anywhere), the enabled services and the
report folder. The pytest side (`tutor_oauth_conformance.pytest_profile`) builds the profile.
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

SUITE = "oauth-conformance"
# Tutor's key id for its one RSA key (tutor/templates/apps/openedx/settings/partials/common_all.py).
TUTOR_KID = "openedx"
# The Tutor plugins whose service accepts the LMS's JWTs, and the config key of their host.
SERVICE_HOSTS = {
    "discovery": "DISCOVERY_HOST",
    "ecommerce": "ECOMMERCE_HOST",
    "credentials": "CREDENTIALS_HOST",
}

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


def test_environment(config: dict[str, Any], root: str) -> dict[str, str]:
    """What the test process needs from Tutor's configuration; the public key set, never the private."""
    env = {
        ENV["name"]: str(config.get("OAUTH_CONFORMANCE_NAME") or "tutor"),
        ENV["issuer"]: str(config["JWT_COMMON_ISSUER"]),
        ENV["audience"]: str(config["JWT_COMMON_AUDIENCE"]),
        ENV["hs256_secret"]: str(config["JWT_COMMON_SECRET_KEY"]),
        ENV["password_client_id"]: str(config.get("OAUTH_CONFORMANCE_PASSWORD_CLIENT_ID") or ""),
        ENV["services"]: json.dumps(services(config)),
        ENV["report_dir"]: str(Path(root) / "oauth-conformance" / "reports"),
    }
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
    root = click.get_current_context().obj.root
    config = tutor_config.load(root)
    # tests_command builds the test process's environment from os.environ after this action.
    os.environ.update(test_environment(config, root))
    addopts = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    if "tutor_oauth_conformance.pytest_profile" not in addopts:
        os.environ["PYTEST_ADDOPTS"] = shlex.join([*addopts, *pytest_plugin_args(os.environ)])
