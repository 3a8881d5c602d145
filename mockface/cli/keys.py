"""``mockface keys``: the published test key pairs of the products' encryption envelopes
(faceid's ``Encryption``: an RSA-2048 key for AES-256-CBC), to encrypt requests offline.

Each product that has one adds a ``keys`` part (``core.product.CliApi``) naming its
``--api`` values; its ``run(api=, as_json=, **its own options)`` prints the key.  This module
only puts the parts together, as ``mockface sign`` does.
"""
from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from ..core.product import CliApi
from ..products import REGISTRY

COMMAND = "keys"


def _parts() -> list[CliApi]:
    return [api for product in REGISTRY for api in product.cli_apis if api.command == COMMAND]


def keys_command_of(parts: list[CliApi]) -> click.Command:
    """The ``keys`` command over ``parts``: ``--api`` (the first part's value by default),
    ``--json``, and each part's own options (one given with an ``--api`` that does not read
    it is a usage error)."""
    by_api = {name: part for part in parts for name in part.names}
    own: dict[str, click.Option] = {}
    readers: dict[str, list[str]] = {}
    for part in parts:
        for option in part.options:
            own.setdefault(option.name or "", option)
            readers.setdefault(option.name or "", []).extend(part.names)

    def callback(api: str | None, as_json: bool, **values: Any) -> None:
        if api is None:
            raise click.UsageError("no product of this mockface publishes a test key")
        context = click.get_current_context()
        for name, option in own.items():
            if api not in readers[name] and \
                    context.get_parameter_source(name) is ParameterSource.COMMANDLINE:
                raise click.UsageError(f"{option.opts[0]} is for --api "
                                       f"{'/'.join(readers[name])}")
        part = by_api[api]
        part.run(api=api, as_json=as_json,
                 **{option.name: values[option.name] for option in part.options
                    if option.name})

    api_help = "; ".join(dict.fromkeys(part.help for part in parts)) + "." if parts else \
        "No product publishes a test key."
    api_option = click.Option(["--api"], type=click.Choice(list(by_api)),
                              default=next(iter(by_api), None), show_default=True,
                              help=api_help)
    json_option = click.Option(["--json", "as_json"], is_flag=True,
                               help="Print JSON: the algorithm, the key files' paths and "
                                    "the PEMs.")
    return click.Command(
        COMMAND, callback=callback, params=[api_option, *own.values(), json_option],
        short_help="Print the published test key for encrypted requests.",
        help="Print the public key of the test key pair that --api's encryption envelope "
             "uses (the PEM on stdout, its path on stderr), to encrypt requests offline as "
             "production code does. A published test key: never use it in production.")


keys_command = keys_command_of(_parts())
