"""Checks of study layers against :mod:`layout.schema`.

Every check collects all offending rows before anything is raised, so one
:class:`~layout.errors.ValidationError` lists every problem of a layer. Each problem line
names the file, the layer, the column, the row ids, and how to fix it.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from .errors import DataWarning, StudyError, ValidationError
from .schema import LAYERS, LEVEL_GRADES, LayerSpec, classes_columns, enrolment_columns

_MAX_IDS = 10


def ids_text(ids: Sequence[object] | pd.Index | pd.Series) -> str:
    """Format row ids for a message: at most ten, then how many more.

    Examples
    --------
    >>> ids_text(["a", "b"])
    'a, b (2 rows)'
    """
    texts = [str(i) for i in list(ids)]
    shown = ", ".join(texts[:_MAX_IDS])
    more = f" and {len(texts) - _MAX_IDS} more" if len(texts) > _MAX_IDS else ""
    return f"{shown}{more} ({len(texts)} row{'s' if len(texts) != 1 else ''})"


class LayerCheck:
    """Collects the problems of one layer and raises them together.

    Parameters
    ----------
    frame
        The layer as read, before any change.
    spec
        What the layer must hold.
    where
        ``"<file>, layer '<layer>'"``: the place named in every message.
    file
        The file name alone, for :attr:`findings` (see :data:`layout.errors.FINDING_COLUMNS`).
    """

    def __init__(self, frame: pd.DataFrame, spec: LayerSpec, where: str, *, file: str = "") -> None:
        self.frame = frame
        self.spec = spec
        self.where = where
        self.file = file
        self.problems: list[str] = []
        self.findings: list[dict[str, str]] = []
        if spec.id_column in frame.columns:
            self.ids = frame[spec.id_column].astype("string").fillna("<missing id>")
        else:
            self.ids = pd.Series([f"row {i}" for i in range(len(frame))], index=frame.index)

    def add(self, column: str | None, mask: pd.Series | np.ndarray, what: str, fix: str) -> None:
        """Record a problem for the rows where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        col = f", column '{column}'" if column else ""
        rows = ids_text(self.ids[mask])
        self.problems.append(
            f"{self.where}{col}: {what} in {self.spec.id_column} {rows}. Fix: {fix}"
        )
        self.findings.append(self.finding(column, what, fix, rows=self.ids[mask]))

    def finding(
        self,
        column: str | None,
        what: str,
        fix: str,
        *,
        rows: pd.Series | None = None,
        severity: str = "error",
    ) -> dict[str, str]:
        """Return one finding of this layer (:data:`layout.errors.FINDING_COLUMNS`)."""
        return {
            "severity": severity,
            "file": self.file,
            "layer": self.spec.name,
            "column": column or "",
            "rows": "" if rows is None else ", ".join(map(str, rows)),
            "problem": what,
            "fix": fix,
        }

    def note(self, column: str | None, what: str, fix: str) -> None:
        """Record a problem of the whole layer (no rows), such as a missing column."""
        col = f", column '{column}'" if column else ""
        self.problems.append(f"{self.where}{col}: {what}. Fix: {fix}")
        self.findings.append(self.finding(column, what, fix))

    def warn_skip(self, mask: pd.Series | np.ndarray, what: str, fix: str) -> np.ndarray:
        """Warn that the rows where ``mask`` is true are skipped; return the rows kept."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            rows = ids_text(self.ids[mask])
            finding = self.finding(
                None,
                f"{what}; these rows are skipped",
                fix,
                rows=self.ids[mask],
                severity="warning",
            )
            warnings.warn(
                DataWarning(
                    f"{self.where}: {what} in {self.spec.id_column} {rows}; these rows are "
                    f"skipped. Fix: {fix}",
                    finding=finding,
                ),
                stacklevel=3,
            )
        return ~mask

    def raise_if_any(self) -> None:
        """Raise one :class:`ValidationError` holding every problem found."""
        if self.problems:
            raise ValidationError(self.problems, findings=self.findings)

    def columns(self) -> bool:
        """Check that the required columns exist; return whether all of them do."""
        missing = [c for c in self.spec.required if c not in self.frame.columns]
        if missing:
            self.problems.append(
                f"{self.where}: missing required column(s) {', '.join(map(repr, missing))}. "
                f"Fix: add them, or map the file's headers to them with columns = "
                f'{{ "<header>" = "<column>" }} in [layers.{self.spec.name}]; layer '
                f"'{self.spec.name}' needs {', '.join(self.spec.required)} (see docs/study.md)."
            )
        for column in missing:
            fix = f'add it, or map a header to it: columns = {{ "<header>" = "{column}" }}'
            self.findings.append(self.finding(column, "missing required column", fix))
        return not missing

    def ids_unique(self) -> None:
        """Check the id column: present, non-empty and unique."""
        raw = self.frame[self.spec.id_column]
        empty = raw.isna() | (raw.astype("string").str.strip() == "")
        self.add(self.spec.id_column, empty, "empty id", "give every row an id")
        dup = raw.duplicated(keep=False) & ~empty
        self.add(self.spec.id_column, dup, "duplicated id", "make each id unique")

    def values(self) -> None:
        """Check text, count, number and choice columns that are present."""
        spec, frame = self.spec, self.frame
        present = [c for c in (*spec.counts, *spec.numbers) if c in frame.columns]
        for col in present:
            self._number(col, integer=col in spec.counts)
        for col in spec.text:
            if col in frame.columns and col not in spec.optional:
                text = frame[col].astype("string").str.strip()
                self.add(col, text.isna() | (text == ""), "empty value", f"fill in '{col}'")
        for col, allowed in spec.choices.items():
            if col in frame.columns:
                bad = ~frame[col].isin(allowed)
                fix = f"use one of {', '.join(allowed)}"
                if self.file and bad.any():
                    found = ", ".join(map(repr, pd.unique(frame[col][bad].astype(str))[:_MAX_IDS]))
                    fix += (
                        f" (found {found}), or map the file's values in [layers.{spec.name}]: "
                        f'values.{col} = {{ "<value>" = "<code>" }}'
                    )
                self.add(col, bad, "value not allowed", fix)
        self.flags()

    def flags(self) -> None:
        """Check that yes/no columns hold 1 or 0 and pupil subsets stay within enrolment."""
        frame = self.frame
        for col in self.spec.flags:
            if col in frame.columns:
                num = pd.to_numeric(frame[col], errors="coerce")
                self.add(col, num > 1, "value above 1 in a yes/no column", "enter 1 (yes) or 0")
        pupils = [c for c in enrolment_columns() if c in frame.columns]
        if not pupils:
            return
        total = frame[pupils].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1)
        for col in self.spec.of_pupils:
            if col in frame.columns:
                self.add(
                    col,
                    pd.to_numeric(frame[col], errors="coerce") > total,
                    "more pupils than the school enrols (enrolment_g1-g9)",
                    f"'{col}' counts pupils of the school: at most its enrolment",
                )

    def _number(self, col: str, *, integer: bool) -> None:
        raw = self.frame[col]
        num = pd.to_numeric(raw, errors="coerce")
        optional_blank = col in self.spec.optional and raw.isna()
        self.add(
            col,
            num.isna() & ~optional_blank,
            "missing or non-numeric value",
            "enter a number (0 if none)",
        )
        self.add(col, num < 0, "negative value", "counts and areas must be >= 0")
        if integer:
            frac = (num % 1 != 0) & num.notna()
            self.add(col, frac, "non-integer count", "counts must be whole numbers")

    def geometry(self, *, skip_empty: bool = False) -> np.ndarray:
        """Check geometries; return the rows kept (empty ones may be skipped with a warning)."""
        geom = self.frame.geometry
        empty = geom.isna() | geom.is_empty
        keep = np.ones(len(geom), dtype=bool)
        if skip_empty:
            keep = self.warn_skip(empty, "missing or empty geometry", "give the row a geometry")
        else:
            self.add("geometry", empty, "missing or empty geometry", "give every row a geometry")
        invalid = ~empty & ~geom.is_valid
        self.add(
            "geometry",
            invalid,
            "invalid geometry (e.g. self-intersection)",
            "repair it, e.g. with shapely.make_valid or GIS 'Repair geometry'",
        )
        types = geom.geom_type
        allowed = self.spec.geometry or ()
        wrong = ~empty & ~types.isin(allowed)
        self.add("geometry", wrong, "wrong geometry type", f"use {' or '.join(allowed)} geometries")
        return keep

    def crs(self, crs: object) -> None:
        """Check that the layer has a coordinate reference system."""
        if crs is None:
            self.note(
                None,
                "the layer has no CRS",
                f'save it with its CRS, or add crs = "EPSG:4490" (or the right code) to '
                f"[layers.{self.spec.name}] in the study TOML",
            )

    def swapped_lonlat(self, frame: gpd.GeoDataFrame) -> None:
        """Flag points in geographic coordinates whose latitude and longitude look swapped."""
        if frame.crs is None or not frame.crs.is_geographic or len(frame) == 0:
            return
        pts = frame.geometry.representative_point()
        x, y = pts.x.to_numpy(), pts.y.to_numpy()
        metres = (np.abs(x) > 180) | (np.abs(y) > 180)  # a wrong CRS: see sources.datum
        swapped = ~metres & ((np.abs(y) > 90) | ((np.abs(x) <= 60) & (np.abs(y) > 60)))
        self.add(
            "geometry",
            swapped,
            "latitude/longitude look swapped (y beyond 90 or x < y)",
            "swap the x (longitude) and y (latitude) columns or coordinates",
        )

    def grades(self) -> None:
        """Check pupils and classes against the grades each school's level teaches."""
        frame = self.frame
        if "level" not in frame.columns:
            return
        for grade, (ecol, ccol) in enumerate(
            zip(enrolment_columns(), classes_columns(), strict=True), start=1
        ):
            if ecol not in frame.columns or ccol not in frame.columns:
                continue
            taught = frame["level"].isin([lv for lv, gs in LEVEL_GRADES.items() if grade in gs])
            pupils = pd.to_numeric(frame[ecol], errors="coerce").fillna(0)
            classes = pd.to_numeric(frame[ccol], errors="coerce")
            fix = "check the level (primary 1-6, junior 7-9, nine_year 1-9, teaching_point 1-6)"
            what = f"grade {grade}, which the school's level does not teach"
            self.add(ecol, (pupils > 0) & ~taught, f"enrolment in {what}", fix)
            self.add(ccol, (classes > 0) & ~taught, f"classes in {what}", fix)
            self.add(
                ccol,
                (classes == 0) & (pupils > 0),
                f"no classes while {ecol} has pupils",
                "enter the number of classes of that grade",
            )


