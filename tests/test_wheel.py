"""The package as a user installs it: `python -m build` gives an sdist and a wheel (built from the
sdist) that carry every data file; the wheel, installed into a fresh venv outside the checkout,
runs from a temporary folder: `list-checks`, `run --profile` (without and with the `reference`
extra), `reference serve`, and the checks from plain pytest, with the checkout's outcomes.

The wheel is built once per session; one venv serves the module: first the bare wheel, then the
same venv gets the `reference` extra (pip reuses the wheels it cached). Under the shared 2-core
load the module takes 2-4 minutes, most of it pip resolving and installing the dependencies.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import load_checks
from tests.conftest import ROOT, run_cli

PACKAGE_DATA = [
    "conformance/allure-categories.json",
    "conformance/py.typed",
    *(f"conformance/vectors/{p.name}" for p in sorted((ROOT / "conformance" / "vectors").iterdir())),
    *(f"conformance/schemas/{p.name}" for p in sorted((ROOT / "schemas").glob("*.schema.json"))),
]
INSTALL_HINT = "pip install 'openedx-oauth-conformance[reference]'"


@dataclass
class Built:
    wheel: Path
    sdist: Path
    seconds: float


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Built(wheel, sdist, time.monotonic() - started)


def clean_env(**extra: str) -> dict[str, str]:
    """The user's environment, minus anything that would let the checkout leak in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS"}}
    env = {k: v for k, v in env.items() if not k.startswith("EDX_")}
    env.update(extra)
    return env


