"""Regenerate the synthetic Anshan sample study from the real county boundaries.

Run from the repository root::

    python data/anshan/make_sample.py

Writes ``anshan.gpkg`` (layers townships, schools, developments, reserved_land, roads),
``population.parquet`` (GeoParquet) and ``teachers.csv`` beside this file, each first to a
temporary name and then renamed into place. Counties are not copied: ``study.toml`` points at
``../boundaries/anshan.gpkg``. Every figure and assumption is documented in ``data/README.md``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio

from layout.synthetic import Calibration, synthetic_study

LOG = logging.getLogger("make_sample")
HERE = Path(__file__).resolve().parent
BOUNDARIES = HERE.parent / "boundaries" / "anshan.gpkg"
SEED = 20201101
GPKG_LAYERS = ("townships", "schools", "developments", "reserved_land", "roads")

CENSUS_2020 = {
    "210302": 511_574,  # 铁东区 (incl. the scenic area)
    "210303": 309_397,  # 铁西区
    "210304": 406_680,  # 立山区
    "210311": 94_729,  # 千山区
    "210321": 300_764,  # 台安县
    "210323": 413_007,  # 岫岩满族自治县
    "210381": 1_067_905,  # 海城市
}
"""Residents at the 7th census (1 Nov 2020), Anshan Statistics Bureau communiqué no. 2."""
ZONES_2020 = {"high_tech": 122_595, "development": 98_721}
"""Residents of the 高新区 and 开发区 (same source), which lie inside the urban districts."""
ZONE_DISTRICT = {"high_tech": "210304", "development": "210303"}
"""Assumption: the 高新区 is counted with 立山区, the 开发区 with 铁西区."""

POPULATIONS = {
    code: n + sum(ZONES_2020[z] for z, d in ZONE_DISTRICT.items() if d == code)
    for code, n in CENSUS_2020.items()
}

CORE = (122.99, 41.11)
SEATS = {
    "210302": CORE,
    "210303": CORE,
    "210304": CORE,
    "210311": CORE,
    "210381": (122.75, 40.85),  # 海城 (approximate)
    "210321": (122.43, 41.41),  # 台安 (approximate)
    "210323": (123.28, 40.29),  # 岫岩 (approximate)
}
"""Approximate urban centres (lon, lat, EPSG:4490); the four districts share the city core."""

CALIBRATION = Calibration(
    seats=SEATS, urban_share={"210311": 0.45}, townships=55, peak_density_km2=30_000.0
)
"""55 townships as in the 2022 government page; 千山区 assumed 45 % urban; an urban peak of 30,000
residents per km2 assumed (data/README.md, A4)."""


def build() -> dict[str, pd.DataFrame]:
    """Generate every layer of the Anshan sample study (in EPSG:4550)."""
    counties = gpd.read_file(BOUNDARIES, layer="counties")
    return synthetic_study(counties, populations=POPULATIONS, seed=SEED, calibration=CALIBRATION)


def _temporary(folder: Path, suffix: str) -> Path:
    """Return a fresh temporary file name in ``folder`` (the file itself does not exist)."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=folder)
    os.close(fd)
    os.unlink(name)
    return Path(name)


def _write_gpkg(layers: Mapping[str, pd.DataFrame], target: Path) -> None:
    """Write the vector layers to one GeoPackage with layer metadata marking them synthetic."""
    tmp = _temporary(target.parent, ".gpkg")
    for name in GPKG_LAYERS:
        gdf = layers[name]
        pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", layer_metadata=dict(gdf.attrs))
    os.replace(tmp, target)


def _write_parquet(gdf: gpd.GeoDataFrame, target: Path) -> None:
    """Write GeoParquet (zstd) with the provenance in the Parquet schema metadata."""
    tmp = _temporary(target.parent, ".parquet")
    gdf.to_parquet(tmp, index=False, compression="zstd")
    table = pq.read_table(tmp)
    extra = {b"layout": json.dumps(gdf.attrs, ensure_ascii=False).encode()}
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, **extra}), tmp, compression="zstd"
    )
    os.replace(tmp, target)


def _write_csv(table: pd.DataFrame, target: Path) -> None:
    """Write a plain table as UTF-8 CSV."""
    tmp = _temporary(target.parent, ".csv")
    table.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, target)


def write(layers: Mapping[str, pd.DataFrame], folder: Path = HERE) -> None:
    """Write the sample files into ``folder``."""
    _write_gpkg(layers, folder / "anshan.gpkg")
    _write_parquet(layers["population"], folder / "population.parquet")
    _write_csv(layers["teachers"], folder / "teachers.csv")


def main() -> None:
    """Regenerate the sample files beside this script."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    layers = build()
    write(layers)
    LOG.info("wrote %s", ", ".join(f"{k}: {len(v)} rows" for k, v in layers.items()))


if __name__ == "__main__":
    main()
