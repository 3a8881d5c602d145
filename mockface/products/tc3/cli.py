"""API 3.0's part of ``mockface sign`` (the TC3-HMAC-SHA256 headers of one call, or a curl
command), ``mockface codes`` (the Error.Code and Result names; of one action also its own
Result codes, each charged or free) and ``mockface coverage``
(the installed Tencent SDK's actions against the served ones)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import click

from ...core.config import Settings
from ...core.product import CliApi
from ...core.shell import curl, server_url
from .catalogue import Tc3Code
from .coverage import coverage, distribution, installed_version
from .provider import REMOVED_NOTE
from .signature import sign_tc3
from .table import ActionTable, ResultCode

_SIGN_OPTIONS = (
    click.Option(["--action"], help="API 3.0: the action, e.g. GetLiveCode."),
    click.Option(["--body"], default="{}", show_default=True,
                 help="API 3.0: the exact JSON body that will be sent."),
    click.Option(["--version", "api_version"], help="API 3.0: X-TC-Version [default: the "
                                                   "service's newest: 2018-03-01 for faceid, "
                                                   "2020-03-03 for iai]."),
    click.Option(["--url", "server"], default="http://127.0.0.1:8080", show_default=True,
                 help="API 3.0: the server the request goes to (its host:port is signed)."),
    click.Option(["--curl", "as_curl"], is_flag=True,
                 help="API 3.0: print a complete curl command instead of the headers."),
)
_CODES_OPTIONS = (
    click.Option(["--action"], help="Only the names this API 3.0 action answers, then its "
                                    "own Result codes, each charged or free (--api faceid)."),
)


def sign_runner(current_version: Callable[[str], str]) -> Callable[..., None]:
    """``mockface sign --api SERVICE``: print the TC3 headers (or a curl command) of one
    call; ``current_version(service)`` gives the default X-TC-Version."""
    def run(api: str, settings: Settings, appid: str | None, secret_id: str | None,
            secret_key: str | None, now: int | None, action: str | None, body: str,
            api_version: str | None, server: str, as_curl: bool) -> None:
        if not action:
            raise click.UsageError("--api faceid/iai needs --action (e.g. GetLiveCode)")
        url = server_url(server)
        app = settings.keyring.app(appid) if appid else settings.default_app
        if app is None and (secret_id is None or secret_key is None):
            raise click.UsageError(f"no app {appid!r} is configured: give --secret-id and "
                                   "--secret-key")
        secrets = dict(app.secrets) if app else {}
        secret_id = secret_id or next(iter(secrets))
        secret_key = secret_key or secrets.get(secret_id)
        if secret_key is None:
            raise click.UsageError(f"no key known for secret id {secret_id!r}: give "
                                   "--secret-key")
        headers = sign_tc3(secret_id, secret_key, service=api, host=urlsplit(url).netloc,
                           action=action, timestamp=int(time.time()) if now is None else now,
                           body=body.encode("utf-8"),
                           version=api_version or current_version(api))
        if as_curl:
            click.echo(curl(f"{url}/", headers, body))
            return
        for name, value in headers.items():
            click.echo(f"{name}: {value}")
        click.echo(f"(send exactly this body to {url}/ within 5 minutes; the Host header "
                   f"must be {urlsplit(url).netloc})", err=True)
    return run


def codes_runner(actions: Callable[[], list[str]],
                 codes_for: Callable[[str | None], tuple[str, ...]],
                 catalogue: Mapping[str, Tc3Code],
                 removals: Mapping[str, str] | None = None,
                 result_codes: Callable[[str], tuple[ResultCode, ...]] | None = None
                 ) -> Callable[..., None]:
    """``mockface codes --api faceid``: the API 3.0 names (of one action) with their
    English message and Chinese meaning; ``actions()`` lists the action names,
    ``codes_for(target)`` the names a ``service:Action`` (or every action) answers,
    ``catalogue`` the product's codes, ``removals`` (``service:Action`` -> why) the actions
    gone from Tencent's current SDKs, ``result_codes(target)`` an action's own Result table.
    Of such an action the list of actions (an unknown ``--action``'s error) and its own
    codes say "removed from current SDKs: <reason>" (on stderr with ``--json``, which
    prints only the JSON).  With ``--action`` of an action with its own Result table, the
    names are followed by the block "Result codes of ACTION:" (a line per code: the code,
    "charged", "free" or "not documented", its Description), in ``--json`` by one entry
    per code: ``{"kind": "result", "result": "-4", "description": ..., "charged": true}``
    after the error entries, which keep their shape."""
    def run(api: str, as_json: bool, action: str | None) -> None:
        known = actions()
        notes = removal_notes(api, known, removals or {})
        if action is not None and action not in known:
            listed = ", ".join(f"{name} ({notes[name]})" if name in notes else name
                               for name in known)
            raise click.BadParameter(f"{action!r} is not one of: {listed}",
                                     param_hint="--action")
        entries = [catalogue[name] for name in codes_for(f"{api}:{action}" if action else None)]
        results = result_codes(f"{api}:{action}") if action and result_codes else ()
        if action in notes:
            click.echo(f"{action}: {notes[action]}", err=as_json)
        if as_json:
            click.echo(json.dumps([entry.as_dict() for entry in entries] +
                                  [row.as_dict() for row in results], ensure_ascii=False,
                                  indent=2))
            return
        for entry in entries:
            click.echo(f"{entry.name:<48} {entry.en}  {entry.zh}")
        if results:
            click.echo(f"Result codes of {action}:")
            click.echo("\n".join(result_lines(results)))
    return run


def result_lines(results: tuple[ResultCode, ...]) -> list[str]:
    """One line per Result code: indented, the code and its charged flag in aligned
    columns, then its Description ("  -4    charged  信息不一致")."""
    width = max(len(row.result) for row in results)
    label = max(len(row.charge_label) for row in results)
    return [f"  {row.result:<{width}}  {row.charge_label:<{label}}  {row.description}"
            for row in results]


def removal_notes(api: str, names: list[str], removals: Mapping[str, str]) -> dict[str, str]:
    """Action name -> "removed from current SDKs: <reason>" for the ``names`` that
    ``removals`` (``service:Action`` -> why) has: ``api``'s own action of that name first,
    else another service's (its name said: "iai: removed ...")."""
    notes: dict[str, str] = {}
    for name in names:
        own = removals.get(f"{api}:{name}")
        if own is not None:
            notes[name] = f"{REMOVED_NOTE}: {own}"
            continue
        other = next((target for target in removals
                      if target.partition(":")[2] == name), None)
        if other is not None:
            notes[name] = f"{other.partition(':')[0]}: {REMOVED_NOTE}: {removals[other]}"
    return notes


def coverage_runner(table: ActionTable) -> Callable[..., None]:
    """``mockface coverage --api SERVICE``: appends to ``rows`` one row per action of the
    installed SDK's versions of SERVICE and of the served ones (``coverage.ActionCoverage
    .as_dict(details)``) and to ``notes`` the SDK package it read; SdkMissing (a
    ModuleNotFoundError) when that SDK is not installed."""
    def run(api: str, rows: list[dict[str, Any]], notes: list[str], details: bool) -> None:
        rows.extend(entry.as_dict(details) for entry in coverage(table, api))
        notes.append(f"{api}: {distribution(api)} {installed_version(api) or '(version unknown)'}")
    return run


def cli_apis(services: tuple[str, ...], current_version: Callable[[str], str],
             actions: Callable[[], list[str]],
             codes_for: Callable[[str | None], tuple[str, ...]],
             catalogue: Mapping[str, Tc3Code],
             table: ActionTable | None = None) -> tuple[CliApi, ...]:
    """The API 3.0 parts of the shared commands for ``services``; given the providers'
    ``table``, ``mockface codes`` also names the actions gone from the current SDKs and
    shows an action's own Result codes with their charged flags, and ``mockface coverage``
    is offered."""
    names = "/".join(services)
    either = " or ".join(services)
    parts = [
        CliApi("sign", services, f"{either}: the TC3-HMAC-SHA256 headers of one API 3.0 call",
               _SIGN_OPTIONS, sign_runner(current_version)),
        CliApi("codes", ("faceid",), f"faceid: the API 3.0 Error.Code and Result names "
                                     f"({names})", _CODES_OPTIONS,
               codes_runner(actions, codes_for, catalogue,
                            table.removals if table is not None else None,
                            table.result_codes if table is not None else None)),
    ]
    if table is not None:
        parts.append(CliApi("coverage", services, f"{either}: the installed Tencent SDK's "
                                                  "actions against the served ones", (),
                            coverage_runner(table)))
    return tuple(parts)
