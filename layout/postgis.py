"""PostgreSQL/PostGIS as a layer source and a results sink.

A study layer may live in a PostGIS database instead of a file::

    [layers.reserved_land]
    url = "postgresql://gis@127.0.0.1:5432/planning"   # no password in the file
    table = "landuse.edu_parcels"                      # or: query = "SELECT ... FROM ..."
    geometry = "geom"                                   # default: from geometry_columns

Credentials come from the environment only: the libpq variables (``PGPASSWORD``,
``PGPASSFILE``, ``PGUSER`` ...) fill in what the URL leaves out, or ``url_env =
"LAYOUT_DB_URL"`` names a variable that holds the whole URL. Every URL shown in a log record
or a message has its password masked (``***``).

Reading runs in a read-only transaction, so a ``query`` cannot change the database. Writing
puts every layer in one transaction: if any layer fails, nothing is written.

Examples
--------
>>> from layout.postgis import mask_url, source_problems
>>> mask_url("postgresql://gis:s3cret@db.example:5432/planning")
'postgresql://gis:***@db.example:5432/planning'
>>> problems = source_problems({"url": "postgresql://gis:s3cret@db.example/planning",
...                              "table": "landuse.edu_parcels"}, where="[layers.reserved_land]")
>>> problems[0].split(";")[0]
'[layers.reserved_land]: the url holds a password'
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Literal, get_args
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from pyproj import CRS
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from .errors import ValidationError

LOG = logging.getLogger(__name__)

SOURCE_KEYS: frozenset[str] = frozenset({"url", "url_env", "table", "query", "geometry"})
"""Keys a ``[layers.<name>]`` entry of a study TOML may use for a PostGIS layer."""

IfExists = Literal["replace", "append", "fail"]
"""What :func:`write_layers_to_postgis` does with a table that already exists."""
_IF_EXISTS: tuple[str, ...] = get_args(IfExists)

_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently truncates longer names
_CONNECT_TIMEOUT_S = 10
_MAX_LISTED = 10
_PASSWORD_PARAMETER = re.compile(r"(?i)(password=)[^&#\s]*")
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


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``.

    Both the ``user:password@`` part and any ``password=`` parameter are masked. The text
    need not be a valid URL: nothing is parsed that could fail and echo it. When unsure where
    the password ends, more is masked rather than less.

    Parameters
    ----------
    url
        A database URL.

    Returns
    -------
    str

    Examples
    --------
    >>> mask_url("postgresql://gis:p%40ss@127.0.0.1/planning?password=x&sslmode=require")
    'postgresql://gis:***@127.0.0.1/planning?password=***&sslmode=require'
    >>> mask_url("postgresql://gis@127.0.0.1/planning")
    'postgresql://gis@127.0.0.1/planning'
    """
    head, at, tail = url.rpartition("@")
    if at:
        scheme, sep, userinfo = head.partition("://")
        if not sep:
            scheme, userinfo = "", head
        if ":" in userinfo:
            url = f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{tail}"
    return _PASSWORD_PARAMETER.sub(r"\1***", url)


def source_problems(entry: Mapping[str, object], *, where: str) -> list[str]:
    """Check a PostGIS layer entry of a study TOML; return one line per problem.

    Parameters
    ----------
    entry
        The ``[layers.<name>]`` table: keys from :data:`SOURCE_KEYS`.
    where
        The place named in each message, e.g. ``"study.toml: [layers.reserved_land]"``.

    Returns
    -------
    list of str
        Empty when the entry is good. A URL that holds a password is a problem: the password
        belongs in the environment, not in the file.

    Examples
    --------
    >>> source_problems({"url": "postgresql://gis@127.0.0.1/planning",
    ...                  "table": "landuse.edu_parcels"}, where="[layers.reserved_land]")
    []
    >>> source_problems({"url_env": "LAYOUT_DB_URL"}, where="[layers.reserved_land]")
    ["[layers.reserved_land]: give exactly one of 'table' or 'query'."]
    """
    problems = [
        f"{where}: '{key}' must be a non-empty string."
        for key in sorted(SOURCE_KEYS & set(entry))
        if not isinstance(entry[key], str) or not entry[key]
    ]
    if problems:
        return problems
    if ("url" in entry) == ("url_env" in entry):
        problems.append(
            f"{where}: give exactly one of 'url' (without password) or 'url_env' (the name of "
            "an environment variable holding the URL)."
        )
    url = entry.get("url")
    if isinstance(url, str) and mask_url(url) != url:
        problems.append(
            f"{where}: the url holds a password; keep it out of the file. Fix: write "
            f"{mask_url(url).replace(':***@', '@')} and set PGPASSWORD or PGPASSFILE, or put "
            "the whole URL in an environment variable named by url_env."
        )
    if ("table" in entry) == ("query" in entry):
        problems.append(f"{where}: give exactly one of 'table' or 'query'.")
    if isinstance(entry.get("table"), str):
        problems += _table_problems(str(entry["table"]), where=where)
    if isinstance(entry.get("geometry"), str):
        problems += _identifier_problems(str(entry["geometry"]), what="geometry", where=where)
    return problems


