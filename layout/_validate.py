"""Input checks shared by the analysis modules; each raises one :class:`ValidationError`.

Every check collects all the problems it finds before raising, and the message names the
argument, the column and (up to ten of) the offending row ids, with the fix.

Examples
--------
>>> import pandas as pd
>>> from layout._validate import require_columns
>>> require_columns(pd.DataFrame({"a": [1]}), ["a"], name="demand")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import ValidationError

_SHOWN = 10


def name_rows(ids: Iterable[object]) -> str:
    """Return up to ten row ids as text, with a count of the rest.

    Examples
    --------
    >>> name_rows(range(12))
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more'
    """
    ids = list(ids)
    text = ", ".join(str(i) for i in ids[:_SHOWN])
    return text if len(ids) <= _SHOWN else f"{text} and {len(ids) - _SHOWN} more"


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, name: str) -> None:
    """Raise if ``frame`` lacks any of ``columns``.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], name="demand")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: demand is missing column 'b'; add it or pass the name ...
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(
            [
                f"{name} is missing column {c!r}; add it or pass the name of the column that "
                "holds it"
                for c in missing
            ]
        )


def require_ids(frame: pd.DataFrame, column: str, *, name: str) -> pd.Index:
    """Return ``frame[column]`` as an index after checking it is present, non-empty and unique.

    Examples
    --------
    >>> import pandas as pd
    >>> list(require_ids(pd.DataFrame({"cell_id": ["a", "b"]}), "cell_id", name="cells"))
    ['a', 'b']
    """
    require_columns(frame, [column], name=name)
    ids = pd.Index(frame[column], name=column)
    problems = []
    if ids.hasnans:
        rows = frame.index[np.asarray(ids.isna())]
        problems.append(f"{name}.{column} is empty in rows {name_rows(rows)}; give every row an id")
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        problems.append(
            f"{name}.{column} repeats {name_rows(duplicated)}; ids must be unique per row"
        )
    if problems:
        raise ValidationError(problems)
    return ids


def require_amounts(frame: pd.DataFrame, column: str, *, name: str, ids: pd.Index) -> np.ndarray:
    """Return ``frame[column]`` as floats after checking it is numeric, finite and non-negative.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"children": [3, -1]})
    >>> ids = pd.Index(["a", "b"])
    >>> require_amounts(frame, "children", name="demand", ids=ids)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: demand.children must be a finite number >= 0; rows b ...
    """
    require_columns(frame, [column], name=name)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValidationError(
            f"{name}.{column} must be a finite number >= 0; rows {name_rows(ids[bad])} are "
            f"not ({name_rows(frame[column].to_numpy()[bad])}); fix or drop them"
        )
    return values


def require_metric_crs(frames: dict[str, gpd.GeoDataFrame]) -> None:
    """Raise unless all ``frames`` share one projected CRS measured in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> cells = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:4326")
    >>> require_metric_crs({"cells": cells})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cells has the geographic CRS EPSG:4326; project it to ...
    """
    problems = []
    for name, frame in frames.items():
        crs = frame.crs
        if crs is None:
            problems.append(
                f"{name} has no CRS; set the study's projected CRS, e.g. "
                f"{name}.set_crs('EPSG:4550')"
            )
        elif not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
            problems.append(
                f"{name} has the {'geographic' if crs.is_geographic else 'non-metric'} CRS "
                f"{crs.to_string()}; project it to a metric CRS first, e.g. "
                f"{name}.to_crs('EPSG:4550')"
            )
    crs_list = [(n, f.crs) for n, f in frames.items() if f.crs is not None]
    if not problems and any(c != crs_list[0][1] for _, c in crs_list):
        shown = "; ".join(f"{n}: {c.to_string()}" for n, c in crs_list)
        problems.append(
            f"the layers have different CRS ({shown}); project them all to the study CRS "
            "with .to_crs(...)"
        )
    if problems:
        raise ValidationError(problems)


def require_geometry(
    frame: gpd.GeoDataFrame, kinds: tuple[str, ...], *, name: str, ids: pd.Index
) -> None:
    """Raise if any geometry of ``frame`` is missing, empty or not one of ``kinds``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> frame = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:4550")
    >>> require_geometry(frame, ("Polygon",), name="cells", ids=pd.Index(["c1"]))
    Traceback (most recent call last):
    ...
    layout.errors.ValidationError: cells geometry must be Polygon; rows c1 are Point
    """
    geometry = frame.geometry
    problems = []
    empty = np.asarray(geometry.isna() | geometry.is_empty)
    if empty.any():
        problems.append(f"{name} has no geometry in rows {name_rows(ids[empty])}; drop or fix them")
    types = np.asarray(geometry.geom_type)
    wrong = ~empty & ~np.isin(types, kinds)
    if wrong.any():
        problems.append(
            f"{name} geometry must be {' or '.join(kinds)}; rows {name_rows(ids[wrong])} are "
            f"{name_rows(pd.unique(types[wrong]))}"
        )
    if problems:
        raise ValidationError(problems)
