"""Standards profiles: every policy number the analyses read, each with where it comes from.

A profile is one TOML file in this package (the default is ``anshan-2020.toml``). Each value
is a small table ``{ value = ..., source = "..." }``; a value that could not be traced to a
policy or a national standard carries ``assumption = true`` and a ``note`` instead. Analysis
code never hard-codes these numbers: it reads them from a :class:`Profile`.

Access is by attribute on a tree of frozen dataclasses, fully typed, or by dotted key::

    profile.class_size.primary_cap        # 45
    profile["class_size.primary_cap"]     # 45, the same value
    profile.source("class_size.primary_cap").text

A study may change any value through nested overrides (the study TOML's ``[profile]``
table). An unknown key or a value of the wrong type is refused with a
:class:`~layout.errors.ValidationError` naming the full dotted key and the expected type.

Examples
--------
>>> from layout.standards import load_profile
>>> profile = load_profile()
>>> profile.class_size.primary_cap, profile.class_size.junior_cap
(45, 50)
>>> profile.source("funding.primary_per_student").assumption
False
>>> load_profile(overrides={"class_size": {"primary_cap": 40}})["class_size.primary_cap"]
40
"""

from __future__ import annotations

from ._load import available_profiles, load_profile
from .profile import (
    DEFAULT_PROFILE,
    AreaNorm,
    Attendance,
    Balance,
    Checks,
    ClassSize,
    Costs,
    Enrolment,
    Funding,
    Land,
    Pairing,
    Profile,
    ResourceNorms,
    Rotation,
    SchoolSizes,
    Service,
    Siting,
    SmallSchool,
    Source,
    Staffing,
    Support,
    Yields,
)

__all__ = [
    "AreaNorm",
    "Attendance",
    "available_profiles",
    "Balance",
    "Checks",
    "ClassSize",
    "Costs",
    "DEFAULT_PROFILE",
    "Enrolment",
    "Funding",
    "Land",
    "load_profile",
    "Pairing",
    "Profile",
    "ResourceNorms",
    "Rotation",
    "SchoolSizes",
    "Service",
    "Siting",
    "SmallSchool",
    "Source",
    "Staffing",
    "Support",
    "Yields",
]
