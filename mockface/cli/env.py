"""``mockface env``: the environment that sends unmodified clients through a running
server, with a CA bundle that trusts it."""
from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..client import TOKEN_ENV
from ..core.shell import server_url
from .common import CliError
from .ready import read_ready_file

if TYPE_CHECKING:
    from ..client import AdminClient


@click.command("env", short_help="Print the environment that points clients at a server.")
@click.option("--url", "server", default="http://127.0.0.1:8080", show_default=True,
              help="The running server (host:port or URL).")
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Take the URL (and the admin token and, for --tls, the CA to trust) from "
                   "a server's --ready-file instead.")
@click.option("--ca-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the bundle goes when --bundle is not given [default: "
                   "$MOCKFACE_CA_DIR, else the per-user data directory].")
@click.option("--bundle", metavar="PATH", type=click.Path(dir_okay=False),
              help="Where to write the CA bundle [default: "
                   "mockface-bundle-<CA digest>.pem in the --ca-dir directory].")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for a server that is still starting (or its ready file).")
def env_command(server: str, ready_file: str | None, ca_dir: str | None,
                bundle: str | None, timeout: float) -> None:
    """Print shell exports that make unmodified clients reach the emulated Tencent hosts
    through the server: eval "$(mockface env)". The CA bundle holds the system's CAs and
    the server's own CA, asked from the server (GET /__mockface/ca, with the admin token of
    its --ready-file or $MOCKFACE_ADMIN_TOKEN), so it fits a server on another --ca-dir,
    user, host or container. Exit 2 when the server cannot give its CA."""
    from ..client import AdminClient, write_proxy_environment

    deadline = time.monotonic() + timeout
    url, token, cafile = server_url(server), os.environ.get(TOKEN_ENV) or None, None
    if ready_file is not None:
        document = read_ready_file(Path(ready_file), None, deadline)
        url, token = server_url(document["url"]), document["admin_token"] or token
        named = document["ca_cert"]  # a path on the server's side: maybe not on this one
        cafile = named if named and Path(named).is_file() else None
    admin = AdminClient(url, token, timeout=min(max(timeout, 0.5), 5.0),
                        cafile=cafile or _local_ca_cert(url, ca_dir))
    pem = _server_ca(admin, deadline)
    try:
        target = Path(bundle) if bundle else _default_bundle(ca_dir, pem)
        environment = write_proxy_environment(url, pem, target)
    except OSError as error:
        raise CliError(f"cannot write the CA bundle: {error.strerror or error}") from None
    for name, value in environment.items():
        click.echo(f"export {name}={shlex.quote(value)}")


def _server_ca(admin: AdminClient, deadline: float) -> bytes:
    """The CA certificate (PEM) of the server ``admin`` calls, asked again until
    ``deadline`` while nothing answers (it may be starting); CliError saying why not."""
    from ..client import ServerCAError, ServerUnreachable

    while True:
        try:
            return admin.ca_pem()
        except ServerUnreachable as error:
            if time.monotonic() >= deadline:
                raise CliError(str(error)) from None
        except ServerCAError as error:
            raise CliError(str(error)) from None
        time.sleep(0.05)  # polling interval


def _local_ca_cert(url: str, ca_dir: str | None) -> str | None:
    """For an https URL, this side's CA certificate when it has one (a --tls server on the
    same CA directory is verified with it); None otherwise (plain HTTP needs none)."""
    if not url.startswith("https://"):
        return None
    from ..web.tls import CA_CERT, default_ca_dir

    cert = (Path(ca_dir) if ca_dir else default_ca_dir()) / CA_CERT
    return str(cert) if cert.is_file() else None


def _default_bundle(ca_dir: str | None, pem: bytes) -> Path:
    """Where ``mockface env`` writes the bundle for the CA ``pem`` without --bundle: one file
    per CA (named by its digest), so servers with different CAs never share one."""
    import hashlib

    from ..web.tls import default_ca_dir

    directory = Path(ca_dir) if ca_dir else default_ca_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / f"mockface-bundle-{hashlib.sha256(pem).hexdigest()[:12]}.pem"
