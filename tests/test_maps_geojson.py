"""GeoJSON layers whose features carry their style: properties, rounding, simplification."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, shape

from layout.errors import ValidationError
from layout.maps import geojson_from_geodataframe

UTM51N = "EPSG:32651"  # WGS 84 / UTM zone 51N: central meridian 123 E, false easting 500 km


def _schools() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["一小 <b>", None],
            "pupils": [812, 95],
            "colour": ["#1a9850", "#d73027"],
            "private_note": ["x", "y"],
        },
        geometry=[Point(122.123456789, 41.987654321), Point(122.5, 41.5)],
        index=pd.Index([10, 20], name="school_id"),
        crs="EPSG:4326",
    )


def test_properties_keep_tooltip_columns_and_style_only():
    """Only tooltip columns and the style reach the page; the input is unchanged."""
    schools = _schools()
    before = schools.copy()
    layer = geojson_from_geodataframe(
        schools,
        style_columns={"color": "colour"},
        style={"weight": 2, "fill": False},
        tooltip={"name": "学校", "pupils": "学生数"},
    )
    first, second = (f["properties"] for f in layer.data["features"])
    # Text is HTML-escaped, numbers become text with separators (so the browser never
    # writes a year as "2,027"), a missing name becomes null.
    assert first == {"name": "一小 &lt;b&gt;", "pupils": "812", "style": {"color": "#1a9850"}}
    assert second == {"name": None, "pupils": "95", "style": {"color": "#d73027"}}
    # The shared style is written once, as options of the layer.
    assert layer.options == {"weight": 2, "fill": False}
    pd.testing.assert_frame_equal(schools, before)


def test_coordinates_are_rounded_and_reprojected():
    """Coordinates are rounded in degrees, after reprojection from any CRS."""
    schools = _schools()
    layer = geojson_from_geodataframe(schools)
    # 122.123456789 -> 122.12346 and 41.987654321 -> 41.98765 at 5 decimals.
    assert layer.data["features"][0]["geometry"]["coordinates"] == [122.12346, 41.98765]
    # In UTM 51N, easting 500 000 m on the equator is the central meridian: (123 E, 0 N).
    utm = gpd.GeoDataFrame(geometry=[Point(500_000, 0)], crs=UTM51N)
    point = geojson_from_geodataframe(utm).data["features"][0]["geometry"]["coordinates"]
    assert point == [123.0, 0.0]


def test_one_set_style_call_and_no_style_switch():
    """The page styles all features with folium's single setStyle call."""
    layer = geojson_from_geodataframe(_schools(), style_columns={"color": "colour"})
    m = folium.Map(location=[41.5, 122.5], tiles=None)
    layer.add_to(m)
    page = m.get_root().render()
    assert page.count(".setStyle(function(feature) {return feature.properties.style;});") == 1
    assert "_styler" not in page and "switch(" not in page


def _three_townships() -> gpd.GeoDataFrame:
    # A on the left; B (top) and C (bottom) on the right. All three meet at the node
    # (1003, 500), 3 m right of the straight line x = 1000. A and B also share (1001, 750).
    a = [(0, 0), (1000, 0), (1003, 500), (1001, 750), (1000, 1000), (0, 1000)]
    b = [(1003, 500), (2000, 500), (2000, 1000), (1000, 1000), (1001, 750)]
    c = [(1000, 0), (2000, 0), (2000, 500), (1003, 500)]
    offset = (400_000, 4_540_000)  # near Anshan, in UTM 51N metres
    rings = [[(x + offset[0], y + offset[1]) for x, y in ring] for ring in (a, b, c)]
    return gpd.GeoDataFrame({"name": list("ABC")}, geometry=[Polygon(r) for r in rings], crs=UTM51N)


def test_simplify_keeps_shared_edges_of_a_coverage():
    """Simplified townships keep their shared node and edges: no gap, no overlap."""
    towns = _three_townships()
    layer = geojson_from_geodataframe(towns, simplify_tolerance=15)
    a, b, c = (shape(f["geometry"]) for f in layer.data["features"])
    # Visvalingam-Whyatt with tolerance 15 drops vertices whose triangle is under 15^2 = 225 m^2.
    # (1001, 750) spans with its neighbours (1003, 500) and (1000, 1000) a triangle of
    # |(-3)(250) - (500)(-2)| / 2 = 125 m^2: dropped from A and from B. The node (1003, 500) where
    # three townships meet is kept. A keeps 5 corners (6 coordinates with the closing one),
    # B 4 (5), C 4 (5).
    assert [len(p.exterior.coords) for p in (a, b, c)] == [6, 5, 5]
    # No gap and no overlap: the union is one polygon without holes and its area is the sum.
    # (Simplifying each polygon alone would drop the node from A, 3 m < 15 m off its line, and
    # open a 1000 m x 3 m / 2 = 1500 m^2 triangular hole.)
    union = shapely.union_all([a, b, c])
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    assert math.isclose(union.area, a.area + b.area + c.area, rel_tol=1e-9)


def test_simplify_other_layers_geometry_by_geometry():
    """A layer that is not a polygon coverage is simplified geometry by geometry."""
    # A line is no coverage: Douglas-Peucker drops the middle vertex 4 m off the chord (< 5 m).
    line = shapely.LineString([(500_000, 0), (500_100, 4), (500_200, 0)])
    lines = gpd.GeoDataFrame(geometry=[line], crs=UTM51N)
    layer = geojson_from_geodataframe(lines, simplify_tolerance=5)
    assert len(layer.data["features"][0]["geometry"]["coordinates"]) == 2


def test_problems_are_reported_together():
    """Every problem of the arguments is listed in one ValidationError."""
    schools = _schools()
    schools.loc[20, "colour"] = None
    schools.loc[10, "geometry"] = None
    with pytest.raises(ValidationError) as raised:
        geojson_from_geodataframe(
            schools,
            style_columns={"fill_color": "colour", "color": "shade"},
            tooltip={"name": "学校", "style": "x"},
            simplify_tolerance=10,
        )
    problems = raised.value.problems
    assert len(problems) == 7
    assert "'fill_color' is not a Leaflet path option" in problems[0]
    assert "'shade' is not in gdf" in problems[1]
    assert "'style' is not in gdf" in problems[2]
    assert "'style' is reserved" in problems[3]
    assert "'colour' (fill_color) is missing in rows [20]" in problems[4]
    assert "geometry is missing or empty in rows [10]" in problems[5]
    assert "needs a projected CRS" in problems[6]


def test_gcj02_shift_matches_an_independent_implementation() -> None:
    """Overlays for a Gaode basemap are shifted as prcoords (public domain) shifts them."""
    import prcoords

    from layout.maps.basemap import to_gcj02

    points = np.array([[122.99, 41.11], [123.28, 40.29], [122.43, 41.41], [116.404, 39.915]])
    expected = np.array([[c.lon, c.lat] for c in (prcoords.wgs_gcj((y, x)) for x, y in points)])
    np.testing.assert_allclose(to_gcj02(points), expected, atol=1e-9)
    # The shift in Anshan is hundreds of metres: about 0.0055 degrees east.
    assert 0.004 < to_gcj02(points[:1])[0, 0] - 122.99 < 0.007
    layer = geojson_from_geodataframe(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:1, 0], points[:1, 1]), crs=4326),
        datum="gcj02",
    )
    lon, lat = layer.data["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == (round(expected[0, 0], 5), round(expected[0, 1], 5))
