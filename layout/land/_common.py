"""Options, checked layers and norms the three land checks share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from ..access import level_shares
from ..errors import ValidationError
from ..labels import Lang
from ..schema import LAYERS, classes_columns, enrolment_columns
from ..standards import Profile

_CIRCLE_QUAD_SEGS = 16
"""Segments per quarter circle of a school's land: a regular 64-gon."""

_CIRCLE_SIDES = 4 * _CIRCLE_QUAD_SEGS

_EPS = 1e-9
"""Slack of seat comparisons, so that 90.00000000001 children fit 90 seats."""

_NORMS: dict[tuple[str, str], tuple[tuple[str, tuple[str, ...]], ...]] = {
    ("urban", "primary"): (("urban_primary", ("primary",)),),
    ("urban", "junior"): (("urban_junior", ("junior",)),),
    ("urban", "nine_year"): (("urban_nine_year", ("primary", "junior")),),
    ("rural", "primary"): (("rural_primary", ("primary",)),),
    ("rural", "junior"): (("rural_junior", ("junior",)),),
    ("rural", "nine_year"): (("rural_primary", ("primary",)), ("rural_junior", ("junior",))),
}
"""Land norms of each (setting, planned level): a profile school type and the level parts
whose classes and students it is applied to."""

# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class LandOptions:
    """Thresholds and language of the land checks.

    Parameters
    ----------
    min_fill
        Share of a parcel's planned seats that the unmet demand within its service radius must
        reach in some plan year (1.0: the seats would all be needed); ``None`` takes the
        profile's ``land.parcel_min_fill`` (see :meth:`fill`). No policy fixes it.
    overlap_tolerance_m2
        Overlaps of this area or less (m²) are ignored, e.g. slivers of digitising.
    radii
        Service radius in metres by ``(setting, level)`` replacing the profile's (see
        :func:`layout.access.service_radii`), e.g. ``{("rural", "junior"): 10_000.0}``.
    lang
        Language of reason texts: ``"zh"`` or ``"en"``.

    Examples
    --------
    >>> LandOptions(min_fill=0.8).min_fill
    0.8
    """

    min_fill: float | None = None
    overlap_tolerance_m2: float = 1.0
    radii: Mapping[tuple[str, str], float] = field(default_factory=dict)
    lang: Lang = "zh"

    def __post_init__(self) -> None:
        problems = [
            f"LandOptions: {name} must be a number, 0 or more, got {value!r}"
            for name, value in (
                ("min_fill", 0.0 if self.min_fill is None else self.min_fill),
                ("overlap_tolerance_m2", self.overlap_tolerance_m2),
            )
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
        ]
        if self.lang not in ("zh", "en"):
            problems.append(f"LandOptions: lang must be 'zh' or 'en', got {self.lang!r}")
        if problems:
            raise ValidationError(problems)

    def fill(self, profile: Profile) -> float:
        """Return ``min_fill``, or the profile's ``land.parcel_min_fill`` when it is ``None``.

        Examples
        --------
        >>> from layout.standards import load_profile
        >>> profile = load_profile(overrides={"land": {"parcel_min_fill": 0.9}})
        >>> LandOptions().fill(profile), LandOptions(min_fill=0.8).fill(profile)
        (0.9, 0.8)
        """
        return profile.land.parcel_min_fill if self.min_fill is None else float(self.min_fill)


# --------------------------------------------------------------------------- input checks


