"""The data of a phased plan: facilities, arcs, rates, the problem and its solution.

See :mod:`layout.phases.model` for the model they make and how it is solved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KINDS: tuple[str, ...] = ("school", "site", "campus")
"""Facility kinds: an open school, a candidate site (a parcel), an idle campus to reuse."""
MODES: tuple[str, ...] = ("walk", "bus", "board", "beyond")
"""How a child reaches a facility on an arc: on foot or by school bus within the norm, as a
boarder, or (where nothing is within the norm) beyond it."""


@dataclass(frozen=True)
class Facilities:
    """The facilities of a phased plan, one entry per facility.

    Parameters
    ----------
    ids
        Facility ids (school ids, ``parcel:<id>``, ``campus:<id>``).
    kind
        One of :data:`KINDS` each.
    classes
        Classes of an open school at the start; ``0`` for sites and campuses.
    max_added
        Classes a school may add over the plan; ``0`` for sites and campuses.
    class_cost
        Capital cost of one added class of a school.
    sizes
        Standard sizes (classes) a site or campus may be built or reused in; ``()`` for schools.
    size_costs
        Capital cost of each size.
    small
        Facilities where the small-school rules apply (staff per class, funding floor).
    cap
        Pupils per class (the class cap of the facility's level).
    pupils_per_staff
        Staffing ratio of the facility's level.
    funding_per_pupil
        Public funding per pupil per year at the facility's level.
    """

    ids: tuple[str, ...]
    kind: tuple[str, ...]
    classes: IntArray
    max_added: IntArray
    class_cost: FloatArray
    sizes: tuple[tuple[int, ...], ...]
    size_costs: tuple[tuple[float, ...], ...]
    small: BoolArray
    cap: IntArray
    pupils_per_staff: FloatArray
    funding_per_pupil: FloatArray

    def __len__(self) -> int:
        """Return the number of facilities."""
        return len(self.ids)


@dataclass(frozen=True)
class Arcs:
    """Ways a demand group may be seated: a facility within its norm, by a mode, at a cost.

    Parameters
    ----------
    group, facility
        Row of the demand group and of the facility.
    mode
        One of :data:`MODES`.
    cost
        Yearly cost of seating one child on the arc (travel time, bus seat, boarding).
    minutes
        One-way travel time.
    """

    group: IntArray
    facility: IntArray
    mode: npt.NDArray[np.str_]
    cost: FloatArray
    minutes: FloatArray


@dataclass(frozen=True)
class Rates:
    """Running-cost rates from the profile that every facility shares.

    Parameters
    ----------
    teacher_cost
        Yearly cost of one staff post.
    teachers_per_class
        Posts per class in use at a small school.
    floor_pupils
        A small school is funded for at least this many pupils.
    """

    teacher_cost: float
    teachers_per_class: float
    floor_pupils: int


@dataclass(frozen=True)
class PhaseProblem:
    """A phased plan to solve: years, demand by group and year, facilities, arcs, rates.

    Parameters
    ----------
    years
        The plan years.
    demand
        Children of each group (rows) in each year (columns).
    facilities, arcs, rates
        See :class:`Facilities`, :class:`Arcs`, :class:`Rates`.
    near
        Pairs ``(site, other)`` of facility rows: the site may be built only if ``other`` (a
        school or idle campus within reach) is open in the last year with at least a class
        of pupils.
    discount_rate
        Yearly rate at which later costs are discounted: the objective is the present value
        in the first plan year, so a school is not built before it is needed.
    """

    years: tuple[int, ...]
    demand: FloatArray
    facilities: Facilities
    arcs: Arcs
    rates: Rates
    near: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    discount_rate: float = 0.0

    def weights(self) -> FloatArray:
        """Return each plan year's discount factor ``(1 + rate) ** -t`` (1 in the first year)."""
        steps = np.arange(len(self.years), dtype=np.float64)
        return np.asarray((1.0 + self.discount_rate) ** -steps, dtype=np.float64)


@dataclass(frozen=True)
class PhaseSolution:
    """A solved phased plan.

    Attributes
    ----------
    open
        Facility x year: open (or built) that year.
    classes
        Facility x year: classes available.
    flow
        Arc x year: children seated on the arc.
    capital
        Capital spent in each year.
    running
        Running cost of each year.
    objective
        Present value of the capital and running cost over the plan.
    lower_bound
        HiGHS's proven bound: no plan costs less.
    time_seconds
        Wall-clock time of the solve.
    """

    open: BoolArray
    classes: IntArray
    flow: FloatArray
    capital: FloatArray
    running: FloatArray
    objective: float
    lower_bound: float
    time_seconds: float

    @property
    def gap(self) -> float:
        """Relative gap ``(objective - lower_bound) / objective``; 0 when proven optimal."""
        if self.objective <= self.lower_bound or self.objective == 0:
            return 0.0
        return (self.objective - self.lower_bound) / abs(self.objective)
