"""The headers and values bureaus write, in Chinese and English, and the schema fields they mean.

One bilingual dictionary serves both reading a layer (:mod:`layout.sources.fields`) and
drafting a study (:mod:`layout.sources.folder`). Its entries start from the report headers of
:mod:`layout.labels` (a column's own Chinese and English header is always recognised) and add
the names education bureaus use in their rosters and statistics tables (学校标识码, 在校生数,
统计用区划代码, ...). Headers are compared after :func:`normalise` (full-width to half-width,
no spaces, no unit suffix, lower case).

Besides the schema columns, a layer may hold *source fields* that the loader turns into schema
columns: ``enrolment`` and ``classes`` (school totals, see :mod:`layout.sources.estimates`),
``age_0_4``, ``age_5_9``, ``age_10_14`` (five-year age groups), ``township_name``, and the
coordinates ``x`` and ``y``.

Examples
--------
>>> field_for_header("学校名称", "schools"), field_for_header("在校生数 （人）", "schools")
('name', 'enrolment')
>>> field_for_header("0～4岁", "population")
'age_0_4'
>>> value_code("level", "九年一贯制学校", allowed=("primary", "nine_year"))
'nine_year'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from ..labels import HEADERS, VALUES_ZH
from ..schema import LAYERS

_CN_NUMBERS = "一二三四五六七八九"

COMMON: dict[str, tuple[str, ...]] = {
    "name": ("名称", "单位名称"),
    "county_code": ("县区代码", "区县代码", "县级代码", "县(市、区)代码", "所在县区代码", "县代码"),
    "township_code": ("乡镇代码", "乡镇街道代码", "所在乡镇代码", "乡级代码", "乡镇(街道)代码"),
    "township_name": ("所在乡镇", "乡镇", "乡镇名称", "乡镇(街道)", "所在乡镇(街道)"),
    "setting": ("城乡分类", "城乡类型", "城乡分类代码", "城乡属性"),
    "status": ("状态", "办学状态", "建设状态"),
    "x": ("经度", "lon", "lng", "longitude", "x坐标", "东坐标", "x"),
    "y": ("纬度", "lat", "latitude", "y坐标", "北坐标", "y"),
    "year": ("年份", "统计年份", "年度"),
    "delivery_year": ("交付年份", "交房年份", "交付年度"),
}
"""Headers that mean the same field in every layer that has it."""

BY_LAYER: dict[str, dict[str, tuple[str, ...]]] = {
    "counties": {"county_code": ("行政区划代码", "区划代码"), "name": ("县区名称", "县(市、区)")},
    "townships": {
        "township_code": ("统计用区划代码", "行政区划代码"),
        "name": ("乡镇名称", "乡镇(街道)名称"),
        "seat_lon": ("驻地经度", "政府驻地经度"),
        "seat_lat": ("驻地纬度", "政府驻地纬度"),
        "teacher_dormitory": ("教师周转宿舍", "有无教师周转宿舍", "周转宿舍"),
    },
    "schools": {
        "school_id": ("学校标识码", "学校代码", "学校编号", "标识码"),
        "name": ("学校名称", "校名"),
        "level": ("学段", "办学类型", "学校类型", "学校类别"),
        "enrolment": ("在校生数", "在校学生数", "学生数", "students", "enrollment", "pupils"),
        "classes": ("班级数", "班数", "教学班数"),
        "capacity": ("核定学位", "学位数", "核定学位数", "办学规模"),
        "teachers": ("教职工数", "专任教师数", "教师数"),
        "boarders": ("寄宿生数", "住宿生数"),
        "boarding_beds": ("床位数", "宿舍床位数"),
        "canteen": ("食堂", "有无食堂", "是否有食堂", "食堂供餐"),
        "disabled_pupils": ("随班就读残疾学生数", "残疾学生数", "随班就读学生数"),
        "resource_classroom": ("资源教室", "有无资源教室", "是否有资源教室"),
        "migrant_pupils": ("随迁子女数", "进城务工人员随迁子女数", "随迁子女"),
        "left_behind_pupils": ("留守儿童数", "农村留守儿童数", "留守儿童"),
        "land_area_m2": ("占地面积", "校园占地面积"),
        "building_area_m2": ("建筑面积", "校舍建筑面积"),
        **{
            f"enrolment_g{g}": (
                f"{_CN_NUMBERS[g - 1]}年级学生数",
                f"{g}年级学生数",
                f"{_CN_NUMBERS[g - 1]}年级在校生数",
                f"{g}年级在校生数",
            )
            for g in range(1, 10)
        },
        **{
            f"classes_g{g}": (
                f"{_CN_NUMBERS[g - 1]}年级班数",
                f"{g}年级班数",
                f"{_CN_NUMBERS[g - 1]}年级班级数",
                f"{g}年级班级数",
            )
            for g in range(1, 10)
        },
    },  # fmt: skip
    "population": {
        "cell_id": ("统计用区划代码", "村代码", "村(居)委会代码", "行政村代码", "社区代码"),
        "name": ("村名称", "村(居)委会名称", "村(社区)名称", "村名"),
        "residents": ("常住人口", "常住人口数", "户籍人口", "人口数", "总人口"),
        "age_0_4": ("0-4岁", "0-4岁人口", "0至4岁", "age0-4"),
        "age_5_9": ("5-9岁", "5-9岁人口", "5至9岁", "age5-9"),
        "age_10_14": ("10-14岁", "10-14岁人口", "10至14岁", "age10-14"),
    },
    "developments": {
        "phase_id": ("分期编号", "项目分期编号"),
        "development_id": ("项目编号", "项目代码"),
        "name": ("项目名称", "楼盘名称"),
        "phase": ("分期", "期数", "期次"),
        "households": ("户数", "住宅户数", "总户数", "套数"),
        "mean_unit_m2": ("户均面积", "平均户型面积"),
        "school_parcel_id": ("配套学校地块", "配套地块编号"),
    },
    "reserved_land": {
        "parcel_id": ("地块编号", "地块代码", "宗地编号"),
        "planned_level": ("规划学段", "规划类型"),
        "planned_classes": ("规划班数", "规划班级数", "办学规模(班)"),
    },
    "teachers": {
        "teacher_id": ("教师编号", "工号", "教职工号"),
        "school_id": ("学校标识码", "学校代码"),
        "years_at_school": ("本校任教年限", "在校年限", "本校工作年限"),
        "backbone": ("骨干教师", "是否骨干教师"),
    },
    "roads": {"road_id": ("道路编号",), "road_class": ("道路等级",), "speed_kmh": ("设计速度",)},
}
"""Headers of one layer only (统计用区划代码 is a village in ``population``, a township in
``townships``)."""

SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "schools": ("enrolment", "classes", "township_name", "x", "y"),
    "population": ("age_0_4", "age_5_9", "age_10_14", "name", "residents", "township_name", "x",
                   "y"),
    "developments": ("township_name", "x", "y"),
}  # fmt: skip
"""Fields a layer may hold besides its schema columns; the loader turns them into columns."""

VALUES: dict[str, dict[str, str]] = {
    "level": {"完全小学": "primary", "小学": "primary", "初级中学": "junior", "初中": "junior",
              "九年一贯制学校": "nine_year", "九年制学校": "nine_year",
              "村小教学点": "teaching_point", "教学点": "teaching_point"},
    "setting": {"城区": "urban", "镇区": "urban", "城市": "urban", "县镇": "urban", "农村": "rural",
                **dict.fromkeys(("111", "112", "121", "122", "123"), "urban"),
                **dict.fromkeys(("210", "220"), "rural")},
    "status": {"正常": "open", "在用": "open", "拟建": "planned", "已交付": "completed",
               "已建成": "built", "已批复": "approved"},
    **dict.fromkeys(("backbone", "canteen", "resource_classroom", "teacher_dormitory"),
                    {"是": "1", "否": "0", "有": "1", "无": "0", "y": "1", "n": "0", "yes": "1",
                     "no": "0"}),
}  # fmt: skip
"""Values bureaus write (besides the Chinese labels of :data:`layout.labels.VALUES_ZH`) and the
code each means. Setting codes 111-123 and 210-220 are the urban and rural classes of the
statistical urban-rural classification (统计用城乡划分代码, National Bureau of Statistics)."""


def normalise(text: object) -> str:
    """Return a header as compared: NFKC, no spaces, dashes unified, no unit, lower case.

    Examples
    --------
    >>> normalise("占地面积（㎡）"), normalise("0 — 4岁"), normalise("Lon ")
    ('占地面积', '0-4岁', 'lon')
    """
    out = unicodedata.normalize("NFKC", str(text)).strip().lower()
    out = re.sub(r"\s+", "", out)
    out = re.sub(r"[~—–―〜]", "-", out)
    out = re.sub(r"\((m2|m²|平方米|㎡|人|个|间|张|元|万元|亩|户|所|班|年)\)$", "", out)
    return out


def header_aliases(layer: str) -> dict[str, str]:
    """Return every known header of ``layer`` (normalised) and the field it means.

    Examples
    --------
    >>> aliases = header_aliases("population")
    >>> aliases["统计用区划代码"], aliases["age_3"]
    ('cell_id', 'age_3')
    """
    spec = LAYERS[layer]
    fields = (*spec.required, *spec.optional, *SOURCE_FIELDS.get(layer, ()))
    found: dict[str, str] = {}
    for fieldname in fields:
        names = (fieldname, *HEADERS.get(fieldname, ()), *COMMON.get(fieldname, ()))
        for name in (*names, *BY_LAYER.get(layer, {}).get(fieldname, ())):
            found.setdefault(normalise(name), fieldname)
    for fieldname, names in BY_LAYER.get(layer, {}).items():
        for name in names:
            found[normalise(name)] = fieldname
    return found


def field_for_header(header: object, layer: str) -> str | None:
    """Return the field a header of ``layer`` means, or ``None`` if it is not known."""
    return header_aliases(layer).get(normalise(header))


def default_columns(headers: Sequence[object], layer: str) -> dict[str, str]:
    """Map each recognised header to its field; the first header of a field wins.

    Examples
    --------
    >>> default_columns(["学校名称", "备注", "名称"], "schools")
    {'学校名称': 'name'}
    """
    aliases = header_aliases(layer)
    out: dict[str, str] = {}
    for header in headers:
        fieldname = aliases.get(normalise(header))
        if fieldname is not None and fieldname not in out.values():
            out[str(header)] = fieldname
    return out


def value_codes(fieldname: str, allowed: Sequence[str]) -> dict[str, str]:
    """Return the values known to mean each allowed code of ``fieldname`` (normalised).

    Examples
    --------
    >>> value_codes("setting", ("urban", "rural"))["乡村"]
    'rural'
    """
    out = {normalise(code): code for code in allowed}
    out.update({normalise(VALUES_ZH[c]): c for c in allowed if c in VALUES_ZH})
    known = VALUES.get("level" if fieldname == "planned_level" else fieldname, {})
    out.update({normalise(k): c for k, c in known.items() if c in allowed})
    return out


def value_code(fieldname: str, value: object, *, allowed: Sequence[str]) -> str | None:
    """Return the code a written value means, or ``None`` when it is not known."""
    return value_codes(fieldname, allowed).get(normalise(value))


def explicit_values(table: Mapping[str, str]) -> dict[str, str]:
    """Return a study's ``values.<field>`` table keyed by normalised value."""
    return {normalise(k): str(v) for k, v in table.items()}
