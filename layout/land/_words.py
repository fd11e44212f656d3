"""Words of the land checks in Chinese and English: the reasons and verdicts of each rule.

Kept apart from :mod:`layout.land` so that the checks read as analysis. Column headers and
sheet titles are in :mod:`layout.labels` with every other table's.

Examples
--------
>>> reason("no_children", "zh", level="初中")
'无新增初中学生'
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from ..labels import Lang, in_language

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


reason = partial(in_language, _REASONS)
"""``reason(key, lang, **values)``: the reason text ``key`` in ``lang``, filled in."""


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
