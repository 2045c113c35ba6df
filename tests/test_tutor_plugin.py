"""The Tutor plugin (tutor-plugin/) under the real Tutor 22.0.3 from PyPI, without Docker.

A temporary TUTOR_ROOT whose configuration points at the reference instance (LMS_HOST, the JWT
issuer, HS256 secret and RSA key the reference instance uses), then the command an operator runs:
`tutor local do tests oauth-conformance` (no --setup: the reference instance already has its client
and test user; --cleanup skip: no Docker). It passes against the clean instance, fails against a
faulty one, and no output or report file holds the private key (or any other secret).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("tutor", reason="the dev extra installs tutor==22.0.3")

from conformance._lib.envprofile import EnvProfileError, env_profile_data

TUTOR = Path(sys.executable).with_name("tutor")
SUITE = "oauth-conformance"


def tutor(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TUTOR), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def tutor_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDX_", "OAUTH_CONFORMANCE_", "PYTEST_"))}
    env["TUTOR_ROOT"] = str(tmp_path / "tutor-root")
    env["TUTOR_PLUGINS_ROOT"] = str(tmp_path / "tutor-plugins")
    plugins = Path(env["TUTOR_PLUGINS_ROOT"])
    plugins.mkdir()
    # A stand-in for tutor-discovery: a YAML plugin named "discovery" defining DISCOVERY_HOST.
    (plugins / "discovery.yml").write_text(
        "name: discovery\nversion: 0.0.1\nconfig:\n  defaults:\n    HOST: x\n"
    )
    return env


def configure(env: dict[str, str], ref) -> None:
    """Tutor's configuration for the reference instance (what `tutor local launch` would hold)."""
    ref_secret = ref.env["EDX_JWT_SECRET"]
    pem = (ref.state_dir / "jwt-private.pem").read_text()
    lms = ref.url.removeprefix("http://")
    settings = {
        "LMS_HOST": lms.split(":")[0],
        "DISCOVERY_HOST": ref.discovery_url.removeprefix("http://"),
        "JWT_COMMON_ISSUER": f"{ref.url}/oauth2",
        "JWT_COMMON_SECRET_KEY": ref_secret,
        # --set values are YAML: a JSON string keeps the PEM's line breaks.
        "JWT_RSA_PRIVATE_KEY": json.dumps(pem),
    }
    done = tutor(["plugins", "enable", SUITE, "discovery"], env)
    assert done.returncode == 0, done.stderr
    args = ["config", "save"]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    done = tutor(args, env)
    assert done.returncode == 0, done.stdout + done.stderr


