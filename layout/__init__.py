"""layout: plan the layout of compulsory schools from where children live and will live.

The package follows the data flow, one subpackage per stage (see the README's
"Architecture"): :mod:`layout.standards` -> :mod:`layout.study` (files read by
:mod:`layout.sources`, checked whole by :mod:`layout.check`) -> :mod:`layout.demand` ->
:mod:`layout.access` -> :mod:`layout.optimize` -> :mod:`layout.sites`, :mod:`layout.closure`,
:mod:`layout.land` -> :mod:`layout.indicators` -> :mod:`layout.maps`, :mod:`layout.report` ->
:mod:`layout.runs`. Subpackages are imported on first use, so ``import layout`` is quick.

Examples
--------
>>> import layout
>>> isinstance(layout.__version__, str)
True
>>> layout.access.level_costs.__module__
'layout.access.plan_years'
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

from . import _moved

_SUBPACKAGES = (
    "access", "check", "closure", "demand", "errors", "indicators", "labels", "land", "maps",
    "network", "optimize", "postgis", "reference", "report", "runs", "schema", "sites",
    "sources", "standards", "study", "synthetic",
)  # fmt: skip
"""The public subpackages and modules, imported when first named as ``layout.<name>``."""

_moved.install()

try:
    __version__ = version("layout")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name: str) -> ModuleType:
    """Import a public subpackage on first use (``layout.access``), or a moved module."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if f"{__name__}.{name}" in _moved.MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBPACKAGES])
