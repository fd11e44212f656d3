"""Typed profile values, their sources, and the norms derived from them.

A :class:`Profile` is a tree of frozen dataclasses, one per table of the profile TOML, plus
the :class:`Source` of every value. Build one with :func:`layout.standards.load_profile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ValidationError
from ..schema import CHILD_LEVELS, GRADES, LEVEL_GRADES, LEVELS, SETTINGS

DEFAULT_PROFILE = "anshan-2020"
"""The profile used when none is named: the Anshan 2020 implementation plan."""


MODES: tuple[str, ...] = ("walk", "bus")
"""How pupils travel: on foot, or by school bus (with a walk to and from the road)."""

_SHARE = {"share": True}
"""Field metadata: a share between 0 and 1."""
_LEVELS = {"choices": LEVELS}
_SETTINGS = {"choices": SETTINGS}
_MODE = {"choices": MODES}
_UNREAD = {"unread": True}
"""Field metadata: no analysis reads the value yet, so a study may not override it."""


@dataclass(frozen=True)
class Source:
    """Where a profile value comes from.

    Parameters
    ----------
    text
        The clause of the Anshan plan or the national standard, or what the value rests on.
    assumption
        True when no policy or standard fixes the value; ``note`` then says why it was chosen.
    note
        Free text: caveats, how a value was derived, what to replace it with.
    overridden
        True when a study override replaced the profile's value.
    """

    text: str
    assumption: bool = False
    note: str = ""
    overridden: bool = False


@dataclass(frozen=True)
class ClassSize:
    """Class-size caps (班额)."""

    primary_cap: int
    junior_cap: int
    large_class_min: int
    very_large_class_min: int


@dataclass(frozen=True)
class Funding:
    """Public per-student funding (生均公用经费), yuan per student per year."""

    primary_per_student: float
    junior_per_student: float
    boarder_supplement: float
    floor_students: int
    head_teacher_allowance_monthly: float = field()


@dataclass(frozen=True)
class SmallSchool:
    """Which schools are rural small-scale schools (乡村小规模学校)."""

    students_below: int
    levels: tuple[str, ...] = field(metadata=_LEVELS)
    settings: tuple[str, ...] = field(metadata=_SETTINGS)


@dataclass(frozen=True)
class Staffing:
    """Staffing norms (教职工编制)."""

    primary_students_per_staff: float
    junior_students_per_staff: float
    small_school_teachers_per_class: float
    boarders_per_boarding_staff: float = field()


@dataclass(frozen=True)
class Rotation:
    """Teacher exchange between schools (交流轮岗)."""

    min_share_of_due: float = field(metadata=_SHARE)
    backbone_min_share: float = field(metadata=_SHARE)
    due_years_at_school: int = field()


@dataclass(frozen=True)
class Service:
    """Service radius and travel-time norms, with the speeds used to turn distance into time."""

    urban_primary_radius_m: float
    urban_junior_radius_m: float
    rural_lower_primary_minutes: float
    rural_upper_primary_minutes: float
    rural_junior_minutes: float
    urban_primary_mode: str = field(metadata=_MODE)
    urban_junior_mode: str = field(metadata=_MODE)
    rural_primary_mode: str = field(metadata=_MODE)
    rural_junior_mode: str = field(metadata=_MODE)
    walking_speed_kmh: float = field()
    bus_speed_kmh: float = field()
    circuity: float = field()
    max_trip_minutes: float = field()
    cross_county_enrolment: bool = field()


@dataclass(frozen=True)
class AreaNorm:
    """A standard school type: its sizes in classes and its area per student at each size."""

    classes: tuple[int, ...]
    building_m2_per_student: tuple[float, ...]
    land_m2_per_student: tuple[float, ...]


@dataclass(frozen=True)
class SchoolSizes:
    """Standard school sizes and areas by setting and level."""

    urban_primary: AreaNorm
    urban_junior: AreaNorm
    urban_nine_year: AreaNorm
    rural_primary: AreaNorm
    rural_junior: AreaNorm
    rural_teaching_point: AreaNorm


@dataclass(frozen=True)
class ResourceNorms:
    """The seven resource standards of one level and its difference-coefficient limits.

    Field names are the resource columns of the schools layer
    (:data:`layout.schema.RESOURCE_COLUMNS`); teacher counts and multimedia rooms are per
    100 students, areas and equipment value per student.
    """

    teachers_above_standard: float
    backbone_teachers: float
    pe_art_teachers: float
    teaching_area_m2: float
    sports_area_m2: float
    equipment_value_yuan: float
    multimedia_rooms: float
    cv_limit: float
    basic_cv_limit: float = field(metadata=_UNREAD)


@dataclass(frozen=True)
class Balance:
    """The quality-balanced (优质均衡) resource assessment."""

    primary: ResourceNorms
    junior: ResourceNorms
    min_indicators_met: int
    other_min_ratio: float
    required_school_share: float = field(metadata=_SHARE)
    county_pass_target_share: float = field(metadata=_SHARE)
    exclude_teaching_points_below: int = field()


@dataclass(frozen=True)
class Attendance:
    """Attendance targets."""

    consolidation_rate_target: float = field(metadata=_SHARE)


@dataclass(frozen=True)
class Siting:
    """Suitability of a candidate site: the weights of its parts and the reuse bonus.

    Each part is ``1 / (1 + d / distance_scale_m)`` of a distance ``d`` (to a road, to the
    township seat, to an open school); the score is the weighted mean of the parts plus
    ``reuse_bonus`` on the campus of a closing school.
    """

    road_weight: float
    seat_weight: float
    services_weight: float
    distance_scale_m: float
    reuse_bonus: float


@dataclass(frozen=True)
class Land:
    """Thresholds of the land checks."""

    parcel_min_fill: float


@dataclass(frozen=True)
class Yields:
    """Default children per household of a new development (千人指标 x household size)."""

    primary_places_per_1000: float
    junior_places_per_1000: float
    persons_per_household: float
    occupancy_ramp: tuple[float, ...] = field(metadata=_SHARE)


@dataclass(frozen=True)
class Support:
    """Support for pupils: rural canteens and resource classrooms for pupils with disabilities."""

    rural_canteen_share_target: float = field(metadata=_SHARE)
    resource_classroom_min_pupils: int = field()


@dataclass(frozen=True)
class Pairing:
    """Urban quality schools helping rural schools (城市优质学校帮扶乡村学校)."""

    rural_schools_per_urban_school: int


@dataclass(frozen=True)
class Enrolment:
    """Enrolment-age rule: grade 1 at ``entry_age``, so grade = age - entry_age + 1."""

    entry_age: int


@dataclass(frozen=True)
class Costs:
    """Costs of a phased plan (:mod:`layout.phases`): building, staff, buses, travel time.

    Building costs are yuan per m2 of floor area; ``reuse_share`` is the share of that a
    renovated idle campus costs; yearly costs are yuan per post, per bus seat and per hour
    of a child's travel; ``discount_rate`` discounts later years; a school year has
    ``school_weeks_per_year`` weeks of ``school_days_per_week`` days.
    """

    primary_building_yuan_per_m2: float
    junior_building_yuan_per_m2: float
    teaching_point_building_yuan_per_m2: float
    reuse_share: float = field(metadata=_SHARE)
    teacher_yuan_per_year: float = field()
    bus_seat_yuan_per_year: float = field()
    travel_yuan_per_hour: float = field()
    discount_rate: float = field(metadata=_SHARE)
    school_weeks_per_year: int = field()
    school_days_per_week: int = field()


@dataclass(frozen=True)
class Checks:
    """Limits of plausible input: beyond them a value is named in a warning, or refused.

    Judgement calls, not policy: every value is an assumption of the profile.
    """

    plan_years_max: int
    capacity_share_min: float = field(metadata=_SHARE)
    teachers_difference_share: float = field(metadata=_SHARE)
    boarders_per_bed_max: float = field()
    students_per_class_max: int = field()
    students_per_school_max: int = field()
    roads_connected_share_min: float = field(metadata=_SHARE)


@dataclass(frozen=True)
class Profile:
    """A standards profile: typed values plus the source of each.

    Use :func:`load_profile` to build one. Values are read by attribute
    (``profile.funding.boarder_supplement``) or by dotted key
    (``profile["funding.boarder_supplement"]``).
    """

    name: str
    title: str
    class_size: ClassSize
    funding: Funding
    small_school: SmallSchool
    staffing: Staffing
    rotation: Rotation
    service: Service
    school_size: SchoolSizes
    balance: Balance
    siting: Siting
    land: Land
    yields: Yields
    support: Support
    pairing: Pairing
    attendance: Attendance
    enrolment: Enrolment
    costs: Costs
    checks: Checks
    sources: Mapping[str, Source] = field(repr=False, compare=False)

    def cap(self, level: str) -> int:
        """Return the class-size cap of a level of children (``primary`` or ``junior``).

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> load_profile().cap("junior")
        50
        """
        _check_child_level(level)
        return self.class_size.primary_cap if level == "primary" else self.class_size.junior_cap

    @property
    def large_class_min(self) -> int:
        """Pupils from which a class is a large class (大班额, 56 or more nationally)."""
        return self.class_size.large_class_min

    @property
    def very_large_class_min(self) -> int:
        """Pupils from which a class is a very large class (超大班额, 66 or more nationally)."""
        return self.class_size.very_large_class_min

    def mode(self, level: str, setting: str) -> str:
        """Return how pupils of ``level`` in ``setting`` travel: ``"walk"`` or ``"bus"``.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> profile = load_profile()
        >>> profile.mode("primary", "rural"), profile.mode("junior", "rural")
        ('walk', 'bus')
        """
        _check_child_level(level)
        _check_setting(setting)
        mode: str = getattr(self.service, f"{setting}_{level}_mode")
        return mode

    def speed_kmh(self, mode: str) -> float:
        """Return the speed of a travel mode in km/h (walking, or the school bus's top speed)."""
        if mode not in MODES:
            raise ValidationError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
        service = self.service
        return service.walking_speed_kmh if mode == "walk" else service.bus_speed_kmh

    def minutes(self, level: str, *, setting: str, grades: tuple[int, ...] | None = None) -> float:
        """Return the travel-time norm of pupils of ``level`` in ``setting``, in minutes.

        Rural pupils have time norms: grades 1-3 ``rural_lower_primary_minutes``, grades 4-6
        ``rural_upper_primary_minutes``, grades 7-9 ``rural_junior_minutes``; ``grades``
        ``None`` takes the norm of the level's youngest pupils (the strictest). An urban norm
        is a service radius; its time is the radius times ``circuity`` at the urban mode's
        speed.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> profile = load_profile()
        >>> profile.minutes("primary", setting="rural"), profile.minutes(
        ...     "primary", setting="rural", grades=(4, 5, 6))
        (30.0, 45.0)
        >>> round(profile.minutes("primary", setting="urban"), 2)  # 500 m x 1.3 at 3.6 km/h
        10.83
        """
        _check_child_level(level)
        _check_setting(setting)
        service = self.service
        if setting == "urban":
            metres = self.radius(level, "urban") * service.circuity
            return metres / (self.speed_kmh(self.mode(level, setting)) * 1000 / 60)
        chosen = LEVEL_GRADES[level] if grades is None else tuple(grades)
        if not chosen or not set(chosen) <= set(LEVEL_GRADES[level]):
            raise ValidationError(
                f"grades must be grades of {level} ({LEVEL_GRADES[level]}); got {grades!r}"
            )
        if level == "junior":
            return service.rural_junior_minutes
        if min(chosen) <= _LOWER_PRIMARY[-1]:
            return service.rural_lower_primary_minutes
        return service.rural_upper_primary_minutes

    def radius(self, level: str, setting: str) -> float:
        """Return the service radius of ``level`` in ``setting``, in metres of travel.

        Urban: the profile's radius. Rural: the distance the level's mode covers in the time
        norm of its youngest pupils (:meth:`minutes`).

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> profile = load_profile()
        >>> profile.radius("primary", "urban"), profile.radius("junior", "rural")
        (500.0, 30000.0)
        """
        _check_child_level(level)
        _check_setting(setting)
        if setting == "urban":
            radius: float = getattr(self.service, f"urban_{level}_radius_m")
            return radius
        speed = self.speed_kmh(self.mode(level, setting))
        return self.minutes(level, setting=setting) * speed * 1000 / 60

    @property
    def halo_m(self) -> float:
        """The largest travel distance of any norm, in metres (the halo of a county).

        A child farther than this from a school is beyond every norm of the profile, so the
        schools of neighbouring counties within this distance of a county are all that an
        assignment across the border could use: the larger of the urban radii and the
        distance each rural norm's mode covers in its time. For ``anshan-2020``: 60 minutes
        by school bus at 30 km/h, 30 km.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> load_profile().halo_m
        30000.0
        """
        rural = [
            self.minutes(level, setting="rural", grades=grades)
            * self.speed_kmh(self.mode(level, "rural"))
            * 1000
            / 60
            for level in CHILD_LEVELS
            for grades in (_LOWER_PRIMARY, _UPPER_PRIMARY, LEVEL_GRADES["junior"])
            if set(grades) <= set(LEVEL_GRADES[level])
        ]
        return float(max(self.radius("primary", "urban"), self.radius("junior", "urban"), *rural))

    def __getitem__(self, key: str) -> Any:
        """Return the value at a dotted key such as ``"class_size.primary_cap"``."""
        self._known(key)
        node: Any = self
        for part in key.split("."):
            node = getattr(node, part)
        return node

    def source(self, key: str) -> Source:
        """Return the :class:`Source` of the value at a dotted key."""
        self._known(key)
        return self.sources[key]

    def keys(self) -> list[str]:
        """Return every dotted key of the profile, in file order."""
        return list(self.sources)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per value: ``key``, ``value``, ``source``, ``assumption``, ``note``.

        Lists are shown joined by ``/``; the table is meant for a report sheet.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> load_profile().to_frame().set_index("key").loc["class_size.junior_cap", "value"]
        '50'
        """
        rows = []
        for key, src in self.sources.items():
            value = self[key]
            shown = "/".join(map(str, value)) if isinstance(value, tuple) else str(value)
            rows.append(
                {
                    "key": key,
                    "value": shown,
                    "source": src.text,
                    "assumption": src.assumption,
                    "note": src.note,
                }
            )
        return pd.DataFrame(rows, columns=["key", "value", "source", "assumption", "note"])

    def _known(self, key: str) -> None:
        if key not in self.sources:
            raise ValidationError(
                f"profile key {key!r} is not known; known keys: {', '.join(self.sources)}"
            )


_LOWER_PRIMARY = GRADES[:3]
_UPPER_PRIMARY = GRADES[3:6]


def _check_child_level(level: str) -> None:
    if level not in CHILD_LEVELS:
        raise ValidationError(f"level must be one of {', '.join(CHILD_LEVELS)}; got {level!r}")


def _check_setting(setting: str) -> None:
    if setting not in SETTINGS:
        raise ValidationError(f"setting must be one of {', '.join(SETTINGS)}; got {setting!r}")
