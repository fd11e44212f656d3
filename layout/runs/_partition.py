"""Split a study into one small study per county, each in its own folder of GeoParquet files.

Each county folder ``<folder>/<county_code>/`` holds one GeoParquet (or Parquet) file per
layer and a ``study.toml`` with the study's own tables (``[study]``, ``[scenarios]``,
``[standards]``, ...) and ``[layers]`` pointing at those files, so that a task reads only its
county. A layer with a ``county_code`` column is split by that code, ``teachers`` follow their
school, ``roads`` are kept within the halo distance of the county, and the ``halo_schools``
layer holds the schools of *other* counties within the halo distance of the county boundary.

``<folder>/partition.json`` is written last and lists the counties, a hash of each county's
files and a fingerprint of the input files, so that a run can tell whether the partitions are
current.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.runs.province import partition_study
>>> tomls = partition_study(None, pathlib.Path(tempfile.mkdtemp()) / "parts")
>>> [p.parent.name for p in tomls][:2], tomls[0].name
(['210302', '210303'], 'study.toml')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..access import log_cost_method
from ..demand import study_yields
from ..errors import StudyError, ValidationError
from ..plausibility import plausibility_warnings
from ..report import replacing
from ..schema import HALO
from ..study import Study, bundled_study_path, study_from_toml

LOG = logging.getLogger(__name__)

MANIFEST = "partition.json"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def partition_study(
    study_path: str | os.PathLike[str] | None,
    folder: str | os.PathLike[str],
    *,
    halo_m: float | None = None,
) -> list[Path]:
    """Read a study once and write one study per county, with the halo schools of each.

    Parameters
    ----------
    study_path
        Study TOML; ``None`` partitions the bundled synthetic Anshan sample.
    folder
        Folder of the partitions (created; a county folder already there is replaced).
    halo_m
        Distance from a county's boundary within which the schools of other counties go to
        its ``halo_schools`` layer (and roads to its ``roads`` layer); ``None`` takes
        :attr:`~layout.standards.Profile.halo_m` of the study's profile.

    Returns
    -------
    list of pathlib.Path
        The study TOML of each county, in county-code order.

    Raises
    ------
    ValidationError
        ``halo_m`` is negative or not a number, or the study is invalid.

    Examples
    --------
    See the module examples.
    """
    source = Path(study_path) if study_path is not None else bundled_study_path()
    study = study_from_toml(source)
    halo = study.standards.halo_m if halo_m is None else _checked_halo(halo_m)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    codes = sorted(study["counties"]["county_code"])
    halo_pool = _halo_pool(study)
    config = {**study.config, "yields": study_yields(study).to_table()}
    hashes = {}
    for code in codes:
        layers = _county_layers(study, code, halo_pool, halo)
        hashes[code] = _write_county(root / code, layers, _county_config(config, layers))
        LOG.debug("partition %s: %d cells", code, len(layers["population"]))
    manifest = {
        "study": str(study.path),
        "fingerprint": source_fingerprint(study.path),
        "halo_m": halo,
        "counties": hashes,
        "warnings": plausibility_warnings(study).to_dict("records"),
        "cost_method": log_cost_method(study)._asdict(),
    }
    with replacing(root / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return [root / code / "study.toml" for code in codes]


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the manifest of a partition folder, or ``None`` when there is none.

    Examples
    --------
    >>> read_manifest("/nonexistent") is None
    True
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def source_fingerprint(study_path: Path) -> str | None:
    """Hash of the study TOML, the size and time of each layer file and the layout version.

    ``None`` when a layer comes from a database, whose content cannot be fingerprinted
    cheaply: such a study is partitioned afresh on every run.

    Examples
    --------
    >>> len(source_fingerprint(bundled_study_path()))
    64
    """
    from .. import __version__

    text = study_path.read_bytes()
    digest = hashlib.sha256(text)
    digest.update(__version__.encode())
    for name, entry in sorted(tomllib.loads(text.decode("utf-8")).get("layers", {}).items()):
        if not isinstance(entry, dict) or "path" not in entry:
            return None
        stat = (study_path.parent / entry["path"]).resolve().stat()
        digest.update(f"|{name}|{entry['path']}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def _checked_halo(halo_m: float) -> float:
    value = float(halo_m)
    if not math.isfinite(value) or value < 0:
        raise ValidationError(
            f"halo_m must be a distance in metres, 0 or more; got {halo_m!r}. Fix: pass e.g. "
            "halo_m=30_000, or None for the profile's largest travel cut-off."
        )
    return value


def _halo_pool(study: Study) -> gpd.GeoDataFrame:
    """Every school that can be a halo school: the study's own and its given halo schools."""
    schools = study["schools"]
    given = study.layers.get(HALO)
    if given is None or given.empty:
        return schools
    return pd.concat([schools, given], ignore_index=True)


