"""The development check: a school or parcel with room for the children, and 三同步."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import _validate
from ..access import school_seats, service_radii
from ..demand import YieldModel, development_children
from ..labels import Lang, code_name
from ..schema import CHILD_LEVELS
from ..standards import Profile
from . import _words as text
from ._common import (
    _EPS,
    LandOptions,
    _checked_developments,
    _checked_parcels,
    _checked_schools,
    _phase_links,
    _settings,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- developments


def check_developments(
    developments: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    townships: pd.DataFrame,
    profile: Profile,
    base_year: int,
    yield_model: YieldModel,
    options: LandOptions | None = None,
) -> gpd.GeoDataFrame:
    """Check every residential development: a place for its children, and 三同步.

    Phases are grouped by ``development_id``; see the module notes for the rules.

    Parameters
    ----------
    developments
        The developments layer (one row per phase). Not modified.
    schools
        The schools layer, in the parcels' CRS.
    parcels
        The reserved_land layer (polygons in a projected CRS).
    townships
        The townships layer: a development's setting is the township's of its first phase row.
    profile
        Standards profile: service radii.
    base_year
        Base year of the population counts; phases delivered in or before it bring no new
        children (see :func:`layout.demand.development_children`).
    yield_model
        Children per household (:func:`layout.demand.study_yields`, or ``YieldModel()`` for
        the default rates).
    options
        Radii overrides and language; defaults of :class:`LandOptions`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per development, in order of first appearance, with the union of its phases
        as geometry: ``development_id``, ``name``, ``county_code``, ``township_code``,
        ``setting``, ``phases``, ``households``, ``first_delivery_year``,
        ``school_parcel_id`` (linked parcels, comma-separated); per level
        ``<level>_children``, ``<level>_radius_m``, ``<level>_match`` (the school or parcel
        id), ``<level>_match_kind`` (``school``/``parcel``), ``<level>_distance_m``,
        ``<level>_ok``/``<level>_reason``; ``sync_ok``/``sync_reason``; and ``passed``.

    Raises
    ------
    ValidationError
        Naming the phases (and developments) with no delivery year, an unknown
        ``school_parcel_id``, bad values or geometries, or an unknown township.

    Examples
    --------
    See ``tests/test_land.py``; :func:`land_check` runs it on a study.
    """
    opts = options or LandOptions()
    parcels = _checked_parcels(parcels)
    phases = _checked_developments(developments, parcel_ids=parcels["parcel_id"], crs=parcels.crs)
    schools = _checked_schools(schools, crs=parcels.crs)
    table = _development_table(phases, _settings(phases, townships, layer="developments"))
    children = _new_children(phases, table.index, base_year=base_year, yield_model=yield_model)
    radii = service_radii(profile, overrides=opts.radii)
    links = _links(phases)
    spare = school_seats(schools)
    places = [
        _place_rule(
            table,
            children[level].to_numpy(),
            level=level,
            schools=schools.assign(spare=spare[f"spare_{level}"]),
            parcels=parcels,
            links=links,
            radius=table["setting"].map(lambda s, lv=level: radii[(s, lv)]).to_numpy(float),
            lang=opts.lang,
        )
        for level in CHILD_LEVELS
    ]
    table = pd.concat([table, *places], axis=1)
    table = pd.concat([table, _sync_rule(table, links, parcels, opts.lang)], axis=1)
    table["passed"] = table[[f"{lv}_ok" for lv in CHILD_LEVELS]].all(axis=1) & table["sync_ok"]
    log.info("developments: %d of %d pass", int(table["passed"].sum()), len(table))
    table = table.reset_index()
    return gpd.GeoDataFrame(table, geometry="geometry", crs=parcels.crs).pipe(
        lambda frame: frame[[*frame.columns.drop("geometry"), "geometry"]]
    )


def _links(phases: pd.DataFrame) -> pd.DataFrame:
    """Distinct (development_id, parcel_id) pairs linked by the phases' school_parcel_id."""
    links = pd.DataFrame(
        {"development_id": phases["development_id"].astype(str), "parcel_id": _phase_links(phases)}
    )
    return links.dropna().drop_duplicates().reset_index(drop=True)


