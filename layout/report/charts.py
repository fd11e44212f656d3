"""Charts of the report pack (PNG): projected children of each county, a phased plan's places.

Projected children by county, year and scenario; a phased plan's places against its children.

Text is set in Noto Sans CJK SC from the ``manimgx-fonts-cjk`` package (SIL Open Font
License), so Chinese labels never fall back to empty boxes, whatever fonts the machine has.
The font is variable; matplotlib draws its default instance (a light weight).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import logging
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import _validate
from ..demand import (
    CHILD_LEVELS,
)
from ..errors import ValidationError
from ..labels import Lang, code_name
from ..schema import LEVEL_GRADES
from .files import replacing

log = logging.getLogger(__name__)

CJK_FAMILY = "Noto Sans CJK SC"
"""The font family of the charts' text."""
_TEXT = {
    "title": ("{county}：学龄儿童预测与现有学位", "{county}: projected children and places"),
    "panel": ("{level}（{first}-{last}年级）", "{level}, grades {first}-{last}"),
    "year": ("年份", "year"),
    "children": ("学龄儿童（人）", "children"),
    "scenario": ("方案", "scenario"),
    "places": ("现有学位", "places"),
    "phase_title": (
        "{county}：分期规划的学位与学龄儿童（{scenario}）",
        "{county}: places and children of the phased plan ({scenario})",
    ),
    "plan_places": ("规划学位", "places in the plan"),
    "phase_children": ("学龄儿童", "children"),
}


@functools.cache
def cjk_font() -> str:
    """Register the bundled Noto Sans CJK with matplotlib and return its family name.

    Examples
    --------
    >>> cjk_font()
    'Noto Sans CJK SC'
    """
    font = importlib.resources.files("manimgx_fonts_cjk") / "NotoSansCJK-VF.otf.ttc"
    font_manager.fontManager.addfont(str(font))
    return CJK_FAMILY


def _chart_style() -> contextlib.AbstractContextManager[None]:
    """Set every text of a chart in the CJK font's one instance (a light weight)."""
    return matplotlib.rc_context(
        {
            "font.family": [cjk_font()],
            "font.weight": 100,
            "axes.titleweight": 100,
            "axes.labelweight": 100,
            "figure.titleweight": 100,
        }
    )


def plot_county_demand(
    totals: pd.DataFrame,
    path: str | Path,
    *,
    county_code: str,
    title: str | None = None,
    dpi: int = 120,
    places: pd.Series | None = None,
    lang: Lang = "zh",
) -> Path:
    r"""Draw one county's projected primary and junior children by year and scenario as a PNG.

    Parameters
    ----------
    totals
        A table from :func:`demand_totals` with a ``county_code`` column (finer groups, such as
        townships, are summed).
    path
        PNG file to write; its folder must exist.
    county_code
        County to draw.
    title
        Figure title; by default names the county.
    dpi
        Resolution of the PNG.
    places
        The county's places by level (index ``primary``, ``junior``), drawn as a
        horizontal line on each panel; ``None`` draws none.
    lang
        Language of the labels: ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> totals = pd.DataFrame({"county_code": "c1", "scenario": ["low", "high"] * 4,
    ...     "year": [2021, 2021, 2022, 2022] * 2, "level": ["primary"] * 4 + ["junior"] * 4,
    ...     "children": [90.0, 100.0, 80.0, 105.0, 50.0, 52.0, 48.0, 55.0]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = plot_county_demand(totals, Path(folder) / "c1.png", county_code="c1")
    ...     png.read_bytes()[:4]
    b'\x89PNG'
    """
    problems = _validate.missing_columns(
        totals, ["county_code", "scenario", "year", "level", "children"], layer="totals"
    )
    if problems:
        raise ValidationError(problems)
    rows = totals[totals["county_code"].astype(str) == str(county_code)]
    if rows.empty:
        known = sorted(totals["county_code"].astype(str).unique())
        raise ValidationError(
            f"totals: county_code {county_code!r} has no rows; choose one of {known}"
        )

    def t(key: str, **values: object) -> str:
        return _TEXT[key][0 if lang == "zh" else 1].format(**values)

    with _chart_style():
        figure = Figure(figsize=(10, 4), layout="constrained")
        FigureCanvasAgg(figure)
        panels = dict(zip(CHILD_LEVELS, figure.subplots(1, len(CHILD_LEVELS)), strict=True))
        groups = rows.groupby(["level", "scenario"], observed=True, sort=False)
        for (level, scenario), line in groups:
            if level in panels:
                by_year = line.groupby("year")["children"].sum()
                panels[level].plot(
                    by_year.index, by_year.to_numpy(), marker="o",
                    label=code_name(str(scenario), lang),
                )  # fmt: skip
        for level, axes in panels.items():
            grades = LEVEL_GRADES[level]
            if places is not None and level in places.index:
                axes.axhline(float(places[level]), color="black", linestyle="--", label=t("places"))
            name = code_name(level, lang)
            axes.set_title(t("panel", level=name, first=grades[0], last=grades[-1]))
            axes.set_xlabel(t("year"))
            axes.set_ylabel(t("children"))
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.yaxis.set_major_formatter("{x:,.0f}")
            axes.legend(title=t("scenario"))
        figure.suptitle(title or t("title", county=county_code))
        with replacing(path) as tmp:
            figure.savefig(tmp, dpi=dpi, format="png")
    log.info("wrote %s", path)
    return Path(path)


