"""Reading a study layer from PostGIS: a table or a read-only query, with its CRS."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..errors import ValidationError
from ._connection import _connect, _identifier_problems, _reason, _shown, _table_problems

LOG = logging.getLogger(__name__)

_MAX_LISTED = 10


_RELATIONS = sa.text(
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
)


_SCHEMAS = sa.text(
    "SELECT nspname FROM pg_catalog.pg_namespace "
    "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
)


_GEOMETRY_COLUMNS = sa.text(
    "SELECT f_geometry_column, srid FROM geometry_columns "
    "WHERE f_table_schema = :schema AND f_table_name = :name"
)


_SPATIAL_REF = sa.text(
    "SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = :srid"
)


def read_layer_from_postgis(
    engine: Engine,
    *,
    table: str | None = None,
    query: str | None = None,
    geometry: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer from a PostGIS table or query.

    Parameters
    ----------
    engine
        From :func:`engine_from_url`.
    table
        ``"schema.table"`` or ``"table"`` (then the current schema, usually ``public``). A
        name is matched exactly, else as PostgreSQL folds an unquoted name (lower case).
    query
        A ``SELECT`` returning one geometry column (give ``table`` or ``query``). It runs in
        a read-only transaction.
    geometry
        The geometry column. ``None`` takes the only one (from ``geometry_columns`` for a
        table); a table or query with several must name one.

    Returns
    -------
    geopandas.GeoDataFrame
        Every column, in database order. The CRS is the geometry column's SRID (for a query,
        the SRID of the rows; an empty query result has no CRS). Other geometry columns come
        back as geometries without CRS.

    Raises
    ------
    ValidationError
        Server unreachable, table or geometry column missing (the message lists similar
        tables or the geometry columns), geometry without SRID, or the query failed.

    Examples
    --------
    With a server at hand (tests/test_postgis.py runs this against a real one)::

        engine = engine_from_url("postgresql://gis@127.0.0.1:5432/planning")
        parcels = read_layer_from_postgis(engine, table="landuse.edu_parcels")
        parcels.crs.to_epsg()  # 4550, the SRID of the geometry column
    """
    if (table is None) == (query is None):
        raise ValidationError("read_layer_from_postgis: give exactly one of table= or query=.")
    problems = [] if table is None else _table_problems(table, where="table")
    if geometry is not None:
        problems += _identifier_problems(geometry, what="geometry", where="geometry")
    if problems:
        raise ValidationError(problems)
    with _connect(engine) as conn, conn.begin():
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        try:
            if table is not None:
                frame = _read_table(conn, table, geometry=geometry)
            else:
                frame = _read_query(conn, str(query), geometry=geometry)
        except sa_exc.DBAPIError as exc:
            raise ValidationError(
                f"reading {f'table {table}' if table else 'the query'} at {_shown(engine)} "
                f"failed: {_reason(exc, engine.url)}\nFix: check the user's "
                "SELECT privilege; a query must be one SELECT that writes nothing (it runs "
                "read-only): try it in psql."
            ) from exc
    LOG.info("read %d rows from %s at %s", len(frame), table or "a query", _shown(engine))
    return frame


def _read_table(conn: Connection, table: str, *, geometry: str | None) -> gpd.GeoDataFrame:
    schema, name = _resolve_table(conn, table)
    label = f"table {schema}.{name}"
    declared = {
        row[0]: int(row[1])
        for row in conn.execute(_GEOMETRY_COLUMNS, {"schema": schema, "name": name})
    }
    if not declared:
        raise ValidationError(
            f"{label} has no geometry column (none in geometry_columns). Fix: name a table with "
            'a PostGIS geometry column, or select one with query = "SELECT ...".'
        )
    column = _pick_geometry(list(declared), geometry, label=label)
    statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema))
    frame, geometries = _fetch(conn, statement, label=label)
    fix = (
        f"set it in the database: SELECT UpdateGeometrySRID('{schema}', '{name}', '{column}', "
        "<EPSG code of the coordinates>); e.g. 4550 for CGCS2000 3-degree zone CM 123E"
    )
    srids = [declared[column]] if declared[column] else _srids(frame[column])
    return _geoframe(frame, geometries, column=column, crs=_crs(conn, srids, label=label, fix=fix))


def _read_query(conn: Connection, query: str, *, geometry: str | None) -> gpd.GeoDataFrame:
    label = "the query"
    frame, geometries = _fetch(conn, sa.text(query), label=label)
    if not geometries:
        raise ValidationError(
            f"the query returns no geometry column (it returns {', '.join(frame.columns)}). "
            "Fix: select the geometry column too, e.g. SELECT parcel_id, geom FROM ..."
        )
    column = _pick_geometry(geometries, geometry, label=label, returned=list(frame.columns))
    fix = (
        "give the geometry its SRID in the query, e.g. ST_SetSRID(geom, 4550), or in the "
        "table with UpdateGeometrySRID"
    )
    srids = _srids(frame[column])
    crs = _crs(conn, srids, label=label, fix=fix) if srids else None
    return _geoframe(frame, geometries, column=column, crs=crs)


