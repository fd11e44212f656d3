"""What ``layout land`` and ``layout closure`` say about the parcels and schools of a plan.

A reserved parcel is a candidate site only if it passes the land check's rules on the land
itself (:func:`layout.land.check_parcels`: large enough, no overlap); whether its children
justify it is the plan's to decide. Every merge or closure carries the figures of the impact
statement of closing that school alone (:func:`layout.closure.close_schools`) in its year.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..closure import VERDICTS, close_schools
from ..errors import ValidationError
from ..land import check_parcels
from ..study import Study

CLOSURE_FIGURES: tuple[str, ...] = (
    "children_moved",
    "mean_minutes_after",
    "grades_1_3_pushed",
    "new_boarders",
    "verdict",
)
"""Figures of the closure statement carried by a merge or close action (``closure_<name>``)."""


def parcel_checks(study: Study, demand: pd.DataFrame, *, county: str) -> pd.DataFrame:
    """Return the land check of the county's reserved parcels, indexed by ``parcel_id``.

    Parameters
    ----------
    study
        The study.
    demand
        One scenario of its demand layer, every plan year.
    county
        County code.

    Returns
    -------
    pandas.DataFrame
        :func:`layout.land.check_parcels`'s table (``land_ok``, ``overlap_ok``,
        ``primary_seats``, ``junior_seats``, ...), plus ``usable``: land and overlap rules met.
    """
    parcels = study.layers.get("reserved_land")
    if parcels is None:
        return pd.DataFrame(columns=["usable"])
    mine = parcels[(parcels["county_code"] == county).to_numpy()]
    if mine.empty:
        return pd.DataFrame(columns=["usable"])
    chosen = demand[(demand["county_code"] == county).to_numpy()]
    table = check_parcels(
        mine,
        schools=study["schools"],
        demand=gpd.GeoDataFrame(chosen, geometry="geometry", crs=study.crs),
        townships=study["townships"],
        profile=study.standards,
        years=study.plan_years,
    )
    table["usable"] = table["land_ok"] & table["overlap_ok"]
    return pd.DataFrame(table.drop(columns="geometry")).set_index("parcel_id")


def closure_figures(
    study: Study, actions: pd.DataFrame, demand: pd.DataFrame, *, scenario: str
) -> pd.DataFrame:
    """Add the closure statement's figures to each merge or close action.

    Parameters
    ----------
    study
        The study.
    actions
        The plan's actions (``year``, ``action``, ``level``, ``facility_id``).
    demand
        The demand layer of ``scenario``.
    scenario
        Its name.

    Returns
    -------
    pandas.DataFrame
        ``actions`` with ``closure_<figure>`` (:data:`CLOSURE_FIGURES`) for the school's level
        in the year it closes; a closure the statement refuses (it would leave the county
        without a school of the level, say) has its message in ``closure_verdict``.
    """
    out = actions.copy()
    for name in CLOSURE_FIGURES:
        out[f"closure_{name}"] = np.nan if name != "verdict" else ""
    closing = out.index[out["action"].isin(["merge", "close"]).to_numpy()]
    for row in closing:
        school, year = str(out.at[row, "facility_id"]), int(out.at[row, "year"])
        try:
            impact = close_schools(
                study, school_ids=[school], year=year, scenario=scenario, demand=demand
            )
        except ValidationError as error:
            out.at[row, "closure_verdict"] = str(error)
            continue
        summary = impact.summary[impact.summary["level"] == out.at[row, "level"]]
        if summary.empty:
            continue
        for name in CLOSURE_FIGURES:
            out.at[row, f"closure_{name}"] = summary[name].iloc[0]
        if summary["verdict"].iloc[0] != VERDICTS[0]:
            out.at[row, "note"] = (
                "closed alone (layout closure) its children would be worse off; in this plan "
                "they are seated within their norms at the schools it opens or keeps"
            )
    return out
