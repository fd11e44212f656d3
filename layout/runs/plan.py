"""The `layout plan` run: load the study, analyse it, write the results and maps.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.runs.plan import plan
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result = plan(out_dir=tmp / "out", maps_dir=tmp / "maps", progress=False)
>>> sorted(p.name for p in result.outputs if p.suffix == ".html")
['balance.html', 'index.html', 'overview.html', 'provision.html', 'sites.html']
>>> sorted(p.name for p in result.outputs if p.suffix in {".gpkg", ".xlsx"})
['results.gpkg', 'tables.xlsx']
>>> findings(result, lang="en")[0]
'7 counties, 327 schools, 197,129 pupils in 2024.'
>>> "class_size_ledger" in result.tables and result.demand is not None
True
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

import folium
import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from ..access import BORDER_INPUTS, access, school_seats, settle_borders
from ..demand import (
    demand_by_cell,
    demand_totals,
    focus_scenario,
    scenario_names,
    study_demand,
    study_yields,
)
from ..indicators import indicator_tables
from ..labels import TABLE_TITLES, VALUES_ZH, localise
from ..maps import save_html
from ..maps.balance import balance_map
from ..maps.basemap import Basemap, basemap_from_name
from ..maps.overview import overview_map
from ..maps.provision import provision_map
from ..maps.sites import plan_heading, sites_map
from ..report import (
    found_outputs,
    plot_county_demand,
    write_geopackage,
    write_index,
    write_spreadsheet,
)
from ..report.files import SYNTHETIC_NOTICE
from ..report.summary import county_summary, summary_headers, summary_heading, with_names
from ..schema import HALO
from ..sites import SitePlan, plan_sites
from ..standards import Profile
from ..study import Study, study_from_toml

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
        ``site_coverage`` (rural cells with their minutes before and after).
    sites
        The site plan itself (:class:`layout.sites.SitePlan`), drawn on the sites map.
    """

    study: Study
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    demand: gpd.GeoDataFrame | None = None
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sites: SitePlan | None = None

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
    See the module examples.
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
    tiles: str = "none",
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
    result = analyse(study_from_toml(study_path), progress=progress)
    result.outputs = write_outputs(
        result, out_dir=out_dir, maps_dir=maps_dir, lang=lang, tiles=tiles
    )
    return result


