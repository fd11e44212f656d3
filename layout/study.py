"""The study: one TOML file naming its layers, planning years and standards profile.

A study TOML looks like this (paths are relative to the TOML file)::

    [study]
    name = "anshan"
    title = "鞍山市义务教育学校布局（合成样例数据）"
    synthetic = true
    crs = "EPSG:4550"          # projected CRS for all metric work
    base_year = 2020           # year of the population layer
    school_year = 2024         # year of the school data
    plan_start = 2025
    plan_end = 2035
    profile = "anshan-2020"
    data_date = "2024-09-01"

    [layers.schools]
    path = "anshan.gpkg"       # GeoPackage, GeoParquet (.parquet), Shapefile or CSV
    layer = "schools"          # layer inside a multi-layer file
    # a CSV point layer also names its coordinate columns and CRS:
    # x = "lon"; y = "lat"; crs = "EPSG:4490"

Every layer is read, checked against :mod:`layout.schema` and reprojected to the study CRS.
Input files are only read, never written.

Examples
--------
>>> from layout.study import study_from_toml
>>> study = study_from_toml()  # the bundled, synthetic Anshan sample
>>> study.name, study.crs
('anshan', 'EPSG:4550')
>>> sorted(study.layers)[:3]
['counties', 'developments', 'population']
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
from pyarrow.lib import ArrowException
from pyproj import CRS
from pyproj.exceptions import CRSError

from . import _validate
from .errors import StudyError, ValidationError
from .network import RoadNetwork
from .postgis import SOURCE_KEYS, engine_from_url, read_layer_from_postgis, source_problems
from .schema import LAYERS, REQUIRED_LAYERS
from .standards import Profile, load_profile

LOG = logging.getLogger(__name__)

_STUDY_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "title": str,
    "synthetic": bool,
    "description": str,
    "crs": str,
    "base_year": int,
    "school_year": int,
    "plan_start": int,
    "plan_end": int,
    "profile": str,
    "data_date": str,
}
_SOURCE_KEYS = {"path", "layer", "x", "y", "crs"}
TABLES: tuple[str, ...] = ("study", "layers", "scenarios", "standards", "yields")
"""The top-level tables of a study TOML: ``[yields]`` is written by a county partition."""
_TABLE_SUFFIXES = {".csv"}
_SCHOOL_LAYERS = frozenset({"schools", "halo_schools"})
_SKIPPED = "layout_skipped_ids"
"""Key of a layer's ``attrs`` holding the ids of rows skipped for a missing geometry."""
_OUTSIDE_LAYERS = frozenset({"counties", "teachers", "roads", "halo_schools"})
"""Layers whose rows need not belong to a county or township of the study."""


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
        Coordinate columns of a CSV point layer.
    crs
        CRS to assume when the file carries none (CSV); also overrides a missing CRS.
    database
        For a layer read from PostgreSQL/PostGIS: ``url`` or ``url_env``, ``table`` or
        ``query``, optional ``geometry`` (see :mod:`layout.postgis`).
    """

    name: str
    path: Path | None
    layer: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    database: Mapping[str, str] | None = None

    @property
    def where(self) -> str:
        """``"<file>, layer '<name>'"`` (or the database table), used in messages."""
        if self.database is not None:
            what = self.database.get("table") or "query"
            return f"PostGIS {what}, layer '{self.name}'"
        assert self.path is not None
        inner = f" (layer '{self.layer}' in the file)" if self.layer else ""
        return f"{self.path.name}{inner}, layer '{self.name}'"


@dataclass(frozen=True)
class Study:
    """A loaded, validated study.

    Attributes
    ----------
    name, title, crs, base_year, school_year, plan_start, plan_end, profile, data_date
        From the ``[study]`` table.
    synthetic
        Whether the data are synthetic (the bundled sample is).
    path
        The study TOML file.
    layers
        Every layer read, validated and in ``crs`` (tables stay DataFrames).
    config
        The whole TOML, for the tables later steps read (``scenarios``, ...).
    standards
        The standards profile named by ``profile``, with the study's ``[standards]`` table
        applied as overrides (e.g. ``[standards.class_size] primary_cap = 40``); an unknown
        key or a wrong type is refused when the study loads.
    """

    name: str
    title: str
    crs: str
    base_year: int
    school_year: int
    plan_start: int
    plan_end: int
    profile: str
    data_date: str
    synthetic: bool
    path: Path
    layers: dict[str, pd.DataFrame] = field(repr=False)
    config: dict[str, Any] = field(repr=False)
    standards: Profile = field(repr=False)

    @property
    def plan_years(self) -> range:
        """The planning years, ``plan_start`` to ``plan_end`` inclusive."""
        return range(self.plan_start, self.plan_end + 1)

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Return a layer by name."""
        return self.layers[name]

    @cached_property
    def road_network(self) -> RoadNetwork | None:
        """The ``roads`` layer as a graph, built on first use and kept; ``None`` without roads.

        Steps that cost travel on the roads share it (building it is most of the work of a
        county's cost run).

        Examples
        --------
        >>> study = study_from_toml()
        >>> study.road_network is study.road_network, len(study.road_network.lo) > 0
        (True, True)
        """
        roads = self.layers.get("roads")
        if roads is None or not len(roads):
            return None
        return RoadNetwork.from_roads(roads)


