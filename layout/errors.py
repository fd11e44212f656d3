"""Exceptions and warnings that users of :mod:`layout` may catch.

Examples
--------
>>> from layout.errors import ValidationError
>>> issubclass(ValidationError, ValueError)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FINDING_COLUMNS: tuple[str, ...] = ("severity", "file", "layer", "column", "rows", "problem", "fix")
"""Columns of a finding (one problem of a study): ``severity`` is ``"error"`` or ``"warning"``,
``rows`` the row ids, comma-separated; the others name where the problem is and how to fix it.
:func:`layout.check.check_study` returns findings as a frame with exactly these columns."""


def finding_from_text(text: str, *, severity: str = "error") -> dict[str, str]:
    """Return a finding of a problem known only by its message (split at ``"Fix:"``).

    Examples
    --------
    >>> finding_from_text("a.toml: no [study] table. Fix: add one.")["fix"]
    'add one.'
    """
    problem, _, fix = text.partition(" Fix: ")
    return {
        "severity": severity,
        "file": "",
        "layer": "",
        "column": "",
        "rows": "",
        "problem": problem.strip(),
        "fix": fix.strip(),
    }


class LayoutError(Exception):
    """Base class of every error raised on purpose by :mod:`layout`."""


class ValidationError(LayoutError, ValueError):
    """Input data or options are wrong; the message names where and how to fix it.

    Parameters
    ----------
    problems
        One line per problem found. All problems of a layer are collected before raising.
    findings
        The same problems as findings (:data:`FINDING_COLUMNS`), when the raiser knows their
        file, layer, column and rows; otherwise made from the problem lines.
    """

    def __init__(
        self, problems: list[str] | str, *, findings: Sequence[Mapping[str, str]] | None = None
    ) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.findings = (
            [dict(f) for f in findings]
            if findings is not None
            else [finding_from_text(p) for p in self.problems]
        )
        super().__init__("\n".join(self.problems))


class StudyError(LayoutError):
    """The study TOML itself is wrong (missing key, unknown layer, bad path)."""


class DataWarning(UserWarning):
    """A row was skipped or a value was repaired; the message names the rows.

    Parameters
    ----------
    message
        What happened, where, and the fix.
    finding
        The same as a finding (:data:`FINDING_COLUMNS`, severity ``"warning"``), if known.
    """

    def __init__(self, message: str, *, finding: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.finding = (
            dict(finding) if finding is not None else finding_from_text(message, severity="warning")
        )


class SolverError(LayoutError):
    """An optimisation solver failed, or its answer broke a check (e.g. children not conserved)."""


class CountyRunError(LayoutError):
    """Counties of a county-by-county run failed or have no result to merge.

    Parameters
    ----------
    counties
        County code to the reason it failed.

    Examples
    --------
    >>> str(CountyRunError({"210303": "its process died"}))
    'county 210303 failed: its process died'
    """

    def __init__(self, counties: dict[str, str]) -> None:
        self.counties = dict(sorted(counties.items()))
        super().__init__("\n".join(f"county {c} failed: {r}" for c, r in self.counties.items()))
