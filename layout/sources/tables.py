"""Read a layer's file as it is: Excel with title rows, GBK CSVs, Shapefiles with a code page.

:func:`read_source` returns the file's rows with the file's own headers; renaming them to the
schema is :mod:`layout.sources.fields`' job. Every failure is a
:class:`~layout.errors.ValidationError` naming the file, the sheet and the fix; no traceback of a
reader reaches the user.

Text encodings are found by decoding strictly, in this order: UTF-8 with a byte-order mark,
UTF-8, GB18030 (a superset of GBK and GB2312, the encodings Chinese Excel and WPS save CSVs
in). The whole file is decoded: a few GBK characters may happen to be valid UTF-8 (学校 is), a
table of them practically never is.

Examples
--------
>>> text = "学校名称,学段,在校生数;城关镇中心小学,小学,612"
>>> detect_encoding(text.encode("gbk")), detect_encoding(text.encode("utf-8-sig"))
('gb18030', 'utf-8-sig')
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors
from pyarrow.lib import ArrowException

from ..errors import ValidationError, finding_from_text
from .source import LayerSource

LOG = logging.getLogger(__name__)

ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gb18030")
"""Encodings tried, in order, when a layer names none."""
TABLE_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls"})
"""Files read as tables (points from ``x``/``y`` columns)."""
GIS_SUFFIXES = frozenset({".gpkg", ".shp", ".geojson", ".json", ".parquet", ".fgb"})
"""Files read with their geometry."""
_HEADER_SCAN = 15


def detect_encoding(data: bytes) -> str:
    """Return the first of :data:`ENCODINGS` that decodes ``data`` without error.

    Raises
    ------
    UnicodeDecodeError
        None does.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ENCODINGS[1:]:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnicodeDecodeError(ENCODINGS[-1], data, 0, len(data), "none of " + ", ".join(ENCODINGS))


def _fail(source: LayerSource, what: str, fix: str) -> ValidationError:
    text = f"{source.where}: {what}. Fix: {fix}"
    finding = finding_from_text(text)
    finding.update(file=source.file, layer=source.name, problem=what)
    return ValidationError(text, findings=[finding])


def _unreadable(source: LayerSource, path: Path, exc: Exception) -> ValidationError:
    """Say why a reader failed on a file, and how to mend it."""
    if isinstance(
        exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError | ArrowException
    ):
        return _fail(
            source,
            f"{path.name} cannot be read ({str(exc).splitlines()[0]}); it looks damaged or cut "
            "short, e.g. by an interrupted copy",
            "copy it again from its source (check it opens in QGIS or with ogrinfo)",
        )
    if isinstance(exc, ValueError) and "geo metadata" in str(exc):
        return _fail(
            source,
            f"{path.name} is a plain Parquet table without GeoParquet metadata, so its geometry "
            "column cannot be read",
            "write it with GeoPandas (gdf.to_parquet(...)) or convert it, e.g. ogr2ogr -f "
            "Parquet out.parquet in.gpkg",
        )
    return _fail(
        source,
        f"the file cannot be read ({type(exc).__name__}: {exc})",
        "open it in Excel or QGIS, save it again, and check 'path'",
    )


def read_text(path: Path, *, encoding: str | None) -> tuple[str, str]:
    """Return a text file's content and its encoding (found when ``encoding`` is ``None``)."""
    data = path.read_bytes()
    found = encoding or detect_encoding(data)
    return data.decode(found), found


def read_source(source: LayerSource, *, spatial: bool) -> pd.DataFrame:
    """Read the rows of a file layer with the file's own headers.

    Parameters
    ----------
    source
        The layer's source (path, sheet, header row, encoding, layer inside the file).
    spatial
        Whether the layer has geometry (a GIS file's geometry is then read).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        Tables (CSV, Excel) hold text cells; GIS files their own types.

    Raises
    ------
    layout.errors.ValidationError
        The file is missing, unreadable, of an unknown kind, or lacks the sheet or layer.
    """
    path = source.path
    assert path is not None
    if not path.exists():
        raise _fail(
            source,
            f"file {path} not found",
            f"correct 'path' in [layers.{source.name}] (relative to the study TOML)",
        )
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            return _read_csv(source)
        if suffix in {".xlsx", ".xlsm", ".xls"}:
            return _read_excel(source)
        if suffix == ".parquet":
            return gpd.read_parquet(path) if spatial else pd.read_parquet(path)
        if suffix in GIS_SUFFIXES:
            return _read_gis(source, spatial=spatial)
    except UnicodeDecodeError:
        raise _fail(
            source,
            "the text is in none of UTF-8, UTF-8 with BOM, GBK or GB18030",
            f'name the encoding: encoding = "big5" (for example) in [layers.{source.name}]',
        ) from None
    except ValidationError:
        raise
    except Exception as exc:
        # any reader's failure on a user's file (zip, calamine, openpyxl, GDAL, Arrow ...) becomes
        # one message naming the file, not a traceback
        raise _unreadable(source, path, exc) from None
    raise _fail(
        source,
        f"'{suffix}' files are not read",
        "save the layer as .xlsx, .csv, .shp, .gpkg, .geojson or .parquet",
    )


