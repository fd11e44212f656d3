"""Turn a file's rows into a layer of the schema: headers to fields, values to codes, points.

:func:`conform` renames the file's headers (the layer's ``columns`` first, then the headers
known by :mod:`layout.sources.vocabulary`), maps values to codes (``values.<field>`` first,
then the known values), builds points from ``x``/``y`` in their datum, fills the county and
township codes a 12-digit statistical code (统计用区划代码) holds, and estimates grades and
single years of age (:mod:`layout.sources.estimates`). It returns the frame and the problems it
found, each ``(column, problem, fix)``; the caller adds them to the layer's check.

Examples
--------
>>> import pandas as pd
>>> from layout.sources.source import LayerSource
>>> raw = pd.DataFrame({"学校标识码": ["3621000001"], "学段": ["九年一贯制"], "经度": ["123.0"],
...                     "纬度": ["41.1"]})
>>> src = LayerSource("schools", None, datum="wgs84")
>>> frame, problems = conform(raw, src, base_year=2020)
>>> frame[["school_id", "level"]].iloc[0].tolist(), frame.crs.to_string(), problems
(['3621000001', 'nine_year'], 'EPSG:4326', [])
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..schema import LAYERS, age_columns, enrolment_columns
from .datum import DATUM_CRS, to_wgs84
from .estimates import AGE_GROUPS, ages_from_groups, grades_from_totals
from .source import LayerSource
from .vocabulary import default_columns, explicit_values, normalise, value_codes

LOG = logging.getLogger(__name__)

Problem = tuple[str | None, str, str]
"""``(column, problem, fix)``."""

_VILLAGE_DIGITS = 12
_TOWNSHIP_DIGITS = 9
_COUNTY_DIGITS = 6


def conform(
    raw: pd.DataFrame, source: LayerSource, *, base_year: int | None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Return the file's rows as the layer's fields, and the problems found doing it.

    Parameters
    ----------
    raw
        The rows as read (:func:`layout.sources.tables.read_source`); not modified.
    source
        The layer's source: ``columns``, ``values``, ``x``, ``y``, ``datum``, ``crs``.
    base_year
        Year of the population layer, for a population table without a year column.
    """
    spec = LAYERS[source.name]
    problems: list[Problem] = []
    frame = _renamed(raw, source, problems)
    _coded(frame, source)
    _codes_from_statistical_code(frame, source.name)
    if source.name == "population" and "year" not in frame.columns and base_year is not None:
        frame["year"] = base_year
        LOG.info("%s: no year column; the study's base_year %d is used", source.where, base_year)
    if (
        source.name in {"schools", "halo_schools"}
        and {"enrolment", "level"} <= set(frame.columns)
        and not (set(enrolment_columns()) & set(frame.columns))
    ):
        frame = grades_from_totals(frame)
        LOG.info(
            "%s: grades estimated from the totals (see layout.sources.estimates)", source.where
        )
    if set(AGE_GROUPS) <= set(frame.columns) and not set(age_columns()) & set(frame.columns):
        frame = ages_from_groups(frame)
        LOG.info("%s: single years of age estimated from 5-year groups", source.where)
    if spec.geometry is not None and not isinstance(frame, gpd.GeoDataFrame):
        frame = _points(frame, source, problems)
    elif isinstance(frame, gpd.GeoDataFrame) and source.datum in {"gcj02", "bd09"}:
        frame = _shifted(frame, datum=source.datum)
    return frame, problems


def _renamed(raw: pd.DataFrame, source: LayerSource, problems: list[Problem]) -> pd.DataFrame:
    headers = [str(c) for c in raw.columns]
    explicit = dict(source.columns)
    for header in explicit:
        if header not in headers:
            problems.append(
                (
                    header,
                    f"no column '{header}' in the file (it has {', '.join(headers)})",
                    f"correct columns in [layers.{source.name}]",
                )
            )
    taken = set(explicit.values()) | {h for h in headers if h not in explicit}
    guessed = default_columns([h for h in headers if h not in explicit], source.name)
    mapping = {h: f for h, f in explicit.items() if h in headers}
    for header, fieldname in guessed.items():
        if header != fieldname and fieldname not in taken | set(mapping.values()):
            mapping[header] = fieldname
    if source.x and source.y:
        mapping = {h: f for h, f in mapping.items() if f not in {"x", "y"}}
    renamed = [mapping.get(h, h) for h in headers]
    twice = sorted({c for c in renamed if renamed.count(c) > 1})
    for column in twice:
        sources = [h for h, r in zip(headers, renamed, strict=True) if r == column]
        problems.append(
            (
                column,
                f"{len(sources)} columns would be '{column}' ({', '.join(sources)})",
                f"map only one of them to '{column}' in columns of [layers.{source.name}]",
            )
        )
    out = raw.rename(columns=mapping)
    return out.loc[:, ~pd.Index(renamed).duplicated()]


