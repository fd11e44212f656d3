"""A tiny hand-made study written to a folder, with hooks to break it on purpose.

Two square counties of 10 km side in EPSG:4550 near Anshan, one township each, four
population cells, three schools (given as a CSV with lon/lat in EPSG:4490), one development
phase and two parcels. Every figure is small enough to check by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from layout.schema import age_columns, classes_columns, enrolment_columns

X0, Y0 = 500_000.0, 4_550_000.0  # EPSG:4550, about 123.0E 41.1N
CRS = "EPSG:4550"


def counties() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "county_code": ["210302", "210303"],
            "name": ["甲区", "乙县"],
            "setting": ["urban", "rural"],
        },
        geometry=[
            box(X0, Y0, X0 + 10_000, Y0 + 10_000),
            box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000),
        ],
        crs=CRS,
    )


def townships() -> gpd.GeoDataFrame:
    seats = gpd.GeoSeries([Point(X0 + 5_000, Y0 + 5_000), Point(X0 + 15_000, Y0 + 5_000)], crs=CRS)
    seats = seats.to_crs(4490)
    frame = counties().rename(columns={"name": "cname"})
    return gpd.GeoDataFrame(
        {
            "township_code": ["210302001", "210303101"],
            "name": ["T210302001", "T210303101"],
            "county_code": ["210302", "210303"],
            "seat_lon": seats.x.to_numpy(),
            "seat_lat": seats.y.to_numpy(),
            "setting": ["urban", "rural"],
        },
        geometry=frame.geometry.to_numpy(),
        crs=CRS,
    )


def _grades(values: dict[int, int], prefix: str) -> dict[str, int]:
    cols = enrolment_columns() if prefix == "enrolment" else classes_columns()
    return {c: values.get(g, 0) for g, c in enumerate(cols, start=1)}


def schools() -> pd.DataFrame:
    """Three schools as a CSV table with lon/lat (EPSG:4490).

    S1 urban primary: grade 1 has 113 pupils in 2 classes (56 and 57: two classes of 56+).
    S2 urban junior: grade 7 has 100 pupils in 2 classes (50 each).
    S3 rural teaching point: grades 1-2, 12 pupils in 2 classes.
    """
    pts = gpd.GeoSeries(
        [
            Point(X0 + 4_000, Y0 + 4_000),
            Point(X0 + 6_000, Y0 + 6_000),
            Point(X0 + 15_000, Y0 + 5_000),
        ],
        crs=CRS,
    ).to_crs(4490)
    rows = [
        (
            "S1",
            "第一小学",
            "primary",
            "210302",
            "210302001",
            "urban",
            {1: 113, 2: 90},
            {1: 2, 2: 2},
        ),
        ("S2", "第二中学", "junior", "210302", "210302001", "urban", {7: 100}, {7: 2}),
        (
            "S3",
            "教学点三",
            "teaching_point",
            "210303",
            "210303101",
            "rural",
            {1: 7, 2: 5},
            {1: 1, 2: 1},
        ),
    ]
    records = []
    for (sid, name, level, county, town, setting, enrol, classes), pt in zip(
        rows, pts, strict=True
    ):
        records.append(
            {
                "school_id": sid,
                "name": name,
                "level": level,
                "county_code": county,
                "township_code": town,
                "setting": setting,
                **_grades(enrol, "enrolment"),
                **_grades(classes, "classes"),
                "teachers": 10,
                "capacity": 400,
                "boarding_beds": 0,
                "boarders": 0,
                "land_area_m2": 8000.0,
                "building_area_m2": 4000.0,
                "status": "open",
                "lon": round(pt.x, 7),
                "lat": round(pt.y, 7),
            }
        )
    return pd.DataFrame(records)


def population() -> gpd.GeoDataFrame:
    cells = [box(X0 + i * 5_000, Y0, X0 + (i + 1) * 5_000, Y0 + 5_000) for i in range(4)]
    ages = {c: [10, 20, 0, 5] for c in age_columns()}
    return gpd.GeoDataFrame(
        {
            "cell_id": ["C1", "C2", "C3", "C4"],
            "county_code": ["210302", "210302", "210303", "210303"],
            "township_code": ["210302001", "210302001", "210303101", "210303101"],
            "setting": ["urban", "urban", "rural", "rural"],
            "year": 2020,
            **ages,
        },
        geometry=cells,
        crs=CRS,
    )


def developments() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "phase_id": ["D1-1"],
            "development_id": ["D1"],
            "name": ["D1 (synthetic)"],
            "county_code": ["210302"],
            "township_code": ["210302001"],
            "phase": [1],
            "households": [500],
            "delivery_year": [2026],
            "status": ["planned"],
            "school_parcel_id": [None],
        },
        geometry=[box(X0 + 1_000, Y0 + 1_000, X0 + 1_400, Y0 + 1_400)],
        crs=CRS,
    )


def reserved_land() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2"],
            "county_code": ["210302", "210303"],
            "township_code": ["210302001", "210303101"],
            "planned_level": ["primary", "junior"],
            "planned_classes": [24, 18],
            "delivery_year": [2027, 2028],
            "status": ["reserved", "approved"],
        },
        geometry=[
            box(X0 + 2_000, Y0 + 2_000, X0 + 2_150, Y0 + 2_150),
            box(X0 + 12_000, Y0 + 2_000, X0 + 12_200, Y0 + 2_200),
        ],
        crs=CRS,
    )


LAYERS: dict[str, Callable[[], pd.DataFrame]] = {
    "counties": counties,
    "townships": townships,
    "schools": schools,
    "population": population,
    "developments": developments,
    "reserved_land": reserved_land,
}

TOML = """
[study]
name = "tiny"
title = "Tiny hand-made study"
synthetic = true
crs = "EPSG:4550"
base_year = 2020
school_year = 2024
plan_start = 2025
plan_end = 2030
profile = "anshan-2020"

[layers.counties]
path = "layers.gpkg"
layer = "counties"

[layers.townships]
path = "layers.gpkg"
layer = "townships"

[layers.schools]
path = "schools.csv"
x = "lon"
y = "lat"
crs = "EPSG:4490"

[layers.population]
path = "population.parquet"

[layers.developments]
path = "layers.gpkg"
layer = "developments"

[layers.reserved_land]
path = "layers.gpkg"
layer = "reserved_land"

# The documented Anshan scenarios (layout.demand.scenarios.default_scenarios), stated: a study
# without [scenarios] gets one derived from its own population instead.
[scenarios.low]
birth_rate = { 2021 = 4.33, 2022 = 3.65, 2030 = 2.9 }
net_migration = { urban = 0.0, rural = -0.02 }
population_growth = { all = -0.015 }

[scenarios.medium]

[scenarios.high]
birth_rate = { 2021 = 4.33, 2022 = 3.65, 2030 = 4.5 }
net_migration = { urban = 0.01, rural = -0.01 }
population_growth = { all = -0.005 }
"""


def write_tiny_study(
    folder: Path,
    *,
    edit: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] | None = None,
    toml: str = TOML,
) -> Path:
    """Write the tiny study to ``folder`` after applying ``edit`` per layer; return the TOML."""
    edit = edit or {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in LAYERS.items():
        frame = edit.get(name, lambda f: f)(make())
        if name == "schools":
            frame.to_csv(folder / "schools.csv", index=False)
        elif name == "population":
            frame.to_parquet(folder / "population.parquet")
        else:
            frame.to_file(folder / "layers.gpkg", layer=name, driver="GPKG")
    path = folder / "study.toml"
    path.write_text(toml, encoding="utf-8")
    return path
