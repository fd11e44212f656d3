"""Support for pupils: rural canteens, resource classrooms, migrant and left-behind children.

Three rules of the Anshan plan that rest on optional columns of the schools layer
(:data:`layout.schema.SUPPORT_COLUMNS`); a rule whose columns the layer lacks is not checked
and is named by :func:`unchecked_support_rules`.

- Canteens (二.(二).2): every rural school serves meals from its own canteen by the end of
  2022 (``support.rural_canteen_share_target``, where conditions allow). Column ``canteen``
  (1 or 0).
- Resource classrooms (二.(五).2): an ordinary school with
  ``support.resource_classroom_min_pupils`` (5) or more pupils with disabilities in ordinary
  classes (``disabled_pupils``) should have a resource classroom (``resource_classroom``,
  1 or 0), as the national guideline (教基二厅〔2016〕1号) says.
- Migrant and left-behind children (二.(五).2): counted per county from ``migrant_pupils``
  and ``left_behind_pupils``; left-behind children come first for boarding, so a school's
  beds are set against its left-behind pupils: ``left_behind_beyond_beds`` is how many of
  them a school could not board even if every bed went to them first.

A blank value (not known) leaves the school out of the rule, and the tables say how many
schools reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..standards import Profile
from ._schools import _keys, _pupils


@dataclass(frozen=True)
class SupportRule:
    """A support rule, the columns it needs and the table it fills."""

    key: str
    clause: str
    columns: tuple[str, ...]
    table: str


SUPPORT_RULES: tuple[SupportRule, ...] = (
    SupportRule("canteens", "二.(二).2", ("canteen",), "canteens_by_county"),
    SupportRule(
        "resource_classrooms",
        "二.(五).2",
        ("disabled_pupils", "resource_classroom"),
        "resource_classrooms",
    ),
    SupportRule(
        "left_behind",
        "二.(五).2",
        ("migrant_pupils", "left_behind_pupils"),
        "left_behind_by_county",
    ),
)
"""The support rules, each checked only when the schools layer has all its columns."""


def unchecked_support_rules(schools: pd.DataFrame) -> list[SupportRule]:
    """Return the support rules the schools layer lacks the columns of.

    Examples
    --------
    >>> import pandas as pd
    >>> [r.key for r in unchecked_support_rules(pd.DataFrame({"canteen": [1]}))]
    ['resource_classrooms', 'left_behind']
    """
    return [r for r in SUPPORT_RULES if not set(r.columns) <= set(schools.columns)]


def _known(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce")


def canteen_coverage(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Share of each county's operating rural schools with a canteen, against the target.

    Parameters
    ----------
    frame
        Operating schools with ``county_code``, ``setting`` and ``canteen`` (1, 0 or blank).
    profile
        Standards profile (``support.rural_canteen_share_target``).

    Returns
    -------
    pandas.DataFrame
        One row per county with rural schools: ``rural_schools``, ``schools_reported``
        (canteen known), ``schools_with_canteen``, ``share_with_canteen`` (of those
        reported), ``target_share``, ``schools_without_canteen`` (their ids, comma-separated)
        and ``target_met``.

    Examples
    --------
    Worked by hand: three rural schools of county 1, two with a canteen, one without: 2/3,
    short of the target of every school; the urban school does not count.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> frame = pd.DataFrame({"school_id": ["A", "B", "C", "U"], "county_code": "1",
    ...     "setting": ["rural", "rural", "rural", "urban"], "canteen": [1, 1, 0, 0]})
    >>> row = canteen_coverage(frame, load_profile()).iloc[0]
    >>> int(row["schools_with_canteen"]), row["schools_without_canteen"], bool(row["target_met"])
    (2, 'C', False)
    """
    rural = frame[(frame["setting"] == "rural").to_numpy()]
    canteen = _known(rural, "canteen")
    table = pd.DataFrame(
        {
            "county_code": rural["county_code"].astype(str).to_numpy(),
            "school_id": rural["school_id"].astype(str).to_numpy(),
            "reported": canteen.notna().to_numpy(),
            "with": (canteen == 1).to_numpy(),
            "without": (canteen == 0).to_numpy(),
        }
    )
    grouped = table.groupby("county_code", sort=True)
    out = pd.DataFrame(
        {
            "rural_schools": grouped["school_id"].count(),
            "schools_reported": grouped["reported"].sum().astype(np.int64),
            "schools_with_canteen": grouped["with"].sum().astype(np.int64),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_with_canteen"] = out["schools_with_canteen"] / out["schools_reported"]
    out["target_share"] = profile.support.rural_canteen_share_target
    without = table[table["without"]].groupby("county_code")["school_id"].agg(", ".join)
    out["schools_without_canteen"] = without.reindex(out.index).fillna("")
    out["target_met"] = out["share_with_canteen"] >= out["target_share"] - 1e-9
    return out.reset_index()


def resource_classrooms(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Schools enrolling enough pupils with disabilities to need a resource classroom.

    Parameters
    ----------
    frame
        Operating schools with ``disabled_pupils`` and ``resource_classroom`` (1, 0 or blank).
    profile
        Standards profile (``support.resource_classroom_min_pupils``).

    Returns
    -------
    pandas.DataFrame
        One row per school that needs a resource classroom or has one: identifying
        columns, ``disabled_pupils``, ``needs_resource_classroom``, ``resource_classroom``
        (NaN when not known) and ``lacks_resource_classroom`` (needs one, has none).

    Examples
    --------
    Worked by hand: A enrols 5 pupils with disabilities and has no resource classroom (it
    lacks one); B enrols 4 and has one (it shares it: kept, not lacking); C enrols 7 and has
    one.

    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> frame = pd.DataFrame({"school_id": ["A", "B", "C", "D"], "county_code": "1",
    ...     "disabled_pupils": [5, 4, 7, 1], "resource_classroom": [0, 1, 1, 0]})
    >>> table = resource_classrooms(frame, load_profile()).set_index("school_id")
    >>> table["lacks_resource_classroom"].to_dict()
    {'A': True, 'B': False, 'C': False}
    """
    disabled = _known(frame, "disabled_pupils")
    has = _known(frame, "resource_classroom")
    needs = (disabled >= profile.support.resource_classroom_min_pupils).to_numpy()
    keep = needs | (has == 1).to_numpy()
    table = _keys(frame)[keep].copy()
    table["disabled_pupils"] = disabled[keep].to_numpy()
    table["needs_resource_classroom"] = needs[keep]
    table["resource_classroom"] = has[keep].to_numpy()
    table["lacks_resource_classroom"] = needs[keep] & (has[keep] == 0).to_numpy()
    return table.reset_index(drop=True)


def left_behind(frame: pd.DataFrame) -> pd.DataFrame:
    """Migrant and left-behind pupils per county, and the beds left-behind pupils may claim.

    Left-behind children come first for boarding (鞍山2020方案 二.(五).2 优先改善留守儿童的
    ...寄宿条件): a school that gave every bed to its left-behind pupils first could board
    ``min(left_behind_pupils, boarding_beds)`` of them; the rest, ``left_behind_beyond_beds``,
    could not board at their school whatever the priority.

    Parameters
    ----------
    frame
        Operating schools with enrolment, ``boarding_beds``, ``boarders``,
        ``migrant_pupils`` and ``left_behind_pupils`` (blank: not known).

    Returns
    -------
    pandas.DataFrame
        One row per county: ``schools_reported``, ``pupils`` (of those schools),
        ``migrant_pupils``, ``left_behind_pupils``, ``share_left_behind``,
        ``boarding_beds``, ``left_behind_bedded`` and ``left_behind_beyond_beds``.

    Examples
    --------
    Worked by hand: A has 30 left-behind pupils and 20 beds: 20 may board, 10 cannot; B has
    5 and no beds: 5 cannot. County: 35 left-behind of 300 pupils, 20 bedded, 15 beyond.

    >>> import pandas as pd
    >>> from layout.schema import enrolment_columns
    >>> frame = pd.DataFrame({"school_id": ["A", "B"], "county_code": "1",
    ...     "boarding_beds": [20, 0], "migrant_pupils": [0, 12],
    ...     "left_behind_pupils": [30, 5]} | {c: 0 for c in enrolment_columns()})
    >>> frame["enrolment_g1"] = [200, 100]
    >>> row = left_behind(frame).iloc[0]
    >>> columns = ["pupils", "left_behind_pupils", "left_behind_bedded", "left_behind_beyond_beds"]
    >>> [int(row[c]) for c in columns]
    [300, 35, 20, 15]
    """
    lb = _known(frame, "left_behind_pupils")
    migrant = _known(frame, "migrant_pupils")
    reported = (lb.notna() & migrant.notna()).to_numpy()
    rows = frame[reported]
    primary, junior = _pupils(rows)
    beds = _known(rows, "boarding_beds").fillna(0).to_numpy(np.int64)
    left = lb[reported].to_numpy(np.int64)
    table = pd.DataFrame(
        {
            "county_code": rows["county_code"].astype(str).to_numpy(),
            "schools_reported": 1,
            "pupils": primary + junior,
            "migrant_pupils": migrant[reported].to_numpy(np.int64),
            "left_behind_pupils": left,
            "boarding_beds": beds,
            "left_behind_bedded": np.minimum(left, beds),
            "left_behind_beyond_beds": np.maximum(left - beds, 0),
        }
    )
    out = table.groupby("county_code", sort=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = out["left_behind_pupils"] / out["pupils"]
    out.insert(4, "share_left_behind", share)
    return out.reset_index()


def support_tables(frame: pd.DataFrame, profile: Profile) -> dict[str, pd.DataFrame]:
    """Return the tables of the support rules whose columns the schools have.

    Examples
    --------
    >>> import pandas as pd
    >>> from layout.standards import load_profile
    >>> frame = pd.DataFrame({"school_id": ["A"], "county_code": "1", "setting": "rural",
    ...                       "canteen": [1]})
    >>> list(support_tables(frame, load_profile()))
    ['canteens_by_county']
    """
    missing = {r.key for r in unchecked_support_rules(frame)}
    builders = {
        "canteens": lambda: canteen_coverage(frame, profile),
        "resource_classrooms": lambda: resource_classrooms(frame, profile),
        "left_behind": lambda: left_behind(frame),
    }
    return {r.table: builders[r.key]() for r in SUPPORT_RULES if r.key not in missing}


def township_dormitories(townships: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Townships that need a teacher turnover dormitory (周转宿舍) and whether they have one.

    The Anshan plan (二.(四).1) asks that each township that needs one have at least one
    turnover dormitory at its centre for rural teachers on exchange. Teachers rotate to rural
    and weak schools (二.(三).1), so a township needs one when it has an operating rural
    school; ``teacher_dormitory`` (1 or 0, optional column of the townships layer) says
    whether it has one.

    Parameters
    ----------
    townships
        The townships layer with ``teacher_dormitory`` (blank: not known).
    frame
        Operating schools with ``township_code``, ``setting`` and ``teachers``.

    Returns
    -------
    pandas.DataFrame
        One row per township with a rural school: ``township_code``, ``county_code``,
        ``name``, ``rural_schools``, ``rural_teachers``, ``teacher_dormitory`` (NaN when not
        known) and ``lacks_dormitory``.

    Examples
    --------
    Worked by hand: T1 has two rural schools (10 and 6 teachers) and no dormitory: it lacks
    one; T2 has only an urban school and needs none.

    >>> import pandas as pd
    >>> towns = pd.DataFrame({"township_code": ["T1", "T2"], "county_code": "1",
    ...                       "name": ["甲", "乙"], "teacher_dormitory": [0, 0]})
    >>> schools = pd.DataFrame({"school_id": ["A", "B", "C"], "township_code": ["T1", "T1", "T2"],
    ...                         "setting": ["rural", "rural", "urban"], "teachers": [10, 6, 30]})
    >>> township_dormitories(towns, schools)[["township_code", "rural_teachers",
    ...                                       "lacks_dormitory"]].values.tolist()
    [['T1', 16, True]]
    """
    rural = frame[(frame["setting"] == "rural").to_numpy()]
    grouped = rural.groupby(rural["township_code"].astype(str))
    counts = pd.DataFrame(
        {
            "rural_schools": grouped["school_id"].count(),
            "rural_teachers": grouped["teachers"].sum().astype(np.int64),
        }
    )
    towns = townships.assign(township_code=townships["township_code"].astype(str))
    out = towns[["township_code", "county_code", "name"]].join(
        counts, on="township_code", how="inner"
    )
    has = _known(towns.set_index("township_code"), "teacher_dormitory")
    out["teacher_dormitory"] = has.reindex(out["township_code"]).to_numpy()
    out["lacks_dormitory"] = out["teacher_dormitory"].to_numpy() == 0
    return out.reset_index(drop=True)
