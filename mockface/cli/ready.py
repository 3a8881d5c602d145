"""The ready file: what ``serve --ready-file`` writes and ``wait`` and ``env`` read."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from ..core.config import DEFAULT_SECRET_KEY, Settings
from .common import CliError, write_atomically


def write_ready_file(path: Path, settings: Settings, url: str, port: int,
                     admin_token: str | None, ca_cert: Path | None = None) -> None:
    """Write the ready file atomically (readers never see half of it), mode 0600 (it holds
    the admin token)."""
    app = settings.default_app
    secret_id, secret_key = app.first_secret
    document = {"url": url, "port": port, "appid": app.appid, "secret_id": secret_id,
                "secret_key": secret_key if secret_key == DEFAULT_SECRET_KEY else None,
                "admin_token": admin_token, "ca_cert": str(ca_cert) if ca_cert else None}
    try:
        write_atomically(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as error:
        raise CliError(f"cannot write --ready-file {path}: {error.strerror or error}"
                           ) from None


def read_ready_file(path: Path, pid: int | None, deadline: float) -> dict[str, Any]:
    """What a server's --ready-file holds, once it is there: a dict with str ``url`` and
    ``ca_cert`` / ``admin_token`` (str or None).  ClickException at ``deadline`` saying
    whether the file is missing, unreadable or not a ready file, or as soon as the server
    process ``pid`` is gone."""
    while True:
        try:
            return _ready_document(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problem = f"no server wrote {path} in time"
        except OSError as error:
            problem = f"cannot read {path}: {error.strerror or error}"
        except ValueError:  # UnicodeDecodeError is one
            problem = f"{path} is not the ready file of a mockface server"
        if pid is not None and not _alive(pid):
            raise click.ClickException(f"the server (pid {pid}) exited before writing {path}")
        if time.monotonic() >= deadline:
            raise click.ClickException(problem)
        time.sleep(0.05)  # polling interval


def _ready_document(text: str) -> dict[str, Any]:
    """A ready file's JSON with the fields its readers use checked; ValueError otherwise."""
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("url"), str):
        raise ValueError("not a ready file")
    for key in ("ca_cert", "admin_token"):
        if not isinstance(document.setdefault(key, None), (str, type(None))):
            raise ValueError("not a ready file")
    return document


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
