"""What every map of a study shares: the frame, the basemap, the legend and the layer control.

Examples
--------
>>> from layout.study import study_from_toml
>>> study = study_from_toml()
>>> fmap = study_canvas(study, lang="en")
>>> add_legend(fmap, study, title="Overview", items=[("#1a9641", "school")], lang="en")
>>> finish(fmap)
>>> type(fmap).__name__
'Map'
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium

from ..labels import Lang
from ..study import Study
from .basemap import Basemap, add_basemap
from .geojson import geojson_from_geodataframe
from .labels import label_html

WEB_CRS = "EPSG:4326"

_TEXT = {
    "synthetic": {
        "zh": "合成样例数据，非真实学校数据",
        "en": "Synthetic sample data, not real school data",
    },
    "date": {"zh": "数据日期", "en": "Data date"},
    "counties": {"zh": "县（市、区）界", "en": "County boundaries"},
}


def text(key: str, lang: Lang) -> str:
    """Return a piece of map text shared by every map, in ``lang``.

    Examples
    --------
    >>> text("date", "zh")
    '数据日期'
    """
    return _TEXT[key][lang]


def study_canvas(
    study: Study, *, lang: Lang = "zh", basemap: Basemap | None = None, outline: bool = True
) -> folium.Map:
    """Return a map framed on the study's counties, with their outlines and the basemap if any.

    Parameters
    ----------
    study
        The study whose counties set the frame.
    lang
        Language of the map's texts (``"zh"`` or ``"en"``).
    basemap
        Tiles under the overlays; ``None`` (default) draws none, so the map needs no network.
    outline
        Draw the county boundaries (a map that shows counties itself passes ``False``).

    Returns
    -------
    folium.Map
    """
    west, south, east, north = study["counties"].to_crs(WEB_CRS).total_bounds
    fmap = folium.Map(tiles=None, control_scale=False, maxZoom=18)
    fmap.fit_bounds([[south, west], [north, east]])
    add_basemap(fmap, basemap)
    if outline:
        geojson_from_geodataframe(
            study["counties"][["name", "geometry"]],
            style={"color": "#555", "weight": 1.5, "fill": False, "interactive": False},
            simplify_tolerance=30,
            name=_TEXT["counties"][lang],
            datum=basemap.datum if basemap else "wgs84",
        ).add_to(fmap)
    return fmap


Key = tuple[str, str] | tuple[str, str, str]
"""A legend key: ``(colour, label)``, or ``(colour, label, shape)`` with shape ``"dot"``
(a filled circle, the default), ``"area"`` (a filled square), ``"line"`` or ``"ring"``."""

_SHAPES = {
    "dot": "<circle cx='7' cy='7' r='5.5' fill='{c}' stroke='#333' stroke-width='0.6'/>",
    "area": "<rect x='1' y='2' width='12' height='10' fill='{c}' fill-opacity='0.75' "
    "stroke='#555' stroke-width='0.6'/>",
    "line": "<line x1='0' y1='7' x2='14' y2='7' stroke='{c}' stroke-width='2.5'/>",
    "ring": "<circle cx='7' cy='7' r='5' fill='none' stroke='{c}' stroke-width='2'/>",
}


def legend_key(colour: str, label: str, shape: str = "dot") -> str:
    """Return one legend key as HTML: an inline SVG symbol (printed as drawn) and its label.

    Examples
    --------
    >>> "fill='#1a9641'" in legend_key("#1a9641", "ok")
    True
    """
    symbol = _SHAPES[shape].format(c=html.escape(colour))
    return (
        f"<div class='layout-key-row'><svg class='layout-key' data-shape='{shape}' width='14' "
        f"height='14' style='vertical-align:middle;margin-right:4px'>{symbol}</svg>"
        f"{label_html(label)}</div>"
    )


def add_legend(
    fmap: folium.Map,
    study: Study,
    *,
    title: str,
    items: Sequence[Key],
    lang: Lang = "zh",
    notices: Sequence[str] = (),
    heading: str = "",
) -> None:
    """Put the title, the data date, the synthetic notice and a colour key on the map.

    The map's title with the study's also becomes the page title (the browser tab).

    Parameters
    ----------
    fmap
        The map.
    study
        Its study (title, data date, whether synthetic).
    title
        The map's own title, shown under the study title.
    items
        Keys of the legend (:data:`Key`); labels are escaped. Keys are inline SVG, whose
        fills print (a printed page drops CSS backgrounds).
    lang
        Language of the fixed texts.
    notices
        Sentences shown under the key, e.g. that a layer was aggregated for the map budget.
    heading
        A line under the title naming what the map shows (year, scenario, norm); escaped.
    """
    note = f"<div style='color:#b30000'>{html.escape(text('synthetic', lang))}</div>"
    keys = "".join(legend_key(*item) for item in items)
    fmap.get_root().title = html.escape(f"{title} - {study.title}")  # type: ignore[attr-defined]
    fmap.get_root().html.add_child(  # type: ignore[attr-defined]  # the root is a branca Figure
        folium.Element(
            "<div id='layout-legend' style='position:fixed;top:10px;left:50px;z-index:9999;"
            "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif;"
            "max-width:40%;margin-left:230px'>"
            f"<b>{label_html(study.title)}</b><br>{label_html(title)}"
            + (f"<div id='layout-heading'>{label_html(heading)}</div>" if heading else "")
            + f"{note if study.synthetic else ''}"
            f"<div>{text('date', lang)}: {html.escape(study.data_date)}</div>{keys}"
            + "".join(f"<div class='layout-notice'>{label_html(n)}</div>" for n in notices)
            + "</div>"
        )
    )


def finish(fmap: folium.Map) -> None:
    """Add the layer control, open, so every layer can be switched on and off."""
    folium.LayerControl(collapsed=False).add_to(fmap)
