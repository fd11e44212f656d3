"""The old import paths of modules and names that moved when the package was rebuilt.

Until version 0.1 the package was flat (``layout.costs``, ``layout.pipeline``, ...). Those
paths keep working: importing one gives a module that serves the names from their new home,
with a :class:`DeprecationWarning` naming it. Names that left a module that still exists
(``layout.land.land_check`` is now :func:`layout.runs.land.land_check`) are served by that
module's ``__getattr__`` through :func:`moved_name`. This table is the only place that knows
the old paths.

Examples
--------
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     from layout.land import land_check
>>> land_check.__module__, caught[0].category.__name__
('layout.runs.land', 'DeprecationWarning')
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

MODULES: dict[str, str] = {
    "layout.allocate": "layout.access.allocate",
    "layout.cohorts": "layout.demand.cohorts",
    "layout.costs": "layout.access.costs",
    "layout.pipeline": "layout.runs.plan",
    "layout.province": "layout.runs.province",
    "layout.provision": "layout.access.provision",
    "layout.scenarios": "layout.demand.scenarios",
    "layout.seats": "layout.access.seats",
    "layout.yields": "layout.demand.yields",
}
"""Old module path -> the module that now holds most of its names."""

NAMES: dict[tuple[str, str], str] = {
    ("layout.closure", "closure_report"): "layout.runs.closure",
    ("layout.closure", "screening_report"): "layout.runs.closure",
    ("layout.closure", "write_closure"): "layout.runs.closure",
    ("layout.costs", "ROAD_ID"): "layout.network",
    ("layout.costs", "RoadNetwork"): "layout.network",
    ("layout.costs", "SPEED_COLUMN"): "layout.network",
    ("layout.demand", "plot_county_demand"): "layout.report.charts",
    ("layout.land", "land_check"): "layout.runs.land",
    ("layout.maps.labels", "in_language"): "layout.labels",
    ("layout.pipeline", "findings"): "layout.runs.outputs",
    ("layout.pipeline", "write_site_plan"): "layout.runs.sites",
    ("layout.runs.plan", "PER_CELL"): "layout.runs.outputs",
    ("layout.runs.plan", "findings"): "layout.runs.outputs",
    ("layout.yields", "development_children"): "layout.demand.developments",
}
"""(old module, name) -> the module that now holds a name that left its old module."""

REPLACED: dict[tuple[str, str], str] = {
    ("layout.access", "NETWORK_CUTOFF_MIN"): "the profile's service.max_trip_minutes",
    ("layout.cohorts", "DEFAULT_ENTRY_AGE"): "the profile's enrolment.entry_age",
    ("layout.sites", "REUSE_BONUS"): "the profile's siting.reuse_bonus",
    ("layout.sites", "SCORE_SCALE_M"): "the profile's siting.distance_scale_m",
    ("layout.sites", "SCORE_WEIGHTS"): "the profile's siting.road_weight, seat_weight and "
    "services_weight",
    ("layout.yields", "ANSHAN_PERSONS_PER_HOUSEHOLD"): "the profile's yields.persons_per_household",
    ("layout.province", "halo_distance"): "layout.standards.Profile.halo_m (profile.halo_m)",
    ("layout.maps.balance", "PASS_COLOUR"): "RATIO_COLOURS (counties classed by their largest "
    "difference coefficient over its limit, colour-blind safe)",
    ("layout.maps.balance", "FAIL_COLOUR"): "RATIO_COLOURS (counties classed by their largest "
    "difference coefficient over its limit, colour-blind safe)",
}
"""(old module, name) -> what replaced a policy number or helper that no longer exists: the
profile answers it, so that a study's ``[standards]`` override reaches every analysis."""


def moved_name(module: str, name: str) -> object:
    """Return ``name`` of old module ``module`` from its new home, with a deprecation warning.

    Raises
    ------
    AttributeError
        ``name`` never was in ``module``.
    """
    home = NAMES.get((module, name))
    if home is None:
        instead = REPLACED.get((module, name))
        hint = f"; it was replaced by {instead}" if instead else ""
        raise AttributeError(f"module {module!r} has no attribute {name!r}{hint}")
    warnings.warn(
        f"{module}.{name} moved to {home}.{name}; import it from there",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(home), name)


class _OldPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module paths of :data:`MODULES` and loads each as a forwarding module."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def exec_module(self, module: ModuleType) -> None:
        home = MODULES[module.__name__]
        warnings.warn(
            f"{module.__name__} moved to {home}; import from there",
            DeprecationWarning,
            stacklevel=2,
        )
        new = importlib.import_module(home)
        module.__dict__.update(
            {k: v for k, v in vars(new).items() if not k.startswith("__") or k == "__all__"}
        )
        module.__dict__["__getattr__"] = lambda name: moved_name(module.__name__, name)


def install() -> None:
    """Put the finder of the old paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _OldPath) for f in sys.meta_path):
        sys.meta_path.append(_OldPath())
