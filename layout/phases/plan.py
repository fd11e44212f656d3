"""The phased plan of a county: :func:`phased_plan`, from a study to actions and a timeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from ..demand import study_demand, study_scenarios
from ..errors import ValidationError
from ..study import Study
from .actions import plan_actions, plan_timeline
from .evidence import closure_figures
from .inputs import AREAS, CountyInputs, county_inputs
from .model import TIME_LIMIT, fewest_beyond, solve_phases
from .problem import PhaseSolution

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhasedPlan:
    """A county's phased plan.

    Attributes
    ----------
    county, scenario
        What was planned.
    budget
        The yearly capital budget, or ``None``.
    inputs
        The model and the tables naming its rows.
    solution
        HiGHS's answer, with its proven gap.
    actions
        One row per action (:data:`layout.phases.actions.ACTION_COLUMNS`), with the closure
        statement's figures for merges and closures
        (:data:`layout.phases.evidence.CLOSURE_FIGURES`).
    timeline
        Places against children by year and level.
    """

    county: str
    scenario: str
    budget: float | None
    inputs: CountyInputs
    solution: PhaseSolution
    actions: gpd.GeoDataFrame
    timeline: pd.DataFrame

    @property
    def gap(self) -> float:
        """The proven relative optimality gap of the plan."""
        return self.solution.gap

    def summary(self) -> pd.DataFrame:
        """Return one row: county, scenario, budget, cost, bound, gap, seconds.

        Examples
        --------
        See :func:`phased_plan`.
        """
        s = self.solution
        return pd.DataFrame(
            [
                {
                    "county_code": self.county,
                    "scenario": self.scenario,
                    "budget_yuan": self.budget,
                    "capital_yuan": float(s.capital.sum()),
                    "running_yuan": float(s.running.sum()),
                    "objective_yuan": s.objective,
                    "lower_bound_yuan": s.lower_bound,
                    "gap": s.gap,
                    "seconds": s.time_seconds,
                }
            ]
        )


def county_plan(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    demand: pd.DataFrame,
    *,
    county: str,
    budget: float | None = None,
    areas: int = AREAS,
    time_limit: float = TIME_LIMIT,
    seed: int = 0,
) -> tuple[CountyInputs, PhaseSolution]:
    """Build a county's model from one scenario's demand and solve it.

    When no plan exists with the county's candidate sites, a site (on land to reserve) is
    offered at the centre of every demand area, and the model is built again.

    Parameters
    ----------
    study, county, budget, areas, time_limit, seed
        As for :func:`phased_plan`.
    demand
        One scenario of :func:`layout.demand.study_demand`.

    Returns
    -------
    tuple of CountyInputs and PhaseSolution
    """
    inputs = county_inputs(study, demand, county=county, areas=areas, seed=seed)
    least = fewest_beyond(inputs.problem, time_limit=time_limit)
    if least is None:
        logger.info("phases %s: no plan with the sites given; a site in every area", county)
        inputs = county_inputs(
            study, demand, county=county, areas=areas, seed=seed, every_area=True
        )
        least = fewest_beyond(inputs.problem, time_limit=time_limit)
    solution = solve_phases(inputs.problem, budget=budget, time_limit=time_limit, beyond=least)
    return inputs, solution


def phased_plan(  # noqa: PLR0913 - the plan's options, all keyword-only
    study: Study,
    *,
    county: str,
    scenario: str,
    budget: float | None = None,
    areas: int = AREAS,
    time_limit: float = TIME_LIMIT,
    seed: int = 0,
) -> PhasedPlan:
    """Plan a county's schools over the plan years as one model, solved with a proven gap.

    Demand is :func:`layout.demand.study_demand` for ``scenario``; the model, its costs and
    rules are :mod:`layout.phases.model` and :mod:`layout.phases.inputs`, built and solved by
    :func:`county_plan`.

    Parameters
    ----------
    study
        The study.
    county
        County code.
    scenario
        Name of one of the study's scenarios.
    budget
        Most capital (yuan) spent in any one plan year; ``None`` for no limit.
    areas
        Demand areas per county and level (k-means clusters of cells).
    time_limit
        Seconds given to HiGHS.
    seed
        Seed of k-means.

    Returns
    -------
    PhasedPlan

    Raises
    ------
    ValidationError
        An unknown scenario or county, a county with no school and no candidate site of a
        level, a budget below the smallest feasible one (named in the message).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> plan = phased_plan(study_from_toml(), county="210311", scenario="medium", areas=4)
    >>> plan.gap < 1e-4, set(plan.timeline["year"]) == set(range(2025, 2036))
    (True, True)
    """
    if budget is not None and not budget >= 0:
        raise ValidationError(f"budget must be a number of yuan >= 0; got {budget!r}")
    study_scenarios(study, [scenario])  # an unknown name: the message lists the study's
    demand = study_demand(study, scenarios=[scenario])
    inputs, solution = county_plan(
        study, demand, county=county, budget=budget, areas=areas, time_limit=time_limit,
        seed=seed,
    )  # fmt: skip
    logger.info(
        "phases %s %s: cost %.4g yuan, gap %.2g, %.1f s",
        county,
        scenario,
        solution.objective,
        solution.gap,
        solution.time_seconds,
    )
    return PhasedPlan(
        county=county,
        scenario=scenario,
        budget=budget,
        inputs=inputs,
        solution=solution,
        actions=closure_figures(
            study, plan_actions(inputs, solution, study.standards), demand, scenario=scenario
        ),
        timeline=plan_timeline(inputs, solution),
    )
