"""``mockface coverage``: the actions of the installed Tencent Cloud SDK against what mockface
serves (contract-faceid-flows §7).

Each product that can compare itself with an SDK adds a ``coverage`` part
(``core.product.CliApi``) naming its ``--api`` values; its ``run(api=, rows=, notes=,
details=)`` appends one row per action (``{"product", "version", "action", "status"}``, with
``details`` what else it found: ``reason``, ``missing_params``, ``extra_params``,
``type_mismatches``, ``response_fields``) and a note naming the SDK it read, or raises
ModuleNotFoundError when that SDK is not installed.  This module only runs the parts and
prints their rows.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click

from ..core.product import CliApi
from ..products import REGISTRY

COMMAND = "coverage"
#: Exit status when no SDK of the services asked for is installed.
NO_SDK = 2
#: The members of a row without ``--details``.
KEYS = ("product", "version", "action", "status")
#: The statuses, in the order the summary counts them.
STATUSES = ("served", "deprecated", "removed", "not served")


def _parts() -> list[CliApi]:
    return [api for product in REGISTRY for api in product.cli_apis if api.command == COMMAND]


def _names() -> list[str]:
    return [name for part in _parts() for name in part.names]


def collect(apis: tuple[str, ...], details: bool
            ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(the rows of the services ``apis`` (every one offered when empty), the notes naming
    the SDKs read, what is missing: one message per service whose SDK is not installed)."""
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    missing: list[str] = []
    for part in _parts():
        for name in part.names:
            if apis and name not in apis:
                continue
            try:
                part.run(api=name, rows=rows, notes=notes, details=details)
            except ModuleNotFoundError as error:
                missing.append(f"{name}: {error}")
    return rows, notes, missing


def _note(row: dict[str, Any], details: bool) -> str:
    """What the table says of a row besides its status."""
    parts = []
    if row.get("reason"):
        parts.append(row["reason"])
    if row.get("missing_params"):
        parts.append("lacks the SDK's parameters " + ", ".join(row["missing_params"]))
    if row.get("type_mismatches"):
        parts.append("types differ: " + ", ".join(
            f"{name} ({kinds['declared']}, SDK {kinds['sdk']})"
            for name, kinds in row["type_mismatches"].items()))
    if details and row.get("extra_params"):
        parts.append("not in the SDK's request: " + ", ".join(row["extra_params"]))
    if details and row.get("response_fields"):
        parts.append("answers " + ", ".join(f"{name}: {kind}" for name, kind
                                            in row["response_fields"].items()))
    return "; ".join(parts)


def render_table(rows: list[dict[str, Any]], notes: list[str], details: bool) -> list[str]:
    """The text report: one line per row, a count per product and version, the SDKs read."""
    width = max((len(row["action"]) for row in rows), default=6)
    lines = [f"{'product':<8} {'version':<10}  {'action':<{width}}  {'status':<10}  note"]
    for row in rows:
        line = f"{row['product']:<8} {row['version']:<10}  {row['action']:<{width}}  " \
               f"{row['status']:<10}  {_note(row, details)}"
        lines.append(line.rstrip())
    lines.append("")
    counts: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        counts.setdefault((row["product"], row["version"]), Counter())[row["status"]] += 1
    for (product, version), counter in counts.items():
        lines.append(f"{product} {version}: " + ", ".join(
            f"{counter[status]} {status}" for status in STATUSES))
    lines.extend(f"SDK read: {note}" for note in notes)
    return lines


@click.command(COMMAND, short_help="Compare the served actions with the installed SDK.")
@click.option("--api", "apis", multiple=True, type=click.Choice(_names()),
              help="Only this service (repeatable) [default: every one].")
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON list of {"product", "version", "action", "status"}.')
@click.option("--details", is_flag=True,
              help="Also each action's parameters and answer fields against the SDK's "
                   "models (in the table and in the JSON).")
def coverage_command(apis: tuple[str, ...], as_json: bool, details: bool) -> None:
    """List every action of the installed Tencent Cloud SDK (tencentcloud-sdk-python-faceid,
    -iai) and every action mockface serves, by service and version, with its status:
    served; deprecated (served, deprecated by Tencent); removed (served, gone from the
    installed SDK, with the reason); not served.

    A service whose SDK is not installed is named on stderr; with none installed the
    command exits 2."""
    rows, notes, missing = collect(apis, details=True)
    if not _parts():
        missing.append("no product can compare itself with an SDK")
    for message in missing:
        click.echo(f"mockface coverage: {message}", err=True)
    if not rows and missing:
        click.get_current_context().exit(NO_SDK)
    if as_json:
        listed = rows if details else [{key: row[key] for key in KEYS} for row in rows]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for line in render_table(rows, notes, details):
        click.echo(line)
