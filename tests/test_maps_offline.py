"""Offline folium maps: inlined assets, refused CDN links, and the page in headless Chromium."""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pytest
from folium.plugins import Fullscreen, MarkerCluster
from PIL import Image
from shapely.geometry import box

from layout.errors import ValidationError
from layout.maps import (
    external_references,
    geojson_from_geodataframe,
    label_html,
    offline_assets,
    save_html,
)

if TYPE_CHECKING:  # imported as a plugin below; importing it here first would skip rewriting
    from tests.browser import OfflinePage


# Two townships side by side; fillOpacity 1 so their pixels show the exact fill colour.
TOWN_COLOURS = {"A": "#d73027", "B": "#4575b4"}  # (215, 48, 39) and (69, 117, 180)
SCHOOLS = {"第一小学": (41.05, 122.95), "第二小学": (41.05, 123.05)}
# Three pupils' homes 0.0001 degree apart: at zoom 11 one degree of longitude is
# 256 * 2**11 / 360 = 1456 px, so they are 0.15 px apart, far inside markercluster's
# 80 px radius: one cluster labelled "3".
HOMES = [(41.02, 123.02), (41.0201, 123.0201), (41.0202, 123.0202)]
# Regex written independently of layout.maps.offline: a script or link tag loading http(s).
REMOTE_TAG = re.compile(r"""<(script|link)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""", re.I)


def _towns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": list(TOWN_COLOURS), "colour": list(TOWN_COLOURS.values())},
        geometry=[box(122.90, 41.00, 123.00, 41.10), box(123.00, 41.00, 123.10, 41.10)],
        crs="EPSG:4326",
    )


def _map() -> folium.Map:
    return folium.Map(location=[41.05, 123.0], zoom_start=11, tiles=None, maxZoom=18)


def _school_map(towns: gpd.GeoDataFrame) -> folium.Map:
    m = _map()
    geojson_from_geodataframe(
        towns,
        style_columns={"fillColor": "colour"},
        style={"fillOpacity": 1, "weight": 1, "color": "#000000"},
        tooltip={"name": "乡镇"},
        name="乡镇",
    ).add_to(m)
    schools = folium.FeatureGroup(name="学校").add_to(m)
    for name, location in SCHOOLS.items():
        tip = folium.Tooltip(label_html(name))
        circle = folium.CircleMarker(location, radius=8, color="#1a9850", fill=True, tooltip=tip)
        circle.add_to(schools)
    homes = MarkerCluster(name="学生").add_to(m)
    for location in HOMES:
        folium.CircleMarker(location, radius=4).add_to(homes)
    folium.LayerControl().add_to(m)
    return m


def _folium_default_urls() -> list[str]:
    """Every URL folium 0.20 links for a map with a marker cluster, from folium's own classes."""
    return [
        url for cls in (folium.Map, MarkerCluster) for _, url in [*cls.default_js, *cls.default_css]
    ]


def test_offline_assets_cover_every_folium_default_and_exist():
    """Each CDN URL folium emits has installed files, or is deliberately dropped."""
    assets = offline_assets()
    assert set(assets) == set(_folium_default_urls())
    files = [file for group in assets.values() for file in group]
    assert files and all(file.is_file() for file in files)
    dropped = sorted(url for url, group in assets.items() if not group)
    # Bootstrap 5 JS and CSS, glyphicons, awesome-markers JS and CSS, awesome rotate CSS.
    assert len(dropped) == 6
    assert all("bootstrap" in url or "awesome" in url for url in dropped)


def test_external_references_finds_folium_cdn_links(tmp_path: pathlib.Path):
    """The checker finds exactly the CDN links of folium's own save()."""
    # folium's own save() links every default asset of Map and MarkerCluster, in that order.
    m = _map()
    MarkerCluster().add_to(m)
    m.save(str(tmp_path / "cdn.html"))
    found = external_references(tmp_path / "cdn.html")
    assert sorted(found) == sorted(_folium_default_urls())


