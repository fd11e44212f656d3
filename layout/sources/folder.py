"""Draft a study from a folder of files: which file is which layer, which header which field.

:func:`draft_from_folder` opens every file of a folder (xlsx/xls, csv, shp, gpkg, parquet,
geojson; each layer of a GeoPackage, each sheet of a workbook), recognises its layer from its
headers (:mod:`layout.sources.vocabulary`), its geometry and its name, and returns a
:class:`StudyDraft` whose :meth:`StudyDraft.toml` is a commented study TOML: every mapping it
made written out, and a ``TODO`` (Chinese and English) for every choice it could not make.
Choices that change results (the datum of coordinates, values it does not know) are left
commented out, so that ``layout check`` refuses the study until they are answered.

Examples
--------
>>> draft = draft_from_folder(bundled_folder := __import__("layout.study", fromlist=["x"])
...                           .bundled_study_path().parent)
>>> sorted(draft.layers)[:3], draft.crs
(['developments', 'population', 'reserved_land'], 'EPSG:4550')
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from ..schema import LAYERS, REQUIRED_LAYERS
from .datum import DATUMS
from .source import LayerSource
from .tables import GIS_SUFFIXES, TABLE_SUFFIXES, detect_encoding, excel_engine, header_row
from .vocabulary import SOURCE_FIELDS, default_columns, value_codes

LOG = logging.getLogger(__name__)

_NAME_HINTS: dict[str, tuple[str, ...]] = {
    "schools": ("学校", "school"),
    "population": ("人口", "村", "population", "village"),
    "developments": ("住宅", "楼盘", "项目", "development", "housing"),
    "reserved_land": ("地块", "用地", "储备", "parcel", "land"),
    "townships": ("乡镇", "township"),
    "counties": ("县", "区县", "county", "counties", "boundar"),
    "teachers": ("教师", "teacher"),
    "roads": ("道路", "road"),
}
_KINDS: dict[str, str] = {
    "Point": "point",
    "MultiPoint": "point",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
    "LineString": "line",
    "MultiLineString": "line",
}
_ORDER = (*REQUIRED_LAYERS, "teachers", "roads")
_SAMPLE_ROWS = 200
_GK_FIRST_EPSG, _GK_FIRST_CM = 4534, 75


@dataclass
class LayerDraft:
    """What was recognised of one file (or one layer or sheet of it).

    Attributes
    ----------
    name
        The layer it was taken for.
    path
        The file, relative to the folder.
    options
        Keys of the ``[layers.<name>]`` table (layer, sheet, header_row, encoding, x, y, crs).
    columns
        Header to field, every mapping made.
    unmapped
        Headers not used.
    todos
        Lines of what is left to decide, Chinese and English.
    values
        Per field, values of the file no code is known for.
    score
        How well the headers fit the layer (share of its required fields found).
    """

    name: str
    path: str
    options: dict[str, Any]
    columns: dict[str, str]
    unmapped: list[str]
    todos: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    score: float = 0.0


@dataclass
class StudyDraft:
    """A study drafted from a folder: the layers recognised and what is left to decide."""

    name: str
    crs: str
    base_year: int
    layers: dict[str, LayerDraft]
    notes: list[str]
    scenario: dict[str, Any] | None = None

    @property
    def todos(self) -> int:
        """How many TODOs the drafted TOML holds."""
        return self.toml().count("TODO")

    def toml(self) -> str:
        """Return the commented study TOML (relative paths: write it into the folder)."""
        return _toml(self)


def _candidates(path: Path) -> list[tuple[LayerSource, pd.DataFrame, str | None]]:
    """Return the tables of a file: ``(source, sample rows, geometry kind)`` per layer or sheet."""
    suffix = path.suffix.lower()
    out: list[tuple[LayerSource, pd.DataFrame, str | None]] = []
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        with pd.ExcelFile(path, engine=excel_engine(path)) as book:
            for sheet in book.sheet_names:
                raw = pd.read_excel(
                    book, sheet_name=sheet, header=None, dtype=str, nrows=_SAMPLE_ROWS
                )
                if raw.dropna(how="all").empty:
                    continue
                row = header_row(raw)
                headers = [str(h).strip() for h in raw.iloc[row]]
                body = raw.iloc[row + 1 :].set_axis(headers, axis=1)
                src = LayerSource("schools", path, sheet=str(sheet), header_row=row + 1)
                out.append((src, body, None))
        return out
    if suffix in {".csv", ".txt"}:
        encoding = detect_encoding(path.read_bytes())
        frame = pd.read_csv(path, dtype=str, encoding=encoding, nrows=_SAMPLE_ROWS)
        enc = None if encoding == "utf-8" else encoding
        return [(LayerSource("schools", path, encoding=enc), frame, None)]
    if suffix == ".parquet":
        frame = gpd.read_parquet(path) if b"geo" in _parquet_meta(path) else pd.read_parquet(path)
        return [(LayerSource("schools", path), frame, _kind(frame))]
    layers = [row[0] for row in pyogrio.list_layers(path)] if suffix == ".gpkg" else [None]
    for layer in layers:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio", max_features=_SAMPLE_ROWS)
        out.append((LayerSource("schools", path, layer=layer), frame, _kind(frame)))
    return out


def _parquet_meta(path: Path) -> bytes:
    import pyarrow.parquet as pq

    return b"".join((pq.read_schema(path).metadata or {}).keys())


def _kind(frame: pd.DataFrame) -> str | None:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        return None
    return _KINDS.get(str(frame.geom_type.dropna().mode().iloc[0]))


def _score(layer: str, headers: list[str], kind: str | None, label: str) -> float:
    spec = LAYERS[layer]
    found = set(default_columns(headers, layer).values())
    needed = set(spec.required) | set(SOURCE_FIELDS.get(layer, ())) & found
    share = len(found & needed) / max(len(spec.required), 1)
    share += 0.5 if spec.id_column in found else 0.0
    share += 0.3 if any(h in label.lower() for h in _NAME_HINTS[layer]) else 0.0
    geometry = spec.geometry or ()
    wants = {_KINDS[g] for g in geometry}
    if layer == "population":
        wants.add("point")
    if kind is not None and kind not in wants:
        return 0.0
    if kind is None and geometry and not {"x", "y"} <= found:
        share -= 0.5
    return share


def _draft_layer(
    src: LayerSource, sample: pd.DataFrame, kind: str | None, folder: Path
) -> LayerDraft:
    headers = [str(c) for c in sample.columns if c != "geometry"]
    label = f"{src.file} {src.layer or ''} {src.sheet or ''}"
    scores = {name: _score(name, headers, kind, label) for name in _ORDER}
    name = max(scores, key=lambda n: scores[n])
    mapped = default_columns(headers, name)
    options: dict[str, Any] = {
        k: v
        for k, v in (
            ("layer", src.layer),
            ("sheet", src.sheet),
            ("header_row", src.header_row),
            ("encoding", src.encoding),
        )
        if v is not None
    }
    draft = LayerDraft(
        name=name,
        path=src.path.relative_to(folder).as_posix() if src.path else "",
        options=options,
        columns={},
        unmapped=[],
        score=scores[name],
    )
    for header, fieldname in mapped.items():
        if fieldname in {"x", "y"}:
            options[fieldname] = header
        else:
            draft.columns[header] = fieldname
    draft.unmapped = [h for h in headers if h not in mapped]
    _layer_todos(draft, sample, kind)
    return draft


def _layer_todos(draft: LayerDraft, sample: pd.DataFrame, kind: str | None) -> None:
    spec = LAYERS[draft.name]
    have = set(draft.columns.values()) | {c for c in sample.columns if c in spec.required}
    fields = set(have)
    if "enrolment" in have:
        fields |= {c for c in spec.required if c.startswith(("enrolment_g", "classes_g"))}
    if {"age_0_4", "age_5_9", "age_10_14"} <= have:
        fields |= {c for c in spec.required if c.startswith("age_")}
    derivable = {"township_code", "county_code", "year"}
    for column in spec.required:
        if column not in fields and column not in derivable:
            draft.todos.append(
                f"TODO 未找到字段 {column}: 在 columns 中指定对应表头 / no header found for "
                f'{column}: add "<header>" = "{column}" to columns'
            )
    if spec.geometry is not None and kind is None:
        draft.todos.append(
            f"TODO 坐标系: 请写明经纬度来源 datum = {' | '.join(DATUMS)} (GPS/天地图=wgs84, "
            "高德/腾讯=gcj02, 百度=bd09) / state the datum of the coordinates"
        )
    for fieldname, allowed in spec.choices.items():
        header = next((h for h, f in draft.columns.items() if f == fieldname), None)
        if header is None or header not in sample.columns:
            continue
        known = value_codes(fieldname, allowed)
        found = sample[header].dropna().astype(str).str.strip().unique()
        unknown = [v for v in found if _normal(v) not in known]
        if unknown:
            draft.values[fieldname] = sorted(unknown)


def _normal(value: str) -> str:
    from .vocabulary import normalise

    return normalise(value)


def draft_from_folder(
    folder: str | Path, *, name: str | None = None, crs: str | None = None
) -> StudyDraft:
    """Recognise the layers of every file in ``folder`` and draft a study.

    Parameters
    ----------
    folder
        The folder of the county's files (not modified).
    name
        Study name; the folder's name by default.
    crs
        Projected study CRS; by default the first projected CRS among the GIS files, else the
        CGCS2000 3-degree Gauss-Kruger zone of the data's mean longitude.

    Returns
    -------
    StudyDraft
    """
    root = Path(folder).resolve()
    notes: list[str] = []
    best: dict[str, LayerDraft] = {}
    crs_found: list[str] = []
    lons: list[float] = []
    for path in sorted(
        p for p in root.iterdir() if p.suffix.lower() in GIS_SUFFIXES | TABLE_SUFFIXES
    ):
        try:
            candidates = _candidates(path)
        except Exception as exc:  # a file no reader opens is noted, not fatal to the draft
            notes.append(f"TODO 无法读取 / cannot read {path.name} ({type(exc).__name__}): {exc}")
            continue
        for src, sample, kind in candidates:
            draft = _draft_layer(src, sample, kind, root)
            _locate(sample, draft, crs_found, lons)
            label = _label(draft)
            if draft.score <= 0:
                notes.append(f"TODO 未识别 / not recognised: {label}; add it by hand if needed")
                continue
            kept = best.get(draft.name)
            if kept is not None:
                loser = label if kept.score >= draft.score else _label(kept)
                notes.append(
                    f"TODO {label} 也像 / also looks like '{draft.name}'; "
                    f"{loser} left out: check which file is right"
                )
            if kept is None or draft.score > kept.score:
                best[draft.name] = draft
    missing = [n for n in REQUIRED_LAYERS if n not in best]
    notes += [f"TODO 缺少图层 / no file found for layer '{n}'" for n in missing]
    study_crs = crs or (crs_found[0] if crs_found else _zone_crs(lons))
    ordered = {n: best[n] for n in _ORDER if n in best}
    year = _base_year(root, ordered)
    return StudyDraft(
        name=name or root.name,
        crs=study_crs,
        base_year=year,
        layers=ordered,
        notes=notes,
        scenario=_scenario(root, ordered, year=year),
    )


def _label(draft: LayerDraft) -> str:
    inner = draft.options.get("layer") or draft.options.get("sheet")
    return f"{draft.path} ({inner})" if inner else draft.path


def _locate(
    sample: pd.DataFrame, draft: LayerDraft, crs_found: list[str], lons: list[float]
) -> None:
    if isinstance(sample, gpd.GeoDataFrame) and sample.crs is not None:
        if sample.crs.is_projected and sample.crs.to_epsg():
            crs_found.append(f"EPSG:{sample.crs.to_epsg()}")
        lons += sample.to_crs("EPSG:4490").geometry.representative_point().x.dropna().tolist()
    elif "x" in draft.options:
        x = pd.to_numeric(sample[draft.options["x"]], errors="coerce").dropna()
        lons += x[x.abs() <= 180].tolist()  # noqa: PLR2004


def _zone_crs(lons: list[float]) -> str:
    if not lons:
        return "EPSG:4550"
    cm = round(float(pd.Series(lons).median()) / 3) * 3
    code = _GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3
    return f"EPSG:{code}" if CRS.from_epsg(code).is_projected else "EPSG:4550"


def _read(root: Path, draft: LayerDraft) -> pd.DataFrame:
    from .fields import conform
    from .tables import read_source

    src = LayerSource(
        draft.name,
        root / draft.path,
        **{
            k: v
            for k, v in draft.options.items()
            if k in {"layer", "sheet", "header_row", "encoding"}
        },
        columns=draft.columns,
    )
    frame, _ = conform(read_source(src, spatial=False), src, base_year=None)
    return frame


def _base_year(root: Path, layers: dict[str, LayerDraft]) -> int:
    if "population" in layers:
        frame = _read(root, layers["population"])
        if "year" in frame.columns:
            years = pd.to_numeric(frame["year"], errors="coerce").dropna()
            if len(years):
                return int(years.mode().iloc[0])
    return 2020


def _scenario(root: Path, layers: dict[str, LayerDraft], *, year: int) -> dict[str, Any] | None:
    """Return the ``medium`` scenario the population layer's own counts imply, if it has ages."""
    from ..demand.scenarios import scenarios_from_population

    if "population" not in layers:
        return None
    frame = _read(root, layers["population"])
    if "age_0" not in frame.columns:
        return None
    medium: dict[str, Any] = scenarios_from_population(frame, year=year)["medium"]
    return medium


