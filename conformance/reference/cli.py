"""The ``reference`` subcommand: ``serve`` supervises the two reference services; ``list-faults``.

``serve`` makes the state directory, fresh secrets and a fresh RSA key, binds both listening
sockets on 127.0.0.1 (so each service knows the other's port before it starts), starts the LMS and
discovery processes on them, and once both answer writes ``jwks.json``, ``env`` and
``profile.toml`` and prints ``READY <lms-url>``. Django is imported only by the service processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from conformance.reference import accounts as reference_accounts
from conformance.reference import faults as fault_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
RATE_RE = re.compile(r"^\d+/\d*[smhd]$")

SERVICE_USERNAME = "svc_worker"
TEST_USERNAME = "conformance_learner"
CLIENT_ID = "conformance-backend-service-key"
PUBLIC_CLIENT_ID = "login-service-client-id"
# devstack's JWT_SECRET_KEY: the weak-hs256-secret fault's signing secret.
WEAK_JWT_SECRET = "lms-secret"

# Files in the state directory.
PRIVATE_KEY_FILE = "jwt-private.pem"
RUNTIME_FILE = "runtime.json"
JWKS_FILE = "jwks.json"
ENV_FILE = "env"
PROFILE_FILE = "profile.toml"
DATABASE_FILES = ("lms.sqlite3", "discovery.sqlite3")

PROFILE_TEMPLATE = """\
# Written by `openedx-oauth-conformance reference serve`; the secrets are in the env file beside it.
name = "reference"
base_url = "{lms_url}"
[client]
id = "${{EDX_OAUTH_CLIENT_ID}}"
secret = "${{EDX_OAUTH_CLIENT_SECRET}}"
[jwt]
issuer = "{issuer}"
audience = "{audience}"
jwks = "{jwks}"
hs256_secret = "${{EDX_JWT_SECRET}}"
[password_grant]
client_id = "${{EDX_PUBLIC_CLIENT_ID}}"
username = "${{EDX_TEST_USERNAME}}"
password = "${{EDX_TEST_PASSWORD}}"
[[services]]
name = "discovery"
base_url = "{discovery_url}"
probe = "/api/v1/catalogs/"
"""


def register(subparsers: Any) -> None:
    """Add ``reference serve`` and ``reference list-faults`` to the suite's command line."""
    reference = subparsers.add_parser("reference", help="the embedded reference instance")
    commands = reference.add_subparsers(dest="reference_command", required=True)

    serve = commands.add_parser(
        "serve",
        help="start the reference LMS and discovery service on 127.0.0.1",
        description="Start the embedded reference instance; stop it with Ctrl-C or SIGTERM.",
    )
    serve.add_argument("--port", type=int, default=0, help="the LMS's port (default: a free one)")
    serve.add_argument("--state-dir", metavar="DIR", help="where to keep secrets, keys, databases, profile")
    serve.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="start with this fault (repeatable)"
    )
    serve.add_argument("--latency-ms", type=int, default=0, metavar="N", help="delay every response by N ms")
    serve.add_argument(
        "--rate-limit", default="120/m", metavar="RATE", help="token endpoint limit per client IP (120/m)"
    )
    serve.add_argument("--record-tokens", metavar="FILE", help="append every token issued to FILE")
    # For the launcher: stop when the process that started us goes away.
    serve.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    list_faults = commands.add_parser("list-faults", help="list the faults the reference can start with")
    list_faults.add_argument("--format", choices=("text", "json"), default="text")
    list_faults.set_defaults(func=cmd_list_faults)

    mutation = commands.add_parser(
        "mutation-score",
        help="run the suite against every fault: faults killed, and the faults that kill each check",
        description=(
            "Start the reference instance once per fault, run the suite against it (--strict) and "
            "report the faults killed, the faults that kill each check id, the check ids no fault kills "
            "and the runs that disagree with the fault table. Exit 0 when every fault is killed, every "
            "killable check id is killed and the table is confirmed; 1 otherwise."
        ),
    )
    mutation.add_argument("--format", choices=("text", "json"), default="text")
    mutation.add_argument("--workers", type=int, default=4, metavar="N", help="runs at a time (4)")
    mutation.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="only this fault (repeatable)"
    )
    mutation.add_argument("--seed", type=int, help="seed for the suite's generated values, in every run")
    mutation.set_defaults(func=cmd_mutation_score)


