"""Proxy mode and TLS: how unmodified clients reach mockface.

- ``CONNECT <emulated host>:443`` on the normal port: mockface answers 200, terminates TLS
  inside the tunnel with a certificate from its local CA, and relays the decrypted bytes to
  its own plain listener, where they are served like any request.  Any other target is
  refused with a JSON 403 that names the emulated hosts.  Absolute-form requests
  (``POST http://<host>/...``) are filtered in the app (``app.py``).
- ``--tls``: the public port speaks TLS only; each connection is decrypted and relayed to an
  internal plain listener on loopback.

Nothing here opens a connection anywhere but to mockface's own listener.
"""
from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
from collections.abc import Callable

from ..core.hosts import EMULATED_HOSTS, host_name, is_emulated

log = logging.getLogger("mockface.proxy")
MAX_CONNECT_HEAD = 8192
IDLE_SECONDS = 120.0
HANDSHAKE_SECONDS = 10.0
TUNNEL_PORT = 443
#: Tunnels and --tls connections served at once (each holds a thread); more are refused.
MAX_RELAYS = 256


def refusal(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer with a JSON ``{"error": ...}`` body; the connection closes."""
    body = json.dumps({"error": message, "emulated_hosts": list(EMULATED_HOSTS)}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def refused_host_message(target: str) -> str:
    return (f"mockface does not proxy {target[:100]!r}: it answers only for "
            f"{', '.join(EMULATED_HOSTS)} (and never connects anywhere else)")


def send_and_close(sock: socket.socket, answer: bytes) -> None:
    """Send a whole answer on a socket taken from the server (5 s at most), then close it."""
    try:
        sock.setblocking(True)
        sock.settimeout(5)
        sock.sendall(answer)
    except OSError:
        pass
    sock.close()


def proxy_environment(url: str, bundle: str, ca_cert: str) -> dict[str, str]:
    """The environment that sends unmodified clients to the server at ``url`` as their
    proxy: ``HTTP(S)_PROXY`` in both cases, ``NO_PROXY`` for loopback (the server itself),
    the CA ``bundle`` (system CAs plus mockface's) for requests, OpenSSL and curl, and the
    CA certificate alone for Node, which adds it to its own store."""
    loopback = "localhost,127.0.0.1,::1"
    return {"HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
            "NO_PROXY": loopback, "no_proxy": loopback, "REQUESTS_CA_BUNDLE": bundle,
            "SSL_CERT_FILE": bundle, "CURL_CA_BUNDLE": bundle, "NODE_EXTRA_CA_CERTS": ca_cert}


def parse_connect(head: bytes) -> tuple[str, int] | str:
    """``(host, port)`` of a CONNECT request head, or why it is malformed."""
    first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first_line.split()
    if len(parts) != 3 or parts[0].upper() != "CONNECT" or not parts[2].startswith("HTTP/"):
        return "malformed CONNECT line"
    authority = parts[1]
    host = host_name(authority)
    port_text = authority.rsplit(":", 1)[1] if authority.count(":") == 1 or \
        authority.startswith("[") and "]:" in authority else ""
    if not port_text.isdigit():
        return f"CONNECT needs host:port, got {authority[:100]!r}"
    return host, int(port_text)


class Relay:
    """Decrypts client connections and relays them to the plain listener at ``backend``."""

    def __init__(self, context: Callable[[], ssl.SSLContext],
                 backend: Callable[[], tuple[str, int]], slots: int = MAX_RELAYS) -> None:
        self._context = context
        self._backend = backend
        self._slots = threading.BoundedSemaphore(slots)

    def tunnel(self, sock: socket.socket, host: str) -> None:
        """Serve one accepted CONNECT: 200, TLS as ``host``, relay, in its own thread (a
        503 JSON answer when MAX_RELAYS are busy); closes the socket when done."""
        if not self._slots.acquire(blocking=False):
            send_and_close(sock, refusal(503, "Service Unavailable", "too many open tunnels"))
            return
        threading.Thread(target=self._tunnel, args=(sock, host), daemon=True,
                         name=f"mockface-tunnel-{host}").start()

    def _tunnel(self, sock: socket.socket, host: str) -> None:
        try:
            sock.setblocking(True)
            sock.settimeout(HANDSHAKE_SECONDS)
            try:
                context = self._context()
            except Exception as error:  # the CA cannot be used (CAError): say so, once
                log.error("CONNECT %s refused: %s", host, error)
                send_and_close(sock, refusal(502, "Bad Gateway", f"mockface cannot make a "
                                                                 f"TLS certificate: {error}"))
                return
            sock.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            self._serve_tls(sock, context)
        except OSError as error:
            log.debug("tunnel to %s ended: %s", host, error)
            sock.close()
        except Exception as error:  # a bug: still release the connection
            log.error("tunnel to %s closed after an error: %r", host, error)
            sock.close()
        finally:
            self._slots.release()

    def serve_tls(self, sock: socket.socket) -> None:
        """Serve one --tls connection: TLS handshake (server side), then relay; closes the
        socket at once when MAX_RELAYS are busy."""
        if not self._slots.acquire(blocking=False):
            sock.close()
            return
        try:
            self._serve_tls(sock, self._context())
        except Exception as error:  # the CA cannot be used (CAError), or a bug: release it
            log.error("--tls connection closed: %s", error)
            sock.close()
        finally:
            self._slots.release()

    def _serve_tls(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        try:
            sock.settimeout(HANDSHAKE_SECONDS)
            secure = context.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError) as error:
            log.debug("TLS handshake failed: %s", error)
            sock.close()
            return
        relay(secure, self._backend())


def relay(client: socket.socket, backend: tuple[str, int], idle: float = IDLE_SECONDS) -> None:
    """Copy bytes both ways between ``client`` and a new connection to ``backend`` until
    either side closes or nothing moves for ``idle`` seconds; closes both."""
    try:
        upstream = socket.create_connection(backend, timeout=HANDSHAKE_SECONDS)
    except OSError as error:
        log.warning("cannot reach mockface's own listener %s: %s", backend, error)
        client.close()
        return
    try:
        for sock in (client, upstream):  # relayed answers are small: no Nagle delay
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.settimeout(idle)
        upstream.settimeout(idle)
        while True:
            pending = isinstance(client, ssl.SSLSocket) and client.pending() > 0
            readable = [client] if pending else \
                select.select([client, upstream], [], [], idle)[0]
            if not readable:
                return
            for source in readable:
                target = upstream if source is client else client
                try:
                    data = source.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    return
                target.sendall(data)
    except (OSError, ssl.SSLError) as error:
        log.debug("relay ended: %s", error)
    finally:
        for sock in (client, upstream):
            try:
                sock.close()
            except OSError:
                pass


def handle_connect(head: bytes, leftover: bytes, send: Callable[[bytes], None],
                   detach: Callable[[], socket.socket], relay_: Relay | None) -> None:
    """Answer a CONNECT request whose head (through the blank line) is ``head``: tunnel an
    emulated host on port 443, refuse anything else with a JSON answer (``send``, then the
    channel closes).  ``detach`` takes the socket away from the HTTP server."""
    target = parse_connect(head)
    if isinstance(target, str):
        send(refusal(400, "Bad Request", target))
        return
    host, port = target
    if not is_emulated(host) or port != TUNNEL_PORT:
        send(refusal(403, "Forbidden", refused_host_message(f"{host}:{port}")))
        return
    if leftover:
        send(refusal(400, "Bad Request", "data sent before the tunnel was established"))
        return
    if relay_ is None:
        send(refusal(502, "Bad Gateway", "this server cannot terminate TLS"))
        return
    relay_.tunnel(detach(), host)


class TlsFront:
    """``--tls``: accepts on the public socket, decrypts, relays to the plain listener."""

    def __init__(self, listener: socket.socket, relay_: Relay) -> None:
        self.listener = listener
        self.relay = relay_
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True, name="mockface-tls")

    def start(self) -> TlsFront:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            threading.Thread(target=self.relay.serve_tls, args=(sock,), daemon=True,
                             name="mockface-tls-connection").start()
