"""The maps and the index page as a planner sees them: read from the page Chromium rendered.

One run of ``layout plan`` and ``layout land`` on the tiny hand-made study serves every test
of the module. Styles are read from the SVG Leaflet drew (``fill``, ``fill-opacity``,
``stroke``), texts from the popups the page opened, never from the Python options.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from PIL import Image
from pyproj import Transformer

from layout.cli import main
from layout.maps import budget, save_html, sites
from layout.maps.budget import MAX_PAGE_MB
from layout.maps.provision import REASON_COLOURS, provision_map
from layout.study import study_from_toml
from tests.tinystudy import write_tiny_study

if TYPE_CHECKING:
    from tests.browser import OfflinePage

# The SVG attributes of the path Leaflet drew for each feature carrying ``key``.
_DRAWN = """key => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const out = {};
  map.eachLayer(l => {
    if (l.feature && l._path && l.feature.properties[key] !== undefined) {
      const p = l._path;
      out[l.feature.properties[key]] = [p.getAttribute('fill'), p.getAttribute('fill-opacity'),
        p.getAttribute('stroke'), p.getAttribute('stroke-width')];
    }
  });
  return out;
}"""
# The values of ``key`` of the features on the map (SVG or canvas).
_ON_MAP = """key => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const out = [];
  map.eachLayer(l => { if (l.feature && l.feature.properties[key] !== undefined) {
    out.push(l.feature.properties[key]); } });
  return out;
}"""
# Open the popup of the feature whose property ``key`` is ``value``; return its text.
_POPUP = """([key, value]) => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  let hit = null;
  map.eachLayer(l => { if (l.feature && l.feature.properties[key] === value) { hit = l; } });
  const at = hit.getLatLng ? hit.getLatLng() : hit.getBounds().getCenter();
  map.closePopup();
  hit.fire('click', {latlng: at}, true);
  const open = document.querySelectorAll('.leaflet-popup-content');  // the newest is last
  return open[open.length - 1].innerText;
}"""

# The image overlay on the map: its source and its bounds (south, west, north, east).
_IMAGE = """() => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  let out = null;
  map.eachLayer(l => { if (l._image) { const b = l.getBounds();
    out = [l._image.src, b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; } });
  return out;
}"""

# Open the popup of the first county marker (its layer is off at first); once its chart has
# loaded, return the picture's source and natural width.
_CHART = """async () => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const marker = Object.keys(window).filter(k => k.startsWith('circle_marker_'))
    .map(k => window[k]).find(m => m.getPopup() && m.getTooltip());
  marker.addTo(map).openPopup();
  const img = document.querySelector('.leaflet-popup-content img');
  if (!img.complete) { await new Promise(done => { img.onload = done; img.onerror = done; }); }
  return [img.getAttribute('src'), img.naturalWidth];
}"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run ``layout plan`` then ``layout land`` on the tiny study; return the folder."""
    root = tmp_path_factory.mktemp("pages")
    toml = write_tiny_study(root / "study")
    folders = ["--out", str(root / "out"), "--maps", str(root / "maps"), "--quiet"]
    assert main(["plan", str(toml), *folders]) == 0
    assert main(["land", str(toml), *folders]) == 0
    return root


def test_points_are_filled_dots_coloured_by_their_key(run: Path, offline_page: OfflinePage):
    """Schools are solid dots of their class-size colour; over-capacity ones have a black ring."""
    offline_page.open(run / "maps" / "overview.html")
    drawn = offline_page.page.evaluate(_DRAWN, "school_id")
    # S1: grade 1 has classes of 56 and 57 (large, red); S2: classes of 50 at the junior cap
    # (fine, blue); S3: a teaching point of 12 pupils (blue). None has more pupils than its
    # 400 places, so every ring is the thin dark grey one.
    assert drawn == {
        "S1": ["#d7191c", "0.9", "#333333", "1"],
        "S2": ["#2c7bb6", "0.9", "#333333", "1"],
        "S3": ["#2c7bb6", "0.9", "#333333", "1"],
    }
    offline_page.page.goto((run / "maps" / "sites.html").resolve().as_uri())
    candidates = offline_page.page.evaluate(_DRAWN, "score")  # only candidates have a score
    assert candidates, "the sites map draws its candidates"
    # Candidates are grey, their own key, not Leaflet's default blue (#3388ff).
    assert {tuple(v[:2]) for v in candidates.values()} == {("#bababa", "0.6")}
    proposals = offline_page.page.evaluate(_DRAWN, "proposal_id")
    assert proposals and {tuple(v[1:3]) for v in proposals.values()} == {("0.9", "#000000")}
    assert {v[0] for v in proposals.values()} <= set(sites.KIND_COLOURS.values())