def bundled_study_path(name: str = "anshan") -> Path:
    """Return the TOML of a study bundled with the package.

    Parameters
    ----------
    name
        Study folder name under ``data/``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> bundled_study_path().name
    'study.toml'
    """
    here = Path(__file__).resolve().parent
    for root in (here / "_bundled", here.parent / "data"):
        candidate = root / name / "study.toml"
        if candidate.is_file():
            return candidate
    raise StudyError(
        f"bundled study '{name}' not found next to the package ({here}). Fix: reinstall layout, "
        "or pass the path of a study TOML."
    )


def study_from_toml(path: str | os.PathLike[str] | None = None) -> Study:
    """Load a study: read its TOML and every layer, validate them, reproject them.

    Parameters
    ----------
    path
        The study TOML. ``None`` loads the bundled synthetic Anshan sample.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        The TOML is missing, unreadable or lacks a required key.
    ValidationError
        A layer is wrong; the message names file, layer, column, rows and the fix.

    Examples
    --------
    >>> study = study_from_toml()
    >>> study.plan_years
    range(2025, 2036)
    """
    toml_path = Path(path).resolve() if path is not None else bundled_study_path()
    config = _read_toml(toml_path)
    unknown = _validate.unknown_keys(list(config), TABLES, where=toml_path.name)
    if unknown:
        raise StudyError("\n".join(unknown))
    meta = _study_table(config, toml_path)
    crs = _projected_crs(meta["crs"], toml_path)
    standards = load_profile(meta["profile"], overrides=config.get("standards"))
    _validate.plan_period(meta, most=standards.checks.plan_years_max, where=toml_path.name)
    sources = _sources(config, toml_path)
    layers = {name: read_layer(src, target_crs=crs) for name, src in sources.items()}
    _check_across(layers, sources, base_year=meta["base_year"], far=standards.halo_m)
    return Study(path=toml_path, layers=layers, config=config, standards=standards, **meta)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StudyError(f"study file {path} not found. Fix: pass the path of a study TOML.")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path.name}: not valid TOML ({exc}).") from exc


