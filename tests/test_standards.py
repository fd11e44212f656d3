"""Tests of the standards profile loader and the bundled anshan-2020 profile."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from layout.errors import ValidationError
from layout.standards import Profile, available_profiles, load_profile


@pytest.fixture(scope="module")
def profile() -> Profile:
    return load_profile()


def _bundled_text(name: str = "anshan-2020") -> str:
    return (resources.files("layout.standards") / f"{name}.toml").read_text(encoding="utf-8")


def test_bundled_profile_is_package_data() -> None:
    # The wheel ships everything under layout/, so the TOML must live in the package folder.
    assert "anshan-2020" in available_profiles()
    assert tomllib.loads(_bundled_text())["name"] == "anshan-2020"


def test_policy_values(profile: Profile) -> None:
    # Numbers read from the Anshan 2020 plan (shared/policy) and the national documents.
    assert (profile.class_size.primary_cap, profile.class_size.junior_cap) == (45, 50)
    assert profile.class_size.large_class_min == 56
    assert profile.funding.primary_per_student == 850.0
    assert profile.funding.junior_per_student == 1050.0
    assert profile.funding.boarder_supplement == 200.0
    assert profile.funding.floor_students == 100
    assert profile.small_school.levels == ("primary", "teaching_point")
    assert profile.small_school.settings == ("rural",)
    assert profile.staffing.primary_students_per_staff == 19.0
    assert profile.staffing.junior_students_per_staff == 13.5
    assert profile.staffing.small_school_teachers_per_class == 1.5
    assert (profile.rotation.min_share_of_due, profile.rotation.backbone_min_share) == (0.1, 0.2)
    assert profile.rotation.due_years_at_school == 6
    assert profile.service.urban_primary_radius_m == 500.0
    assert profile.service.urban_junior_radius_m == 1000.0
    assert profile.service.rural_lower_primary_minutes == 30.0
    assert profile.attendance.consolidation_rate_target == 0.972
    assert profile.enrolment.entry_age == 6
    assert profile.school_size.rural_primary.classes == (6, 12, 18, 24)
    assert profile.school_size.urban_primary.classes == (12, 18, 24, 30)


def test_resource_standards_of_the_2017_measures(profile: Profile) -> None:
    primary, junior = profile.balance.primary, profile.balance.junior
    assert (primary.teachers_above_standard, junior.teachers_above_standard) == (4.2, 5.3)
    assert (primary.backbone_teachers, junior.backbone_teachers) == (1.0, 1.0)
    assert (primary.pe_art_teachers, junior.pe_art_teachers) == (0.9, 0.9)
    assert (primary.teaching_area_m2, junior.teaching_area_m2) == (4.5, 5.8)
    assert (primary.sports_area_m2, junior.sports_area_m2) == (7.5, 10.2)
    assert (primary.equipment_value_yuan, junior.equipment_value_yuan) == (2000.0, 2500.0)
    assert (primary.multimedia_rooms, junior.multimedia_rooms) == (2.3, 2.4)
    assert (primary.cv_limit, junior.cv_limit) == (0.50, 0.45)
    assert (primary.basic_cv_limit, junior.basic_cv_limit) == (0.65, 0.55)
    assert profile.balance.min_indicators_met == 6
    assert profile.balance.other_min_ratio == 0.85
    assert profile.balance.required_school_share == 1.0


def test_every_value_has_a_source_or_is_a_flagged_assumption(profile: Profile) -> None:
    keys = profile.keys()
    assert len(keys) == len(profile.to_frame())
    for key in keys:
        src = profile.source(key)
        assert (src.text and not src.assumption) or (src.assumption and src.note), key
    # Values not fixed by any consulted document are flagged, the policy's own are not.
    flagged = {k for k in keys if profile.source(k).assumption}
    assert {
        "rotation.due_years_at_school",
        "service.walking_speed_kmh",
        "service.bus_speed_kmh",
        "school_size.urban_nine_year.land_m2_per_student",
    } <= flagged
    assert not flagged & {"funding.primary_per_student", "class_size.primary_cap"}


def test_sources_cite_clauses(profile: Profile) -> None:
    assert "二.(六).1" in profile.source("class_size.large_class_min").text
    assert "二.(二).3" in profile.source("funding.floor_students").text
    assert "二.(三).1" in profile.source("rotation.backbone_min_share").text
    assert "二.(三).2" in profile.source("staffing.small_school_teachers_per_class").text
    assert "GB 50180-2018" in profile.source("service.urban_junior_radius_m").text
    assert "教督〔2017〕6号" in profile.source("balance.junior.multimedia_rooms").text
    assert "建标〔2002〕102号" in profile.source("school_size.urban_primary.classes").text
    assert "建标109-2008" in profile.source("school_size.rural_primary.classes").text


def test_dotted_access_matches_attributes(profile: Profile) -> None:
    assert profile["balance.junior.sports_area_m2"] == profile.balance.junior.sports_area_m2
    with pytest.raises(ValidationError, match="profile key 'balance.nope' is not known"):
        profile["balance.nope"]


def test_nested_and_dotted_overrides_change_values() -> None:
    nested = load_profile(
        overrides={"class_size": {"primary_cap": 40}, "balance": {"junior": {"cv_limit": 0.4}}}
    )
    dotted = load_profile(overrides={"class_size.primary_cap": 40, "balance.junior.cv_limit": 0.4})
    for p in (nested, dotted):
        assert p.class_size.primary_cap == 40
        assert p.balance.junior.cv_limit == 0.4
        assert p.class_size.junior_cap == 50  # untouched
    src = nested.source("class_size.primary_cap")
    assert src.overridden and src.text == "study override"
    assert src.note.startswith("replaces 45 from: 鞍山2020方案")


def test_override_may_cite_its_source_and_int_is_accepted_for_float() -> None:
    p = load_profile(
        overrides={"funding": {"primary_per_student": {"value": 900, "source": "县财政文件"}}}
    )
    assert p.funding.primary_per_student == 900.0
    assert isinstance(p.funding.primary_per_student, float)
    assert p.source("funding.primary_per_student").text == "县财政文件"


def test_override_lists() -> None:
    p = load_profile(overrides={"small_school": {"settings": ["rural", "urban"]}})
    assert p.small_school.settings == ("rural", "urban")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"class_size": {"primary_capp": 40}},
            "profile override 'class_size.primary_capp' is not known; did you mean "
            "'class_size.primary_cap'? known keys in section 'class_size': class_size.junior_cap, "
            "class_size.large_class_min, class_size.primary_cap, class_size.very_large_class_min",
        ),
        (
            {"fundng": {"primary_per_student": 900}},
            "profile override 'fundng.primary_per_student' is not known; did you mean "
            "'funding.primary_per_student'? known keys at the top level: attendance, balance, checks, class_size, costs, enrolment, funding, land, pairing, "
            "rotation, school_size, service, siting, small_school, staffing, support, yields",
        ),
        (
            {"class_size": 40},
            "profile override 'class_size' is a section, not a value; set one of: junior_cap, "
            "large_class_min, primary_cap, very_large_class_min",
        ),
        (
            {"funding": {"primary_per_student": "850"}},
            "profile override 'funding.primary_per_student': expected a number (float), "
            "got str '850'",
        ),
        (
            {"class_size": {"primary_cap": 45.0}},
            "profile override 'class_size.primary_cap': expected an integer (int), got float 45.0",
        ),
        (
            {"class_size": {"primary_cap": True}},
            "profile override 'class_size.primary_cap': expected an integer (int), got bool True",
        ),
        (
            {"school_size": {"urban_primary": {"classes": [12, 18.5]}}},
            "profile override 'school_size.urban_primary.classes': expected a list of integers "
            "(list[int]), got list [12, 18.5]",
        ),
        (
            {"rotation": {"min_share_of_due": 1.5}},
            "profile override 'rotation.min_share_of_due': a share must lie between 0 and 1, "
            "got 1.5",
        ),
        (
            {"funding": {"boarder_supplement": -1}},
            "profile override 'funding.boarder_supplement': must not be negative, got -1.0",
        ),
        (
            {"small_school": {"levels": ["primary", "village"]}},
            "profile override 'small_school.levels': ['village'] not allowed; choose from "
            "primary, junior, nine_year, teaching_point",
        ),
    ],
)
def test_bad_overrides_are_refused_with_the_dotted_key(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        load_profile(overrides=overrides)
    assert str(info.value) == message


def test_all_override_problems_are_listed_together() -> None:
    with pytest.raises(ValidationError) as info:
        load_profile(overrides={"class_size": {"primary_cap": "45", "junior_capp": 50}})
    assert len(info.value.problems) == 2


def test_per_size_lists_must_match_the_sizes() -> None:
    with pytest.raises(
        ValidationError, match="has 4 values but 'school_size.urban_primary.classes' lists 2"
    ):
        load_profile(overrides={"school_size.urban_primary.classes": [12, 18]})


def test_unknown_profile_name() -> None:
    with pytest.raises(
        ValidationError, match="profile 'anshan-2030' is not bundled; choose one of anshan-2020"
    ):
        load_profile("anshan-2030")


def _replace_line(text: str, start: str, new: str) -> str:
    lines = text.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.startswith(start)]
    return "\n".join([*lines[:at], new, *lines[at + 1 :]])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "local.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_profile_from_path(tmp_path: Path) -> None:
    text = _bundled_text().replace('name = "anshan-2020"', 'name = "local"')
    text = text.replace("primary_cap = { value = 45,", "primary_cap = { value = 40,")
    p = load_profile(_write(tmp_path, text))
    assert (p.name, p.class_size.primary_cap) == ("local", 40)


def test_profile_file_without_source_or_with_missing_key_is_refused(tmp_path: Path) -> None:
    # Drop the source of one value, the note of an assumption, and a whole key (of the national
    # profile: the one that holds every key).
    text = _replace_line(_bundled_text("national"), "junior_cap = ", "junior_cap = { value = 50 }")
    text = _replace_line(
        text, "walking_speed_kmh = ", "walking_speed_kmh = { value = 3.6, assumption = true }"
    )
    text = _replace_line(text, "entry_age = ", "")
    path = _write(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        load_profile(path)
    where = str(path)
    assert info.value.problems == [
        f"{where}: key 'class_size.junior_cap' has no source; give source = \"...\" or mark it"
        " assumption = true with a note",
        f"{where}: key 'service.walking_speed_kmh' is an assumption; say why in a note",
        f"{where}: missing values for enrolment.entry_age",
    ]


def test_profile_file_with_unknown_key_or_bad_type(tmp_path: Path) -> None:
    text = _bundled_text() + '\n[extra]\nthing = { value = 1, source = "x" }\n'
    text = text.replace("large_class_min = { value = 56,", 'large_class_min = { value = "56",')
    path = _write(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        load_profile(path)
    assert info.value.problems == [
        f"{path}: key 'class_size.large_class_min': expected an integer (int), got str '56'",
        f"{path}: key 'extra.thing' is not known; known keys at the top level: attendance, "
        "balance, checks, class_size, costs, enrolment, funding, land, pairing, rotation, "
        "school_size, service, siting, small_school, staffing, support, yields",
    ]


def test_profile_table(profile: Profile) -> None:
    table = profile.to_frame().set_index("key")
    assert table.loc["school_size.urban_primary.classes", "value"] == "12/18/24/30"
    assert bool(table.loc["rotation.due_years_at_school", "assumption"]) is True


def test_cross_county_enrolment_is_a_true_or_false_switch() -> None:
    # Anshan keeps children in their county; a study may allow enrolment across county lines.
    assert load_profile().service.cross_county_enrolment is False
    source = load_profile().source("service.cross_county_enrolment")
    assert source.assumption and "免试就近入学" in source.note
    allowed = load_profile(overrides={"service": {"cross_county_enrolment": True}})
    assert allowed.service.cross_county_enrolment is True
    for bad in (1, "yes"):
        with pytest.raises(ValidationError) as info:
            load_profile(overrides={"service": {"cross_county_enrolment": bad}})
        assert "'service.cross_county_enrolment': expected true or false (bool)" in str(info.value)


def test_national_profile_holds_national_standards_only_and_anshan_extends_it(
    tmp_path: Path,
) -> None:
    national = load_profile("national")
    cited = {k: s for k, s in national.sources.items() if not s.assumption}
    assert cited and not [k for k, s in cited.items() if "鞍山" in s.text]
    assert national.source("funding.primary_per_student").assumption  # no national figure
    anshan = load_profile("anshan-2020")
    assert anshan.source("funding.primary_per_student").text.startswith("鞍山2020方案")
    # every value Anshan does not set is the national one, with its national source
    local = {k for k, s in anshan.sources.items() if "鞍山" in s.text}
    assert local and all(
        anshan.sources[k] == national.sources[k] for k in anshan.sources if k not in local
    )
    loop = tmp_path / "loop.toml"
    loop.write_text(f'name = "loop"\ntitle = "t"\nextends = "{loop}"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="extends must name another profile"):
        load_profile(str(loop))
