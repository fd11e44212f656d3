"""The provision map: projected demand by year, under-provisioned areas, catchments, flags.

- **Demand by year**: children of a level per township for one scenario, one layer per plan
  year, switched by a year slider (a plain range input: no plugin, nothing to fetch).
- **Under-provisioned areas**: contiguous groups of flagged cells, with their children, the
  unserved and the nearest schools.
- **Flagged cells** of the first plan year, and the schools' **catchments**.
- **Counties**: each county's demand chart (the PNG of :func:`layout.report.plot_county_demand`)
  in its popup, embedded in the page.

Examples
--------
See :func:`layout.runs.plan.write_outputs`, which draws it after ``layout plan``'s analysis.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..labels import Lang, code_name, header, in_language
from ..study import Study
from .basemap import Basemap, Datum
from .budget import within_budget
from .canvas import add_legend, finish, study_canvas
from .geojson import geojson_from_geodataframe
from .labels import label_html

_RAMP = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
_TEXT = {
    "title": ("学位供给与学龄人口预测", "Provision and projected demand"),
    "demand": ("学龄儿童（{level}，{scenario}）", "Children ({level}, {scenario})"),
    "areas": ("供给不足区域（{year}年）", "Under-provisioned areas ({year})"),
    "flags": ("供给不足网格（{year}年）", "Under-provided cells ({year})"),
    "catchments": ("学校服务范围（{year}年）", "Catchments ({year})"),
    "counties": ("县域预测图", "County projections"),
    "year": ("年份", "Year"),
    "children": ("学龄儿童", "Children"),
    "area_key": ("供给不足区域", "under-provisioned area"),
    "flag_key": ("供给不足网格", "under-provided cell"),
}


_t = partial(in_language, _TEXT)


def provision_map(
    study: Study,
    *,
    demand_by_township: pd.DataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    charts: Mapping[str, Path] | None = None,
    level: str = "primary",
    lang: Lang = "zh",
    basemap: Basemap | None = None,
) -> folium.Map:
    """Build the provision map.

    Parameters
    ----------
    study
        The study (townships, counties, title, data date).
    demand_by_township
        :func:`layout.demand.demand_totals` by ``("county_code", "township_code")``.
    layers
        ``under_provisioned``, ``cell_flags`` and ``catchments``: the layers of
        :func:`layout.access.access` (``cell_flags`` joined to cell polygons), as
        :attr:`layout.runs.plan.PlanResult.layers` holds them.
    charts
        County code to the PNG of its demand chart, shown in the county's popup.
    level
        Level whose children the year layers show.
    lang
        ``"zh"`` or ``"en"``.
    basemap
        Optional tiles; overlays follow the basemap's datum.

    Returns
    -------
    folium.Map
    """
    datum: Datum = basemap.datum if basemap else "wgs84"
    fmap = study_canvas(study, lang=lang, basemap=basemap)
    scenario = _scenario(demand_by_township)
    years = _year_layers(fmap, study, demand_by_township, level, scenario, lang, datum)
    cell_flags = layers["cell_flags"]
    notices = []
    if len(cell_flags):
        first = int(cell_flags["year"].min())
        _areas_layer(layers["under_provisioned"], level, first, lang, datum).add_to(fmap)
        flags, notice = _flags_layer(cell_flags, level, first, lang, datum)
        flags.add_to(fmap)
        notices += [notice] if notice else []
        _catchments_layer(layers["catchments"], level, first, lang, datum).add_to(fmap)
    if charts:
        _charts_layer(study, charts, lang).add_to(fmap)
    keys = [(colour, f"{_t('children', lang)} ≥ {edge:,.0f}") for colour, edge in years]
    keys += [("#e31a1c", _t("area_key", lang)), ("#984ea3", _t("flag_key", lang))]
    add_legend(fmap, study, title=_t("title", lang), items=keys, lang=lang, notices=notices)
    finish(fmap)
    return fmap


def _scenario(totals: pd.DataFrame) -> str:
    names = list(dict.fromkeys(totals["scenario"].astype(str)))
    return "medium" if "medium" in names else names[len(names) // 2]


def _year_layers(
    fmap: folium.Map,
    study: Study,
    totals: pd.DataFrame,
    level: str,
    scenario: str,
    lang: Lang,
    datum: Datum,
) -> list[tuple[str, float]]:
    """One township choropleth per year, one shown at a time by a slider; return the key."""
    rows = totals[(totals["scenario"].astype(str) == scenario) & (totals["level"] == level)]
    years = sorted(int(y) for y in rows["year"].unique())
    edges = np.quantile(rows["children"], np.linspace(0, 1, len(_RAMP) + 1)[:-1])
    townships = study["townships"][["township_code", "name", "geometry"]]
    names = []
    for year in years:
        one = rows[rows["year"] == year].set_index("township_code")["children"]
        shown = townships.assign(
            children=one.reindex(townships["township_code"]).fillna(0.0).round(0).to_numpy()
        )
        shown["colour"] = np.asarray(_RAMP)[np.searchsorted(edges, shown["children"], "right") - 1]
        layer = geojson_from_geodataframe(
            shown,
            style={"weight": 0.5, "color": "#777", "fillOpacity": 0.7},
            style_columns={"fillColor": "colour"},
            tooltip={"name": header("name", lang), "children": f"{_t('children', lang)} {year}"},
            simplify_tolerance=50,
            name=_t(
                "demand", lang, level=code_name(level, lang), scenario=code_name(scenario, lang)
            )
            + f" {year}",
            datum=datum,
        )
        layer.show = year == years[0]
        layer.add_to(fmap)
        names.append(layer.get_name())
    _slider(fmap, years, names, lang)
    return list(zip(_RAMP, edges, strict=True))


def _slider(fmap: folium.Map, years: list[int], layers: list[str], lang: Lang) -> None:
    """Add a year slider that shows the layer of the chosen year and hides the others."""
    if not years:
        return
    ids = ", ".join(layers)
    script = f"""