def _resolve_table(conn: Connection, table: str) -> tuple[str, str]:
    """Find the table in the catalogue: exact name first, else lower-cased (unquoted) name."""
    schema, _, name = table.rpartition(".")
    db = conn.engine.url.database
    if not schema:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one_or_none() or "public"
    schemas = list(conn.execute(_SCHEMAS).scalars())
    found_schema = _folded(schema, schemas)
    if found_schema is None:
        raise ValidationError(
            f"table '{table}': schema '{schema}' does not exist in database {db} (schemas: "
            f"{_listed(schemas)}). Fix: correct 'table' as schema.table."
        )
    names = list(conn.execute(_RELATIONS, {"schema": found_schema}).scalars())
    found = _folded(name, names)
    if found is None:
        close = difflib.get_close_matches(name.lower(), names, n=5, cutoff=0.6)
        listed = (
            f"similar tables in schema {found_schema}: {_listed(close)}"
            if close
            else f"tables in schema {found_schema}: {_listed(names) or 'none'}"
        )
        raise ValidationError(
            f"table '{table}' not found in database {db} at {_shown(conn.engine)}; {listed}. "
            "Fix: correct 'table' (written schema.table)."
        )
    return found_schema, found


def _folded(name: str, existing: Iterable[str]) -> str | None:
    names = set(existing)
    for candidate in (name, name.lower()):
        if candidate in names:
            return candidate
    return None


def _listed(names: Iterable[str]) -> str:
    names = sorted(names)
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return ", ".join(names[:_MAX_LISTED]) + more


def _pick_geometry(
    available: list[str], geometry: str | None, *, label: str, returned: list[str] | None = None
) -> str:
    if geometry is None:
        if len(available) > 1:
            raise ValidationError(
                f"{label} has several geometry columns ({', '.join(available)}). Fix: name one "
                f'with geometry = "{available[0]}".'
            )
        return available[0]
    if geometry not in available:
        kind = "is not a geometry column" if geometry in (returned or []) else "has no such column"
        raise ValidationError(
            f"{label}: geometry column '{geometry}' not found ({label} {kind}); its geometry "
            f'column(s): {", ".join(available)}. Fix: set geometry = "{available[0]}" or leave '
            "it out to detect it."
        )
    return geometry


def _fetch(
    conn: Connection, statement: sa.Executable, *, label: str
) -> tuple[pd.DataFrame, list[str]]:
    """Run a statement; return its rows and the names of its PostGIS geometry columns."""
    geometry_oid = conn.execute(sa.text("SELECT to_regtype('geometry')::oid")).scalar_one_or_none()
    if geometry_oid is None:
        raise ValidationError(
            f"{label}: PostGIS is not installed in database {conn.engine.url.database}. Fix: "
            "CREATE EXTENSION postgis; (as a database owner)."
        )
    result = conn.execute(statement)
    if not result.returns_rows:
        raise ValidationError(f"{label} returns no rows. Fix: make it a SELECT.")
    oids = [col[1] for col in result.cursor.description]  # DB-API: (name, type_code, ...)
    names = list(result.keys())
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValidationError(
            f"{label} returns column name(s) {', '.join(duplicated)} more than once. Fix: give "
            "each column its own name (SELECT a.x AS a_x, ...)."
        )
    frame = pd.DataFrame.from_records(result.fetchall(), columns=names, coerce_float=True)
    return frame, [n for n, oid in zip(names, oids, strict=True) if oid == geometry_oid]


def _srids(hex_ewkb: pd.Series) -> list[int]:
    srids = shapely.get_srid(shapely.from_wkb(hex_ewkb.to_numpy(dtype=object)))
    return sorted(int(s) for s in np.unique(srids[srids >= 0]))


def _crs(conn: Connection, srids: list[int], *, label: str, fix: str) -> CRS:
    if not srids or srids == [0]:
        raise ValidationError(
            f"{label}: the geometry has no SRID, so its CRS is unknown. Fix: {fix}."
        )
    if len(srids) > 1:
        raise ValidationError(
            f"{label}: the geometry has mixed SRIDs ({', '.join(map(str, srids))}). Fix: bring "
            f"every row to one CRS with ST_Transform, then {fix}."
        )
    row = conn.execute(_SPATIAL_REF, {"srid": srids[0]}).first()
    if row is None:
        raise ValidationError(
            f"{label}: SRID {srids[0]} is not in spatial_ref_sys. Fix: use an EPSG code, or add "
            "the CRS to spatial_ref_sys."
        )
    if row.auth_name and row.auth_srid:
        return CRS.from_user_input(f"{row.auth_name}:{row.auth_srid}")
    return CRS.from_wkt(row.srtext)


def _geoframe(
    frame: pd.DataFrame, geometries: list[str], *, column: str, crs: CRS | None
) -> gpd.GeoDataFrame:
    out = frame.copy()
    for name in geometries:
        values = shapely.from_wkb(out[name].to_numpy(dtype=object))
        out[name] = gpd.GeoSeries(values, index=out.index, crs=crs if name == column else None)
    return gpd.GeoDataFrame(out, geometry=column, crs=crs)
