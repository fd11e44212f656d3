"""PostGIS as a layer source and results sink, against a real server (tests/postgis_server.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely.geometry import box

from layout import _validate
from layout.errors import ValidationError
from layout.postgis import (
    engine_from_url,
    mask_url,
    read_layer_from_postgis,
    source_problems,
    write_layers_to_postgis,
)
from layout.schema import LAYERS
from tests import tinystudy
from tests.postgis_server import _free_port
from tests.postgis_server import postgis_url as postgis_url  # the session fixture

X0, Y0 = tinystudy.X0, tinystudy.Y0


@pytest.fixture
def engine(postgis_url: str) -> Iterator[sa.Engine]:
    engine = engine_from_url(postgis_url)
    yield engine
    engine.dispose()


def _password(url: str) -> str:
    password = sa.make_url(url).password
    assert password
    return password


def _sql(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def _scalar(engine: sa.Engine, statement: str) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(statement)).scalar()


def _exists(engine: sa.Engine, name: str) -> bool:
    return _scalar(engine, f"SELECT to_regclass('{name}') IS NOT NULL") is True


def _chain_text(exc: BaseException | None) -> str:
    """Return the text of an exception and of every exception chained to it."""
    texts = []
    while exc is not None:
        texts.append(f"{type(exc).__name__}: {exc} {exc.args!r}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


def _parcels() -> gpd.GeoDataFrame:
    # Three rectangles in EPSG:4550; their areas by hand: 100 m x 200 m = 20 000 m2,
    # 150 m x 80 m = 12 000 m2, 60.5 m x 40 m = 2 420 m2.
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2", "P3"],
            "name": ["铁西区第一地块", "立山 parcel", 'O\'Brien "quoted"'],
            "planned_classes": [24, 36, 6],
            "area_ha": [2.0, 1.2, 0.242],
        },
        geometry=[
            box(X0, Y0, X0 + 100, Y0 + 200),
            box(X0 + 1_000, Y0, X0 + 1_150, Y0 + 80),
            box(X0 + 2_000.25, Y0 + 10, X0 + 2_060.75, Y0 + 50),
        ],
        crs="EPSG:4550",
    )


def test_parcels_round_trip_by_table_and_query(engine: sa.Engine) -> None:
    parcels = _parcels()
    before = parcels.copy()
    write_layers_to_postgis({"parcels": parcels}, engine, schema="results")
    pd.testing.assert_frame_equal(parcels, before)  # input untouched

    # Checked in the database itself, independently of the reader.
    assert _scalar(engine, "SELECT Find_SRID('results', 'parcels', 'geometry')") == 4550
    areas = _scalar(
        engine, "SELECT array_agg(ST_Area(geometry) ORDER BY parcel_id) FROM results.parcels"
    )
    assert areas == pytest.approx([20_000.0, 12_000.0, 2_420.0])
    index = _scalar(
        engine,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'results' AND tablename = 'parcels'",
    )
    assert "USING gist (geometry)" in str(index)

    back = read_layer_from_postgis(engine, table="results.parcels")
    assert back.crs.to_epsg() == 4550
    assert back.geometry.name == "geometry"
    assert list(back.columns) == ["parcel_id", "name", "planned_classes", "area_ha", "geometry"]
    back = back.sort_values("parcel_id", ignore_index=True)
    assert back["parcel_id"].tolist() == ["P1", "P2", "P3"]
    assert back["name"].tolist() == parcels["name"].tolist()
    assert back["planned_classes"].tolist() == [24, 36, 6]
    assert back["planned_classes"].dtype == "int64"
    assert back["area_ha"].tolist() == [2.0, 1.2, 0.242]
    assert back.geometry.geom_equals_exact(parcels.geometry, tolerance=0).all()

    # By query: parcels of 24 classes or more are P1 (24) and P2 (36).
    query = (
        "SELECT parcel_id, planned_classes, geometry AS geom FROM results.parcels "
        "WHERE planned_classes >= 24 ORDER BY parcel_id"
    )
    big = read_layer_from_postgis(engine, query=query)
    assert big.crs.to_epsg() == 4550 and big.geometry.name == "geom"
    assert big["parcel_id"].tolist() == ["P1", "P2"]
    assert big.geometry.geom_equals_exact(parcels.geometry[:2], tolerance=0).all()

    # Replacing (the default) leaves only the new rows.
    write_layers_to_postgis({"parcels": parcels.iloc[[2]]}, engine, schema="results")
    assert _scalar(engine, "SELECT count(*) FROM results.parcels") == 1


def test_plain_table_and_named_index_are_written(engine: sa.Engine) -> None:
    ledger = pd.DataFrame({"classes": [12, 18]}, index=pd.Index(["S1", "S2"], name="school_id"))
    write_layers_to_postgis({"ledger": ledger}, engine, schema="results")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT school_id, classes FROM results.ledger ORDER BY 1"))
        assert [tuple(r) for r in rows] == [("S1", 12), ("S2", 18)]


def _make_edu_parcels(engine: sa.Engine) -> None:
    """Create landuse.edu_parcels by plain SQL, as the bureau's table would be made."""
    ring1 = f"{X0 + 2000} {Y0 + 2000}, {X0 + 2150} {Y0 + 2000}, {X0 + 2150} {Y0 + 2150}, " + (
        f"{X0 + 2000} {Y0 + 2150}, {X0 + 2000} {Y0 + 2000}"
    )
    ring2 = f"{X0 + 12000} {Y0 + 2000}, {X0 + 12200} {Y0 + 2000}, {X0 + 12200} {Y0 + 2200}, " + (
        f"{X0 + 12000} {Y0 + 2200}, {X0 + 12000} {Y0 + 2000}"
    )
    _sql(
        engine,
        "DROP SCHEMA IF EXISTS landuse CASCADE",
        "CREATE SCHEMA landuse",
        "CREATE TABLE landuse.edu_parcels (gid serial PRIMARY KEY, parcel_id text, "
        "county_code text, township_code text, planned_level text, planned_classes integer, "
        "delivery_year integer, status text, geom geometry(Polygon, 4550))",
        "CREATE TABLE landuse.edu_parcels_2019 (gid integer, geom geometry(Polygon, 4550))",
        "CREATE TABLE landuse.roads (gid integer)",
        "INSERT INTO landuse.edu_parcels (parcel_id, county_code, township_code, planned_level, "
        "planned_classes, delivery_year, status, geom) VALUES "
        f"('P1', '210302', '210302001', 'primary', 24, 2027, 'reserved', "
        f"ST_GeomFromText('POLYGON(({ring1}))', 4550)), "
        f"('P2', '210303', '210303101', 'junior', 18, 2028, 'approved', "
        f"ST_GeomFromText('POLYGON(({ring2}))', 4550))",
    )


