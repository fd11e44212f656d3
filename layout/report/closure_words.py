"""Words of a closure in Chinese and English: the harms, the refusal and the reuse advice.

The closure analysis (:mod:`layout.closure`) returns figures and verdicts only; these words
are put beside them when a command writes its tables (:func:`closure_texts`) and in the
statement (:mod:`layout.report.statement`, whose own words are there). Column headers and
sheet titles are in :mod:`layout.labels` with every other table's.

Examples
--------
>>> words("reason_new_boarders", "en", value=12.0)
'12 new boarders'
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import partial
from typing import Any

import pandas as pd

from ..closure import HARM_MIN, HARMS
from ..labels import Lang, code_name, in_language, separator

_WORDS: dict[str, tuple[str, str]] = {
    "reuse": (
        "优先用于教育（如学前教育、寄宿、教师周转宿舍、研学实践），确无教育需求再作他用。",
        "Reuse it for education first (e.g. preschool, boarding, teacher housing, field "
        "studies); other uses only when education needs none.",
    ),
    "reuse_nearby": (
        "服务半径{radius:,.0f}m内有规划新建{ids}：宜先考虑利用本校舍，避免边建设、边闲置。",
        " Planned schools or reserved parcels {ids} lie within {radius:,.0f} m: consider this "
        "campus first, to avoid building while campuses stand idle.",
    ),
    "reason_grades_1_3_pushed": (
        "1-3年级{value:,.0f}人超出时间标准",
        "{value:,.0f} grade 1-3 pupils beyond the norm",
    ),
    "reason_new_boarders": ("新增寄宿{value:,.0f}人", "{value:,.0f} new boarders"),
    "reason_receiving_breaches": (
        "{value:,.0f}所接收学校超班额",
        "{value:,.0f} receiving schools over a class cap",
    ),
    "reason_unplaced": ("{value:,.0f}人无学位", "{value:,.0f} children without a place"),
    "reason_last": (
        "撤并后县内无{level}学校，不可撤并",
        "would leave the county with no {level} school",
    ),
    "reason_none": ("无超标影响", "no norm breached"),
}

words = partial(in_language, _WORDS)
"""``words(key, lang, **values)``: the text ``key`` in ``lang`` with ``values`` filled in."""


def harm_reasons(figures: Mapping[Hashable, Any], lang: Lang) -> list[str]:
    """Return the harms among a closure's figures as texts; empty when it is harmless.

    Examples
    --------
    >>> harm_reasons({"grades_1_3_pushed": 3.0, "unplaced": 0.0, "receiving_breaches": 1.0,
    ...          "new_boarders": 0.2}, "en")
    ['3 grade 1-3 pupils beyond the norm', '1 receiving schools over a class cap']
    """
    return [
        words(f"reason_{name}", lang, value=figures[name]) for name in HARMS if _harm(figures[name])
    ]


def reuse_advice(nearby: str, radius: float, lang: Lang) -> str:
    """Advise on an idle campus: education first, naming planned builds within ``radius``.

    Examples
    --------
    >>> reuse_advice("P1", 1800.0, "zh").endswith("避免边建设、边闲置。")
    True
    """
    advice = words("reuse", lang)
    return advice + words("reuse_nearby", lang, ids=nearby, radius=radius) if nearby else advice


def closure_texts(tables: dict[str, pd.DataFrame], lang: Lang) -> dict[str, pd.DataFrame]:
    """Return the closure tables with their words: ``reason`` of each verdict, ``reuse`` advice.

    ``closure_summary`` and ``closure_screening`` get a ``reason`` after ``verdict`` (the
    harms, the level a refused closure would leave without a school, or that no norm is
    breached); ``closure_idle`` gets the ``reuse`` advice. Other tables are returned as given.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"unplaced": [0.0], "grades_1_3_pushed": [3.0],
    ...     "receiving_breaches": [0.0], "new_boarders": [0.0], "verdict": ["harmful"]})
    >>> closure_texts({"closure_summary": summary}, "en")["closure_summary"]["reason"].tolist()
    ['3 grade 1-3 pupils beyond the norm']
    """
    out = dict(tables)
    for name in ("closure_summary", "closure_screening"):
        if name in out:
            table = out[name]
            reasons = [_reason(row, lang) for row in table.to_dict("records")]
            where = table.columns.get_loc("verdict") + 1
            out[name] = table.drop(columns="reason", errors="ignore")
            out[name].insert(min(where, len(out[name].columns)), "reason", reasons)
    if "closure_idle" in out:
        idle = out["closure_idle"]
        out["closure_idle"] = idle.assign(
            reuse=[
                reuse_advice(str(ids), float(r), lang)
                for ids, r in zip(idle["nearby_planned"], idle["radius_m"], strict=True)
            ]
        )
    return out


def _harm(value: Any) -> bool:
    """Whether a figure is a harm: at least one child (half a child rounds to none)."""
    return bool(value >= HARM_MIN)


def _reason(row: Mapping[Hashable, Any], lang: Lang) -> str:
    """Return the words of one verdict."""
    emptied = str(row.get("leaves_no_school") or "")
    if emptied:
        return separator(lang).join(
            words("reason_last", lang, level=code_name(level, lang)) for level in emptied.split(",")
        )
    harms = [] if row.get("verdict") == "refused" else harm_reasons(row, lang)
    return separator(lang).join(harms) or words("reason_none", lang)
