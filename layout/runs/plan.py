"""The `layout plan` run: load the study, analyse it, write the results and maps.

Examples
--------
The analysis runs these steps in order, each adding tables and layers to the result:

>>> [name for name, _ in STEPS]
['indicators', 'demand', 'access', 'sites']

Running the bundled study end to end takes about a minute on two cores (it is run, and its
outputs checked, by ``tests/test_bundled_study.py``):

>>> import tempfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result = plan(out_dir=tmp / "out", maps_dir=tmp / "maps", progress=False)  # doctest: +SKIP
>>> sorted(p.name for p in result.outputs if p.suffix == ".html")  # doctest: +SKIP
['balance.html', 'index.html', 'overview.html', 'provision.html', 'sites.html']

Its outputs are written by :func:`layout.runs.outputs.write_outputs`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from .. import _moved
from ..access import BORDER_INPUTS, CostMethod, access, settle_borders
from ..demand import (
    demand_by_cell,
    demand_totals,
    focus_scenario,
    scenario_names,
    study_demand,
    study_yields,
)
from ..finance import finance_frame, spending_per_pupil
from ..history import history_frame
from ..indicators import (
    class_size_timetable,
    consolidation_rates,
    indicator_tables,
    strike_off_by_year,
)
from ..schema import HALO
from ..sites import SitePlan, plan_sites
from ..study import Study, study_from_toml
from ._forked import forked
from ._preflight import before_work, plan_bytes
from .outputs import write_outputs

LOG = logging.getLogger(__name__)

_COUNTY_COLUMNS = {
    "class_size_by_county": [
        "schools",
        "students",
        "classes",
        "mean_class_size",
        "classes_over_cap",
        "classes_large",
        "schools_struck_off",
    ],
    "funding_by_county": ["boarders", "total_funding"],
    "staffing_by_county": ["teachers", "teachers_required", "shortfall", "rotation_quota"],
}
_SCHOOL_COLUMNS = {
    "class_size_ledger": ["school_classes_over_cap", "school_classes_large", "can_strike_off"],
    "funding": ["total_funding"],
    "staffing": ["teachers_required", "shortfall"],
}


@dataclass
class PlanResult:
    """What a plan run produced.

    Attributes
    ----------
    study
        The loaded study.
    tables
        Named result tables with plain column names
        (see :func:`layout.indicators.indicator_tables`).
    outputs
        Files written.
    demand
        The demand layer of :func:`layout.demand.project_demand`: children by cell, scenario,
        year, level and grade.
    layers
        Result layers with geometry besides the study's: ``cell_flags`` (cells of the focus
        scenario's first and last plan year with their provision flags and 2SFCA index),
        ``under_provisioned`` areas, ``catchments``, ``assignment`` (flows of the focus
        scenario's first and last plan year as lines), ``site_proposals`` (the rural plan
        of :func:`layout.sites.plan_sites` for every rural county, focus scenario, last plan
        year; also in ``tables`` without geometry), and that plan's ``site_candidates`` and
        ``site_coverage`` (rural cells with their minutes before and after; written as
        Parquet, :data:`~layout.runs.outputs.PER_CELL`).
    sites
        The site plan itself (:class:`layout.sites.SitePlan`), drawn on the sites map.
    cost_method
        How travel was costed, when measured before the analysis (a county-by-county run's
        partition step); the findings measure it from the study otherwise.
    """

    study: Study
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    demand: gpd.GeoDataFrame | None = None
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sites: SitePlan | None = None
    cost_method: CostMethod | None = None

    def counties(self) -> gpd.GeoDataFrame:
        """Counties with their class-size, funding and staffing totals."""
        return _joined(self.study["counties"], "county_code", self.tables, _COUNTY_COLUMNS)

    def schools(self) -> gpd.GeoDataFrame:
        """Schools with their class-size, funding and staffing figures."""
        return _joined(self.study["schools"], "school_id", self.tables, _SCHOOL_COLUMNS)

    def cell_demand(self) -> pd.DataFrame | None:
        """Demand per cell, scenario and year (:func:`layout.demand.demand_by_cell`), if any."""
        return None if self.demand is None else demand_by_cell(self.demand)

    def per_cell(self, name: str) -> Iterator[pd.DataFrame]:
        """Yield the per-cell table ``name`` (one of :data:`~layout.runs.outputs.PER_CELL`).

        In pieces; a run of the whole study holds it whole: one piece, or none if the run made
        none.
        """
        if name == "demand":
            table = self.cell_demand()
        else:
            table = self.layers.get(name, self.tables.get(name))
        if table is not None:
            yield table


def analyse(study: Study, *, progress: bool = False, overlap: bool = False) -> PlanResult:
    """Run every analysis step on a loaded study, writing nothing.

    Parameters
    ----------
    study
        A study from :func:`layout.study.study_from_toml`.
    progress
        Show a progress bar over the steps.
    overlap
        Plan the sites in a child process forked after the demand step, beside the access
        step (which it does not need): the run then uses two cores. Same results either way.

    Returns
    -------
    PlanResult
        The study, the result tables and the demand layer (``outputs`` empty).

    Examples
    --------
    See the module examples.
    """
    result = PlanResult(study=study)
    with tqdm(total=len(STEPS), disable=not progress, unit="step") as bar:
        for label, step in STEPS:
            if not (overlap and label in ("access", "sites")):
                _announce(bar, label)
                step(result)
                bar.update()
        if overlap:
            _access_and_sites(result, bar=bar)
    return result


def _access_and_sites(result: PlanResult, *, bar: tqdm) -> None:
    """Run the access step here while a forked child plans the sites (both need the demand)."""
    with forked(functools.partial(_site_plan, result)) as sites:
        _announce(bar, "access")
        _access(result)
        bar.update()
        _announce(bar, "sites")
        _add_sites(result, sites.result())
        bar.update()


def plan(
    study_path: str | os.PathLike[str] | Study | None = None,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
    progress: bool = True,
) -> PlanResult:
    """Run the planning pipeline on one study: load, analyse, write results and maps.

    Parameters
    ----------
    study_path
        Study TOML, or a study already loaded (as :func:`layout.check.check_study` returns
        it); ``None`` runs the bundled synthetic Anshan sample.
    out_dir
        Folder for the results GeoPackage, the per-cell Parquet (``cells.parquet``,
        ``demand/``), the spreadsheet and the charts (created if missing).
    maps_dir
        Folder for the HTML maps (created if missing).
    lang
        Language of spreadsheet headers and map labels: ``"zh"`` (default) or ``"en"``.
    tiles
        Basemap under the maps: ``"none"`` (default: the maps need no network), or a name of
        :data:`layout.maps.basemap.BASEMAPS` (``"osm"``, ``"gaode"``: overlays are then
        shifted to GCJ-02).
    progress
        Show progress bars.

    Returns
    -------
    PlanResult
    """
    LOG.info("load study")
    study = study_path if isinstance(study_path, Study) else study_from_toml(study_path)
    before_work(study, {"--out": out_dir, "--maps": maps_dir}, needed_bytes=plan_bytes(study))
    result = analyse(study, progress=progress, overlap=True)
    result.outputs = write_outputs(
        result, out_dir=out_dir, maps_dir=maps_dir, lang=lang, tiles=tiles
    )
    return result


def _announce(bar: tqdm, label: str) -> None:
    """Name the step the bar is on, and log it."""
    bar.set_description(label)
    LOG.info("%s", label)


def _joined(
    base: gpd.GeoDataFrame,
    key: str,
    tables: dict[str, pd.DataFrame],
    columns: dict[str, list[str]],
) -> gpd.GeoDataFrame:
    """Left-join the named columns of each table onto ``base`` by ``key``."""
    out = base
    for name, cols in columns.items():
        table = tables[name].drop_duplicates(key).set_index(key)
        out = out.join(table[[c for c in cols if c in table.columns]], on=key)
    return out


def _indicators(result: PlanResult) -> None:
    """Class-size ledger, funding, staffing and balance tables."""
    study = result.study
    teachers = study.layers.get("teachers")
    tables = indicator_tables(
        study["schools"], study.standards, teachers=teachers, townships=study["townships"]
    )
    if "finance" in study.config:
        money = finance_frame(
            study.config["finance"], where=study.path.name, school_year=study.school_year
        )
        tables["spending_per_pupil"] = spending_per_pupil(money)
    if "enrolment_history" in study.config:
        past = history_frame(
            study.config["enrolment_history"], where=study.path.name, school_year=study.school_year
        )
        tables["consolidation"] = consolidation_rates(
            past, study["schools"], study.standards, school_year=study.school_year
        )
    result.tables.update(tables)


def _demand(result: PlanResult) -> None:
    """Project every scenario of the study: the demand layer and its tables."""
    study, tables = result.study, result.tables
    model = study_yields(study)
    demand = study_demand(study, yields=model)
    tables["demand_by_county"] = demand_totals(demand, by=("county_code",))
    tables["demand_by_township"] = demand_totals(demand, by=("county_code", "township_code"))
    tables["yield_model"] = model.report.reset_index()
    result.demand = demand


def _access(result: PlanResult) -> None:
    """Assign children to schools for every scenario and year; flag under-provision.

    Children go to schools of their own county; where the profile allows
    ``cross_county_enrolment``, those left without a place then take spare places across the
    border (:func:`layout.access.settle_borders`).
    """
    assert result.demand is not None
    found = access(result.study, result.demand)
    result.tables["access_summary"] = found.summary
    result.tables["access_schools"] = found.schools
    _timetable(result, found.schools)
    cells = result.study["population"][["cell_id", "county_code", "township_code", "geometry"]]
    result.layers["cell_flags"] = cells.merge(found.cells, on="cell_id")
    result.tables["access_balance"] = found.balance
    result.tables["cell_reasons"] = found.reasons  # with their county, to partition them
    county = cells.set_index("cell_id")["county_code"]  # the flows' too
    result.tables["attendance"] = found.attendance
    result.layers["under_provisioned"] = found.areas
    result.layers["catchments"] = found.catchments
    result.layers["assignment"] = found.flows.assign(
        county_code=county.reindex(found.flows["cell_id"]).to_numpy()
    )
    if found.border_arcs is not None:
        inputs = (found.border_unserved, found.border_arcs)
        result.tables.update(zip(BORDER_INPUTS, inputs, strict=True))
        if HALO not in result.study.layers:  # else settled on the merge of the counties
            result.tables = settle_borders(result.tables)


def _sites(result: PlanResult) -> None:
    """Sites for every county, focus scenario, last plan year.

    Small and boarding schools in rural counties, new schools on reserved parcels in urban
    ones (:func:`layout.sites.plan_sites`).
    """
    _add_sites(result, _site_plan(result))


def _site_plan(result: PlanResult) -> SitePlan:
    """Plan the sites of :func:`_sites` (in a child process when :func:`analyse` overlaps)."""
    assert result.demand is not None
    focus = focus_scenario(scenario_names(result.demand))
    year = int(result.demand["year"].max())
    counties = result.study["counties"]["county_code"].tolist()
    return plan_sites(result.study, result.demand, counties=counties, year=year, scenario=focus)


def _add_sites(result: PlanResult, found: SitePlan) -> None:
    """Add a site plan to the result's layers and tables."""
    result.sites = found
    result.layers["site_proposals"] = found.proposals
    result.layers["site_candidates"] = found.candidates
    result.layers["site_coverage"] = found.coverage
    result.tables["site_proposals"] = pd.DataFrame(found.proposals.drop(columns="geometry"))


def _timetable(result: PlanResult, school_years: pd.DataFrame) -> None:
    """Add the large-class timetable of the focus scenario and the strike-off by year."""
    study, tables = result.study, result.tables
    if "class_size_ledger" not in tables or school_years.empty:
        return
    timetable = class_size_timetable(
        tables["class_size_ledger"],
        school_years,
        study.standards,
        scenario=focus_scenario(scenario_names(school_years)),
        school_year=study.school_year,
    )
    tables["class_size_timetable"] = timetable
    years = [study.school_year, *study.plan_years]
    tables["strike_off_by_year"] = strike_off_by_year(timetable, years=years)


STEPS: list[tuple[str, Callable[[PlanResult], None]]] = [
    ("indicators", _indicators),
    ("demand", _demand),
    ("access", _access),
    ("sites", _sites),
]
"""The analysis steps of :func:`analyse`, in order; each adds to the result."""


def __getattr__(name: str) -> object:
    """Names that moved to :mod:`layout.runs.outputs` (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