def outside(frame: gpd.GeoDataFrame, area: BaseGeometry) -> np.ndarray:
    """Return a mask of rows whose geometry does not intersect ``area``.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> gdf = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), Point(3, 3)])
    >>> outside(gdf, box(0, 0, 1, 1)).tolist()
    [False, True]
    """
    return ~np.asarray(frame.geometry.intersects(area), dtype=bool)


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as floats, NaN where a value is missing or not a number.

    Examples
    --------
    >>> numeric_values(pd.DataFrame({"a": [1, "x", None]}), "a")
    array([ 1., nan, nan])
    """
    return cast(np.ndarray, pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float))


def check_columns(
    frame: pd.DataFrame,
    layer: str,
    columns: Sequence[str],
    *,
    where: str | None = None,
    blank_ok: Sequence[str] = (),
) -> LayerCheck:
    """Run the schema checks of ``layer`` on the ``columns`` an analysis uses.

    The id column, presence, emptiness, sign, integrality and allowed values are checked as
    the study loader does; every column asked for is required, optional ones included. The
    caller may add problems to the returned check before calling
    :meth:`LayerCheck.raise_if_any`.

    Parameters
    ----------
    frame
        The layer (not modified).
    layer
        Its name in :data:`layout.schema.LAYERS`.
    columns
        Columns needed besides the id.
    where
        Place named in messages; the layer name by default.
    blank_ok
        Columns among ``columns`` whose values may be blank (not known).

    Returns
    -------
    LayerCheck

    Examples
    --------
    >>> frame = pd.DataFrame({"cell_id": ["a", "b"], "age_0": [1, -2]})
    >>> problem, = check_columns(frame, "population", ["age_0"]).problems
    >>> problem.startswith("population, column 'age_0': negative value in cell_id b (1 row)")
    True
    """
    full = LAYERS[layer]
    keep = set(columns)
    spec = LayerSpec(
        name=layer,
        geometry=None,
        id_column=full.id_column,
        text=tuple(c for c in full.text if c in keep),
        counts=tuple(c for c in full.counts if c in keep),
        numbers=tuple(c for c in full.numbers if c in keep),
        choices={k: v for k, v in full.choices.items() if k in keep},
        optional=tuple(blank_ok),
        flags=tuple(c for c in full.flags if c in keep),
        of_pupils=tuple(c for c in full.of_pupils if c in keep),
    )
    geometry = [c for c in frame.columns if frame[c].dtype.name == "geometry"]
    check = LayerCheck(pd.DataFrame(frame.drop(columns=geometry)), spec, where or layer)
    if check.columns():
        check.ids_unique()
        check.values()
    return check


def missing_columns(frame: pd.DataFrame, columns: Sequence[str], *, layer: str) -> list[str]:
    """List the ``columns`` a table derived from a layer lacks, one problem each.

    Examples
    --------
    >>> missing_columns(pd.DataFrame({"a": [1]}), ["a", "b"], layer="demand")[0]
    "demand: column 'b' is missing; add it (or pass the name of the column that holds it)"
    """
    return [
        f"{layer}: column {c!r} is missing; add it (or pass the name of the column that holds it)"
        for c in columns
        if c not in frame.columns
    ]


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, name: str) -> None:
    """Raise one :class:`ValidationError` naming every column of ``columns`` that is missing.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], name="demand")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: demand: column 'b' is missing; add it ...
    """
    problems = missing_columns(frame, columns, layer=name)
    if problems:
        raise ValidationError(problems)


def require_ids(frame: pd.DataFrame, column: str, *, name: str) -> pd.Index:
    """Return ``frame[column]`` as an index after checking it is present, non-empty and unique.

    Examples
    --------
    >>> import pandas as pd
    >>> list(require_ids(pd.DataFrame({"cell_id": ["a", "b"]}), "cell_id", name="cells"))
    ['a', 'b']
    """
    require_columns(frame, [column], name=name)
    ids = pd.Index(frame[column], name=column)
    problems = []
    if ids.hasnans:
        rows = frame.index[np.asarray(ids.isna())]
        problems.append(f"{name}.{column} is empty in rows {ids_text(rows)}; give every row an id")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        problems.append(
            f"{name}.{column} repeats {ids_text(duplicated)}; ids must be unique per row"
        )
    if problems:
        raise ValidationError(problems)
    return ids


def require_amounts(frame: pd.DataFrame, column: str, *, name: str, ids: pd.Index) -> np.ndarray:
    """Return ``frame[column]`` as floats after checking it is numeric, finite and non-negative.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"children": [3, -1]})
    >>> ids = pd.Index(["a", "b"])
    >>> require_amounts(frame, "children", name="demand", ids=ids)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: demand.children must be a finite number >= 0; rows b ...
    """
    require_columns(frame, [column], name=name)
    values: np.ndarray = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValidationError(
            f"{name}.{column} must be a finite number >= 0; rows {ids_text(ids[bad])} are "
            f"not ({ids_text(frame[column].to_numpy()[bad])}); fix or drop them"
        )
    return values


def require_metric_crs(frames: dict[str, gpd.GeoDataFrame]) -> None:
    """Raise unless all ``frames`` share one projected CRS measured in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cells = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:4326")
    >>> require_metric_crs({"cells": cells})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cells has the geographic CRS EPSG:4326; project it to ...
    """
    problems = []
    for name, frame in frames.items():
        crs = frame.crs
        if crs is None:
            problems.append(
                f"{name} has no CRS; set the study's projected CRS, e.g. "
                f"{name}.set_crs('EPSG:4550')"
            )
        elif not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
            problems.append(
                f"{name} has the {'geographic' if crs.is_geographic else 'non-metric'} CRS "
                f"{crs.to_string()}; project it to a metric CRS first, e.g. "
                f"{name}.to_crs('EPSG:4550')"
            )
    crs_list = [(n, f.crs) for n, f in frames.items() if f.crs is not None]
    if not problems and any(c != crs_list[0][1] for _, c in crs_list):
        shown = "; ".join(f"{n}: {c.to_string()}" for n, c in crs_list)
        problems.append(
            f"the layers have different CRS ({shown}); project them all to the study CRS "
            "with .to_crs(...)"
        )
    if problems:
        raise ValidationError(problems)


def require_geometry(
    frame: gpd.GeoDataFrame, kinds: tuple[str, ...], *, name: str, ids: pd.Index
) -> None:
    """Raise if any geometry of ``frame`` is missing, empty or not one of ``kinds``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> frame = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:4550")
    >>> require_geometry(frame, ("Polygon",), name="cells", ids=pd.Index(["c1"]))
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cells geometry must be Polygon; rows c1 (1 row) are Point
    """
    geometry = frame.geometry
    problems = []
    empty = np.asarray(geometry.isna() | geometry.is_empty)
    if empty.any():
        problems.append(f"{name} has no geometry in rows {ids_text(ids[empty])}; drop or fix them")
    types = np.asarray(geometry.geom_type)
    wrong = ~empty & ~np.isin(types, kinds)
    if wrong.any():
        problems.append(
            f"{name} geometry must be {' or '.join(kinds)}; rows {ids_text(ids[wrong])} are "
            f"{', '.join(map(str, pd.unique(types[wrong])))}"
        )
    if problems:
        raise ValidationError(problems)


def count_problems(value: object, name: str, *, minimum: int) -> list[str]:
    """Return a problem line unless ``value`` is a whole number of at least ``minimum``.

    Examples
    --------
    >>> count_problems(2, "p", minimum=1), count_problems(0.5, "p", minimum=1)
    ([], ['p must be a whole number >= 1, got 0.5.'])
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        return [f"{name} must be a whole number >= {minimum}, got {value!r}."]
    return []


