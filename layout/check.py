"""Check a whole study at once: every problem of the TOML and of every layer, as one table.

:func:`check_study` reads a study as :func:`layout.study.study_from_toml` does, but collects
every problem instead of stopping at the first bad layer, and returns them as findings: a
frame with exactly the columns of :data:`layout.errors.FINDING_COLUMNS` (``severity``,
``file``, ``layer``, ``column``, ``rows``, ``problem``, ``fix``). The study can run when no
finding is an error.

Checks of a *loaded* study (plausibility and the like) are functions ``Study -> DataFrame``
with the same columns; they are listed in :data:`FINDING_SOURCES`, the one place where further
sources of findings are added.

Examples
--------
>>> result = check_study()  # the bundled synthetic sample
>>> result.ok, list(result.findings.columns) == list(FINDING_COLUMNS)
(True, True)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import FINDING_COLUMNS
from .plausibility import plausibility_warnings
from .schema import LAYERS
from .study import Study, bundled_study_path, study_and_findings

LOG = logging.getLogger(__name__)

FindingSource = Callable[[Study], pd.DataFrame]
"""A check of a loaded study: returns findings (:data:`layout.errors.FINDING_COLUMNS`)."""


def township_findings(study: Study) -> pd.DataFrame:
    """Warn of schools and parcels whose township code is not the township holding them.

    Codes filled by location are right by construction; codes a bureau typed may not be (a
    school listed under the township it used to belong to, or a point in the wrong place).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> township_findings(study_from_toml()).empty
    True
    """
    townships = study["townships"][["township_code", "geometry"]]
    rows = []
    for name in ("schools", "reserved_land"):
        frame = study[name]
        points = gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=frame.crs)
        held = gpd.sjoin(points, townships, how="left", predicate="within")
        held = held[~held.index.duplicated()]["township_code"].reindex(frame.index)
        wrong = held.notna() & (held.astype(str) != frame["township_code"].astype(str))
        if wrong.any():
            ids = frame.loc[wrong, LAYERS[name].id_column].astype(str)
            rows.append(
                {
                    "severity": "warning",
                    "file": "",
                    "layer": name,
                    "column": "township_code",
                    "rows": ", ".join(ids),
                    "problem": "township code is not that of the township "
                    "holding the row (" + ", ".join(sorted(set(held[wrong].astype(str)))) + ")",
                    "fix": "correct the code, or the location; leave the column out to fill it by "
                    "location",
                }
            )
    return findings_frame(rows)


FINDING_SOURCES: list[FindingSource] = [township_findings, plausibility_warnings]
"""Further checks run on a study that loaded: add a :data:`FindingSource` here."""


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_study` found.

    Attributes
    ----------
    findings
        One row per problem (:data:`layout.errors.FINDING_COLUMNS`), errors first.
    study
        The loaded study, or ``None`` when an error kept it from loading.
    path
        The study TOML.
    """

    findings: pd.DataFrame
    study: Study | None
    path: Path

    @property
    def ok(self) -> bool:
        """Whether the study can run (no finding is an error)."""
        return not (self.findings["severity"] == "error").any()


def findings_frame(rows: Iterable[Mapping[str, str]]) -> pd.DataFrame:
    """Return findings as a frame with exactly :data:`FINDING_COLUMNS`, errors first.

    Examples
    --------
    >>> findings_frame([{"severity": "warning", "problem": "p"}]).iloc[0].tolist()
    ['warning', '', '', '', '', 'p', '']
    """
    records = [{c: str(r.get(c) or "") for c in FINDING_COLUMNS} for r in rows]
    frame = pd.DataFrame(records, columns=list(FINDING_COLUMNS), dtype=object)
    order = frame["severity"].map({"error": 0}).fillna(1)
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def check_study(path: str | os.PathLike[str] | None = None) -> CheckResult:
    """Check a study TOML and every layer it names; report all problems at once.

    Parameters
    ----------
    path
        The study TOML; ``None`` checks the bundled synthetic sample.

    Returns
    -------
    CheckResult
        The findings, and the study when it loaded.
    """
    toml = Path(path).resolve() if path is not None else bundled_study_path()
    study, found = study_and_findings(toml)
    if study is not None:
        for source in FINDING_SOURCES:
            found += source(study).to_dict("records")
    return CheckResult(findings=findings_frame(found), study=study, path=toml)


def findings_text(findings: pd.DataFrame, *, width: int = 60) -> str:
    """Return findings as a plain-text table for a terminal (long cells shortened).

    Examples
    --------
    >>> one = {"severity": "error", "layer": "schools", "problem": "empty id",
    ...        "fix": "give every row an id"}
    >>> print(findings_text(findings_frame([one])))
    severity file   layer column rows  problem                  fix
       error      schools             empty id give every row an id
    """
    if findings.empty:
        return "no problems found"
    short = findings.apply(
        lambda col: col.map(lambda v: v if len(v) <= width else v[: width - 1] + "…")
    )
    return str(short.to_string(index=False))
