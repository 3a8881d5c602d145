"""Commands to paste into a shell."""
from __future__ import annotations

import shlex
from collections.abc import Mapping


def curl(url: str, headers: Mapping[str, str], body: str) -> str:
    """A curl command that POSTs ``body`` with ``headers`` (Host is left to curl),
    quoted for a POSIX shell."""
    parts = ["curl", "-sS", url] + [item for name, value in headers.items() if name != "Host"
                                    for item in ("-H", f"{name}: {value}")]
    return " ".join(shlex.quote(part) for part in parts + ["--data-raw", body])
