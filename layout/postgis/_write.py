"""Writing result layers to PostGIS in one transaction: every layer or none."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Literal, get_args

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..errors import ValidationError
from ._connection import _MAX_IDENTIFIER_BYTES, _connect, _identifier_problems, _reason, _shown

LOG = logging.getLogger(__name__)

IfExists = Literal["replace", "append", "fail"]
"""What :func:`write_layers_to_postgis` does with a table that already exists."""


_IF_EXISTS: tuple[str, ...] = get_args(IfExists)


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