def require_count(value: object, name: str, *, minimum: int) -> None:
    """Raise :class:`ValidationError` unless ``value`` is a whole number >= ``minimum``."""
    problems = count_problems(value, name, minimum=minimum)
    if problems:
        raise ValidationError(problems)


def require_choice(value: object, name: str, allowed: Sequence[str]) -> None:
    """Raise :class:`ValidationError` unless ``value`` is one of ``allowed``.

    Examples
    --------
    >>> require_choice("both", "level", ("primary", "junior"))
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: level must be one of primary, junior; got 'both'.
    """
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")


def unknown_keys(found: Sequence[str], known: Sequence[str], *, where: str) -> list[str]:
    """One problem line per key of ``found`` not in ``known``, naming the nearest known one.

    Examples
    --------
    >>> unknown_keys(["scenario", "layers"], ["study", "layers", "scenarios"], where="s.toml")
    ["s.toml: unknown key 'scenario'; did you mean 'scenarios'? (known: study, layers, scenarios)"]
    """
    lines = []
    for key in found:
        if key in known:
            continue
        near = difflib.get_close_matches(str(key), [str(k) for k in known], n=1, cutoff=0.6)
        hint = f"did you mean {near[0]!r}? " if near else ""
        lines.append(f"{where}: unknown key {key!r}; {hint}(known: {', '.join(known)})")
    return lines


