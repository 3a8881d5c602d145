"""The production WSGI server behind ``mockface serve`` and the in-process test server.

One process (so once-signatures, lip codes and counters stay consistent), many threads (so a
slow request never starves fast ones).  The choice of server lives only here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from waitress.server import create_server as _waitress_server

from .config import MAX_BODY_BYTES

DEFAULT_THREADS = 64


def create_server(app, host: str = "127.0.0.1", port: int = 8080,
                  threads: int = DEFAULT_THREADS):
    """A bound, not yet running server for ``app``; its ``.port`` is the real port (also for 0)."""
    server = _waitress_server(
        app, host=host, port=port, threads=threads, connection_limit=1000,
        recv_bytes=262_144, inbuf_overflow=2 * MAX_BODY_BYTES, ident="mockface",
        channel_timeout=120, clear_untrusted_proxy_headers=True)
    server.port = getattr(server, "effective_port", port)
    server.host = getattr(server, "effective_host", host)
    return server


@dataclass
class BackgroundServer:
    """A server running in a daemon thread; ``stop()`` closes it and waits for the thread."""

    server: object
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def stop(self) -> None:
        self.server.close()
        self.thread.join(timeout=10)


def start_background(app, host: str = "127.0.0.1", port: int = 0,
                     threads: int = DEFAULT_THREADS) -> BackgroundServer:
    """Start ``app`` on a free loopback port (by default) in a background thread."""
    server = create_server(app, host, port, threads)
    thread = threading.Thread(target=server.run, name=f"mockface-{server.port}", daemon=True)
    thread.start()
    return BackgroundServer(server, thread)