def _q(value: object) -> str:
    """Return a TOML value: a string quoted (json's escapes are TOML's), numbers as they are."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _inline(table: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{_q(k)} = {_q(v)}" for k, v in table.items()) + " }"


def _toml(draft: StudyDraft) -> str:
    lines = [
        "# 由 layout init 生成 / drafted by layout init. 逐条回答 TODO，然后运行 layout check。",
        "# Answer every TODO, then run `layout check` on this file.",
        *(f"# {note}" for note in draft.notes),
        "",
        "[study]",
        f"name = {_q(draft.name)}",
        f"title = {_q(draft.name)}  # TODO 研究标题 / title of the study",
        f"crs = {_q(draft.crs)}  # TODO 核对: 投影坐标系 / check: projected CRS of the study",
        f"base_year = {draft.base_year}  # TODO 核对: 人口数据年份 / check: population data year",
        f"school_year = {draft.base_year}  # TODO 学校数据年份 / year of the school data",
        f"plan_start = {draft.base_year + 1}",
        f"plan_end = {draft.base_year + 10}",
        'profile = "national"  # TODO 核对标准: 国家标准; 地方规定写入 [standards] 或用地方配置',
        "# / check the profile: national standards, with placeholders for the local rules "
        "(funding,",
        '# rotation, ...): set them in [standards] or use a local profile such as "anshan-2020"',
    ]
    for draft_layer in draft.layers.values():
        lines += ["", *_layer_lines(draft_layer)]
    if draft.scenario is not None:
        rate = draft.scenario["birth_rate"][str(draft.base_year)]
        lines += [
            "",
            f"# 情景由本地人口数据推算: 出生率 = 0-4岁人数/5/常住人口 = {rate}‰; 人口与迁移不变",
            f"# scenario from the study's own population: births per 1000 = {rate}; flat",
            "# TODO 核对或补充情景 (low/high) / check, or add low and high scenarios",
            "[scenarios.medium]",
            *(
                f"{k} = {_q(v) if not isinstance(v, dict) else _inline(v)}"
                for k, v in draft.scenario.items()
            ),
        ]
    return "\n".join(lines) + "\n"


def _layer_lines(layer: LayerDraft) -> list[str]:
    lines = [f"[layers.{layer.name}]", f"path = {_q(layer.path)}"]
    lines += [f"{k} = {_q(v)}" for k, v in layer.options.items()]
    if "x" in layer.options:
        lines.append(f"# datum = {_q('wgs84')}  " + next(t for t in layer.todos if "datum" in t))
    renamed = {h: f for h, f in layer.columns.items() if h != f}
    if renamed:
        lines.append(f"columns = {_inline(renamed)}")
    same = [h for h, f in layer.columns.items() if h == f]
    if same:
        lines.append(f"# 表头即字段 / headers that are field names: {', '.join(same)}")
    for fieldname, unknown in layer.values.items():
        codes = " | ".join(LAYERS[layer.name].choices[fieldname])
        table = _inline(dict.fromkeys(unknown, ""))
        lines.append(
            f"# values.{fieldname} = {table}  # TODO 取值对应 / code of each value: {codes}"
        )
    lines += [f"# {t}" for t in layer.todos if "datum" not in t]
    if layer.unmapped:
        lines.append(f"# 未使用的表头 / headers not used: {', '.join(layer.unmapped)}")
    return lines
