"""Compare the outputs of two ``layout plan`` runs: every table equal, maps equal but for ids.

Reads, from each run's ``--out`` folder, every layer of ``results.gpkg``, every Parquet table
(``cells.parquet`` and the partitioned folders), every sheet of ``tables.xlsx`` and the
index page, and from each ``--maps`` folder every HTML map. Numbers must agree to a relative
tolerance of 1e-9 (geometries: their types, and their coordinates likewise); maps and the
index page character for character once folium's random element ids (32 hexadecimal
digits) are blanked. Used to check that a change made to speed the run up gives the same
answers (``benchmarks/RESULTS.md``, issue 19).

Usage::

    PYTHONPATH=. python benchmarks/compare_plan.py OUT_A MAPS_A OUT_B MAPS_B
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pandas.testing import assert_frame_equal

LOG = logging.getLogger("compare_plan")
_IDS = re.compile(r"[0-9a-f]{32}")


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Assert two tables equal; geometries by type and coordinates (rtol 1e-9)."""
    if "geometry" in a.columns:
        shapes = [_shapes(t["geometry"]) for t in (a, b)]
        assert (shapes[0].geom_type.to_numpy() == shapes[1].geom_type.to_numpy()).all(), what
        coords = [shapely.get_coordinates(s.to_numpy()) for s in shapes]
        np.testing.assert_allclose(coords[0], coords[1], rtol=1e-9, err_msg=what)
        a, b = a.drop(columns="geometry"), b.drop(columns="geometry")
    assert_frame_equal(a, b, check_exact=False, rtol=1e-9, obj=what)
    LOG.info("equal: %s (%d rows)", what, len(a))


def _shapes(column: pd.Series) -> gpd.GeoSeries:
    """Return the geometries of a column read from a GeoPackage (shapes) or Parquet (WKB)."""
    if isinstance(column.dtype, gpd.array.GeometryDtype):
        return gpd.GeoSeries(column)
    return gpd.GeoSeries.from_wkb(column)


def _parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file or a partitioned folder, rows in the files' order."""
    if path.is_file():
        return pd.read_parquet(path)
    parts = sorted(p for p in path.rglob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def compare(out_a: Path, maps_a: Path, out_b: Path, maps_b: Path) -> None:
    """Assert the two runs' outputs equal (see the module text)."""
    for layer, _ in pyogrio.list_layers(out_a / "results.gpkg"):
        read = {
            run: pyogrio.read_dataframe(run / "results.gpkg", layer=layer) for run in (out_a, out_b)
        }
        _same(read[out_a], read[out_b], f"results.gpkg:{layer}")
    names = sorted(p.name for p in out_a.iterdir() if p.name.endswith(".parquet") or p.is_dir())
    for name in names:
        if name != "charts":
            _same(_parquet(out_a / name), _parquet(out_b / name), name)
    sheets = [
        pd.read_excel(run / "tables.xlsx", sheet_name=None, engine="openpyxl")
        for run in (out_a, out_b)
    ]
    assert list(sheets[0]) == list(sheets[1]), "the workbooks' sheets differ"
    for sheet in sheets[0]:
        _same(sheets[0][sheet], sheets[1][sheet], f"tables.xlsx:{sheet}")
    pages = [(out_a / "index.html", out_b / "index.html")]
    pages += [(p, maps_b / p.name) for p in sorted(maps_a.glob("*.html"))]
    for a, b in pages:  # the index page links the maps by their folder's name
        text = [
            _IDS.sub("", p.read_text(encoding="utf-8")).replace(f"../{maps.name}/", "../MAPS/")
            for p, maps in ((a, maps_a), (b, maps_b))
        ]
        assert text[0] == text[1], f"{a.name} differs"
        LOG.info("equal: %s", a.name)
    charts = sorted((out_a / "charts").glob("*.png"))
    assert [p.name for p in charts] == sorted(p.name for p in (out_b / "charts").glob("*.png"))


def main() -> None:
    """Compare the two runs named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("out_a", "maps_a", "out_b", "maps_b"):
        parser.add_argument(name, type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    compare(args.out_a, args.maps_a, args.out_b, args.maps_b)
    LOG.info("the two runs' outputs are equal")


if __name__ == "__main__":
    main()
