"""What `layout plan` writes, as one pack: results, per-cell Parquet, workbook, maps, index.

The analysis (:func:`layout.runs.plan.analyse`) writes nothing; :func:`write_outputs` writes
its result into staging folders and swaps them in together (:mod:`layout.runs._pack`): the
workbook in a forked child, the GeoPackage and Parquet on a thread, the charts and maps in
the run's own process meanwhile.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.runs.plan import analyse
>>> from layout.study import study_from_toml
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result = analyse(study_from_toml())  # doctest: +SKIP
>>> written = write_outputs(result, out_dir=tmp / "out", maps_dir=tmp / "maps")  # doctest: +SKIP
>>> findings(result, lang="en")[0]  # doctest: +SKIP
'7 counties, 327 schools, 197,129 pupils in 2024.'
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import folium
import pandas as pd

from ..access import BORDER_INPUTS, school_seats
from ..demand import focus_scenario, scenario_names
from ..labels import TABLE_TITLES, localise
from ..maps import save_html
from ..maps.balance import balance_map
from ..maps.basemap import Basemap, basemap_from_name
from ..maps.overview import overview_map
from ..maps.provision import CountyChart, provision_map
from ..maps.sites import plan_heading, sites_map
from ..report import (
    found_outputs,
    plot_county_demand,
    write_geopackage,
    write_index,
    write_parquet,
    write_spreadsheet,
)
from ..report.files import SYNTHETIC_NOTICE
from ..report.findings import findings as study_findings
from ..report.summary import county_summary, summary_headers, summary_heading, with_names
from ._forked import forked
from ._pack import Pack, staged_pack

if TYPE_CHECKING:
    from .plan import PlanResult

__all__ = ["PER_CELL", "findings", "write_outputs"]

LOG = logging.getLogger(__name__)


def write_outputs(
    result: PlanResult,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
) -> list[Path]:
    """Write the results GeoPackage, the per-cell Parquet, the spreadsheet, charts and maps.

    Parameters
    ----------
    result
        From :func:`analyse`.
    out_dir, maps_dir, lang, tiles
        As for :func:`plan`.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    with staged_pack("plan", [out_dir, maps_dir]) as pack:
        written = _write_pack(result, pack, lang=lang, tiles=tiles)
    return [pack.final(path) for path in written]


def _write_pack(
    result: PlanResult, pack: Pack, *, lang: Literal["zh", "en"], tiles: str
) -> list[Path]:
    """Write the files of :func:`write_outputs` into the staging folders of ``pack``."""
    out, maps = pack.folders
    study = result.study
    LOG.info("write results")
    tables = _reported(result.tables)
    shown = {name: t for name, t in tables.items() if name not in PER_CELL}
    sheets = localise(with_names(shown, study=study), lang=lang, profile=study.standards)
    workbook = functools.partial(
        write_spreadsheet,
        sheets,
        out / "tables.xlsx",
        sheet_names={name: TABLE_TITLES[name][lang] for name in sheets},
        notice=SYNTHETIC_NOTICE if study.synthetic else "",
    )
    # The workbook (XlsxWriter, pure Python) is written by a child forked before any thread
    # starts; GDAL and Arrow write the GeoPackage and the Parquet tables mostly outside the
    # GIL, on a thread; the charts and maps are drawn here meanwhile.
    with (
        forked(workbook) as book,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="layout-write") as writer,
    ):
        geodata = writer.submit(
            lambda: [
                _write_results(result, shown, out / "results.gpkg"),
                *_write_cells(result, out),
            ]
        )
        written = _charts(result, out / "charts", lang)
        LOG.info("maps")
        basemap = basemap_from_name(tiles)
        page = pack.final(maps / "provision.html").parent
        charts = {
            p.stem.removeprefix("demand_"): CountyChart(
                p, Path(os.path.relpath(pack.final(p), page)).as_posix()
            )
            for p in written
            if p.suffix == ".png"
        }
        written += [
            save_html(fmap, maps / f"{name}.html", basemap=basemap)
            for name, fmap in _maps(result, charts=charts, lang=lang, basemap=basemap).items()
        ]
        written = [*geodata.result(), book.result(), *written]
    index = out / "index.html"
    links = found_outputs(pack.final(out), pack.final(maps), also=[pack.final(f) for f in written])
    charts_written = [f for f in written if f.suffix == ".png"]
    note = "合成样例数据，非真实学校数据 / Synthetic sample data, not real school data"
    written.append(
        write_index(
            index,
            title=study.title,
            findings=findings(result, lang=lang),
            links={k: [pack.seen_from(f, index) for f in v] for k, v in links.items()},
            note=note if study.synthetic else "",
            tables=_county_tables(result, lang=lang),
            charts=charts_written,
        )
    )
    return written


def _county_tables(result: PlanResult, *, lang: Literal["zh", "en"]) -> dict[str, pd.DataFrame]:
    """Return the index page's table per county: focus scenario, first plan year."""
    if "access_schools" not in result.tables:
        return {}
    totals = result.tables["demand_by_county"]
    scenario = focus_scenario(scenario_names(totals))
    year = int(totals["year"].min())
    columns = ["county_code", "scenario", "year", "level", "unserved", "beyond_radius",
               "beyond_time"]  # fmt: skip
    cells = [
        pd.DataFrame(part.loc[(part["scenario"].astype(str) == scenario) & (part["year"] == year),
                              columns])
        for part in result.per_cell("cell_flags")
    ]  # fmt: skip
    table = county_summary(
        result.tables,
        cells=pd.concat(cells, ignore_index=True),
        schools=result.study["schools"],
        counties=result.study["counties"],
        scenario=scenario,
        year=year,
    )
    heading = summary_heading(result.study.standards, scenario=scenario, year=year, lang=lang)
    return {heading: table.rename(columns=summary_headers(lang))}