@pytest.mark.parametrize("table", ["landuse.edu_parcels", "LandUse.EDU_Parcels"])
def test_study_layer_read_by_schema_qualified_table(engine: sa.Engine, table: str) -> None:
    _make_edu_parcels(engine)
    frame = read_layer_from_postgis(engine, table=table)  # unquoted names fold to lower case
    expected = tinystudy.reserved_land()  # the same two parcels, built independently
    assert frame.crs.to_epsg() == 4550
    assert frame.geometry.name == "geom"
    assert frame["gid"].tolist() == [1, 2]
    for col in ("parcel_id", "county_code", "planned_level", "planned_classes", "status"):
        assert frame[col].tolist() == expected[col].tolist()
    # Same rings, written from another starting vertex: equal as shapes.
    assert frame.geometry.geom_equals(expected.geometry).all()
    assert frame.area.tolist() == [22_500.0, 40_000.0]  # 150 m x 150 m, 200 m x 200 m
    # The frame passes the study's own checks of the reserved_land layer.
    check = _validate.LayerCheck(frame, LAYERS["reserved_land"], "landuse.edu_parcels")
    assert check.columns()
    check.ids_unique()
    check.values()
    check.crs(frame.crs)
    check.geometry()
    assert check.problems == []


def test_table_without_srid_names_table_and_fix(engine: sa.Engine) -> None:
    _sql(
        engine,
        "DROP TABLE IF EXISTS public.nosrid, public.loose",
        "CREATE TABLE public.nosrid (id integer, geom geometry)",
        "INSERT INTO public.nosrid VALUES (1, ST_GeomFromText('POINT(500000 4550000)'))",
        # An unconstrained column whose rows all carry SRID 4550 is read as EPSG:4550.
        "CREATE TABLE public.loose (id integer, geom geometry)",
        "INSERT INTO public.loose VALUES (1, ST_GeomFromText('POINT(500000 4550000)', 4550))",
    )
    with pytest.raises(ValidationError) as info:
        read_layer_from_postgis(engine, table="nosrid")
    msg = str(info.value)
    assert "table public.nosrid" in msg and "no SRID" in msg
    assert "SELECT UpdateGeometrySRID('public', 'nosrid', 'geom'," in msg
    assert read_layer_from_postgis(engine, table="loose").crs.to_epsg() == 4550
    # Following the fix makes the table readable.
    _sql(engine, "SELECT UpdateGeometrySRID('public', 'nosrid', 'geom', 4550)")
    assert read_layer_from_postgis(engine, table="nosrid").crs.to_epsg() == 4550