def plot_phase_timeline(
    timeline: pd.DataFrame,
    path: str | Path,
    *,
    county_code: str,
    scenario: str,
    dpi: int = 120,
    lang: Lang = "zh",
) -> Path:
    r"""Draw a phased plan's places against its children by year, one panel per level (PNG).

    Parameters
    ----------
    timeline
        :attr:`layout.phases.PhasedPlan.timeline`: ``year``, ``level``, ``children``,
        ``places``.
    path
        PNG file to write; its folder must exist.
    county_code, scenario
        Named in the title.
    dpi
        Resolution of the PNG.
    lang
        Language of the labels.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> line = pd.DataFrame({"year": [2025, 2026] * 2, "level": ["primary"] * 2 + ["junior"] * 2,
    ...     "children": [90.0, 80.0, 50.0, 45.0], "places": [90, 90, 50, 50]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     png = plot_phase_timeline(line, Path(folder) / "t.png", county_code="c1",
    ...                               scenario="medium")
    ...     png.read_bytes()[:4]
    b'\x89PNG'
    """
    problems = _validate.missing_columns(
        timeline, ["year", "level", "children", "places"], layer="timeline"
    )
    if problems:
        raise ValidationError(problems)

    def t(key: str, **values: object) -> str:
        return _TEXT[key][0 if lang == "zh" else 1].format(**values)

    with _chart_style():
        figure = Figure(figsize=(10, 4), layout="constrained")
        FigureCanvasAgg(figure)
        panels = dict(zip(CHILD_LEVELS, figure.subplots(1, len(CHILD_LEVELS)), strict=True))
        for level, axes in panels.items():
            rows = timeline[timeline["level"] == level].sort_values("year")
            axes.step(rows["year"], rows["places"], where="mid", color="black",
                      label=t("plan_places"))  # fmt: skip
            axes.plot(rows["year"], rows["children"], marker="o", label=t("phase_children"))
            grades = LEVEL_GRADES[level]
            name = code_name(level, lang)
            axes.set_title(t("panel", level=name, first=grades[0], last=grades[-1]))
            axes.set_xlabel(t("year"))
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.yaxis.set_major_formatter("{x:,.0f}")
            axes.legend()
        figure.suptitle(t("phase_title", county=county_code, scenario=code_name(scenario, lang)))
        with replacing(path) as tmp:
            figure.savefig(tmp, dpi=dpi, format="png")
    log.info("wrote %s", path)
    return Path(path)