<div id="layout-years" style="position:fixed;bottom:30px;left:50px;z-index:9999;
background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif">
{html.escape(_t("year", lang))}: <input id="layout-year" type="range" min="0"
max="{len(years) - 1}" value="0" step="1">
<span id="layout-year-label">{years[0]}</span></div>
<script>
window.addEventListener("load", function () {{
  var years = {years};
  var layers = [{ids}];
  var map = {fmap.get_name()};
  document.getElementById("layout-year").addEventListener("input", function (e) {{
    var i = Number(e.target.value);
    layers.forEach(function (layer, j) {{
      if (j === i) {{ map.addLayer(layer); }} else {{ map.removeLayer(layer); }}
    }});
    document.getElementById("layout-year-label").textContent = years[i];
  }});
}});
</script>"""
    root = fmap.get_root()  # a branca Figure; folium types it as an Element
    root.html.add_child(folium.Element(script))  # type: ignore[attr-defined]


def _areas_layer(
    areas: gpd.GeoDataFrame, level: str, year: int, lang: Lang, datum: Datum
) -> folium.GeoJson:
    rows = areas[(areas["level"] == level) & (areas["year"] == year)] if len(areas) else areas
    shown = gpd.GeoDataFrame(
        {
            "children": rows["children"].round(0) if len(rows) else [],
            "unserved": rows["unserved"].round(0) if len(rows) else [],
            "nearest_schools": rows["nearest_schools"].astype(str) if len(rows) else [],
            "year": rows["year"] if len(rows) else [],
        },
        geometry=rows.geometry if len(rows) else [],
        crs=areas.crs,
    )
    return geojson_from_geodataframe(
        shown,
        style={"color": "#e31a1c", "weight": 2, "fillOpacity": 0.15},
        tooltip=_aliases(["year", "children", "unserved", "nearest_schools"], lang),
        simplify_tolerance=20,
        name=_t("areas", lang, year=year),
        datum=datum,
    )


def _flags_layer(
    flags: gpd.GeoDataFrame, level: str, year: int, lang: Lang, datum: Datum
) -> tuple[folium.GeoJson, str | None]:
    """Draw the flagged cells of a level and year (summed by township beyond the map budget)."""
    rows = flags[(flags["level"] == level) & (flags["year"] == year) & flags["flagged"]]
    rows, notice = within_budget(
        rows[["cell_id", "township_code", "children", "unserved", "geometry"]],
        by="township_code",
        what=_t("flags", "en", year=year),
    )
    key = "cell_id" if "cell_id" in rows else "township_code"
    shown = rows[[key, "children", "unserved", "geometry"]].assign(
        children=rows["children"].round(1), unserved=rows["unserved"].round(1)
    )
    layer = geojson_from_geodataframe(
        shown,
        style={"color": "#984ea3", "weight": 0, "fillColor": "#984ea3", "fillOpacity": 0.35},
        tooltip=_aliases([key, "children", "unserved"], lang),
        name=_t("flags", lang, year=year),
        datum=datum,
    )
    layer.show = False
    return layer, notice


def _catchments_layer(
    catchments: gpd.GeoDataFrame, level: str, year: int, lang: Lang, datum: Datum
) -> folium.GeoJson:
    rows = catchments[(catchments["level"] == level) & (catchments["year"] == year)]
    shown = rows[["school_id", "cells", "attending", "geometry"]].assign(
        attending=rows["attending"].round(0)
    )
    layer = geojson_from_geodataframe(
        shown,
        style={"color": "#2c7fb8", "weight": 1, "fill": False},
        tooltip=_aliases(["school_id", "cells", "attending"], lang),
        simplify_tolerance=20,
        name=_t("catchments", lang, year=year),
        datum=datum,
    )
    layer.show = False
    return layer


def _charts_layer(study: Study, charts: Mapping[str, Path], lang: Lang) -> folium.FeatureGroup:
    """County markers whose popups hold the county's demand chart, embedded as data."""
    group = folium.FeatureGroup(name=_t("counties", lang), show=False)
    counties = study["counties"].to_crs(4326)
    for row in counties.itertuples():
        png = charts.get(row.county_code)
        if png is None or not Path(png).is_file():
            continue
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        point = row.geometry.representative_point()
        popup = folium.Popup(
            f"<b>{label_html(row.name)}</b><br><img src='data:image/png;base64,{data}' "
            "width='480'>",
            max_width=500,
        )
        folium.CircleMarker(
            (point.y, point.x), radius=7, color="#333", fill=True, popup=popup,
            tooltip=folium.Tooltip(label_html(row.name)),
        ).add_to(group)  # fmt: skip
    return group


def _aliases(columns: list[str], lang: Lang) -> dict[str, str]:
    return {c: header(c, lang) for c in columns}