# list-faults ---------------------------------------------------------------------------------------


def cmd_list_faults(args: argparse.Namespace) -> int:
    if args.format == "json":
        _say(json.dumps(fault_table.as_json_table(), indent=2))
        return EXIT_OK
    width = max(len(fault.name) for fault in fault_table.FAULTS)
    for fault in fault_table.FAULTS:
        _say(f"{fault.name:<{width}}  [{fault.area}] {fault.description}")
    return EXIT_OK


# mutation-score ------------------------------------------------------------------------------------


def cmd_mutation_score(args: argparse.Namespace) -> int:
    unknown = fault_table.unknown(args.fault)
    if unknown:
        known = ", ".join(fault.name for fault in fault_table.FAULTS)
        _complain(f"unknown fault {', '.join(repr(name) for name in unknown)}; known faults: {known}")
        return EXIT_USAGE
    if args.workers < 1:
        _complain(f"--workers must be at least 1, not {args.workers}")
        return EXIT_USAGE
    missing = _missing_reference_packages()
    if missing:
        _complain(f"the reference instance needs the 'reference' extra ({', '.join(missing)} missing)")
        return EXIT_USAGE
    from conformance.reference import mutation

    chosen = [fault for fault in fault_table.FAULTS if not args.fault or fault.name in args.fault]
    done = 0

    def progress(fault: fault_table.Fault, run: mutation.FaultRun) -> None:
        nonlocal done
        done += 1
        state = "killed" if run.killed else "SURVIVED"
        sys.stderr.write(f"[{done}/{len(chosen)}] {fault.name}: {state} (exit {run.exit_code})\n")
        sys.stderr.flush()

    started = time.monotonic()
    runs = mutation.run_faults(chosen, workers=args.workers, seed=args.seed, on_done=progress)
    report = mutation.score(runs, seconds=time.monotonic() - started, workers=args.workers)
    _say(json.dumps(report.as_json(), indent=2) if args.format == "json" else report.as_text())
    return EXIT_OK if report.ok else EXIT_FAILED


# serve ---------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    problem = _usage_problem(args)
    if problem:
        _complain(problem)
        return EXIT_USAGE
    missing = _missing_reference_packages()
    if missing:
        _complain(
            f"the reference instance needs the 'reference' extra ({', '.join(missing)} missing): "
            "pip install -e '.[reference]'"
        )
        return EXIT_USAGE

    stop = threading.Event()
    _install_stop_handlers(stop)
    if args.exit_with_parent:
        threading.Thread(target=_watch_parent, args=(os.getppid(), stop), daemon=True).start()

    owns_state_dir = args.state_dir is None
    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="openedx-reference-")).resolve()
    try:
        return _serve(args, state_dir, stop, temporary=owns_state_dir)
    finally:
        if owns_state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)


def _usage_problem(args: argparse.Namespace) -> str | None:
    unknown = fault_table.unknown(args.fault)
    if unknown:
        known = ", ".join(fault.name for fault in fault_table.FAULTS)
        return f"unknown fault {', '.join(repr(name) for name in unknown)}; known faults: {known}"
    if not 0 <= args.port <= 65535:
        return f"--port must be between 0 and 65535, not {args.port}"
    if args.latency_ms < 0:
        return f"--latency-ms must not be negative, not {args.latency_ms}"
    if not RATE_RE.match(args.rate_limit):
        return f"--rate-limit must look like 120/m (a count per s, m, h or d), not {args.rate_limit!r}"
    return None


