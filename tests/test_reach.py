"""Straight-line costs keep every school within reach (issue 14): no nearest-k shortcut.

A study without roads costs cells to schools by straight line x the profile's circuity at the
level's travel speed (:func:`layout.access.level_costs`). Every school within the longest trip
of any norm must stay: a cell with more schools in reach than a k-nearest list holds must still
be seated in full, and 2SFCA must equal the computation over every pair of cells and schools.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from shapely.geometry import Point, box

from layout.access import assign, costs_from_distance, level_costs, two_step_fca
from layout.study import Study, study_from_toml
from tests.tinystudy import CRS, X0, Y0, write_tiny_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    """The tiny study: no roads layer, so costs are straight lines."""
    loaded = study_from_toml(write_tiny_study(tmp_path_factory.mktemp("reach") / "study"))
    assert loaded.road_network is None
    return loaded


def _cells(centres: np.ndarray, settings: list[str]) -> gpd.GeoDataFrame:
    """Square 100 m cells around ``centres`` (their centroids are the centres)."""
    return gpd.GeoDataFrame(
        {"cell_id": [f"K{i}" for i in range(len(centres))], "setting": settings},
        geometry=[box(x - 50, y - 50, x + 50, y + 50) for x, y in centres],
        crs=CRS,
    )


def _schools(points: np.ndarray, places: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"school_id": [f"S{j:02d}" for j in range(len(points))], "capacity": places},
        geometry=[Point(x, y) for x, y in points],
        crs=CRS,
    )


def _walk_minutes(study: Study, metres: np.ndarray) -> np.ndarray:
    """Minutes on foot for straight-line ``metres``: x circuity at the walking speed."""
    service = study.standards.service
    return metres * service.circuity / (service.walking_speed_kmh * 1000 / 60)


def test_ten_schools_in_reach_seat_every_child(study: Study) -> None:
    # A rural cell of 1 000 primary children; ten schools of 100 places on a circle of 600 m.
    # On foot (3.6 km/h, circuity 1.3) each is 600 x 1.3 / 60 = 13 minutes away, within the
    # 30-minute norm: every child has a place and every school is full.
    assert study.standards.mode("primary", "rural") == "walk"
    centre = np.array([[X0 + 15_000, Y0 + 5_000]])
    angles = np.arange(10) * 2 * np.pi / 10
    ring = centre + 600.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    cells, schools = _cells(centre, ["rural"]), _schools(ring, np.full(10, 100.0))
    costs = level_costs(study, schools, level="primary", cells=cells)
    assert costs.method == "distance"
    assert costs.minutes.nnz == 10
    assert np.allclose(costs.minutes.data, 13.0)
    found = assign(pd.DataFrame({"cell_id": ["K0"], "children": [1000.0]}), schools, costs)
    assert found.unserved["children"].sum() == pytest.approx(0.0)
    assert found.cells.loc["K0", "assigned"] == pytest.approx(1000.0)
    assert np.allclose(found.schools["load"].to_numpy(), 100.0)


def test_two_step_fca_equals_the_full_pair_computation(study: Study) -> None:
    rng = np.random.default_rng(14)
    origin = np.array([X0 + 10_500, Y0 + 500])
    centres = origin + rng.uniform(0, 3_000, size=(60, 2))
    points = origin + rng.uniform(0, 3_000, size=(40, 2))
    settings = list(rng.choice(["urban", "rural"], size=60))
    children = rng.integers(0, 400, size=60).astype(float)
    places = rng.integers(50, 600, size=40).astype(float)
    cells, schools = _cells(centres, settings), _schools(points, places)
    cells["children"] = children
    threshold = study.standards.minutes("primary", setting="rural")

    costs = level_costs(study, schools, level="primary", cells=cells)
    found = two_step_fca(cells, schools, costs, threshold=threshold).to_numpy()

    # Every pair, independently: primary pupils walk in both settings in this profile.
    assert {study.standards.mode("primary", s) for s in ("urban", "rural")} == {"walk"}
    within = _walk_minutes(study, cdist(centres, points)) <= threshold
    reach = children @ within
    ratio = np.divide(places, reach, out=np.zeros_like(places), where=reach > 0)
    assert np.allclose(found, within @ ratio, rtol=0, atol=1e-12)

    # The case is one where a nearest-8 shortcut would be wrong: many cells have more schools
    # in reach than that, and the shortcut's index differs.
    assert within.sum(axis=1).max() > 8
    service = study.standards.service
    nearest = costs_from_distance(
        cells, schools, circuity=service.circuity, speed_kmh=service.walking_speed_kmh, k=8
    )
    shortcut = two_step_fca(cells, schools, nearest, threshold=threshold).to_numpy()
    assert not np.allclose(shortcut, found)
