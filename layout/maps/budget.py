"""The map budget: a layer with too many features is aggregated, with a notice, not truncated.

A browser draws tens of thousands of polygons slowly; a map meant to open in seconds keeps each
layer under :data:`MAX_FEATURES`. A larger layer is dissolved by an area column (e.g. the
township), its numeric columns summed, and the map says so in its legend. The full layer is
always in the results GeoPackage.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> cells = gpd.GeoDataFrame({"township_code": ["A", "A", "B"], "children": [1.0, 2.0, 4.0]},
...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 0, 6, 1)])
>>> shown, notice = within_budget(cells, by="township_code", what="网格", lang="zh",
...                               max_features=2)
>>> shown["children"].tolist()
[3.0, 4.0]
>>> notice
'网格：3个要素超过地图上限2，按乡镇(街道)代码汇总显示（2个）；完整图层见 results.gpkg。'

"""

from __future__ import annotations

import logging
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..labels import Lang, header, in_language

LOG = logging.getLogger(__name__)

MAX_FEATURES = 20_000
"""Most features one layer of a map may hold before it is aggregated (or, for the cells of the
provision map, drawn as images: :mod:`layout.maps.grid`)."""
MAX_PAGE_MB = 15
"""Most megabytes one map page should weigh, a province's included (checked by the tests and
``benchmarks/bench_province.py``)."""
MAX_EMBEDDED_MB = 2
"""Most megabytes of pictures (the county demand charts) one map page embeds; beyond, its
popups link the picture files instead (a province's hundred charts weigh about 7 MB)."""


_TEXT = {
    "summed": (
        "{what}：{n:,}个要素超过地图上限{limit:,}，按{by}汇总显示（{shown:,}个）；"
        "完整图层见 results.gpkg。",
        "{what}: {n:,} features exceed the map budget of {limit:,}; shown summed by {by} "
        "({shown:,} features). The full layer is in results.gpkg.",
    ),
}
_t = partial(in_language, _TEXT)


def within_budget(
    layer: gpd.GeoDataFrame,
    *,
    by: str,
    what: str,
    lang: Lang = "en",
    by_label: str | None = None,
    max_features: int | None = None,
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Return the layer as is when small enough, else dissolved by ``by`` with a notice.

    Parameters
    ----------
    layer
        Features to draw (not modified).
    by
        Column to aggregate by (numeric columns are summed, others dropped).
    what
        Name of the layer in the notice, in ``lang``.
    lang
        Language of the notice (the log says it in English).
    by_label
        Name of ``by`` in the notice, in ``lang``; its column header by default.
    max_features
        The budget; :data:`MAX_FEATURES` by default.

    Returns
    -------
    (geopandas.GeoDataFrame, str or None)
        The layer to draw, and the notice to show (``None`` when nothing was aggregated).
    """
    limit = MAX_FEATURES if max_features is None else max_features
    if len(layer) <= limit:
        return layer, None
    numeric = layer.select_dtypes("number").columns.tolist()
    if layer.geom_type.isin(["LineString", "MultiLineString"]).all():
        shown = _lines_by(layer, by=by, numeric=numeric)
    else:
        shown = layer[[by, *numeric, layer.geometry.name]].dissolve(
            by=by, aggfunc="sum", as_index=False
        )
    counts = {"n": len(layer), "limit": limit, "shown": len(shown)}
    LOG.warning("%s", _t("summed", "en", what=what, by=by, **counts))
    label = header(by, lang) if by_label is None else by_label
    return shown, _t("summed", lang, what=what, by=label, **counts)


def _lines_by(layer: gpd.GeoDataFrame, *, by: str, numeric: list[str]) -> gpd.GeoDataFrame:
    """Gather the lines of each value of ``by`` into one multi-line, numeric columns summed.

    Lines are only collected, not unioned: a union nodes every crossing, which for a province's
    roads takes many minutes and draws nothing different.
    """
    groups, values = pd.factorize(layer[by], sort=True)
    keep = groups >= 0
    parts, owner = shapely.get_parts(layer.geometry.to_numpy()[keep], return_index=True)
    group = groups[keep][owner]
    order = np.argsort(group, kind="stable")  # shapely gathers sorted indices
    lines = shapely.multilinestrings(parts[order], indices=group[order])
    sums = pd.DataFrame(layer.loc[keep, numeric]).groupby(groups[keep]).sum()
    return gpd.GeoDataFrame(
        {by: values, **{c: sums[c].to_numpy() for c in numeric}}, geometry=lines, crs=layer.crs
    )