def _maps(
    result: PlanResult,
    *,
    charts: dict[str, CountyChart],
    lang: Literal["zh", "en"],
    basemap: Basemap | None,
) -> dict[str, folium.Map]:
    """Draw the maps of a run, by file name: overview, balance, provision and sites."""
    study = result.study
    maps = {
        "overview": overview_map(
            study, counties=result.counties(), schools=result.schools(), lang=lang, basemap=basemap
        )
    }
    if "balance_counties" in result.tables:
        maps["balance"] = balance_map(
            study,
            indicators=result.tables["balance_indicators"],
            counties=result.tables["balance_counties"],
            lang=lang,
            basemap=basemap,
        )
    if "under_provisioned" in result.layers:
        maps["provision"] = provision_map(
            study,
            balance=result.tables["access_balance"],
            schools=result.tables["access_schools"],
            reasons=result.per_cell("cell_reasons"),
            charts=charts,
            lang=lang,
            basemap=basemap,
        )
    if result.sites is not None:
        totals = result.tables["demand_by_county"]
        heading = plan_heading(
            scenario=focus_scenario(scenario_names(totals)),
            year=int(totals["year"].max()),
            lang=lang,
        )
        maps["sites"] = sites_map(study, result.sites, lang=lang, basemap=basemap, heading=heading)
    return maps


def findings(result: PlanResult, *, lang: Literal["zh", "en"] = "zh") -> list[str]:
    """State the main findings of a run in a few sentences, with their numbers.

    See :func:`layout.report.findings.findings`; examples in the module examples.
    """
    return study_findings(result.tables, result.study, lang=lang, method=result.cost_method)


def _charts(result: PlanResult, folder: Path, lang: Literal["zh", "en"]) -> list[Path]:
    """One PNG per county of projected children by year and scenario, with its places."""
    folder.mkdir(parents=True, exist_ok=True)
    totals = result.tables["demand_by_county"]
    names = result.study["counties"].set_index("county_code")["name"]
    seats = school_seats(result.study["schools"])
    places = seats.groupby(result.study["schools"]["county_code"].to_numpy()).sum()
    return [
        plot_county_demand(
            totals,
            folder / f"demand_{code}.png",
            county_code=code,
            title=f"{name}（{code}）：学龄儿童预测与现有学位"
            if lang == "zh"
            else f"{name} ({code}): projected children and places",
            places=places.loc[code, ["capacity_primary", "capacity_junior"]].set_axis(
                ["primary", "junior"]
            )
            if code in places.index
            else None,
            lang=lang,
        )  # fmt: skip
        for code, name in names.items()
        if (totals["county_code"] == code).any()
    ]


PER_CELL = ("demand", "cell_flags", "cell_reasons", "assignment", "site_coverage")
"""The per-cell tables of a run (a row per cell or flow, scenario, year and level), written as
(Geo)Parquet partitioned by county and year beside ``results.gpkg`` rather than in it or in the
workbook (a province's are tens of millions of rows): ``demand`` (children by grade,
:func:`layout.demand.demand_by_cell`), ``cell_flags`` (the cells of the focus scenario's first
and last plan year with their provision flags, polygons), ``cell_reasons`` (the flagged cells
of every scenario, year and level), ``assignment`` (the focus years' flows, lines) and
``site_coverage`` (the rural cells of the site plan, its one year: by county only; a
province's is most of what its GeoPackage weighed)."""


def _reported(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Return the tables to write: all but the border inputs a county keeps for the merge.

    A county partition run on its own (its study has halo schools) cannot share out its
    neighbours' spare places, whose own children it does not know: that happens on the merge
    of a county-by-county run (:func:`layout.runs.province.run_counties`).
    """
    kept = {name: t for name, t in tables.items() if name not in BORDER_INPUTS}
    if len(kept) < len(tables):
        LOG.info("seats across county borders are shared out on the merge of all counties")
    return kept


def _write_results(result: PlanResult, tables: dict[str, pd.DataFrame], path: Path) -> Path:
    study = result.study
    layers: dict[str, pd.DataFrame] = {"counties": result.counties(), "schools": result.schools()}
    layers.update(tables)
    layers.update(result.layers)
    for name in PER_CELL:
        layers.pop(name, None)
    meta = {"study": study.name, "synthetic": str(study.synthetic).lower()}
    return write_geopackage(layers, path, metadata=meta)


def _write_cells(result: PlanResult, out: Path) -> list[Path]:
    """Write the per-cell tables (:data:`PER_CELL`) beside the GeoPackage, as (Geo)Parquet.

    ``cells.parquet`` (GeoParquet: ``cell_id``, ``county_code``, ``township_code``, the
    cell's polygon) and one folder per table partitioned by county and year
    (``demand/county_code=210302/year=2025/part-0.parquet``; ``site_coverage`` by county),
    written piece by piece as the result yields them (a county-by-county run: one county at
    a time).
    """
    cells = result.study["population"][["cell_id", "county_code", "township_code", "geometry"]]
    written = [write_parquet(cells, out / "cells.parquet")]
    for name in PER_CELL:
        pieces = iter(result.per_cell(name))
        first = next(pieces, None)
        if first is not None:
            chained = itertools.chain([first], pieces)
            by = _PARTITIONS.get(name, ("county_code", "year"))
            written.append(write_parquet(chained, out / name, partition_by=by))
    return written


_PARTITIONS = {"site_coverage": ("county_code",)}
"""Partitions of the per-cell tables that have no plan years (the others: county and year)."""