@dataclass
class Venv:
    root: Path
    workdir: Path  # a folder outside the checkout, where every command runs
    install_seconds: dict[str, float]

    def bin(self, name: str) -> str:
        return str(self.root / "bin" / name)

    def install(self, requirement: str, label: str) -> None:
        started = time.monotonic()
        # The checkout's pip drives the fresh venv (`--python`): no bootstrapping pip into it.
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "--python", self.bin("python"), "install", "-q", requirement],
            capture_output=True, text=True, timeout=900, check=False, cwd=self.workdir, env=clean_env(),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        self.install_seconds[label] = round(time.monotonic() - started, 1)

    def run(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> Any:
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False,
            cwd=self.workdir, env=clean_env(**(env or {})),
        )  # fmt: skip


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh venv outside the checkout with the bare wheel (no extra) installed."""
    root = tmp_path_factory.mktemp("venv")
    assert ROOT not in root.parents
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    env = Venv(root, tmp_path_factory.mktemp("elsewhere"), {})
    env.install(str(built.wheel), "wheel")
    return env


@pytest.fixture(scope="module")
def venv_with_reference(venv: Venv, built: Built) -> Venv:
    venv.install(f"{built.wheel}[reference]", "reference extra")
    return venv


# The artifacts ------------------------------------------------------------------------------------


def test_wheel_and_sdist_carry_the_data_files(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        assert set(PACKAGE_DATA) <= names, sorted(set(PACKAGE_DATA) - names)
        for name in PACKAGE_DATA:
            source = ROOT / "schemas" / Path(name).name if "/schemas/" in name else ROOT / name
            assert wheel.read(name) == source.read_bytes(), name
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        text = wheel.read(entry_points).decode()
    assert "[pytest11]\nopenedx_oauth_conformance = conformance.plugin" in text
    assert "openedx-oauth-conformance = conformance.cli:main" in text
    with tarfile.open(built.sdist) as sdist:
        members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
    for name in PACKAGE_DATA:
        assert name in members and members[name].isfile(), name  # files, not symlinks


def test_schemas_have_one_source(built: Built) -> None:
    """schemas/ (the contract's folder) is the copy; the package's schemas/ is a link to it."""
    link = ROOT / "conformance" / "schemas"
    assert link.is_symlink() and os.readlink(link) == "../schemas"
    names = sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))
    match, mismatch, errors = filecmp.cmpfiles(ROOT / "schemas", link, names, shallow=False)
    assert (mismatch, errors) == ([], []) and match == names


# The bare wheel (no extra) ------------------------------------------------------------------------


def test_installed_package_is_the_wheel_not_the_checkout(venv: Venv) -> None:
    proc = venv.run(venv.bin("python"), "-c", "import conformance; print(conformance.__file__)")
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_relative_to(venv.root), proc.stdout


def test_list_checks_from_anywhere(venv: Venv) -> None:
    proc = venv.run(venv.bin("openedx-oauth-conformance"), "list-checks", "--format", "json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {c["id"] for c in json.loads(proc.stdout)} == set(load_checks())


def test_run_without_profile_says_what_to_install(venv: Venv) -> None:
    assert venv.run(venv.bin("python"), "-c", "import django").returncode != 0  # the bare install
    for argv in (["run"], ["reference", "serve"]):
        proc = venv.run(venv.bin("openedx-oauth-conformance"), *argv)
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert INSTALL_HINT in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_bare_wheel_runs_a_profile(venv: Venv, reference: Any, tmp_path: Path) -> None:
    """A user's own instance needs no extra: the bare wheel against a running instance."""
    proc = venv.run(
        venv.bin("openedx-oauth-conformance"), "run", "--profile", str(reference.profile_path),
        "--report-dir", str(tmp_path), "--no-html", "--select", "jwt", env=reference.env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts = json.loads((tmp_path / "summary.json").read_text())["counts"]
    assert counts["passed"] >= 10 and counts["failed"] == 0, counts


# With the reference extra -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(venv_with_reference: Venv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`reference serve` of the installed wheel (no PYTHONPATH, run from elsewhere); its state dir."""
    venv = venv_with_reference
    state = tmp_path_factory.mktemp("wheel-state")
    argv = [venv.bin("openedx-oauth-conformance"), "reference", "serve", "--state-dir", str(state)]
    argv += ["--rate-limit", "100000/m", "--exit-with-parent"]  # three full runs in a minute
    process = subprocess.Popen(
        argv, cwd=venv.workdir, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if not line or line.startswith("READY "):
                break
        assert lines[-1].startswith("READY "), "".join(lines) + (
            process.stderr.read() if process.stderr else ""
        )
        yield state
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def state_env(state: Path) -> dict[str, str]:
    lines = (state / "env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_served_by_the_wheel_and_run_from_the_wheel_match_the_checkout(
    venv_with_reference: Venv, served: Path, tmp_path: Path
) -> None:
    venv, env, profile = venv_with_reference, state_env(served), str(served / "profile.toml")
    wheel_run = venv.run(
        venv.bin("openedx-oauth-conformance"), "run", "--profile", profile,
        "--report-dir", str(tmp_path / "wheel"), "--no-html", env=env,
    )  # fmt: skip
    assert wheel_run.returncode == 0, wheel_run.stdout[-3000:] + wheel_run.stderr[-3000:]
    checkout = run_cli(["run", "--profile", profile, "--no-html"], env=env, report_dir=tmp_path / "checkout")
    assert checkout.code == 0, checkout.console[-3000:]
    wheel_summary = json.loads((tmp_path / "wheel" / "summary.json").read_text())
    assert wheel_summary["counts"] == checkout.summary()["counts"]
    assert {c["id"]: c["outcome"] for c in wheel_summary["checks"]} == {
        c["id"]: c["outcome"] for c in checkout.summary()["checks"]
    }
    assert tomllib.loads((served / "profile.toml").read_text())["name"] == "reference"


def test_plain_pytest_from_the_wheel(venv_with_reference: Venv, served: Path, tmp_path: Path) -> None:
    venv = venv_with_reference
    proc = venv.run(
        venv.bin("python"), "-m", "pytest", "--pyargs", "conformance.checks",
        "--oauth-profile", str(served / "profile.toml"), "--oauth-report-dir", str(tmp_path), "-q",
        "-p", "no:cacheprovider", env=state_env(served),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    counts = json.loads((tmp_path / "summary.json").read_text())["counts"]
    assert counts["failed"] == 0 and counts["passed"] >= 60, counts
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "allure-results").is_dir()


def test_install_times_are_recorded(venv_with_reference: Venv, built: Built) -> None:
    """Not a limit: the figures for the README and the report (printed with -s or on failure)."""
    print(f"build {built.seconds:.1f} s; installs {venv_with_reference.install_seconds}")
    assert set(venv_with_reference.install_seconds) == {"wheel", "reference extra"}


def test_html_report_from_the_wheel(venv_with_reference: Venv, served: Path, tmp_path: Path) -> None:
    """No checkout, no node_modules: Allure comes from npx (npm's cache or registry); without Node
    the run says how to render later."""
    venv = venv_with_reference
    proc = venv.run(
        venv.bin("openedx-oauth-conformance"), "run", "--profile", str(served / "profile.toml"),
        "--report-dir", str(tmp_path), "--select", "jwt.claims", env=state_env(served), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    if shutil.which("node") and shutil.which("npx"):
        assert (tmp_path / "html" / "index.html").is_file(), proc.stderr[-2000:]
        assert "no HTML report" not in proc.stderr
    else:
        assert f"render later with: openedx-oauth-conformance render {tmp_path}" in proc.stderr