def test_missing_table_lists_similar_tables(engine: sa.Engine) -> None:
    _make_edu_parcels(engine)
    with pytest.raises(ValidationError) as info:
        read_layer_from_postgis(engine, table="landuse.edu_parcel")
    msg = str(info.value)
    assert "table 'landuse.edu_parcel' not found" in msg
    assert "similar tables in schema landuse: edu_parcels, edu_parcels_2019" in msg
    assert "roads" not in msg  # not similar
    with pytest.raises(ValidationError, match="schema 'land_use' does not exist"):
        read_layer_from_postgis(engine, table="land_use.edu_parcels")


def test_missing_geometry_column(engine: sa.Engine) -> None:
    _make_edu_parcels(engine)
    with pytest.raises(ValidationError) as info:
        read_layer_from_postgis(engine, table="landuse.edu_parcels", geometry="shape")
    assert "geometry column 'shape' not found" in str(info.value)
    assert 'set geometry = "geom"' in str(info.value)
    with pytest.raises(ValidationError, match="table landuse.roads has no geometry column"):
        read_layer_from_postgis(engine, table="landuse.roads")
    with pytest.raises(ValidationError, match="'status' not found .*is not a geometry column"):
        read_layer_from_postgis(
            engine, query="SELECT * FROM landuse.edu_parcels", geometry="status"
        )


def test_query_errors(engine: sa.Engine) -> None:
    _make_edu_parcels(engine)
    with pytest.raises(ValidationError, match="returns no geometry column .*parcel_id"):
        read_layer_from_postgis(engine, query="SELECT parcel_id FROM landuse.edu_parcels")
    with pytest.raises(ValidationError, match="reading the query at .* failed: syntax error"):
        read_layer_from_postgis(engine, query="SELEC parcel_id FROM landuse.edu_parcels")
    with pytest.raises(ValidationError, match="read-only"):
        read_layer_from_postgis(engine, query="DELETE FROM landuse.edu_parcels RETURNING *")
    assert _scalar(engine, "SELECT count(*) FROM landuse.edu_parcels") == 2  # nothing deleted
    with pytest.raises(ValidationError, match="ST_SetSRID"):
        read_layer_from_postgis(engine, query="SELECT ST_MakePoint(1, 2) AS geom")


def test_failed_write_leaves_nothing_behind(engine: sa.Engine) -> None:
    parcels = _parcels()
    bad = pd.DataFrame({"z": [1 + 2j]})  # pandas cannot store complex numbers in SQL
    with pytest.raises(ValidationError) as info:
        write_layers_to_postgis({"first": parcels, "second": bad}, engine, schema="tx_new")
    assert "layer 'second'" in str(info.value) and "rolled back" in str(info.value)
    assert not _exists(engine, "tx_new.first")
    assert _scalar(engine, "SELECT to_regnamespace('tx_new') IS NULL") is True  # schema too


def test_failed_write_refused_by_server_keeps_old_tables(engine: sa.Engine) -> None:
    parcels = _parcels()
    write_layers_to_postgis({"kept": parcels}, engine, schema="tx_old")
    _sql(engine, "CREATE TABLE tx_old.counts (n integer)")
    # Appending text to an integer column: PostgreSQL refuses the third layer.
    layers = {"kept": parcels, "fresh": parcels, "counts": pd.DataFrame({"n": ["many"]})}
    with pytest.raises(ValidationError) as info:
        write_layers_to_postgis(layers, engine, schema="tx_old", if_exists="append")
    assert "layer 'counts'" in str(info.value)
    assert "integer" in str(info.value)  # the server's reason is passed on
    assert _scalar(engine, "SELECT count(*) FROM tx_old.kept") == 3  # not 6
    assert not _exists(engine, "tx_old.fresh")


