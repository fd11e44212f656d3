"""Words of the land checks in Chinese and English: reasons, headers, sheet titles, verdicts.

Kept apart from :mod:`layout.land` so that the checks read as analysis and the map and the
spreadsheet share one set of labels.

Examples
--------
>>> reason("no_children", "zh", level=code_name("junior", "zh"))
'无新增初中学生'
>>> header("sync_ok", "en")
'三同步 (school with first phase)'
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .indicators import _VALUES_ZH

Lang = Literal["zh", "en"]

_PICK = {"zh": 0, "en": 1}

_REASONS: dict[str, tuple[str, str]] = {
    "land": (
        "用地{area:,.0f}㎡{cmp}所需{required:,.0f}㎡（{students:,.0f}名学生×{rate:.1f}㎡/生）",
        "area {area:,.0f} m² {cmp} the {required:,.0f} m² needed ({students:,.0f} students"
        " × {rate:.1f} m² each)",
    ),
    "no_classes": (
        "规划班数为0，无法核定用地和学位",
        "planned_classes is 0: no land or seats to check",
    ),
    "no_overlap": (
        "与其他地块及现有学校用地均不重叠",
        "overlaps no other parcel and no existing school land",
    ),
    "overlap_parcel": ("与地块{id}重叠{area:,.0f}㎡", "overlaps parcel {id} by {area:,.0f} m²"),
    "overlap_school": (
        "与学校{id}用地重叠{area:,.0f}㎡",
        "overlaps the land of school {id} by {area:,.0f} m²",
    ),
    "holds_school": ("已建成，含学校{id}用地", "built: holds the land of school {id}"),
    "demand": (
        "{level}：{year}年服务半径{radius:,.0f}m内预测{children:,.0f}人，现有学校学位"
        "{capacity:,.0f}，缺口{need:,.0f}{cmp}所需{threshold:,.0f}（规划{seats:,.0f}学位×{fill:g}）",
        "{level}: in {year}, {children:,.0f} children within {radius:,.0f} m, "
        "{capacity:,.0f} seats in open schools, unmet {need:,.0f} {cmp} {threshold:,.0f} "
        "needed ({seats:,.0f} planned seats × {fill:g})",
    ),
    "after_plan": (
        "{level}：交付年份{delivery}晚于规划期末{end}年",
        "{level}: delivered in {delivery}, after the last plan year {end}",
    ),
    "no_children": ("无新增{level}学生", "no new {level} children"),
    "by_school": (
        "新增{level}学生{children:,.0f}人；服务半径{radius:,.0f}m内学校{id}（{distance:,.0f}m）"
        "余{spare:,.0f}学位",
        "{children:,.0f} new {level} children; school {id} at {distance:,.0f} m (radius "
        "{radius:,.0f} m) has {spare:,.0f} spare seats",
    ),
    "by_parcel": (
        "新增{level}学生{children:,.0f}人；服务半径{radius:,.0f}m内有储备地块{id}（{distance:,.0f}m）",
        "{children:,.0f} new {level} children; reserved parcel {id} at {distance:,.0f} m "
        "(radius {radius:,.0f} m)",
    ),
    "unserved": (
        "新增{level}学生{children:,.0f}人；服务半径{radius:,.0f}m内无余位足够的学校，也无{level}"
        "储备地块{nearest}",
        "{children:,.0f} new {level} children; no school with enough spare seats and no "
        "{level} parcel within {radius:,.0f} m{nearest}",
    ),
    "nearest": (
        "（最近学校{id}，{distance:,.0f}m，余{spare:,.0f}学位）",
        " (nearest school {id} at {distance:,.0f} m has {spare:,.0f} spare seats)",
    ),
    "sync_on_time": (
        "配套地块{id}于{parcel_year}年交付，不晚于首期交付（{first}年）",
        "school parcel {id} delivered in {parcel_year}, not after the first phase ({first})",
    ),
    "sync_late": (
        "配套地块{id}于{parcel_year}年交付，晚于首期交付（{first}年）{late}年",
        "school parcel {id} delivered in {parcel_year}, {late} year(s) after the first "
        "phase ({first})",
    ),
    "sync_none_served": (
        "未关联配套地块；新增学生由现有学校容纳",
        "no school parcel linked; existing schools take the new children",
    ),
    "sync_none_unserved": (
        "未关联配套地块，现有学校容纳不下新增学生",
        "no school parcel linked, and existing schools cannot take the new children",
    ),
    "reserve": (
        "{level}：{year}年预测{children:,.0f}人，现有学位{capacity:,.0f}，缺口{shortfall:,.0f}；"
        "储备学位{seats:,.0f}{cmp}缺口{parcels}",
        "{level}: {children:,.0f} children in {year}, {capacity:,.0f} seats in open "
        "schools, shortfall {shortfall:,.0f}; {seats:,.0f} reserved seats {cmp} the shortfall"
        "{parcels}",
    ),
    "reserve_parcels": ("（地块{ids}）", " (parcels {ids})"),
}

_HEADERS: dict[str, tuple[str, str]] = {
    "parcel_id": ("地块编号", "Parcel id"),
    "development_id": ("项目编号", "Development id"),
    "name": ("名称", "Name"),
    "county_code": ("县(市、区)代码", "County code"),
    "township_code": ("乡镇(街道)代码", "Township code"),
    "setting": ("城乡", "Setting"),
    "planned_level": ("规划学段", "Planned level"),
    "planned_classes": ("规划班数", "Planned classes"),
    "delivery_year": ("交付年份", "Delivery year"),
    "status": ("状态", "Status"),
    "area_m2": ("用地面积(㎡)", "Area (m²)"),
    "required_m2": ("所需用地(㎡)", "Land needed (m²)"),
    "primary_seats": ("规划小学学位", "Planned primary seats"),
    "junior_seats": ("规划初中学位", "Planned junior seats"),
    "land_ok": ("用地规模达标", "Land large enough"),
    "land_reason": ("用地规模说明", "Land: reason"),
    "overlap_parcels": ("重叠地块", "Overlapping parcels"),
    "overlap_schools": ("重叠学校用地", "Overlapping school land"),
    "overlap_area_m2": ("重叠面积(㎡)", "Overlap area (m²)"),
    "overlap_ok": ("无用地重叠", "No overlap"),
    "overlap_reason": ("用地重叠说明", "Overlap: reason"),
    "primary_radius_m": ("小学服务半径(m)", "Primary service radius (m)"),
    "primary_year": ("小学需求峰值年份", "Primary peak year"),
    "primary_children": ("小学生数", "Primary children"),
    "primary_capacity": ("半径内现有小学学位", "Primary seats within radius"),
    "primary_distance_m": ("小学距离(m)", "Primary distance (m)"),
    "junior_radius_m": ("初中服务半径(m)", "Junior service radius (m)"),
    "junior_year": ("初中需求峰值年份", "Junior peak year"),
    "junior_children": ("初中生数", "Junior children"),
    "junior_capacity": ("半径内现有初中学位", "Junior seats within radius"),
    "junior_distance_m": ("初中距离(m)", "Junior distance (m)"),
    "demand_ok": ("服务需求充足", "Demand exists"),
    "demand_reason": ("服务需求说明", "Demand: reason"),
    "passed": ("核查通过", "Passes"),
    "phases": ("分期数", "Phases"),
    "households": ("户数", "Households"),
    "first_delivery_year": ("首期交付年份", "First phase delivered"),
    "school_parcel_id": ("配套学校地块", "Linked school parcel"),
    "primary_match": ("小学学位来源", "Primary place at"),
    "primary_match_kind": ("小学学位来源类型", "Primary place kind"),
    "primary_ok": ("小学学位落实", "Primary places"),
    "primary_reason": ("小学学位说明", "Primary: reason"),
    "junior_match": ("初中学位来源", "Junior place at"),
    "junior_match_kind": ("初中学位来源类型", "Junior place kind"),
    "junior_ok": ("初中学位落实", "Junior places"),
    "junior_reason": ("初中学位说明", "Junior: reason"),
    "sync_ok": ("三同步", "三同步 (school with first phase)"),
    "sync_reason": ("三同步说明", "三同步: reason"),
    "level": ("学段", "Level"),
    "year": ("年份", "Year"),
    "children": ("预测学生数", "Projected children"),
    "capacity": ("现有学位", "Seats in open schools"),
    "shortfall": ("学位缺口", "Shortfall"),
    "reserved_seats": ("储备学位", "Reserved seats"),
    "parcels": ("储备地块", "Reserved parcels"),
    "reserve_ok": ("储备足够", "Reserve covers shortfall"),
    "reserve_reason": ("储备说明", "Reserve: reason"),
    "kind": ("类型", "Kind"),
    "target_id": ("学校或地块", "School or parcel"),
    "distance_m": ("距离(m)", "Distance (m)"),
    "school_id": ("学校代码", "School id"),
    "land_map": ("教育用地储备与三同步核查", "reserved school land and 三同步 check"),
    "parcels_layer": ("教育储备用地", "Reserved school parcels"),
    "developments_layer": ("住宅项目", "Residential developments"),
    "links_layer": ("配套学校或地块连线", "Development to school or parcel"),
    "schools_layer": ("学校", "Schools"),
}

SHEET_TITLES: dict[str, tuple[str, str]] = {
    "parcels_check": ("储备用地核查", "Reserved parcels"),
    "developments_check": ("住宅项目配套核查(三同步)", "Developments (三同步)"),
    "township_reserve": ("乡镇教育用地储备", "Township reserve"),
    "development_links": ("项目配套学校连线", "Development links"),
}
"""Title of each output table, in Chinese and English."""

_VALUES: dict[str, str] = {
    **_VALUES_ZH,
    "reserved": "储备",
    "approved": "已批准",
    "under_construction": "在建",
    "built": "已建成",
    "planned": "规划",
    "completed": "已竣工",
    "open": "在办",
    "closing": "拟撤并",
    "school": "现有学校",
    "parcel": "储备地块",
}
_CODED = ("setting", "planned_level", "status", "level", "kind", "primary_match_kind",
          "junior_match_kind")  # fmt: skip


def reason(key: str, lang: Lang, **values: object) -> str:
    """Return the reason text ``key`` in ``lang`` with ``values`` filled in.

    Examples
    --------
    >>> reason("overlap_parcel", "en", id="P2", area=4000.0)
    'overlaps parcel P2 by 4,000 m²'
    """
    return _REASONS[key][_PICK[lang]].format(**values)


def header(column: str, lang: Lang) -> str:
    """Return the spreadsheet and tooltip label of a column; the column name if unknown.

    Examples
    --------
    >>> header("land_ok", "zh")
    '用地规模达标'
    """
    return _HEADERS[column][_PICK[lang]] if column in _HEADERS else column


def code_name(code: str, lang: Lang) -> str:
    """Return the name of a code (level, setting, status, kind): 小学 or primary, ...

    Examples
    --------
    >>> code_name("primary", "zh"), code_name("nine_year", "en")
    ('小学', 'nine-year')
    """
    return _VALUES.get(code, code) if lang == "zh" else code.replace("_", "-")


def sheet_title(table: str, lang: Lang) -> str:
    """Return the spreadsheet title of an output table.

    Examples
    --------
    >>> sheet_title("township_reserve", "zh")
    '乡镇教育用地储备'
    """
    return SHEET_TITLES[table][_PICK[lang]]


def comparison(ok: bool, lang: Lang) -> str:
    """Return the words of a passed or failed comparison: 不少于/少于, is at least/is below.

    Examples
    --------
    >>> comparison(False, "zh")
    '少于'
    """
    if lang == "zh":
        return "不少于" if ok else "少于"
    return "is at least" if ok else "is below"


def separator(lang: Lang) -> str:
    """Return the separator between reasons: a Chinese or an English semicolon."""
    return "；" if lang == "zh" else "; "


def verdicts(ok: pd.Series | np.ndarray, reasons: pd.Series, lang: Lang) -> np.ndarray:
    """Prefix each reason with its verdict, e.g. ``通过：...`` or ``fail: ...``.

    Examples
    --------
    >>> verdicts(np.array([True, False]), pd.Series(["a", "b"]), "en").tolist()
    ['pass: a', 'fail: b']
    """
    words = ("通过：", "不通过：") if lang == "zh" else ("pass: ", "fail: ")
    prefix = np.where(np.asarray(ok, dtype=bool), words[0], words[1])
    return np.char.add(prefix.astype(str), np.asarray(reasons, dtype=str)).astype(object)


def localised(table: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Return a table with the headers of ``lang``; in Chinese also codes and booleans.

    Examples
    --------
    >>> table = pd.DataFrame({"planned_level": ["nine_year"], "land_ok": [True]})
    >>> localised(table, "zh").to_dict("records")
    [{'规划学段': '九年一贯制', '用地规模达标': '是'}]
    """
    out = pd.DataFrame(table).reset_index(drop=True)
    if lang == "zh":
        for column in out.columns:
            if column in _CODED:
                out[column] = out[column].map(lambda v: _VALUES.get(v, v))
            elif out[column].dtype == bool:
                out[column] = np.where(out[column].to_numpy(), "是", "否")
    return out.rename(columns={c: header(c, lang) for c in out.columns})