def test_save_html_inlines_everything(tmp_path: pathlib.Path):
    """The saved page holds every asset inline and no remote script or link."""
    out = save_html(_school_map(_towns()), tmp_path / "map.html", title="<鞍山> 学校")
    text = out.read_text(encoding="utf-8")
    assert out == tmp_path / "map.html"
    assert external_references(out) == []
    assert REMOTE_TAG.search(text) is None
    assert "<title>&lt;鞍山&gt; 学校</title>" in text
    # Leaflet 1.9.3's code, jQuery's and markercluster's are inline; the Font Awesome solid face
    # is a data: URI; Leaflet's CSS images too.
    assert 't.version="1.9.3"' in text
    assert "jQuery v3.7.1" in text
    assert "L.MarkerClusterGroup" in text
    assert 'url("data:font/woff2;base64,' in text
    assert 'url("data:image/png;base64,' in text
    assert ".ttf" not in text and "fa-brands-400" not in text
    assert os.stat(out).st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_save_html_leaves_the_map_unchanged(tmp_path: pathlib.Path):
    """Saving twice writes the same page: the map is not changed by rendering."""
    # folium's own save() renders the map itself, and its LayerControl adds addTo() calls on
    # every render, so without a copy the second page would be longer.
    m = _school_map(_towns())
    first = save_html(m, tmp_path / "first.html").read_text(encoding="utf-8")
    second = save_html(m, tmp_path / "second.html").read_text(encoding="utf-8")
    assert first == second