def _study_table(config: Mapping[str, Any], path: Path) -> dict[str, Any]:
    table = config.get("study")
    if not isinstance(table, dict):
        raise StudyError(f"{path.name}: no [study] table. Fix: add one (see layout.study).")
    problems = []
    for key, kind in _STUDY_KEYS.items():
        if key not in table:
            if key not in {"description", "synthetic", "title", "data_date"}:
                problems.append(f"{path.name}: [study] lacks '{key}'.")
        elif not isinstance(table[key], kind) or (kind is int and isinstance(table[key], bool)):
            problems.append(f"{path.name}: [study] {key} must be {_kind_name(kind)}.")
    problems += _validate.unknown_keys(
        list(table), list(_STUDY_KEYS), where=f"{path.name}: [study]"
    )
    if not problems and table["plan_end"] < table["plan_start"]:
        problems.append(f"{path.name}: [study] plan_end is before plan_start.")
    if not problems and table["plan_start"] < table["base_year"]:
        problems.append(
            f"{path.name}: [study] plan_start {table['plan_start']} is before base_year "
            f"{table['base_year']} (the population's year, from which children are projected). "
            "Fix: start the plan in or after the base year."
        )
    if problems:
        raise StudyError("\n".join(problems))
    meta = {k: table[k] for k in _STUDY_KEYS if k in table and k != "description"}
    meta.setdefault("title", meta["name"])
    meta.setdefault("synthetic", False)
    meta.setdefault("data_date", str(meta["school_year"]))
    return meta


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _projected_crs(text: str, path: Path) -> str:
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise StudyError(f"{path.name}: [study] crs '{text}' is not a known CRS.") from exc
    if not crs.is_projected:
        raise StudyError(
            f"{path.name}: [study] crs '{text}' is geographic; metric work needs a projected CRS "
            "(for Anshan the CGCS2000 3-degree zone CM 123E, EPSG:4550)."
        )
    return text


def _sources(config: Mapping[str, Any], path: Path) -> dict[str, LayerSource]:
    table = config.get("layers")
    if not isinstance(table, dict):
        raise StudyError(f"{path.name}: no [layers] table. Fix: add [layers.<name>] tables.")
    problems = []
    unknown = sorted(set(table) - set(LAYERS))
    problems += _validate.unknown_keys(unknown, list(LAYERS), where=f"{path.name}: [layers]")
    missing = [name for name in REQUIRED_LAYERS if name not in table]
    if missing:
        problems.append(f"{path.name}: required layer(s) missing: {', '.join(missing)}.")
    sources = {}
    for name, entry in table.items():
        if name in unknown:
            continue
        if isinstance(entry, dict) and ({"url", "url_env"} & set(entry)):
            problems += _database_problems(entry, where=f"{path.name}: [layers.{name}]")
            sources[name] = LayerSource(name=name, path=None, database=dict(entry))
            continue
        bad = sorted(set(entry) - _SOURCE_KEYS) if isinstance(entry, dict) else ["<not a table>"]
        if bad or "path" not in entry:
            problems.append(
                f"{path.name}: [layers.{name}] needs 'path' (or 'url'/'url_env' for PostGIS) "
                f"and may have {', '.join(sorted(_SOURCE_KEYS - {'path'}))}; "
                f"found {', '.join(bad) or 'no path'}."
            )
            continue
        file = (path.parent / entry["path"]).resolve()
        opts = {k: entry.get(k) for k in ("layer", "x", "y", "crs")}
        sources[name] = LayerSource(name=name, path=file, **opts)
    if problems:
        raise StudyError("\n".join(problems))
    return sources


def _database_problems(entry: Mapping[str, Any], *, where: str) -> list[str]:
    unknown = sorted(set(entry) - SOURCE_KEYS)
    extra = (
        [f"{where}: unknown key(s) {', '.join(unknown)} for a database layer."] if unknown else []
    )
    return extra + source_problems(entry, where=where)


