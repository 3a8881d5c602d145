"""Sample media shipped with mockface, for examples and your own first tests.

``IMAGE`` (a small JPEG face photo), ``CARD`` (a small JPEG ID-card photo) and ``VIDEO``
(a small MP4 that mockface accepts as a liveness video) are paths to files inside the
installed package; ``copy_samples(directory)`` copies them somewhere writable.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .packaged import packaged_folder

FOLDER = packaged_folder("fixtures")
IMAGE = FOLDER / "face.jpg"
CARD = FOLDER / "card.jpg"
VIDEO = FOLDER / "video.mp4"
ALL = {"image": IMAGE, "card": CARD, "video": VIDEO}


def copy_samples(directory: str | Path) -> list[Path]:
    """Copy every sample into ``directory`` (created if needed); returns the new paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(source, target / source.name)) for source in ALL.values()]
