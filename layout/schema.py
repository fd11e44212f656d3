"""The study's layers: their columns, types, geometries and allowed values.

A study is a set of named layers. Each layer has one :class:`LayerSpec` here; the loader in
:mod:`layout.study` checks every layer against its spec and refuses bad input with a
:class:`~layout.errors.ValidationError` that names the file, layer, column and rows.

Grades are numbered 1-9 (primary 1-6, junior middle 7-9); per-grade columns are named
``enrolment_g1`` ... ``enrolment_g9`` and ``classes_g1`` ... ``classes_g9``. Ages are single
years 0-14 in ``age_0`` ... ``age_14``.

Examples
--------
>>> from layout import schema
>>> schema.LAYERS["schools"].id_column
'school_id'
>>> schema.LEVELS
('primary', 'junior', 'nine_year', 'teaching_point')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

GRADES: tuple[int, ...] = tuple(range(1, 10))
"""Grades of compulsory education: 1-6 primary, 7-9 junior middle."""

AGES: tuple[int, ...] = tuple(range(15))
"""Single years of age held in the population layer (0-14)."""

LEVELS: tuple[str, ...] = ("primary", "junior", "nine_year", "teaching_point")
"""School levels: 小学, 初中, 九年一贯制, 教学点 (a teaching point teaches lower primary grades)."""

LEVEL_GRADES: dict[str, tuple[int, ...]] = {
    "primary": tuple(range(1, 7)),
    "junior": tuple(range(7, 10)),
    "nine_year": GRADES,
    "teaching_point": tuple(range(1, 7)),
}
"""Grades each level may teach; enrolment in any other grade is an error."""

CHILD_LEVELS: tuple[str, ...] = ("primary", "junior")
"""Levels of children (and of places): primary (grades 1-6) and junior middle (7-9)."""

GRADE_LEVELS: tuple[str, ...] = tuple(
    next(level for level in CHILD_LEVELS if grade in LEVEL_GRADES[level]) for grade in GRADES
)
"""Level of children of each grade 1-9."""

SETTINGS: tuple[str, ...] = ("urban", "rural")
SCHOOL_STATUS: tuple[str, ...] = ("open", "planned", "closing")
PARCEL_STATUS: tuple[str, ...] = ("reserved", "approved", "under_construction", "built")
DEVELOPMENT_STATUS: tuple[str, ...] = ("completed", "under_construction", "planned")
PLANNED_LEVELS: tuple[str, ...] = ("primary", "junior", "nine_year")


def enrolment_columns() -> list[str]:
    """Return the per-grade enrolment columns of the schools layer.

    Examples
    --------
    >>> enrolment_columns()[:2]
    ['enrolment_g1', 'enrolment_g2']
    """
    return [f"enrolment_g{g}" for g in GRADES]


def classes_columns() -> list[str]:
    """Return the per-grade class-count columns of the schools layer.

    Examples
    --------
    >>> classes_columns()[-1]
    'classes_g9'
    """
    return [f"classes_g{g}" for g in GRADES]


def age_columns() -> list[str]:
    """Return the single-year age columns of the population layer.

    Examples
    --------
    >>> age_columns()[6]
    'age_6'
    """
    return [f"age_{a}" for a in AGES]


@dataclass(frozen=True)
class LayerSpec:
    """What one study layer must hold.

    Parameters
    ----------
    name
        Layer name used in the study TOML (``[layers.<name>]``).
    geometry
        Allowed geometry types (shapely names), or ``None`` for a plain table.
    id_column
        Column holding a unique, non-empty identifier per row.
    text
        Required text columns.
    counts
        Required non-negative integer columns.
    numbers
        Required non-negative real columns.
    choices
        Columns restricted to a fixed set of values.
    optional
        Columns used when present; checked like the others when present, and text columns
        among them may be empty (for example a development with no linked school parcel).
    flags
        Count columns that say yes (1) or no (0), such as whether a school has a canteen.
    of_pupils
        Count columns that count some of a school's pupils, so at most its enrolment.
    """

    name: str
    geometry: tuple[str, ...] | None
    id_column: str
    text: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    of_pupils: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """All required columns, the id first."""
        cols = (self.id_column, *self.text, *self.counts, *self.numbers, *self.choices)
        return tuple(dict.fromkeys(c for c in cols if c not in self.optional))


RESOURCE_COLUMNS: tuple[str, ...] = (
    "teachers_above_standard",
    "backbone_teachers",
    "pe_art_teachers",
    "teaching_area_m2",
    "sports_area_m2",
    "equipment_value_yuan",
    "multimedia_rooms",
)
"""The seven school resources of the quality-balanced assessment (优质均衡 资源配置 7 项)."""

SUPPORT_COLUMNS: tuple[str, ...] = (
    "canteen",
    "disabled_pupils",
    "resource_classroom",
    "migrant_pupils",
    "left_behind_pupils",
)
"""Optional columns of the schools layer for the plan's support rules: a canteen (1 or 0),
pupils with disabilities in ordinary classes (随班就读), a resource classroom (1 or 0),
migrant children (随迁子女) and left-behind children (留守儿童)."""

_POLYGONS = ("Polygon", "MultiPolygon")

HALO = "halo_schools"
"""Name of the layer of other counties' schools near a county (see :mod:`layout.runs.province`)."""

