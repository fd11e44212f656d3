"""``layout sites``: small, boarding and urban school proposals for some counties, written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ..demand import focus_scenario, scenario_names, study_demand
from ..maps import save_html
from ..maps.basemap import basemap_from_name
from ..maps.sites import plan_heading, sites_map
from ..report import write_pack
from ..sites import SitePlan, plan_sites
from ..study import Study
from ._pack import stage_index, staged_pack
from ._preflight import before_work


def write_site_plan(
    study: Study,
    found: SitePlan,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
    heading: str = "",
) -> list[Path]:
    """Write a site plan: ``sites.gpkg``, ``sites.xlsx`` and the map ``sites.html``.

    Parameters
    ----------
    study
        The study the plan was made on.
    found
        From :func:`layout.sites.plan_sites` (or ``rural_plan``, ``urban_plan``).
    out_dir, maps_dir, lang, tiles
        As for :func:`layout.runs.plan.plan`.
    heading
        What the plan was made for, shown on the map (:func:`layout.maps.sites.plan_heading`).

    Returns
    -------
    list of pathlib.Path
        The GeoPackage (layers ``site_proposals``, ``site_candidates``, ``site_coverage``),
        the spreadsheet (proposals, candidates) and the map.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from layout.demand import study_demand
    >>> from layout.sites import plan_sites
    >>> from layout.study import study_from_toml
    >>> study = study_from_toml()
    >>> found = plan_sites(study, study_demand(study), level="junior")
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_site_plan(study, found, out_dir=tmp, maps_dir=tmp)]
    ['sites.gpkg', 'sites.xlsx', 'sites.html']
    """
    with staged_pack("sites", [out_dir, maps_dir]) as pack:
        out, maps = pack.folders
        layers = {"site_proposals": found.proposals, "site_candidates": found.candidates,
                  "site_coverage": found.coverage}  # fmt: skip
        written = write_pack(layers, out, stem="sites", study=study, lang=lang,
                             sheets=["site_proposals", "site_candidates"])  # fmt: skip
        basemap = basemap_from_name(tiles)
        fmap = sites_map(study, found, lang=lang, basemap=basemap, heading=heading)
        written.append(save_html(fmap, maps / "sites.html", basemap=basemap))
        written += stage_index(pack, out_dir, maps_dir, written)
    return [pack.final(path) for path in written]


def sites_report(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    counties: list[str] | None = None,
    level: str = "both",
    year: int | None = None,
    scenario: str | None = None,
    lang: Literal["zh", "en"] = "zh",
    tiles: str = "none",
    **options: Any,
) -> tuple[SitePlan, list[Path]]:
    """Project the study's demand, plan sites (:func:`layout.sites.plan_sites`) and write them.

    Parameters
    ----------
    study
        The study.
    out_dir, maps_dir, lang, tiles
        As for :func:`write_site_plan`.
    counties
        County codes; every rural county (and urban ones named) by default.
    level, year
        As for :func:`layout.sites.plan_sites`.
    scenario
        Demographic scenario; the study's focus scenario by default.
    **options
        ``p``, ``budget``, ``radius_min`` of :func:`layout.sites.plan_sites`.

    Returns
    -------
    tuple of SitePlan and list of pathlib.Path
        The plan and the files written.
    """
    before_work(study, {"--out": out_dir, "--maps": maps_dir}, year=year)
    demand = study_demand(study, scenarios=None if scenario is None else [scenario])
    chosen = scenario or focus_scenario(scenario_names(demand))
    found = plan_sites(
        study, demand, counties=counties, year=year, scenario=chosen, level=level, **options
    )
    shown = int(year if year is not None else study.plan_years[-1])
    written = write_site_plan(
        study, found, out_dir=out_dir, maps_dir=maps_dir, lang=lang, tiles=tiles,
        heading=plan_heading(scenario=chosen, year=shown, lang=lang),
    )  # fmt: skip
    return found, written
