"""The tools every map carries, written in a few lines of Leaflet so that nothing is fetched.

- a metric scale (Leaflet's ``L.control.scale`` with ``imperial: false``) and a north arrow;
- the attribution: the study, its data date and, for the bundled sample, the synthetic notice;
- a search box that finds a school, township or county by name (a ``<datalist>`` of the names
  of the layers given), zooms to it and opens its popup;
- a distance measure: click points on the map, the running length is shown in metres or
  kilometres (``map.distance``, the great-circle distance Leaflet computes);
- labels of townships and schools shown as permanent tooltips from a given zoom level on;
- a print button with a choice of paper (:data:`PAPERS`, landscape), and print CSS that keeps
  the legend keys' colours on paper.

The Leaflet plugins that do these things (leaflet-search, leaflet-measure) are on no package
index a county intranet mirrors (PyPI ships neither), so these small controls are written
here, in plain Leaflet 1.9, which :mod:`layout.maps.offline` inlines.

Examples
--------
>>> import folium
>>> from layout.study import study_from_toml
>>> m = folium.Map(tiles=None)
>>> add_controls(m, study_from_toml(), lang="en")
>>> import copy
>>> "imperial: false" in copy.deepcopy(m.get_root()).render()
True
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import folium
from branca.element import MacroElement
from jinja2 import Template

from ..labels import Lang
from ..study import Study
from .canvas import text

__all__ = ["PAPERS", "PRINT_CSS", "PageScript", "add_controls"]

_TEXT = {
    "search": {"zh": "搜索学校、乡镇或县区名称", "en": "Search a school, township or county"},
    "found": {"zh": "已定位：", "en": "Found: "},
    "missing": {"zh": "未找到：", "en": "Not found: "},
    "measure": {"zh": "测距", "en": "Measure"},
    "measuring": {
        "zh": "点击地图量算距离，再点按钮结束",
        "en": "Click the map; click again to stop",
    },
    "metres": {"zh": "米", "en": "m"},
    "km": {"zh": "公里", "en": "km"},
    "print": {"zh": "打印/导出当前视图", "en": "Print / export this view"},
    "paper": {"zh": "纸张", "en": "Paper"},
    "north": {"zh": "北", "en": "N"},
}

PRINT_CSS = """
.leaflet-tooltip th, .leaflet-popup-content th { white-space: nowrap; text-align: left; }
.layout-key { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.leaflet-tooltip.layout-label { background: none; border: none; box-shadow: none; padding: 0;
  font: 11px sans-serif; color: #222; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
.leaflet-tooltip.layout-label::before { display: none; }
.layout-tools input { width: 15em; font: 13px sans-serif; }
.layout-tools button { font: 13px sans-serif; margin-top: 2px; }
.layout-tools div { font: 12px sans-serif; max-width: 16em; }
@media print {
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  .layout-tools, .leaflet-control-layers, .leaflet-control-zoom, #layout-years input {
    display: none !important; }
}
"""
"""Styles of the controls and of the printed page (colours kept, tools hidden)."""

PAPERS = ("A4", "A3")
"""Paper sizes the print tool offers, printed landscape; the first is the default."""
PAGE_CSS = "@page { size: PAPER landscape; margin: 8mm; }"
"""The page rule, ``PAPER`` standing for the chosen paper (the page script rewrites it when the
reader picks another)."""


class PageScript(MacroElement):
    """A script of this package (``layout/maps/<file>``), rendered after the map's layers.

    The script is a Jinja template: ``{{ this.<field> }}`` is replaced by the field's text
    when the element is made, so the element holds plain code (and survives the copy
    :func:`layout.maps.offline.save_html` renders).

    Parameters
    ----------
    file
        Name of the ``.js`` file beside this module.
    **fields
        Texts the script reads (JSON, or JavaScript variable names).
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, file: str, **fields: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's is untyped
        self._name = "LayoutScript"
        script = Path(__file__).with_name(file).read_text(encoding="utf-8")
        self.code = Template(script).render(this=SimpleNamespace(**fields))


def _pairs(
    entries: Sequence[tuple[folium.GeoJson, str, int]] | Sequence[tuple[folium.GeoJson, str]],
) -> str:
    """Write ``[[layer, "key", ...], ...]`` with the layers as their JavaScript variables."""
    return (
        "["
        + ", ".join(
            "[" + ", ".join([entry[0].get_name(), *(json.dumps(v) for v in entry[1:])]) + "]"
            for entry in entries
        )
        + "]"
    )


def add_controls(
    fmap: folium.Map,
    study: Study,
    *,
    lang: Lang = "zh",
    search: Sequence[tuple[folium.GeoJson, str]] = (),
    labels: Sequence[tuple[folium.GeoJson, str, int]] = (),
) -> None:
    """Add the scale, north arrow, attribution, search, measure, labels and print tools.

    Parameters
    ----------
    fmap
        The map, with its layers already added.
    study
        Its study: the attribution names it, its data date and whether it is synthetic.
    lang
        Language of the controls.
    search
        Layers whose features can be found, each with the property holding the name.
    labels
        Layers whose features get a permanent label, the property shown and the zoom level
        from which it is shown.
    """
    attribution = f"{study.title}, {text('date', lang)} {study.data_date}"
    if study.synthetic:
        attribution += f" ({text('synthetic', lang)})"
    texts = {key: value[lang] for key, value in _TEXT.items()}
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]  # a branca Figure
        folium.Element(
            f"<style>{PRINT_CSS}</style>"
            f"<style id='layout-page'>{PAGE_CSS.replace('PAPER', PAPERS[0])}</style>"
        )
    )
    fmap.add_child(
        PageScript(
            "controls.js",
            map_name=fmap.get_name(),
            texts=json.dumps(texts, ensure_ascii=False),
            attribution=json.dumps(html.escape(attribution), ensure_ascii=False),
            search=_pairs(search),
            labels=_pairs(labels),
            papers=json.dumps(PAPERS),
            page_css=json.dumps(PAGE_CSS),
        )
    )