def test_save_html_shares_the_geojson_it_only_reads(tmp_path: pathlib.Path):
    """The cells' GeoJSON is shared with the rendered copy, not copied, and stays as it was."""
    m = _school_map(_towns())
    layer = next(c for c in m._children.values() if isinstance(c, folium.GeoJson))
    before = json.dumps(layer.data, sort_keys=True)
    page = save_html(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert json.dumps(layer.data, sort_keys=True) == before
    assert json.dumps(layer.data["features"][0]["properties"], ensure_ascii=False) in page


def test_save_html_refuses_tiles_and_plugins_naming_each_url(tmp_path: pathlib.Path):
    """Tiles, plugin CDN files and remote images are refused, each URL named."""
    m = folium.Map(location=[41.05, 123.0], tiles="OpenStreetMap")
    Fullscreen().add_to(m)
    folium.Marker([41.05, 123.0], popup=folium.Popup('<img src="https://x.example/a.png">')).add_to(
        m
    )
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        save_html(m, target)
    message = str(raised.value)
    plugin_urls = [url for _, url in [*Fullscreen.default_js, *Fullscreen.default_css]]
    tiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    for url in [*plugin_urls, tiles, "https://x.example/a.png"]:
        assert url in message
    # The tile attribution is a link a reader may click, not a request: not a problem.
    assert "openstreetmap.org/copyright" not in message
    assert len(raised.value.problems) == len(plugin_urls) + 2
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_save_html_refuses_awesome_icons_and_cluster_without_max_zoom(tmp_path: pathlib.Path):
    """folium.Icon and a cluster on a map without maxZoom are refused together."""
    m = folium.Map(location=[41.05, 123.0], tiles=None)
    folium.Marker([41.05, 123.0], icon=folium.Icon(color="red")).add_to(m)
    MarkerCluster().add_to(m)
    with pytest.raises(ValidationError) as raised:
        save_html(m, tmp_path / "map.html")
    assert len(raised.value.problems) == 2
    assert "folium.Icon" in raised.value.problems[0]
    assert "maxZoom=18" in raised.value.problems[1]
    assert not (tmp_path / "map.html").exists()


def test_save_html_allows_links_and_refuses_a_missing_folder(tmp_path: pathlib.Path):
    """A link is no request; a missing output folder is an error."""
    m = _map()
    link = folium.Popup('<a href="https://x.example">x</a>')
    folium.CircleMarker([41.05, 123.0], popup=link).add_to(m)
    assert external_references(save_html(m, tmp_path / "link.html")) == []
    with pytest.raises(ValidationError, match="does not exist"):
        save_html(m, tmp_path / "no" / "map.html")


def _leaflet_map(offline_page: OfflinePage) -> str:
    """Return the name of the page's global L.Map variable (folium names it map_<hash>)."""
    names = offline_page.page.evaluate(
        "Object.keys(window).filter(k => k.startsWith('map_') && window[k] instanceof L.Map)"
    )
    assert len(names) == 1
    return names[0]


def _screen_point(offline_page: OfflinePage, map_name: str, lat: float, lon: float) -> dict:
    # The map fills the page from its top-left corner, so container points are page points.
    return offline_page.page.evaluate(f"{map_name}.latLngToContainerPoint([{lat}, {lon}])")


def test_map_renders_offline_in_chromium(offline_page: OfflinePage, tmp_path: pathlib.Path):
    """The school map draws in Chromium with the network blocked."""
    out = save_html(_school_map(_towns()), tmp_path / "map.html")
    offline_page.open(out)
    page = offline_page.page
    assert page.evaluate("typeof L === 'object' && L.version") == "1.9.3"
    map_name = _leaflet_map(offline_page)
    # 2 township polygons + 2 school circles are SVG paths; the 3 homes form one cluster.
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 4
    assert page.locator(".marker-cluster").all_inner_texts() == ["3"]
    # Each township path is filled with the colour of its own row.
    fills = page.evaluate(
        "Object.values(window).filter(v => v instanceof L.GeoJSON)[0].getLayers()"
        ".map(l => [l.feature.properties.name, l._path.getAttribute('fill')])"
    )
    assert dict(fills) == TOWN_COLOURS
    # Hovering the first school shows its name.
    point = _screen_point(offline_page, map_name, *SCHOOLS["第一小学"])
    page.mouse.move(point["x"], point["y"])
    assert page.locator(".leaflet-tooltip").inner_text().strip() == "第一小学"
    page.mouse.move(0, 599)  # away, so the tooltip does not cover the pixels checked below
    page.locator(".leaflet-tooltip").wait_for(state="detached")
    # Township A away from its school: fill #d73027 at opacity 1 is exactly (215, 48, 39).
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    point = _screen_point(offline_page, map_name, 41.08, 122.92)
    assert shot.getpixel((round(point["x"]), round(point["y"]))) == (215, 48, 39)
    # Background, two fills, green circles, black borders, cluster, controls: many colours.
    assert len(shot.getcolors(maxcolors=1 << 20)) > 20


def test_default_marker_icon_is_inline(offline_page: OfflinePage, tmp_path: pathlib.Path):
    """folium.Marker's default icon is a data: URI, so it needs no image file."""
    m = _map()
    folium.Marker([41.05, 123.0]).add_to(m)
    offline_page.open(save_html(m, tmp_path / "marker.html"))
    icon = offline_page.page.locator("img.leaflet-marker-icon")
    assert icon.get_attribute("src").startswith("data:image/png;base64,")
    # The icon image is Leaflet's marker-icon.png, 25 x 41 pixels, decoded from the data: URI.
    size = icon.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    css_url = next(url for _, url in folium.Map.default_css if url.endswith("leaflet.css"))
    (css,) = offline_assets()[css_url]
    with Image.open(css.parent / "images" / "marker-icon.png") as png:
        assert size == list(png.size) == [25, 41]


def test_hostile_school_name_is_shown_not_run(offline_page: OfflinePage, tmp_path: pathlib.Path):
    """A school name full of markup shows as text in tooltips and popups; nothing runs."""
    # Each part would run if written raw: </script> ends folium's script, ${...} is evaluated
    # in folium's template literals, and innerHTML runs an <img onerror>.
    name = (
        "</script><script>alert(1)</script>${window.hacked = 2}"
        '<img src=x onerror="window.hacked = 3"> `a` \\ \'b\' & "c"'
    )
    towns = _towns().assign(name=[name, "B"])
    m = _map()
    towns_layer = geojson_from_geodataframe(
        towns, style_columns={"fillColor": "colour"}, tooltip={"name": "乡"}
    )
    towns_layer.add_to(m)
    label = label_html(name)
    # fill=True: the mouse hits an unfilled circle on its ring only.
    tip, popup = folium.Tooltip(label), folium.Popup(label)
    folium.CircleMarker(SCHOOLS["第二小学"], radius=8, fill=True, tooltip=tip, popup=popup).add_to(
        m
    )
    offline_page.open(save_html(m, tmp_path / "hostile.html"))
    page = offline_page.page
    map_name = _leaflet_map(offline_page)
    # Township A's GeoJSON tooltip is a table: label cell, then the name cell.
    point = _screen_point(offline_page, map_name, 41.08, 122.92)
    page.mouse.move(point["x"], point["y"])
    assert page.locator(".leaflet-tooltip td").inner_text().strip() == name
    page.mouse.move(0, 599)  # off the townships, so their tooltip closes
    page.locator(".leaflet-tooltip").wait_for(state="detached")
    point = _screen_point(offline_page, map_name, *SCHOOLS["第二小学"])
    page.mouse.move(point["x"], point["y"])
    assert page.locator(".leaflet-tooltip").inner_text().strip() == name
    page.mouse.click(point["x"], point["y"])  # the popup may pan the map: check it last
    assert page.locator(".leaflet-popup-content").inner_text().strip() == name
    assert page.evaluate("window.hacked") is None
    assert offline_page.dialogs == []
