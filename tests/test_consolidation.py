"""The consolidation rate (巩固率) from a study's [enrolment_history], worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layout.errors import ValidationError
from layout.history import history_frame
from layout.indicators import consolidation_rates
from layout.schema import classes_columns, enrolment_columns
from layout.standards import load_profile
from layout.study import study_from_toml
from tests.tinystudy import TOML, write_tiny_study


def _nine_year(county: str, pupils: list[int]) -> dict[str, object]:
    row: dict[str, object] = {"school_id": f"N{county}", "county_code": county}
    row |= {"level": "nine_year", "setting": "rural", "status": "open"}
    row |= dict(zip(enrolment_columns(), pupils, strict=True))
    return row | {c: 1 for c in classes_columns()}


def test_cohort_progression_and_too_little_history() -> None:
    history = history_frame(
        {
            "A": {"2016": [1000, 0, 0, 0, 0, 0, 0, 0, 0]},
            "B": {"2023": [100] * 9},
            "C": {"2020": [100] * 9},
        },
        where="study.toml",
        school_year=2024,
    )
    schools = pd.DataFrame(
        [_nine_year("A", [90] * 8 + [975]), _nine_year("B", [99] * 9), _nine_year("C", [50] * 9)]
    )
    rates = consolidation_rates(history, schools, load_profile(), school_year=2024)
    rates = rates.set_index("county_code")
    # A: grade 1 of 2016 (1000) reaches grade 9 in 2024 (975): 97.5 %, above the 97.2 % target.
    assert rates.loc["A", ["method", "rate", "target_met"]].tolist() == ["cohort", 0.975, True]
    # B: no 2016; each grade keeps 99 of last year's 100: 0.99 ** 8 = 92.27 %, below target.
    assert rates.loc["B", "method"] == "progression"
    assert rates.loc["B", "rate"] == pytest.approx(0.99**8)
    assert not rates.loc["B", "target_met"]
    # C: 2020 only, no pair of consecutive years and no 2016: not computed.
    assert rates.loc["C", "method"] == "too little history" and np.isnan(rates.loc["C", "rate"])


def test_a_stricter_target_is_not_met() -> None:
    history = history_frame({"A": {"2016": [1000] + [0] * 8}}, where="s", school_year=2024)
    schools = pd.DataFrame([_nine_year("A", [90] * 8 + [975])])
    stricter = load_profile(overrides={"attendance": {"consolidation_rate_target": 0.98}})
    assert not consolidation_rates(history, schools, stricter, school_year=2024)["target_met"][0]


def test_bad_history_is_refused_naming_county_and_year(tmp_path: Path) -> None:
    bad = """
[enrolment_history.210302]
2024 = [1, 2, 3, 4, 5, 6, 7, 8, 9]
2020 = [1, 2, 3]
"""
    with pytest.raises(ValidationError) as info:
        study_from_toml(write_tiny_study(tmp_path / "study", toml=TOML + bad))
    assert info.value.problems == [
        "study.toml: [enrolment_history.210302] year 2024: a history year must be a year before "
        "the school year 2024 (the school year's enrolment is the schools layer's)",
        "study.toml: [enrolment_history.210302] year 2020: expected 9 whole numbers of 0 or more "
        "(pupils of grades 1-9), got [1, 2, 3]",
    ]
