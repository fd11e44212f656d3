"""The findings of a plan run: short sentences with their numbers, the norm, year and scenario.

They open the report pack's index page (:mod:`layout.report.index`); every norm comes from the
study's profile.

Examples
--------
See :mod:`layout.runs.plan`, whose ``findings`` gives a run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypedDict

import pandas as pd

from ..access import CostMethod, cost_method
from ..demand import focus_scenario, scenario_names
from ..labels import VALUES_ZH
from ..standards import Profile
from ..study import Study
from .rules import rule_findings

__all__ = ["estimate_notes", "findings"]


def findings(
    tables: Mapping[str, pd.DataFrame],
    study: Study,
    *,
    lang: Literal["zh", "en"] = "zh",
    method: CostMethod | None = None,
) -> list[str]:
    """State the main findings of a run in a few sentences, with their numbers.

    Parameters
    ----------
    tables
        The result tables of :func:`layout.runs.plan.analyse`.
    study
        Its study.
    lang
        ``"zh"`` or ``"en"``.
    method
        How travel was costed, if known (a province's partition step measures it);
        :func:`layout.access.cost_method` of ``study`` otherwise.

    Returns
    -------
    list of str

    Examples
    --------
    See :mod:`layout.runs.plan`.
    """
    t = tables
    size = t["class_size_by_county"].sum(numeric_only=True)
    staff = t["staffing_by_county"].sum(numeric_only=True)
    money = t["funding_by_county"]["total_funding"].sum()
    n = len(t["class_size_by_county"])
    year = study.school_year
    profile = study.standards
    figures = {
        "n": n,
        "schools": int(size["schools"]),
        "students": int(size["students"]),
        "year": year,
        "large": int(size["classes_large"]),
        "very_large": int(size["classes_very_large"]),
        "over": int(size["classes_over_cap"]),
        "struck": int(size["schools_struck_off"]),
        "shortfall": int(staff["shortfall"]),
        "funding": money / 1e4,
        "primary_cap": profile.cap("primary"),
        "junior_cap": profile.cap("junior"),
        "large_min": profile.large_class_min,
        "very_min": profile.very_large_class_min,
        "primary_ratio": profile.staffing.primary_students_per_staff,
        "junior_ratio": profile.staffing.junior_students_per_staff,
        "per_class": profile.staffing.small_school_teachers_per_class,
    }
    text = _FINDINGS[lang]
    lines = [line.format(**figures) for line in text["base"]]
    trend = _demand_trend(t["demand_by_county"])
    for row in trend or []:
        if lang == "zh":
            row = {
                **row,
                "level": VALUES_ZH[str(row["level"])],
                "scenario": VALUES_ZH.get(str(row["scenario"]), row["scenario"]),
            }
        lines.append(text["demand"].format(**row))
    lines += _access_findings(t.get("access_summary"), profile, text=text, lang=lang)
    lines += rule_findings(t, profile, lang=lang)
    how = _method_finding(study, method or cost_method(study), text=text)
    return [*lines, how, *estimate_notes(study, lang=lang)]


def estimate_notes(study: Study, *, lang: Literal["zh", "en"]) -> list[str]:
    """Say which inputs were estimated rather than given (layout.sources.estimates).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> estimate_notes(study_from_toml(), lang="en")  # the sample states everything
    []
    """
    from ..demand.scenarios import DERIVED

    zh = lang == "zh"
    notes = []
    medium = study.config.get("scenarios", {}).get("medium", {})
    if medium.get("description") == DERIVED:
        rate = next(iter(medium["birth_rate"].values()))
        notes.append(
            f"研究未设情景: 出生率取本地人口数据推算值 {rate}‰ (0-4岁人数/5/常住人口)。"
            if zh
            else f"The study sets no scenarios: a birth rate of {rate} per 1000 "
            "is derived from its own population (age 0-4 / 5 / residents)."
        )
    for layer, flag, what_zh, what_en in (
        (
            "schools",
            "grades_estimated",
            "所学校的分年级学生和班级由总数估算",
            "schools have grades estimated from their totals",
        ),
        (
            "population",
            "ages_estimated",
            "个人口单元的单岁年龄由5岁组估算",
            "population units have single years of age estimated from 5-year groups",
        ),
    ):
        frame = study.layers.get(layer)
        if frame is not None and flag in frame.columns and frame[flag].any():
            count = int(frame[flag].sum())
            notes.append(f"{count} {what_zh}。" if zh else f"{count} {what_en}.")
    return notes


def _method_finding(study: Study, found: CostMethod, *, text: _Findings) -> str:
    """State how travel was costed: along the roads or by straight line, and why."""
    line = text["method"][found.reason].format(
        roads=found.roads, circuity=study.standards.service.circuity
    )
    if found.connected_share < study.standards.checks.roads_connected_share_min:
        line += text["unjoined"].format(share=found.connected_share)
    return line


def _access_findings(
    summary: pd.DataFrame | None,
    profile: Profile,
    *,
    text: _Findings,
    lang: Literal["zh", "en"],
) -> list[str]:
    """Children without a place and within the norm, by level: focus scenario, first plan year.

    With cross-county enrolment, also how many of those without a place take spare places
    across a county border.
    """
    if summary is None or summary.empty:
        return []
    scenario = focus_scenario(scenario_names(summary))
    rows = summary[(summary["scenario"] == scenario) & (summary["year"] == summary["year"].min())]
    lines = []
    for level, group in rows.groupby("level", sort=False):
        figures = group[["children", "unserved", "within_norm"]].sum()
        row = {
            "level": VALUES_ZH[str(level)] if lang == "zh" else str(level).capitalize(),
            "year": int(group["year"].iloc[0]),
            "scenario": VALUES_ZH.get(scenario, scenario) if lang == "zh" else scenario,
            "unserved": figures["unserved"],
            "share": figures["within_norm"] / figures["children"] if figures["children"] else 0,
            "radius": profile.radius(str(level), "urban"),
            "minutes": profile.minutes(str(level), setting="rural"),
        }
        line = text["access"].format(**row)
        if "across_border" in group.columns and figures["unserved"] > 0:
            line += text["across"].format(across=group["across_border"].sum())
        lines.append(line + text["end"])
    return lines


class _Findings(TypedDict):
    """The sentences of the findings in one language."""

    base: list[str]
    demand: str
    access: str
    across: str
    end: str
    method: dict[str, str]
    unjoined: str


_FINDINGS: dict[str, _Findings] = {
    "zh": {
        "base": [
            "{n}个县（市、区），{schools}所学校，{year}年在校生{students:,}人。",
            "超过班额上限（小学{primary_cap}人、初中{junior_cap}人）的班级{over:,}个，其中"
            "{large_min}人及以上大班额{large:,}个（含{very_min}人及以上超大班额{very_large:,}个）；"
            "可销号学校{struck}所。",
            "按教职工编制标准（小学1:{primary_ratio:g}、初中1:{junior_ratio:g}，乡村小规模学校每班"
            "不少于{per_class:g}名），教师缺口合计{shortfall:,}人；公用经费应拨{funding:,.0f}万元/年。",
        ],
        "demand": "{scenario}：{level}学龄儿童由{first}年的{start:,.0f}人变为{last}年的"
        "{end:,.0f}人（{change:+.1%}）。",
        "access": "{scenario}，{year}年{level}：{unserved:,.0f}名学生在本县可达范围内没有学位；"
        "{share:.0%}在就学标准内（城镇服务半径{radius:,.0f}米，乡村单程{minutes:g}分钟）",
        "across": "；其中{across:,.0f}人可在邻县学校空余学位就读",
        "end": "。",
        "method": {
            "roads layer": "出行时间沿道路图层计算（{roads:,}条道路）。",
            "no roads layer": "出行时间按直线距离×{circuity:g}计算（研究未提供道路图层）。",
            "empty roads layer": "出行时间按直线距离×{circuity:g}计算："
            "道路图层为空，未沿道路计算。",
        },
        "unjoined": "注意：道路未连通，最大连通部分仅占道路总长的{share:.0%}。",
    },
    "en": {
        "base": [
            "{n} counties, {schools} schools, {students:,} pupils in {year}.",
            "{over:,} classes over the size cap (primary {primary_cap}, junior {junior_cap}), of "
            "which {large:,} are large classes of {large_min} or more ({very_large:,} very large, "
            "{very_min} or more); {struck} schools can be struck off the ledger.",
            "Teacher shortfall {shortfall:,} by the staffing norms (primary 1:{primary_ratio:g}, "
            "junior 1:{junior_ratio:g}, at least {per_class:g} per class in small rural "
            "schools); public funding due {funding:,.0f} x 10,000 yuan a year.",
        ],
        "demand": "Scenario {scenario}: {level} school-age children from {start:,.0f} in "
        "{first} to {end:,.0f} in {last} ({change:+.1%}).",
        "access": "{level}, {scenario} scenario, {year}: {unserved:,.0f} children have no place "
        "within reach in their county; {share:.0%} within the norm (urban radius "
        "{radius:,.0f} m, rural {minutes:g} minutes one way)",
        "across": "; {across:,.0f} of them can take spare places across a county border",
        "end": ".",
        "method": {
            "roads layer": "Travel costed along the roads layer ({roads:,} roads).",
            "no roads layer": "Travel costed by straight-line distance x {circuity:g} (the "
            "study has no roads layer).",
            "empty roads layer": "Travel costed by straight-line distance x {circuity:g}: the "
            "roads layer is empty, so not along roads.",
        },
        "unjoined": " The roads do not join up: the largest connected piece holds "
        "{share:.0%} of their length.",
    },
}


def _demand_trend(totals: pd.DataFrame) -> list[dict[str, object]] | None:
    """Children of each level in the first and last projection year of the middle scenario."""
    if totals.empty:
        return None
    scenario = focus_scenario(scenario_names(totals))
    rows = totals[totals["scenario"] == scenario]
    by_year = rows.groupby(["level", "year"], observed=True)["children"].sum()
    first, last = int(rows["year"].min()), int(rows["year"].max())
    trend: list[dict[str, object]] = []
    for level in ("primary", "junior"):
        start, end = float(by_year[(level, first)]), float(by_year[(level, last)])
        change = (end - start) / start if start else float("nan")
        trend.append(
            {
                "scenario": scenario,
                "level": level,
                "first": first,
                "last": last,
                "start": start,
                "end": end,
                "change": change,
            }
        )
    return trend
