"""Read one layer: its file as it is, conformed to the schema, checked, in the study CRS.

Examples
--------
>>> from layout.sources.layer import read_layer
>>> from layout.sources.source import LayerSource
>>> from layout.study import bundled_study_path
>>> src = LayerSource("counties", bundled_study_path().parent.parent
...                   / "boundaries" / "anshan.gpkg", layer="counties")
>>> len(read_layer(src, target_crs="EPSG:4550"))
7
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from .. import _validate
from ..postgis import engine_from_url, read_layer_from_postgis
from ..schema import LAYERS, LayerSpec
from .datum import Bounds, representative_xy, zone_problem
from .estimates import cells_from_points
from .fields import conform
from .source import LayerSource
from .tables import read_source

LOG = logging.getLogger(__name__)

_SCHOOL_LAYERS = frozenset({"schools", "halo_schools"})
_SKIP_EMPTY = frozenset({*_SCHOOL_LAYERS, "developments"})
SKIPPED_IDS = "layout_skipped_ids"
"""Key of a layer's ``attrs`` holding the ids of rows skipped for a missing geometry."""
_CODE_LAYERS = frozenset({"schools", "population", "developments", "reserved_land"})
"""Layers whose township and county codes may be filled by a spatial join."""


@dataclass(frozen=True)
class Context:
    """What the layers read first tell the later ones.

    Parameters
    ----------
    base_year
        The study's base year (population tables without a year).
    townships
        The townships layer in the study CRS: fills missing township and county codes.
    area
        The study area in the study CRS: village points become cells clipped to it.
    near
        Bounds of the study area (west, south, east, north in CGCS2000 degrees), for the
        Gauss-Kruger zone check.
    """

    base_year: int | None = None
    townships: gpd.GeoDataFrame | None = None
    area: BaseGeometry | None = None
    near: Bounds | None = None


def read_layer(
    source: LayerSource, *, target_crs: str, context: Context | None = None
) -> pd.DataFrame:
    """Read one layer, conform it to its spec, validate it and reproject it.

    Parameters
    ----------
    source
        Where the layer lives and how to read it.
    target_crs
        The study CRS every spatial layer is returned in.
    context
        What the layers read before tell this one (base year, townships, study area).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A new frame; the file is never modified.

    Raises
    ------
    layout.errors.ValidationError
        Every problem of the layer, each naming file, column, rows and the fix.
    """
    context = context or Context()
    spec = LAYERS[source.name]
    if source.database is not None:
        raw = _read_database(source.database)
    else:
        raw = read_source(source, spatial=spec.geometry is not None)
    frame, conform_problems = conform(raw, source, base_year=context.base_year)
    if isinstance(frame, gpd.GeoDataFrame):
        frame = _spatial_fill(frame, source, context, target_crs)
    check = _validate.LayerCheck(frame, spec, source.where, file=source.file)
    for column, what, fix in conform_problems:
        check.note(column, what, fix)
    if not check.columns():
        check.raise_if_any()
    check.ids_unique()
    check.values()
    if source.name in _SCHOOL_LAYERS:
        check.grades()
    if spec.geometry is None:
        check.raise_if_any()
        return typed(frame, spec)
    check.crs(frame.crs)
    check.swapped_lonlat(frame)
    _zone(check, frame, near=context.near)
    keep = check.geometry(skip_empty=source.name in _SKIP_EMPTY)
    check.raise_if_any()
    skipped = check.ids[~keep].tolist()
    frame = typed(frame[keep], spec).to_crs(target_crs)
    if skipped:
        frame.attrs[SKIPPED_IDS] = skipped  # read by the study's cross-layer checks, then dropped
    return frame


def _zone(check: _validate.LayerCheck, frame: gpd.GeoDataFrame, *, near: Any) -> None:
    geom = frame.geometry
    present = geom[~(geom.isna() | geom.is_empty)]
    if frame.crs is None or not len(present) or check.problems:
        return
    found = zone_problem(frame.crs, *representative_xy(present), near=near)
    if found is not None:
        check.note("geometry", *found)


def _spatial_fill(
    frame: gpd.GeoDataFrame, source: LayerSource, context: Context, target_crs: str
) -> gpd.GeoDataFrame:
    """Village points to cells; missing township and county codes from the townships layer."""
    if frame.crs is None or frame.geometry.isna().all():
        return frame
    if (
        source.name == "population"
        and context.area is not None
        and (frame.geom_type == "Point").all()
    ):
        frame = cells_from_points(frame.to_crs(target_crs), context.area)
        LOG.info("%s: village points made cells (Voronoi, clipped to the study)", source.where)
    townships = context.townships
    if townships is None or source.name not in _CODE_LAYERS or "township_code" in frame.columns:
        return frame
    points = gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=frame.crs)
    joined = gpd.sjoin(
        points.to_crs(townships.crs),
        townships[["township_code", "county_code", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated()]
    out = frame.copy()
    out["township_code"] = joined["township_code"].to_numpy()
    if "county_code" not in out.columns:
        out["county_code"] = joined["county_code"].to_numpy()
    LOG.info("%s: township codes filled from the townships layer by location", source.where)
    return out


def _read_database(entry: Mapping[str, str]) -> pd.DataFrame:
    engine = engine_from_url(entry.get("url"), url_env=entry.get("url_env"))
    try:
        return read_layer_from_postgis(
            engine,
            table=entry.get("table"),
            query=entry.get("query"),
            geometry=entry.get("geometry"),
        )
    finally:
        engine.dispose()


def typed(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Cast validated columns to their types (ids and codes as strings, counts as int64).

    An optional count column with blanks (not known) is kept as float64 with NaN there.
    """
    out = frame.copy()
    for col in (spec.id_column, *spec.text):
        if col in out.columns:
            out[col] = out[col].astype("string")
    for col in spec.counts:
        if col in out.columns:
            values = pd.to_numeric(out[col])
            out[col] = values.astype("float64" if values.isna().any() else "int64")
    for col in spec.numbers:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col]).astype("float64")
    return out.reset_index(drop=True)
