"""The legacy API's part of ``mockface sign`` (an Authorization value for ``/face/*``) and
``mockface codes`` (the ``/face/*`` codes)."""
from __future__ import annotations

import json
import time

import click

from ...core.config import Settings
from ...core.product import CliApi
from .errors import CATALOGUE, ENDPOINTS, codes_for
from .signature import LAYOUTS, sign, time_problem

_SIGN_OPTIONS = (
    click.Option(["--expires-in"], default=3600, show_default=True, type=click.IntRange(1),
                 help="Lifetime of a multi-use signature, in seconds."),
    click.Option(["--once"], is_flag=True, help="A once-signature (e=0); needs --fileid."),
    click.Option(["--fileid"], default="", help="File id (f) to bind."),
    click.Option(["--bucket"], default="", help="Bucket (b) to sign."),
    click.Option(["--layout"], type=click.Choice(LAYOUTS), default="seed", show_default=True,
                 help="Plaintext layout of a real client: seed/PHP/Python, Java/C++ or Node."),
)
_CODES_OPTIONS = (
    click.Option(["--endpoint"], type=click.Choice(ENDPOINTS),
                 help="Only codes documented for this legacy endpoint."),
)


def run_sign(api: str, settings: Settings, appid: str | None, secret_id: str | None,
             secret_key: str | None, now: int | None, expires_in: int, once: bool,
             fileid: str, bucket: str, layout: str) -> None:
    """Print an Authorization value for the legacy API (and a warning on stderr when a
    server on the real clock would refuse it)."""
    if once and not fileid:
        raise click.UsageError("--once needs --fileid")
    app = settings.keyring.app(appid) if appid else settings.default_app
    secrets = dict(app.secrets) if app else {}
    if secret_id is None:
        secret_id = next(iter(secrets), None)
    if secret_key is None:
        secret_key = secrets.get(secret_id or "")
    if not appid:
        appid = settings.default_app.appid
    if secret_id is None or secret_key is None:
        raise click.UsageError("no secret id/key known for this appid: give --secret-id and "
                               "--secret-key")
    issued = int(time.time()) if now is None else now
    click.echo(sign(appid, secret_id, secret_key, now=issued, expires_in=expires_in, once=once,
                    fileid=fileid, bucket=bucket, layout=layout))
    problem = time_problem(issued, 0 if once else issued + expires_in, time.time(),
                           settings.clock_skew)
    if problem is not None:
        code, reason = problem
        click.echo(f"warning: a server on the real clock refuses this signature with code "
                   f"{code}: {reason}", err=True)


def run_codes(api: str, as_json: bool, endpoint: str | None) -> None:
    """List the legacy codes (of one endpoint) with message, HTTP status and meaning."""
    entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False,
                              indent=2))
        return
    for entry in entries:
        click.echo(f"{entry.code:>6}  {entry.http_status}  {entry.message:<34} {entry.meaning}")


CLI_APIS = (
    CliApi("sign", ("legacy",), "legacy: an Authorization value for /face/*", _SIGN_OPTIONS,
           run_sign),
    CliApi("codes", ("legacy",), "legacy: the /face/* codes", _CODES_OPTIONS, run_codes),
)