def test_overview_tooltip_has_places_and_utilisation(run: Path, offline_page: OfflinePage):
    offline_page.open(run / "maps" / "overview.html")
    text = offline_page.page.evaluate(_POPUP, ["school_id", "S1"])
    # S1: 113 + 90 = 203 pupils in 400 places: 50.75 %, shown whole.
    assert "学位\t400" in text and "学位利用率\t51%" in text and "学生数\t203" in text


def test_provision_popup_names_reason_and_norm(run: Path, offline_page: OfflinePage):
    """Each flagged cell says why (no place / beyond the norm) and names the profile's norm."""
    profile = study_from_toml(run / "study" / "study.toml").standards
    flags = gpd.read_parquet(run / "out" / "cell_flags")
    offline_page.open(run / "maps" / "provision.html")
    page = offline_page.page
    norm = (
        f"城镇服务半径{profile.radius('primary', 'urban'):,.0f}米，"
        f"乡村单程{profile.minutes('primary', setting='rural'):g}分钟"
    )
    assert norm in page.inner_text("#layout-heading")
    # Primary, medium, 2025: C1 has all its children beyond the urban radius and none unserved.
    c1 = flags.query("cell_id == 'C1' and level == 'primary' and year == 2025 and "
                     "scenario == 'medium'").iloc[0]  # fmt: skip
    assert c1["unserved"] == 0 and c1["beyond_radius"] == pytest.approx(c1["children"])
    text = page.evaluate(_POPUP, ["cell_id", "C1"])
    assert "原因\t超出就学标准" in text and norm in text
    assert f"学龄儿童\t{c1['children']:,.0f} 人" in text
    # Junior: C4 (rural) has children left without a place within reach, none beyond the norm.
    page.select_option("#layout-level", "junior")
    c4 = flags.query("cell_id == 'C4' and level == 'junior' and year == 2025 and "
                     "scenario == 'medium'").iloc[0]  # fmt: skip
    assert c4["unserved"] > 0 and c4["beyond_time"] == 0
    text = page.evaluate(_POPUP, ["cell_id", "C4"])
    junior = f"城镇服务半径{profile.radius('junior', 'urban'):,.0f}米"
    assert "原因\t可达范围内无学位" in text and junior in text
    assert f"可达范围内无学位\t{c4['unserved']:,.0f} 人" in text