def _geometry_problems(frame: pd.DataFrame, layer: str, *, crs: object = None) -> list[str]:
    """Geometry, CRS and projection problems of a layer, as the study loader words them."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return [f"{layer}: expected a GeoDataFrame with geometries, got {type(frame).__name__}"]
    check = _validate.LayerCheck(frame, LAYERS[layer], layer)
    check.crs(frame.crs)
    check.geometry()
    if frame.crs is not None and not frame.crs.is_projected:
        check.problems.append(
            f"{layer}: CRS {frame.crs.name} is geographic; areas and distances need a projected "
            "CRS. Fix: reproject, e.g. frame.to_crs('EPSG:4550') (the study's crs)"
        )
    elif crs is not None and frame.crs is not None and frame.crs != crs:
        check.problems.append(
            f"{layer}: CRS {frame.crs.name} differs from the reserved land's {crs}. Fix: "
            f"reproject, e.g. frame.to_crs(parcels.crs)"
        )
    return check.problems


def _checked(
    frame: pd.DataFrame, layer: str, columns: Sequence[str], *, crs: object = None
) -> _validate.LayerCheck:
    """Check the columns an analysis uses and the geometries; return the check, not raised."""
    check = _validate.check_columns(frame, layer, columns)
    check.problems += _geometry_problems(frame, layer, crs=crs)
    return check


def _checked_parcels(parcels: pd.DataFrame) -> gpd.GeoDataFrame:
    """Check the reserved_land layer as the study loader does; raise every problem at once."""
    columns = ("county_code", "township_code", "planned_level", "planned_classes")
    _checked(parcels, "reserved_land", [*columns, "delivery_year", "status"]).raise_if_any()
    assert isinstance(parcels, gpd.GeoDataFrame)
    return parcels


def _checked_schools(schools: pd.DataFrame, *, crs: object) -> gpd.GeoDataFrame:
    """Check the schools columns the land checks use."""
    columns = ["level", "status", "capacity", "land_area_m2", "township_code"]
    check = _checked(
        schools, "schools", [*columns, *enrolment_columns(), *classes_columns()], crs=crs
    )
    check.raise_if_any()
    assert isinstance(schools, gpd.GeoDataFrame)
    return schools


def _checked_developments(
    developments: pd.DataFrame, *, parcel_ids: pd.Series, crs: object
) -> gpd.GeoDataFrame:
    """Check the developments layer: delivery years present, linked parcels known."""
    columns = ["development_id", "name", "county_code", "township_code", "households", "status"]
    check = _checked(developments, "developments", columns, crs=crs)
    if "delivery_year" not in developments.columns:
        check.problems += _validate.missing_columns(
            developments, ["delivery_year"], layer="developments"
        )
    else:
        year = _validate.numeric_values(developments, "delivery_year")
        unknown = np.isnan(year)
        devs = ", ".join(sorted(developments["development_id"][unknown].astype(str).unique()))
        check.add(
            "delivery_year",
            unknown,
            f"no delivery year, so 三同步 cannot be checked for development_id {devs}",
            "enter the year each phase is handed over to residents",
        )
        check.add("delivery_year", year % 1 > 0, "non-integer year", "enter a whole year")
    links = _phase_links(developments)
    unknown_link = links.notna() & ~links.isin(parcel_ids.astype(str))
    check.add(
        "school_parcel_id",
        unknown_link,
        f"school parcel {', '.join(sorted(links[unknown_link].unique()))} not in reserved_land",
        "use a parcel_id of the reserved_land layer, or leave it empty",
    )
    check.raise_if_any()
    assert isinstance(developments, gpd.GeoDataFrame)
    return developments


def _phase_links(developments: pd.DataFrame) -> pd.Series:
    """Each phase's linked parcel id as text, NaN where the column is missing or empty."""
    if "school_parcel_id" not in developments.columns:
        return pd.Series(np.nan, index=developments.index, dtype=object)
    ids = developments["school_parcel_id"].astype("string").str.strip()
    blank = (ids.isna() | (ids == "").fillna(True)).to_numpy(dtype=bool)
    return ids.astype(object).mask(blank, np.nan)


def _settings(frame: pd.DataFrame, townships: pd.DataFrame, *, layer: str) -> np.ndarray:
    """Return each row's setting (urban/rural) from its township; name unknown townships."""
    check = _validate.check_columns(townships, "townships", ["setting"])
    check.raise_if_any()
    lookup = pd.Series(
        townships["setting"].to_numpy(), index=townships["township_code"].astype(str)
    )
    codes = frame["township_code"].astype(str)
    rows = _validate.LayerCheck(frame, LAYERS[layer], layer)
    rows.add(
        "township_code",
        ~codes.isin(lookup.index),
        "township not in the townships layer",
        "correct the code, or add the township to the townships layer",
    )
    rows.raise_if_any()
    return cast(np.ndarray, codes.map(lookup).to_numpy())


def _plan_years(years: range | Sequence[int]) -> np.ndarray:
    """Return the plan years as a sorted array of distinct whole years."""
    values = np.unique(np.asarray(list(years)))
    if values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValidationError(
            f"years must be a non-empty list of whole years, e.g. range(2025, 2036), got {years!r}"
        )
    return values


# --------------------------------------------------------------------------- land


def _land_required(
    parcels: pd.DataFrame, seats: pd.DataFrame, settings: np.ndarray, profile: Profile
) -> np.ndarray:
    """Land in m² each parcel's planned school needs under the profile's norms."""
    classes = _validate.numeric_values(parcels, "planned_classes")
    shares = level_shares(parcels["planned_level"])
    planned = parcels["planned_level"].to_numpy()
    required = np.zeros(len(parcels))
    for (setting, level), entries in _NORMS.items():
        rows = (settings == setting) & (planned == level)
        for norm_name, parts in entries:
            norm = getattr(profile.school_size, norm_name)
            part_classes = sum(classes[rows] * shares[p][rows] for p in parts)
            students = sum(seats[p].to_numpy()[rows] for p in parts)
            rate = np.interp(part_classes, norm.classes, norm.land_m2_per_student)
            required[rows] += rate * students
    return required


def _one_scenario(demand: pd.DataFrame, years: np.ndarray, columns: Sequence[str]) -> None:
    """Check a demand table: its columns, a single scenario and every plan year."""
    problems = _validate.missing_columns(demand, columns, layer="demand")
    if problems:
        raise ValidationError(problems)
    scenarios = pd.unique(demand["scenario"].astype(str))
    if len(scenarios) != 1:
        problems.append(
            f"demand: holds scenario(s) {', '.join(scenarios) or 'none'}; pass exactly one, "
            "e.g. demand[demand['scenario'] == 'medium']"
        )
    missing = sorted(set(years.tolist()) - set(demand["year"].tolist()))
    if missing:
        problems.append(
            f"demand: no rows for plan year(s) {', '.join(map(str, missing))}; project demand "
            "over every plan year"
        )
    if problems:
        raise ValidationError(problems)
