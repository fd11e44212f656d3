"""Where a layer is read from and how: the ``[layers.<name>]`` tables of a study TOML.

A layer table names its file and, when the file is kept as a bureau keeps it, how to read it::

    [layers.schools]
    path = "学校基本情况.xlsx"
    sheet = "小学"              # Excel sheet (name or 0-based number; default the first)
    header_row = 2             # Excel row of the headers (1 = first; default: found)
    encoding = "gbk"           # CSV or Shapefile without .cpg (default: found)
    x = "经度"                  # point columns of a table
    y = "纬度"
    datum = "gcj02"            # wgs84 | cgcs2000 | gcj02 (Gaode, Tencent) | bd09 (Baidu)
    columns = { "学校名称" = "name", "办学规模" = "capacity" }  # header -> field
    values.level = { "小学" = "primary", "九年一贯制" = "nine_year" }  # value -> code

Headers and values of :mod:`layout.sources.vocabulary` need no entry.

Examples
--------
>>> import pathlib
>>> sources, problems = sources_and_problems(
...     {"layers": {"schools": {"path": "s.csv", "x": "lon", "y": "lat", "datum": "gcj02"}}},
...     pathlib.Path("/tmp/study.toml"), required=())
>>> sources["schools"].datum, sources["schools"].where, problems
('gcj02', "s.csv, layer 'schools'", [])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _validate
from ..postgis import SOURCE_KEYS, source_problems
from ..schema import LAYERS
from .datum import DATUMS, is_web_datum, web_datum_fix

_KINDS: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "layer": (str,),
    "x": (str,),
    "y": (str,),
    "crs": (str,),
    "sheet": (str, int),
    "header_row": (int,),
    "encoding": (str,),
    "datum": (str,),
    "columns": (dict,),
    "values": (dict,),
}
FILE_KEYS: tuple[str, ...] = tuple(_KINDS)
"""Keys of a ``[layers.<name>]`` table of a file layer."""
FILE_NOTES: dict[str, str] = {
    "path": "the file, relative to the study TOML: .xlsx .xls .csv .shp .gpkg .geojson .parquet",
    "layer": "layer inside a multi-layer file (GeoPackage)",
    "x": "longitude (or easting) column of a table of points",
    "y": "latitude (or northing) column of a table of points",
    "crs": 'CRS of a file without one, or of projected x/y, e.g. "EPSG:4550"',
    "sheet": "Excel sheet, by name or 0-based position (default: the first)",
    "header_row": "Excel row of the headers, 1 = first (default: found under a title row)",
    "encoding": 'encoding of a CSV, or of a Shapefile without .cpg, e.g. "gbk" (default: found)',
    "datum": "datum of x/y degrees: wgs84 (GPS, 天地图), cgcs2000, gcj02 (高德, 腾讯), bd09 (百度)",
    "columns": 'file header to field, e.g. { "学校名称" = "name" } (known headers need none)',
    "values": 'per field, file value to code, e.g. values.level = { "完小" = "primary" }',
}
"""What each key of :data:`FILE_KEYS` means (the schema reference docs/study.md shows it)."""


@dataclass(frozen=True)
class LayerSource:
    """Where one layer is read from.

    Parameters
    ----------
    name
        Layer name in the study (a key of :data:`layout.schema.LAYERS`).
    path
        File path, absolute; ``None`` for a database layer.
    layer
        Layer inside a multi-layer file, if any.
    x, y
        Coordinate columns of a table of points (headers of the file).
    crs
        CRS to assume when the file carries none (a table); also overrides a missing CRS.
    database
        For a layer read from PostgreSQL/PostGIS: ``url`` or ``url_env``, ``table`` or
        ``query``, optional ``geometry`` (see :mod:`layout.postgis`).
    sheet, header_row
        Excel sheet (name or 0-based position) and the 1-based row holding the headers.
    encoding
        Text encoding of a CSV, or of a Shapefile without ``.cpg``; found when ``None``.
    datum
        Datum of ``x``/``y`` longitudes and latitudes (:data:`layout.sources.datum.DATUMS`).
    columns
        File header to schema field, beyond the headers known by default.
    values
        Per field, file value to code, beyond the values known by default.
    """

    name: str
    path: Path | None
    layer: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    database: Mapping[str, str] | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    datum: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def file(self) -> str:
        """The file name (or database table) alone."""
        if self.database is not None:
            return f"PostGIS {self.database.get('table') or 'query'}"
        assert self.path is not None
        return self.path.name

    @property
    def where(self) -> str:
        """``"<file>, layer '<name>'"`` (or the database table), used in messages."""
        if self.database is not None:
            return f"{self.file}, layer '{self.name}'"
        inner = f" (layer '{self.layer}' in the file)" if self.layer else ""
        sheet = f" (sheet {self.sheet!r})" if self.sheet is not None else ""
        return f"{self.file}{inner}{sheet}, layer '{self.name}'"


def sources_and_problems(
    config: Mapping[str, Any], path: Path, *, required: tuple[str, ...]
) -> tuple[dict[str, LayerSource], list[str]]:
    """Return the sources that are right, and one problem line per mistake of the others."""
    table = config.get("layers")
    if not isinstance(table, dict):
        return {}, [f"{path.name}: no [layers] table. Fix: add [layers.<name>] tables."]
    unknown = sorted(set(table) - set(LAYERS))
    problems = _validate.unknown_keys(unknown, list(LAYERS), where=f"{path.name}: [layers]")
    missing = [name for name in required if name not in table]
    if missing:
        problems.append(
            f"{path.name}: required layer(s) missing: {', '.join(missing)}. Fix: add a "
            "[layers.<name>] table for each (see docs/study.md)."
        )
    sources = {}
    for name, entry in table.items():
        where = f"{path.name}: [layers.{name}]"
        if name in unknown:
            continue
        if isinstance(entry, dict) and ({"url", "url_env"} & set(entry)):
            extra = sorted(set(entry) - SOURCE_KEYS)
            if extra:
                problems.append(f"{where}: unknown key(s) {', '.join(extra)} for a database layer.")
            problems += source_problems(entry, where=where)
            sources[name] = LayerSource(name=name, path=None, database=dict(entry))
            continue
        found = _entry_problems(entry, where=where, layer=name)
        if found:
            problems += found
            continue
        opts = {k: entry[k] for k in FILE_KEYS if k in entry and k != "path"}
        sources[name] = LayerSource(name=name, path=(path.parent / entry["path"]).resolve(), **opts)
    return sources, problems


def _entry_problems(entry: object, *, where: str, layer: str) -> list[str]:
    if not isinstance(entry, dict) or "path" not in entry:
        return [
            f"{where} needs 'path' (or 'url'/'url_env' for PostGIS) and may have "
            f"{', '.join(k for k in FILE_KEYS if k != 'path')}."
        ]
    problems = _validate.unknown_keys(list(entry), list(FILE_KEYS), where=where)
    for key, kinds in _KINDS.items():
        value = entry.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            names = " or ".join(
                {str: "a string", int: "a whole number", dict: "a table"}[k] for k in kinds
            )
            problems.append(f"{where}: {key} must be {names}, got {value!r}.")
    if isinstance(entry.get("crs"), str) and is_web_datum(entry["crs"]):
        problems.append(f"{where}: {web_datum_fix(entry['crs'], layer=layer)}.")
    if isinstance(entry.get("datum"), str) and entry["datum"] not in DATUMS:
        problems.append(
            f"{where}: datum must be one of {', '.join(DATUMS)}, got {entry['datum']!r}."
        )
    if isinstance(entry.get("header_row"), int) and entry["header_row"] < 1:
        problems.append(f"{where}: header_row counts from 1 (the first row of the sheet).")
    problems += _mapping_problems(entry, where=where, layer=layer)
    return problems


def _mapping_problems(entry: Mapping[str, Any], *, where: str, layer: str) -> list[str]:
    from .vocabulary import SOURCE_FIELDS

    spec = LAYERS[layer]
    fields = [*spec.required, *spec.optional, *SOURCE_FIELDS.get(layer, ())]
    problems = []
    columns = entry.get("columns")
    if isinstance(columns, dict):
        targets = [str(v) for v in columns.values()]
        problems += _validate.unknown_keys(targets, fields, where=f"{where} columns")
    values = entry.get("values")
    if isinstance(values, dict):
        problems += _validate.unknown_keys(
            list(values), list(spec.choices) or ["<none>"], where=f"{where} values"
        )
        for key, table in values.items():
            if not isinstance(table, dict):
                problems.append(
                    f'{where}: values.{key} must be a table, e.g. {{ "小学" = "primary" }}.'
                )
            elif key in spec.choices:
                bad = [str(v) for v in table.values() if v not in spec.choices[key]]
                problems += _validate.unknown_keys(
                    bad, list(spec.choices[key]), where=f"{where} values.{key}"
                )
    return problems