def _development_table(phases: gpd.GeoDataFrame, settings: np.ndarray) -> gpd.GeoDataFrame:
    """One row per development: first-row attributes, sums, earliest delivery, union shape."""
    frame = pd.DataFrame(
        {
            "development_id": phases["development_id"].astype(str).to_numpy(),
            "name": phases["name"].to_numpy(),
            "county_code": phases["county_code"].to_numpy(),
            "township_code": phases["township_code"].to_numpy(),
            "setting": settings,
            "phases": 1,
            "households": _validate.numeric_values(phases, "households"),
            "first_delivery_year": _validate.numeric_values(phases, "delivery_year").astype(int),
        }
    )
    first = {c: "first" for c in ("name", "county_code", "township_code", "setting")}
    table = gpd.GeoDataFrame(frame, geometry=phases.geometry.to_numpy(), crs=phases.crs).dissolve(
        by="development_id",
        aggfunc={**first, "phases": "sum", "households": "sum", "first_delivery_year": "min"},
        sort=False,
    )
    links = _links(phases).groupby("development_id")["parcel_id"].agg(", ".join)
    table["school_parcel_id"] = links.reindex(table.index, fill_value="")
    return table


def _new_children(
    phases: pd.DataFrame, index: pd.Index, *, base_year: int, yield_model: YieldModel
) -> pd.DataFrame:
    """Children of each level each development brings at full occupancy of every phase."""
    model = yield_model
    delivery = _validate.numeric_values(phases, "delivery_year")
    full = int(delivery.max(initial=base_year)) + len(model.defaults.occupancy_ramp) - 1
    years = range(base_year, max(base_year + 1, full) + 1)
    table = development_children(phases, years=years, base_year=base_year, yield_model=model)
    development = table["phase_id"].map(
        pd.Series(phases["development_id"].astype(str).to_numpy(), index=phases["phase_id"])
    )
    by_year = table.groupby([development.rename("development_id"), "year", "level"])["children"]
    peak = by_year.sum().groupby(level=["development_id", "level"]).max().unstack("level")
    return peak.reindex(index=index, columns=list(CHILD_LEVELS)).fillna(0.0)


def _nearest(group: np.ndarray, n: int, *keys: np.ndarray) -> np.ndarray:
    """Position of each group's first pair ordered by ``keys``; -1 for a group with none."""
    order = np.lexsort((*keys[::-1], group))
    groups, first = np.unique(group[order], return_index=True)
    best = np.full(n, -1)
    best[groups] = order[first]
    return best


def _place_rule(
    table: gpd.GeoDataFrame,
    need: np.ndarray,
    *,
    level: str,
    schools: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    links: pd.DataFrame,
    radius: np.ndarray,
    lang: Lang,
) -> pd.DataFrame:
    """Find a school with room, or a parcel, within each development's radius for a level.

    ``schools`` carries each school's ``spare`` seats of the level.
    """
    geoms, n = table.geometry.to_numpy(), len(table)
    spare = schools["spare"].to_numpy(dtype=float)
    eligible = (
        (schools["status"] == "open") & schools["level"].isin([level, "nine_year"])
    ).to_numpy()
    school = _within(geoms, schools.geometry.to_numpy()[eligible], radius)
    school["spare"] = spare[eligible][school["other"]]
    school["fits"] = school["spare"].to_numpy() >= need[school["row"]] - _EPS
    school["id"] = schools["school_id"].astype(str).to_numpy()[eligible][school["other"]]
    fit = _nearest(
        school["row"].to_numpy(), n, ~school["fits"].to_numpy(), school["distance"].to_numpy()
    )
    closest = _nearest(school["row"].to_numpy(), n, school["distance"].to_numpy())
    reserve = parcels["planned_level"].isin([level, "nine_year"]).to_numpy()
    parcel = _within(geoms, parcels.geometry.to_numpy()[reserve], radius)
    parcel["id"] = parcels["parcel_id"].astype(str).to_numpy()[reserve][parcel["other"]]
    pairs = pd.MultiIndex.from_arrays([table.index.to_numpy()[parcel["row"]], parcel["id"]])
    linked = pairs.isin(pd.MultiIndex.from_frame(links))
    plot = _nearest(parcel["row"].to_numpy(), n, ~linked, parcel["distance"].to_numpy())
    columns = _place_columns(
        need,
        level=level,
        radius=radius,
        school=(school, fit, closest),
        parcel=(parcel, plot),
        lang=lang,
    )
    return columns.set_axis(table.index)


