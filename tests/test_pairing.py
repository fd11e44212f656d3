"""Pairing rural schools with urban quality schools: an assignment worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from layout.indicators import indicator_tables, pairing_summary, school_pairs
from layout.standards import load_profile
from layout.study import study_from_toml
from tests.tinystudy import write_tiny_study


def test_the_tiny_study_pairs_its_rural_teaching_point(tmp_path: Path) -> None:
    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    pairs = indicator_tables(study["schools"], study.standards)["school_pairs"]
    # S3 (rural teaching point, grades 1-2, at x 15 km, y 5 km) takes S1 (urban primary at
    # 4 km, 4 km; S2 is a junior school, no grade in common): hypot(11, 1) = 11.045 km. The
    # study has no resource columns, so every urban school counts as a quality school.
    assert pairs[["school_id", "urban_school_id"]].values.tolist() == [["S3", "S1"]]
    assert pairs.loc[0, "distance_km"] == pytest.approx(math.hypot(11, 1), rel=1e-4)
    assert pairs.loc[0, "quality_rule"] == "every urban school"


def _schools(rows: list[tuple[str, str, str, float]]) -> tuple[pd.DataFrame, list[list[float]]]:
    frame = pd.DataFrame(
        {
            "school_id": [r[0] for r in rows],
            "name": "",
            "county_code": "1",
            "setting": [r[1] for r in rows],
            "level": [r[2] for r in rows],
        }
    )
    return frame, [[r[3] * 1000, 0.0] for r in rows]


def test_capacity_quality_and_grades_limit_the_pairs() -> None:
    frame, xy = _schools(
        [
            ("U1", "urban", "primary", 0.0),
            ("U2", "urban", "primary", 5.0),  # not a quality school
            ("J1", "urban", "junior", 2.5),
            ("R1", "rural", "primary", 1.0),
            ("R2", "rural", "teaching_point", 2.0),
            ("R3", "rural", "primary", 5.0),
            ("R4", "rural", "junior", 6.0),
        ]
    )
    two = load_profile(overrides={"pairing": {"rural_schools_per_urban_school": 2}})
    quality = [True, False, True, False, False, False, False]
    pairs = school_pairs(frame, two, xy=xy, quality=quality).set_index("school_id")
    # U1 helps two primary schools: R1 (1 km) and R2 (2 km) cost 3 km, less than any pair
    # with R3 (5 km). U2 is no quality school, J1 teaches none of R3's grades: R3 is left.
    # R4 (junior) takes J1, 3.5 km away.
    assert pairs["urban_school_id"].to_dict() == {"R1": "U1", "R2": "U1", "R3": "", "R4": "J1"}
    assert pairs.loc["R4", "distance_km"] == pytest.approx(3.5)
    summary = pairing_summary(pairs).iloc[0]
    assert (summary["paired"], summary["rural_schools"], summary["target_met"]) == (3, 4, False)
    # Three rural schools per urban school: U1 takes R3 too (R1 + R2 + R3 = 8 km).
    three = load_profile(overrides={"pairing": {"rural_schools_per_urban_school": 3}})
    pairs = school_pairs(frame, three, xy=xy, quality=quality).set_index("school_id")
    assert pairs.loc["R3", "urban_school_id"] == "U1" and pairs["paired"].all()
