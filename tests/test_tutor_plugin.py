"""The Tutor plugin (tutor-plugin/) under real Tutor releases from PyPI, without Docker.

Each supported Tutor (21.0.8, the first with `do tests`, for Ulmo; 22 for Verawood) gets its own
venv, made once and kept under .cache/tutor/ (keyed by the Tutor version and the two pyproject
files), into which each session installs the checkout as built wheels. A temporary TUTOR_ROOT's
configuration points at a reference instance (LMS_HOST, CMS_HOST and the SSO client it seeds, the
JWT issuer, HS256 secret and RSA key, MFE_HOST with the mfe plugin enabled), then the command an
operator runs: `tutor local do tests oauth-conformance` (no --setup: the reference instance already
has its client and test user; --cleanup skip: no Docker). It passes against the clean instance with
the sign-in areas run (over http with both Tutors, over https with the newest), fails against a
faulty one, and no output or report file holds a secret.

The README's install command runs as written, in a fresh venv outside the checkout.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

pytest.importorskip("tutor", reason="the dev extra installs tutor")

from conformance._lib.envprofile import EnvProfileError, env_profile_data
from tests.conftest import ROOT

SUITE = "oauth-conformance"
# The oldest Tutor with `do tests` (Ulmo) and the Tutor the dev extra pins (Verawood).
TUTOR_VERSIONS = {"21.0.8": "ulmo", "22.0.3": "verawood"}
NEWEST_TUTOR = "22.0.3"
CACHE = ROOT / ".cache" / "tutor"
PIP_TIMEOUT_S = 900
# pip's words for a package index it cannot reach (then the test skips: nothing to install from);
# any other failure (a resolution conflict, a build error) is the product's and fails the test.
INDEX_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution"
    r"|Network is unreachable|Could not fetch URL|ConnectTimeoutError|ProxyError"
)


def pip_failed(done: subprocess.CompletedProcess[str], what: str) -> None:
    """Skip when the package index is out of reach, else fail with pip's last words."""
    output = done.stdout + done.stderr
    if INDEX_UNREACHABLE.search(output):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"{what}: the package index cannot be reached ({last})")
    pytest.fail(f"{what} failed:\n{output[-3000:]}")


def clean_env(**extra: str) -> dict[str, str]:
    """The user's environment without the checkout's venv, test variables or suite settings."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("EDX_", "OAUTH_CONFORMANCE_", "PYTEST_"))
    }
    env.update(extra)
    return env


def checkout_files() -> list[Path]:
    """What a checkout holds: the tracked files, and new ones not ignored (this work tree's)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return [Path(p) for p in sorted(set(listed.split("\0"))) if p and os.path.lexists(ROOT / p)]


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout outside it (symlinks kept: conformance/schemas is one)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing tells which files a checkout holds")
    target = tmp_path_factory.mktemp("checkout")
    for relative in checkout_files():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination, follow_symlinks=False)
    return target


