"""The natural resources bureau's land check: reserved parcels, developments (三同步), reserves.

Each check takes the study's layers and returns a table with a pass/fail and a reason per
row; :func:`land_checks` runs all three on a study. Writing them is :mod:`layout.runs.land`.
"""

from __future__ import annotations

from .. import _moved
from ._common import LandOptions
from ._words import verdicts
from .checks import LandCheck, land_checks
from .developments import check_developments
from .parcels import check_parcels
from .reserve import township_reserve

__all__ = [
    "check_developments",
    "check_parcels",
    "LandCheck",
    "LandOptions",
    "land_checks",
    "township_reserve",
    "verdicts",
]


def __getattr__(name: str) -> object:
    """Serve the names that moved out of this package (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
