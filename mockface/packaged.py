"""Folders shipped inside the wheel from the project's top-level folders.

The wheel maps the top-level ``scenarios/`` and ``fixtures/`` folders into the package
(``mockface/scenarios``, ``mockface/fixtures``: see ``package_dir`` in setup.cfg).  An
editable install or a plain checkout does not map them, so there they are found beside the
package, in the source tree.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent


def packaged_folder(name: str) -> Path:
    """The folder ``name`` as installed in the package, else the checkout's top-level one.

    Returns the packaged path even when neither exists, so callers can say where they looked.
    """
    packaged = Path(str(resources.files("mockface").joinpath(name)))
    if packaged.is_dir():
        return packaged
    checkout = _SOURCE_TREE / name
    return checkout if checkout.is_dir() else packaged