def plan_period(meta: Mapping[str, Any], *, most: int, where: str) -> None:
    """Refuse a plan period (or a projection from the base year) longer than ``most`` years.

    Examples
    --------
    >>> plan_period({"base_year": 2020, "plan_start": 2025, "plan_end": 2035}, most=30,
    ...             where="study.toml")
    """
    for first in ("plan_start", "base_year"):
        years = meta["plan_end"] - meta[first] + 1
        if years > most:
            raise StudyError(
                f"{where}: [study] {first} {meta[first]} to plan_end {meta['plan_end']} is "
                f"{years} years, more than the {most} a plan may span (profile "
                "checks.plan_years_max): children would be projected for decades of births not "
                f"yet known. Fix: correct plan_end (e.g. {meta[first] + 10}), or raise "
                "checks.plan_years_max in [standards]."
            )


def skipped_teachers(
    teachers: pd.DataFrame, *, skipped: set[str], where: str, schools_where: str
) -> None:
    """Refuse teachers of schools skipped for their geometry, naming why they were skipped."""
    listed = set(teachers["school_id"].astype(str)) & skipped
    if listed:
        raise ValidationError(
            f"{where}, column 'school_id': teachers of schools skipped from {schools_where} for "
            "a missing geometry or one outside the study boundary, in school_id "
            f"{ids_text(sorted(listed))}. Fix: correct the schools' coordinates (or their CRS), "
            "or remove their teachers."
        )
