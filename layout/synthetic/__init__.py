"""Deterministic synthetic studies for demonstrations, tests and benchmarks.

:func:`synthetic_study` builds every layer of a study from county boundaries and resident
totals (see :mod:`layout.synthetic.sample`). The other modules are its building blocks; each
works on one county at a time with numpy arrays (one element per cell, village, school ...),
none of it looping in Python over cells or children. The data are synthetic: never present
them as real school data.
"""

from __future__ import annotations

from .sample import (
    ANSHAN_COHORTS_PER_1000,
    ENROLMENT_RATE,
    YIELDS,
    Calibration,
    provenance,
    synthetic_study,
)

__all__ = [
    "ANSHAN_COHORTS_PER_1000",
    "Calibration",
    "ENROLMENT_RATE",
    "provenance",
    "synthetic_study",
    "YIELDS",
]