def _coded(frame: pd.DataFrame, source: LayerSource) -> None:
    """Replace the values of choice fields (and yes/no flags written as text) by their codes."""
    spec = LAYERS[source.name]
    written = [f for f in spec.flags if f in frame.columns and frame[f].dtype.kind not in "biuf"]
    choices = dict(spec.choices) | {flag: ("0", "1") for flag in written}
    for fieldname, allowed in choices.items():
        if fieldname not in frame.columns:
            continue
        codes = value_codes(fieldname, allowed)
        codes.update(explicit_values(source.values.get(fieldname, {})))
        text = frame[fieldname].astype("string").str.strip()
        mapped = text.map(lambda v, c=codes: c.get(normalise(v)) if pd.notna(v) else None)
        mapped = mapped.astype(object)  # all unknown: no null-typed column
        frame[fieldname] = mapped.where(mapped.notna(), frame[fieldname])


def _codes_from_statistical_code(frame: pd.DataFrame, layer: str) -> None:
    """Fill county and township codes that a row's 12- or 9-digit statistical code holds."""
    code = None
    if layer == "population" and "cell_id" in frame.columns:
        code = frame["cell_id"].astype("string").str.strip()
        if not code.str.fullmatch(r"\d{12}").fillna(False).all():
            code = None
    if code is None and "township_code" in frame.columns:
        code = frame["township_code"].astype("string").str.strip()
    if code is None:
        return
    for column, digits in (("township_code", _TOWNSHIP_DIGITS), ("county_code", _COUNTY_DIGITS)):
        fits = code.str.len() >= digits
        if column not in frame.columns and fits.all() and layer not in {"counties", "townships"}:
            frame[column] = code.str[:digits]
    if layer == "townships" and "county_code" not in frame.columns:
        frame["county_code"] = code.str[:_COUNTY_DIGITS]


def _points(frame: pd.DataFrame, source: LayerSource, problems: list[Problem]) -> pd.DataFrame:
    """Build point geometry from the coordinate columns of a table."""
    xcol, ycol = source.x or "x", source.y or "y"
    missing = [c for c in (xcol, ycol) if c not in frame.columns]
    if missing:
        problems.append(
            (
                None,
                "a table of points needs its coordinate columns "
                f"(no {', '.join(map(repr, missing))} in {', '.join(map(str, frame.columns))})",
                f'set x = "<longitude column>" and y = "<latitude column>" in '
                f"[layers.{source.name}]",
            )
        )
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    x = pd.to_numeric(frame[xcol], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame[ycol], errors="coerce").to_numpy(dtype=float)
    crs = source.crs
    if crs is None and source.datum is None:
        problems.append(
            (
                xcol,
                "the datum of the coordinates is not stated (GCJ-02 coordinates from "
                "Gaode or Tencent maps lie about 500 m from the true place)",
                f'set datum = "wgs84" (GPS, 天地图), "cgcs2000", "gcj02" (高德, 腾讯) or "bd09" '
                f"(百度) in [layers.{source.name}]; or crs for projected metres",
            )
        )
    if crs is None and source.datum is not None:
        lonlat = to_wgs84(x, y, datum=source.datum)
        x, y, crs = lonlat[:, 0], lonlat[:, 1], DATUM_CRS[source.datum]
    geometry = gpd.points_from_xy(x, y)
    geometry[~(np.isfinite(x) & np.isfinite(y))] = None
    return gpd.GeoDataFrame(frame.drop(columns=[xcol, ycol]), geometry=geometry, crs=crs)


def _shifted(frame: gpd.GeoDataFrame, *, datum: str) -> gpd.GeoDataFrame:
    """Remove a web-map shift from every vertex of a GIS layer (GCJ-02 or BD-09)."""

    def undo(coords: np.ndarray) -> np.ndarray:
        return to_wgs84(coords[:, 0], coords[:, 1], datum=datum)

    out = frame.copy()
    out.geometry = shapely.transform(np.asarray(frame.geometry.array), undo)
    return out.set_crs(DATUM_CRS[datum], allow_override=True)
