"""Writing results: GeoPackage and spreadsheet (the index page is :mod:`layout.report.index`).

Each file is written whole to a temporary name, then renamed into place.

Examples
--------
>>> import tempfile, pathlib
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from layout.report import write_geopackage
>>> gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs="EPSG:4550")
>>> out = write_geopackage({"demo": gdf}, pathlib.Path(tempfile.mkdtemp()) / "r.gpkg")
>>> out.name
'r.gpkg'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from ..labels import TABLE_TITLES, localise

if TYPE_CHECKING:
    from ..study import Study


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only on success.

    A reader never sees a half-written output, and a failed run leaves the old file intact.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the writer creates it anew, with the usual permissions (0644 under umask 022)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_geopackage(
    layers: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write every layer to one GeoPackage atomically.

    Parameters
    ----------
    layers
        Layer name to GeoDataFrame (or DataFrame, written as an attribute table).
    path
        Target ``.gpkg``; replaced whole if it exists.
    metadata
        Key/value pairs stored as each layer's metadata (e.g. ``synthetic = "true"``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    with replacing(target) as tmp:
        for name, frame in layers.items():
            gdf = frame if isinstance(frame, gpd.GeoDataFrame) else pd.DataFrame(frame)
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=name,
                driver="GPKG",
                layer_metadata=dict(metadata or {}),
                use_arrow=True,  # through Arrow: several times faster on large layers
            )
    return target


def write_spreadsheet(
    tables: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    sheet_names: Mapping[str, str] | None = None,
) -> Path:
    """Write one sheet per table to an ``.xlsx`` workbook atomically.

    Parameters
    ----------
    tables
        Table name to DataFrame, in sheet order.
    path
        Target ``.xlsx``; replaced whole if it exists.
    sheet_names
        Sheet title per table name (Excel allows 31 characters); the table name otherwise.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> write_spreadsheet({"a": pd.DataFrame({"x": [1]})}, target, sheet_names={"a": "表"}).name
    't.xlsx'
    """
    names = dict(sheet_names or {})
    # XlsxWriter writes a province's tables in about 0.6 of openpyxl's time; an infinite figure
    # (never expected) is written as Excel's #NUM! rather than failing the whole workbook.
    options = {"options": {"nan_inf_to_errors": True}}
    with (
        replacing(path) as tmp,
        pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs=options) as writer,
    ):
        for name, frame in tables.items():
            sheet = names.get(name, name)[:31]
            frame.to_excel(writer, sheet_name=sheet, index=False)
            writer.sheets[sheet].freeze_panes(1, 0)
    return Path(path)


def write_pack(
    layers: Mapping[str, pd.DataFrame],
    folder: str | os.PathLike[str],
    *,
    stem: str,
    study: Study,
    lang: Literal["zh", "en"] = "zh",
    sheets: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``<stem>.gpkg`` (every layer, plain names) and ``<stem>.xlsx`` (headers of ``lang``).

    Parameters
    ----------
    layers
        Layer name to (Geo)DataFrame, with the plain column names of the analysis.
    folder
        Where to write (created if missing).
    stem
        File name without suffix.
    study
        The study: its name and whether it is synthetic go into the layer metadata, its
        large-class size into some headers.
    lang
        Language of the spreadsheet's headers and sheet titles
        (:data:`layout.labels.TABLE_TITLES`).
    sheets
        Layers that get a sheet (geometry dropped); all of them by default.

    Returns
    -------
    list of pathlib.Path
        The GeoPackage and the workbook.
    """
    target = Path(folder)
    meta = {"study": study.name, "synthetic": str(study.synthetic).lower()}
    gpkg = write_geopackage(layers, target / f"{stem}.gpkg", metadata=meta)
    names = list(layers) if sheets is None else list(sheets)
    plain = {n: pd.DataFrame(layers[n]).drop(columns="geometry", errors="ignore") for n in names}
    shown = localise(plain, lang=lang, profile=study.standards)
    titles = {name: TABLE_TITLES[name][lang] for name in shown}
    return [gpkg, write_spreadsheet(shown, target / f"{stem}.xlsx", sheet_names=titles)]
