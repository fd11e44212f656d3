"""Closing or merging schools (撤并): the impact statement's analysis and the screening.

:func:`close_schools` assigns a county's children before and without the closed schools and
measures the change; :func:`screen_closures` closes each small school of a county in turn.
Both return figures and verdicts; their words are :mod:`layout.report.closure_words`, and
writing the statement and its files is :mod:`layout.runs.closure`.
"""

from __future__ import annotations

from .. import _moved
from ._levels import ClosureOptions
from .impact import HARM_MIN, HARMS, VERDICTS, ClosureImpact, close_schools
from .screening import screen_closures

__all__ = [
    "HARM_MIN",
    "HARMS",
    "close_schools",
    "ClosureImpact",
    "ClosureOptions",
    "screen_closures",
    "VERDICTS",
]


def __getattr__(name: str) -> object:
    """Serve the names that moved out of this package (see :mod:`layout._moved`)."""
    return _moved.moved_name(__name__, name)
