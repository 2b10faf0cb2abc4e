"""Row penalties of the block coordinate descent: the contract in :mod:`._base`, one penalty per file.

Every module of this package is imported here, which registers its
:class:`RowPenalty` subclass under its ``name``: adding a penalty is adding a
file (see ``docs/dev/contributing.md``).
"""

import importlib
import pkgutil

from ._base import RADIAL_ROWS, ROW_PENALTIES, RowPenalty, make_row_penalty

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["RADIAL_ROWS", "ROW_PENALTIES", "RowPenalty", "make_row_penalty"]
