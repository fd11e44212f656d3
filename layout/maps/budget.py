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
>>> shown, notice = within_budget(cells, by="township_code", what="cells", max_features=2)
>>> shown["children"].tolist(), notice is not None
([3.0, 4.0], True)
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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


def within_budget(
    layer: gpd.GeoDataFrame, *, by: str, what: str, max_features: int | None = None
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Return the layer as is when small enough, else dissolved by ``by`` with a notice.

    Parameters
    ----------
    layer
        Features to draw (not modified).
    by
        Column to aggregate by (numeric columns are summed, others dropped).
    what
        Name of the layer in the notice.
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
    notice = (
        f"{what}: {len(layer):,} features exceed the map budget of {limit:,}; shown "
        f"summed by {by} ({len(shown):,} features). The full layer is in results.gpkg."
    )
    LOG.warning("%s", notice)
    return shown, notice


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