def _read_csv(source: LayerSource) -> pd.DataFrame:
    assert source.path is not None
    text, encoding = read_text(source.path, encoding=source.encoding)
    if source.encoding is None and encoding != "utf-8":
        LOG.info("%s: read as %s", source.where, encoding)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=True)


def excel_engine(path: Path) -> Literal["calamine", "openpyxl"]:
    """Return the pandas engine for a workbook: calamine for Excel 97-2003 ``.xls``.

    Examples
    --------
    >>> from pathlib import Path
    >>> excel_engine(Path("学校.XLS")), excel_engine(Path("学校.xlsx"))
    ('calamine', 'openpyxl')
    """
    return "calamine" if path.suffix.lower() == ".xls" else "openpyxl"


def _read_excel(source: LayerSource) -> pd.DataFrame:
    assert source.path is not None
    engine = excel_engine(source.path)
    if engine == "calamine":
        _needs("python_calamine", source)
    with pd.ExcelFile(source.path, engine=engine) as book:
        names = [str(s) for s in book.sheet_names]
        sheet = source.sheet if source.sheet is not None else 0
        if (isinstance(sheet, str) and sheet not in names) or (
            isinstance(sheet, int) and not 0 <= sheet < len(names)
        ):
            raise _fail(
                source,
                f"no sheet {sheet!r}; the workbook has {', '.join(names)}",
                f'set sheet = "<name>" in [layers.{source.name}]',
            )
        raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=str)
    row = source.header_row - 1 if source.header_row else header_row(raw)
    if source.header_row is None and row:
        LOG.info("%s: headers found in row %d (set header_row to change)", source.where, row + 1)
    if row >= len(raw):
        raise _fail(
            source,
            f"header_row {row + 1} is beyond the last row ({len(raw)})",
            f"set header_row in [layers.{source.name}] to the row of the headers",
        )
    headers = [
        str(h).strip() if pd.notna(h) else f"column {i + 1}" for i, h in enumerate(raw.iloc[row])
    ]
    body = raw.iloc[row + 1 :].set_axis(headers, axis=1)
    return body.dropna(how="all").reset_index(drop=True)


def header_row(raw: pd.DataFrame) -> int:
    """Return the 0-based row of a sheet's headers: the first of the fullest rows at the top.

    A title row (``某某县中小学基本情况表``, merged across the table) holds one cell; the
    header row holds one per column.

    Examples
    --------
    >>> raw = pd.DataFrame([["学校基本情况表", None, None], ["学校名称", "学段", "在校生数"],
    ...                     ["一小", "小学", "300"]])
    >>> header_row(raw)
    1
    """
    top = raw.head(_HEADER_SCAN)
    filled = top.notna().sum(axis=1).to_numpy()
    if not len(filled):
        return 0
    return int((filled == filled.max()).argmax())


def _needs(module: str, source: LayerSource) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise _fail(
            source,
            f"reading {source.file} needs the package {module}",
            f"pip install {module}, or save the sheet as .xlsx",
        )


def _read_gis(source: LayerSource, *, spatial: bool) -> pd.DataFrame:
    path = source.path
    assert path is not None
    if source.layer is not None:
        names = [row[0] for row in pyogrio.list_layers(path)]
        if source.layer not in names:
            raise _fail(
                source,
                f"no layer '{source.layer}' in {path.name}; it has {', '.join(names)}",
                f"correct 'layer' in [layers.{source.name}]",
            )
    options = {"encoding": _shapefile_encoding(source)} if path.suffix.lower() == ".shp" else {}
    if not spatial:
        return pyogrio.read_dataframe(path, layer=source.layer, read_geometry=False, **options)
    frame = gpd.read_file(path, layer=source.layer, engine="pyogrio", **options)
    if frame.crs is None and source.crs:
        frame = frame.set_crs(source.crs)
    return frame


def _shapefile_encoding(source: LayerSource) -> str | None:
    """Return a Shapefile's attribute encoding: the layer's, its ``.cpg`` (GDAL), or found."""
    assert source.path is not None
    if source.encoding:
        return source.encoding
    if source.path.with_suffix(".cpg").exists() or source.path.with_suffix(".CPG").exists():
        return None
    dbf = next(
        (
            p
            for p in (source.path.with_suffix(".dbf"), source.path.with_suffix(".DBF"))
            if p.exists()
        ),
        None,
    )
    if dbf is None:
        return None
    encoding = detect_encoding(_dbf_text(dbf.read_bytes()))
    LOG.info("%s: no .cpg file; attributes read as %s", source.where, encoding)
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _dbf_text(data: bytes) -> bytes:
    """Return the text of a dBASE file: field names and records, without the binary header."""
    start = int.from_bytes(data[8:10], "little")
    names = b"".join(data[i : i + 11].split(b"\0")[0] for i in range(32, start - 1, 32))
    return names + data[start:].rstrip(b"\x1a")
