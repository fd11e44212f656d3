"""Schools of one county: where they stand, who attends, classes, teachers, buildings.

Siting rules (assumptions, see ``data/README.md``):

* urban zones: primary schools where most pupils live, until :data:`URBAN_PRIMARY_COVER` of
  them live in or next to a school's cell; junior schools at weighted k-means centres of the
  zone's pupils, one per :data:`URBAN_JUNIOR_PUPILS`; in some zones one primary becomes a
  nine-year school replacing a junior school;
* rural townships: a central primary and a boarding junior school at the township seat, or a
  single boarding nine-year school when the township has few junior pupils; village primary
  schools in the largest villages far from the seat; teaching points in villages far from any
  primary school;
* planned schools on reserved parcels under construction.

Pupils of each grade choose among the three nearest schools teaching it with probability
proportional to ``attraction * exp(-distance / CHOICE_M)``; a few urban schools are popular
(high attraction) and overcrowded, with classes of 56 and more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .development import students_per_class
from .settlement import Settlement, snap_distinct, weighted_centres

URBAN_PRIMARY_COVER = 0.98
"""Share of an urban zone's primary pupils living in or next to the cell of a primary school."""
URBAN_PRIMARY_MIN = 100.0
"""Fewest pupils a further urban primary school must add to those covered."""
URBAN_JUNIOR_PUPILS = 1_300.0
NINE_YEAR_BELOW = 400
"""A township with fewer junior pupils gets one boarding nine-year school at its seat."""
VILLAGE_SCHOOL_PUPILS = 350.0
"""At most one village primary school per this many primary pupils of a township."""
VILLAGE_SCHOOL_M = 4_000.0
TEACHING_POINT_M = 5_000.0
BOARDING_M = 3_000.0
"""Pupils living farther than this from a boarding school may board."""
CHOICE_M = 200.0
CROWDED_SHARE = 0.12
CROWDED_ATTRACTION = 2.0
"""Attraction of a popular, overcrowded urban school (1 for the others)."""
NINE_YEAR_SHARE = 0.35
"""Chance that an urban zone with two or more primary schools turns one into a nine-year school."""
SHORT_STAFF_SHARE = 0.18
CLOSING_BELOW = 12
"""Village schools and teaching points with fewer pupils are closing."""
_PLANNED_COLUMNS = ("planned_classes", "parcel_area")
_PRIMARY = np.arange(9) < 6
_NORM = np.where(_PRIMARY, 45.0, 50.0)
_ATTRACTION = {"urban": 1.0, "central": 1.0, "seat": 1.0, "village": 0.8, "point": 0.1}


@dataclass(frozen=True)
class Pupils:
    """Pupils of grades 1-9 by home cell.

    Attributes
    ----------
    xy
        ``(cells, 2)`` cell points.
    zone
        Zone (seat) index of each cell.
    count
        ``(cells, 9)`` pupils of grades 1-9 living in each cell.
    """

    xy: np.ndarray
    zone: np.ndarray
    count: np.ndarray


def _site(xy: np.ndarray, level: str, kind: str, top: int = 9) -> dict[str, Any]:
    """One candidate school: position, level, kind and the grades it teaches."""
    first = 7 if level == "junior" else 1
    last = 6 if level == "primary" else top
    grades = (np.arange(1, 10) >= first) & (np.arange(1, 10) <= last)
    return {"x": float(xy[0]), "y": float(xy[1]), "level": level, "kind": kind, "grades": grades}


