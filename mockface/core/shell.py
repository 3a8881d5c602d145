"""Commands to paste into a shell, and the server URLs commands take."""
from __future__ import annotations

import shlex
from collections.abc import Mapping

import click


def curl(url: str, headers: Mapping[str, str], body: str) -> str:
    """A curl command that POSTs ``body`` with ``headers`` (Host is left to curl),
    quoted for a POSIX shell."""
    parts = ["curl", "-sS", url] + [item for name, value in headers.items() if name != "Host"
                                    for item in ("-H", f"{name}: {value}")]
    return " ".join(shlex.quote(part) for part in parts + ["--data-raw", body])


def server_url(text: str) -> str:
    """``text`` as a server's base URL: ``http(s)://host[:port][/]``, or ``host:port`` (taken
    as http); click.BadParameter (exit 2 at once) for anything else."""
    from urllib.parse import urlsplit

    candidate = text if "://" in text else f"http://{text}"
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a URL: {error}", param_hint="URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise click.BadParameter(f"{text!r} is not a server URL like http://127.0.0.1:8080 "
                                 "or 127.0.0.1:8080", param_hint="URL")
    return candidate.rstrip("/")