def read_layer(source: LayerSource, *, target_crs: str) -> pd.DataFrame:
    """Read one layer, validate it against its spec and reproject it.

    Parameters
    ----------
    source
        Where the layer lives.
    target_crs
        The study CRS every spatial layer is returned in.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        A new frame; the file is never modified.

    Examples
    --------
    >>> from layout.study import LayerSource, bundled_study_path, read_layer
    >>> src = LayerSource("counties", bundled_study_path().parent.parent
    ...                   / "boundaries" / "anshan.gpkg", layer="counties")
    >>> len(read_layer(src, target_crs="EPSG:4550"))
    7
    """
    spec = LAYERS[source.name]
    frame = _read_file(source, spatial=spec.geometry is not None)
    check = _validate.LayerCheck(frame, spec, source.where)
    if not check.columns():
        check.raise_if_any()
    check.ids_unique()
    check.values()
    if source.name in _SCHOOL_LAYERS:
        check.grades()
    if spec.geometry is None:
        check.raise_if_any()
        return _typed(frame, spec)
    check.crs(frame.crs)
    check.swapped_lonlat(frame)
    keep = check.geometry(skip_empty=source.name in {*_SCHOOL_LAYERS, "developments"})
    check.raise_if_any()
    skipped = check.ids[~keep].tolist()
    frame = _typed(frame[keep], spec).to_crs(target_crs)
    if skipped:
        frame.attrs[_SKIPPED] = skipped  # read by the study's cross-layer checks, then dropped
    return frame


def _read_file(source: LayerSource, *, spatial: bool) -> pd.DataFrame:
    if source.database is not None:
        return _read_database(source.database)
    path = source.path
    assert path is not None
    if not path.exists():
        raise ValidationError(
            f"{source.where}: file {path} not found. Fix: correct 'path' in "
            f"[layers.{source.name}] of the study TOML (relative to the TOML file)."
        )
    try:
        return _read_path(source, path, spatial=spatial)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ArrowException) as exc:
        raise ValidationError(
            f"{source.where}: {path.name} cannot be read ({str(exc).splitlines()[0]}); it looks "
            "damaged or cut short, e.g. by an interrupted copy. Fix: copy it again from its "
            "source (check it opens in QGIS or with ogrinfo)."
        ) from exc
    except ValueError as exc:
        if "geo metadata" not in str(exc):
            raise
        raise ValidationError(
            f"{source.where}: {path.name} is a plain Parquet table without GeoParquet metadata, "
            "so its geometry column cannot be read. Fix: write it with GeoPandas "
            "(gdf.to_parquet(...)) or convert it, e.g. ogr2ogr -f Parquet out.parquet in.gpkg."
        ) from exc


def _read_path(source: LayerSource, path: Path, *, spatial: bool) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        return _read_csv(source, spatial=spatial)
    if suffix == ".parquet":
        return gpd.read_parquet(path) if spatial else pd.read_parquet(path)
    if source.layer is not None:
        names = [row[0] for row in pyogrio.list_layers(path)]
        if source.layer not in names:
            raise ValidationError(
                f"{source.where}: no layer '{source.layer}' in {path.name}; it has "
                f"{', '.join(names)}. Fix: correct 'layer' in [layers.{source.name}]."
            )
    if not spatial:
        return pyogrio.read_dataframe(path, layer=source.layer, read_geometry=False)
    frame = gpd.read_file(path, layer=source.layer, engine="pyogrio")
    if frame.crs is None and source.crs:
        frame = frame.set_crs(source.crs)
    return frame


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


def _read_csv(source: LayerSource, *, spatial: bool) -> pd.DataFrame:
    spec = LAYERS[source.name]
    frame = pd.read_csv(source.path, dtype={c: "string" for c in (spec.id_column, *spec.text)})
    if not spatial:
        return frame
    missing = [c for c in (source.x, source.y) if c is None or c not in frame.columns]
    if missing:
        raise ValidationError(
            f'{source.where}: a CSV point layer needs coordinate columns; set x = "lon" and '
            f'y = "lat" in [layers.{source.name}] to columns of the file '
            f"(it has {', '.join(frame.columns)})."
        )
    x = pd.to_numeric(frame[source.x], errors="coerce")
    y = pd.to_numeric(frame[source.y], errors="coerce")
    geometry = gpd.points_from_xy(x, y)
    geometry[(x.isna() | y.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(
        frame.drop(columns=[source.x, source.y]), geometry=geometry, crs=source.crs
    )


def _typed(frame: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """Cast validated columns to their types (ids and codes as strings, counts as int64)."""
    out = frame.copy()
    for col in (spec.id_column, *spec.text):
        if col in out.columns:
            out[col] = out[col].astype("string")
    for col in spec.counts:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col]).astype("int64")
    for col in spec.numbers:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col]).astype("float64")
    return out.reset_index(drop=True)