def engine_from_url(url: str | None = None, *, url_env: str | None = None) -> Engine:
    """Connect to a PostgreSQL database through psycopg 3 and return the engine.

    The connection is tried once at once, so a wrong host, port or password is reported
    here, with the URL's password masked.

    Parameters
    ----------
    url
        ``postgresql://[user[:password]@]host[:port]/database``. Parts left out come from
        the libpq environment (``PGUSER``, ``PGPASSWORD``, ``PGPASSFILE`` ...). Any
        ``postgresql+<driver>`` scheme is switched to psycopg.
    url_env
        Name of an environment variable holding the URL instead (give ``url`` or this).

    Returns
    -------
    sqlalchemy.Engine
        Opens a new connection for each use (no pool is kept open between uses).

    Raises
    ------
    ValidationError
        No URL, not a PostgreSQL URL, or the server cannot be reached or refuses the login.

    Examples
    --------
    >>> engine = engine_from_url("postgresql://gis:s3cret@127.0.0.1:9/planning")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cannot connect to postgresql+psycopg://gis:***@127.0.0.1:9/...
    """
    text = _url_text(url, url_env)
    try:
        parsed = sa.make_url(text)
    except sa_exc.ArgumentError:
        parsed = None  # raised below, outside the handler, so no chained error shows the URL
    if parsed is None or parsed.get_backend_name() != "postgresql":
        raise ValidationError(
            f"url {mask_url(text)} is not a PostgreSQL URL. Fix: write it as "
            "postgresql://user@host:port/database (the password in PGPASSWORD or PGPASSFILE)."
        )
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": _CONNECT_TIMEOUT_S}
    )
    engine = sa.create_engine(
        parsed.set(drivername="postgresql+psycopg"), poolclass=NullPool, connect_args=connect_args
    )
    _connect(engine).close()
    LOG.info("connected to %s", _shown(engine))
    return engine


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


