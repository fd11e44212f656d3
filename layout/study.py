"""The study: one TOML file naming its layers, planning years and standards profile.

A study TOML looks like this (paths are relative to the TOML file)::

    [study]
    name = "anshan"
    title = "鞍山市义务教育学校布局（合成样例数据）"
    synthetic = true
    crs = "EPSG:4550"          # projected CRS for all metric work
    base_year = 2020           # year of the population layer
    school_year = 2024         # year of the school data
    plan_start = 2025
    plan_end = 2035
    profile = "anshan-2020"
    data_date = "2024-09-01"

    [layers.schools]
    path = "anshan.gpkg"       # GeoPackage, GeoParquet, Shapefile, GeoJSON, Excel or CSV
    layer = "schools"          # layer inside a multi-layer file
    # a table of points names its coordinate columns and their datum (or CRS):
    # x = "经度"; y = "纬度"; datum = "gcj02"
    # see layout.sources.source for sheet, header_row, encoding, columns and values

Every layer is read as the file keeps it (:mod:`layout.sources`), checked against
:mod:`layout.schema` and reprojected to the study CRS; every layer is read before the problems
of all of them are raised together. Input files are only read, never written.

Examples
--------
>>> from layout.study import study_from_toml
>>> study = study_from_toml()  # the bundled, synthetic Anshan sample
>>> study.name, study.crs
('anshan', 'EPSG:4550')
>>> sorted(study.layers)[:3]
['counties', 'developments', 'population']
"""

from __future__ import annotations

import logging
import os
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError

from . import _validate
from .errors import DataWarning, LayoutError, StudyError, ValidationError, finding_from_text
from .finance import finance_frame
from .history import history_frame
from .network import RoadNetwork
from .schema import LAYERS, REQUIRED_LAYERS
from .sources.datum import is_web_datum, web_datum_fix
from .sources.layer import SKIPPED_IDS, Context, read_layer
from .sources.source import LayerSource, sources_and_problems
from .sources.tables import read_text
from .standards import Profile, load_profile

LOG = logging.getLogger(__name__)

STUDY_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "title": str,
    "synthetic": bool,
    "description": str,
    "crs": str,
    "base_year": int,
    "school_year": int,
    "plan_start": int,
    "plan_end": int,
    "profile": str,
    "data_date": str,
}
"""Keys of the ``[study]`` table and their types."""

STUDY_NOTES: dict[str, str] = {
    "name": "short name, used in file names (required)",
    "title": "title of maps and reports (default: the name)",
    "synthetic": "true when the data are synthetic; every output then says so",
    "description": "free text: where the data come from",
    "crs": 'projected CRS of all metric work, e.g. "EPSG:4550" (CGCS2000 3-degree zone, CM 123E)',
    "base_year": "year of the population layer (required)",
    "school_year": "year of the school data (required)",
    "plan_start": "first planning year (required)",
    "plan_end": "last planning year (required)",
    "profile": 'standards profile: "national", or a local one that extends it, e.g. "anshan-2020"',
    "data_date": 'date of the data, e.g. "2024-09-01" (default: the school year)',
}
"""What each key of :data:`STUDY_KEYS` means (the schema reference docs/study.md shows it)."""

TABLES: tuple[str, ...] = (
    "study",
    "layers",
    "scenarios",
    "standards",
    "yields",
    "finance",
    "enrolment_history",
)
"""The top-level tables of a study TOML: ``[yields]`` is written by a county partition;
``[finance]`` is the optional spending by county and year (:mod:`layout.finance`),
``[enrolment_history]`` past enrolment by county and grade (:mod:`layout.history`)."""
_FIRST = ("counties", "townships")
"""Layers read first: they give the later ones their area, zone and township codes."""
_OUTSIDE_LAYERS = frozenset({"counties", "teachers", "roads", "halo_schools"})
"""Layers whose rows need not belong to a county or township of the study."""


