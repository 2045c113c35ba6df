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
from conformance.reference.defects import Defect

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
RATE_RE = re.compile(r"^\d+/\d*[smhd]$")

INSTALL_NAME = "openedx-oauth-conformance"
SERVICE_USERNAME = "svc_worker"
TEST_USERNAME = "conformance_learner"
CLIENT_ID = "conformance-backend-service-key"
PUBLIC_CLIENT_ID = "login-service-client-id"
# devstack's JWT_SECRET_KEY: the weak-hs256-secret fault's signing secret.
WEAK_JWT_SECRET = "lms-secret"

# Files in the state directory.
PRIVATE_KEY_FILE = "jwt-private.pem"
PRIVATE_JWK_FILE = "jwt-private.json"
NEXT_KEY_FILE = "jwt-next-private.json"
RUNTIME_FILE = "runtime.json"
JWKS_FILE = "jwks.json"
ENV_FILE = "env"
PROFILE_FILE = "profile.toml"
# Held (flock) by the serve process for as long as it runs: a second serve on the same state dir
# refuses; the kernel drops the lock when its holder dies, so a dead server's file is taken over.
LOCK_FILE = "serve.lock"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # what a profile name may be
DATABASE_FILES = ("lms.sqlite3", "discovery.sqlite3")

# The generated profile; ``{config.X}`` is attribute X of the instance's RuntimeConfig.
PROFILE_TEMPLATE = """\
# Written by `openedx-oauth-conformance reference serve`; the secrets are in the env file beside it.
name = "{name}"
base_url = "{config.lms_url}"
[client]
id = "${{EDX_OAUTH_CLIENT_ID}}"
secret = "${{EDX_OAUTH_CLIENT_SECRET}}"
[jwt]
issuer = "{config.issuer}"
audience = "{config.audience}"
jwks = "{jwks}"
hs256_secret = "${{EDX_JWT_SECRET}}"
{rotation_key}[password_grant]
client_id = "${{EDX_PUBLIC_CLIENT_ID}}"
username = "${{EDX_TEST_USERNAME}}"
password = "${{EDX_TEST_PASSWORD}}"
[[services]]
name = "discovery"
base_url = "{config.discovery_url}"
probe = "/api/v1/catalogs/"
[login]
username = "${{EDX_TEST_USERNAME}}"
password = "${{EDX_TEST_PASSWORD}}"
[[sso_clients]]
name = "discovery"
client_id = "{config.sso_client_id}"
redirect_uri = "{config.sso_redirect_uri}"
client_secret = "${{EDX_SSO_CLIENT_SECRET}}"
[jwt_cookies]
mfe_origin = "{mfe_origin}"
"""
# `serve --tls`: trust the CA made at start, run the transport checks on this loopback instance,
# and probe plain http where the front serves it.
TLS_TOP = """\
ca_bundle = "{ca}"
"""
TLS_OPTIONS = """\
[options]
loopback_tls = true
plain_http_port = {http_port}
"""


def register(subparsers: Any) -> Any:
    """Add ``reference serve`` and ``reference list-faults`` to a command line; returns the
    ``reference`` subcommands, where others (``mutation-score``) may add theirs."""
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
    serve.add_argument(
        "--login-rate-limit",
        default="30/5m",
        metavar="RATE",
        help="login API limit per username, every attempt counted (30/5m, the LMS's default)",
    )
    serve.add_argument("--record-tokens", metavar="FILE", help="append every token issued to FILE")
    serve.add_argument(
        "--tls",
        action="store_true",
        help="serve https behind a TLS front with a CA made at start (its certificate: ca.pem in the "
        "state dir; the profile trusts it), plain http beside it redirecting to https",
    )
    serve.add_argument(
        "--name",
        default="reference",
        metavar="NAME",
        help="the name of the profile it writes, and so of its report folder (default: reference)",
    )
    serve.add_argument(
        "--rotation-phase",
        type=int,
        default=0,
        choices=(0, 1, 2, 3, 4),
        metavar="N",
        help="signing-key rotation phase (docs/key-rotation.md): 0 one key; 1 a new key published "
        "everywhere, the LMS still signs with the old; 2 (3) the LMS signs with the new; 4 the old removed",
    )
    # For the launcher: stop when the process that started us goes away.
    serve.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    list_faults = commands.add_parser("list-faults", help="list the faults the reference can start with")
    list_faults.add_argument("--format", choices=("text", "json"), default="text")
    list_faults.set_defaults(func=cmd_list_faults)

    return commands


# list-faults ---------------------------------------------------------------------------------------


def cmd_list_faults(args: argparse.Namespace) -> int:
    if args.format == "json":
        _say(json.dumps(fault_table.as_json_table(), indent=2))
        return EXIT_OK
    width = max(len(fault.name) for fault in fault_table.FAULTS)
    for fault in fault_table.FAULTS:
        _say(f"{fault.name:<{width}}  [{fault.area}] {fault.description}")
    return EXIT_OK


