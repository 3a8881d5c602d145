"""``mockface samples`` and ``mockface identities``: test material to send the emulator."""
from __future__ import annotations

import json

import click

from .common import CliError


@click.command(short_help="Copy the sample image, card and video.")
@click.option("--out", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Directory to copy the samples into.")
@click.option("--force", is_flag=True,
              help="Replace files of those names that differ from the samples.")
def samples(directory: str, force: bool) -> None:
    """Copy the sample media (face.jpg, card.jpg, video.mp4) into a directory and print
    their paths. Other files of those names are never overwritten without --force (nothing
    is copied then); copies already there are left as they are. In Python:
    mockface.samples.IMAGE, .CARD and .VIDEO are their paths inside the package."""
    from ..samples import SamplesExist, copy_samples

    try:
        copied = copy_samples(directory, overwrite=force)
    except SamplesExist as error:
        names = ", ".join(str(path) for path in error.paths)
        raise CliError(f"not overwriting {names} (not the samples); give --force to "
                       "replace, or --out DIR") from None
    except OSError as error:
        raise CliError(f"cannot copy the samples into {directory}: "
                       f"{error.strerror or error}") from None
    for path in copied:
        click.echo(str(path))


@click.command(short_help="Print realistic test identities (needs Faker).")
@click.option("-n", "--count", default=5, show_default=True, type=click.IntRange(1, 10_000),
              help="How many identities.")
@click.option("--seed", type=int, help="Repeatable output (for one Faker version).")
@click.option("--format", "fmt", type=click.Choice(("yaml", "json")), default="yaml",
              show_default=True, help="yaml pastes into a config's identities list.")
def identities(count: int, seed: int | None, fmt: str) -> None:
    """Print realistic identities: zh_CN names with valid GB 11643 ID numbers (real region
    codes, birth dates, check digits). Needs Faker: pip install 'mockface[faker]'."""
    from ..identities import generate

    try:
        people = generate(count, seed=seed)
    except RuntimeError as error:
        raise CliError(str(error)) from None
    if fmt == "json":
        click.echo(json.dumps(people, ensure_ascii=False, indent=2))
        return
    click.echo("identities:")
    for person in people:
        click.echo(f'  - {{idcard_number: "{person["idcard_number"]}", '
                   f'idcard_name: {person["idcard_name"]}}}')
