"""The `layout plan` run: load the study, analyse it, write the results and maps.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.pipeline import plan
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result = plan(out_dir=tmp / "out", maps_dir=tmp / "maps", progress=False)
>>> sorted(p.name for p in result.outputs)[-3:]
['overview.html', 'results.gpkg', 'tables.xlsx']
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from .demand import demand_by_cell, demand_totals, plot_county_demand, project_demand
from .indicators import indicator_tables
from .labels import TABLE_TITLES, localise
from .maps.offline import save_html
from .maps.overview import overview_map
from .report import write_geopackage, write_spreadsheet
from .scenarios import default_scenarios, scenarios_from_toml
from .study import Study, study_from_toml
from .yields import YieldModel

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
    """

    study: Study
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    demand: gpd.GeoDataFrame | None = None

    def counties(self) -> gpd.GeoDataFrame:
        """Counties with their class-size, funding and staffing totals."""
        return _joined(self.study["counties"], "county_code", self.tables, _COUNTY_COLUMNS)

    def schools(self) -> gpd.GeoDataFrame:
        """Schools with their class-size, funding and staffing figures."""
        return _joined(self.study["schools"], "school_id", self.tables, _SCHOOL_COLUMNS)

    def cell_demand(self) -> pd.DataFrame | None:
        """Demand per cell, scenario and year (:func:`layout.demand.demand_by_cell`), if any."""
        return None if self.demand is None else demand_by_cell(self.demand)


def analyse(study: Study, *, progress: bool = False) -> PlanResult:
    """Run every analysis step on a loaded study, writing nothing.

    Parameters
    ----------
    study
        A study from :func:`layout.study.study_from_toml`.
    progress
        Show a progress bar over the steps.

    Returns
    -------
    PlanResult
        The study, the result tables and the demand layer (``outputs`` empty).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> result = analyse(study_from_toml())
    >>> "class_size_ledger" in result.tables and result.demand is not None
    True
    """
    result = PlanResult(study=study)
    with tqdm(total=len(STEPS), disable=not progress, unit="step") as bar:
        for label, step in STEPS:
            _announce(bar, label)
            step(result)
            bar.update()
    return result


def plan(
    study_path: str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
    progress: bool = True,
) -> PlanResult:
    """Run the planning pipeline on one study: load, analyse, write results and maps.

    Parameters
    ----------
    study_path
        Study TOML; ``None`` runs the bundled synthetic Anshan sample.
    out_dir
        Folder for the results GeoPackage, spreadsheet and charts (created if missing).
    maps_dir
        Folder for the HTML maps (created if missing).
    lang
        Language of spreadsheet headers: ``"zh"`` (default) or ``"en"``.
    progress
        Show progress bars.

    Returns
    -------
    PlanResult
    """
    LOG.info("load study")
    result = analyse(study_from_toml(study_path), progress=progress)
    result.outputs = write_outputs(result, out_dir=out_dir, maps_dir=maps_dir, lang=lang)
    return result


def write_outputs(
    result: PlanResult,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
) -> list[Path]:
    """Write the results GeoPackage, the spreadsheet, the charts and the maps.

    Parameters
    ----------
    result
        From :func:`analyse`.
    out_dir, maps_dir, lang
        As for :func:`plan`.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out, maps = Path(out_dir), Path(maps_dir)
    study = result.study
    LOG.info("write results")
    written = [_write_results(result, out / "results.gpkg")]
    large = study.standards.class_size.large_class_min
    sheets = localise(result.tables, lang=lang, large=large)
    titles = {name: TABLE_TITLES[name][lang] for name in sheets}
    written.append(write_spreadsheet(sheets, out / "tables.xlsx", sheet_names=titles))
    written += _charts(result, out / "charts")
    LOG.info("maps")
    maps.mkdir(parents=True, exist_ok=True)
    fmap = overview_map(study, counties=result.counties(), schools=result.schools())
    written.append(save_html(fmap, maps / "overview.html", title=study.title))
    return written


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
    tables = indicator_tables(study["schools"], study.standards, teachers=teachers, lang=None)
    result.tables.update(tables)


def _demand(result: PlanResult) -> None:
    """Project every scenario of the study: the demand layer and its tables."""
    study, tables = result.study, result.tables
    table = study.config.get("scenarios")
    scenarios = scenarios_from_toml(table) if table else default_scenarios()
    model = YieldModel().fit(study["developments"], observed_year=study.school_year)
    demand = project_demand(
        study["population"],
        study["developments"],
        scenarios=scenarios,
        years=study.plan_years,
        yield_model=model,
    )
    tables["demand_by_county"] = demand_totals(demand, by=("county_code",))
    tables["demand_by_township"] = demand_totals(demand, by=("county_code", "township_code"))
    tables["yield_model"] = model.report.reset_index()
    result.demand = demand


STEPS: list[tuple[str, Callable[[PlanResult], None]]] = [
    ("indicators", _indicators),
    ("demand", _demand),
]
"""The analysis steps of :func:`analyse`, in order; each adds to the result."""


def _charts(result: PlanResult, folder: Path) -> list[Path]:
    """One PNG per county of projected primary and junior children by year and scenario."""
    folder.mkdir(parents=True, exist_ok=True)
    totals = result.tables["demand_by_county"]
    names = result.study["counties"].set_index("county_code")["name"]
    return [
        plot_county_demand(totals, folder / f"demand_{code}.png", county_code=code, title=code)
        for code in names.index
        if (totals["county_code"] == code).any()
    ]


def _write_results(result: PlanResult, path: Path) -> Path:
    study = result.study
    layers: dict[str, pd.DataFrame] = {"counties": result.counties(), "schools": result.schools()}
    layers.update(result.tables)
    cell_demand = result.cell_demand()
    if cell_demand is not None:
        cells = study["population"][["cell_id", "county_code", "township_code", "geometry"]]
        layers["cells"] = cells
        layers["demand"] = cell_demand
    meta = {"study": study.name, "synthetic": str(study.synthetic).lower()}
    return write_geopackage(layers, path, metadata=meta)
