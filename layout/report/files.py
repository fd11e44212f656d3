"""Writing results: GeoPackage, Parquet, spreadsheet (the index page: :mod:`layout.report.index`).

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
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ..labels import TABLE_TITLES, localise
from .summary import with_names

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


def write_parquet(
    frame: pd.DataFrame | Iterable[pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    partition_by: Sequence[str] = (),
) -> Path:
    """Write a table as Parquet (GeoParquet for a GeoDataFrame), whole or by partition.

    Per-cell tables are large and are read by program (geopandas, pandas, DuckDB, QGIS 3.26 and
    later) rather than opened whole: Parquet writes and reads them many times faster than a
    GeoPackage and a fraction of the size.

    Parameters
    ----------
    frame
        The table; its index is not written. With ``partition_by``, it may also be given in
        pieces (e.g. one per county, read one at a time): each piece is written and let go
        before the next is asked for, so the whole table is never in memory.
    path
        A ``.parquet`` file, or with ``partition_by`` a folder that must not exist yet: it
        gets one sub-folder per value (``county_code=210302/year=2025/part-0.parquet``, Hive
        style, which ``pandas.read_parquet(path)`` reads back whole, and
        ``filters=[("county_code", "==", 210302)]`` in part, the folder names read as numbers
        when they look like numbers; ``geopandas.read_parquet``
        for a GeoDataFrame). Two pieces with rows in one partition give it two files; a table
        without rows is one empty file at the root of the folder.
    partition_by
        Columns to partition by, outermost first; none writes one file.

    Returns
    -------
    pathlib.Path
        The file or folder written (``path``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> table = pd.DataFrame({"county_code": ["a", "a", "b"], "year": [1, 2, 1], "n": [1, 2, 3]})
    >>> out = write_parquet(table, folder / "t", partition_by=["county_code", "year"])
    >>> sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))
    ['county_code=a/year=1/part-0.parquet', 'county_code=a/year=2/part-0.parquet', \
'county_code=b/year=1/part-0.parquet']
    >>> pd.read_parquet(out, filters=[("county_code", "==", "b")])["n"].tolist()
    [3]

    In pieces, one per county:

    >>> pieces = (table[table["county_code"] == code] for code in ("a", "b"))
    >>> out = write_parquet(pieces, folder / "u", partition_by=["county_code", "year"])
    >>> pd.read_parquet(out)["n"].tolist()
    [1, 2, 3]

    A table without rows is one empty file, so that its columns read back:

    >>> out = write_parquet(table.iloc[:0], folder / "v", partition_by=["county_code", "year"])
    >>> pd.read_parquet(out).columns.tolist()
    ['county_code', 'year', 'n']
    """
    target = Path(path)
    if not partition_by:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError("a table in pieces needs partition_by")
        with replacing(target) as tmp:
            frame.to_parquet(tmp, index=False)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        empty = None
        for piece in [frame] if isinstance(frame, pd.DataFrame) else frame:
            if len(piece):
                _write_partitions(piece, parts, list(partition_by))
            elif empty is None or len(piece.columns) > len(empty.columns):
                empty = piece  # a piece without rows may have no columns either
        if empty is not None and not any(parts.iterdir()):
            empty.to_parquet(parts / "part-0.parquet", index=False)  # its columns read back
        parts.rename(target)  # refused if the folder exists: a folder is not replaced in part
    finally:
        if parts.exists():
            shutil.rmtree(parts)
    return target


def _write_partitions(frame: pd.DataFrame, folder: Path, by: list[str]) -> None:
    """Add one Parquet file per partition of ``frame`` under ``folder`` (GeoParquet if spatial).

    pandas' own ``partition_cols`` does not write GeoParquet metadata, so each partition is
    written by the frame's own ``to_parquet``.
    """
    for values, rows in frame.groupby(by, sort=True, observed=True):
        names = values if isinstance(values, tuple) else (values,)
        leaf = folder.joinpath(*(f"{c}={v}" for c, v in zip(by, names, strict=True)))
        leaf.mkdir(parents=True, exist_ok=True)
        number = sum(1 for _ in leaf.glob("part-*.parquet"))
        rows.drop(columns=by).to_parquet(leaf / f"part-{number}.parquet", index=False)


def write_spreadsheet(
    tables: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    sheet_names: Mapping[str, str] | None = None,
    notice: str = "",
) -> Path:
    """Write one sheet per table to an ``.xlsx`` workbook atomically.

    Headers are frozen; numbers get Excel formats (whole numbers ``#,##0``, others
    ``#,##0.00``, shares ``0.0%``: :func:`_number_formats`).

    Parameters
    ----------
    tables
        Table name to DataFrame, in sheet order.
    path
        Target ``.xlsx``; replaced whole if it exists.
    sheet_names
        Sheet title per table name (Excel allows 31 characters); the table name otherwise.
    notice
        If given, a first sheet ``说明 Notice`` holding this text (e.g. that the study is
        synthetic).

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
    with (
        replacing(path) as tmp,
        pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs=_XLSX_OPTIONS) as writer,
    ):
        if notice:
            pd.DataFrame({notice: []}).to_excel(writer, sheet_name=NOTICE_SHEET, index=False)
            writer.sheets[NOTICE_SHEET].set_column(0, 0, 80)
        when = writer.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})  # as pandas
        for name, frame in tables.items():
            sheet = writer.book.add_worksheet(names.get(name, name)[:31])
            sheet.write_row(0, 0, [str(column) for column in frame.columns])
            for column, (_, values) in enumerate(frame.items()):
                dated = pd.api.types.is_datetime64_any_dtype(values)
                sheet.write_column(1, column, _cell_values(values), when if dated else None)
            sheet.freeze_panes(1, 0)
            for column, pattern in _number_formats(frame).items():
                number = writer.book.add_format({"num_format": pattern})
                sheet.set_column(column, column, 14, number)
    return Path(path)