def test_year_slider_moves_every_layer(run: Path, offline_page: OfflinePage):
    """The slider changes the townships' gap, the schools' pupils and the cells judged."""
    table = pyogrio.read_dataframe(
        run / "out" / "results.gpkg", layer="access_schools", read_geometry=False
    ).query("school_id == 'S1' and level == 'primary' and scenario == 'medium'")
    load = table.set_index("year")["load"]
    offline_page.open(run / "maps" / "provision.html")
    page = offline_page.page
    first = page.evaluate(_POPUP, ["school_id", "S1"])
    assert f"预测在校生\t{load[2025]:,.0f} 人" in first and "利用率\t46%" in first
    page.evaluate(
        "(() => { const s = document.getElementById('layout-year'); s.value = s.max;"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert page.inner_text("#layout-year-label") == "2030"
    assert "2030" in page.inner_text("#layout-heading")
    last = page.evaluate(_POPUP, ["school_id", "S1"])
    assert f"预测在校生\t{load[2030]:,.0f} 人" in last
    assert f"{round(100 * load[2030] / 400)}%" in last
    # Cells are judged for every year. The primary cells C1, C2 (their centres 2.1 and 3.8 km
    # from S1, beyond the urban radius) and C4 (3.5 km from S3, beyond the rural time) are
    # drawn in 2030 and in 2027 alike; C3 has no children.
    assert sorted(page.evaluate(_ON_MAP, "cell_id")) == ["C1", "C2", "C4"]
    page.evaluate(
        "(() => { const s = document.getElementById('layout-year'); s.value = 2;"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert sorted(page.evaluate(_ON_MAP, "cell_id")) == ["C1", "C2", "C4"]
    assert sorted(page.evaluate(_ON_MAP, "township_code")) == ["210302001", "210303101"]
    # C1 in 2027: every child of the level beyond the norm (the demand step's projection).
    demand = pd.read_parquet(run / "out" / "demand")
    c1 = demand.query("cell_id == 'C1' and year == 2027 and scenario == 'medium'")["primary"]
    c1 = c1.sum()
    text = page.evaluate(_POPUP, ["cell_id", "C1"])
    assert "2027" in text and "原因\t超出就学标准" in text
    assert f"学龄儿童\t{c1:,.0f} 人" in text and f"超出标准\t{c1:,.0f} 人" in text


def test_search_finds_a_school_by_name(run: Path, offline_page: OfflinePage):
    offline_page.open(run / "maps" / "overview.html")
    page = offline_page.page
    page.fill("#layout-search", "第二中学")
    page.dispatch_event("#layout-search", "change")
    assert page.inner_text("#layout-search-result") == "已定位：第二中学"
    assert "S2" in page.inner_text(".leaflet-popup-content")
    page.fill("#layout-search", "不存在的学校")
    page.dispatch_event("#layout-search", "change")
    assert page.inner_text("#layout-search-result") == "未找到：不存在的学校"


def test_provision_search_finds_a_school_of_another_level(run: Path, offline_page: OfflinePage):
    """The provision map shows primary first; the search still finds the junior school S2."""
    offline_page.open(run / "maps" / "provision.html")
    page = offline_page.page
    assert page.input_value("#layout-level") == "primary"
    options = page.eval_on_selector_all("#layout-search-names option", "o => o.map(x => x.value)")
    assert {"第一小学", "第二中学", "教学点三"} <= set(options)
    page.fill("#layout-search", "第二中学")
    page.dispatch_event("#layout-search", "change")
    assert page.inner_text("#layout-search-result") == "已定位：第二中学"
    # S2 teaches grades 7-9 only: the map switched to junior, where its pupils are shown.
    assert page.input_value("#layout-level") == "junior"
    assert "第二中学 (S2)" in page.inner_text(".leaflet-popup-content")
    assert "S2" in page.evaluate(_ON_MAP, "school_id")


def test_measure_sums_great_circle_lengths(run: Path, offline_page: OfflinePage):
    offline_page.open(run / "maps" / "overview.html")
    page = offline_page.page
    page.click("#layout-measure")
    # Two clicks 0.005 degree of latitude apart: 556 m on Leaflet's sphere (R = 6,371 km).
    length = page.evaluate("""() => {
      const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
      map.fire('click', {latlng: L.latLng(41.10, 123.0)});
      map.fire('click', {latlng: L.latLng(41.105, 123.0)});
      return document.getElementById('layout-measure-result').innerText;
    }""")
    assert length == f"{6_371_000 * np.radians(0.005):,.0f} 米"


def test_scale_is_metric_titles_differ_and_attribution_names_the_source(
    run: Path, offline_page: OfflinePage
):
    titles = []
    for page_file in sorted((run / "maps").glob("*.html")):
        offline_page.page.goto(page_file.resolve().as_uri())
        page = offline_page.page
        scale = page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert len(scale) == 1 and scale[0].split()[-1] in {"m", "km"}, scale
        assert "合成样例数据" in page.inner_text(".leaflet-control-attribution")
        assert "Tiny hand-made study" in page.inner_text(".leaflet-control-attribution")
        titles.append(page.title())
    assert len(titles) == 4 and len(set(titles)) == 4, titles


def test_legend_keys_survive_print(run: Path, offline_page: OfflinePage):
    """Printed on A4 or A3, the legend stays, with its keys' colours (SVG fills kept exact)."""
    offline_page.open(run / "maps" / "provision.html")
    page = offline_page.page
    screen = page.evaluate(_KEYS)
    page.emulate_media(media="print")
    printed = page.evaluate(_KEYS)
    assert printed == screen and len(printed) == 9
    assert all(adjust == "exact" and shown for *_, adjust, shown in printed)
    assert page.evaluate("getComputedStyle(document.querySelector('.layout-tools')).display")\
        == "none"  # fmt: skip
    # The current view exports on the paper chosen, landscape: ISO 216 A4 is 297 x 210 mm,
    # A3 420 x 297 mm (1 mm = 72 / 25.4 PDF points).
    sizes = {"A4": (297, 210), "A3": (420, 297)}
    assert tuple(page.eval_on_selector_all("#layout-paper option", "o => o.map(x => x.value)")) \
        == tuple(sizes)  # fmt: skip
    page.emulate_media(media="screen")  # the reader chooses on screen (print hides the tools)
    for paper, mm in sizes.items():
        page.select_option("#layout-paper", paper)
        pdf = page.pdf(prefer_css_page_size=True)
        box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", pdf)
        assert box is not None and len(pdf) > 10_000
        assert [float(v) for v in box.groups()] == pytest.approx([v * 72 / 25.4 for v in mm], abs=1)


_KEYS = """() => Array.from(document.querySelectorAll('#layout-legend svg.layout-key')).map(svg => {
  const shape = svg.firstElementChild, style = getComputedStyle(shape);
  return [style.fill, style.stroke, getComputedStyle(svg).printColorAdjust,
          svg.getBoundingClientRect().width > 0];
})"""


def test_index_has_a_table_per_county_and_links_every_output(run: Path, offline_page: OfflinePage):
    offline_page.open(run / "out" / "index.html")
    page = offline_page.page
    rows = page.evaluate(
        "Array.from(document.querySelectorAll('table tr')).map(r =>"
        " Array.from(r.children).map(c => c.innerText))"
    )
    headers, body = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert headers[:4] == ["县（市、区）", "学龄儿童 小学/初中", "学位 小学/初中", "儿童/学位"]
    demand = pyogrio.read_dataframe(
        run / "out" / "results.gpkg", layer="demand_by_county", read_geometry=False
    ).query("scenario == 'medium' and year == 2025")
    children = demand.set_index(["county_code", "level"])["children"]
    # 甲区: S1 (primary) and S2 (junior), 400 places each; 乙县: S3 (teaching point, primary).
    a, b = body["甲区"], body["乙县"]
    assert a["学龄儿童 小学/初中"] == (
        f"{children['210302', 'primary']:,.0f} / {children['210302', 'junior']:,.0f}"
    )
    assert a["学位 小学/初中"] == "400 / 400" and b["学位 小学/初中"] == "400 / -"
    assert a["儿童/学位"] == (
        f"{children['210302', 'primary'] / 400:.0%} / {children['210302', 'junior'] / 400:.0%}"
    )
    # 甲区 has 2 classes of 56+ (S1 grade 1), 乙县 none; funding 277,550 and 85,000 yuan.
    assert (a["大班额班级"], b["大班额班级"]) == ("2", "0")
    assert (a["公用经费（万元/年）"], b["公用经费（万元/年）"]) == ("28", "8")
    assert a["教师 现有/应配"] == "20 / 19" and b["缺编"] == "0"
    # Every file `plan` and `land` wrote is linked, land's added after the page was written.
    links = set(page.evaluate("Array.from(document.links).map(a => a.getAttribute('href'))"))
    written = {
        p.relative_to(run / "out").as_posix()
        for p in (run / "out").rglob("*")
        if p.is_file() and p.name != "index.html" and not p.name.startswith(".")  # manifests
    }
    # The per-cell tables (a file per county and plan year) are linked once, as their folders.
    written = {name.split("/")[0] if "=" in name else name for name in written}
    written |= {f"../maps/{p.name}" for p in (run / "maps").glob("*.html")}
    assert links == written
    assert {"demand", "cell_reasons", "cells.parquet", "results.gpkg"} <= links
    assert {"land.gpkg", "land.xlsx", "../maps/land.html"} <= links
    images = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
    assert len(images) == 2 and min(images) > 0


def _distinct(colours: list[str], cvd: str) -> float:
    """Smallest CAM02-UCS difference between two colours as a ``cvd`` viewer sees them."""
    from colorspacious import cspace_convert, deltaE

    rgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours])
    seen = np.clip(cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100},
                                  "sRGB1"), 0, 1)  # fmt: skip
    return min(
        float(deltaE(a, b, input_space="sRGB1", uniform_space="CAM02-UCS"))
        for a, b in itertools.combinations(seen, 2)
    )