@dataclass(frozen=True)
class Study:
    """A loaded, validated study.

    Attributes
    ----------
    name, title, crs, base_year, school_year, plan_start, plan_end, profile, data_date
        From the ``[study]`` table.
    synthetic
        Whether the data are synthetic (the bundled sample is).
    path
        The study TOML file.
    layers
        Every layer read, validated and in ``crs`` (tables stay DataFrames).
    config
        The whole TOML, for the tables later steps read (``scenarios``, ...).
    standards
        The standards profile named by ``profile``, with the study's ``[standards]`` table
        applied as overrides (e.g. ``[standards.class_size] primary_cap = 40``); an unknown
        key or a wrong type is refused when the study loads.
    """

    name: str
    title: str
    crs: str
    base_year: int
    school_year: int
    plan_start: int
    plan_end: int
    profile: str
    data_date: str
    synthetic: bool
    path: Path
    layers: dict[str, pd.DataFrame] = field(repr=False)
    config: dict[str, Any] = field(repr=False)
    standards: Profile = field(repr=False)

    @property
    def plan_years(self) -> range:
        """The planning years, ``plan_start`` to ``plan_end`` inclusive."""
        return range(self.plan_start, self.plan_end + 1)

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Return a layer by name."""
        return self.layers[name]

    @cached_property
    def road_network(self) -> RoadNetwork | None:
        """The ``roads`` layer as a graph, built on first use and kept; ``None`` without roads.

        Steps that cost travel on the roads share it (building it is most of the work of a
        county's cost run).

        Examples
        --------
        >>> study = study_from_toml()
        >>> study.road_network is study.road_network, len(study.road_network.lo) > 0
        (True, True)
        """
        roads = self.layers.get("roads")
        if roads is None or not len(roads):
            return None
        return RoadNetwork.from_roads(roads)


def bundled_study_path(name: str = "anshan") -> Path:
    """Return the TOML of a study bundled with the package.

    Parameters
    ----------
    name
        Study folder name under ``data/``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> bundled_study_path().name
    'study.toml'
    """
    here = Path(__file__).resolve().parent
    for root in (here / "_bundled", here.parent / "data"):
        candidate = root / name / "study.toml"
        if candidate.is_file():
            return candidate
    raise StudyError(
        f"bundled study '{name}' not found next to the package ({here}). Fix: reinstall layout, "
        "or pass the path of a study TOML."
    )


def study_from_toml(path: str | os.PathLike[str] | None = None) -> Study:
    """Load a study: read its TOML and every layer, validate them, reproject them.

    Parameters
    ----------
    path
        The study TOML. ``None`` loads the bundled synthetic Anshan sample.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        The TOML is missing, unreadable or lacks a required key.
    ValidationError
        A layer is wrong; the message names file, layer, column, rows and the fix.

    Examples
    --------
    >>> study = study_from_toml()
    >>> study.plan_years
    range(2025, 2036)
    """
    toml = Path(path).resolve() if path is not None else bundled_study_path()
    study = _read_study(toml, found=None)
    assert study is not None  # without ``found`` a problem raises
    return study


def study_and_findings(
    path: str | os.PathLike[str] | None = None,
) -> tuple[Study | None, list[dict[str, str]]]:
    """Load a study as :func:`study_from_toml` does, collecting every problem instead of raising.

    Parameters
    ----------
    path
        The study TOML. ``None`` loads the bundled synthetic Anshan sample.

    Returns
    -------
    study : Study or None
        None when some problem keeps the study from loading.
    findings : list of dict
        One finding (:data:`layout.errors.FINDING_COLUMNS`) per problem, those of every layer
        at once, and the layers' data warnings.

    Examples
    --------
    >>> study, found = study_and_findings()
    >>> study is not None, found
    (True, [])
    """
    toml = Path(path).resolve() if path is not None else bundled_study_path()
    found: list[dict[str, str]] = []
    try:
        return _read_study(toml, found=found), found
    except LayoutError as exc:
        given = exc.findings if isinstance(exc, ValidationError) else []
        return None, [*found, *(given or _findings(str(exc).splitlines(), file=toml.name))]


def _read_study(toml: Path, *, found: list[dict[str, str]] | None) -> Study | None:
    """Load a study: raise at the first kind of problem, or collect them all in ``found``."""
    from .demand.scenarios import scenarios_from_toml

    config = read_toml(toml)
    _problems(_validate.unknown_keys(list(config), TABLES, where=toml.name), found, file=toml)
    meta = study_table(config, toml)
    crs = project_crs(meta["crs"], toml)
    standards = load_profile(meta["profile"], overrides=config.get("standards"))
    _validate.plan_period(meta, most=standards.checks.plan_years_max, where=toml.name)
    if "finance" in config:
        finance_frame(config["finance"], where=toml.name, school_year=meta["school_year"])
    if "enrolment_history" in config:
        where, year = toml.name, meta["school_year"]
        history_frame(config["enrolment_history"], where=where, school_year=year)
    if config.get("scenarios") is not None:
        scenarios_from_toml(config["scenarios"])
    sources, problems = sources_and_problems(config, toml, required=REQUIRED_LAYERS)
    _problems(problems, found, file=toml)
    with warnings.catch_warnings(record=found is not None) as caught:
        if found is not None:
            warnings.simplefilter("always", DataWarning)
        layers, failed = read_layers(sources, crs=crs, base_year=meta["base_year"])
        if failed and found is None:
            raise ValidationError(
                [p for exc in failed.values() for p in exc.problems],
                findings=[f for exc in failed.values() for f in exc.findings],
            )
        across = check_across(layers, sources, base_year=meta["base_year"], far=standards.halo_m)
    if found is None and across is not None:
        raise across
    if found is not None:
        found += [f for exc in failed.values() for f in exc.findings]
        found += across.findings if across is not None else []
        for caught_warning in caught or []:
            if isinstance(caught_warning.message, DataWarning):
                found.append(caught_warning.message.finding)
            else:
                warnings.warn(caught_warning.message, caught_warning.category, stacklevel=3)
        if failed or across is not None or problems:
            return None
    config = with_scenarios(config, layers["population"], year=meta["base_year"], path=toml)
    return Study(path=toml, layers=layers, config=config, standards=standards, **meta)


def _problems(lines: list[str], found: list[dict[str, str]] | None, *, file: Path) -> None:
    """Raise the problem lines as one StudyError, or add them to ``found`` as findings."""
    if lines and found is None:
        raise StudyError("\n".join(lines))
    if found is not None:
        found += _findings(lines, file=file.name)


def _findings(lines: Iterable[str], *, file: str) -> list[dict[str, str]]:
    """One finding per problem line, naming the file."""
    return [{**finding_from_text(line), "file": file} for line in lines]


def read_layers(
    sources: Mapping[str, LayerSource], *, crs: str, base_year: int | None
) -> tuple[dict[str, pd.DataFrame], dict[str, ValidationError]]:
    """Read every layer, counties and townships first; return the layers and those that failed.

    A failing layer does not stop the others, so one run names every problem of the study.

    Parameters
    ----------
    sources
        The study's layers.
    crs
        The study CRS.
    base_year
        The study's base year.

    Returns
    -------
    layers, failed
        The layers read, and the error of each layer that failed.
    """
    layers: dict[str, pd.DataFrame] = {}
    failed: dict[str, ValidationError] = {}
    order = [n for n in _FIRST if n in sources] + [n for n in sources if n not in _FIRST]
    for name in order:
        context = _context(layers, base_year=base_year)
        try:
            layers[name] = read_layer(sources[name], target_crs=crs, context=context)
        except ValidationError as exc:
            failed[name] = exc
    return layers, failed


def _context(layers: Mapping[str, pd.DataFrame], *, base_year: int | None) -> Context:
    counties, townships = layers.get("counties"), layers.get("townships")
    if counties is None or not len(counties):
        return Context(base_year=base_year, townships=townships)
    area = counties.geometry.union_all()
    west, south, east, north = (float(v) for v in counties.to_crs("EPSG:4490").total_bounds)
    return Context(
        base_year=base_year, townships=townships, area=area, near=(west, south, east, north)
    )


def with_scenarios(
    config: dict[str, Any], population: pd.DataFrame, *, year: int, path: Path
) -> dict[str, Any]:
    """Return ``config`` with a ``[scenarios]`` table: the study's own, else one from its data.

    A study without ``[scenarios]`` gets a ``medium`` scenario derived from its own population
    (:func:`layout.demand.scenarios.scenarios_from_population`), with a notice in the log;
    no other place's birth rates are used silently.
    """
    if "scenarios" in config:
        return config
    from .demand.scenarios import scenarios_from_population

    table = scenarios_from_population(population, year=year)
    medium = table["medium"]
    LOG.warning(
        "%s has no [scenarios]: one scenario, medium, is derived from its own population: "
        "%s births per 1000 residents (age 0-4 / 5 / residents), child share %s, residents and "
        "migration flat. Add [scenarios.<name>] tables to set your own (see docs/study.md).",
        path.name,
        medium["birth_rate"][str(year)],
        medium["child_share"],
    )
    return {**config, "scenarios": table}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a study TOML saved as UTF-8 (with or without BOM), GBK or GB18030.

    Raises
    ------
    StudyError
        The file is missing or is not valid TOML (the message names the line).
    """
    if not path.is_file():
        raise StudyError(f"study file {path} not found. Fix: pass the path of a study TOML.")
    try:
        text, encoding = read_text(path, encoding=None)
    except UnicodeDecodeError as exc:
        raise StudyError(
            f"{path.name}: not UTF-8, GBK or GB18030 text. Fix: save it as UTF-8."
        ) from exc
    if encoding not in {"utf-8", "utf-8-sig"}:
        LOG.info("%s read as %s (saving it as UTF-8 is safer)", path.name, encoding)
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path.name}: not valid TOML ({exc}). Fix: correct that line.") from exc