def _cell_values(values: pd.Series) -> list[object]:
    """Return the cells of a column as Python values, a missing value as ``None`` (blank).

    Written column by column with XlsxWriter: ``DataFrame.to_excel`` styles and writes every
    cell on its own, which took most of the time of writing a plan's workbook.
    """
    if pd.api.types.is_float_dtype(values) and not isinstance(values.dtype, pd.ArrowDtype):
        cells: list[object] = values.to_numpy(dtype=float).tolist()
    else:
        cells = values.to_numpy(dtype=object).tolist()
    for row in np.flatnonzero(values.isna().to_numpy()):
        cells[row] = None
    return cells


_XLSX_OPTIONS = {
    "options": {
        # Every text cell is written as text: a school name "=HYPERLINK(...)" or "http://..."
        # from a bureau's file never becomes a live formula or link in a workbook others open.
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        # An infinite figure (never expected) is written as Excel's #NUM! rather than failing
        # the whole workbook.
        "nan_inf_to_errors": True,
    }
}
"""XlsxWriter's workbook options (XlsxWriter writes a province's tables in about 0.6 of
openpyxl's time)."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet program read a CSV cell as a formula (OWASP, CSV
injection)."""


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table as CSV atomically, every text cell safe to open in a spreadsheet program.

    UTF-8 with a byte-order mark, so Excel reads Chinese. A text cell starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote, as OWASP
    recommends against CSV injection; numbers are written as they are.

    Parameters
    ----------
    frame
        The table; its index is not written.
    path
        Where the ``.csv`` goes; a file there is replaced whole.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> from tempfile import mkdtemp
    >>> table = pd.DataFrame({"name": ["=1+1", "-x", "ok"], "n": [-1, 2, 3]})
    >>> written = write_csv(table, Path(mkdtemp()) / "t.csv")
    >>> print(written.read_text(encoding="utf-8-sig"), end="")
    name,n
    '=1+1,-1
    '-x,2
    ok,3
    """
    shown = frame.copy()
    for column in shown.select_dtypes(include=["object", "string"]).columns:
        shown[column] = shown[column].map(_neutralised)
    with replacing(path) as tmp:
        shown.to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def _neutralised(value: object) -> object:
    """``value`` with a leading single quote if it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


NOTICE_SHEET = "说明 Notice"
"""Title of the workbook's first sheet when it carries a notice."""


def _number_formats(frame: pd.DataFrame) -> dict[int, str]:
    """Excel number format of each numeric column, by position.

    Columns whose name says share, rate or utilisation (``share``, ``比例``, ``率``) are
    percentages; year columns (``year``, ``年份``, ``年度``) stay plain.
    """
    formats = {}
    for position, (name, values) in enumerate(frame.items()):
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        label = str(name).lower()
        whole = bool((values.dropna() == values.dropna().round()).all())
        if any(word in label for word in ("year", "年份", "年度", "code", "代码")):
            continue
        if any(word in label for word in ("share", "utilisation", "比例", "率")):
            formats[position] = "0.0%"
        else:
            formats[position] = "#,##0" if whole else "#,##0.00"
    return formats


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
    shown = localise(with_names(plain, study=study), lang=lang, profile=study.standards)
    titles = {name: TABLE_TITLES[name][lang] for name in shown}
    notice = SYNTHETIC_NOTICE if study.synthetic else ""
    xlsx = write_spreadsheet(shown, target / f"{stem}.xlsx", sheet_names=titles, notice=notice)
    return [gpkg, xlsx]


SYNTHETIC_NOTICE = (
    "合成样例数据，非真实学校数据，不得用于决策 / Synthetic sample data, not real schools"
)
"""The notice sheet's text of a workbook made from a synthetic study."""