def _check_across(
    layers: dict[str, pd.DataFrame],
    sources: Mapping[str, LayerSource],
    *,
    base_year: int,
    far: float,
) -> None:
    """Cross-layer checks: codes that must exist, and rows lying outside the study area.

    Rows more than ``far`` metres outside are refused; rows nearer are skipped with a warning,
    and the teachers of skipped schools refused, naming why the school was skipped.
    """
    counties = layers["counties"]
    area = counties.geometry.union_all()
    problems: list[str] = []
    county_codes = set(counties["county_code"])
    township_codes = set(layers["townships"]["township_code"])
    for name, frame in layers.items():
        src, spec = sources[name], LAYERS[name]
        check = _validate.LayerCheck(frame, spec, src.where)
        if name not in _OUTSIDE_LAYERS:
            check.add(
                "county_code",
                ~frame["county_code"].isin(county_codes),
                "county code not in the counties layer",
                "use a 6-digit code of the counties layer",
            )
        if "township_code" in frame.columns and name not in {"townships", "halo_schools"}:
            check.add(
                "township_code",
                ~frame["township_code"].isin(township_codes),
                "township code not in the townships layer",
                "use a code of the townships layer",
            )
        if name == "population":
            check.add(
                "geometry",
                _validate.outside(frame, area),
                "cell outside the study boundary (its children would be lost)",
                "clip the grid to the counties layer",
            )
            check.add(
                "year",
                frame["year"] != base_year,
                f"year other than the study's base_year {base_year}",
                f"give the population of {base_year}, or set base_year in [study] to the "
                "layer's year",
            )
        if name in {"schools", "developments", "reserved_land"}:
            check.add(
                "geometry",
                frame.distance(area) > far,
                f"more than {far / 1000:,.0f} km outside the study boundary",
                "check the coordinates and their CRS (x is the longitude or easting)",
            )
        problems += check.problems
    if "halo_schools" in layers:
        problems += _halo_problems(layers, sources["halo_schools"].where, county_codes)
    if problems:
        raise ValidationError(problems)
    _skip_outside(layers, sources, area)


def _halo_problems(layers: Mapping[str, pd.DataFrame], where: str, counties: set[str]) -> list[str]:
    """Check that halo schools are of other counties and not also in the schools layer."""
    halo = layers["halo_schools"]
    check = _validate.LayerCheck(halo, LAYERS["halo_schools"], where)
    check.add(
        "county_code",
        halo["county_code"].isin(counties),
        "school of a county of this study (halo schools belong to other counties)",
        "move it to the schools layer",
    )
    check.add(
        "school_id",
        halo["school_id"].isin(layers["schools"]["school_id"]),
        "school also in the schools layer (it would be counted twice)",
        "remove it from one of the two layers",
    )
    return check.problems


def _skip_outside(
    layers: dict[str, pd.DataFrame], sources: Mapping[str, LayerSource], area: Any
) -> None:
    """Skip, with a warning, schools, developments and parcels outside the study area."""
    for name in ("schools", "developments", "reserved_land"):
        frame = layers[name]
        check = _validate.LayerCheck(frame, LAYERS[name], sources[name].where)
        keep = check.warn_skip(
            _validate.outside(frame, area),
            "outside the study boundary (check the coordinates and their CRS)",
            "move the rows inside the counties layer or remove them",
        )
        skipped = [*frame.attrs.pop(_SKIPPED, []), *check.ids[~keep]]
        if not keep.all():
            layers[name] = frame[keep].reset_index(drop=True)
        if name == "schools":
            teachers = layers.get("teachers")
            if teachers is not None:
                _validate.skipped_teachers(
                    teachers, skipped=set(skipped), where=sources["teachers"].where,
                    schools_where=sources["schools"].where,
                )  # fmt: skip
    for layer in layers.values():
        layer.attrs.pop(_SKIPPED, None)