LAYERS: dict[str, LayerSpec] = {
    "counties": LayerSpec(
        name="counties",
        geometry=_POLYGONS,
        id_column="county_code",
        text=("name",),
        choices={"setting": SETTINGS},
    ),
    "townships": LayerSpec(
        name="townships",
        geometry=_POLYGONS,
        id_column="township_code",
        text=("name", "county_code"),
        counts=("teacher_dormitory",),
        numbers=("seat_lon", "seat_lat"),
        choices={"setting": SETTINGS},
        optional=("teacher_dormitory",),
        flags=("teacher_dormitory",),
    ),
    "schools": LayerSpec(
        name="schools",
        geometry=("Point",),
        id_column="school_id",
        text=("name", "county_code", "township_code"),
        counts=(
            *enrolment_columns(),
            *classes_columns(),
            "teachers",
            "capacity",
            "boarding_beds",
            "boarders",
            "teachers_above_standard",
            "backbone_teachers",
            "pe_art_teachers",
            "multimedia_rooms",
            *SUPPORT_COLUMNS,
        ),
        numbers=(
            "land_area_m2",
            "building_area_m2",
            "teaching_area_m2",
            "sports_area_m2",
            "equipment_value_yuan",
        ),
        choices={"level": LEVELS, "setting": SETTINGS, "status": SCHOOL_STATUS},
        optional=(
            "teachers_above_standard",
            "backbone_teachers",
            "pe_art_teachers",
            "multimedia_rooms",
            "teaching_area_m2",
            "sports_area_m2",
            "equipment_value_yuan",
            *SUPPORT_COLUMNS,
        ),
        flags=("canteen", "resource_classroom"),
        of_pupils=("disabled_pupils", "migrant_pupils", "left_behind_pupils"),
    ),
    "teachers": LayerSpec(
        name="teachers",
        geometry=None,
        id_column="teacher_id",
        text=("school_id",),
        counts=("years_at_school", "backbone"),
        flags=("backbone",),
    ),
    "population": LayerSpec(
        name="population",
        geometry=_POLYGONS,
        id_column="cell_id",
        text=("county_code", "township_code"),
        counts=(*age_columns(), "year"),
        choices={"setting": SETTINGS},
    ),
    "developments": LayerSpec(
        name="developments",
        geometry=(*_POLYGONS, "Point"),
        id_column="phase_id",
        text=("development_id", "name", "county_code", "township_code", "school_parcel_id"),
        counts=("phase", "households", "delivery_year"),
        numbers=("mean_unit_m2", "price_index", "enrolled_primary", "enrolled_junior"),
        choices={"status": DEVELOPMENT_STATUS},
        optional=(
            "school_parcel_id",
            "mean_unit_m2",
            "price_index",
            "enrolled_primary",
            "enrolled_junior",
        ),
    ),
    "reserved_land": LayerSpec(
        name="reserved_land",
        geometry=_POLYGONS,
        id_column="parcel_id",
        text=("county_code", "township_code"),
        counts=("planned_classes", "delivery_year"),
        choices={"planned_level": PLANNED_LEVELS, "status": PARCEL_STATUS},
    ),
    "roads": LayerSpec(
        name="roads",
        geometry=("LineString", "MultiLineString"),
        id_column="road_id",
        text=("road_class",),
        numbers=("speed_kmh",),
    ),
}
"""Every layer a study may name. ``roads``, ``teachers`` and ``halo_schools`` are optional.

``halo_schools`` has the columns of ``schools`` and holds schools of *other* counties near the
study's boundary, for analyses whose children may cross a county border: they lie outside the
study area by design, their county codes are not in the counties layer, and no table of the
study's own schools counts them (see :mod:`layout.runs.province`).
"""
LAYERS[HALO] = replace(LAYERS["schools"], name=HALO)

REQUIRED_LAYERS: tuple[str, ...] = (
    "counties",
    "townships",
    "schools",
    "population",
    "developments",
    "reserved_land",
)
"""Layers every study must name."""