MIN_DELTA_E = 10.0
"""Smallest CAM02-UCS difference allowed between two legend keys under colour-vision
deficiency. One unit is about a just-noticeable difference for large patches; small map
symbols need several times more to be told apart (Szafir 2018, "Modeling color difference for
visualization design", IEEE TVCG 24(1)), and ColorBrewer's colour-blind-safe qualitative
pairs stay above 10."""


def _svg_hex(css: str) -> str:
    red, green, blue = (int(v) for v in css.removeprefix("rgb(").removesuffix(")").split(","))
    return f"#{red:02x}{green:02x}{blue:02x}"


@pytest.mark.parametrize("cvd", ["deuteranomaly", "protanomaly"])
def test_palettes_pass_a_colour_vision_simulation(run: Path, offline_page: OfflinePage, cvd: str):
    """Under full deuteranopia or protanopia (Machado 2009) every legend key stays distinct."""
    from layout.maps import balance, closure, land

    for name in ("overview", "provision", "sites"):
        offline_page.page.goto((run / "maps" / f"{name}.html").resolve().as_uri())
        keys = offline_page.page.evaluate(_KEYS)
        colours = [_svg_hex(fill if fill != "none" else stroke) for fill, stroke, *_ in keys]
        assert _distinct(colours, cvd) >= MIN_DELTA_E, (name, colours)
    for colours in (
        list(balance.RATIO_COLOURS),
        [land.PASS_COLOUR, land.FAIL_COLOUR, "#636363", "#000000"],
        [closure.OK_COLOUR, closure.OVER_COLOUR, closure.LARGE_COLOUR, "#7b3294", "#000000"],
    ):
        assert _distinct(colours, cvd) >= MIN_DELTA_E, colours
    # The check can fail: old keys that looked alike, the overview's green "compliant" and red
    # "large class" to a deuteranope, its purple "planned school" and the sites map's violet
    # "boarding school" to a protanope.
    confused = {"deuteranomaly": ["#1a9641", "#d7191c"], "protanomaly": ["#7b3294", "#5e3c99"]}
    assert _distinct(confused[cvd], cvd) < MIN_DELTA_E