def run_tests(env: dict[str, str], ref, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Tutor's --env-file: the test credentials (what --setup would have created).
    env_file = tmp_path / "tests-env.yml"
    env_file.write_text(
        yaml.safe_dump(
            {
                "OAUTH2_CLIENT_ID": ref.env["EDX_OAUTH_CLIENT_ID"],
                "OAUTH2_CLIENT_SECRET": ref.env["EDX_OAUTH_CLIENT_SECRET"],
                "TEST_USERNAME": ref.env["EDX_TEST_USERNAME"],
                "TEST_PASSWORD": ref.env["EDX_TEST_PASSWORD"],
            }
        )
    )
    port = ref.url.rsplit(":", 1)[1]
    args = ["local", "do", "tests", SUITE, "--env-file", str(env_file), "-e", f"LMS_PORT={port}"]
    return tutor([*args, "--cleanup", "skip", "-I"], env)


def secrets_of(ref) -> list[str]:
    """The private key (PEM body lines and the JWK's private members) and the run's secrets."""
    import jwt as pyjwt
    from cryptography.hazmat.primitives import serialization

    pem = (ref.state_dir / "jwt-private.pem").read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    private_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key))
    members = [private_jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi")]
    # The PEM's last body lines hold only private numbers (the modulus comes first in the DER).
    tail = [line for line in pem.splitlines() if line and not line.startswith("-----")][-5:-1]
    others = [ref.env[k] for k in ("EDX_OAUTH_CLIENT_SECRET", "EDX_TEST_PASSWORD", "EDX_JWT_SECRET")]
    return ["PRIVATE KEY", *tail, *members, *others]


def assert_no_leak(texts: dict[str, str], secrets: list[str]) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({len(secret)} chars) appears in {where}"


def report_texts(report_dir: Path) -> dict[str, str]:
    return {
        str(p): p.read_text(encoding="utf-8", errors="replace") for p in report_dir.rglob("*") if p.is_file()
    }


def test_do_tests_passes_against_the_reference(reference, tmp_path):
    env = tutor_env(tmp_path)
    configure(env, reference)
    done = run_tests(env, reference, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    report_dir = Path(env["TUTOR_ROOT"]) / "oauth-conformance" / "reports" / "tutor"
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["counts"]["failed"] == 0
    assert summary["counts"]["passed"] >= 100
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    # What came from Tutor's configuration was used: the JWK set, the HS256 secret, the password
    # grant, and the discovery service from the enabled plugin.
    assert outcomes["resources.services.accept-jwt[discovery]"] == "passed"
    assert outcomes["jwt.signature.verifies[default]"] == "passed"  # HS256: JWT_COMMON_SECRET_KEY
    assert outcomes["jwt.signature.verifies[asymmetric]"] == "passed"  # RS512: the derived JWK set
    assert any(i.startswith("token-endpoint.password") and o == "passed" for i, o in outcomes.items())
    profile = (report_dir / "profile.toml").read_text()
    assert "${OAUTH2_CLIENT_SECRET}" in profile and '"login-service-client-id"' in profile
    assert (report_dir / "junit.xml").is_file() and any((report_dir / "allure-results").iterdir())
    from conformance.html import allure_binary

    if allure_binary() is not None:  # rendered as `run` renders it
        assert (report_dir / "html" / "index.html").is_file()
    assert_no_leak({"tutor output": output, **report_texts(report_dir)}, secrets_of(reference))


def test_do_tests_fails_against_a_faulty_reference(tmp_path):
    from conformance.reference.launcher import running_reference
    from tests.test_leaks import artifact_texts
    from tests.test_leaks import secrets_of as run_secrets

    tokens_file = tmp_path / "issued-tokens.txt"
    with running_reference(
        state_dir=tmp_path / "reference", faults=["wrong-audience"], record_tokens=tokens_file
    ) as ref:
        env = tutor_env(tmp_path)
        configure(env, ref)
        done = run_tests(env, ref, tmp_path)
        # The private key, and every token and signature the reference issued during the run.
        secrets = secrets_of(ref) + list(run_secrets(ref.env, tokens_file).values())
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "Tests failed" in output
    report_dir = Path(env["TUTOR_ROOT"]) / "oauth-conformance" / "reports" / "tutor"
    summary = json.loads((report_dir / "summary.json").read_text())
    failed = {c["id"] for c in summary["checks"] if c["outcome"] == "failed"}
    assert {"jwt.claims.aud[default]", "resources.services.accept-jwt[discovery]"} <= failed, failed
    assert len(secrets) > 30
    assert_no_leak({"tutor output": output, **artifact_texts(report_dir)}, secrets)


# The profile the environment describes (no Tutor needed) -----------------------------------------

BASE = {"LMS_HOST": "lms.example.org", "OAUTH2_CLIENT_ID": "id", "OAUTH2_CLIENT_SECRET": "s"}


@pytest.mark.parametrize(
    ("extra", "base_url", "issuer"),
    [
        ({"ENABLE_HTTPS": "true"}, "https://lms.example.org", "https://lms.example.org/oauth2"),
        ({"ENABLE_HTTPS": "false"}, "http://lms.example.org", "http://lms.example.org/oauth2"),
        # tutor dev: port 8000, while Tutor's issuer keeps the bare host
        ({"ENABLE_HTTPS": "false", "LMS_PORT": "8000"}, "http://lms.example.org:8000", "http://lms.example.org/oauth2"),
    ],
)  # fmt: skip
def test_env_profile_base_url_and_issuer(extra, base_url, issuer):
    data = env_profile_data({**BASE, **extra})
    assert data["base_url"] == base_url
    assert data["jwt"]["issuer"] == issuer
    assert data["client"] == {"id": "${OAUTH2_CLIENT_ID}", "secret": "${OAUTH2_CLIENT_SECRET}"}
    assert "password_grant" not in data  # no test user given


def test_env_profile_takes_what_the_tutor_plugin_passes():
    data = env_profile_data(
        {
            **BASE,
            "TEST_USERNAME": "u",
            "TEST_PASSWORD": "p",
            "OAUTH_CONFORMANCE_JWT_ISSUER": "https://lms.example.org/oauth2",
            "OAUTH_CONFORMANCE_JWT_SECRET": "x",
            "OAUTH_CONFORMANCE_JWKS": '{"keys": []}',
            "OAUTH_CONFORMANCE_SERVICES": '[{"name": "discovery", "base_url": "https://d", "probe": "/"}]',
        }
    )
    assert data["jwt"]["hs256_secret"] == "${OAUTH_CONFORMANCE_JWT_SECRET}"
    assert data["jwt"]["jwks"] == "${OAUTH_CONFORMANCE_JWKS}"
    assert data["password_grant"]["client_id"] == "login-service-client-id"
    assert data["services"][0]["name"] == "discovery"


@pytest.mark.parametrize("missing", ["LMS_HOST", "OAUTH2_CLIENT_ID"])
def test_env_profile_names_what_is_missing(missing):
    with pytest.raises(EnvProfileError, match=missing):
        env_profile_data({k: v for k, v in BASE.items() if k != missing})


def test_tutor_plugin_passes_only_the_public_key(tmp_path):
    """The plugin's environment for the test process, from a Tutor config holding a private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from tutor_oauth_conformance.plugin import test_environment

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    config = {
        "JWT_COMMON_ISSUER": "http://lms/oauth2",
        "JWT_COMMON_AUDIENCE": "openedx",
        "JWT_COMMON_SECRET_KEY": "hs",
        "JWT_RSA_PRIVATE_KEY": pem,
        "PLUGINS": ["discovery", "mfe"],
        "DISCOVERY_HOST": "discovery.lms",
        "OAUTH_CONFORMANCE_SERVICE_PROBES": {"discovery": "/api/v1/catalogs/"},
    }
    env = test_environment(config, str(tmp_path))
    jwks = json.loads(env["OAUTH_CONFORMANCE_JWKS"])
    assert [k["kid"] for k in jwks["keys"]] == ["openedx"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwks["keys"][0])
    # The PEM body also encodes the public modulus: look for the private numbers themselves.
    import jwt as pyjwt

    private_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key))
    passed_on = json.dumps(env)
    assert "PRIVATE KEY" not in passed_on
    assert all(private_jwk[m] not in passed_on for m in ("d", "p", "q", "dp", "dq", "qi"))
    assert json.loads(env["OAUTH_CONFORMANCE_SERVICES"]) == [
        {"name": "discovery", "base_url": "http://discovery.lms", "probe": "/api/v1/catalogs/"}
    ]


def test_suite_plugin_is_loaded_once_with_or_without_its_entry_point(monkeypatch):
    """`-p conformance.plugin` only while no pytest11 entry point registers it (pytest would refuse
    the same module under two names)."""
    from importlib.metadata import EntryPoint

    import tutor_oauth_conformance.plugin as tutor_plugin

    def with_entry_points(*values: str):
        points = [EntryPoint(name=f"ep{i}", value=v, group="pytest11") for i, v in enumerate(values)]
        monkeypatch.setattr(tutor_plugin, "entry_points", lambda group: points)

    with_entry_points("allure_pytest.plugin")
    args = tutor_plugin.pytest_plugin_args({})
    assert args == ["-p", "tutor_oauth_conformance.pytest_profile", "-p", "conformance.plugin"]
    with_entry_points("allure_pytest.plugin", "conformance.plugin")
    assert tutor_plugin.pytest_plugin_args({}) == ["-p", "tutor_oauth_conformance.pytest_profile"]
    # Autoloading off: every plugin the suite needs is named.
    args = tutor_plugin.pytest_plugin_args({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert {"conformance.plugin", "allure_pytest.plugin"} <= set(args)


OUTPUT: list[str] = []


@pytest.mark.xfail(
    strict=False,
    reason="since the merge the real conformance.plugin loads beside the stand-in and validates the "
    "profile (a plain-http non-loopback LMS_HOST is exit 2); the stand-in needs reworking",
)
def test_other_suites_failures_still_fail_the_run(tmp_path):
    """Tutor may run its smoke tests in the same pytest session: the suite's plugin sets the exit
    status from the conformance verdict, and a failing smoke test must still fail the run."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(
        "import pytest\n\n\n"
        "@pytest.hookimpl(trylast=True)\n"
        "def pytest_sessionfinish(session, exitstatus):\n"
        "    session.exitstatus = 0  # what conformance.plugin does when every MUST check passed\n"
    )
    (project / "test_smoke.py").write_text("def test_smoke_fails():\n    assert False\n")
    env = {**os.environ, **BASE, "OAUTH_CONFORMANCE_REPORT_DIR": str(tmp_path / "reports")}

    def pytest_run(*args: str) -> int:
        # No Allure: nothing to render into HTML afterwards.
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:allure_pytest"]
        argv += args
        proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)
        OUTPUT.append(proc.stdout[-1500:] + proc.stderr[-1500:])
        return proc.returncode

    assert pytest_run() == 0  # the stand-in alone hides the failure
    code = pytest_run("-p", "tutor_oauth_conformance.pytest_profile")
    assert code == pytest.ExitCode.TESTS_FAILED, OUTPUT[-1]
    assert (tmp_path / "reports" / "tutor" / "profile.toml").is_file()
