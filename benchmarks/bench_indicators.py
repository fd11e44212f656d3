"""Time the indicator tables on a synthetic schools layer.

Usage: ``python benchmarks/bench_indicators.py [n_schools]`` (default 20,000). Prints the
wall time of each step; the layer is random but seeded, with every level and setting.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from layout.indicators import balance, class_size_ledger, funding, indicator_tables, staffing
from layout.schema import LEVEL_GRADES, RESOURCE_COLUMNS, classes_columns, enrolment_columns
from layout.standards import load_profile


def synthetic_schools(n: int, *, seed: int = 0) -> pd.DataFrame:
    """Return ``n`` random operating schools that pass every input check."""
    rng = np.random.default_rng(seed)
    levels = rng.choice(["primary", "junior", "nine_year", "teaching_point"], size=n)
    taught = np.array([[g in LEVEL_GRADES[lv] for g in range(1, 10)] for lv in levels])
    enrol = rng.integers(5, 400, size=(n, 9)) * taught
    classes = np.maximum(np.ceil(enrol / rng.uniform(30, 55, size=(n, 9))), 1) * taught
    frame = pd.DataFrame(enrol, columns=enrolment_columns()).join(
        pd.DataFrame(classes.astype(np.int64), columns=classes_columns())
    )
    pupils = enrol.sum(axis=1)
    frame.insert(0, "school_id", [f"S{i}" for i in range(n)])
    frame["county_code"] = rng.choice([f"2103{i:02d}" for i in range(20)], size=n)
    frame["level"] = levels
    frame["setting"] = rng.choice(["urban", "rural"], size=n)
    frame["status"] = "open"
    frame["boarders"] = (pupils * rng.uniform(0, 0.3, size=n)).astype(np.int64)
    frame["teachers"] = (pupils / rng.uniform(12, 20, size=n)).astype(np.int64)
    per_pupil = [0.05, 0.01, 0.01, 5.0, 9.0, 2500.0, 0.025]
    for col, rate in zip(RESOURCE_COLUMNS, per_pupil, strict=True):
        values = pupils * rate * rng.uniform(0.6, 1.4, size=n)
        integer = col not in ("teaching_area_m2", "sports_area_m2", "equipment_value_yuan")
        frame[col] = values.astype(np.int64) if integer else values
    return frame


def main(n: int) -> None:
    schools = synthetic_schools(n)
    profile = load_profile()
    steps = {
        "class_size_ledger": lambda: class_size_ledger(schools, profile),
        "funding": lambda: funding(schools, profile),
        "staffing": lambda: staffing(schools, profile),
        "balance": lambda: balance(schools, profile),
        "indicator_tables": lambda: indicator_tables(schools, profile),
    }
    for name, step in steps.items():
        start = time.perf_counter()
        step()
        print(f"{name:18s} {n:>7d} schools  {time.perf_counter() - start:7.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