def study_table(config: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """Return the checked ``[study]`` table with its defaults; raise :class:`StudyError`."""
    table = config.get("study")
    if not isinstance(table, dict):
        raise StudyError(f"{path.name}: no [study] table. Fix: add one (see layout.study).")
    problems = []
    for key, kind in STUDY_KEYS.items():
        if key not in table:
            if key not in {"description", "synthetic", "title", "data_date"}:
                problems.append(f"{path.name}: [study] lacks '{key}'.")
        elif not isinstance(table[key], kind) or (kind is int and isinstance(table[key], bool)):
            problems.append(f"{path.name}: [study] {key} must be {_kind_name(kind)}.")
    problems += _validate.unknown_keys(list(table), list(STUDY_KEYS), where=f"{path.name}: [study]")
    if not problems and table["plan_end"] < table["plan_start"]:
        problems.append(f"{path.name}: [study] plan_end is before plan_start.")
    if not problems and table["plan_start"] < table["base_year"]:
        problems.append(
            f"{path.name}: [study] plan_start {table['plan_start']} is before base_year "
            f"{table['base_year']} (the population's year, from which children are projected). "
            "Fix: start the plan in or after the base year."
        )
    if problems:
        raise StudyError("\n".join(problems))
    meta = {k: table[k] for k in STUDY_KEYS if k in table and k != "description"}
    meta.setdefault("title", meta["name"])
    meta.setdefault("synthetic", False)
    meta.setdefault("data_date", str(meta["school_year"]))
    return meta


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "an integer", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def project_crs(text: str, path: Path) -> str:
    """Return the study CRS after checking it is a projected CRS; raise :class:`StudyError`."""
    if is_web_datum(text):
        raise StudyError(f"{path.name}: [study] {web_datum_fix(text, layer=None)}.")
    try:
        crs = CRS.from_user_input(text)
    except CRSError as exc:
        raise StudyError(f"{path.name}: [study] crs '{text}' is not a known CRS.") from exc
    if not crs.is_projected:
        raise StudyError(
            f"{path.name}: [study] crs '{text}' is geographic; metric work needs a projected CRS "
            "(for Anshan the CGCS2000 3-degree zone CM 123E, EPSG:4550)."
        )
    return text


def check_across(
    layers: dict[str, pd.DataFrame],
    sources: Mapping[str, LayerSource],
    *,
    base_year: int,
    far: float,
) -> ValidationError | None:
    """Cross-layer checks: codes that must exist, and rows lying outside the study area.

    Layers that were read are checked (a layer that failed is left out). Population cells of
    another year than ``base_year``, and schools, developments and parcels more than ``far``
    metres outside the study area are refused; those nearer are skipped from ``layers`` with a
    warning, and the teachers of skipped schools refused, naming why the school was skipped.

    Returns
    -------
    layout.errors.ValidationError or None
        Every cross-layer problem, or ``None``.
    """
    if "counties" not in layers or "townships" not in layers:
        return None
    counties = layers["counties"]
    area = counties.geometry.union_all()
    checks: list[_validate.LayerCheck] = []
    county_codes = set(counties["county_code"])
    township_codes = set(layers["townships"]["township_code"])
    for name, frame in layers.items():
        src, spec = sources[name], LAYERS[name]
        check = _validate.LayerCheck(frame, spec, src.where, file=src.file)
        if name not in _OUTSIDE_LAYERS:
            check.add(
                "county_code",
                ~frame["county_code"].isin(county_codes),
                "county code not in the counties layer",
                "use a 6-digit code of the counties layer",
            )
        if "township_code" in frame.columns and name not in {"townships", "halo_schools"}:
            check.add(
                "township_code",
                ~frame["township_code"].isin(township_codes),
                "township code not in the townships layer",
                "use a code of the townships layer",
            )
        if name == "population":
            check.add(
                "geometry",
                _validate.outside(frame, area),
                "cell outside the study boundary (its children would be lost)",
                "clip the grid to the counties layer",
            )
            check.add(
                "year",
                frame["year"] != base_year,
                f"year other than the study's base_year {base_year}",
                f"give the population of {base_year}, or set base_year in [study] to the "
                "layer's year",
            )
        if name in {"schools", "developments", "reserved_land"}:
            check.add(
                "geometry",
                frame.distance(area) > far,
                f"more than {far / 1000:,.0f} km outside the study boundary",
                "check the coordinates and their CRS (x is the longitude or easting)",
            )
        checks.append(check)
    if "halo_schools" in layers and "schools" in layers:
        checks.append(_halo_problems(layers, sources["halo_schools"], county_codes))
    problems = [p for c in checks for p in c.problems]
    if problems:
        return ValidationError(problems, findings=[f for c in checks for f in c.findings])
    _skip_outside(layers, sources, area)
    return None


def _halo_problems(
    layers: Mapping[str, pd.DataFrame], source: LayerSource, counties: set[str]
) -> _validate.LayerCheck:
    """Check that halo schools are of other counties and not also in the schools layer."""
    halo = layers["halo_schools"]
    check = _validate.LayerCheck(halo, LAYERS["halo_schools"], source.where, file=source.file)
    check.add(
        "county_code",
        halo["county_code"].isin(counties),
        "school of a county of this study (halo schools belong to other counties)",
        "move it to the schools layer",
    )
    check.add(
        "school_id",
        halo["school_id"].isin(layers["schools"]["school_id"]),
        "school also in the schools layer (it would be counted twice)",
        "remove it from one of the two layers",
    )
    return check


def _skip_outside(
    layers: dict[str, pd.DataFrame], sources: Mapping[str, LayerSource], area: Any
) -> None:
    """Skip, with a warning, schools, developments and parcels outside the study area."""
    for name in ("schools", "developments", "reserved_land"):
        if name not in layers:
            continue
        frame = layers[name]
        src = sources[name]
        check = _validate.LayerCheck(frame, LAYERS[name], src.where, file=src.file)
        keep = check.warn_skip(
            _validate.outside(frame, area),
            "outside the study boundary (check the coordinates and their CRS)",
            "move the rows inside the counties layer or remove them",
        )
        skipped = [*frame.attrs.pop(SKIPPED_IDS, []), *check.ids[~keep]]
        if not keep.all():
            layers[name] = frame[keep].reset_index(drop=True)
        if name == "schools" and "teachers" in layers:
            _validate.skipped_teachers(
                layers["teachers"],
                skipped=set(skipped),
                where=sources["teachers"].where,
                schools_where=sources["schools"].where,
            )
    for layer in layers.values():
        layer.attrs.pop(SKIPPED_IDS, None)
