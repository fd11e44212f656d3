"""Time a styled folium GeoJSON layer: folium's style_function against geojson_from_geodataframe.

A grid of square "village" polygons in UTM 51N, each with one of five fill colours, is drawn
both ways on a ``tiles=None`` map; the script prints, for each, the time to build the layer,
to render and save the page offline (``save_html``), the page size, and the time headless
Chromium takes to load and draw it (Debian's ``/usr/bin/chromium``, as in the tests). Run from
the repository root:

    PYTHONPATH=. python benchmarks/maps_geojson.py --features 5000
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import shapely

from layout.maps import geojson_from_geodataframe, save_html
from tests.browser import CHROMIUM, CHROMIUM_ARGS

COLOURS = np.array(["#d73027", "#fc8d59", "#fee090", "#91bfdb", "#4575b4"])


def _villages(count: int) -> gpd.GeoDataFrame:
    side = int(np.ceil(np.sqrt(count)))
    cells = np.arange(count)
    x0 = 400_000 + (cells % side) * 500.0
    y0 = 4_540_000 + (cells // side) * 500.0
    return gpd.GeoDataFrame(
        {"name": [f"村{i}" for i in cells], "colour": COLOURS[cells % len(COLOURS)]},
        geometry=shapely.box(x0, y0, x0 + 480, y0 + 480),
        crs="EPSG:32651",
    )


def _time(build: Callable[[], folium.GeoJson], out: pathlib.Path) -> tuple[float, float, int]:
    start = time.perf_counter()
    layer = build()
    built = time.perf_counter()
    m = folium.Map(location=[41.1, 122.9], tiles=None)
    layer.add_to(m)
    save_html(m, out)
    return built - start, time.perf_counter() - built, out.stat().st_size


def _browser_load_seconds(pages: list[pathlib.Path], *, rounds: int = 3) -> list[float]:
    """Median time to load and draw each page; pages alternate, after one warm-up load each."""
    from playwright.sync_api import sync_playwright

    seconds: list[list[float]] = [[] for _ in pages]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        for round_number in range(rounds + 1):
            for times, page_file in zip(seconds, pages, strict=True):
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                start = time.perf_counter()
                page.goto(page_file.as_uri(), wait_until="load")
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                if round_number > 0:
                    times.append(time.perf_counter() - start)
                page.close()
        browser.close()
    return [float(np.median(times)) for times in seconds]


def main() -> None:
    """Print the timings of both ways for the requested number of features."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=5000)
    count = parser.parse_args().features
    villages = _villages(count)

    def with_style_function() -> folium.GeoJson:
        return folium.GeoJson(
            villages,
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "weight": 1,
                "color": "#333333",
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"]),
        )

    def with_properties() -> folium.GeoJson:
        return geojson_from_geodataframe(
            villages,
            style_columns={"fillColor": "colour"},
            style={"weight": 1, "color": "#333333"},
            tooltip={"name": "name"},
        )

    ways = {
        "folium style_function": with_style_function,
        "geojson_from_geodataframe": with_properties,
    }
    print(f"features: {count}")
    with tempfile.TemporaryDirectory() as folder:
        pages = [pathlib.Path(folder) / f"{i}.html" for i in range(len(ways))]
        timings = [_time(build, out) for build, out in zip(ways.values(), pages, strict=True)]
        loads = _browser_load_seconds(pages)
    for label, (build_s, save_s, size), load_s in zip(ways, timings, loads, strict=True):
        print(
            f"{label:27s} build {build_s:5.2f} s  render+save {save_s:5.2f} s  "
            f"page {size / 1e6:4.1f} MB  chromium load (median of 3) {load_s:5.2f} s"
        )


if __name__ == "__main__":
    main()
