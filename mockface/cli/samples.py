"""``mockface samples`` and ``mockface identities``: test material to send the emulator."""
from __future__ import annotations

import json
from typing import Any

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
@click.option("--seed", type=int, help="Repeatable output (for one Faker version, one day).")
@click.option("--phones", default=1, show_default=True, type=click.IntRange(0, 10),
              help="Mobile numbers per identity.")
@click.option("--bank-cards", default=1, show_default=True, type=click.IntRange(0, 10),
              help="Bank cards per identity.")
@click.option("--validity/--no-validity", default=True, show_default=True,
              help="Give each identity its ID card's validity dates.")
@click.option("--format", "fmt", type=click.Choice(("yaml", "json")), default="yaml",
              show_default=True, help="yaml pastes into a config's identities list.")
def identities(count: int, seed: int | None, phones: int, bank_cards: int, validity: bool,
               fmt: str) -> None:
    """Print realistic identities: zh_CN names with valid GB 11643 ID numbers (real region
    codes, birth dates, check digits), mobile numbers on real number segments, bank cards on
    real BINs with a valid Luhn digit, and ID card validity dates. Both formats load as a
    config's identities (and as POST /__mockface/identities bodies). Needs Faker: pip
    install 'mockface[faker]'."""
    from ..identities import generate

    try:
        people = generate(count, seed=seed, phone_count=phones, card_count=bank_cards,
                          validity_dates=validity)
    except RuntimeError as error:
        raise CliError(str(error)) from None
    if fmt == "json":
        click.echo(json.dumps(people, ensure_ascii=False, indent=2))
        return
    click.echo("identities:")
    for person in people:
        click.echo("\n".join(_yaml_lines(person)))


def _scalar(value: Any) -> str:
    """A YAML scalar: strings double-quoted (JSON's quoting is YAML's), numbers bare."""
    return json.dumps(value, ensure_ascii=False)


def _flow(item: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {_scalar(value)}" for key, value in item.items()) + "}"


def _yaml_lines(person: dict[str, Any]) -> list[str]:
    """One generated identity as an item of a YAML block list, indented under
    ``identities:``."""
    lines = [f"  - idcard_number: {_scalar(person['idcard_number'])}",
             f"    idcard_name: {_scalar(person['idcard_name'])}"]
    for key in ("phones", "bank_cards"):
        if person.get(key):
            lines.append(f"    {key}:")
            lines.extend(f"      - {_flow(item)}" for item in person[key])
    if person.get("validity"):
        lines.append(f"    validity: {_flow(person['validity'])}")
    return lines
