"""Findings of the plan's city-wide targets and of the rules a study lacks the data for.

They follow the main findings on the index page (:func:`layout.report.findings.findings`):
the share of counties passing the resource part of the quality-balanced assessment against
the city's target, the rural schools paired with an urban quality school, the head-teacher
allowance the counties must budget, the rural schools
without a canteen, the schools lacking a resource classroom, and the rules left unchecked for
lack of data (with the columns that would let the tool check them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from ..indicators import SUPPORT_RULES, pairing_summary
from ..standards import Profile

_WORDS: dict[str, tuple[str, str]] = {
    "target": (
        "优质均衡：资源配置全部达标的县（市、区）{passing}个，占{share:.0%}；全市目标{target:.0%}"
        "（需{needed}个），{verdict}。",
        "Quality balance: {passing} counties pass the resource part ({share:.0%}); the city's "
        "target is {target:.0%} ({needed} counties): {verdict}.",
    ),
    "pairs": (
        "城市优质学校帮扶乡村学校：{paired}/{n}所乡村学校已结对（每所城市优质学校至多帮扶{per}所），"
        "全覆盖目标{verdict}。",
        "Urban quality schools helping rural schools: {paired} of {n} rural schools paired (at "
        "most {per} per urban school); full coverage {verdict}.",
    ),
    "spending": (
        "教育支出逐年只增不减：{falls}。",
        "Education spending not falling year on year: {falls}.",
    ),
    "no_falls": ("各县支出和生均支出均未减少", "no county's spending or spending per pupil fell"),
    "fell": ("{county}县{year}年{what}减少", "county {county} {what} fell in {year}"),
    "spending_word": ("支出", "spending"),
    "per_pupil_word": ("生均支出", "spending per pupil"),
    "consolidation": (
        "义务教育巩固率（目标{target:.1%}）：{rates}。",
        "Consolidation rate (target {target:.1%}): {rates}.",
    ),
    "rate": ("{county}县{rate:.1%}", "county {county} {rate:.1%}"),
    "met": ("已达到", "met"),
    "not_met": ("未达到", "not met"),
    "allowance": (
        "班主任津贴（每班每月不低于{monthly:g}元）：{classes:,}个班，每年至少{total:,.0f}元。",
        "Head-teacher allowance (at least {monthly:g} yuan a class a month): {classes:,} "
        "classes, at least {total:,.0f} yuan a year.",
    ),
    "canteens": (
        "农村学校食堂：{without}所农村学校无食堂供餐（{share:.0%}有食堂）。",
        "Rural canteens: {without} rural schools serve no meals ({share:.0%} have a canteen).",
    ),
    "resource": (
        "随班就读资源教室：{lacking}所学校招收{minimum}名及以上残疾学生但无资源教室。",
        "Resource classrooms: {lacking} schools enrol {minimum} or more pupils with "
        "disabilities and have none.",
    ),
    "unchecked": (
        "缺少数据、未能核查的规则：{rules}。",
        "Rules not checked for lack of data: {rules}.",
    ),
    "balance": ("优质均衡资源配置（学校资源7项列）", "quality-balance resources (7 columns)"),
    "dormitories_rule": (
        "乡镇教师周转宿舍（乡镇图层teacher_dormitory列）",
        "teacher dormitories (townships column teacher_dormitory)",
    ),
    "dormitories": (
        "乡镇教师周转宿舍：{lacking}个有农村学校的乡镇缺周转宿舍。",
        "Teacher dormitories: {lacking} townships with rural schools have none.",
    ),
    "history_rule": (
        "义务教育巩固率（研究的[enrolment_history]表）",
        "consolidation rate (the study's [enrolment_history] table)",
    ),
    "finance_rule": (
        "教育支出逐年只增不减（研究的[finance]表）",
        "spending year on year (the study's [finance] table)",
    ),
    "canteens_rule": ("农村学校食堂（canteen列）", "rural canteens (column canteen)"),
    "resource_classrooms_rule": (
        "资源教室（disabled_pupils、resource_classroom列）",
        "resource classrooms (columns disabled_pupils, resource_classroom)",
    ),
    "left_behind_rule": (
        "随迁子女和留守儿童（migrant_pupils、left_behind_pupils列）",
        "migrant and left-behind children (columns migrant_pupils, left_behind_pupils)",
    ),
}


def _say(key: str, lang: Literal["zh", "en"], **values: object) -> str:
    return _WORDS[key][0 if lang == "zh" else 1].format(**values)


def rule_findings(
    tables: Mapping[str, pd.DataFrame], profile: Profile, *, lang: Literal["zh", "en"] = "zh"
) -> list[str]:
    """State the city-wide targets and the rules a run could not check for lack of data.

    Parameters
    ----------
    tables
        The tables of :func:`layout.indicators.indicator_tables` (a plan run's).
    profile
        The study's profile.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> tables = {"funding_by_county": pd.DataFrame({"head_teachers": [10],
    ...     "head_teacher_allowance": [36000.0]})}
    >>> line = rule_findings(tables, load_profile(), lang="en")[-1]
    >>> line.startswith("Rules not checked for lack of data: quality-balance resources")
    True
    """
    lines = [_allowance(tables["funding_by_county"], profile, lang)]
    target = tables.get("balance_target")
    if target is not None:
        row = target.iloc[0]
        verdict = _say("met" if row["target_met"] else "not_met", lang)
        lines.append(
            _say(
                "target",
                lang,
                passing=int(row["counties_passing"]),
                share=row["share_counties_passing"],
                target=row["target_share"],
                needed=int(row["counties_needed"]),
                verdict=verdict,
            )
        )
    pairs = tables.get("school_pairs")
    if pairs is not None and len(pairs):
        summary = pairing_summary(pairs).iloc[0]
        lines.append(
            _say(
                "pairs",
                lang,
                paired=int(summary["paired"]),
                n=int(summary["rural_schools"]),
                per=profile.pairing.rural_schools_per_urban_school,
                verdict=_say("met" if summary["target_met"] else "not_met", lang),
            )
        )
    lines += _support(tables, profile, lang)
    lines += _spending(tables.get("spending_per_pupil"), lang)
    dorms = tables.get("township_dormitories")
    if dorms is not None:
        lines.append(_say("dormitories", lang, lacking=int(dorms["lacks_dormitory"].sum())))
    lines += _consolidation(tables.get("consolidation"), profile, lang)
    missing = [] if target is not None else [_say("balance", lang)]
    missing += [_say(f"{r.key}_rule", lang) for r in SUPPORT_RULES if r.table not in tables]
    missing += [] if "township_dormitories" in tables else [_say("dormitories_rule", lang)]
    missing += [] if "consolidation" in tables else [_say("history_rule", lang)]
    missing += [] if "spending_per_pupil" in tables else [_say("finance_rule", lang)]
    if missing:
        lines.append(_say("unchecked", lang, rules=("；" if lang == "zh" else ", ").join(missing)))
    return lines


def _allowance(money: pd.DataFrame, profile: Profile, lang: Literal["zh", "en"]) -> str:
    return _say(
        "allowance",
        lang,
        monthly=profile.funding.head_teacher_allowance_monthly,
        classes=int(money["head_teachers"].sum()),
        total=money["head_teacher_allowance"].sum(),
    )


def _support(
    tables: Mapping[str, pd.DataFrame], profile: Profile, lang: Literal["zh", "en"]
) -> list[str]:
    lines = []
    canteens = tables.get("canteens_by_county")
    if canteens is not None and canteens["schools_reported"].sum():
        with_canteen = canteens["schools_with_canteen"].sum()
        reported = canteens["schools_reported"].sum()
        lines.append(
            _say(
                "canteens",
                lang,
                without=int(reported - with_canteen),
                share=with_canteen / reported,
            )
        )
    rooms = tables.get("resource_classrooms")
    if rooms is not None:
        lines.append(
            _say(
                "resource",
                lang,
                lacking=int(rooms["lacks_resource_classroom"].sum()),
                minimum=profile.support.resource_classroom_min_pupils,
            )
        )
    return lines


def _spending(table: pd.DataFrame | None, lang: Literal["zh", "en"]) -> list[str]:
    """Name every county and year whose spending or spending per pupil fell."""
    if table is None:
        return []
    falls = [
        _say(
            "fell",
            lang,
            county=row["county_code"],
            year=int(row["year"]),
            what=_say(f"{what}_word", lang),
        )
        for _, row in table.iterrows()
        for what in ("spending", "per_pupil")
        if not row[f"{what}_not_falling"]
    ]
    text = ("；" if lang == "zh" else "; ").join(falls) or _say("no_falls", lang)
    return [_say("spending", lang, falls=text)]


def _consolidation(
    table: pd.DataFrame | None, profile: Profile, lang: Literal["zh", "en"]
) -> list[str]:
    """State each county's consolidation rate against the target."""
    if table is None or table["rate"].isna().all():
        return []
    rates = [
        _say("rate", lang, county=row["county_code"], rate=row["rate"])
        for _, row in table.dropna(subset=["rate"]).iterrows()
    ]
    target = profile.attendance.consolidation_rate_target
    return [
        _say(
            "consolidation", lang, target=target, rates=("，" if lang == "zh" else ", ").join(rates)
        )
    ]
