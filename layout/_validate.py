"""Input checks shared by the analysis modules.

Every check returns a list of problems (one line each) instead of raising, so that a caller can
collect all the problems of a layer and raise one :class:`~layout.errors.ValidationError`.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"cell_id": ["a", "b"], "age_0": [1, -2]})
>>> missing_columns(frame, ["cell_id", "age_1"], layer="population")
["population: column 'age_1' is missing; add it (see layout.schema.LAYERS['population'])"]
>>> negative_rows(frame, ["age_0"], ids=frame["cell_id"], layer="population")
["population: column 'age_0' is negative in row 'b'; counts must be 0 or more"]
>>> outside_choices(frame, "cell_id", ("a",), ids=frame["cell_id"], layer="population")
["population: column 'cell_id' must be one of ('a',); it is not in row 'b'"]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

_SHOWN = 5


def name_rows(ids: Iterable[object], *, limit: int = _SHOWN) -> str:
    """Name the first ``limit`` row ids, and how many more there are.

    Parameters
    ----------
    ids
        Row identifiers, in the order to show them.
    limit
        How many ids to spell out.

    Returns
    -------
    str
        For example ``"rows 'a', 'b' and 3 more"``, or ``"row 'a'"`` for one id.

    Examples
    --------
    >>> name_rows(["a", "b", "c"], limit=2)
    "rows 'a', 'b' and 1 more"
    """
    ids = list(ids)
    shown = ", ".join(repr(str(i)) for i in ids[:limit])
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return f"{'row' if len(ids) == 1 else 'rows'} {shown}{more}"


def missing_columns(frame: pd.DataFrame, columns: Sequence[str], *, layer: str) -> list[str]:
    """List the required ``columns`` that ``frame`` lacks.

    Parameters
    ----------
    frame
        The layer's table.
    columns
        Columns the caller needs.
    layer
        Layer name used in the messages.

    Returns
    -------
    list of str
        One problem per missing column.

    Examples
    --------
    >>> missing_columns(pd.DataFrame({"a": [1]}), ["a"], layer="x")
    []
    """
    return [
        f"{layer}: column {c!r} is missing; add it (see layout.schema.LAYERS[{layer!r}])"
        for c in columns
        if c not in frame.columns
    ]


def numeric_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as floats, with NaN where a value is missing or not a number.

    Parameters
    ----------
    frame
        The layer's table.
    column
        Column to convert.

    Returns
    -------
    numpy.ndarray
        Float array aligned to the rows of ``frame``.

    Examples
    --------
    >>> numeric_values(pd.DataFrame({"a": [1, "x", None]}), "a")
    array([ 1., nan, nan])
    """
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def negative_rows(
    frame: pd.DataFrame, columns: Sequence[str], *, ids: pd.Series, layer: str
) -> list[str]:
    """List the rows where a numeric column is missing, not a number or negative.

    Parameters
    ----------
    frame
        The layer's table.
    columns
        Columns that must hold numbers of 0 or more.
    ids
        Row identifiers aligned to ``frame``, used to name rows.
    layer
        Layer name used in the messages.

    Returns
    -------
    list of str
        One problem per offending column, naming its rows.

    Examples
    --------
    >>> frame = pd.DataFrame({"n": [1, None]})
    >>> negative_rows(frame, ["n"], ids=pd.Series(["a", "b"]), layer="x")
    ["x: column 'n' is empty or not a number in row 'b'; fill in a count of 0 or more"]
    """
    problems = []
    labels = np.asarray(ids)
    for column in columns:
        values = numeric_values(frame, column)
        blank = np.isnan(values)
        if blank.any():
            problems.append(
                f"{layer}: column {column!r} is empty or not a number in "
                f"{name_rows(labels[blank])}; fill in a count of 0 or more"
            )
        below = values < 0
        if below.any():
            problems.append(
                f"{layer}: column {column!r} is negative in {name_rows(labels[below])}; "
                "counts must be 0 or more"
            )
    return problems


def duplicate_ids(ids: pd.Series, *, layer: str) -> list[str]:
    """List identifiers that occur more than once.

    Parameters
    ----------
    ids
        The layer's id column.
    layer
        Layer name used in the message.

    Returns
    -------
    list of str
        Empty, or one problem naming the repeated ids.

    Examples
    --------
    >>> duplicate_ids(pd.Series(["a", "a", "b"], name="cell_id"), layer="population")
    ["population: cell_id is not unique: row 'a' occurs more than once"]
    """
    repeated = ids[ids.duplicated()].unique()
    if len(repeated) == 0:
        return []
    return [f"{layer}: {ids.name} is not unique: {name_rows(repeated)} occurs more than once"]


def outside_choices(
    frame: pd.DataFrame, column: str, choices: Sequence[str], *, ids: pd.Series, layer: str
) -> list[str]:
    """List the rows whose ``column`` value is not one of ``choices``.

    Parameters
    ----------
    frame
        The layer's table.
    column
        Column restricted to ``choices``.
    choices
        Allowed values.
    ids
        Row identifiers aligned to ``frame``, used to name rows.
    layer
        Layer name used in the message.

    Returns
    -------
    list of str
        Empty, or one problem naming the rows.

    Examples
    --------
    See the module examples.
    """
    odd = ~frame[column].isin(choices).to_numpy()
    if not odd.any():
        return []
    return [
        f"{layer}: column {column!r} must be one of {tuple(choices)}; "
        f"it is not in {name_rows(np.asarray(ids)[odd])}"
    ]
