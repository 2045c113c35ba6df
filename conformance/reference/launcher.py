"""Start the reference instance from Python: ``with running_reference() as ref: ...``.

It runs ``python -m conformance reference serve`` in its own process group, waits for its
``READY`` line and stops it (SIGTERM, then SIGKILL after 10 s) on exit. The server is told to
exit with its parent, and its services exit with it, so nothing outlives a killed test run.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypedDict, Unpack

STOP_TIMEOUT_S = 10.0
STDERR_TAIL_CHARS = 4000


@dataclass
class RunningReference:
    """A started reference instance: where it listens and what it wrote to its state directory."""

    url: str
    discovery_url: str
    state_dir: Path
    profile_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] = field(repr=False)
    # Lines the server printed before READY (human lines; never a secret).
    banner: list[str] = field(default_factory=list, repr=False)


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name] = value
    return env


class ServeOptions(TypedDict, total=False):
    """The ``reference serve`` options a caller may set; an option left out keeps the command's
    default (no faults, no latency, no token record, the default rate limits, a free port, plain
    http, the default name, no key rotation)."""

    faults: Iterable[str]
    latency_ms: int
    record_tokens: str | os.PathLike[str] | None
    rate_limit: str | None
    port: int
    tls: bool
    name: str | None
    rotation_phase: int
    login_rate_limit: str | None


def serve_command(state_dir: Path, **options: Unpack[ServeOptions]) -> list[str]:
    command = [sys.executable, "-m", "conformance", "reference", "serve", "--exit-with-parent"]
    command += ["--state-dir", str(state_dir), "--port", str(options.get("port", 0))]
    name = options.get("name")
    command += ["--name", name] if name else []
    for fault in options.get("faults", ()):
        command += ["--fault", fault]
    latency_ms = options.get("latency_ms", 0)
    if latency_ms:
        command += ["--latency-ms", str(latency_ms)]
    record_tokens = options.get("record_tokens")
    if record_tokens is not None:
        command += ["--record-tokens", str(record_tokens)]
    rate_limit = options.get("rate_limit")
    if rate_limit is not None:
        command += ["--rate-limit", rate_limit]
    login_rate_limit = options.get("login_rate_limit")
    if login_rate_limit is not None:
        command += ["--login-rate-limit", login_rate_limit]
    if options.get("tls", False):
        command.append("--tls")
    rotation_phase = options.get("rotation_phase", 0)
    if rotation_phase:
        command += ["--rotation-phase", str(rotation_phase)]
    return command


@contextlib.contextmanager
def running_reference(
    state_dir: str | os.PathLike[str] | None = None, timeout: float = 30, **options: Unpack[ServeOptions]
) -> Iterator[RunningReference]:
    """Run the reference instance for the duration of the ``with`` block."""
    owned_dir = None if state_dir is not None else Path(tempfile.mkdtemp(prefix="openedx-reference-"))
    directory = Path(state_dir).resolve() if state_dir is not None else owned_dir
    assert directory is not None
    # The server's errors go to a file: a pipe nobody reads would fill up and stall it.
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(
        serve_command(directory, **options),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        banner = _wait_for_ready(process, stderr, timeout)
        profile_path = directory / "profile.toml"
        profile = tomllib.loads(profile_path.read_text())
        yield RunningReference(
            url=profile["base_url"],
            discovery_url=profile["services"][0]["base_url"],
            state_dir=directory,
            profile_path=profile_path,
            env=read_env_file(directory / "env"),
            process=process,
            banner=banner,
        )
    finally:
        stop(process)
        stderr.close()
        if owned_dir is not None:
            shutil.rmtree(owned_dir, ignore_errors=True)


def _wait_for_ready(process: subprocess.Popen[bytes], stderr: IO[bytes], timeout: float) -> list[str]:
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(
                f"the reference instance was not ready within {timeout:g} s; its errors:\n{_tail(stderr)}"
            )
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            code = process.wait()
            raise RuntimeError(
                f"the reference instance exited with status {code} before it was ready; its errors:\n"
                f"{_tail(stderr)}"
            )
        if line.startswith("READY "):
            return banner
        banner.append(line)


def _pump(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    # Keep reading after READY too, so the server never blocks on a full stdout pipe.
    for raw in stream:
        lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
    lines.put(None)


def _tail(stderr: IO[bytes]) -> str:
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(0, size - STDERR_TAIL_CHARS))
    return stderr.read().decode("utf-8", "replace") or "(nothing on stderr)"


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM, wait, then SIGKILL the server's process group; returns the server's exit status."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Not yet reaped, so the group id is still the server's own: kill it and its services.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return code
