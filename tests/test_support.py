"""The support rules on the tiny study: canteens, resource classrooms, left-behind children.

The tiny study's schools (tests/tinystudy.py): S1 urban primary (113 + 90 = 203 pupils), S2
urban junior (100), S3 rural teaching point (7 + 5 = 12); none has boarding beds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layout.errors import ValidationError
from layout.indicators import indicator_tables, unchecked_support_rules
from layout.report.rules import rule_findings
from layout.study import study_from_toml
from tests.tinystudy import write_tiny_study

SUPPORT = {
    "canteen": [1, None, 0],
    "disabled_pupils": [6, 2, 0],
    "resource_classroom": [0, 1, 0],
    "migrant_pupils": [10, 3, 0],
    "left_behind_pupils": [0, 1, 4],
}


def _with(values: dict[str, list[object]]):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**values)

    return edit


def _tables(tmp_path: Path, values: dict[str, list[object]]) -> dict[str, pd.DataFrame]:
    study = study_from_toml(write_tiny_study(tmp_path / "study", edit={"schools": _with(values)}))
    return indicator_tables(study["schools"], study.standards)


def test_canteens_of_rural_schools_by_hand(tmp_path: Path) -> None:
    table = _tables(tmp_path, SUPPORT)["canteens_by_county"].set_index("county_code")
    # Only S3 is rural (county 210303) and has no canteen: 0 of 1, short of every school.
    # The urban county 210302 has no rural school, so no row.
    assert table.index.tolist() == ["210303"]
    row = table.loc["210303"]
    assert row[["rural_schools", "schools_reported", "schools_with_canteen"]].tolist() == [1, 1, 0]
    assert row["share_with_canteen"] == 0.0
    assert row["schools_without_canteen"] == "S3"
    assert not row["target_met"]


def test_resource_classrooms_by_hand(tmp_path: Path) -> None:
    table = _tables(tmp_path, SUPPORT)["resource_classrooms"].set_index("school_id")
    # S1 enrols 6 pupils with disabilities (5 or more: 教基二厅〔2016〕1号) and has no
    # resource classroom: it lacks one. S2 enrols 2 and has one: listed, lacks nothing. S3
    # neither needs nor has one.
    assert table.index.tolist() == ["S1", "S2"]
    assert table["needs_resource_classroom"].tolist() == [True, False]
    assert table["lacks_resource_classroom"].tolist() == [True, False]


def test_a_study_sets_the_resource_classroom_threshold(tmp_path: Path) -> None:
    path = write_tiny_study(tmp_path / "study", edit={"schools": _with(SUPPORT)})
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n[standards.support]\nresource_classroom_min_pupils = 7\n")
    study = study_from_toml(path)
    table = indicator_tables(study["schools"], study.standards)["resource_classrooms"]
    # With 7 pupils needed, S1's 6 need none: only S2 (which has one) is listed.
    assert table["school_id"].tolist() == ["S2"]
    assert not table["lacks_resource_classroom"].any()


def test_migrant_and_left_behind_by_hand(tmp_path: Path) -> None:
    table = _tables(tmp_path, SUPPORT)["left_behind_by_county"].set_index("county_code")
    # 210302: S1 203 + S2 100 = 303 pupils, 10 + 3 = 13 migrant, 1 left behind (S2, no beds).
    urban = table.loc["210302"]
    assert urban[["pupils", "migrant_pupils", "left_behind_pupils"]].tolist() == [303, 13, 1]
    assert urban[["left_behind_bedded", "left_behind_beyond_beds"]].tolist() == [0, 1]
    # 210303: S3's 4 left-behind of 12 pupils; no beds, so all 4 are beyond the beds.
    rural = table.loc["210303"]
    assert rural["share_left_behind"] == pytest.approx(4 / 12)
    assert rural["left_behind_beyond_beds"] == 4


def test_bad_support_values_are_refused_naming_rows(tmp_path: Path) -> None:
    bad = dict(SUPPORT, canteen=[1, 2, 0], left_behind_pupils=[0, 1, 20])
    with pytest.raises(ValidationError) as info:
        study_from_toml(write_tiny_study(tmp_path / "study", edit={"schools": _with(bad)}))
    message = str(info.value)
    assert "column 'canteen': value above 1 in a yes/no column in school_id S2 (1 row)" in message
    # S3 enrols 12 pupils: 20 left-behind children cannot be its pupils.
    assert (
        "column 'left_behind_pupils': more pupils than the school enrols (enrolment_g1-g9) "
        "in school_id S3 (1 row)"
    ) in message


def test_index_findings_of_the_rules(tmp_path: Path) -> None:
    study = study_from_toml(write_tiny_study(tmp_path / "study", edit={"schools": _with(SUPPORT)}))
    tables = indicator_tables(study["schools"], study.standards)
    lines = rule_findings(tables, study.standards, lang="en")
    # Classes: S1 2 + 2, S2 2, S3 1 + 1 = 8; 8 x 300 x 12 = 28,800 yuan a year.
    assert lines == [
        "Head-teacher allowance (at least 300 yuan a class a month): 8 classes, at least "
        "28,800 yuan a year.",
        "Urban quality schools helping rural schools: 1 of 1 rural schools paired (at most 3 "
        "per urban school); full coverage met.",
        "Rural canteens: 1 rural schools serve no meals (0% have a canteen).",
        "Resource classrooms: 1 schools enrol 5 or more pupils with disabilities and have none.",
        # The tiny study has no resource columns and no [finance] table: not checked.
        "Rules not checked for lack of data: quality-balance resources (7 columns), teacher "
        "dormitories (townships column teacher_dormitory), consolidation rate (the study's "
        "[enrolment_history] table), spending year on year (the study's [finance] table).",
    ]


def test_a_study_without_the_columns_runs_and_names_the_rules_unchecked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study = study_from_toml(write_tiny_study(tmp_path / "study"))
    with caplog.at_level("WARNING", logger="layout.indicators.tables"):
        tables = indicator_tables(study["schools"], study.standards)
    assert "schools lack canteen: the rule canteens (鞍山2020方案 二.(二).2) is not checked" in (
        caplog.text
    )
    line = rule_findings(tables, study.standards, lang="zh")[-1]
    assert line.startswith(
        "缺少数据、未能核查的规则：优质均衡资源配置（学校资源7项列）；农村学校食堂"
    )
    assert not {"canteens_by_county", "resource_classrooms", "left_behind_by_county"} & set(tables)
    missing = [rule.key for rule in unchecked_support_rules(study["schools"])]
    assert missing == ["canteens", "resource_classrooms", "left_behind"]
    # Only the canteen column: that rule is checked, the other two not.
    partial = _with({"canteen": [np.nan, np.nan, 1]})(study["schools"])
    assert [r.key for r in unchecked_support_rules(partial)] == [
        "resource_classrooms",
        "left_behind",
    ]


def test_township_dormitories_by_hand(tmp_path: Path) -> None:
    def dormitory(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(teacher_dormitory=[1, 0])  # 210302001 has one, 210303101 none

    study = study_from_toml(write_tiny_study(tmp_path / "study", edit={"townships": dormitory}))
    tables = indicator_tables(study["schools"], study.standards, townships=study["townships"])
    table = tables["township_dormitories"]
    # Only township 210303101 has a rural school (S3, 10 teachers), and no dormitory.
    assert table[["township_code", "rural_teachers", "lacks_dormitory"]].values.tolist() == [
        ["210303101", 10, True]
    ]
    lines = rule_findings(tables, study.standards, lang="en")
    assert "Teacher dormitories: 1 townships with rural schools have none." in lines


def test_a_dormitory_flag_above_1_is_refused(tmp_path: Path) -> None:
    def two(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(teacher_dormitory=[2, 0])

    with pytest.raises(
        ValidationError,
        match=r"column 'teacher_dormitory': value above 1 in a "
        r"yes/no column in township_code 210302001 \(1 row\)",
    ):
        study_from_toml(write_tiny_study(tmp_path / "study", edit={"townships": two}))
