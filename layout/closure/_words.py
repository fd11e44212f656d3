"""Words of the closure analysis in Chinese and English: the harms and the reuse advice.

The statement's own words are in :mod:`layout.report.statement`; column headers and sheet
titles are in :mod:`layout.labels` with every other table's.

Examples
--------
>>> words("reason_boarders", "en", value=12.0)
'12 new boarders'
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import partial
from typing import Any

from ..labels import Lang, in_language

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
    "reason_pushed": (
        "1-3年级{value:,.0f}人超出时间标准",
        "{value:,.0f} grade 1-3 pupils beyond the norm",
    ),
    "reason_boarders": ("新增寄宿{value:,.0f}人", "{value:,.0f} new boarders"),
    "reason_breaches": (
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

HARMS: tuple[tuple[str, str], ...] = (
    ("unplaced", "reason_unplaced"),
    ("grades_1_3_pushed", "reason_pushed"),
    ("receiving_breaches", "reason_breaches"),
    ("new_boarders", "reason_boarders"),
)
"""Figures that make a closure harmful when at least one (half a child rounds to none), in
the order they rank closures, with the key of their reason text."""


def harm_reasons(figures: Mapping[Hashable, Any], lang: Lang) -> list[str]:
    """Return the harms among a closure's figures as texts; empty when it is harmless.

    Examples
    --------
    >>> harm_reasons({"grades_1_3_pushed": 3.0, "unplaced": 0.0, "receiving_breaches": 1.0,
    ...          "new_boarders": 0.2}, "en")
    ['3 grade 1-3 pupils beyond the norm', '1 receiving schools over a class cap']
    """
    return [words(key, lang, value=figures[name]) for name, key in HARMS if figures[name] >= 0.5]


def reuse_advice(nearby: str, radius: float, lang: Lang) -> str:
    """Advise on an idle campus: education first, naming planned builds within ``radius``.

    Examples
    --------
    >>> reuse_advice("P1", 1800.0, "zh").endswith("避免边建设、边闲置。")
    True
    """
    advice = words("reuse", lang)
    return advice + words("reuse_nearby", lang, ids=nearby, radius=radius) if nearby else advice
