"""Merge a county-by-county run: the county result folders and the merged result.

Each county task of :func:`layout.runs.province.run_counties` writes its tables and layers as
(Geo)Parquet in a folder of its own with a ``done`` marker (:func:`_write_result`);
:func:`merge_counties` reads the finished folders back and merges them (:func:`merge_tables`),
settling the border seats where the profile allows cross-county enrolment.

Examples
--------
>>> import pandas as pd
>>> one = {"t": pd.DataFrame({"county_code": ["210302"], "n": [3]})}
>>> two = {"t": pd.DataFrame({"county_code": ["210303"], "n": [4]})}
>>> merge_tables({"210303": two, "210302": one})["t"]["n"].tolist()
[3, 4]
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq

from ..access import BORDER_INPUTS, CostMethod, settle_borders
from ..errors import CountyRunError, ValidationError
from ..indicators import balance_target, study_pairs
from ..schema import HALO, LAYERS
from ..sites import SitePlan, gained_cells
from ..study import Study, study_from_toml
from ._partition import read_manifest, replacing_folder
from .outputs import PER_CELL
from .plan import PlanResult

__all__ = ["MergedResult", "merge_counties", "merge_tables"]

_DONE = "done"
_TABLES = "tables"
_LAYERS = "layers"
_CELLS = "demand_by_cell.parquet"


@dataclass
class MergedResult(PlanResult):
    """The merged result of a county-by-county run; a :class:`~layout.runs.plan.PlanResult`.

    ``study`` holds the union of the counties' partition layers (the halo schools left out),
    ``tables`` and ``layers`` the merged tables and result layers (see :func:`merge_tables`).
    The per-cell tables (:data:`~layout.runs.outputs.PER_CELL`: demand, cell flags and reasons,
    assignment, site coverage) are not held: :meth:`per_cell` reads them county by county from
    the counties' result folders, so a province's tens of millions of rows are never in one
    process. ``demand`` is ``None``. ``sites`` is the counties' site plans joined (from the
    ``site_*`` layers), for the sites map; its ``coverage`` holds only the cells the plans
    bring within the norm (:func:`layout.sites.gained_cells`, what the map draws).

    Attributes
    ----------
    counties_dir
        The folder of the counties' result folders.
    counties_run
        The county codes merged: every county partitioned.
    runs
        One row per county: ``county_code``, ``kept`` (finished in an earlier run and kept
        by ``resume``), ``attempts``, ``seconds`` (load and analysis) and ``worker_peak_mb``
        (peak resident memory of the process that ran it, so far).
    seconds
        Wall time of each stage of :func:`run_counties`: ``partition``, ``counties``,
        ``merge`` and ``outputs``.
    """

    counties_dir: Path | None = None
    counties_run: tuple[str, ...] = ()
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: dict[str, float] = field(default_factory=dict)

    def per_cell(self, name: str) -> Iterator[pd.DataFrame]:
        """Yield the per-cell table ``name`` one county at a time, in county-code order.

        Parameters
        ----------
        name
            One of :data:`~layout.runs.outputs.PER_CELL`.

        Yields
        ------
        pandas.DataFrame
            The table of one county (a GeoDataFrame for a layer), read from its result folder.
        """
        for code in self.counties_run if self.counties_dir is not None else ():
            assert self.counties_dir is not None
            path = _cell_file(self.counties_dir / code, name)
            if path is not None:
                yield _read_table(path)


def merge_counties(
    partitions: str | os.PathLike[str], counties_dir: str | os.PathLike[str]
) -> MergedResult:
    """Merge the finished counties of a run into one result.

    Parameters
    ----------
    partitions
        The folder written by :func:`partition_study`.
    counties_dir
        The folder holding one finished result folder per county.

    Returns
    -------
    MergedResult

    Raises
    ------
    CountyRunError
        Naming every partitioned county with no finished result for its current partition.
    """
    parts, root = Path(partitions), Path(counties_dir)
    manifest = read_manifest(parts)
    if manifest is None:
        raise ValidationError(
            f"{parts} holds no partitions (no partition.json). Fix: run partition_study first."
        )
    hashes: dict[str, str] = manifest["counties"]
    codes = sorted(hashes)
    missing = [code for code in codes if not _finished(root / code, hashes[code])]
    if missing:
        raise CountyRunError(
            dict.fromkeys(missing, "no finished result for its current partition in the merge")
        )
    tables, layers, runs = {}, {}, []
    for code in codes:
        done = json.loads((root / code / _DONE).read_text(encoding="utf-8"))
        folder = root / code
        tables[code] = {n: _read_table(folder / _TABLES / f"{n}.parquet")
                        for n in done["tables"] if n not in PER_CELL}  # fmt: skip
        layers[code] = {n: _read_table(folder / _LAYERS / f"{n}.parquet")
                        for n in done["layers"] if n not in PER_CELL}  # fmt: skip
        runs.append({k: done[k] for k in ("county_code", "attempts", "seconds", "worker_peak_mb")})
    merged = merge_tables(tables)
    if set(BORDER_INPUTS) <= set(merged):
        merged = settle_borders(merged)
    shapes = merge_tables(layers)
    study = _merged_study(parts, codes, Path(manifest["study"]))
    _city_wide(merged, study)
    result = MergedResult(
        study=study,
        tables=merged,
        layers=shapes,
        counties_dir=root,
        counties_run=tuple(codes),
        runs=pd.DataFrame(runs),
        cost_method=CostMethod(**manifest["cost_method"]) if "cost_method" in manifest else None,
    )
    proposals, candidates = (shapes.get(f"site_{part}") for part in ("proposals", "candidates"))
    if proposals is not None and candidates is not None:
        # a county without rural cells gives a coverage without columns
        gained = [gained_cells(gpd.GeoDataFrame(part)) for part in
                  result.per_cell("site_coverage") if "within_after" in part]  # fmt: skip
        cover = _concat(gained) if gained else gpd.GeoDataFrame(geometry=[])
        result.sites = SitePlan(proposals, candidates, gpd.GeoDataFrame(cover))
    return result


def merge_tables(
    tables: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    rules: Mapping[str, Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Merge the result tables of several counties into one table per name.

    A table with a ``county_code`` column is concatenated in county-code order; a table
    without one is taken once when it is the same in every county (the standards profile),
    else concatenated with a ``county_code`` column added in front. ``rules`` replace this for
    the tables they name (for example a table of schools in which a halo school appears in
    several counties and whose figures must be summed).

    Parameters
    ----------
    tables
        County code to table name to table.
    rules
        Table name to a function of the county code to table mapping (in county-code order).

    Returns
    -------
    dict of str to pandas.DataFrame
        In the order the names first appear (counties in code order); fresh index.

    Examples
    --------
    >>> import pandas as pd
    >>> a = {"t": pd.DataFrame({"county_code": ["2"], "n": [1]}), "p": pd.DataFrame({"k": [0]})}
    >>> b = {"t": pd.DataFrame({"county_code": ["1"], "n": [5]}), "p": pd.DataFrame({"k": [0]})}
    >>> merged = merge_tables({"2": a, "1": b})
    >>> merged["t"]["n"].tolist(), len(merged["p"])
    ([5, 1], 1)

    County "0" found nothing and gives an empty table without columns:

    >>> merge_tables({"0": {"t": pd.DataFrame()}, "1": b})["t"].columns.tolist()
    ['county_code', 'n']
    """
    codes = sorted(tables)
    names = list(dict.fromkeys(name for code in codes for name in tables[code]))
    merged = {}
    for name in names:
        present = {code: tables[code][name] for code in codes if name in tables[code]}
        rule = (rules or {}).get(name, _default_merge)
        merged[name] = rule(present).reset_index(drop=True)
    return merged


