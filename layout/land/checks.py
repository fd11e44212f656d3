"""The land check of a study: the three checks on its layers, and the match lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from ..demand import focus_scenario, study_demand, study_scenarios, study_yields
from ..schema import CHILD_LEVELS
from ..study import Study
from ._common import LandOptions
from .developments import check_developments
from .parcels import check_parcels
from .reserve import township_reserve

# --------------------------------------------------------------------------- study run


@dataclass
class LandCheck:
    """What a land check of a study produced.

    Attributes
    ----------
    study
        The study checked.
    parcels
        :func:`check_parcels` on its reserved land.
    developments
        :func:`check_developments` on its developments.
    township_reserve
        :func:`township_reserve` of its townships.
    links
        One line per development and level from the development to the school or parcel that
        takes its children (``development_id``, ``level``, ``kind``, ``target_id``,
        ``distance_m``).
    outputs
        Files written.
    """

    study: Study
    parcels: gpd.GeoDataFrame
    developments: gpd.GeoDataFrame
    township_reserve: pd.DataFrame
    links: gpd.GeoDataFrame
    outputs: list[Path] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the output tables by layer name: parcels_check, developments_check, ..."""
        return {
            "parcels_check": self.parcels,
            "developments_check": self.developments,
            "township_reserve": self.township_reserve,
            "development_links": self.links,
        }


def land_checks(
    study: Study, *, scenario: str | None = None, options: LandOptions | None = None
) -> LandCheck:
    """Run the three land checks on a study and draw the match lines; write nothing.

    Demand is the study's (:func:`layout.demand.study_demand`) under one scenario over the
    plan years, and the children of each development come from the same fitted yields, so
    the land check and the education plan count the same children.

    Parameters
    ----------
    study
        A loaded study.
    scenario
        Name of the demographic scenario; the study's focus scenario (``medium``) by default.
    options
        Thresholds and language of the checks.

    Returns
    -------
    LandCheck

    Raises
    ------
    ValidationError
        For an unknown scenario, or bad layers (see the check functions).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> found = land_checks(study_from_toml())
    >>> sorted(found.tables())
    ['development_links', 'developments_check', 'parcels_check', 'township_reserve']
    """
    options = options or LandOptions()
    names = [s.name for s in study_scenarios(study)]
    chosen = focus_scenario(names) if scenario is None else scenario
    yield_model = study_yields(study)
    demand = study_demand(study, scenarios=[chosen], yields=yield_model)
    schools, parcels, townships = study["schools"], study["reserved_land"], study["townships"]
    checked = check_parcels(
        parcels,
        schools=schools,
        demand=demand,
        townships=townships,
        profile=study.standards,
        years=study.plan_years,
        options=options,
    )
    developments = check_developments(
        study["developments"],
        schools=schools,
        parcels=parcels,
        townships=townships,
        profile=study.standards,
        base_year=study.base_year,
        yield_model=yield_model,
        options=options,
    )
    reserve = township_reserve(
        townships,
        parcels=parcels,
        schools=schools,
        demand=demand,
        profile=study.standards,
        years=study.plan_years,
        options=options,
    )
    links = _match_lines(developments, schools=schools, parcels=parcels)
    return LandCheck(study, checked, developments, reserve, links)


def _match_lines(
    developments: gpd.GeoDataFrame, *, schools: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Shortest lines from each development to the school or parcel matched to each level."""
    targets = pd.concat(
        [
            pd.Series(
                schools.geometry.to_numpy(), index="school\n" + schools["school_id"].astype(str)
            ),
            pd.Series(
                parcels.geometry.to_numpy(), index="parcel\n" + parcels["parcel_id"].astype(str)
            ),
        ]
    )
    parts = []
    for level in CHILD_LEVELS:
        kind = developments[f"{level}_match_kind"]
        rows = developments[kind != ""]
        parts.append(
            pd.DataFrame(
                {
                    "development_id": rows["development_id"],
                    "level": level,
                    "kind": rows[f"{level}_match_kind"],
                    "target_id": rows[f"{level}_match"],
                    "distance_m": rows[f"{level}_distance_m"],
                    "start": rows.geometry.to_numpy(),
                }
            )
        )
    lines = pd.concat(parts, ignore_index=True)
    ends = targets.reindex(lines["kind"] + "\n" + lines["target_id"]).to_numpy()
    geometry = shapely.shortest_line(lines.pop("start").to_numpy(), ends)
    return gpd.GeoDataFrame(lines, geometry=geometry, crs=developments.crs)
