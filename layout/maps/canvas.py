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
    fmap = folium.Map(tiles=None, control_scale=True, maxZoom=18)
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


def add_legend(
    fmap: folium.Map,
    study: Study,
    *,
    title: str,
    items: Sequence[tuple[str, str]],
    lang: Lang = "zh",
    notices: Sequence[str] = (),
) -> None:
    """Put the title, the data date, the synthetic notice and a colour key on the map.

    Parameters
    ----------
    fmap
        The map.
    study
        Its study (title, data date, whether synthetic).
    title
        The map's own title, shown under the study title.
    items
        ``(colour, label)`` pairs of the colour key; labels are escaped.
    lang
        Language of the fixed texts.
    notices
        Sentences shown under the key, e.g. that a layer was aggregated for the map budget.
    """
    note = f"<div style='color:#b30000'>{html.escape(text('synthetic', lang))}</div>"
    keys = "".join(
        "<div><span style='display:inline-block;width:10px;height:10px;border-radius:5px;"
        f"background:{html.escape(colour)};margin-right:4px'></span>{html.escape(label)}</div>"
        for colour, label in items
    )
    fmap.get_root().html.add_child(  # type: ignore[attr-defined]  # the root is a branca Figure
        folium.Element(
            "<div id='layout-legend' style='position:fixed;top:10px;left:50px;z-index:9999;"
            "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif;"
            "max-width:40%'>"
            f"<b>{label_html(study.title)}</b><br>{label_html(title)}"
            f"{note if study.synthetic else ''}"
            f"<div>{text('date', lang)}: {html.escape(study.data_date)}</div>{keys}"
            + "".join(f"<div class='layout-notice'>{label_html(n)}</div>" for n in notices)
            + "</div>"
        )
    )


def finish(fmap: folium.Map) -> None:
    """Add the layer control, open, so every layer can be switched on and off."""
    folium.LayerControl(collapsed=False).add_to(fmap)
