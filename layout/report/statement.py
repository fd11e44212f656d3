r"""The closure impact statement: its words in Chinese and English, its blocks, two renderings.

:func:`statement` lays a :class:`~layout.closure.ClosureImpact` out as a list of blocks (a
heading, a paragraph, a list or a table); :func:`markdown` and :func:`html_page` render the
same blocks, escaping every piece of text, so a school name holding ``*``, ``|`` or
``<script>`` shows as written. Column headers and sheet titles are in :mod:`layout.labels`
with every other table's.

Examples
--------
>>> blocks = [("h1", "撤并<影响>"), ("p", "a | b"), ("table", pd.DataFrame({"x": ["*1*"]}))]
>>> print(markdown(blocks))
# 撤并\<影响\>
<BLANKLINE>
a \| b
<BLANKLINE>
| x |
| --- |
| \*1\* |
<BLANKLINE>
>>> "<h1>撤并&lt;影响&gt;</h1>" in html_page(blocks, title="t")
True
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..labels import Lang, code_name, header, in_language, localise, separator
from ..schema import CHILD_LEVELS, SETTINGS
from .closure_words import harm_reasons, reuse_advice

if TYPE_CHECKING:
    from ..closure import ClosureImpact
    from ..standards import Profile

_WORDS: dict[str, tuple[str, str]] = {
    "unplaced": ("无学位", "no place"),
    "title": ("学校撤并影响评估", "School closure impact statement"),
    "schools": ("拟撤并学校：{names}", "Schools to close: {names}"),
    "synthetic": (
        "合成样例数据，非真实学校数据",
        "Synthetic sample data, not real school data",
    ),
    "policy": (
        "依据{plan}，撤并学校须先征求教育部门意见，闲置校舍优先用于教育。本评估为此提供测算依据。",
        "Under {plan}, closing or merging a school needs the education department's opinion "
        "first, and idle campuses are reused for education first. This statement gives the "
        "figures for that opinion.",
    ),
    "basis": (
        "测算年份{year}年，人口情景“{scenario}”；学生按学位约束就近分配（撤并前后各分配一次），"
        "出行时间按{method}估算：小学{primary_mode}，初中{junior_mode}。",
        "Year {year}, scenario {scenario}; children are assigned to the nearest school with "
        "places (once with every open school, once without the closed ones); travel time by "
        "{method}: primary by {primary_mode}, junior by {junior_mode}.",
    ),
    "network": ("道路网络", "the road network"),
    "distance": ("直线距离×绕行系数{circuity:g}", "straight line x circuity {circuity:g}"),
    "walk": ("步行{speed:g} km/h", "walking at {speed:g} km/h"),
    "bus": ("校车{speed:g} km/h", "school bus at {speed:g} km/h"),
    "verdict": ("结论", "Verdict"),
    "harmless": (
        "无学生超出出行时间标准，接收学校无超班额，无学生失去学位。",
        "Nobody is pushed beyond the travel-time norms, no receiving school breaches a class "
        "cap and every child keeps a place.",
    ),
    "harmful": ("存在以下影响：{reasons}。", "Impacts found: {reasons}."),
    "moves": ("学生转移", "Children moved"),
    "moved": (
        "{level}：需转学学生{children_moved:,.0f}人（撤并学校{from_closed:,.0f}人，连带调整"
        "{knock_on:,.0f}人），无学位{unplaced:,.0f}人。",
        "{level}: {children_moved:,.0f} children move ({from_closed:,.0f} from the closed schools, "
        "{knock_on:,.0f} knock-on moves); {unplaced:,.0f} left without a place.",
    ),
    "travel": (
        "{level}：转学学生单程平均由{mean_minutes_before:,.1f}分钟变为{mean_minutes_after:,.1f}"
        "分钟（平均增加{mean_added_minutes:,.1f}分钟，最多增加{max_added_minutes:,.1f}分钟；距离"
        "平均增加{added_km:,.2f}公里，最多{max_added_km:,.2f}公里）。",
        "{level}: the moved children's trip goes from {mean_minutes_before:,.1f} to "
        "{mean_minutes_after:,.1f} minutes on average ({mean_added_minutes:+,.1f} minutes, at "
        "most {max_added_minutes:+,.1f}; {added_km:+,.2f} km on average, at most "
        "{max_added_km:+,.2f} km).",
    ),
    "pushed": (
        "1-3年级学生单程变长且超过{norm:g}分钟标准：{grades_1_3_pushed:,.0f}人，其中原在标准内"
        "{grades_1_3_newly_beyond:,.0f}人（1-3年级原则上不寄宿、就近走读）。",
        "Grade 1-3 pupils whose trip grows beyond the {norm:g}-minute norm: "
        "{grades_1_3_pushed:,.0f}, of which {grades_1_3_newly_beyond:,.0f} were within it before "
        "(they should not board).",
    ),
    "boarders": (
        "新增寄宿需求（4-6年级超过{upper:g}分钟、7-9年级超过{junior:g}分钟）：{new_boarders:,.0f}人。",
        "New boarding demand (grades 4-6 beyond {upper:g} minutes, grades 7-9 beyond "
        "{junior:g}): {new_boarders:,.0f} pupils.",
    ),
    "transfers": ("转学去向", "Where the children go"),
    "bands": ("转学学生出行时间分布（人）", "Moved children by travel time (pupils)"),
    "receiving": ("接收学校", "Receiving schools"),
    "receiving_none": ("无接收学校。", "No school receives children."),
    "breaches": (
        "接收学校{schools}所，其中平均班额超过上限（小学{primary_cap}人、初中{junior_cap}人）"
        "{over}所，达到{large}人及以上{n_large}所。",
        "{schools} receiving schools; {over} of them exceed the class cap (primary "
        "{primary_cap}, junior {junior_cap}) on average, {n_large} reach {large} or more.",
    ),
    "money": ("公用经费与教师编制（县）", "Funding and staffing (county)"),
    "money_note": (
        "撤并学校移除；接收学校在校生按接收人数增加，并按现有各年级人数比例分配到年级；"
        "新增寄宿生计入寄宿补助。",
        "The closed schools are removed; receiving schools gain the children they receive, "
        "spread over the level's grades in proportion to their enrolment; new boarders get the "
        "boarding supplement.",
    ),
    "funding_line": (
        "{county}：公用经费由{before:,.0f}元变为{after:,.0f}元（{change:+,.0f}元）。",
        "{county}: public funding from {before:,.0f} to {after:,.0f} yuan ({change:+,.0f}).",
    ),
    "staffing_line": (
        "{county}：应配教师由{before:,.0f}人变为{after:,.0f}人；撤并学校现有教师{freed:,.0f}人"
        "可调配，接收后各校缺编合计{shortfall:,.0f}人。",
        "{county}: teachers required from {before:,.0f} to {after:,.0f}; the closed "
        "schools' {freed:,.0f} teachers can be redeployed, against a shortfall of "
        "{shortfall:,.0f} at the remaining schools.",
    ),
    "boarding_staff_line": (
        "{county}：寄宿管理人员（每{per:g}名寄宿生1人）由{before:,.0f}人变为{after:,.0f}人"
        "（{change:+,.0f}人）。",
        "{county}: boarding-management staff (one per {per:g} boarders) from {before:,.0f} to "
        "{after:,.0f} ({change:+,.0f}).",
    ),
    "idle": ("闲置校舍", "Idle campus"),
    "idle_line": (
        "{name}（{id}）：占地{land:,.0f}㎡，建筑{building:,.0f}㎡。{reuse}",
        "{name} ({id}): land {land:,.0f} m², buildings {building:,.0f} m². {reuse}",
    ),
    "notes": ("说明", "Notes"),
    "note_model": (
        "学生数为该年份、该情景的预测学龄儿童；撤并前后的在校人数均为模型分配结果，"
        "与学校现有在校生可能不同。",
        "Children are the projected school-age children of the year and scenario; loads before "
        "and after are modelled assignments and may differ from current enrolment.",
    ),
    "note_county": (
        "学生只在本县（市、区）内重新分配；跨县就学不计。",
        "Children are reassigned within their county; schooling across county lines is left out.",
    ),
    "note_grades": (
        "每个网格转学学生的年级构成按该网格该学段的儿童年级构成计算。",
        "Moved children of a cell have the grade mix of the cell's children of the level.",
    ),
}

words = partial(in_language, _WORDS)
"""``words(key, lang, **values)``: a text of the statement in ``lang``, filled in."""


def statement_title(lang: Lang) -> str:
    """Return the title of a closure impact statement in ``lang``.

    Examples
    --------
    >>> statement_title("en")
    'School closure impact statement'
    """
    return words("title", lang)


Block = tuple[str, object]
"""``("h1" | "h2" | "p" | "note", text)``, ``("ul", [text, ...])`` or ``("table", frame)``."""


def statement(impact: ClosureImpact, lang: Lang) -> list[Block]:
    """Lay out the one-page impact statement of a closure.

    Parameters
    ----------
    impact
        From :func:`layout.closure.close_schools`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of Block
        Render them with :func:`markdown` or :func:`html_page`.
    """
    names = ("、" if lang == "zh" else ", ").join(
        f"{n} ({i})" for n, i in zip(impact.idle["name"], impact.idle["school_id"], strict=True)
    )
    blocks: list[Block] = [("h1", words("title", lang)), ("p", words("schools", lang, names=names))]
    if impact.study.synthetic:
        blocks.append(("note", words("synthetic", lang)))
    policy = words("policy", lang, plan=impact.study.standards.title)
    blocks += [("p", policy), ("p", _basis(impact, lang))]
    blocks += _verdict(impact, lang)
    blocks += _moves(impact, lang)
    blocks += _receiving(impact, lang)
    blocks += _money(impact, lang)
    blocks += _idle(impact, lang)
    notes = ["note_model", "note_county", "note_grades", "money_note"]
    return [*blocks, ("h2", words("notes", lang)), ("ul", [words(k, lang) for k in notes])]


def _basis(impact: ClosureImpact, lang: Lang) -> str:
    profile = impact.study.standards
    method = "network" if impact.costs_method == "network" else "distance"
    modes = {f"{level}_mode": _modes(profile, level, lang) for level in CHILD_LEVELS}
    return words(
        "basis",
        lang,
        year=impact.year,
        scenario=code_name(impact.scenario, lang),
        method=words(method, lang, circuity=profile.service.circuity),
        **modes,
    )


def _modes(profile: Profile, level: str, lang: Lang) -> str:
    """How pupils of a level travel, e.g. ``walking at 3.6 km/h (urban), school bus ...``."""
    by_setting = {s: profile.mode(level, s) for s in SETTINGS}
    said = {s: words(m, lang, speed=profile.speed_kmh(m)) for s, m in by_setting.items()}
    if len(set(said.values())) == 1:
        return next(iter(said.values()))
    inner = "（{}）" if lang == "zh" else " ({})"
    return ("、" if lang == "zh" else ", ").join(
        text + inner.format(code_name(s, lang)) for s, text in said.items()
    )


def _verdict(impact: ClosureImpact, lang: Lang) -> list[Block]:
    found = [
        code_name(row["level"], lang)
        + ("：" if lang == "zh" else ": ")
        + separator(lang).join(harms)
        for row in impact.summary.to_dict("records")
        if (harms := harm_reasons(row, lang))
    ]
    line = words("harmful", lang, reasons=separator(lang).join(found)) if found else None
    return [("h2", words("verdict", lang)), ("p", line or words("harmless", lang))]


def _moves(impact: ClosureImpact, lang: Lang) -> list[Block]:
    service = impact.study.standards.service
    items = []
    for row in impact.summary.to_dict("records"):
        values: dict[str, Any] = {
            **{str(k): v for k, v in row.items()},
            "level": code_name(row["level"], lang),
            "added_km": row["mean_added_metres"] / 1000,
            "max_added_km": row["max_added_metres"] / 1000,
        }
        items.append(words("moved", lang, **values))
        if row["children_moved"] > 0:
            items.append(words("travel", lang, **values))
    totals = impact.summary[["grades_1_3_pushed", "grades_1_3_newly_beyond", "new_boarders"]].sum()
    items.append(words("pushed", lang, norm=service.rural_lower_primary_minutes, **totals))
    items.append(
        words(
            "boarders",
            lang,
            upper=service.rural_upper_primary_minutes,
            junior=service.rural_junior_minutes,
            **totals,
        )
    )
    nowhere = words("unplaced", lang)
    transfers = impact.transfers.fillna({"from_name": nowhere, "to_name": nowhere})
    columns = [
        "level",
        "from_name",
        "to_name",
        "children",
        "mean_minutes_before",
        "mean_minutes_after",
    ]
    bands = impact.travel_bands[["level", "band", "children_before", "children_after"]]
    return [
        ("h2", words("moves", lang)),
        ("ul", items),
        ("h2", words("transfers", lang)),
        ("table", _shown(transfers[columns], impact, lang)),
        ("h2", words("bands", lang)),
        ("table", _shown(bands, impact, lang)),
    ]


def _receiving(impact: ClosureImpact, lang: Lang) -> list[Block]:
    table = impact.receiving
    if table.empty:
        return [("h2", words("receiving", lang)), ("p", words("receiving_none", lang))]
    sizes = impact.study.standards.class_size
    line = words(
        "breaches",
        lang,
        schools=len(table),
        over=int(table["over_cap_after"].sum()),
        n_large=int(table["large_after"].sum()),
        large=sizes.large_class_min,
        primary_cap=sizes.primary_cap,
        junior_cap=sizes.junior_cap,
    )
    columns = ["name", "level", "capacity", "load_before", "load_after", "utilisation_after",
               "class_size_before", "class_size_after", "breach", "new_boarders"]  # fmt: skip
    shown = table[columns].round({"utilisation_after": 2})
    return [("h2", words("receiving", lang)), ("p", line), ("table", _shown(shown, impact, lang))]


def _money(impact: ClosureImpact, lang: Lang) -> list[Block]:
    names = impact.study["counties"].set_index("county_code")["name"]
    items = []
    for county in pd.unique(impact.funding["county_code"]):
        label = (
            f"{names.get(county, county)}（{county}）"
            if lang == "zh"
            else f"{names.get(county, county)} ({county})"
        )
        money = impact.funding[impact.funding["county_code"] == county].set_index("item")
        staff = impact.staffing[impact.staffing["county_code"] == county].set_index("item")
        freed = impact.idle.loc[impact.idle["county_code"] == county, "teachers"].sum()
        items.append(words("funding_line", lang, county=label, **money.loc["total_funding"]))
        items.append(
            words(
                "staffing_line",
                lang,
                county=label,
                freed=freed,
                shortfall=staff.loc["shortfall", "after"],
                **staff.loc["teachers_required"],
            )
        )
        boarding = staff.loc["boarding_staff"]
        if boarding["before"] or boarding["after"]:
            per = impact.study.standards.staffing.boarders_per_boarding_staff
            items.append(words("boarding_staff_line", lang, county=label, per=per, **boarding))
    both = pd.concat([impact.funding, impact.staffing], ignore_index=True)
    both["item"] = [header(item, lang) for item in both["item"]]
    return [("h2", words("money", lang)), ("ul", items), ("table", _shown(both, impact, lang))]


def _idle(impact: ClosureImpact, lang: Lang) -> list[Block]:
    items = [
        words(
            "idle_line",
            lang,
            name=row["name"],
            id=row["school_id"],
            land=row["land_area_m2"],
            building=row["building_area_m2"],
            reuse=reuse_advice(row["nearby_planned"], row["radius_m"], lang),
        )
        for row in impact.idle.to_dict("records")
    ]
    return [("h2", words("idle", lang)), ("ul", items)]


_PEOPLE = ("children", "load", "students", "boarders", "pupils", "before", "after")


def _shown(table: pd.DataFrame, impact: ClosureImpact, lang: Lang) -> pd.DataFrame:
    """Give a table the headers and codes of ``lang``, numbers rounded for reading.

    Minutes keep one decimal, shares become percentages, people whole numbers.
    """
    plain = pd.DataFrame(table.drop(columns="geometry", errors="ignore"))
    for column in [c for c in plain.columns if plain[c].dtype.kind == "f"]:
        name = str(column)
        if "minutes" in name or name.endswith("_km"):
            plain[column] = plain[column].round(1)
        elif "utilisation" in name or "share" in name:
            plain[column] = plain[column].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
        else:
            plain[column] = plain[column].round(0 if any(p in name for p in _PEOPLE) else 2)
    return localise({"table": plain}, lang=lang, profile=impact.study.standards)["table"]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def _md(text: object) -> str:
    """Escape Markdown's special characters (backslash escapes), keeping one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _cell(value: object) -> str:
    """Show a table value: whole numbers without decimals, others with one or two."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def markdown(blocks: Sequence[Block]) -> str:
    """Render statement blocks as Markdown, every text escaped.

    Parameters
    ----------
    blocks
        See :data:`Block`.

    Returns
    -------
    str
    """
    out = []
    for kind, content in blocks:
        if kind in ("h1", "h2"):
            out.append(f"{'#' * int(kind[1])} {_md(content)}")
        elif kind in ("p", "note"):
            text = _md(content)
            out.append(f"**{text}**" if kind == "note" else text)
        elif kind == "ul":
            out.append("\n".join(f"- {_md(item)}" for item in _items(content)))
        else:
            out.append(_md_table(_frame(content)))
    return "\n\n".join(out) + "\n"


def _md_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(_md(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(_md(_cell(v)) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def html_page(blocks: Sequence[Block], *, title: str, lang: Lang = "zh") -> str:
    """Render statement blocks as one self-contained HTML page, every text escaped.

    Parameters
    ----------
    blocks
        See :data:`Block`.
    title
        The page's ``<title>``.
    lang
        The page's language attribute.

    Returns
    -------
    str
    """
    parts = []
    for kind, content in blocks:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{html.escape(str(content))}</{kind}>")
        elif kind in ("p", "note"):
            css = ' class="note"' if kind == "note" else ""
            parts.append(f"<p{css}>{html.escape(str(content))}</p>")
        elif kind == "ul":
            items = "".join(f"<li>{html.escape(str(i))}</li>" for i in _items(content))
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(_html_table(_frame(content)))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;"
        "padding:2px 6px;text-align:right}th{background:#eee}.note{color:#b30000;"
        "font-weight:bold}"
        + _PRINT_CSS
        + "</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )


_PRINT_CSS = (
    "@media print{@page{size:A4;margin:8mm}"
    "body{margin:0;max-width:none;font-size:8pt;line-height:1.3;columns:2;column-gap:5mm}"
    "h1{font-size:13pt;margin:0 0 1mm;column-span:all}h2{font-size:9.5pt;margin:1.5mm 0 .5mm;"
    "break-after:avoid}p,ul{margin:.8mm 0}ul{padding-left:4mm}"
    "table{font-size:7pt;margin:.5mm 0;break-inside:avoid}td,th{padding:0 2px}"
    "*{print-color-adjust:exact;-webkit-print-color-adjust:exact}}"
)
"""Print layout: the statement on one A4 page, in two columns."""


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _items(content: object) -> list[str]:
    return [str(item) for item in content] if isinstance(content, list | tuple) else [str(content)]


def _frame(content: object) -> pd.DataFrame:
    if not isinstance(content, pd.DataFrame):
        raise TypeError(f"a table block holds a DataFrame, got {type(content).__name__}")
    return content