def _within(frame: gpd.GeoDataFrame, area: Any, distance: float) -> np.ndarray:
    """Positions (sorted) of the rows of ``frame`` within ``distance`` of ``area``."""
    if frame.empty:
        return np.empty(0, dtype=np.intp)
    hits = frame.sindex.query(area, predicate="dwithin", distance=distance)
    return np.unique(hits)


def _county_layers(
    study: Study, code: str, halo_pool: gpd.GeoDataFrame, halo: float
) -> dict[str, pd.DataFrame]:
    """Every layer of one county, and its halo schools.

    A layer with a ``county_code`` column keeps the county's rows; ``teachers`` follow the
    county's schools; ``roads`` and halo schools are those within ``halo`` metres of the
    county; any other layer is copied whole.
    """
    layers: dict[str, pd.DataFrame] = {}
    for name, frame in study.layers.items():
        if name not in {"teachers", "roads", HALO}:
            whole = "county_code" not in frame.columns
            layers[name] = frame if whole else frame[(frame["county_code"] == code).to_numpy()]
    area = layers["counties"].geometry.iloc[0]
    if "teachers" in study.layers:
        teachers = study["teachers"]
        layers["teachers"] = teachers[teachers["school_id"].isin(layers["schools"]["school_id"])]
    if "roads" in study.layers:
        layers["roads"] = study["roads"].iloc[_within(study["roads"], area, halo)]
    near = halo_pool.iloc[_within(halo_pool, area, halo)]
    layers[HALO] = near[(near["county_code"] != code).to_numpy()]
    return {name: frame.reset_index(drop=True) for name, frame in layers.items()}


def _county_config(config: Mapping[str, Any], layers: Mapping[str, pd.DataFrame]) -> str:
    """Return the county's study TOML: the study's tables, layers pointing at its files.

    ``config`` carries the ``[yields]`` fitted on the whole study, so that every county
    projects its developments' children with the same yields (:func:`layout.demand.study_yields`).
    """
    table = {key: value for key, value in config.items() if key != "layers"}
    table["layers"] = {name: {"path": f"{name}.parquet"} for name in layers}
    text = toml_text(table)
    if tomllib.loads(text) != table:
        raise StudyError(
            "the study TOML could not be copied for a county (a value does not survive a "
            "TOML round trip, e.g. NaN). Fix: remove that value from the study TOML."
        )
    return text


def _write_county(target: Path, layers: Mapping[str, pd.DataFrame], toml: str) -> str:
    """Write a county folder whole; return its content hash."""
    with replacing_folder(target) as tmp:
        for name, frame in layers.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "study.toml").write_text(toml, encoding="utf-8")
        return folder_hash(tmp)


@contextmanager
def replacing_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``target``; on success it replaces ``target``.

    A reader never sees a half-written folder; a failure leaves no temporary folder behind
    (a process killed meanwhile leaves a hidden ``.<name>-*`` folder, removed on the next
    write of the same target).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "county"
    >>> with replacing_folder(target) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> sorted(p.name for p in target.iterdir())
    ['a.txt']
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def folder_hash(folder: Path) -> str:
    """SHA-256 of the names and bytes of the files in a folder (not recursive).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> len(folder_hash(pathlib.Path(tempfile.mkdtemp())))
    64
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def toml_text(table: Mapping[str, Any]) -> str:
    """Write a mapping as TOML (tables, arrays, strings, numbers, booleans, dates).

    Examples
    --------
    >>> print(toml_text({"study": {"name": "a", "year": 2020}, "x": {"y": {"2021": 4.3}}}))
    [study]
    name = "a"
    year = 2020
    <BLANKLINE>
    [x.y]
    2021 = 4.3
    <BLANKLINE>
    """
    return "\n".join(_table_lines(table, ())) + "\n"


def _table_lines(table: Mapping[str, Any], path: tuple[str, ...]) -> list[str]:
    values = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    lines = []
    if path and (values or not tables):
        lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    lines += [f"{_key(k)} = {_value(v)}" for k, v in values]
    for key, sub in tables:
        if lines:
            lines.append("")
        lines += _table_lines(sub, (*path, key))
    return lines


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise StudyError(f"cannot write {type(value).__name__} value {value!r} to TOML")
