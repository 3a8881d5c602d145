"""``mockface sign`` and ``mockface codes``: signatures and error codes for clients that
call the emulator without a Tencent SDK.

Both are shared by the products: each registered product adds ``--api`` values, the options
only it reads and the function that runs the command (``core.product.CliApi``); this module
only puts them together.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from ..core.product import CliApi
from ..products import REGISTRY
from .common import settings_for


def _apis(command: str) -> list[CliApi]:
    return [api for product in REGISTRY for api in product.cli_apis if api.command == command]


def shared_command(name: str, short_help: str, doc: str, shared: list[click.Option],
                   prepare: Callable[[dict[str, Any]], dict[str, Any]],
                   parts: list[CliApi] | None = None) -> click.Command:
    """The command ``name`` over every product's part of it (or over ``parts``): ``--api``
    (the first part's value by default), the ``shared`` options, and each part's own options
    (one of them given with an ``--api`` that does not read it is a usage error).
    ``prepare`` turns the shared options' values into the arguments every part's ``run``
    takes."""
    parts = _apis(name) if parts is None else parts
    by_api = {api_name: part for part in parts for api_name in part.names}
    own: dict[str, click.Option] = {}
    readers: dict[str, list[str]] = {}
    for part in parts:
        for option in part.options:
            own.setdefault(option.name or "", option)
            readers.setdefault(option.name or "", []).extend(part.names)
    api_help = "; ".join(dict.fromkeys(part.help for part in parts)) + "."

    def callback(api: str, **values: Any) -> None:
        context = click.get_current_context()
        part = by_api[api]
        for option_name in own:
            if api not in readers[option_name] and \
                    context.get_parameter_source(option_name) is ParameterSource.COMMANDLINE:
                flag = own[option_name].opts[0]
                raise click.UsageError(f"{flag} is for --api {'/'.join(readers[option_name])}")
        arguments = prepare({key: values.pop(key) for key in
                             [option.name for option in shared] if key})
        mine = {option.name: values[option.name] for option in part.options if option.name}
        part.run(api=api, **arguments, **mine)

    api_option = click.Option(["--api"], type=click.Choice(list(by_api)), default=parts[0].names[0],
                              show_default=True, help=api_help)
    return click.Command(name, callback=callback, short_help=short_help, help=doc,
                         params=[api_option, *own.values(), *shared])


def _sign_arguments(values: dict[str, Any]) -> dict[str, Any]:
    config = values.pop("config")
    return {"settings": settings_for(config), **values}


sign_command = shared_command(
    "sign", "Print a signature or the signed headers of one call.",
    "Print what signs one request for the API --api names (an Authorization value, or the "
    "signed headers of one call), for curl and other clients without a Tencent SDK.",
    [click.Option(["--appid"], help="Appid to sign for [default: the configured first app]."),
     click.Option(["--secret-id"], help="Secret id [default: the app's first secret id]."),
     click.Option(["--secret-key"], help="Secret key [default: the key of --secret-id]."),
     click.Option(["--config"], type=click.Path(dir_okay=False),
                  help="Take defaults from this file."),
     click.Option(["--now"], type=int, help="Issue time t as a Unix timestamp [default: "
                                            "now].")],
    _sign_arguments)

codes = shared_command(
    "codes", "List the documented error codes.",
    "List the documented error codes of the API --api names, with their messages and "
    "meanings.",
    [click.Option(["--json", "as_json"], is_flag=True, help="Print JSON instead of a table.")],
    lambda values: values)
