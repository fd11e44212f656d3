"""``layout phases``: a county's phased plan over the plan years, written to ``out/phases/``.

Examples
--------
``layout phases --county 210311`` runs :func:`phases_report` on the bundled study; see
``tests/test_phases.py`` for a run on the tiny study and the files it writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..demand import focus_scenario, study_scenarios
from ..labels import Lang
from ..maps.basemap import basemap_from_name
from ..maps.offline import save_html
from ..maps.phases import phases_map
from ..phases import TIME_LIMIT, PhasedPlan, phased_plan
from ..phases.inputs import AREAS
from ..report import plot_phase_timeline, write_pack
from ..study import Study
from ._pack import stage_index, staged_pack
from ._preflight import before_work


def phases_report(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    *,
    county: str,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    scenario: str | None = None,
    budget: float | None = None,
    areas: int = AREAS,
    time_limit: float = TIME_LIMIT,
    lang: Lang = "zh",
    tiles: str = "none",
) -> tuple[PhasedPlan, list[Path]]:
    """Plan a county's schools over the plan years (:func:`layout.phases.phased_plan`), write it.

    Writes ``<out_dir>/phases/phases.gpkg`` (layers ``phase_actions`` with the facilities'
    points, ``phase_timeline``, ``phase_summary``), ``phases.xlsx`` (one sheet each) and the
    chart ``timeline-<county>.png`` of places against children, and the map
    ``<maps_dir>/phases-<county>.html`` of the actions with a year slider; the index page
    links them.

    Parameters
    ----------
    study
        The study.
    county
        County code.
    out_dir, maps_dir
        The output folders.
    scenario
        Demographic scenario; the study's focus scenario (medium) by default.
    budget
        Most capital spent in any one year (yuan); no limit by default.
    areas, time_limit
        As for :func:`layout.phases.phased_plan`.
    lang
        Language of the spreadsheet, the chart and the map.
    tiles
        Basemap of the map (:data:`layout.maps.basemap.BASEMAPS`) or ``"none"``.

    Returns
    -------
    tuple of PhasedPlan and list of pathlib.Path
        The plan and the files written.
    """
    before_work(study, {"--out": out_dir, "--maps": maps_dir})
    names = [s.name for s in study_scenarios(study)]
    chosen = scenario or focus_scenario(names)
    plan = phased_plan(
        study, county=county, scenario=chosen, budget=budget, areas=areas, time_limit=time_limit
    )
    with staged_pack("phases", [Path(out_dir) / "phases", maps_dir, out_dir]) as pack:
        folder, maps = pack.folders[:2]
        layers = {
            "phase_actions": plan.actions,
            "phase_timeline": plan.timeline,
            "phase_summary": plan.summary(),
        }
        written = write_pack(layers, folder, stem="phases", study=study, lang=lang)
        chart = folder / f"timeline-{county}.png"
        written.append(
            plot_phase_timeline(
                plan.timeline, chart, county_code=county, scenario=chosen, lang=lang
            )  # fmt: skip
        )
        basemap = basemap_from_name(tiles)
        fmap = phases_map(study, plan, lang=lang, basemap=basemap)
        written.append(save_html(fmap, maps / f"phases-{county}.html", basemap=basemap))
        written += stage_index(pack, out_dir, maps_dir, written)
    return plan, [pack.final(path) for path in written]
