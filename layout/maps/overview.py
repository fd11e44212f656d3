"""The overview map: counties with their summary figures, townships and schools.

Examples
--------
>>> from layout.study import study_from_toml
>>> from layout.summary import county_summary
>>> from layout.maps.overview import overview_map
>>> study = study_from_toml()
>>> m = overview_map(study, county_summary(study["schools"]))
>>> type(m).__name__
'Map'
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ..schema import classes_columns, enrolment_columns
from ..study import Study
from ..summary import LARGE_CLASS, classes_at_least

WEB_CRS = "EPSG:4326"
_LEVEL_NAMES = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "teaching_point": "教学点",
}
_SCHOOL_COLOURS = {"large": "#d7191c", "ok": "#1a9641", "planned": "#7b3294"}


def _tooltip(rows: dict[str, object]) -> str:
    """HTML table of label -> value, every value escaped."""
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html.escape(k)}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{cells}</table>"


def _counties_layer(counties: gpd.GeoDataFrame, summary: pd.DataFrame) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="县（市、区）", show=True)
    table = counties.join(summary, on="county_code")
    for row in table.itertuples():
        tip = _tooltip(
            {
                "县区": row.name,
                "代码": row.county_code,
                "学校数": row.schools,
                "在校生": row.students,
                "班级数": row.classes,
                "平均班额": row.mean_class_size,
                "56人以上班": row.classes_56_plus,
            }
        )
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _f: {"color": "#333", "weight": 2, "fillOpacity": 0.05},
            tooltip=folium.Tooltip(tip),
        ).add_to(group)
    return group


def _townships_layer(townships: gpd.GeoDataFrame) -> folium.GeoJson:
    shapes = townships[["township_code", "geometry"]].copy()
    shapes["geometry"] = shapes.geometry.simplify(50).set_precision(1e-5)
    return folium.GeoJson(
        shapes.to_crs(WEB_CRS).__geo_interface__,
        name="乡镇（合成分区）",
        style_function=lambda _f: {"color": "#888", "weight": 0.7, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["township_code"], aliases=["乡镇代码"]),
    )


def _schools_layer(schools: gpd.GeoDataFrame) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="学校", show=True)
    students = schools[enrolment_columns()].to_numpy()
    classes = schools[classes_columns()].to_numpy()
    large = classes_at_least(students, classes, LARGE_CLASS).sum(axis=1)
    total = students.sum(axis=1)
    points = schools.to_crs(WEB_CRS).geometry
    for i, row in enumerate(schools.itertuples()):
        state = "planned" if row.status == "planned" else ("large" if large[i] else "ok")
        tip = _tooltip(
            {
                "学校": row.name,
                "编号": row.school_id,
                "类型": _LEVEL_NAMES[row.level],
                "城乡": "城镇" if row.setting == "urban" else "乡村",
                "在校生": int(total[i]),
                "班级数": int(classes[i].sum()),
                "56人以上班": int(large[i]),
                "寄宿生": row.boarders,
            }
        )
        folium.CircleMarker(
            location=(points.iloc[i].y, points.iloc[i].x),
            radius=float(np.clip(3 + np.sqrt(total[i]) / 6, 3, 12)),
            color=_SCHOOL_COLOURS[state],
            fill=True,
            fill_opacity=0.8,
            weight=1,
            tooltip=folium.Tooltip(tip),
        ).add_to(group)
    return group


def _legend(title: str, data_date: str, synthetic: bool) -> folium.Element:
    note = "（合成样例数据，非真实学校数据）" if synthetic else ""
    items = "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{colour};margin-right:4px'></span>{html.escape(label)}</div>"
        for colour, label in (
            (_SCHOOL_COLOURS["large"], "有56人以上班额的学校"),
            (_SCHOOL_COLOURS["ok"], "无56人以上班额的学校"),
            (_SCHOOL_COLOURS["planned"], "规划学校"),
        )
    )
    return folium.Element(
        "<div id='layout-legend' style='position:fixed;top:10px;left:50px;z-index:9999;"
        "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif'>"
        f"<b>{html.escape(title)}</b>{html.escape(note)}<br>数据日期：{html.escape(data_date)}"
        f"{items}</div>"
    )


def overview_map(study: Study, summary: pd.DataFrame) -> folium.Map:
    """Build the overview map of a study: counties, townships and schools.

    Parameters
    ----------
    study
        A loaded :class:`layout.study.Study`.
    summary
        Per-county figures from :func:`layout.summary.county_summary`.

    Returns
    -------
    folium.Map
        No basemap tiles (the map works offline); save it with
        :func:`layout.maps.offline.save_html`.
    """
    counties = study["counties"]
    bounds = counties.to_crs(WEB_CRS).total_bounds
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    web_counties = counties.to_crs(WEB_CRS)
    web_counties["geometry"] = web_counties.geometry.set_precision(1e-5)
    _counties_layer(web_counties, summary).add_to(fmap)
    _townships_layer(study["townships"]).add_to(fmap)
    _schools_layer(study["schools"]).add_to(fmap)
    fmap.get_root().html.add_child(_legend(study.title, study.data_date, study.synthetic))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
