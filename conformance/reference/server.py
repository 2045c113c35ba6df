"""One service process of the reference instance (``--role lms`` or ``--role discovery``).

Started by ``reference serve`` with an already-bound listening socket (so both services know each
other's ports before either starts), it migrates its own SQLite file, seeds it, serves with
waitress on that socket, and writes ``READY`` to stdout once it can answer. It exits when its
supervisor goes away, so it never outlives ``serve``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from conformance.reference.runtime import CONFIG_ENV

SETTINGS = {
    "lms": "conformance.reference.lms_settings",
    "discovery": "conformance.reference.discovery_settings",
}
THREADS = 8


def _exit_now(signum: int, frame: FrameType | None) -> None:
    # Nothing here needs a graceful shutdown (SQLite in WAL mode survives it); exiting at once
    # keeps SIGTERM from racing waitress's threads into a traceback.
    sys.stderr.flush()
    os._exit(0)


def _watch_parent(parent_pid: int) -> None:
    """Exit when the supervisor dies, whatever killed it (even SIGKILL): we get re-parented."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(0.5)


def _prepare(role: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if role == "lms":
        from conformance.reference import keys
        from conformance.reference.lms.seed import seed
        from conformance.reference.runtime import current

        config = current()
        seed(config)
        # Parse the private key and resolve the URLconf now, not on the first request.
        keys.load_private_key(config.private_key_path)
        if config.private_jwk_path:
            # A JWK PyJWT refuses (the private-jwk-missing-crt fault) fails when the LMS signs, as
            # on the platform, not at start-up.
            with contextlib.suppress(Exception):
                keys.load_signing_jwk(config.private_jwk_path)
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.reference.server")
    parser.add_argument("--role", choices=sorted(SETTINGS), required=True)
    parser.add_argument("--config", required=True, help="the 0600 run-time config written by serve")
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _exit_now)
    # Ctrl-C reaches the whole process group: the supervisor alone handles it, then stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()

    # The databases hold client secrets (DOT 1.7 keeps them in plain text) and password hashes.
    os.umask(0o077)
    os.environ[CONFIG_ENV] = os.path.abspath(args.config)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS[args.role]
    _prepare(args.role)

    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    sock = socket.socket(fileno=args.fd)
    server = create_server(
        get_wsgi_application(),
        sockets=[sock],
        threads=THREADS,
        ident="waitress",
        # The suite's clients come and go quickly; keep the default connection cap generous.
        connection_limit=200,
        # Behind `serve --tls` the front on loopback says the scheme, host and client (X-Forwarded-*,
        # which it replaces whatever a client sent); waitress would drop them from an untrusted peer.
        trusted_proxy="127.0.0.1",
        trusted_proxy_headers={
            "x-forwarded-proto",
            "x-forwarded-host",
            "x-forwarded-port",
            "x-forwarded-for",
        },
        trusted_proxy_count=1,
    )
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    server.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