def write_layers_to_postgis(
    layers: Mapping[str, pd.DataFrame],
    engine: Engine,
    *,
    schema: str,
    if_exists: IfExists = "replace",
) -> None:
    """Write layers as tables of one schema, all in one transaction.

    If any layer fails, the transaction is rolled back: no table is created, replaced or
    appended to, and a schema created for the write is gone again.

    Parameters
    ----------
    layers
        Table name to GeoDataFrame (a PostGIS table with a spatial GiST index on its
        geometry) or DataFrame (a plain table). A GeoDataFrame needs a CRS with an EPSG code,
        which becomes the SRID. The index is written as columns only when it is named or not
        integer; keep ids in columns.
    engine
        From :func:`engine_from_url`.
    schema
        Target schema, created if missing.
    if_exists
        ``"replace"`` (drop and recreate), ``"append"`` or ``"fail"`` for tables that exist.

    Raises
    ------
    ValidationError
        Bad names, a layer without EPSG CRS, or a layer the database refused (the message
        names it; nothing was written).
    ImportError
        GeoAlchemy2, needed for GeoDataFrames, is not installed.

    Examples
    --------
    With a server at hand (tests/test_postgis.py runs this against a real one)::

        parcels = gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[box(0, 0, 1, 1)],
                                   crs="EPSG:4550")
        write_layers_to_postgis({"parcels": parcels}, engine, schema="results")
    """
    problems = _write_problems(layers, schema=schema, if_exists=if_exists)
    if problems:
        raise ValidationError(problems)
    name = ""
    with _connect(engine) as conn:
        try:
            with conn.begin():
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
                for name, frame in layers.items():
                    _write_table(conn, frame, name=name, schema=schema, if_exists=if_exists)
        except (ValueError, TypeError, sa_exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            raise ValidationError(
                f"layer '{name}' could not be written to {schema}.{name} at {_shown(engine)}: "
                f"{_reason(exc, engine.url)}\nNothing was written: the whole write was rolled "
                "back. Fix: correct that layer (column types, names) or if_exists, and write again."
            ) from exc
    LOG.info("wrote %d layer(s) to schema %s at %s", len(layers), schema, _shown(engine))


def _url_text(url: str | None, url_env: str | None) -> str:
    if (url is None) == (url_env is None):
        raise ValidationError(
            "give exactly one of url (postgresql://user@host:port/database) or url_env (the "
            "name of an environment variable holding the URL)."
        )
    if url_env is not None:
        value = os.environ.get(url_env, "")
        if not value:
            raise ValidationError(
                f"url_env: environment variable {url_env} is not set or empty. Fix: export "
                f"{url_env}=postgresql://user:password@host:port/database before running."
            )
        return value
    if not isinstance(url, str) or not url:
        raise ValidationError("url must be a non-empty string such as postgresql://gis@host/db.")
    return url


def _shown(engine: Engine) -> str:
    """Return the engine's URL for messages, password masked."""
    return mask_url(engine.url.render_as_string(hide_password=False))


def _scrub(message: str, url: sa.URL) -> str:
    """Remove the URL's password from a driver message, should it ever echo it."""
    in_query = url.query.get("password")
    secrets = [url.password, *([in_query] if isinstance(in_query, str) else in_query or ())]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return message


def _reason(exc: BaseException, url: sa.URL) -> str:
    """Return the driver's own message for an error (pandas and SQLAlchemy wrap it), scrubbed."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, sa_exc.DBAPIError):
        cause = cause.__cause__ or cause.__context__
    text = str(cause.orig) if isinstance(cause, sa_exc.DBAPIError) else str(exc)
    return _scrub(text, url).strip()


def _connect(engine: Engine) -> Connection:
    try:
        return engine.connect()
    except sa_exc.DBAPIError as exc:
        reason = _reason(exc, engine.url)
    # Raised outside the handler so the driver's exception is not chained to it.
    raise ValidationError(
        f"cannot connect to {_shown(engine)}: {reason}\nFix: check the host, port and database "
        "in the url, that the server is running and accepts connections from this machine, and "
        "the credentials (user in the url; password from PGPASSWORD, PGPASSFILE, or the "
        "variable named by url_env)."
    )


def _identifier_problems(name: str, *, what: str, where: str) -> list[str]:
    if not isinstance(name, str) or not name.strip():
        return [f"{where}: {what} name must be a non-empty string."]
    if any(ord(ch) < 32 for ch in name) or len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        return [
            f"{where}: {what} name '{name}' is not a usable PostgreSQL name (at most "
            f"{_MAX_IDENTIFIER_BYTES} bytes, no control characters). Fix: rename it."
        ]
    return []


def _table_problems(table: str, *, where: str) -> list[str]:
    parts = table.split(".") if isinstance(table, str) else [table]
    if len(parts) > 2:
        return [f"{where}: table '{table}' must be written table or schema.table."]
    what = ("schema", "table") if len(parts) == 2 else ("table",)
    return [
        p
        for part, w in zip(parts, what, strict=True)
        for p in _identifier_problems(part, what=w, where=where)
    ]


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


def _write_problems(
    layers: Mapping[str, pd.DataFrame], *, schema: str, if_exists: IfExists
) -> list[str]:
    problems = _identifier_problems(schema, what="schema", where="schema")
    if if_exists not in _IF_EXISTS:
        problems.append(f"if_exists must be one of {', '.join(_IF_EXISTS)}, not {if_exists!r}.")
    for name, frame in layers.items():
        where = f"layer '{name}'"
        problems += _identifier_problems(name, what="table", where=where)
        if not isinstance(frame, pd.DataFrame):
            problems.append(
                f"{where}: must be a DataFrame or GeoDataFrame, not {type(frame).__name__}."
            )
            continue
        long = [str(c) for c in frame.columns if len(str(c).encode()) > _MAX_IDENTIFIER_BYTES]
        if long:
            problems.append(
                f"{where}: column name(s) {', '.join(long)} exceed {_MAX_IDENTIFIER_BYTES} bytes "
                "and would be cut short by PostgreSQL. Fix: rename them."
            )
        if isinstance(frame, gpd.GeoDataFrame):
            problems += _geometry_problems(frame, where=where)
    return problems


def _geometry_problems(frame: gpd.GeoDataFrame, *, where: str) -> list[str]:
    problems = []
    extra = [c for c in frame.columns[frame.dtypes == "geometry"] if c != frame.geometry.name]
    if extra:
        problems.append(
            f"{where}: more than one geometry column ({frame.geometry.name}, {', '.join(extra)}). "
            "Fix: write each as its own layer, or drop the extra columns."
        )
    if frame.crs is None or frame.crs.to_epsg(min_confidence=25) is None:
        problems.append(
            f"{where}: the CRS ({frame.crs.name if frame.crs else 'none'}) has no EPSG code to "
            "store as SRID. Fix: set or reproject it, e.g. frame.to_crs('EPSG:4550')."
        )
    return problems


def _write_table(
    conn: Connection, frame: pd.DataFrame, *, name: str, schema: str, if_exists: IfExists
) -> None:
    index = any(n is not None for n in frame.index.names) or not pd.api.types.is_integer_dtype(
        frame.index.dtype
    )
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_postgis(name, conn, schema=schema, if_exists=if_exists, index=index)
    else:
        frame.to_sql(name, conn, schema=schema, if_exists=if_exists, index=index)
    LOG.debug("wrote %d rows to %s.%s", len(frame), schema, name)