def _missing_reference_packages() -> list[str]:
    import importlib.util

    modules = {
        "django": "Django",
        "oauth2_provider": "django-oauth-toolkit",
        "rest_framework": "djangorestframework",
        "edx_rest_framework_extensions": "edx-drf-extensions",
        "django_ratelimit": "django-ratelimit",
        "waitress": "waitress",
    }
    return [package for module, package in modules.items() if importlib.util.find_spec(module) is None]


def _serve(args: argparse.Namespace, state_dir: Path, stop: threading.Event, temporary: bool) -> int:
    from conformance.reference import keys
    from conformance.reference.runtime import RuntimeConfig, write_private

    started = time.monotonic()
    if not state_dir.exists():
        state_dir.mkdir(mode=0o700, parents=True)
    # Every start is a fresh instance: old databases would hold old applications and tokens, and
    # an old profile or env file must not pass for this run's before it is ready.
    stale = [f"{name}{suffix}" for name in DATABASE_FILES for suffix in ("", "-wal", "-shm", "-journal")]
    for name in [*stale, JWKS_FILE, ENV_FILE, PROFILE_FILE]:
        (state_dir / name).unlink(missing_ok=True)

    try:
        lms_sock = _listen(args.port)
    except OSError as exc:
        _complain(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED
    discovery_sock = _listen(0)

    faults = tuple(dict.fromkeys(args.fault))
    material = keys.key_material(faults)
    key_path = state_dir / PRIVATE_KEY_FILE
    write_private(key_path, keys.private_pem(material.private_key).decode("ascii"))
    record_tokens = str(Path(args.record_tokens).resolve()) if args.record_tokens else None
    if record_tokens:
        Path(record_tokens).parent.mkdir(parents=True, exist_ok=True)
        Path(record_tokens).touch(mode=0o600, exist_ok=True)
    config = RuntimeConfig(
        state_dir=str(state_dir),
        lms_port=lms_sock.getsockname()[1],
        discovery_port=discovery_sock.getsockname()[1],
        # The weak-hs256-secret fault is the deployment's JWT_SECRET_KEY itself.
        jwt_secret=WEAK_JWT_SECRET if "weak-hs256-secret" in faults else _secret(),
        lms_secret_key=_secret(48),
        discovery_secret_key=_secret(48),
        client_id=CLIENT_ID,
        client_secret=_secret(),
        service_username=SERVICE_USERNAME,
        public_client_id=PUBLIC_CLIENT_ID,
        test_username=TEST_USERNAME,
        test_password=_secret(),
        private_key_path=str(key_path),
        public_jwks=json.dumps(material.lms_jwks),
        services_jwks=json.dumps(material.services_jwks),
        faults=faults,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        record_tokens=record_tokens,
        accounts=reference_accounts.material(_secret),
    )
    config_path = state_dir / RUNTIME_FILE
    config.write(config_path)

    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for role, sock in (("lms", lms_sock), ("discovery", discovery_sock)):
            children[role] = _start_service(role, config_path, sock)
        lms_sock.close()
        discovery_sock.close()
        failure = _wait_until_ready(children, stop)
        if stop.is_set():  # asked to stop while starting: not an error
            return EXIT_OK
        if failure:
            _complain(failure)
            return EXIT_FAILED
        _write_outputs(config, state_dir, material.published_jwks)
        _announce(config, state_dir, args, time.monotonic() - started, temporary)
        return _supervise(children, stop)
    finally:
        _stop_children(children)


def _secret(nbytes: int = 32) -> str:
    """Random and URL-safe, so it needs no quoting in the env file or a form body (>= 43 chars)."""
    return secrets.token_urlsafe(nbytes)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A fixed --port must be reusable at once after a previous run's connections linger.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _start_service(role: str, config_path: Path, sock: socket.socket) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    # The service must import this very package, even from a checkout that is not installed.
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance.reference.server",
            "--role",
            role,
            "--config",
            str(config_path),
            "--fd",
            str(sock.fileno()),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        pass_fds=(sock.fileno(),),
        env=env,
    )


