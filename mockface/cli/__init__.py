"""The ``mockface`` command: one group, its subcommands in one module per job."""
from __future__ import annotations

import click

from .. import __version__
from .ca import ca_command
from .check import check, scenarios_command
from .coverage import coverage_command
from .keys import keys_command
from .env import env_command
from .samples import identities, samples
from .serve import serve
from .sign import codes, sign_command
from .wait import wait


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockface")
def main() -> None:
    """mockface: an offline emulator of Tencent Cloud's legacy face-verification API."""


for _command in (serve, wait, env_command, ca_command, check, scenarios_command, sign_command,
                 codes, samples, identities, coverage_command, keys_command):
    main.add_command(_command)