def _within(geoms: np.ndarray, others: np.ndarray, radius: np.ndarray) -> pd.DataFrame:
    """Pairs (row, other, distance) of ``others`` within ``radius`` of each geometry."""
    rows, found = shapely.STRtree(others).query(geoms, predicate="dwithin", distance=radius)
    distance = shapely.distance(geoms[rows], others[found])
    return pd.DataFrame({"row": rows, "other": found, "distance": distance})


def _place_columns(
    need: np.ndarray,
    *,
    level: str,
    radius: np.ndarray,
    school: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    parcel: tuple[pd.DataFrame, np.ndarray],
    lang: Lang,
) -> pd.DataFrame:
    """Columns of the place rule from the best school and parcel pairs of each development."""
    schools, fit, closest = school
    parcels, plot = parcel
    name = code_name(level, lang)
    rows = []
    for i, (children, r) in enumerate(zip(need, radius, strict=True)):
        row = {"match": "", "match_kind": "", "distance_m": np.nan, "ok": True}
        common = {"level": name, "children": children, "radius": r}
        if children <= _EPS:
            row["reason"] = text.reason("no_children", lang, level=name)
        elif fit[i] >= 0 and schools["fits"].iat[fit[i]]:
            best = schools.iloc[fit[i]]
            row |= {"match": best["id"], "match_kind": "school", "distance_m": best["distance"]}
            row["reason"] = text.reason(
                "by_school",
                lang,
                id=best["id"],
                distance=best["distance"],
                spare=best["spare"],
                **common,
            )
        elif plot[i] >= 0:
            best = parcels.iloc[plot[i]]
            row |= {"match": best["id"], "match_kind": "parcel", "distance_m": best["distance"]}
            row["reason"] = text.reason(
                "by_parcel", lang, id=best["id"], distance=best["distance"], **common
            )
        else:
            near = schools.iloc[closest[i]] if closest[i] >= 0 else None
            nearest = (
                ""
                if near is None
                else text.reason(
                    "nearest", lang, id=near["id"], distance=near["distance"], spare=near["spare"]
                )
            )
            row |= {"ok": False, "reason": text.reason("unserved", lang, nearest=nearest, **common)}
        rows.append(row)
    out = pd.DataFrame(rows, columns=["match", "match_kind", "distance_m", "ok", "reason"])
    out.insert(0, "radius_m", radius)
    out.insert(0, "children", need)
    return out.add_prefix(f"{level}_")


def _sync_rule(
    table: pd.DataFrame, links: pd.DataFrame, parcels: pd.DataFrame, lang: Lang
) -> pd.DataFrame:
    """Check 三同步: linked school parcels delivered no later than the first phase."""
    year = pd.Series(
        _validate.numeric_values(parcels, "delivery_year"), index=parcels["parcel_id"].astype(str)
    )
    linked = links.assign(parcel_year=links["parcel_id"].map(year))
    latest = linked.sort_values("parcel_year", ascending=False).drop_duplicates("development_id")
    latest = latest.set_index("development_id").reindex(table.index)
    parcel_year = latest["parcel_year"].to_numpy(dtype=float)
    first = table["first_delivery_year"].to_numpy(dtype=int)
    late = parcel_year - first
    served = np.logical_and.reduce(
        [
            (table[f"{lv}_children"] <= _EPS) | (table[f"{lv}_match_kind"] == "school")
            for lv in CHILD_LEVELS
        ]
    )
    linked_any = ~np.isnan(parcel_year)
    ok = np.where(linked_any, late <= 0, served)
    ids = np.where(ok, table["school_parcel_id"], latest["parcel_id"])
    reasons = [
        text.reason(
            ("sync_on_time" if o else "sync_late")
            if has
            else ("sync_none_served" if o else "sync_none_unserved"),
            lang,
            id=i,
            parcel_year=int(y) if has else None,
            first=f,
            late=int(d) if has else None,
        )
        for has, o, i, y, f, d in zip(linked_any, ok, ids, parcel_year, first, late, strict=True)
    ]
    return pd.DataFrame({"sync_ok": ok, "sync_reason": reasons}, index=table.index)