def test_write_refuses_bad_layers_before_connecting(engine: sa.Engine) -> None:
    no_crs = _parcels().set_crs(None, allow_override=True)
    long_name = "x" * 64
    with pytest.raises(ValidationError) as info:
        write_layers_to_postgis(
            {"a": no_crs, long_name: pd.DataFrame()},
            engine,
            schema="r",
            if_exists="merge",  # type: ignore[arg-type]
        )
    assert info.value.problems == [
        "if_exists must be one of replace, append, fail, not 'merge'.",
        "layer 'a': the CRS (none) has no EPSG code to store as SRID. Fix: set or reproject it, "
        "e.g. frame.to_crs('EPSG:4550').",
        f"layer '{long_name}': table name '{long_name}' is not a usable PostgreSQL name (at most "
        "63 bytes, no control characters). Fix: rename it.",
    ]
    assert _scalar(engine, "SELECT to_regnamespace('r') IS NULL") is True


def test_unreachable_server_message_masks_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = _free_port()  # nothing listens there
    url = f"postgresql://gis:S3cret-Unreachable@127.0.0.1:{port}/planning"
    with pytest.raises(ValidationError) as info:
        engine_from_url(url)
    msg = str(info.value)
    assert f"cannot connect to postgresql+psycopg://gis:***@127.0.0.1:{port}/planning" in msg
    assert "check the host, port and database" in msg and "PGPASSWORD" in msg
    assert "S3cret-Unreachable" not in _chain_text(info.value)
    assert "S3cret-Unreachable" not in caplog.text


def test_wrong_password_is_reported_masked(postgis_url: str) -> None:
    url = sa.make_url(postgis_url).set(password="Wr0ng-Pa55word")
    with pytest.raises(ValidationError) as info:
        engine_from_url(url.render_as_string(hide_password=False))
    assert "password authentication failed" in str(info.value)
    assert ":***@127.0.0.1" in str(info.value)
    assert "Wr0ng-Pa55word" not in _chain_text(info.value)