@pytest.fixture(scope="session")
def wheels(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The suite's and the Tutor plugin's wheels, built from the checkout once per session."""
    out = tmp_path_factory.mktemp("wheels")
    done = pip(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), ".", "./tutor-plugin"], checkout
    )
    if done.returncode != 0:
        pip_failed(done, "building the checkout's wheels")
    return sorted(out.glob("*.whl"))


def pip(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
        check=False,
    )


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One session at a time makes a cached venv (pytest-xdist workers, two checkouts' runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cache_key(version: str) -> str:
    digest = hashlib.sha256(f"{version} {sys.version}".encode())
    for pyproject in (ROOT / "pyproject.toml", ROOT / "tutor-plugin" / "pyproject.toml"):
        digest.update(pyproject.read_bytes())
    return digest.hexdigest()[:12]


@dataclass
class TutorVenv:
    path: Path
    version: str


@pytest.fixture(scope="session", params=sorted(TUTOR_VERSIONS))
def tutor_venv(request: pytest.FixtureRequest, wheels: list[Path]) -> TutorVenv:
    """A venv with Tutor `version`, the suite and the plugin: made once (kept under .cache/tutor/),
    then each session reinstalls the checkout's wheels into it (dependencies stay)."""
    version = request.param
    venv = CACHE / f"tutor-{version}-{cache_key(version)}"
    ready = venv / ".ready"
    with locked(CACHE / f".lock-{version}"):
        if not ready.exists():
            for stale in CACHE.glob(f"tutor-{version}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
            assert made.returncode == 0, made.stderr
            python = str(venv / "bin" / "python")
            done = pip([python, "-m", "pip", "install", *map(str, wheels), f"tutor=={version}"], CACHE)
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pip_failed(done, f"installing Tutor {version} with the suite and the plugin")
            ready.write_text(version + "\n")
        else:
            args = ["install", "--no-deps", "--force-reinstall", *map(str, wheels)]
            done = pip([str(venv / "bin" / "python"), "-m", "pip", *args], CACHE)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    installed = subprocess.run(
        [str(venv / "bin" / "tutor"), "--version"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    assert version in installed.stdout, installed.stdout + installed.stderr
    return TutorVenv(venv, version)


def tutor(venv: Path, args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600):
    return subprocess.run(
        [str(venv / "bin" / "tutor"), *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False,
    )  # fmt: skip


def tutor_env(venv: Path, tmp_path: Path) -> dict[str, str]:
    env = clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    env["TUTOR_ROOT"] = str(tmp_path / "tutor-root")
    env["TUTOR_PLUGINS_ROOT"] = str(tmp_path / "tutor-plugins")
    plugins = Path(env["TUTOR_PLUGINS_ROOT"])
    plugins.mkdir()
    # Stand-ins for tutor-discovery and tutor-mfe: YAML plugins of those names defining
    # DISCOVERY_HOST and MFE_HOST (the real ones build images; their config keys are all we read).
    (plugins / "discovery.yml").write_text(
        "name: discovery\nversion: 0.0.1\nconfig:\n  defaults:\n    HOST: x\n"
    )
    (plugins / "mfe.yml").write_text("name: mfe\nversion: 0.0.1\nconfig:\n  defaults:\n    HOST: x\n")
    return env


def configure(venv: Path, env: dict[str, str], ref, cwd: Path) -> str:
    """Tutor's configuration for the reference instance (what `tutor local launch` would hold);
    returns what Tutor printed."""
    pem = (ref.state_dir / "jwt-private.pem").read_text()
    discovery = ref.discovery_url.split("://", 1)[1]
    settings = {
        "LMS_HOST": ref.url.split("://", 1)[1].split(":")[0],
        "ENABLE_HTTPS": "true" if ref.url.startswith("https://") else "false",
        "DISCOVERY_HOST": discovery,
        # The reference's SSO application is the discovery-like service's: Tutor registers cms-sso
        # at http://{CMS_HOST}/complete/edx-oauth2/, so CMS_HOST is that service's host and port.
        "CMS_HOST": discovery,
        "CMS_OAUTH2_KEY_SSO": "discovery-sso",
        "CMS_OAUTH2_SECRET": ref.env["EDX_SSO_CLIENT_SECRET"],
        # The MFEs on the LMS's host (cookies are not port-bound, RFC 6265 8.5).
        "MFE_HOST": "127.0.0.1",
        "JWT_COMMON_ISSUER": f"{ref.url}/oauth2",
        "JWT_COMMON_SECRET_KEY": ref.env["EDX_JWT_SECRET"],
        # --set values are YAML: a JSON string keeps the PEM's line breaks.
        "JWT_RSA_PRIVATE_KEY": json.dumps(pem),
    }
    enabled = tutor(venv, ["plugins", "enable", SUITE, "discovery", "mfe"], env, cwd)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    args = ["config", "save"]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    saved = tutor(venv, args, env, cwd)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    return enabled.stdout + enabled.stderr + saved.stdout + saved.stderr


def run_tests(venv: Path, env: dict[str, str], ref, tmp_path: Path) -> subprocess.CompletedProcess[str]:
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
    return tutor(venv, [*args, "--cleanup", "skip", "-I"], env, tmp_path)


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
    names = ("EDX_OAUTH_CLIENT_SECRET", "EDX_TEST_PASSWORD", "EDX_JWT_SECRET", "EDX_SSO_CLIENT_SECRET")
    return ["PRIVATE KEY", *tail, *members, *(ref.env[k] for k in names)]


def assert_no_leak(texts: dict[str, str], secrets: list[str]) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({len(secret)} chars) appears in {where}"


def tutor_run(venv: TutorVenv, tmp_path: Path, faults: list[str], tls: bool = False):
    """`tutor local do tests oauth-conformance` against a reference instance of its own (so that
    the two Tutor versions' runs do not share one rate-limit window). With `tls`, the reference is
    behind its TLS front (ENABLE_HTTPS), and pytest trusts its CA as an operator with a private CA
    would: `--oauth-ca-bundle` in PYTEST_ADDOPTS, which the plugin keeps."""
    from conformance.reference.launcher import running_reference
    from conformance.reference.tls import CA_FILE
    from tests.test_leaks import secrets_of as run_secrets

    tokens_file = tmp_path / "issued-tokens.txt"
    state_dir = tmp_path / "reference"
    with running_reference(state_dir=state_dir, faults=faults, record_tokens=tokens_file, tls=tls) as ref:
        env = tutor_env(venv.path, tmp_path)
        if tls:
            env["PYTEST_ADDOPTS"] = f"--oauth-ca-bundle {state_dir / CA_FILE}"
        configured = configure(venv.path, env, ref, tmp_path)
        done = run_tests(venv.path, env, ref, tmp_path)
        # The private key, and every token and signature the reference issued during the run.
        secrets = secrets_of(ref) + list(run_secrets(ref.env, tokens_file).values())
    report_dir = Path(env["TUTOR_ROOT"]) / "oauth-conformance" / "reports" / "tutor"
    output = configured + done.stdout + done.stderr
    return done, output, report_dir, secrets, ref


def test_do_tests_passes_against_the_reference(tutor_venv, tmp_path):
    from tests.test_leaks import artifact_texts

    done, output, report_dir, secrets, ref = tutor_run(tutor_venv, tmp_path, faults=[])
    assert done.returncode == 0, output[-3000:]
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["counts"]["failed"] == 0
    assert summary["counts"]["passed"] >= 100
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    # What came from Tutor's configuration was used: the JWK set, the HS256 secret, the password
    # grant, the discovery service from the enabled plugin, Studio's SSO client and the MFE host.
    assert outcomes["resources.services.accept-jwt[discovery]"] == "passed"
    assert outcomes["jwt.signature.verifies[default]"] == "passed"  # HS256: JWT_COMMON_SECRET_KEY
    assert outcomes["jwt.signature.verifies[asymmetric]"] == "passed"  # RS512: the derived JWK set
    assert any(i.startswith("token-endpoint.password") and o == "passed" for i, o in outcomes.items())
    # The sign-in areas ran: cms-sso's code flow (its secret: the exchange), the JWT cookies.
    for case in (
        "authorization-code.redirect-uri.registered[studio]",
        "authorization-code.exchange.token[studio]",
        "authorization-code.code.single-use[studio]",
        "jwt-cookies.login.set",
        "jwt-cookies.domain.covers-mfe[signature]",
        "jwt-cookies.domain.covers-mfe[header-payload]",
    ):
        assert outcomes.get(case) == "passed", (case, outcomes.get(case))
    for area in ("authorization-code", "jwt-cookies"):
        ran = [o for i, o in outcomes.items() if i.startswith(area + ".")]
        assert ran.count("passed") >= 5, (area, ran)
    profile = (report_dir / "profile.toml").read_text()
    assert "${OAUTH2_CLIENT_SECRET}" in profile and '"login-service-client-id"' in profile
    assert "${OAUTH_CONFORMANCE_SSO_CLIENT_SECRET}" in profile
    assert f'redirect_uri = "{ref.discovery_url}/complete/edx-oauth2/"' in profile
    assert 'mfe_origin = "http://127.0.0.1"' in profile
    # The release Tutor builds: OPENEDX_COMMON_VERSION's default of this Tutor version, a release
    # the suite knows (no warning about it).
    assert f'release = "{TUTOR_VERSIONS[tutor_venv.version]}"' in profile
    assert "key 'release'" not in output and "oauth-conformance: OPENEDX_COMMON_VERSION" not in output
    assert (report_dir / "junit.xml").is_file() and any((report_dir / "allure-results").iterdir())
    from conformance.html import allure_binary

    if allure_binary() is not None:  # rendered as `run` renders it
        assert (report_dir / "html" / "index.html").is_file()
    assert len(secrets) > 30
    assert_no_leak({"tutor output": output, **artifact_texts(report_dir)}, secrets)


@pytest.mark.parametrize("tutor_venv", [NEWEST_TUTOR], indirect=True)
def test_do_tests_over_https_runs_the_https_only_cases(tutor_venv, tmp_path):
    """ENABLE_HTTPS: the base URL, cms-sso's redirect URI and the MFE origin are https, and the
    cases that only mean something over https (the redirect URI's scheme, Secure cookies) run."""
    from tests.test_leaks import artifact_texts

    done, output, report_dir, secrets, ref = tutor_run(tutor_venv, tmp_path, faults=[], tls=True)
    assert done.returncode == 0, output[-3000:]
    summary = json.loads((report_dir / "summary.json").read_text())
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    assert summary["counts"]["failed"] == 0
    for case in (
        "authorization-code.redirect-uri.https[studio]",
        "authorization-code.exchange.token[studio]",
        "jwt-cookies.flags.secure[signature]",
        "jwt-cookies.flags.secure[header-payload]",
        "jwt-cookies.domain.covers-mfe[signature]",
    ):
        assert outcomes.get(case) == "passed", (case, outcomes.get(case))
    profile = (report_dir / "profile.toml").read_text()
    assert f'base_url = "{ref.url}"' in profile and ref.url.startswith("https://")
    assert f'redirect_uri = "{ref.discovery_url}/complete/edx-oauth2/"' in profile
    assert 'mfe_origin = "https://127.0.0.1"' in profile
    assert_no_leak({"tutor output": output, **artifact_texts(report_dir)}, secrets)


def test_do_tests_fails_against_a_faulty_reference(tutor_venv, tmp_path):
    """Faults in what only Tutor's configuration describes: the audience, Studio's SSO redirect URI
    (registered with the other scheme) and the JWT cookies' domain (not the MFEs' host)."""
    from tests.test_leaks import artifact_texts

    faults = ["wrong-audience", "sso-redirect-uri-other-scheme", "jwt-cookie-domain-narrow"]
    done, output, report_dir, secrets, _ = tutor_run(tutor_venv, tmp_path, faults=faults)
    assert done.returncode != 0, output[-3000:]
    assert "Tests failed" in output
    summary = json.loads((report_dir / "summary.json").read_text())
    failed = {c["id"] for c in summary["checks"] if c["outcome"] == "failed"}
    expected = {
        "jwt.claims.aud[default]",
        "resources.services.accept-jwt[discovery]",
        "authorization-code.redirect-uri.registered[studio]",
        "jwt-cookies.domain.covers-mfe[signature]",
    }
    assert expected <= failed, failed
    assert len(secrets) > 30
    assert_no_leak({"tutor output": output, **artifact_texts(report_dir)}, secrets)


# The README's install command, as written ----------------------------------------------------------


def install_commands(readme: Path) -> list[str]:
    """The `pip install` lines of a README's shell blocks, without their comments."""
    text = readme.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("pip install") and "tutor" in line]


def test_readme_install_command_works_in_a_fresh_venv(checkout, tmp_path):
    """`pip install ...` as README.md's "On Tutor", tutor-plugin/README.md and the operator guide
    write it, run in the root of a copy of the checkout with a fresh venv outside it: Tutor lists
    the plugin, and the plugin's pytest side and the suite import from the venv."""
    readmes = [ROOT / "README.md", ROOT / "tutor-plugin" / "README.md", ROOT / "docs" / "operator-guide.md"]
    commands = {command for readme in readmes for command in install_commands(readme)}
    assert commands == {"pip install . ./tutor-plugin"}, commands
    (command,) = commands
    venv = tmp_path / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    env = clean_env(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        ["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
        timeout=PIP_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pip_failed(done, command)
    env["TUTOR_ROOT"] = str(tmp_path / "tutor-root")
    listed = subprocess.run(
        ["tutor", "plugins", "list"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"^{SUITE}\s", listed.stdout, flags=re.M), listed.stdout
    probe = "import conformance.checks, tutor_oauth_conformance.pytest_profile; print(conformance.__file__)"
    imported = subprocess.run(["python", "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(venv), imported.stdout  # not the checkout


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


@pytest.mark.parametrize(
    ("version", "release"),
    [
        ("release/verawood.1", "verawood"),  # Tutor 22's default
        ("release/ulmo.3", "ulmo"),  # Tutor 21's default
        ("open-release/quince.1", "quince"),  # the branch names before Teak
        ("release/verawood", "verawood"),  # a release branch
        ("master", "verawood"),  # Tutor nightly: the newest release that shipped
        ("release/zz.1", "zz"),  # newer than the table: the suite warns and uses today's defaults
        ("release/verawod.1", None),  # misspelt: the suite would refuse it, so no release is named
        ("my-fork/feature", None),
        ("", None),
    ],
)  # fmt: skip
def test_release_from_openedx_common_version(version, release):
    from tutor_oauth_conformance.plugin import release_of

    found, why = release_of(version)
    assert found == release
    assert bool(why) == (release is None and bool(version)), why


def test_release_names_in_tutor_defaults_are_known():
    """OPENEDX_COMMON_VERSION as the installed Tutor's config defaults set it names a release the
    table knows (a Tutor upgrade that moves past the table shows here)."""
    from tutor import config as tutor_config
    from tutor_oauth_conformance.plugin import release_of

    from conformance._lib.release_table import names

    version = tutor_config.load_defaults()["OPENEDX_COMMON_VERSION"]
    assert release_of(str(version))[0] in names(), version


def tutor_config_for_plugin(**extra):
    return {
        "JWT_COMMON_ISSUER": "https://lms.example.org/oauth2",
        "JWT_COMMON_AUDIENCE": "openedx",
        "JWT_COMMON_SECRET_KEY": "hs",
        "LMS_HOST": "lms.example.org",
        "CMS_HOST": "studio.lms.example.org",
        "CMS_OAUTH2_KEY_SSO": "cms-sso",
        "CMS_OAUTH2_KEY_SSO_DEV": "cms-sso-dev",
        "CMS_OAUTH2_SECRET": "sso-secret",
        "MFE_HOST": "apps.lms.example.org",
        "OPENEDX_COMMON_VERSION": "release/verawood.1",
        "ENABLE_HTTPS": True,
        **extra,
    }


@pytest.mark.parametrize(
    ("context", "https", "client_id", "redirect_uri"),
    [
        ("local", True, "cms-sso", "https://studio.lms.example.org/complete/edx-oauth2/"),
        ("local", False, "cms-sso", "http://studio.lms.example.org/complete/edx-oauth2/"),
        ("k8s", True, "cms-sso", "https://studio.lms.example.org/complete/edx-oauth2/"),
        # tutor dev: cms-sso-dev, registered with plain http on port 8001 (jobs/init/lms.sh)
        ("dev", False, "cms-sso-dev", "http://studio.lms.example.org:8001/complete/edx-oauth2/"),
    ],
)  # fmt: skip
def test_tutor_plugin_describes_the_sign_in_areas(tmp_path, context, https, client_id, redirect_uri):
    """cms-sso as Tutor's LMS init job registers it, its secret only as ${VAR}; the MFE origin only
    with the mfe plugin; the test user as [login]; the release."""
    from tutor_oauth_conformance.plugin import test_environment

    config = tutor_config_for_plugin(ENABLE_HTTPS=https, PLUGINS=["mfe"])
    env = test_environment(config, str(tmp_path), context)
    data = env_profile_data({**BASE, **env, "TEST_USERNAME": "u", "TEST_PASSWORD": "p"})
    assert data["sso_clients"] == [
        {
            "name": "studio",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "client_secret": "${OAUTH_CONFORMANCE_SSO_CLIENT_SECRET}",
        }
    ]
    assert env["OAUTH_CONFORMANCE_SSO_CLIENT_SECRET"] == "sso-secret"
    scheme = "https" if https else "http"
    assert data["jwt_cookies"] == {"mfe_origin": f"{scheme}://apps.lms.example.org"}
    assert data["login"] == {"username": "${TEST_USERNAME}", "password": "${TEST_PASSWORD}"}
    assert data["release"] == "verawood"
    # Without the mfe plugin, no MFE origin (tutor-mfe's MFE_HOST may linger in the config).
    env = test_environment(tutor_config_for_plugin(PLUGINS=[]), str(tmp_path), context)
    assert "jwt_cookies" not in env_profile_data({**BASE, **env})


def test_env_profile_with_the_sso_secret_loads_redacted(tmp_path):
    """The profile the plugin's variables describe loads, and the SSO secret is registered with the
    redactor (never printed), while the file keeps only its ${VAR} reference."""
    from tutor_oauth_conformance.plugin import test_environment

    from conformance._lib.envprofile import write_env_profile
    from conformance._lib.profile import load_profile
    from conformance._lib.redact import redact

    secret = "cms-sso-secret-4f1d0c"
    config = tutor_config_for_plugin(CMS_OAUTH2_SECRET=secret, PLUGINS=["mfe"])
    env = {**BASE, **test_environment(config, str(tmp_path)), "ENABLE_HTTPS": "true"}
    path = write_env_profile(env, tmp_path)
    assert secret not in path.read_text()
    profile = load_profile(path, env)
    assert profile.data["sso_clients"][0]["client_secret"] == secret
    assert secret not in redact(f"client_secret={secret}")


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


def test_other_suites_failures_still_fail_the_run(reference, tmp_path):
    """Tutor may run its smoke tests in the same pytest session: the suite's plugin sets the exit
    status from the conformance verdict (0 here: no check failed), so a failing smoke test must
    still fail the run once the Tutor plugin's pytest side is loaded."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_smoke.py").write_text("def test_smoke_fails():\n    assert False\n")
    port = reference.url.rsplit(":", 1)[1]
    env = clean_env(
        **reference.env,  # the reference's own profile reads its secrets from these
        LMS_HOST="127.0.0.1",
        LMS_PORT=port,
        OAUTH2_CLIENT_ID=reference.env["EDX_OAUTH_CLIENT_ID"],
        OAUTH2_CLIENT_SECRET=reference.env["EDX_OAUTH_CLIENT_SECRET"],
        OAUTH_CONFORMANCE_REPORT_DIR=str(tmp_path / "reports"),
    )

    def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
        # No Allure: nothing to render into HTML afterwards.
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:allure_pytest"]
        argv += args
        return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)

    # The suite's plugin alone (its profile given): the smoke failure is reported, the status hides it.
    alone = pytest_run("--oauth-profile", str(reference.profile_path))
    assert "test_smoke_fails" in alone.stdout, alone.stdout[-2000:] + alone.stderr[-2000:]
    assert alone.returncode == pytest.ExitCode.OK, alone.stdout[-2000:] + alone.stderr[-2000:]
    # With the Tutor plugin's pytest side (the profile from Tutor's variables): the run fails.
    done = pytest_run("-p", "tutor_oauth_conformance.pytest_profile")
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_smoke_fails" in done.stdout
    assert (tmp_path / "reports" / "tutor" / "profile.toml").is_file()