def _urban_sites(
    xy: np.ndarray,
    pupils: np.ndarray,
    *,
    size: float,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Primary and junior schools of one urban zone, maybe one of them nine-year.

    Schools stand at cell points, on the street grid. Primary schools go where most pupils
    are (:func:`_covering_cells`); junior schools at weighted k-means centres of the pupils.
    """
    sites: dict[str, list[dict[str, Any]]] = {"primary": [], "junior": []}
    covering = _covering_cells(xy, pupils[:, _PRIMARY].sum(axis=1).astype(float), size)
    sites["primary"] = [_site(p, "primary", "urban") for p in xy[covering]]
    weight = pupils[:, ~_PRIMARY].sum(axis=1)
    k = min(max(int(round(weight.sum() / URBAN_JUNIOR_PUPILS)), 1), int((weight > 0).sum()))
    if k > 0:
        pick = snap_distinct(weighted_centres(xy, weight.astype(float), k, rng=rng), xy)
        sites["junior"] = [_site(p, "junior", "urban") for p in xy[pick]]
    primary, junior = sites["primary"], sites["junior"]
    if len(primary) >= 2 and junior and rng.random() < NINE_YEAR_SHARE:
        nine = primary[0]
        if len(junior) >= 2:  # the nine-year school replaces the nearest junior school
            gap = [np.hypot(j["x"] - nine["x"], j["y"] - nine["y"]) for j in junior]
            junior.pop(int(np.argmin(gap)))
        primary[0] = _site(np.array([nine["x"], nine["y"]]), "nine_year", "urban")
    return primary + junior


def _covering_cells(xy: np.ndarray, pupils: np.ndarray, size: float) -> list[int]:
    """Cells given a primary school, greedily: the most pupils not yet within one cell's step.

    A school covers its own cell and the four cells a step of ``size`` away (on the street
    grid they are ``size`` metres of street from it). Picks go on until
    :data:`URBAN_PRIMARY_COVER` of the pupils are covered or a school would gain fewer than
    :data:`URBAN_PRIMARY_MIN` of them; a zone with pupils gets at least one.
    """
    if pupils.sum() <= 0:
        return []
    near = cKDTree(xy).sparse_distance_matrix(cKDTree(xy), size * 1.001, output_type="coo_matrix")
    cover = sparse.csr_array((np.ones(near.nnz), (near.row, near.col)), shape=(len(xy), len(xy)))
    left = pupils.copy()
    chosen: list[int] = []
    while left.sum() > (1 - URBAN_PRIMARY_COVER) * pupils.sum():
        gain = cover @ left
        best = int(np.argmax(gain))
        if chosen and gain[best] < URBAN_PRIMARY_MIN:
            break
        chosen.append(best)
        left[cover[[best]].indices] = 0.0
    return chosen


def _rural_sites(
    seat: np.ndarray,
    villages: np.ndarray,
    mass: np.ndarray,
    pupils: np.ndarray,
    polygon: BaseGeometry,
) -> list[dict[str, Any]]:
    """Seat schools and village primary schools of one rural township."""
    n_primary, n_junior = pupils[_PRIMARY].sum(), pupils[~_PRIMARY].sum()
    if n_primary + n_junior == 0:
        return []
    if n_junior < NINE_YEAR_BELOW:
        sites = [_site(seat, "nine_year", "seat")]
    else:
        beside = seat + np.array([200.0, 0.0])
        inside = shapely.contains_xy(polygon, *beside)
        sites = [
            _site(seat, "primary", "central"),
            _site(beside if inside else seat, "junior", "seat"),
        ]
    chosen = _village_schools(seat, villages, mass, int(n_primary // VILLAGE_SCHOOL_PUPILS))
    return sites + [_site(v, "primary", "village") for v in villages[chosen]]


def _village_schools(
    seat: np.ndarray, villages: np.ndarray, mass: np.ndarray, count: int
) -> list[int]:
    """Villages given a primary school, greedily: most residents farther than 4 km from any school.

    Each pick is the village whose neighbourhood (2 km) holds the most residents of villages
    still farther than :data:`VILLAGE_SCHOOL_M` from the seat and earlier picks.
    """
    near = np.hypot(*(villages[:, None, :] - villages[None, :, :]).transpose(2, 0, 1)) < 2_000.0
    gap = np.hypot(*(villages - seat).T)
    chosen: list[int] = []
    for _ in range(count):  # a handful of picks per township
        uncovered = gap > VILLAGE_SCHOOL_M
        if not uncovered.any():
            break
        score = np.where(uncovered, near @ (mass * uncovered), 0.0)
        best = int(np.argmax(score))
        chosen.append(best)
        gap = np.minimum(gap, np.hypot(*(villages - villages[best]).T))
    return chosen


def _teaching_points(
    sites: pd.DataFrame,
    settlement: Settlement,
    village_zone: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Teaching points in villages far from any primary school, up to two per rural zone."""
    primary = sites[sites["level"].isin(["primary", "nine_year"])][["x", "y"]].to_numpy()
    if len(primary) == 0 or len(settlement.village_xy) == 0:
        return []
    gap = cKDTree(primary).query(settlement.village_xy)[0]
    rural = ~settlement.seat_urban[village_zone]
    points = []
    for zone in np.unique(village_zone[(gap > TEACHING_POINT_M) & rural]):
        members = np.flatnonzero((village_zone == zone) & (gap > TEACHING_POINT_M))
        for v in members[np.argsort(-gap[members], kind="stable")[:2]]:
            top = 4 if rng.random() < 0.4 else 3
            points.append(_site(settlement.village_xy[v], "teaching_point", "point", top))
    return points


def _planned(parcels: pd.DataFrame) -> list[dict[str, Any]]:
    """Planned schools on reserved parcels under construction."""
    building = parcels[parcels["status"] == "under_construction"]
    points = shapely.point_on_surface(building["geometry"].to_numpy())
    rows = []
    for point, level, classes, area in zip(
        points,
        building["planned_level"],
        building["planned_classes"],
        shapely.area(building["geometry"].to_numpy()),
        strict=True,
    ):
        row = _site(np.array([point.x, point.y]), level, "planned")
        row.update(planned_classes=int(classes), parcel_area=float(area))
        rows.append(row)
    return rows


def _assign(
    pupils: Pupils, sites: pd.DataFrame, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Enrolment by grade and boarders of each site from the pupils of each cell."""
    n = len(sites)
    grades = np.stack(list(sites["grades"])) if n else np.zeros((0, 9), bool)
    xy = sites[["x", "y"]].to_numpy()
    attraction = sites["attraction"].to_numpy()
    boarding = sites["boarding"].to_numpy()
    is_open = (sites["kind"] != "planned").to_numpy()
    enrol, boarders = np.zeros((n, 9), np.int64), np.zeros(n, np.int64)
    for g in range(9):
        offer = np.flatnonzero(grades[:, g] & is_open)
        if offer.size == 0:
            continue
        k = min(3, offer.size)
        dist, near = cKDTree(xy[offer]).query(pupils.xy, k=k)
        dist, near = dist.reshape(-1, k), offer[near.reshape(-1, k)]
        log_w = np.log(attraction[near]) - dist / CHOICE_M
        p = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        counts = rng.multinomial(pupils.count[:, g], p / p.sum(axis=1, keepdims=True))
        enrol[:, g] = np.bincount(near.ravel(), weights=counts.ravel(), minlength=n)
        if g >= 3:
            far = (dist > BOARDING_M) & boarding[near]
            board = rng.binomial(counts[far], 0.8 if g >= 6 else 0.3)
            boarders += np.bincount(near[far], weights=board, minlength=n).astype(np.int64)
    return enrol, boarders


def _classes(enrol: np.ndarray, sites: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Classes by grade: norm sizes (45/50) rural, 36-50 urban, 48-62 in crowded schools."""
    n = len(enrol)
    urban = (sites["kind"] == "urban").to_numpy()[:, None]
    crowded = sites["crowded"].to_numpy()[:, None]
    urban_size = np.where(
        _PRIMARY, rng.uniform(36.0, 45.0, (n, 1)), rng.uniform(40.0, 50.0, (n, 1))
    )
    target = np.where(urban, urban_size, _NORM)
    classes = np.ceil(enrol / target)
    crowd = np.maximum(np.rint(enrol / rng.uniform(48.0, 62.0, (n, 9))), 1)
    classes = np.where(crowded, crowd, classes)
    point = (sites["level"] == "teaching_point").to_numpy()[:, None]
    classes = np.where(point, 1, classes)
    return np.where(enrol > 0, classes, 0).astype(np.int64)


def _capacity(
    classes: np.ndarray, enrol: np.ndarray, sites: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray:
    """Design places: per part (primary, junior) its design classes per grade times the norm.

    Village schools and teaching points, whose classes are far below the norm size, have room
    for their largest grade and a fifth to a half more, per grade taught.
    """
    grades = np.stack(list(sites["grades"]))
    crowded = sites["crowded"].to_numpy()
    capacity = np.zeros(len(classes))
    for part in (_PRIMARY, ~_PRIMARY):
        offered = grades & part
        taught = offered & (classes > 0)
        mean = classes.sum(axis=1, where=offered) / np.maximum(taught.sum(axis=1), 1)
        spare = rng.integers(0, 2, len(classes))
        design = np.where(
            crowded,
            np.maximum(np.rint(0.85 * mean), 1),
            classes.max(axis=1, where=offered, initial=0) + spare,
        )
        capacity += design * offered.sum(axis=1) * _NORM[part][0]
    # Village schools and teaching points: per grade taught, room for the largest grade and
    # a fifth to a half more, in fives (a class far below the norm size).
    room = 5 * np.ceil(enrol.max(axis=1) * rng.uniform(1.2, 1.5, len(enrol)) / 5)
    small = sites["kind"].isin(["village", "point"]).to_numpy()
    capacity = np.where(small, np.maximum(room, 5) * grades.sum(axis=1), capacity)
    planned = (sites["kind"] == "planned").to_numpy()
    level = sites["level"].to_numpy()
    return np.rint(
        np.where(planned, sites["planned_classes"] * students_per_class(level), capacity)
    ).astype(np.int64)


def _teachers(
    enrol: np.ndarray,
    classes: np.ndarray,
    boarders: np.ndarray,
    rural: np.ndarray,
    staffing: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Teachers from the staffing norms; small rural schools at least 1.5 per class."""
    need = (
        enrol[:, _PRIMARY].sum(axis=1) / staffing[0] + enrol[:, ~_PRIMARY].sum(axis=1) / staffing[1]
    )
    need = need + boarders / 100.0
    total = enrol.sum(axis=1)
    need = np.where(rural & (total < 100), np.maximum(need, 1.5 * classes.sum(axis=1)), need)
    short = rng.random(len(need)) < SHORT_STAFF_SHARE
    factor = np.where(short, rng.uniform(0.7, 0.9, len(need)), rng.uniform(0.95, 1.15, len(need)))
    return np.where(total > 0, np.maximum(np.rint(need * factor), 1), 0).astype(np.int64)


def _premises(
    sites: pd.DataFrame,
    capacity: np.ndarray,
    total: np.ndarray,
    classes: np.ndarray,
    rural: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Land and building areas, equipment value and multimedia rooms."""
    n = len(sites)
    per_student = np.where(rural, rng.uniform(25.0, 45.0, n), rng.uniform(12.0, 28.0, n))
    land = np.where(sites["kind"] == "planned", sites["parcel_area"], capacity * per_student)
    building = capacity * rng.uniform(5.5, 9.5, n)
    return {
        "land_area_m2": np.round(land, -1),
        "building_area_m2": np.round(building, -1),
        "teaching_area_m2": np.round(building * rng.uniform(0.45, 0.6, n), -1),
        "sports_area_m2": np.round(land * rng.uniform(0.25, 0.4, n), -1),
        "equipment_value_yuan": np.round(total * rng.uniform(1_200.0, 4_500.0, n), -2),
        "multimedia_rooms": np.rint(classes.sum(axis=1) * rng.uniform(0.4, 1.0, n)).astype(
            np.int64
        ),
    }


def _site_table(
    pupils: Pupils,
    settlement: Settlement,
    polygon: BaseGeometry,
    *,
    size: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """All candidate open schools of the county (before enrolment)."""
    village_zone = cKDTree(settlement.seat_xy).query(settlement.village_xy)[1]
    rows: list[dict[str, Any]] = []
    for z, urban in enumerate(settlement.seat_urban):
        mine = pupils.zone == z
        if urban:
            rows += _urban_sites(pupils.xy[mine], pupils.count[mine], size=size, rng=rng)
        else:
            v = village_zone == z
            rows += _rural_sites(
                settlement.seat_xy[z],
                settlement.village_xy[v],
                settlement.village_mass[v],
                pupils.count[mine].sum(axis=0),
                polygon,
            )
    sites = pd.DataFrame(rows, columns=["x", "y", "level", "kind", "grades"])
    points = _teaching_points(sites, settlement, village_zone, rng)
    return pd.DataFrame(rows + points, columns=["x", "y", "level", "kind", "grades"])


def schools(
    pupils: Pupils,
    settlement: Settlement,
    polygon: BaseGeometry,
    parcels: pd.DataFrame,
    *,
    staffing: tuple[float, float],
    size: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Schools of one county with enrolment, classes, teachers, capacity and premises.

    Parameters
    ----------
    pupils
        Pupils of grades 1-9 by home cell.
    settlement
        The county's settlements (zone seats and villages).
    polygon
        County polygon.
    parcels
        The county's reserved parcels; those under construction get a planned school.
    staffing
        Pupils per teacher in primary and junior grades.
    size
        Cell side in metres.
    rng
        Random generator.

    Returns
    -------
    pandas.DataFrame
        One row per school with the schema's columns except the ids, names, county and
        township codes and ``backbone_teachers`` (set from the teacher roster), and
        ``geometry``.
    """
    sites = _site_table(pupils, settlement, polygon, size=size, rng=rng)
    planned = pd.DataFrame(_planned(parcels), columns=[*sites.columns, *_PLANNED_COLUMNS])
    sites = (
        pd.concat([sites, planned], ignore_index=True)
        if len(planned)
        else sites.reindex(columns=[*sites.columns, *_PLANNED_COLUMNS])
    )
    urban = sites["kind"] == "urban"
    crowded = np.zeros(len(sites), bool)
    pick = rng.choice(
        np.flatnonzero(urban), size=int(round(CROWDED_SHARE * urban.sum())), replace=False
    )
    crowded[pick] = True
    sites["crowded"] = crowded
    usual = sites["kind"].map(_ATTRACTION).fillna(1.0)
    sites["attraction"] = np.where(crowded, CROWDED_ATTRACTION, usual)
    sites["boarding"] = sites["kind"] == "seat"
    enrol, boarders = _assign(pupils, sites, rng)
    keep = (enrol.sum(axis=1) > 0) | (sites["kind"] == "planned").to_numpy()
    sites, enrol, boarders = sites[keep].reset_index(drop=True), enrol[keep], boarders[keep]
    return _describe(sites, enrol, boarders, staffing=staffing, rng=rng)


def _describe(
    sites: pd.DataFrame,
    enrol: np.ndarray,
    boarders: np.ndarray,
    *,
    staffing: tuple[float, float],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Derive the schema's columns of the schools from their sites and enrolment."""
    classes = _classes(enrol, sites, rng)
    total = enrol.sum(axis=1)
    rural = ~sites["kind"].isin(["urban", "planned"]).to_numpy()
    teachers = _teachers(enrol, classes, boarders, rural, staffing, rng)
    capacity = _capacity(classes, enrol, sites, rng)
    beds = np.where(
        sites["boarding"], 10 * np.ceil(boarders * rng.uniform(1.0, 1.5, len(sites)) / 10), 0
    )
    small = sites["kind"].isin(["village", "point"]).to_numpy() & (total < CLOSING_BELOW)
    table = pd.DataFrame(
        {
            **{f"enrolment_g{g + 1}": enrol[:, g] for g in range(9)},
            **{f"classes_g{g + 1}": classes[:, g] for g in range(9)},
            "teachers": teachers,
            "capacity": capacity,
            "boarding_beds": beds.astype(np.int64),
            "boarders": boarders,
            "teachers_above_standard": rng.binomial(teachers, rng.uniform(0.6, 0.95, len(sites))),
            "pe_art_teachers": rng.binomial(teachers, 0.11),
            **_premises(sites, capacity, total, classes, rural, rng),
            "level": sites["level"].to_numpy(),
            "setting": np.where(rural, "rural", "urban"),
            "status": np.select(
                [sites["kind"] == "planned", small], ["planned", "closing"], "open"
            ),
        }
    )
    table["geometry"] = shapely.points(sites["x"].to_numpy(), sites["y"].to_numpy())
    return table
