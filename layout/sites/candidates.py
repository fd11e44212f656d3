"""Candidate sites: reserved parcels, idle campuses, township seats, clusters of far children."""

from __future__ import annotations

import math
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans

from .. import _validate
from ..errors import ValidationError
from ..schema import HALO
from ..study import Study

# --------------------------------------------------------------------------- candidates


def candidate_sites(
    study: Study,
    *,
    level: str,
    flagged_cells: pd.DataFrame | None = None,
    county_code: str | None = None,
    n_clusters: int | None = None,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Gather and score the candidate sites of a new school of ``level``.

    Parameters
    ----------
    study
        The study (reserved_land, schools, townships, population, roads if any).
    level
        ``"primary"`` or ``"junior"``: parcels planned for that level or nine-year qualify.
    flagged_cells
        Cells whose children need a closer school: ``cell_id`` and ``children``. Their
        weighted k-means centres become ``cluster`` candidates.
    county_code
        Keep only the candidates in this county.
    n_clusters
        Number of clusters; by default one per ``small_school.students_below`` (100) flagged
        children, rounded up, and at most one per flagged cell.
    seed
        Seed of k-means (one k-means++ start: the clusters only seed candidates, and the
        covering model chooses among them).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the study CRS: ``candidate_id`` (``kind:source_id``), ``kind``
        (:data:`CANDIDATE_KINDS`), ``source_id`` (parcel, school or township id, or cluster
        number), ``county_code``, the distances ``road_m`` (NaN without roads),
        ``seat_m`` (to the nearest township seat of its county)
        and ``school_m`` (nearest open school), their parts ``road_part``, ``seat_part``,
        ``services_part`` (``1 / (1 + d / distance_scale_m)``), ``reuse_bonus`` and
        ``score = sum(weight_k * part_k) / sum(weights used) + reuse_bonus``, with the
        weights, scale and bonus of the profile's ``siting`` table (:class:`Siting
        <layout.standards.Siting>`): near a road (access for building and school buses), near
        the township seat (services and staff), near an open school (a proxy for public
        services). Without roads the road part is left out and the other weights are scaled
        up to sum to 1. The campus of a closing school gets the reuse bonus (the plan reuses
        idle campuses first).

    Raises
    ------
    ValidationError
        An unknown ``level``, or ``flagged_cells`` without its columns or with unknown cells.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> study = study_from_toml()
    >>> sites = candidate_sites(study, level="primary")
    >>> sorted(set(sites["kind"]))
    ['campus', 'parcel', 'seat']
    >>> bool(sites["score"].between(0, 1 + study.standards.siting.reuse_bonus).all())
    True
    """
    _validate.require_choice(level, "level", ("primary", "junior"))
    parts = [
        _parcel_sites(study, level),
        _campus_sites(study),
        _seat_sites(study),
        _cluster_sites(study, flagged_cells, n_clusters=n_clusters, seed=seed),
    ]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    sites = gpd.GeoDataFrame(frame, geometry="geometry", crs=study.crs)
    if county_code is not None:
        sites = sites[sites["county_code"] == county_code].reset_index(drop=True)
    return _scored(study, sites)


def _site_frame(
    kind: str, ids: pd.Series, counties: pd.Series, points: gpd.GeoSeries
) -> gpd.GeoDataFrame:
    names = ids.astype(str).to_numpy()
    return gpd.GeoDataFrame(
        {
            "candidate_id": [f"{kind}:{i}" for i in names],
            "kind": kind,
            "source_id": names,
            "county_code": counties.astype(str).to_numpy(),
        },
        geometry=points.to_numpy(),
        crs=points.crs,
    )


def _parcel_sites(study: Study, level: str) -> gpd.GeoDataFrame:
    """Centroids of reserved parcels planned for ``level`` (or nine-year), not yet built."""
    parcels = study.layers.get("reserved_land")
    if parcels is None:
        return gpd.GeoDataFrame()
    keep = parcels["planned_level"].isin([level, "nine_year"]) & (parcels["status"] != "built")
    chosen = parcels[keep.to_numpy()]
    return _site_frame(
        "parcel", chosen["parcel_id"], chosen["county_code"], chosen.geometry.centroid
    )


def _campus_sites(study: Study) -> gpd.GeoDataFrame:
    """Campuses of closing schools, of any level."""
    schools = study["schools"]
    chosen = schools[(schools["status"] == "closing").to_numpy()]
    return _site_frame("campus", chosen["school_id"], chosen["county_code"], chosen.geometry)


def _seat_points(study: Study) -> gpd.GeoSeries:
    towns = study["townships"]
    seats = gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"], crs="EPSG:4490")
    return gpd.GeoSeries(seats, index=towns.index).to_crs(study.crs)


def _seat_sites(study: Study) -> gpd.GeoDataFrame:
    """Township seats (seat_lon, seat_lat in EPSG:4490) in the study CRS."""
    towns = study["townships"]
    return _site_frame("seat", towns["township_code"], towns["county_code"], _seat_points(study))


def _cluster_sites(
    study: Study, flagged: pd.DataFrame | None, *, n_clusters: int | None, seed: int
) -> gpd.GeoDataFrame:
    """Weighted k-means centres of the flagged cells' centroids (weights = children)."""
    if flagged is None:
        return gpd.GeoDataFrame()
    missing = {"cell_id", "children"} - set(flagged.columns)
    if missing:
        raise ValidationError(
            f"flagged_cells lacks columns {sorted(missing)}; give cell_id and children"
        )
    cells = study["population"].set_index("cell_id")
    unknown = ~flagged["cell_id"].isin(cells.index)
    if unknown.any():
        raise ValidationError(
            f"flagged_cells has cell_id {flagged['cell_id'][unknown].tolist()[:5]} not in the "
            "population layer; pass cells of this study"
        )
    rows = flagged[flagged["children"].to_numpy() > 0]
    if rows.empty:
        return gpd.GeoDataFrame()
    weight = rows["children"].to_numpy(float)
    centres = cells.geometry.loc[rows["cell_id"]].centroid
    xy = np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])
    below = study.standards.small_school.students_below
    k = n_clusters or min(len(rows), math.ceil(weight.sum() / below))
    found = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(xy, sample_weight=weight)
    county = cells["county_code"].loc[rows["cell_id"]].to_numpy()
    by = pd.DataFrame({"label": found.labels_, "county": county, "w": weight})
    majority = by.groupby(["label", "county"])["w"].sum().reset_index()
    majority = majority.sort_values("w").drop_duplicates("label", keep="last").set_index("label")
    labels = np.arange(k)
    points = gpd.GeoSeries(gpd.points_from_xy(*found.cluster_centers_.T), crs=study.crs)
    return _site_frame(
        "cluster", pd.Series(labels), majority["county"].reindex(labels).fillna(""), points
    )


def _scored(study: Study, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add the distances, their parts and the suitability score."""
    out = sites.copy()
    xy = np.column_stack([out.geometry.x.to_numpy(), out.geometry.y.to_numpy()])
    out["road_m"] = np.nan
    if "roads" in study.layers and len(out):
        index, gaps = study["roads"].sindex.nearest(out.geometry, return_distance=True)
        out.loc[out.index[index[0]], "road_m"] = gaps
    out["seat_m"] = _nearest_seat_m(study, xy, out["county_code"].astype(str).to_numpy())
    out["school_m"] = _nearest_m(xy, _open_schools(study))
    siting = study.standards.siting
    weights = {
        "road": siting.road_weight,
        "seat": siting.seat_weight,
        "services": siting.services_weight,
    }
    if out["road_m"].isna().all():
        weights.pop("road")
    total = np.zeros(len(out))
    for part, distance in (("road", "road_m"), ("seat", "seat_m"), ("services", "school_m")):
        out[f"{part}_part"] = 1.0 / (1.0 + out[distance].to_numpy() / siting.distance_scale_m)
        if part in weights:
            total += weights[part] * np.nan_to_num(out[f"{part}_part"].to_numpy())
    out["reuse_bonus"] = np.where(out["kind"] == "campus", siting.reuse_bonus, 0.0)
    out["score"] = total / sum(weights.values()) + out["reuse_bonus"].to_numpy()
    return out


def _nearest_seat_m(study: Study, xy: np.ndarray, counties: np.ndarray) -> np.ndarray:
    """Straight-line metres from each site to the nearest township seat of its own county.

    The seats of other counties are left out: a township boarding school serves its own
    county's townships, and a county planned on its own (a partition) knows only its own.
    """
    towns = study["townships"]
    seats = _seat_points(study)
    seat_county = towns["county_code"].astype(str).to_numpy()
    found = np.full(len(xy), np.inf)
    for county in pd.unique(counties):
        mine = counties == county
        found[mine] = _nearest_m(xy[mine], seats[seat_county == county])
    return found


def _open_schools(study: Study) -> gpd.GeoSeries:
    """Points of the open schools near a site: the study's, and its halo schools if any.

    A county planned on its own holds the schools of other counties within the halo
    distance as its halo layer, so the nearest open school is the same as in the whole study
    wherever it lies within that distance.
    """
    layers = [study["schools"]] + ([study[HALO]] if HALO in study.layers else [])
    return gpd.GeoSeries(
        pd.concat([layer.geometry[(layer["status"] == "open").to_numpy()] for layer in layers]),
        crs=study.crs,
    )


def _nearest_m(xy: np.ndarray, points: gpd.GeoSeries) -> np.ndarray:
    """Straight-line metres from each row of ``xy`` to the nearest of ``points`` (inf if none)."""
    if len(points) == 0 or len(xy) == 0:
        return np.full(len(xy), np.inf)
    tree = cKDTree(np.column_stack([points.x.to_numpy(), points.y.to_numpy()]))
    return cast(np.ndarray, tree.query(xy)[0])