def test_credentials_from_environment(postgis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    password = _password(postgis_url)
    bare = postgis_url.replace(f":{password}@", "@")
    assert password not in bare
    monkeypatch.setenv("PGPASSWORD", password)
    engine = engine_from_url(bare)
    assert _scalar(engine, "SELECT current_user") == "postgres"
    engine.dispose()
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("LAYOUT_DB_URL", postgis_url)
    engine = engine_from_url(url_env="LAYOUT_DB_URL")
    assert _scalar(engine, "SELECT postgis_lib_version() IS NOT NULL") is True
    assert password not in repr(engine) and password not in str(engine.url)
    engine.dispose()
    monkeypatch.delenv("LAYOUT_DB_URL")
    with pytest.raises(ValidationError, match="environment variable LAYOUT_DB_URL is not set"):
        engine_from_url(url_env="LAYOUT_DB_URL")


def test_no_password_in_logs_or_errors(postgis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQLAlchemy sets its own to WARNING
    password = _password(postgis_url)
    engine = engine_from_url(postgis_url)
    write_layers_to_postgis({"logged": _parcels()}, engine, schema="results")
    read_layer_from_postgis(engine, table="results.logged")
    errors = []
    for call in (
        lambda: read_layer_from_postgis(engine, table="results.nowhere"),
        lambda: read_layer_from_postgis(engine, query="SELECT nonsense"),
        lambda: write_layers_to_postgis({"bad": pd.DataFrame({"z": [1j]})}, engine, schema="x"),
        lambda: engine_from_url(postgis_url.replace("/layout_test", "/no_such_db")),
    ):
        with pytest.raises(ValidationError) as info:
            call()
        errors.append(_chain_text(info.value))
    engine.dispose()
    assert "postgresql+psycopg://postgres:***@127.0.0.1" in errors[0]
    assert 'database "no_such_db" does not exist' in errors[3]
    assert any("read 3 rows from results.logged" in r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    for text in (*errors, caplog.text, *(r.getMessage() for r in caplog.records)):
        assert password not in text


def test_mask_url() -> None:
    assert mask_url("postgresql://gis:p@ss:w/rd@db.example:5432/db") == (
        "postgresql://gis:***@db.example:5432/db"
    )
    assert mask_url("postgresql+psycopg://:only@host/db") == "postgresql+psycopg://:***@host/db"
    assert mask_url("postgresql://host/db?user=gis&PASSWORD=x#f") == (
        "postgresql://host/db?user=gis&PASSWORD=***#f"
    )
    assert mask_url("not a url at all") == "not a url at all"


def test_url_that_is_not_postgresql() -> None:
    with pytest.raises(ValidationError) as info:
        engine_from_url("mysql://gis:Hidden-1@host/db")
    assert "mysql://gis:***@host/db is not a PostgreSQL URL" in str(info.value)
    with pytest.raises(ValidationError) as info:
        engine_from_url("::gis:Hidden-2@")
    assert "Hidden-2" not in _chain_text(info.value)
    with pytest.raises(ValidationError, match="exactly one of url"):
        engine_from_url("postgresql://h/db", url_env="LAYOUT_DB_URL")


def test_source_problems() -> None:
    where = "study.toml: [layers.reserved_land]"
    good = {"url": "postgresql://gis@127.0.0.1:5432/planning", "table": "landuse.edu_parcels"}
    assert source_problems(good, where=where) == []
    assert (
        source_problems({"url_env": "DB", "query": "SELECT 1", "geometry": "g"}, where=where) == []
    )
    problems = source_problems(
        {"url": "postgresql://gis:Hidden-3@h/db", "url_env": "DB", "table": "a.b.c"}, where=where
    )
    assert problems == [
        f"{where}: give exactly one of 'url' (without password) or 'url_env' (the name of an "
        "environment variable holding the URL).",
        f"{where}: the url holds a password; keep it out of the file. Fix: write "
        "postgresql://gis@h/db and set PGPASSWORD or PGPASSFILE, or put the whole URL in an "
        "environment variable named by url_env.",
        f"{where}: table 'a.b.c' must be written table or schema.table.",
    ]
    assert source_problems({"url": "", "table": 3}, where=where) == [
        f"{where}: 'table' must be a non-empty string.",
        f"{where}: 'url' must be a non-empty string.",
    ]


def test_study_reads_a_layer_from_postgis(
    postgis_url: str, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layout.study import study_from_toml

    parcels = tinystudy.reserved_land()
    write_layers_to_postgis({"parcels": parcels}, engine, schema="study_src")
    write_layers_to_postgis(
        {"parcels_bad": parcels.drop(columns="planned_classes")}, engine, schema="study_src"
    )
    monkeypatch.setenv("LAYOUT_TEST_DB", postgis_url)
    toml = tinystudy.write_tiny_study(tmp_path)
    text = toml.read_text().replace(
        'path = "layers.gpkg"\nlayer = "reserved_land"',
        'url_env = "LAYOUT_TEST_DB"\ntable = "study_src.parcels"',
    )
    toml.write_text(text)
    loaded = study_from_toml(toml)["reserved_land"]
    assert loaded.crs == "EPSG:4550"
    assert loaded["parcel_id"].tolist() == ["P1", "P2"]
    assert loaded.geometry.area.round(6).tolist() == [150.0 * 150.0, 200.0 * 200.0]
    toml.write_text(text.replace("study_src.parcels", "study_src.parcels_bad"))
    with pytest.raises(ValidationError) as info:
        study_from_toml(toml)
    message = str(info.value)
    assert "PostGIS study_src.parcels_bad, layer 'reserved_land'" in message
    assert "missing required column(s) 'planned_classes'" in message
    assert _password(postgis_url) not in message


def test_land_check_written_back_to_postgis(
    postgis_url: str, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layout.cli import main

    monkeypatch.setenv("LAYOUT_TEST_DB", postgis_url)
    toml = tinystudy.write_tiny_study(tmp_path / "study")
    argv = ["land", str(toml), "--out", str(tmp_path / "o"), "--maps", str(tmp_path / "m")]
    argv += ["--to-postgis", "nrb_checks", "--db-url-env", "LAYOUT_TEST_DB", "--quiet"]
    assert main(argv) == 0
    parcels = read_layer_from_postgis(engine, table="nrb_checks.parcels_check")
    assert parcels.crs == "EPSG:4550"
    # P1: urban primary of 24 classes on 150 m x 150 m = 22,500 m2; it needs 24 x 45 = 1,080
    # students x 20.6 m2 = 22,248 m2 under the profile: enough land.
    p1 = parcels.set_index("parcel_id").loc["P1"]
    assert (p1["area_m2"], p1["required_m2"], bool(p1["land_ok"])) == (22_500, 22_248, True)
    assert _scalar(engine, "SELECT count(*) FROM nrb_checks.developments_check") == 1
