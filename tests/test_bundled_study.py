"""One study, one answer (issue 14): the commands and both kinds of run agree on the bundled study.

- ``layout plan --workers 2`` (county by county) writes the same layers with the same rows as
  ``layout plan`` (the whole study in one piece): every table, the yield model and the site
  proposals, apart from row order and the ``county_code`` column a merge adds.
- ``layout plan``, ``layout land`` and ``layout closure`` count the same children of new
  developments for the same study and scenario. The reference is the development children of
  the study's yields fitted once (:func:`layout.demand.study_yields`); the default rates give
  far more on this study, so a command that used them would fail here.

These are the two most expensive tests of the suite (two runs of the bundled study); the runs
are shared through module fixtures.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from layout.cli import main
from layout.demand import YieldModel, development_children, study_yields
from layout.schema import enrolment_columns
from layout.study import Study, study_from_toml

SCENARIO = "medium"
CLOSED = "S2103810081"
"""A school of county 210381 (the README's closure example)."""


@pytest.fixture(scope="module")
def study() -> Study:
    return study_from_toml()


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``layout plan`` on the bundled study: the folder holding its ``results.gpkg``."""
    root = tmp_path_factory.mktemp("whole")
    code = main(["plan", "--out", str(root / "out"), "--maps", str(root / "maps"), "--quiet"])
    assert code == 0
    return root / "out"


@pytest.fixture(scope="module")
def by_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``layout plan --workers 2`` on the bundled study."""
    root = tmp_path_factory.mktemp("counties")
    args = ["plan", "--workers", "2", "--out", str(root / "out"), "--maps", str(root / "maps")]
    assert main([*args, "--quiet"]) == 0
    return root / "out"


def _layer(path: Path, name: str) -> pd.DataFrame:
    """A layer of a GeoPackage (or a GeoParquet file), its geometry as WKT to the millimetre.

    Rows then compare as text.
    """
    if path.suffix == ".parquet" or path.is_dir():
        frame = gpd.read_parquet(path)
    else:
        frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
    if "geometry" not in frame.columns:
        return pd.DataFrame(frame)
    return pd.DataFrame(frame).assign(geometry=frame.geometry.to_wkt(rounding_precision=3))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order: by every column that is not a float, then by the floats rounded."""
    keys = [c for c in frame.columns if frame[c].dtype.kind not in "fc"]
    floats = [c for c in frame.columns if c not in keys]
    order = frame.assign(**{f"_{c}": frame[c].round(6) for c in floats})
    order = order.sort_values([*keys, *(f"_{c}" for c in floats)], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)


def test_workers_2_writes_the_same_layers_as_one_run(whole: Path, by_county: Path) -> None:
    one, many = whole / "results.gpkg", by_county / "results.gpkg"
    names = [row[0] for row in pyogrio.list_layers(one)]
    assert sorted(names) == sorted(row[0] for row in pyogrio.list_layers(many))
    assert {"yield_model", "site_proposals", "under_provisioned", "access_summary"} <= set(names)
    for name in names:
        a, b = _layer(one, name), _layer(many, name)
        if "county_code" in b.columns and "county_code" not in a.columns:
            b = b.drop(columns="county_code")  # a merge tags county-level copies of a table
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), name
        pd.testing.assert_frame_equal(
            _sorted(a), _sorted(b), check_dtype=False, rtol=1e-6, atol=1e-6, obj=name
        )
    # The per-cell tables beside the GeoPackage (Parquet) agree too.
    for name in ("demand", "cell_flags", "cell_reasons", "assignment", "site_coverage"):
        a, b = _cells(whole / name), _cells(by_county / name)
        assert len(a) == len(b) > 0, name
        pd.testing.assert_frame_equal(
            _sorted(a), _sorted(b), check_dtype=False, rtol=1e-6, atol=1e-6, obj=name
        )
    a, b = (_layer(folder / "cells.parquet", "") for folder in (whole, by_county))
    pd.testing.assert_frame_equal(_sorted(a), _sorted(b))


def _cells(folder: Path) -> pd.DataFrame:
    """A per-cell table of a run, its partition keys (categories when read) as plain values.

    Its geometry, if any, as WKT to the millimetre.
    """
    frame = pd.read_parquet(folder)
    if "geometry" in frame.columns:
        frame = _layer(folder, "")
    kinds = {"county_code": str, "year": int, "scenario": str}
    return frame.astype({k: v for k, v in kinds.items() if k in frame.columns})


def _reference(study: Study, model: YieldModel, years: range) -> pd.DataFrame:
    """Children of new developments per phase, year and level, with the given yields."""
    table = development_children(
        study["developments"], years=years, base_year=study.base_year, yield_model=model
    )
    phases = study["developments"].set_index("phase_id")
    return table.assign(
        development_id=phases.loc[table["phase_id"], "development_id"].astype(str).to_numpy(),
        county_code=phases.loc[table["phase_id"], "county_code"].astype(str).to_numpy(),
    )


def test_plan_land_and_closure_count_the_same_development_children(
    study: Study, whole: Path, tmp_path: Path
) -> None:
    fitted = _reference(study, study_yields(study), study.plan_years)
    default = _reference(study, YieldModel(), study.plan_years)
    assert default["children"].sum() > 1.2 * fitted["children"].sum()  # the test discriminates

    # layout plan: children from developments per county, year and level.
    plan = _layer(whole / "results.gpkg", "demand_by_county")
    plan = plan[plan["scenario"] == SCENARIO].set_index(["county_code", "year", "level"])
    expected = fitted.groupby(["county_code", "year", "level"])["children"].sum()
    got = plan["from_developments"].reindex(expected.index)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert plan["from_developments"].sum() == pytest.approx(expected.sum(), rel=1e-9)

    # layout land: each development's children at their peak (every phase fully occupied).
    land_out = tmp_path / "land"
    assert main(["land", "--out", str(land_out), "--maps", str(tmp_path / "m"), "--quiet"]) == 0
    checked = _layer(land_out / "land.gpkg", "developments_check").set_index("development_id")
    model = study_yields(study)
    last = int(study["developments"]["delivery_year"].max())
    full = last + len(model.defaults.occupancy_ramp) - 1  # the last phase fully occupied
    peaks = (
        _reference(study, model, range(study.base_year, full + 1))
        .groupby(["development_id", "year", "level"])["children"]
        .sum()
        .groupby(level=["development_id", "level"])
        .max()
        .unstack("level")
    )
    for level in ("primary", "junior"):
        land = checked[f"{level}_children"].reindex(peaks.index).to_numpy()
        np.testing.assert_allclose(land, peaks[level].to_numpy(), rtol=1e-9, atol=1e-9)

    # layout closure: the county's children of the year, new developments' included, are
    # the plan's for the same county, year and scenario.
    year = 2030
    args = ["closure", "--school", CLOSED, "--year", str(year), "--scenario", SCENARIO]
    closure_out = tmp_path / "closure"
    code = main([*args, "--out", str(closure_out), "--maps", str(tmp_path / "m2"), "--quiet"])
    assert code == 0
    summary = _layer(closure_out / "closure" / "closure.gpkg", "closure_summary")
    assert len(summary) > 0
    for row in summary.itertuples():
        key = (str(row.county_code), year, str(row.level))
        assert plan.loc[key, "from_developments"] > 0
        assert row.children == pytest.approx(plan.loc[key, "children"], rel=1e-9)


def test_plan_writes_every_output(study: Study, whole: Path) -> None:
    # Hidden files are the packs' manifests (layout.runs._pack).
    maps = sorted(p.name for p in (whole.parent / "maps").iterdir() if p.name[0] != ".")
    assert maps == ["balance.html", "overview.html", "provision.html", "sites.html"]
    assert sorted(p.name for p in whole.iterdir() if p.name[0] != ".") == [
        "assignment",
        "cell_flags",
        "cell_reasons",
        "cells.parquet",
        "charts",
        "demand",
        "index.html",
        "results.gpkg",
        "site_coverage",
        "tables.xlsx",
    ]
    # The first finding counts the study's layers: counties, schools that exist (open or
    # closing; planned ones are not yet built) and their pupils.
    schools = study["schools"][study["schools"]["status"] != "planned"]
    pupils = int(schools[enrolment_columns()].to_numpy().sum())
    n, year = len(study["counties"]), study.school_year
    page = (whole / "index.html").read_text(encoding="utf-8")
    assert f"{n}个县（市、区），{len(schools)}所学校，{year}年在校生{pupils:,}人。" in page
