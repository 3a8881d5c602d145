"""Sample media shipped with mockface, for examples and your own first tests.

``IMAGE`` (a small JPEG face photo), ``CARD`` (a small JPEG ID-card photo) and ``VIDEO``
(a small MP4 that mockface accepts as a liveness video) are paths to files inside the
installed package; ``copy_samples(directory)`` copies them somewhere writable.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .packaged import packaged_folder

FOLDER = packaged_folder("fixtures")
IMAGE = FOLDER / "face.jpg"
CARD = FOLDER / "card.jpg"
VIDEO = FOLDER / "video.mp4"
ALL = {"image": IMAGE, "card": CARD, "video": VIDEO}


class SamplesExist(FileExistsError):
    """Files other than the samples are where the samples would go; ``paths`` names them."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        super().__init__(f"{', '.join(map(str, paths))} already exist"
                         if len(paths) > 1 else f"{paths[0]} already exists")


def copy_samples(directory: str | Path, overwrite: bool = False) -> list[Path]:
    """Copy every sample into ``directory`` (created if needed); returns their paths there.

    A file already there with the sample's content is left as it is.  Other files (or links,
    or directories) in the way are replaced only with ``overwrite``; without it nothing is
    copied and SamplesExist names them all.  A replaced file is swapped in whole, and a link
    in the way is replaced itself, never written through.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    plan = [(source, target / source.name) for source in ALL.values()]
    in_the_way = [path for source, path in plan if _in_the_way(path, source)]
    if in_the_way and not overwrite:
        raise SamplesExist(in_the_way)
    for source, path in plan:
        if path in in_the_way:
            _replace(path, source.read_bytes())
        elif not path.exists():
            _create(path, source.read_bytes())  # FileExistsError if one appeared meanwhile
    return [path for _, path in plan]


def _in_the_way(path: Path, source: Path) -> bool:
    """Whether something other than a copy of ``source`` is at ``path``."""
    if not os.path.lexists(path):
        return False
    if path.is_symlink() or not path.is_file():
        return True
    return path.stat().st_size != source.stat().st_size or path.read_bytes() != source.read_bytes()


def _create(path: Path, data: bytes) -> None:
    """Write a new file at ``path``; FileExistsError when anything (even a link) is there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _replace(path: Path, data: bytes) -> None:
    """Put a new file at ``path`` in one step (a rename), whatever was there."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    _create(partial, data)
    try:
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