def _classes_at_cells(image: list, cells: gpd.GeoSeries) -> dict[str, int]:
    """Palette index of the pixel under each cell's centre (independent: Web Mercator by hand)."""
    src, south, west, north, east = image
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.partition(",")[2]))))
    mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = (np.array(v) for v in mercator.transform([west, east], [south, north]))
    centres = cells.centroid.to_crs(3857)
    rows = ((y1 - centres.y) / (y1 - y0) * pixels.shape[0]).astype(int)
    cols = ((centres.x - x0) / (x1 - x0) * pixels.shape[1]).astype(int)
    return {c: int(pixels[r, k]) for c, r, k in zip(cells.index, rows, cols, strict=True)}


def test_provision_cells_drawn_as_images_beyond_the_map_budget(
    run: Path, offline_page: OfflinePage, tmp_path: Path
):
    """Over the budget the flagged cells are one image per view, coloured by reason."""
    study = study_from_toml(run / "study" / "study.toml")
    gpkg = run / "out" / "results.gpkg"
    balance, schools = (
        pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        for name in ("access_balance", "access_schools")
    )
    reasons = pd.read_parquet(run / "out" / "cell_reasons")
    fmap = provision_map(study, balance=balance, schools=schools, reasons=reasons, max_features=3)
    path = save_html(fmap, tmp_path / "provision.html")
    assert path.stat().st_size < MAX_PAGE_MB * 2**20
    offline_page.open(path)
    page = offline_page.page
    assert page.evaluate(_ON_MAP, "cell_id") == []  # no cell drawn as a feature
    assert "超过地图上限3" in page.inner_text("#layout-legend")
    cells = study["population"].set_index("cell_id").geometry
    # Primary, medium, 2025, the first view: C1, C2 (urban, beyond the radius) and C4 (rural,
    # beyond the time) are beyond the norm: class 2, the second of REASON_COLOURS; C3 has no
    # children.
    image = page.evaluate(_IMAGE)
    assert _classes_at_cells(image, cells) == {"C1": 2, "C2": 2, "C3": 0, "C4": 2}
    palette = Image.open(io.BytesIO(base64.b64decode(image[0].partition(",")[2]))).getpalette()
    hexes = ["#{:02x}{:02x}{:02x}".format(*palette[3 * i : 3 * i + 3]) for i in (1, 2, 3)]
    assert hexes == list(REASON_COLOURS.values())
    # Junior, last year: the image follows the switches; each cell's class from the table.
    page.evaluate(
        "(() => { const l = document.getElementById('layout-level'); l.value = 'junior';"
        " l.dispatchEvent(new Event('change')); const s = document.getElementById('layout-year');"
        " s.value = s.max; s.dispatchEvent(new Event('input')); })()"
    )
    rows = reasons.query("level == 'junior' and scenario == 'medium' and year == 2030")
    expected = dict.fromkeys(cells.index, 0)
    for row in rows.itertuples():
        code = {(True, False): 1, (False, True): 2, (True, True): 3}
        expected[row.cell_id] = code[(row.unserved > 0, row.beyond_norm > 0)]
    assert _classes_at_cells(page.evaluate(_IMAGE), cells) == expected