def _wait_until_ready(children: dict[str, subprocess.Popen[bytes]], stop: threading.Event) -> str | None:
    """None once every service wrote READY; otherwise why not."""
    selector = selectors.DefaultSelector()
    for role, child in children.items():
        assert child.stdout is not None
        selector.register(child.stdout, selectors.EVENT_READ, role)
    waiting = set(children)
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while waiting:
            if stop.is_set():
                return "stopped before the services were ready"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                late = " and ".join(sorted(waiting))
                return f"the {late} service(s) were not ready in {READY_TIMEOUT_S:.0f} s"
            for key, _ in selector.select(timeout=min(remaining, 0.2)):
                role = key.data
                stream: IO[bytes] = key.fileobj  # type: ignore[assignment]
                line = stream.readline()
                if line.strip() == b"READY":
                    waiting.discard(role)
                    selector.unregister(stream)
                elif not line:
                    code = children[role].wait()
                    return f"the {role} service exited with status {code} before it was ready (errors above)"
    finally:
        selector.close()
    return None


def _write_outputs(config: Any, state_dir: Path, jwks: dict[str, Any]) -> None:
    from conformance.reference.runtime import write_private

    (state_dir / JWKS_FILE).write_text(json.dumps(jwks, indent=2) + "\n")
    env = {
        "EDX_OAUTH_CLIENT_ID": config.client_id,
        "EDX_OAUTH_CLIENT_SECRET": config.client_secret,
        "EDX_PUBLIC_CLIENT_ID": config.public_client_id,
        "EDX_TEST_USERNAME": config.test_username,
        "EDX_TEST_PASSWORD": config.test_password,
        "EDX_JWT_SECRET": config.jwt_secret,
        **reference_accounts.env_entries(config.accounts),
    }
    write_private(state_dir / ENV_FILE, "".join(f"{name}={value}\n" for name, value in env.items()))
    (state_dir / PROFILE_FILE).write_text(
        PROFILE_TEMPLATE.format(
            lms_url=config.lms_url,
            issuer=config.issuer,
            audience=config.audience,
            jwks=JWKS_FILE,
            discovery_url=config.discovery_url,
        )
        + reference_accounts.PROFILE_FRAGMENT
    )


def _announce(
    config: Any, state_dir: Path, args: argparse.Namespace, ready_s: float, temporary: bool
) -> None:
    faults = ", ".join(config.faults) or "none"
    lifetime = "; removed on exit" if temporary else ""
    _say(f"reference LMS        {config.lms_url}")
    _say(f"reference discovery  {config.discovery_url}")
    _say(f"state dir            {state_dir}  (profile.toml, env, jwks.json{lifetime})")
    _say(f"faults               {faults}")
    if args.latency_ms:
        _say(f"latency              {args.latency_ms} ms per response")
    _say(f"ready in             {ready_s:.1f} s")
    _say("run the suite against it, from another shell:")
    _say(f"  set -a; . {state_dir / ENV_FILE}; set +a")
    _say(f"  openedx-oauth-conformance run --profile {state_dir / PROFILE_FILE}")
    _say("stop it with Ctrl-C or SIGTERM")
    _say(f"READY {config.lms_url}")


def _supervise(children: dict[str, subprocess.Popen[bytes]], stop: threading.Event) -> int:
    while not stop.wait(0.2):
        for role, child in children.items():
            code = child.poll()
            if code is not None:
                if stop.wait(0.5):  # it went down with us (a signal to the whole group)
                    return EXIT_OK
                _complain(f"the {role} service stopped unexpectedly (status {code}); stopping")
                return EXIT_FAILED
    return EXIT_OK


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for child in children.values():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def _install_stop_handlers(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    with contextlib.suppress(AttributeError, ValueError):
        signal.signal(signal.SIGHUP, handle)


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    while not stop.is_set():
        if os.getppid() != parent_pid:
            stop.set()
            return
        time.sleep(0.5)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _complain(text: str) -> None:
    sys.stderr.write(f"reference: error: {text}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reference ...`` without the suite's command line (``python -m conformance.reference.cli``)."""
    parser = argparse.ArgumentParser(prog="python -m conformance.reference.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["reference", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
