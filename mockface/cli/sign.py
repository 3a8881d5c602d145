"""``mockface sign`` and ``mockface codes``: signatures and error codes for clients that
call the emulator without a Tencent SDK."""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

from ..core.config import LEGACY_ENDPOINTS, Settings
from ..products.legacy.errors import CATALOGUE, ErrorCode, codes_for
from ..products.legacy.signature import LAYOUTS, sign, time_problem
from .common import server_url, settings_for

if TYPE_CHECKING:
    from ..products.tc3.catalogue import FaceIdCode


@click.command("sign", short_help="Print a signature (legacy) or signed headers (API 3.0).")
@click.option("--api", type=click.Choice(("legacy", "faceid", "iai")), default="legacy",
              show_default=True, help="legacy: an Authorization value for /face/*; faceid or "
                                      "iai: the TC3-HMAC-SHA256 headers of one API 3.0 call.")
@click.option("--action", help="API 3.0: the action, e.g. GetLiveCode.")
@click.option("--body", default="{}", show_default=True,
              help="API 3.0: the exact JSON body that will be sent.")
@click.option("--version", "api_version", help="API 3.0: X-TC-Version [default: 2018-03-01 "
                                               "for faceid, 2020-03-03 for iai].")
@click.option("--url", "server", default="http://127.0.0.1:8080", show_default=True,
              help="API 3.0: the server the request goes to (its host:port is signed).")
@click.option("--curl", "as_curl", is_flag=True,
              help="API 3.0: print a complete curl command instead of the headers.")
@click.option("--appid", help="Appid to sign for [default: the configured first app].")
@click.option("--secret-id", help="Secret id [default: the app's first secret id].")
@click.option("--secret-key", help="Secret key [default: the key of --secret-id].")
@click.option("--config", type=click.Path(dir_okay=False), help="Take defaults from this file.")
@click.option("--expires-in", default=3600, show_default=True, type=click.IntRange(1),
              help="Lifetime of a multi-use signature, in seconds.")
@click.option("--once", is_flag=True, help="A once-signature (e=0); needs --fileid.")
@click.option("--fileid", default="", help="File id (f) to bind.")
@click.option("--bucket", default="", help="Bucket (b) to sign.")
@click.option("--now", type=int, help="Issue time t as a Unix timestamp [default: now].")
@click.option("--layout", type=click.Choice(LAYOUTS), default="seed", show_default=True,
              help="Plaintext layout of a real client: seed/PHP/Python, Java/C++ or Node.")
def sign_command(api: str, action: str | None, body: str, api_version: str | None,
                 server: str, as_curl: bool, appid: str | None, secret_id: str | None,
                 secret_key: str | None, config: str | None, expires_in: int, once: bool,
                 fileid: str, bucket: str, now: int | None, layout: str) -> None:
    """Print an Authorization header value for the legacy API, or with --api faceid/iai the
    headers of one TC3-signed API 3.0 call (--action, --body), for curl and other clients
    without a Tencent SDK."""
    if api != "legacy":
        _sign_api3(api, action, body, api_version, server_url(server), as_curl,
                   settings_for(config), appid, secret_id, secret_key, now)
        return
    if once and not fileid:
        raise click.UsageError("--once needs --fileid")
    settings = settings_for(config)
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


def _sign_api3(product: str, action: str | None, body: str, version: str | None, url: str,
               as_curl: bool, settings: Settings, appid: str | None, secret_id: str | None,
               secret_key: str | None, now: int | None) -> None:
    """Print the TC3 headers (or a curl command) of one API 3.0 call."""
    from urllib.parse import urlsplit

    from ..core.shell import curl
    from ..products.tc3.request import current_version
    from ..products.tc3.signature import sign_tc3

    if not action:
        raise click.UsageError("--api faceid/iai needs --action (e.g. GetLiveCode)")
    app = settings.keyring.app(appid) if appid else settings.default_app
    if app is None and (secret_id is None or secret_key is None):
        raise click.UsageError(f"no app {appid!r} is configured: give --secret-id and "
                               "--secret-key")
    secrets = dict(app.secrets) if app else {}
    secret_id = secret_id or next(iter(secrets))
    secret_key = secret_key or secrets.get(secret_id)
    if secret_key is None:
        raise click.UsageError(f"no key known for secret id {secret_id!r}: give --secret-key")
    headers = sign_tc3(secret_id, secret_key, service=product, host=urlsplit(url).netloc,
                       action=action, timestamp=int(time.time()) if now is None else now,
                       body=body.encode("utf-8"),
                       version=version or current_version(product))
    if as_curl:
        click.echo(curl(f"{url}/", headers, body))
        return
    for name, value in headers.items():
        click.echo(f"{name}: {value}")
    click.echo(f"(send exactly this body to {url}/ within 5 minutes; the Host header "
               f"must be {urlsplit(url).netloc})", err=True)


@click.command(short_help="List the documented error codes.")
@click.option("--api", type=click.Choice(("legacy", "faceid")), default="legacy",
              show_default=True, help="legacy: the /face/* codes; faceid: the API 3.0 "
                                      "Error.Code and Result names.")
@click.option("--endpoint", type=click.Choice(LEGACY_ENDPOINTS),
              help="Only codes documented for this legacy endpoint.")
@click.option("--action", help="Only the names this API 3.0 action answers (--api faceid).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def codes(api: str, endpoint: str | None, action: str | None, as_json: bool) -> None:
    """List the documented error codes with message, HTTP status and meaning (legacy), or
    the API 3.0 names with their English message and Chinese meaning (faceid)."""
    if api == "faceid":
        if endpoint:
            raise click.UsageError("--endpoint is for --api legacy")
        from ..products.tc3.actions import ACTIONS
        from ..products.tc3.catalogue import CATALOGUE as FACEID
        from ..products.tc3.catalogue import codes_for as faceid_codes_for

        known = sorted({name for _, name in ACTIONS})
        if action is not None and action not in known:
            raise click.BadParameter(f"{action!r} is not one of: {', '.join(known)}",
                                     param_hint="--action")
        entries: list[FaceIdCode] | list[ErrorCode]
        entries = [FACEID[name] for name in faceid_codes_for(action)]
        line = "{0.name:<48} {0.en}  {0.zh}"
    else:
        if action:
            raise click.UsageError("--action is for --api faceid")
        entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
        line = "{0.code:>6}  {0.http_status}  {0.message:<34} {0.meaning}"
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False,
                              indent=2))
        return
    for entry in entries:
        click.echo(line.format(entry))
