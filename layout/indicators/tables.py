"""Every indicator table of a study's schools, checked once: the ``layout plan`` tables."""

from __future__ import annotations

import logging

import pandas as pd

from ..schema import RESOURCE_COLUMNS, SUPPORT_COLUMNS
from ..standards import Profile
from ._schools import _operating
from .balance import _balance, balance_target
from .class_size import _ledger, county_class_size
from .funding import _funding, county_funding
from .pairing import study_pairs
from .staffing import _due, _staffing, county_staffing
from .support import support_tables, township_dormitories, unchecked_support_rules

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- report tables


def indicator_tables(
    schools: pd.DataFrame,
    profile: Profile,
    *,
    teachers: pd.DataFrame | None = None,
    townships: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every indicator table, with plain column names and codes.

    :func:`layout.labels.localise` gives them the headers of the report spreadsheet.

    The schools layer is checked once. The balance tables are left out (with a logged
    warning) when the layer lacks any of the seven resource columns, which are optional.

    Parameters
    ----------
    schools
        The schools layer, with ``boarders`` and ``teachers``.
    profile
        Standards profile.
    teachers
        Optional ``teachers`` table, for the rotation quota.
    townships
        Optional townships layer: with its ``teacher_dormitory`` column, the table
        ``township_dormitories`` (:func:`layout.indicators.support.township_dormitories`).

    Returns
    -------
    dict of str to pandas.DataFrame
        Keyed by table name: ``profile``, ``class_size_ledger``, ``class_size_by_county``,
        ``funding``, ``funding_by_county``, ``staffing``, ``staffing_by_county`` and, with
        resource data, ``balance_schools``, ``balance_indicators``, ``balance_counties``,
        ``balance_target`` (the city's share of counties passing against its target), in
        that order; ``school_pairs`` (every rural school paired with an urban quality
        school, :func:`layout.indicators.pairing.school_pairs`) when the layer has point
        geometries in a projected CRS; then the tables of the support rules whose optional
        columns the layer has (:func:`layout.indicators.support.support_tables`).

    Examples
    --------
    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> from layout.schema import classes_columns, enrolment_columns
    >>> row = {"school_id": "S1", "county_code": "210302", "level": "primary",
    ...        "setting": "urban", "status": "open", "boarders": 0, "teachers": 5}
    >>> row |= {c: 0 for c in enrolment_columns() + classes_columns()}
    >>> row |= {"enrolment_g1": 90, "classes_g1": 2}
    >>> tables = indicator_tables(pd.DataFrame([row]), load_profile())
    >>> list(tables["class_size_ledger"].columns[:2])
    ['school_id', 'county_code']
    """
    has_resources = all(c in schools.columns for c in RESOURCE_COLUMNS)
    needs = ("boarders", "teachers", *(RESOURCE_COLUMNS if has_resources else ()))
    support = [c for c in SUPPORT_COLUMNS if c in schools.columns]
    frame = _operating(schools, needs=needs, optional=support)
    ledger = _ledger(frame, profile)
    money = _funding(frame, profile)
    staff = _staffing(frame, profile)
    if teachers is not None:
        staff = staff.join(_due(teachers, schools, frame, profile))
    tables = {
        "profile": profile.to_frame(),
        "class_size_ledger": ledger,
        "class_size_by_county": county_class_size(ledger),
        "funding": money,
        "funding_by_county": county_funding(money),
        "staffing": staff,
        "staffing_by_county": county_staffing(staff, profile),
    }
    if has_resources:
        result = _balance(frame, profile)
        tables["balance_schools"] = result.schools
        tables["balance_indicators"] = result.indicators
        tables["balance_counties"] = result.counties
        tables["balance_target"] = balance_target(result.counties, profile)
    else:
        logger.warning(
            "schools lack some of %s: balance tables left out", ", ".join(RESOURCE_COLUMNS)
        )
    pairs = study_pairs(schools, profile, balance_schools=tables.get("balance_schools"))
    if pairs is not None:
        tables["school_pairs"] = pairs
    tables |= support_tables(frame, profile)
    if townships is not None and "teacher_dormitory" in townships.columns:
        tables["township_dormitories"] = township_dormitories(townships, frame)
    elif townships is not None:
        logger.warning(
            "townships lack teacher_dormitory: the rule dormitories (鞍山2020方案 二.(四).1) "
            "is not checked"
        )
    for rule in unchecked_support_rules(frame):
        logger.warning(
            "schools lack %s: the rule %s (鞍山2020方案 %s) is not checked",
            ", ".join(c for c in rule.columns if c not in frame.columns),
            rule.key,
            rule.clause,
        )
    return tables
