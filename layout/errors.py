"""Exceptions and warnings that users of :mod:`layout` may catch.

Examples
--------
>>> from layout.errors import ValidationError
>>> issubclass(ValidationError, ValueError)
True
"""

from __future__ import annotations


class LayoutError(Exception):
    """Base class of every error raised on purpose by :mod:`layout`."""


class ValidationError(LayoutError, ValueError):
    """Input data or options are wrong; the message names where and how to fix it.

    Parameters
    ----------
    problems
        One line per problem found. All problems of a layer are collected before raising.
    """

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class StudyError(LayoutError):
    """The study TOML itself is wrong (missing key, unknown layer, bad path)."""


class DataWarning(UserWarning):
    """A row was skipped or a value was repaired; the message names the rows."""


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