def write_outputs(
    result: PlanResult,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
) -> list[Path]:
    """Write the results GeoPackage, the spreadsheet, the charts and the maps.

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
    out, maps = Path(out_dir), Path(maps_dir)
    study = result.study
    LOG.info("write results")
    tables = _reported(result.tables)
    written = [_write_results(result, tables, out / "results.gpkg")]
    sheets = localise(with_names(tables, study=study), lang=lang, profile=study.standards)
    titles = {name: TABLE_TITLES[name][lang] for name in sheets}
    notice = SYNTHETIC_NOTICE if study.synthetic else ""
    written.append(
        write_spreadsheet(sheets, out / "tables.xlsx", sheet_names=titles, notice=notice)
    )
    written += _charts(result, out / "charts", lang)
    LOG.info("maps")
    maps.mkdir(parents=True, exist_ok=True)
    basemap = basemap_from_name(tiles)
    charts = {p.stem.removeprefix("demand_"): p for p in written if p.suffix == ".png"}
    map_files = [
        save_html(fmap, maps / f"{name}.html", basemap=basemap)
        for name, fmap in _maps(result, charts=charts, lang=lang, basemap=basemap).items()
    ]
    written += map_files
    note = "合成样例数据，非真实学校数据 / Synthetic sample data, not real school data"
    written.append(
        write_index(
            out / "index.html",
            title=study.title,
            findings=findings(result, lang=lang),
            links=found_outputs(out, maps),
            note=note if study.synthetic else "",
            tables=_county_tables(result, lang=lang),
            charts=[f for f in written if f.suffix == ".png"],
        )
    )
    return written


def _county_tables(result: PlanResult, *, lang: Literal["zh", "en"]) -> dict[str, pd.DataFrame]:
    """Return the index page's table per county: focus scenario, first plan year."""
    if "access_schools" not in result.tables or "cell_flags" not in result.layers:
        return {}
    totals = result.tables["demand_by_county"]
    scenario = focus_scenario(scenario_names(totals))
    year = int(totals["year"].min())
    table = county_summary(
        result.tables,
        cells=result.layers["cell_flags"],
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
    charts: dict[str, Path],
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
            cell_flags=result.layers["cell_flags"],
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

    Parameters
    ----------
    result
        From :func:`analyse`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of str

    Examples
    --------
    See the module examples.
    """
    t = result.tables
    size = t["class_size_by_county"].sum(numeric_only=True)
    staff = t["staffing_by_county"].sum(numeric_only=True)
    money = t["funding_by_county"]["total_funding"].sum()
    n = len(t["class_size_by_county"])
    year = result.study.school_year
    profile = result.study.standards
    figures = {
        "n": n,
        "schools": int(size["schools"]),
        "students": int(size["students"]),
        "year": year,
        "large": int(size["classes_large"]),
        "very_large": int(size["classes_very_large"]),
        "over": int(size["classes_over_cap"]),
        "struck": int(size["schools_struck_off"]),
        "shortfall": int(staff["shortfall"]),
        "funding": money / 1e4,
        "primary_cap": profile.cap("primary"),
        "junior_cap": profile.cap("junior"),
        "large_min": profile.large_class_min,
        "very_min": profile.very_large_class_min,
        "primary_ratio": profile.staffing.primary_students_per_staff,
        "junior_ratio": profile.staffing.junior_students_per_staff,
        "per_class": profile.staffing.small_school_teachers_per_class,
    }
    text = _FINDINGS[lang]
    lines = [line.format(**figures) for line in text["base"]]
    trend = _demand_trend(t["demand_by_county"])
    for row in trend or []:
        if lang == "zh":
            row = {
                **row,
                "level": VALUES_ZH[str(row["level"])],
                "scenario": VALUES_ZH.get(str(row["scenario"]), row["scenario"]),
            }
        lines.append(text["demand"].format(**row))
    lines += _access_findings(t.get("access_summary"), profile, text=text, lang=lang)
    return lines


def _access_findings(
    summary: pd.DataFrame | None,
    profile: Profile,
    *,
    text: _Findings,
    lang: Literal["zh", "en"],
) -> list[str]:
    """Children without a place and within the norm, by level: focus scenario, first plan year.

    With cross-county enrolment, also how many of those without a place take spare places
    across a county border.
    """
    if summary is None or summary.empty:
        return []
    scenario = focus_scenario(scenario_names(summary))
    rows = summary[(summary["scenario"] == scenario) & (summary["year"] == summary["year"].min())]
    lines = []
    for level, group in rows.groupby("level", sort=False):
        figures = group[["children", "unserved", "within_norm"]].sum()
        row = {
            "level": VALUES_ZH[str(level)] if lang == "zh" else str(level).capitalize(),
            "year": int(group["year"].iloc[0]),
            "scenario": VALUES_ZH.get(scenario, scenario) if lang == "zh" else scenario,
            "unserved": figures["unserved"],
            "share": figures["within_norm"] / figures["children"] if figures["children"] else 0,
            "radius": profile.radius(str(level), "urban"),
            "minutes": profile.minutes(str(level), setting="rural"),
        }
        line = text["access"].format(**row)
        if "across_border" in group.columns and figures["unserved"] > 0:
            line += text["across"].format(across=group["across_border"].sum())
        lines.append(line + text["end"])
    return lines


class _Findings(TypedDict):
    """The sentences of the findings in one language."""

    base: list[str]
    demand: str
    access: str
    across: str
    end: str


_FINDINGS: dict[str, _Findings] = {
    "zh": {
        "base": [
            "{n}个县（市、区），{schools}所学校，{year}年在校生{students:,}人。",
            "超过班额上限（小学{primary_cap}人、初中{junior_cap}人）的班级{over:,}个，其中"
            "{large_min}人及以上大班额{large:,}个（含{very_min}人及以上超大班额{very_large:,}个）；"
            "可销号学校{struck}所。",
            "按教职工编制标准（小学1:{primary_ratio:g}、初中1:{junior_ratio:g}，乡村小规模学校每班"
            "不少于{per_class:g}名），教师缺口合计{shortfall:,}人；公用经费应拨{funding:,.0f}万元/年。",
        ],
        "demand": "{scenario}：{level}学龄儿童由{first}年的{start:,.0f}人变为{last}年的"
        "{end:,.0f}人（{change:+.1%}）。",
        "access": "{scenario}，{year}年{level}：{unserved:,.0f}名学生在本县可达范围内没有学位；"
        "{share:.0%}在就学标准内（城镇服务半径{radius:,.0f}米，乡村单程{minutes:g}分钟）",
        "across": "；其中{across:,.0f}人可在邻县学校空余学位就读",
        "end": "。",
    },
    "en": {
        "base": [
            "{n} counties, {schools} schools, {students:,} pupils in {year}.",
            "{over:,} classes over the size cap (primary {primary_cap}, junior {junior_cap}), of "
            "which {large:,} are large classes of {large_min} or more ({very_large:,} very large, "
            "{very_min} or more); {struck} schools can be struck off the ledger.",
            "Teacher shortfall {shortfall:,} by the staffing norms (primary 1:{primary_ratio:g}, "
            "junior 1:{junior_ratio:g}, at least {per_class:g} per class in small rural "
            "schools); public funding due {funding:,.0f} x 10,000 yuan a year.",
        ],
        "demand": "Scenario {scenario}: {level} school-age children from {start:,.0f} in "
        "{first} to {end:,.0f} in {last} ({change:+.1%}).",
        "access": "{level}, {scenario} scenario, {year}: {unserved:,.0f} children have no place "
        "within reach in their county; {share:.0%} within the norm (urban radius "
        "{radius:,.0f} m, rural {minutes:g} minutes one way)",
        "across": "; {across:,.0f} of them can take spare places across a county border",
        "end": ".",
    },
}


def _demand_trend(totals: pd.DataFrame) -> list[dict[str, object]] | None:
    """Children of each level in the first and last projection year of the middle scenario."""
    if totals.empty:
        return None
    scenario = focus_scenario(scenario_names(totals))
    rows = totals[totals["scenario"] == scenario]
    by_year = rows.groupby(["level", "year"], observed=True)["children"].sum()
    first, last = int(rows["year"].min()), int(rows["year"].max())
    trend: list[dict[str, object]] = []
    for level in ("primary", "junior"):
        start, end = float(by_year[(level, first)]), float(by_year[(level, last)])
        change = (end - start) / start if start else float("nan")
        trend.append(
            {
                "scenario": scenario,
                "level": level,
                "first": first,
                "last": last,
                "start": start,
                "end": end,
                "change": change,
            }
        )
    return trend


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
    tables = indicator_tables(study["schools"], study.standards, teachers=teachers)
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
    cells = result.study["population"][["cell_id", "county_code", "township_code", "geometry"]]
    result.layers["cell_flags"] = cells.merge(found.cells, on="cell_id")
    result.tables["access_balance"] = found.balance
    result.tables["attendance"] = found.attendance
    result.layers["under_provisioned"] = found.areas
    result.layers["catchments"] = found.catchments
    result.layers["assignment"] = found.flows
    if found.border_arcs is not None:
        inputs = (found.border_unserved, found.border_arcs)
        result.tables.update(zip(BORDER_INPUTS, inputs, strict=True))
        if HALO not in result.study.layers:  # else settled on the merge of the counties
            result.tables = settle_borders(result.tables)


def _sites(result: PlanResult) -> None:
    """Small and boarding schools for every rural county, focus scenario, last plan year."""
    assert result.demand is not None
    focus = focus_scenario(scenario_names(result.demand))
    year = int(result.demand["year"].max())
    found = plan_sites(result.study, result.demand, year=year, scenario=focus)
    result.sites = found
    result.layers["site_proposals"] = found.proposals
    result.layers["site_candidates"] = found.candidates
    result.layers["site_coverage"] = found.coverage
    result.tables["site_proposals"] = pd.DataFrame(found.proposals.drop(columns="geometry"))


STEPS: list[tuple[str, Callable[[PlanResult], None]]] = [
    ("indicators", _indicators),
    ("demand", _demand),
    ("access", _access),
    ("sites", _sites),
]
"""The analysis steps of :func:`analyse`, in order; each adds to the result."""


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
    cell_demand = result.cell_demand()
    if cell_demand is not None:
        cells = study["population"][["cell_id", "county_code", "township_code", "geometry"]]
        layers["cells"] = cells
        layers["demand"] = cell_demand
    meta = {"study": study.name, "synthetic": str(study.synthetic).lower()}
    return write_geopackage(layers, path, metadata=meta)
