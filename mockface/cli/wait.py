"""``mockface wait``: wait until a server is healthy."""
from __future__ import annotations

import time
from pathlib import Path

import click

from ..core.shell import server_url
from .ready import read_ready_file


@click.command(short_help="Wait until a server is healthy; print its URL.")
@click.argument("url", required=False)
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Instead of URL: wait for a server started with --ready-file PATH and "
                   "take its URL from that file.")
@click.option("--pid", type=int, help="With --ready-file: fail at once when this process "
                                      "(the server) exits before it is ready.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait before giving up.")
@click.option("--cacert", type=click.Path(dir_okay=False, exists=True), metavar="PATH",
              help="The CA to trust for an https URL (a --ready-file names its own).")
def wait(url: str | None, ready_file: str | None, pid: int | None, timeout: float,
         cacert: str | None) -> None:
    """Wait until a server answers health 200, then print its URL on stdout (exit 0); exit 1
    after --timeout. Give the URL (or host:port), or --ready-file."""
    from ..client import AdminClient

    deadline = time.monotonic() + timeout
    if url is not None and ready_file is None:
        url = server_url(url)
    elif ready_file is not None and url is None:
        document = read_ready_file(Path(ready_file), pid, deadline)
        url, cacert = server_url(document["url"]), cacert or document["ca_cert"]
    else:
        raise click.UsageError("give either URL or --ready-file")
    try:
        AdminClient(url, timeout=min(max(timeout, 0.5), 5.0),
                    cafile=cacert).wait_until_healthy(
            max(deadline - time.monotonic(), 0))
    except TimeoutError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"mockface at {url} is healthy", err=True)
    click.echo(url)
