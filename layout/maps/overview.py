"""The overview map: counties with their summary figures, townships and schools.

Examples
--------
>>> import tempfile
>>> from layout.pipeline import plan
>>> from layout.maps.overview import overview_map
>>> tmp = tempfile.mkdtemp()
>>> result = plan(out_dir=tmp, maps_dir=tmp, progress=False)
>>> m = overview_map(result.study, counties=result.counties(), schools=result.schools())
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
from .geojson import geojson_from_geodataframe

WEB_CRS = "EPSG:4326"
_LEVEL_NAMES = {
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "teaching_point": "教学点",
}
_SCHOOL_COLOURS = {"large": "#d7191c", "over": "#fdae61", "ok": "#1a9641", "planned": "#7b3294"}


def _counties_layer(counties: gpd.GeoDataFrame) -> folium.GeoJson:
    return geojson_from_geodataframe(
        counties,
        style={"color": "#333", "weight": 2, "fillColor": "#3182bd", "fillOpacity": 0.04},
        tooltip={
            "name": "县区",
            "county_code": "代码",
            "schools": "学校数",
            "students": "在校生",
            "classes": "班级数",
            "mean_class_size": "平均班额",
            "classes_over_cap": "超标准班额班数",
            "classes_large": "56人及以上班数",
            "shortfall": "教师缺口",
            "total_funding": "公用经费(元/年)",
        },
        name="县（市、区）",
    )


def _townships_layer(townships: gpd.GeoDataFrame) -> folium.GeoJson:
    return geojson_from_geodataframe(
        townships,
        style={"color": "#888", "weight": 0.7, "fill": False},
        tooltip={"township_code": "乡镇代码", "name": "乡镇"},
        simplify_tolerance=50,
        name="乡镇（合成分区）",
    )


def _schools_layer(schools: gpd.GeoDataFrame) -> folium.GeoJson:
    total = schools[enrolment_columns()].sum(axis=1).to_numpy()
    large = schools["school_classes_large"].fillna(0).to_numpy()
    over = schools["school_classes_over_cap"].fillna(0).to_numpy()
    state = np.select(
        [schools["status"].to_numpy() == "planned", large > 0, over > 0],
        ["planned", "large", "over"],
        default="ok",
    )
    shown = gpd.GeoDataFrame(
        {
            "name": schools["name"],
            "school_id": schools["school_id"],
            "level": schools["level"].map(_LEVEL_NAMES),
            "setting": schools["setting"].map({"urban": "城镇", "rural": "乡村"}),
            "students": total,
            "classes": schools[classes_columns()].sum(axis=1),
            "over": over.astype(int),
            "large": large.astype(int),
            "boarders": schools["boarders"],
            "shortfall": schools["shortfall"].fillna(0).astype(int),
            "colour": pd.Series(state).map(_SCHOOL_COLOURS).to_numpy(),
            "radius": np.clip(3 + np.sqrt(total) / 6, 3, 12).round(1),
        },
        geometry=schools.geometry,
        crs=schools.crs,
    )
    return geojson_from_geodataframe(
        shown,
        style={"weight": 1, "fillOpacity": 0.8},
        style_columns={"color": "colour", "fillColor": "colour", "radius": "radius"},
        tooltip={
            "name": "学校",
            "school_id": "编号",
            "level": "类型",
            "setting": "城乡",
            "students": "在校生",
            "classes": "班级数",
            "over": "超标准班额班数",
            "large": "56人及以上班数",
            "boarders": "寄宿生",
            "shortfall": "教师缺口",
        },
        marker=folium.CircleMarker(radius=5, fill=True),
        name="学校",
    )


def _legend(title: str, data_date: str, synthetic: bool) -> folium.Element:
    note = "（合成样例数据，非真实学校数据）" if synthetic else ""
    items = "".join(
        f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{colour};margin-right:4px'></span>{html.escape(label)}</div>"
        for colour, label in (
            (_SCHOOL_COLOURS["large"], "有56人及以上班额"),
            (_SCHOOL_COLOURS["over"], "有超标准班额（小学45、初中50）"),
            (_SCHOOL_COLOURS["ok"], "无超标准班额"),
            (_SCHOOL_COLOURS["planned"], "规划学校"),
        )
    )
    return folium.Element(
        "<div id='layout-legend' style='position:fixed;top:10px;left:50px;z-index:9999;"
        "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif'>"
        f"<b>{html.escape(title)}</b>{html.escape(note)}<br>数据日期：{html.escape(data_date)}"
        f"{items}</div>"
    )


def overview_map(
    study: Study, *, counties: gpd.GeoDataFrame, schools: gpd.GeoDataFrame
) -> folium.Map:
    """Build the overview map of a study: counties, townships and schools.

    Parameters
    ----------
    study
        A loaded :class:`layout.study.Study` (title, data date, townships).
    counties
        Counties with their totals (:meth:`layout.pipeline.PlanResult.counties`).
    schools
        Schools with their class-size and staffing figures
        (:meth:`layout.pipeline.PlanResult.schools`).

    Returns
    -------
    folium.Map
        No basemap tiles (the map works offline); save it with
        :func:`layout.maps.offline.save_html`.
    """
    bounds = counties.to_crs(WEB_CRS).total_bounds
    fmap = folium.Map(tiles=None, control_scale=True)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    _counties_layer(counties).add_to(fmap)
    _townships_layer(study["townships"]).add_to(fmap)
    _schools_layer(schools).add_to(fmap)
    fmap.get_root().html.add_child(_legend(study.title, study.data_date, study.synthetic))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
