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
    """mockface: an offline emulator of Tencent Cloud's face verification, for tests and CI.

    One server answers both APIs: the legacy API (the five /face/* endpoints,
    HMAC-SHA1) and Cloud API 3.0 (faceid 2018-03-01 and iai photo liveness,
    TC3-HMAC-SHA256): the token flows (DetectAuth, E证通, the HuiYan app SDK) with
    their user pages, the element checks (phone, bank card, ID card) and the
    Encryption envelope. Signatures are verified for real, bad input gets the
    documented error, and scenario files script any outcome, delay or fault.

    Start with "mockface serve"; the manual is in docs/ (see the README).
    """


for _command in (serve, wait, env_command, ca_command, check, scenarios_command, sign_command,
                 codes, samples, identities, coverage_command, keys_command):
    main.add_command(_command)
