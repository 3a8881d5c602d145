"""``mockface keys``: the published test key pairs of the products' encryption envelopes
(faceid's ``Encryption``: an RSA-2048 key for AES-256-CBC), to encrypt requests offline.

Each product that has one adds a ``keys`` part (``core.product.CliApi``) naming its
``--api`` values; its ``run(api=, as_json=, **its own options)`` prints the key.  The parts
are put together as for ``mockface sign`` (``sign.shared_command``).
"""
from __future__ import annotations

import click

from ..core.product import CliApi
from .sign import shared_command

COMMAND = "keys"


def keys_command_of(parts: list[CliApi] | None = None) -> click.Command:
    """The ``keys`` command over ``parts`` (default: every product's): ``--api`` (the first
    part's value by default), ``--json``, and each part's own options."""
    return shared_command(
        COMMAND, "Print the published test key for encrypted requests.",
        "Print the public key of the test key pair that --api's encryption envelope uses (the "
        "PEM on stdout, its path on stderr), to encrypt requests offline as production code "
        "does. A published test key: never use it in production.",
        [click.Option(["--json", "as_json"], is_flag=True,
                      help="Print JSON: the algorithm, the key files' paths and the PEMs.")],
        lambda values: values, parts)


keys_command = keys_command_of()