# serve ---------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    problem = _usage_problem(args)
    if problem:
        _complain(problem)
        return EXIT_USAGE
    missing = missing_reference_extra()
    if missing:
        _complain(missing)
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
    if not RATE_RE.match(args.login_rate_limit):
        return (
            "--login-rate-limit must look like 30/5m (a count per s, m, h or d), "
            f"not {args.login_rate_limit!r}"
        )
    needs_tls = [name for name in args.fault if fault_table.BY_NAME[name].tls]
    if needs_tls and not args.tls:
        return f"fault(s) {', '.join(needs_tls)} live in the TLS front: add --tls"
    if not NAME_RE.match(args.name):
        return f"--name must be letters, digits, '.', '_' or '-' (at most 64), not {args.name!r}"
    return None


def missing_reference_extra() -> str | None:
    """None when the reference instance can start; else what to install, in one line."""
    missing = missing_reference_packages()
    if not missing:
        return None
    return (
        "the embedded reference instance needs the 'reference' extra: "
        f"pip install '{INSTALL_NAME}[reference]' ({', '.join(missing)} missing)"
    )


def missing_reference_packages() -> list[str]:
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
    started = time.monotonic()
    if not state_dir.exists():
        state_dir.mkdir(mode=0o700, parents=True)
    lock = _lock_state_dir(state_dir)
    if lock is None:
        return EXIT_FAILED
    try:
        return _serve_locked(args, state_dir, stop, temporary, started)
    finally:
        lock.close()


