"""Seats across county borders: children left without a place take spare places next door.

Used where the profile allows ``cross_county_enrolment`` (:func:`settle_borders`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..study import Study
from .allocate import Assignment, assign
from .costs import TravelCosts

BORDER_INPUTS: tuple[str, ...] = ("border_unserved", "border_arcs")
"""Names of the tables :func:`settle_borders` takes (and drops) when seating across borders."""

_NO_PLACE = 1e-9
"""Spare places at or below this are none (floating-point noise of the assignment)."""

_NO_SEATS = pd.DataFrame(
    {
        "scenario": pd.Series(dtype=object),
        "year": pd.Series(dtype="int64"),
        "level": pd.Series(dtype=object),
        "cell_id": pd.Series(dtype=object),
        "county_code": pd.Series(dtype=object),
        "school_id": pd.Series(dtype=object),
        "school_county_code": pd.Series(dtype=object),
        "children": pd.Series(dtype=float),
        "metres": pd.Series(dtype=float),
        "minutes": pd.Series(dtype=float),
    }
)
"""Columns of the ``border_seats`` table."""


def settle_borders(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Seat children left without a place in their county at spare places across the border.

    When the profile allows ``cross_county_enrolment``, every county first seats its own
    children (:func:`access`); then, for each scenario, year and level, the children still
    without a place take the places its own children left spare in schools of other counties
    within the halo distance, by the same exact assignment (least total travel, then seating
    the most children possible). In a county-by-county run this happens once every county is
    done, on the merged tables (:func:`layout.runs.merge.merge_counties`), so that a county's
    spare places are known and shared by all its neighbours.

    Parameters
    ----------
    tables
        Result tables with ``access_summary``, ``access_schools``, ``border_unserved`` and
        ``border_arcs`` (see :class:`Access`).

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables without ``border_unserved`` and ``border_arcs``, with ``border_seats`` (one
        row per cell and school of another county: ``scenario``, ``year``, ``level``,
        ``cell_id``, ``county_code``, ``school_id``, ``school_county_code``, ``children``,
        ``metres``, ``minutes``), ``across_border`` and ``unserved_after_border`` added to
        ``access_summary`` (by county when it has a ``county_code`` column), and
        ``load_across_border`` to ``access_schools``.

    Examples
    --------
    Cell ``c`` of county A has 30 children without a place; school ``t`` of county B, 2 km
    away, has 20 places spare:

    >>> import pandas as pd
    >>> key = {"scenario": "medium", "year": 2030, "level": "primary"}
    >>> tables = {
    ...     "access_summary": pd.DataFrame([{**key, "children": 130.0, "unserved": 30.0}]),
    ...     "access_schools": pd.DataFrame([{**key, "school_id": "t", "spare": 20.0}]),
    ...     "border_unserved": pd.DataFrame(
    ...         [{**key, "cell_id": "c", "county_code": "A", "children": 30.0}]),
    ...     "border_arcs": pd.DataFrame([{"level": "primary", "cell_id": "c", "school_id": "t",
    ...         "school_county_code": "B", "metres": 2000.0, "minutes": 33.3}]),
    ... }
    >>> settled = settle_borders(tables)
    >>> settled["access_summary"][["across_border", "unserved_after_border"]].values.tolist()
    [[20.0, 10.0]]
    >>> settled["access_schools"]["load_across_border"].tolist()
    [20.0]
    """
    out = dict(tables)
    unserved, arcs = (out.pop(name) for name in BORDER_INPUTS)
    keys = ["scenario", "year", "level"]
    spare = out["access_schools"].set_index([*keys, "school_id"])["spare"]
    seats = [_border_seats(group, arcs, spare, key) for key, group in unserved.groupby(keys)]
    found = pd.concat([_NO_SEATS, *seats], ignore_index=True).astype(_NO_SEATS.dtypes)
    summary = out["access_summary"]
    by = [c for c in ("county_code", *keys) if c in summary.columns]
    taken = found.groupby(by)["children"].sum().rename("across_border")
    summary = summary.join(taken, on=by)
    summary["across_border"] = summary["across_border"].fillna(0.0)
    summary["unserved_after_border"] = summary["unserved"] - summary["across_border"]
    schools = out["access_schools"]
    load = found.groupby([*keys, "school_id"])["children"].sum().rename("load_across_border")
    schools = schools.join(load, on=[*keys, "school_id"])
    schools["load_across_border"] = schools["load_across_border"].fillna(0.0)
    out.update(access_summary=summary, access_schools=schools, border_seats=found)
    return out


def _border_seats(
    unserved: pd.DataFrame, arcs: pd.DataFrame, spare: pd.Series, key: tuple[str, int, str]
) -> pd.DataFrame:
    """Assign one scenario, year and level's unserved children to spare places across."""
    scenario, year, level = key
    places = spare.xs((scenario, year, level), level=["scenario", "year", "level"])
    places = places[places > _NO_PLACE]
    mine = arcs[
        (arcs["level"] == level)
        & arcs["cell_id"].isin(unserved["cell_id"])
        & arcs["school_id"].isin(places.index)
    ]
    if mine.empty:
        return _NO_SEATS.iloc[:0]
    costs = TravelCosts.from_arcs(mine[["cell_id", "school_id", "metres", "minutes"]])
    capacity = places.reindex(costs.schools).rename("capacity").reset_index()
    result = assign(unserved[unserved["cell_id"].isin(costs.cells)], capacity, costs)
    county = unserved.set_index("cell_id")["county_code"]
    school_county = mine.drop_duplicates("school_id").set_index("school_id")["school_county_code"]
    flows = result.flows
    return pd.DataFrame(
        {
            "scenario": scenario,
            "year": year,
            "level": level,
            "cell_id": flows["cell_id"].to_numpy(),
            "county_code": county.reindex(flows["cell_id"]).to_numpy(),
            "school_id": flows["school_id"].to_numpy(),
            "school_county_code": school_county.reindex(flows["school_id"]).to_numpy(),
            "children": flows["children"].to_numpy(),
            "metres": flows["metres"].to_numpy(),
            "minutes": flows["minutes"].to_numpy(),
        }
    )


def _border_inputs(
    parts: dict[str, list[pd.DataFrame]],
    study: Study,
    arcs: pd.DataFrame,
    results: Sequence[Assignment],
    keys: Sequence[dict[str, object]],
) -> None:
    """Keep the unserved children who have a school across the border, and their arcs."""
    county = study["population"].set_index("cell_id")["county_code"]
    reachable = pd.Index(arcs["cell_id"].unique())
    rows = []
    for key, result in zip(keys, results, strict=True):
        short = result.unserved[result.unserved["cell_id"].isin(reachable)]
        rows.append(
            pd.DataFrame(
                {
                    **key,
                    "cell_id": short["cell_id"].to_numpy(),
                    "county_code": county.reindex(short["cell_id"]).to_numpy(),
                    "children": short["children"].to_numpy(),
                }
            )
        )
    unserved = pd.concat(rows, ignore_index=True)
    parts["border_unserved"].append(unserved)
    used = arcs[arcs["cell_id"].isin(unserved["cell_id"])]
    parts["border_arcs"].append(used.assign(level=keys[0]["level"]))
