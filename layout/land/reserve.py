"""The township reserve check: reserved seats against each township's projected shortfall."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from ..access import parcel_seats, school_seats
from ..demand import demand_totals
from ..errors import ValidationError
from ..labels import Lang, code_name
from ..schema import CHILD_LEVELS
from ..standards import Profile
from . import _words as text
from ._common import (
    _EPS,
    LandOptions,
    _checked_parcels,
    _checked_schools,
    _one_scenario,
    _plan_years,
    _settings,
)

# --------------------------------------------------------------------------- township reserve


def township_reserve(
    townships: pd.DataFrame,
    *,
    parcels: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    demand: pd.DataFrame,
    profile: Profile,
    years: range | Sequence[int],
    statistic: Literal["max", "last"] = "max",
    options: LandOptions | None = None,
) -> pd.DataFrame:
    """Compare each township's reserved seats with its projected shortfall, per level.

    The shortfall is the projected children of the level (the most over the plan years, or
    in the last plan year) less the seats of the township's open schools (a nine-year
    school's split by its classes, teaching points as primary), and 0 if negative. Reserved
    seats are the planned seats of the township's parcels not yet ``built`` (a built school
    is counted as a school once it is open).

    Parameters
    ----------
    townships
        The townships layer (``township_code``, ``name``, ``county_code``, ``setting``).
    parcels
        The reserved_land layer.
    schools
        The schools layer, in the parcels' CRS.
    demand
        One scenario of the demand layer, or its totals by township
        (:func:`layout.demand.demand_totals` with ``by=("township_code",)``).
    profile
        Standards profile (class caps for the seats of parcels).
    years
        Plan years.
    statistic
        ``"max"``: the peak year of the children; ``"last"``: the last plan year.
    options
        Language of the reasons.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per township and level (primary, junior), in the townships' order:
        ``township_code``, ``name``, ``county_code``, ``level``, ``year``, ``children``,
        ``capacity``, ``seat_shortfall``, ``reserved_seats``, ``parcels``, ``reserve_ok``,
        ``reserve_reason``; with the township's geometry when ``townships`` has one.

    Examples
    --------
    See ``tests/test_land.py``; :func:`land_check` runs it on a study.
    """
    opts = options or LandOptions()
    parcels = _checked_parcels(parcels)
    schools = _checked_schools(schools, crs=parcels.crs)
    _validate.check_columns(
        townships, "townships", ["name", "county_code", "setting"]
    ).raise_if_any()
    _settings(parcels, townships, layer="reserved_land")
    if statistic not in ("max", "last"):
        raise ValidationError(f"statistic must be 'max' or 'last', got {statistic!r}")
    plan_years = _plan_years(years)
    by_year = _township_children(demand, plan_years)
    codes = townships["township_code"].astype(str).to_numpy()
    index = pd.MultiIndex.from_product([codes, CHILD_LEVELS], names=["township_code", "level"])
    counts = by_year.reindex(index, fill_value=0.0).to_numpy()
    pick = (
        np.argmax(counts, axis=1)
        if statistic == "max"
        else np.full(len(index), len(plan_years) - 1)
    )
    table = pd.DataFrame(
        {
            "township_code": index.get_level_values(0),
            "name": np.repeat(townships["name"].to_numpy(), len(CHILD_LEVELS)),
            "county_code": np.repeat(townships["county_code"].to_numpy(), len(CHILD_LEVELS)),
            "level": index.get_level_values(1),
            "year": plan_years[pick],
            "children": counts[np.arange(len(index)), pick],
        }
    )
    table = pd.concat([table, _reserve_figures(index, parcels, schools, profile)], axis=1)
    table = pd.concat([table, _reserve_rule(table, opts.lang)], axis=1)
    if isinstance(townships, gpd.GeoDataFrame):
        geometry = np.repeat(townships.geometry.to_numpy(), len(CHILD_LEVELS))
        spatial: pd.DataFrame = gpd.GeoDataFrame(table, geometry=geometry, crs=townships.crs)
        return spatial
    return table


def _township_children(demand: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
    """Children by (township, level) and plan year, from the demand layer or its totals."""
    if "cell_id" in demand.columns:
        _one_scenario(demand, years, ["township_code", "scenario", "year", "level", "children"])
        demand = demand_totals(demand, by=("township_code",))
    _one_scenario(demand, years, ["township_code", "scenario", "year", "level", "children"])
    rows = demand[demand["year"].isin(years) & demand["level"].isin(CHILD_LEVELS)]
    keys = [rows["township_code"].astype(str), rows["level"].astype(str), rows["year"]]
    sums = rows["children"].groupby(keys).sum()
    return sums.unstack("year").reindex(columns=years, fill_value=0.0).fillna(0.0)


def _reserve_figures(
    index: pd.MultiIndex, parcels: pd.DataFrame, schools: pd.DataFrame, profile: Profile
) -> pd.DataFrame:
    """Open seats, reserved seats and reserving parcels of each (township, level)."""
    capacity = school_seats(schools)[[f"capacity_{lv}" for lv in CHILD_LEVELS]]
    unbuilt = parcels[parcels["status"] != "built"]
    seats = parcel_seats(unbuilt, profile=profile)
    ids = pd.DataFrame(
        {lv: unbuilt["parcel_id"].astype(str).where(seats[lv] > 0) for lv in CHILD_LEVELS}
    )

    def per_township(frame: pd.DataFrame, towns: pd.Series, how: Any, empty: object) -> np.ndarray:
        frame = frame.set_axis(list(CHILD_LEVELS), axis=1)
        grouped = frame.groupby(towns.astype(str).to_numpy()).agg(how)
        values: np.ndarray = grouped.stack().reindex(index, fill_value=empty).to_numpy()
        return values

    return pd.DataFrame(
        {
            "capacity": per_township(capacity, schools["township_code"], "sum", 0.0),
            "reserved_seats": per_township(seats, unbuilt["township_code"], "sum", 0.0),
            "parcels": per_township(
                ids, unbuilt["township_code"], lambda s: ", ".join(s.dropna()), ""
            ),
        }
    )


def _reserve_rule(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Reserved seats against the shortfall."""
    shortfall = np.maximum(table["children"].to_numpy() - table["capacity"].to_numpy(), 0.0)
    ok = table["reserved_seats"].to_numpy() >= shortfall - _EPS
    reasons = [
        text.reason(
            "reserve",
            lang,
            level=code_name(str(row.level), lang),
            year=row.year,
            children=row.children,
            capacity=row.capacity,
            shortfall=gap,
            seats=row.reserved_seats,
            cmp=text.comparison(bool(passed), lang),
            parcels=text.reason("reserve_parcels", lang, ids=row.parcels) if row.parcels else "",
        )
        for row, gap, passed in zip(table.itertuples(), shortfall, ok, strict=True)
    ]
    return pd.DataFrame({"seat_shortfall": shortfall, "reserve_ok": ok, "reserve_reason": reasons})