def test_county_charts_embedded_or_linked_by_their_weight(
    run: Path, offline_page: OfflinePage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A city's charts are in the page; over the budget the popups show the files by link.

    The linked run writes its maps to a folder beside, not below, its results, so the link
    climbs out of the maps folder as a planner's copy of both folders would.
    """
    charts = sorted((run / "out" / "charts").glob("demand_*.png"))
    widths = set()
    for png in charts:
        with Image.open(png) as picture:
            widths.add(picture.width)
    offline_page.open(run / "maps" / "provision.html")
    source, width = offline_page.page.evaluate(_CHART)
    assert source.startswith("data:image/png;base64,") and width in widths
    monkeypatch.setattr(budget, "MAX_EMBEDDED_MB", 0)
    out, maps = tmp_path / "results", tmp_path / "pages"
    toml = run / "study" / "study.toml"
    assert main(["plan", str(toml), "--out", str(out), "--maps", str(maps), "--quiet"]) == 0
    embedded, linked = (
        (folder / "provision.html").read_text(encoding="utf-8").count("data:image/png;base64,")
        for folder in (run / "maps", maps)
    )
    assert embedded - linked == len(charts)  # the other pictures are the page's own icons
    offline_page.open(maps / "provision.html")
    source, width = offline_page.page.evaluate(_CHART)
    assert source.startswith("../results/charts/demand_") and width in widths
    assert (maps / source).resolve().parent == (out / "charts").resolve()
    legend = offline_page.page.inner_text("#layout-legend")
    assert f"{len(charts)}个县的预测图" in legend and "超过嵌入上限0MB" in legend
    assert offline_page.problems() == []
