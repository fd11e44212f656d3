"""Funding, staffing and the idle campus of a closure: the county before and after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from ..access import SCHOOL_ID, service_radii
from ..indicators import county_funding, county_staffing, funding, staffing
from ..schema import CHILD_LEVELS, LEVEL_GRADES, classes_columns, enrolment_columns
from ..standards import Profile
from ..study import Study
from ._levels import _Outcome

# --------------------------------------------------------------------------- money and staff


def _whole_split(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split whole ``totals`` over columns in proportion to ``weights`` (largest remainder)."""
    share = weights / weights.sum(axis=1, keepdims=True)
    raw = totals[:, None] * share
    base = np.floor(raw + 1e-9)
    left = (totals - base.sum(axis=1)).astype(np.int64)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    rank = np.argsort(order, axis=1, kind="stable")
    return cast(np.ndarray, (base + (rank < left[:, None])).astype(np.int64))


def _schools_after(
    schools: pd.DataFrame,
    *,
    provision: pd.DataFrame,
    receiving: pd.DataFrame,
    closed: Sequence[str],
    profile: Profile,
) -> pd.DataFrame:
    """Return the schools layer after the closure (see the module notes)."""
    frame = schools[~schools["school_id"].astype(str).isin(closed)].copy()
    ids = frame["school_id"].astype(str).to_numpy()
    for level in CHILD_LEVELS:
        rows = provision[provision["level"] == level].set_index(SCHOOL_ID)["received"]
        change = np.round(rows.reindex(ids).fillna(0.0).to_numpy())
        enrol_cols = [enrolment_columns()[g - 1] for g in LEVEL_GRADES[level]]
        class_cols = [classes_columns()[g - 1] for g in LEVEL_GRADES[level]]
        enrol = frame[enrol_cols].to_numpy(dtype=float)
        classes = frame[class_cols].to_numpy(dtype=float)
        taught = np.array(
            [[g in LEVEL_GRADES[lv] for g in LEVEL_GRADES[level]] for lv in frame["level"]],
            dtype=float,
        ).reshape(len(frame), len(enrol_cols))
        weights = np.where(
            enrol.sum(axis=1, keepdims=True) > 0,
            enrol,
            np.where(classes.sum(axis=1, keepdims=True) > 0, classes, taught),
        )
        moved = change != 0
        added = np.zeros_like(enrol)
        added[moved] = np.sign(change[moved])[:, None] * _whole_split(
            np.abs(change[moved]), weights[moved]
        )
        new = np.maximum(enrol + added, 0)
        cap = getattr(profile.class_size, f"{level}_cap")
        classes = np.where((new > 0) & (classes == 0), np.ceil(new / cap), classes)
        frame[enrol_cols] = new.astype(np.int64)
        frame[class_cols] = classes.astype(np.int64)
    extra = receiving.groupby(SCHOOL_ID)["new_boarders"].sum().astype(float)
    pupils = frame[enrolment_columns()].sum(axis=1).to_numpy()
    boarders = frame["boarders"].to_numpy() + np.round(
        extra.reindex(ids, fill_value=0.0).to_numpy()
    )
    frame["boarders"] = np.minimum(boarders, pupils).astype(np.int64)
    return frame


def _change(
    before: pd.DataFrame, after: pd.DataFrame, items: Sequence[str], counties: Sequence[str]
) -> pd.DataFrame:
    """County totals before and after, one row per county and item."""
    rows = []
    for county in counties:
        old = before.set_index("county_code").reindex([county]).iloc[0]
        new = after.set_index("county_code").reindex([county]).iloc[0]
        for item in items:
            b, a = float(np.nan_to_num(old[item])), float(np.nan_to_num(new[item]))
            rows.append(
                {"county_code": county, "item": item, "before": b, "after": a, "change": a - b}
            )
    return pd.DataFrame(rows, columns=["county_code", "item", "before", "after", "change"])


_FUNDING_ITEMS = (
    "students",
    "boarders",
    "schools_floor",
    "base_funding",
    "floor_top_up",
    "boarding_supplement",
    "total_funding",
)
_STAFFING_ITEMS = ("schools", "teachers_required", "teachers", "shortfall", "boarding_staff")


def _money(
    study: Study, *, closed: Sequence[str], outcome: _Outcome, counties: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """County funding and staffing before and after the closure."""
    profile = study.standards
    layer = study["schools"]
    before = layer[layer["county_code"].isin(counties)]
    after = _schools_after(
        before,
        provision=outcome.provision,
        receiving=outcome.receiving,
        closed=closed,
        profile=profile,
    )
    money = _change(
        county_funding(funding(before, profile)),
        county_funding(funding(after, profile)),
        _FUNDING_ITEMS,
        counties,
    )
    staff = _change(
        county_staffing(staffing(before, profile), profile),
        county_staffing(staffing(after, profile), profile),
        _STAFFING_ITEMS,
        counties,
    )
    return money, staff


# --------------------------------------------------------------------------- idle campus


def _idle(study: Study, closed: Sequence[str]) -> gpd.GeoDataFrame:
    """List the closed campuses, with planned schools and parcels within the service radius."""
    schools = study["schools"]
    rows = schools[schools["school_id"].astype(str).isin(closed)]
    radii = service_radii(study.standards)
    planned = schools["status"] == "planned"
    parcels = study["reserved_land"]
    unbuilt = parcels["status"] != "built"
    builds = pd.concat(
        [
            pd.Series(schools.geometry[planned].to_numpy(), index=schools["school_id"][planned]),
            pd.Series(parcels.geometry[unbuilt].to_numpy(), index=parcels["parcel_id"][unbuilt]),
        ]
    )
    places = gpd.GeoSeries(builds.to_numpy(), index=builds.index.astype(str), crs=schools.crs)
    nearby, radius = [], []
    for level, setting, point in zip(rows["level"], rows["setting"], rows.geometry, strict=True):
        r = max(radii[(str(setting), lv)] for lv in _LEVELS_OF[str(level)])
        ids = ", ".join(places.index[(places.distance(point) <= r).to_numpy()])
        nearby.append(ids)
        radius.append(r)
    table = pd.DataFrame(
        {
            "school_id": rows["school_id"].astype(str).to_numpy(),
            "name": rows["name"].astype(str).to_numpy(),
            "county_code": rows["county_code"].to_numpy(),
            "township_code": rows["township_code"].to_numpy(),
            "level": rows["level"].to_numpy(),
            "setting": rows["setting"].to_numpy(),
            "students": rows[enrolment_columns()].sum(axis=1).to_numpy(),
            "teachers": rows["teachers"].to_numpy(),
            "land_area_m2": rows["land_area_m2"].to_numpy(),
            "building_area_m2": rows["building_area_m2"].to_numpy(),
            "boarding_beds": rows["boarding_beds"].to_numpy(),
            "radius_m": radius,
            "nearby_planned": nearby,
        }
    )
    return gpd.GeoDataFrame(table, geometry=rows.geometry.to_numpy(), crs=schools.crs)


_LEVELS_OF = {
    "primary": ("primary",),
    "teaching_point": ("primary",),
    "junior": ("junior",),
    "nine_year": ("primary", "junior"),
}
"""Levels of children each kind of school teaches."""
