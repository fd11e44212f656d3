"""Charts of the report pack: projected children of each county by year and scenario (PNG)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import _validate
from ..demand import (
    CHILD_LEVELS,
)
from ..errors import ValidationError
from ..schema import LEVEL_GRADES
from .files import replacing

log = logging.getLogger(__name__)


def plot_county_demand(
    totals: pd.DataFrame,
    path: str | Path,
    *,
    county_code: str,
    title: str | None = None,
    dpi: int = 120,
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
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    panels = dict(zip(CHILD_LEVELS, figure.subplots(1, len(CHILD_LEVELS)), strict=True))
    for (level, scenario), line in rows.groupby(["level", "scenario"], observed=True, sort=False):
        if level in panels:
            by_year = line.groupby("year")["children"].sum()
            panels[level].plot(by_year.index, by_year.to_numpy(), marker="o", label=str(scenario))
    for level, axes in panels.items():
        grades = LEVEL_GRADES[level]
        axes.set_title(f"{level}, grades {grades[0]}-{grades[-1]}")
        axes.set_xlabel("year")
        axes.set_ylabel("children")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(title="scenario")
    figure.suptitle(title or f"County {county_code}: projected school-age children")
    with replacing(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")
    log.info("wrote %s", path)
    return Path(path)
