"""A tiny timestamping TCP proxy: the benchmark's view of when a client's requests hit the wire.

The suite is pointed at the proxy instead of the LMS (its profile's ``base_url`` is rewritten);
the proxy forwards bytes both ways unchanged and records, per client-to-server chunk that starts
an HTTP request line, the monotonic time it arrived, plus the time of the last server-to-client
byte. ``time.monotonic`` is CLOCK_MONOTONIC, so the times compare with the benchmark's own clock
(the proxy runs in the benchmark process).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ", b"OPTIONS ", b"PATCH ")


@dataclass
class Timeline:
    """What the proxy saw since the last ``reset``."""

    requests: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, request line)
    connections: int = 0
    last_response_byte: float | None = None

    @property
    def first_request(self) -> float | None:
        return self.requests[0][0] if self.requests else None


class TimingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self.timeline = Timeline()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.timeline = Timeline()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=30)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.timeline.connections += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                now = time.monotonic()
                if not data:
                    break
                if upstream and data.startswith(METHODS):
                    line = data.split(b"\r\n", 1)[0].decode("latin-1")
                    with self._lock:
                        self.timeline.requests.append((now, line))
                sink.sendall(data)
                if not upstream:
                    with self._lock:
                        self.timeline.last_response_byte = time.monotonic()
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def timing_proxy(upstream_url: str) -> Iterator[TimingProxy]:
    host_port = upstream_url.split("://", 1)[1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    proxy = TimingProxy(host, int(port))
    try:
        yield proxy
    finally:
        proxy.close()
