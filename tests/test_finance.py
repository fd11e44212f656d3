"""Education spending per pupil year on year, from a study's [finance] table."""

from __future__ import annotations

from pathlib import Path

import pytest

from layout.errors import ValidationError
from layout.finance import finance_frame, spending_per_pupil
from layout.indicators import indicator_tables
from layout.report.rules import rule_findings
from layout.study import study_from_toml
from tests.tinystudy import TOML, write_tiny_study

FINANCE = """
[finance.210302]
spending = { 2022 = 30000000, 2023 = 31000000, 2024 = 31500000 }
pupils = { 2022 = 300, 2023 = 310, 2024 = 300 }

[finance.210303]
spending = { 2023 = 2000000, 2024 = 1900000 }
pupils = { 2023 = 20, 2024 = 19 }
"""


def test_spending_per_pupil_worked_by_hand(tmp_path: Path) -> None:
    study = study_from_toml(write_tiny_study(tmp_path / "study", toml=TOML + FINANCE))
    money = finance_frame(study.config["finance"], where="study.toml", school_year=2024)
    table = spending_per_pupil(money).set_index(["county_code", "year"])
    # 210302: 100,000 yuan a pupil in 2022 and 2023 (31e6 / 310), 105,000 in 2024: neither
    # spending nor spending per pupil falls.
    assert table.loc["210302", "per_pupil"].tolist() == pytest.approx([100_000, 100_000, 105_000])
    assert table.loc["210302", "per_pupil_not_falling"].all()
    # 210303: spending falls by 100,000 in 2024; per pupil it stays 100,000 (1.9e6 / 19).
    assert table.loc[("210303", 2024), "spending_change"] == -100_000
    assert not table.loc[("210303", 2024), "spending_not_falling"]
    assert table.loc[("210303", 2024), "per_pupil_not_falling"]
    tables = indicator_tables(study["schools"], study.standards) | {
        "spending_per_pupil": spending_per_pupil(money)
    }
    lines = rule_findings(tables, study.standards, lang="en")
    assert "Education spending not falling year on year: county 210303 spending fell in 2024." in (
        lines
    )


def test_bad_finance_table_is_refused_naming_county_and_year(tmp_path: Path) -> None:
    bad = """
[finance.210302]
spending = { 2023 = 3000000, 2026 = 3100000 }
pupils = { 2023 = -5 }
"""
    with pytest.raises(ValidationError) as info:
        study_from_toml(write_tiny_study(tmp_path / "study", toml=TOML + bad))
    assert info.value.problems == [
        "study.toml: [finance.210302] year 2026 is after the school year 2024; give years of "
        "past spending only",
        "study.toml: [finance.210302] pupils year 2023: expected a positive number, got -5",
        "study.toml: [finance.210302] year 2023 needs both spending and pupils",
    ]


def test_plan_reports_spending_and_consolidation(tmp_path: Path) -> None:
    """Both optional tables reach the plan's tables and its index findings."""
    from layout.runs.outputs import findings as plan_findings
    from layout.runs.plan import analyse

    history = "\n[enrolment_history.210302]\n2016 = [100, 0, 0, 0, 0, 0, 0, 0, 0]\n"

    def grade_9(frame):
        return frame.assign(
            enrolment_g9=[0, 98, 0], classes_g9=[0, 2, 0]
        )  # S2 (junior): 98 pupils in grade 9

    toml = write_tiny_study(
        tmp_path / "study", toml=TOML + FINANCE + history, edit={"schools": grade_9}
    )
    result = analyse(study_from_toml(toml))
    # 210302: 98 in grade 9 in 2024 of 100 in grade 1 in 2016: 98 %, above 97.2 %.
    rates = result.tables["consolidation"].set_index("county_code")
    assert rates.loc["210302", ["method", "rate"]].tolist() == ["cohort", pytest.approx(0.98)]
    assert "spending_per_pupil" in result.tables
    lines = plan_findings(result, lang="en")
    assert "Consolidation rate (target 97.2%): county 210302 98.0%." in lines
    assert not any(line.startswith("Rules not checked") and "finance" in line for line in lines)
