"""The road network as an optional layer of a map: off when the page opens, one tick shows it.

Roads are drawn in one grey (ColorBrewer Greys), their width by design speed in three classes
(:data:`SPEED_BINS`, classed with :class:`mapclassify.UserDefined`), so that they stay under
the thematic colours of the map. The layer is inline GeoJSON like every other layer, so it
shows offline. A network larger than the map budget is drawn merged by design speed, with a
notice (:func:`layout.maps.budget.within_budget`); the study's own layer is never changed.

Examples
--------
>>> import folium
>>> from layout.study import study_from_toml
>>> m = folium.Map(tiles=None)
>>> found = add_roads(m, study_from_toml(), lang="en", datum="wgs84")
>>> found.layer.show, found.key[1], found.notice is None
(False, 'Roads (width by design speed)', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import folium
import geopandas as gpd
import mapclassify
import numpy as np

from ..labels import Lang, in_language
from ..study import Study
from .basemap import Datum
from .budget import MAX_FEATURES, within_budget
from .canvas import Key
from .geojson import geojson_from_geodataframe

__all__ = ["ROAD_COLOUR", "SPEED_BINS", "SPEED_WEIGHTS", "Roads", "add_roads"]

ROAD_COLOUR = "#636363"
"""ColorBrewer Greys (7 classes), the second darkest: roads stay under the thematic colours."""
SPEED_BINS = (40.0, 70.0)
"""Upper bounds (km/h) of the first two speed classes: local roads, main roads, then faster."""
SPEED_WEIGHTS = (1.0, 2.0, 3.5)
"""Line width (pixels) of each speed class."""

_TEXT = {
    "roads": ("道路（线宽按设计速度）", "Roads (width by design speed)"),
    "road_class": ("道路等级", "Road class"),
    "speed": ("设计速度（公里/小时）", "Design speed (km/h)"),
    "local": (
        "设计速度{speed}公里/小时及以下的{n}条道路未绘出（完整路网见研究图层）。",
        "The {n} roads of {speed} km/h or less are not drawn (the study's layer has them all).",
    ),
}
_t = partial(in_language, _TEXT)


@dataclass
class Roads:
    """The road layer added to a map, its legend key and its budget notice (if merged)."""

    layer: folium.GeoJson
    key: Key
    notice: str | None


def add_roads(fmap: folium.Map, study: Study, *, lang: Lang, datum: Datum) -> Roads | None:
    """Add the study's roads to the map as a layer that is off until the reader ticks it.

    Parameters
    ----------
    fmap
        The map (add it before the layers that should be drawn above the roads).
    study
        The study; nothing is added when it has no ``roads`` layer, or an empty one.
    lang
        Language of the layer name and tooltips.
    datum
        Datum of the overlays (the basemap's).

    Returns
    -------
    Roads or None
        The layer, its legend key and the budget notice; ``None`` without roads.
    """
    roads = study.layers.get("roads")
    if roads is None or roads.empty:
        return None
    speed = roads["speed_kmh"].astype(float)
    frame = gpd.GeoDataFrame(
        {"road_class": roads["road_class"].astype(str), "speed": speed.map("{:g}".format)},
        geometry=roads.geometry.to_numpy(),
        crs=roads.crs,
    )
    local = (speed <= SPEED_BINS[0]).to_numpy()
    if len(frame) > MAX_FEATURES and not local.all():
        # Too many to draw: the main roads only (a province's streets would weigh megabytes).
        frame = frame[~local]
    shown, notice = within_budget(
        frame, by="speed", what=_t("roads", lang), lang=lang, by_label=_t("speed", lang)
    )
    if local.any() and len(frame) < len(roads):
        dropped = _t("local", lang, speed=f"{SPEED_BINS[0]:g}", n=f"{int(local.sum()):,}")
        notice = f"{notice} {dropped}" if notice else dropped
    classes = mapclassify.UserDefined(shown["speed"].astype(float), bins=list(SPEED_BINS)).yb
    shown = shown.assign(weight=np.asarray(SPEED_WEIGHTS)[classes])
    tooltip = {c: _t(c, lang) for c in ("road_class", "speed") if c in shown.columns}
    layer = geojson_from_geodataframe(
        shown, style={"color": ROAD_COLOUR, "opacity": 0.8, "interactive": True},
        style_columns={"weight": "weight"}, tooltip=tooltip, simplify_tolerance=10,
        name=_t("roads", lang), datum=datum,
    )  # fmt: skip
    layer.show = False
    layer.add_to(fmap)
    return Roads(layer=layer, key=(ROAD_COLOUR, _t("roads", lang), "line"), notice=notice)