def _default_merge(present: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, take once, or concatenate tagged (see :func:`merge_tables`).

    A county with nothing to report may give an empty table without columns: it neither
    decides how the others merge nor takes their columns away.
    """
    frames = list(present.values())
    if any("county_code" in frame.columns for frame in frames):
        return _concat(frames)
    if all(frame.equals(frames[0]) for frame in frames[1:]):
        return frames[0]
    tagged = _concat([frame.assign(county_code=code) for code, frame in present.items()])
    return tagged[["county_code", *tagged.columns.drop("county_code")]]


def _concat(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving out empty frames unless every frame is empty."""
    filled = [f for f in frames if len(f)] or list(frames[:1])
    return pd.concat(filled, ignore_index=True)


def _read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`_write_result` (GeoParquet when it has geometry)."""
    metadata = pq.read_schema(path).metadata or {}
    return gpd.read_parquet(path) if b"geo" in metadata else pd.read_parquet(path)


def _merged_study(parts: Path, codes: Sequence[str], path: Path) -> Study:
    """Return a study of the union of the counties' partition layers (without halo schools)."""
    first = study_from_toml(parts / codes[0] / "study.toml")
    layers = {}
    for name in first.layers:
        if name == HALO:
            continue
        files = [parts / code / f"{name}.parquet" for code in codes]
        spatial = LAYERS[name].geometry is not None
        frames = [gpd.read_parquet(f) if spatial else pd.read_parquet(f) for f in files]
        merged = _concat(frames)
        key = LAYERS[name].id_column
        layers[name] = merged[~merged[key].duplicated()].reset_index(drop=True)
    return dataclasses.replace(first, path=path, layers=layers)


def _city_wide(tables: dict[str, pd.DataFrame], study: Study) -> None:
    """Compute again, on the merged study, the tables of city-wide targets.

    Each county of a county-by-county run saw only itself: the share of counties passing the
    balance assessment and the pairing of rural with urban schools span every county.
    """
    if "balance_counties" in tables:
        tables["balance_target"] = balance_target(tables["balance_counties"], study.standards)
    if "school_pairs" in tables:
        pairs = study_pairs(
            study["schools"], study.standards, balance_schools=tables.get("balance_schools")
        )
        if pairs is not None:
            tables["school_pairs"] = pairs


def _cell_file(folder: Path, name: str) -> Path | None:
    """Return the file of a county's per-cell table ``name``, or ``None`` if it made none."""
    kinds = (_LAYERS, _TABLES)
    files = (
        [folder / _CELLS] if name == "demand" else [folder / k / f"{name}.parquet" for k in kinds]
    )
    return next((path for path in files if path.is_file()), None)


def _finished(folder: Path, digest: str) -> bool:
    """Whether a county result folder is complete and made from the partition ``digest``."""
    marker = folder / _DONE
    if not marker.is_file():
        return False
    return bool(json.loads(marker.read_text(encoding="utf-8")).get("partition") == digest)


def _write_result(result: PlanResult, target: Path, summary: Mapping[str, Any]) -> None:
    """Write a county's tables, layers and per-cell demand, then its ``done`` marker, at once."""
    with replacing_folder(target) as tmp:
        for kind, frames in ((_TABLES, result.tables), (_LAYERS, result.layers)):
            (tmp / kind).mkdir()
            for name, frame in frames.items():
                frame.to_parquet(tmp / kind / f"{name}.parquet", index=False)
        cells = result.cell_demand()
        if cells is not None:
            cells.to_parquet(tmp / _CELLS, index=False)
        done = {**summary, "tables": list(result.tables), "layers": list(result.layers)}
        (tmp / _DONE).write_text(json.dumps(done, ensure_ascii=False), encoding="utf-8")