def _lock_state_dir(state_dir: Path) -> IO[str] | None:
    """The state dir's lock, held until closed; None (and one message) when a running serve holds it."""
    import fcntl

    handle = (state_dir / LOCK_FILE).open("a+", encoding="ascii")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        _complain(
            f"the state dir {state_dir} is in use by another `reference serve` (pid {holder}); "
            "stop it first or give this one another --state-dir"
        )
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _serve_locked(
    args: argparse.Namespace, state_dir: Path, stop: threading.Event, temporary: bool, started: float
) -> int:
    from conformance.reference import keys
    from conformance.reference.runtime import RuntimeConfig, write_private

    # Every start is a fresh instance: old databases would hold old applications and tokens, and
    # an old profile or env file must not pass for this run's before it is ready.
    stale = [f"{name}{suffix}" for name in DATABASE_FILES for suffix in ("", "-wal", "-shm", "-journal")]
    from conformance.reference.tls import CA_FILE, CERT_FILE, KEY_FILE

    for name in [*stale, JWKS_FILE, ENV_FILE, PROFILE_FILE, CA_FILE, CERT_FILE, KEY_FILE]:
        (state_dir / name).unlink(missing_ok=True)

    try:
        lms_sock = _listen(args.port)
    except OSError as exc:
        _complain(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED
    discovery_sock = _listen(0)
    # With --tls the public sockets belong to the TLS front; the services get loopback ones of
    # their own behind it, and a third public socket serves plain http.
    public: dict[str, socket.socket] = {}
    if args.tls:
        public = {"lms": lms_sock, "discovery": discovery_sock, "http": _listen(0)}
        lms_sock, discovery_sock = _listen(0), _listen(0)

    faults = tuple(dict.fromkeys(args.fault))
    material = keys.key_material(faults, getattr(args, "rotation_phase", 0))
    key_path = state_dir / PRIVATE_KEY_FILE
    write_private(key_path, keys.private_pem(material.private_key).decode("ascii"))
    jwk_path = state_dir / PRIVATE_JWK_FILE
    write_private(jwk_path, json.dumps(material.signing_jwk))
    (state_dir / NEXT_KEY_FILE).unlink(missing_ok=True)
    if material.next_key is not None:
        # The rotation's new private key, as generate_jwt_signing_key prints it: the profile's
        # jwt.rotation_key points here (never printed, like every secret of the state dir).
        next_jwk = keys.private_jwk(material.next_key, material.next_kid)
        write_private(state_dir / NEXT_KEY_FILE, json.dumps(next_jwk))
    record_tokens = str(Path(args.record_tokens).resolve()) if args.record_tokens else None
    if record_tokens:
        Path(record_tokens).parent.mkdir(parents=True, exist_ok=True)
        Path(record_tokens).touch(mode=0o600, exist_ok=True)
    config = RuntimeConfig(
        state_dir=str(state_dir),
        lms_port=(public.get("lms") or lms_sock).getsockname()[1],
        discovery_port=(public.get("discovery") or discovery_sock).getsockname()[1],
        # The weak-hs256-secret fault is the deployment's JWT_SECRET_KEY itself.
        jwt_secret=WEAK_JWT_SECRET if Defect.WEAK_HS256_SECRET in faults else _secret(),
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
        login_rate_limit=args.login_rate_limit,
        record_tokens=record_tokens,
        tls=args.tls,
        http_port=public["http"].getsockname()[1] if args.tls else 0,
        private_jwk_path=str(jwk_path),
        rotation_phase=material.rotation_phase,
        sso_client_secret=_secret(),
        accounts=reference_accounts.material(_secret),
    )
    config_path = state_dir / RUNTIME_FILE
    config.write(config_path)

    children: dict[str, subprocess.Popen[bytes]] = {}
    fronts: list[Any] = []
    try:
        upstream = {"lms": lms_sock.getsockname()[1], "discovery": discovery_sock.getsockname()[1]}
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
        if args.tls:
            fronts = _start_fronts(state_dir, public, upstream, faults)
        _write_outputs(config, state_dir, material.published_jwks, args.name)
        _announce(config, state_dir, args, time.monotonic() - started, temporary)
        return _supervise(children, stop)
    finally:
        for front in fronts:
            front.stop()
        for sock in public.values():
            sock.close()
        _stop_children(children)


def _start_fronts(
    state_dir: Path, public: dict[str, socket.socket], upstream: dict[str, int], faults: tuple[str, ...]
) -> list[Any]:
    """The TLS front before each service, and plain http beside them (a redirect to https, or,
    with the plain-http-token-endpoint fault, the LMS itself)."""
    from conformance.reference.tls import Front, make_certificates, server_context

    context = server_context(make_certificates(state_dir, faults), faults)
    hsts = Defect.NO_HSTS not in faults
    fronts = [
        Front(public[role], upstream_port=upstream[role], tls=context, hsts=hsts)
        for role in ("lms", "discovery")
    ]
    lms_port = public["lms"].getsockname()[1]
    if Defect.PLAIN_HTTP_TOKEN_ENDPOINT in faults:
        fronts.append(Front(public["http"], upstream_port=upstream["lms"], tls=None))
    else:
        fronts.append(Front(public["http"], upstream_port=upstream["lms"], tls=None, redirect_to=lms_port))
    return [front.start() for front in fronts]


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
    # The service runs on the same interpreter, so it imports the same installed package (editable
    # or wheel); no PYTHONPATH of ours, which would put site-packages or a checkout ahead of others.
    env = dict(os.environ)
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


def _write_outputs(config: Any, state_dir: Path, jwks: dict[str, Any], name: str) -> None:
    from conformance.reference.runtime import write_private

    (state_dir / JWKS_FILE).write_text(json.dumps(jwks, indent=2) + "\n")
    env = {
        "EDX_OAUTH_CLIENT_ID": config.client_id,
        "EDX_OAUTH_CLIENT_SECRET": config.client_secret,
        "EDX_PUBLIC_CLIENT_ID": config.public_client_id,
        "EDX_TEST_USERNAME": config.test_username,
        "EDX_TEST_PASSWORD": config.test_password,
        # hs256-secret-stale: the deployment rotated JWT_SECRET_KEY; the operator's copy is the old one.
        "EDX_JWT_SECRET": _secret() if Defect.HS256_SECRET_STALE in config.faults else config.jwt_secret,
        "EDX_SSO_CLIENT_SECRET": config.sso_client_secret,
        **reference_accounts.env_entries(config.accounts),
    }
    write_private(state_dir / ENV_FILE, "".join(f"{name}={value}\n" for name, value in env.items()))
    profile = PROFILE_TEMPLATE.format(
        config=config,
        name=name,
        jwks=JWKS_FILE,
        rotation_key=(f'rotation_key = "{NEXT_KEY_FILE}"\n' if (state_dir / NEXT_KEY_FILE).exists() else ""),
        # The MFEs on the LMS's host (another port: cookies are not port-bound, RFC 6265 8.5).
        mfe_origin="http://127.0.0.1:1999",
    )
    if config.tls:
        from conformance.reference.tls import CA_FILE

        profile = profile.replace("\n[client]\n", "\n" + TLS_TOP.format(ca=CA_FILE) + "[client]\n", 1)
        profile += TLS_OPTIONS.format(http_port=config.http_port)
    # The accounts the LMS must refuse: tables of their own, after everything else.
    profile += reference_accounts.PROFILE_FRAGMENT
    (state_dir / PROFILE_FILE).write_text(profile)


def _announce(
    config: Any, state_dir: Path, args: argparse.Namespace, ready_s: float, temporary: bool
) -> None:
    faults = ", ".join(config.faults) or "none"
    lifetime = "; removed on exit" if temporary else ""
    _say(f"reference LMS        {config.lms_url}")
    _say(f"reference discovery  {config.discovery_url}")
    _say(f"state dir            {state_dir}  (profile.toml, env, jwks.json{lifetime})")
    _say(f"faults               {faults}")
    if config.tls:
        _say(f"tls                  CA {state_dir / 'ca.pem'}; plain http on port {config.http_port}")
    if config.rotation_phase:
        _say(f"key rotation phase   {config.rotation_phase} (docs/key-rotation.md)")
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
