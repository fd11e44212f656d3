"""The one demand recipe of a study: its scenarios, its yields and its entry age, once.

Every command projects demand through :func:`study_demand`, so ``layout plan``,
``layout land``, ``layout closure`` and ``layout sites`` count the same children for the same
study and scenario, and a county-by-county run counts what the whole-study run counts:

- the scenarios are the study's ``[scenarios]`` (else :func:`~layout.demand.default_scenarios`);
- the yields of new developments are fitted once for the whole study
  (:func:`study_yields`); a county partition carries that fit in its ``[yields]`` table;
- the entry age is the profile's ``enrolment.entry_age``.

Examples
--------
>>> from layout.study import study_from_toml
>>> study = study_from_toml()
>>> demand = study_demand(study, scenarios=["medium"])
>>> list(demand["scenario"].unique()), int(demand["year"].min()), int(demand["year"].max())
(['medium'], 2025, 2035)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import geopandas as gpd

from ..errors import ValidationError
from .project import project_demand
from .scenarios import Scenario, default_scenarios, scenario_named, scenarios_from_toml
from .yields import YieldModel, YieldRates

if TYPE_CHECKING:
    from ..study import Study


def study_scenarios(study: Study, names: Sequence[str] | None = None) -> list[Scenario]:
    """Return the study's scenarios (its ``[scenarios]`` table, else the defaults), or those named.

    Raises
    ------
    ValidationError
        A name that is not a scenario of the study (the message lists those it has).

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> [s.name for s in study_scenarios(study_from_toml())]
    ['low', 'medium', 'high']
    """
    table = study.config.get("scenarios")
    if names is None:
        return scenarios_from_toml(table) if table else default_scenarios()
    if isinstance(names, str):
        raise ValidationError(f"scenarios must be a list of names, e.g. [{names!r}]")
    return [scenario_named(table, name) for name in names]


def study_yields(study: Study) -> YieldModel:
    """Return the yields of the study's developments, fitted once for the whole study.

    A study with a ``[yields]`` table (a county partition of a larger study) takes the model
    fitted on the whole study from it; otherwise the model is fitted on the study's completed
    developments (:meth:`~layout.demand.YieldModel.fit`), with the profile's default rates
    (``yields``) for a level that has too few.

    Examples
    --------
    >>> from layout.study import study_from_toml
    >>> study_yields(study_from_toml()).report["source"].tolist()
    ['fitted', 'fitted']
    """
    table = study.config.get("yields")
    if table is not None:
        return YieldModel.from_table(table, where=f"{study.path.name}: [yields]")
    model = YieldModel(defaults=YieldRates.from_profile(study.standards))
    return model.fit(study["developments"], observed_year=study.school_year)


def study_demand(
    study: Study,
    *,
    scenarios: Sequence[str] | None = None,
    years: Sequence[int] | range | None = None,
    yields: YieldModel | Literal["fitted", "default"] = "fitted",
) -> gpd.GeoDataFrame:
    """Project the study's school-age children: the demand layer every command uses.

    Parameters
    ----------
    study
        The study.
    scenarios
        Names of the scenarios to project; all of the study's by default.
    years
        Projection years; the plan years by default.
    yields
        ``"fitted"`` (:func:`study_yields`), ``"default"`` (the default rates), or a model.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer of :func:`~layout.demand.project_demand`.

    Examples
    --------
    See the module examples.
    """
    if isinstance(yields, YieldModel):
        model = yields
    elif yields == "fitted":
        model = study_yields(study)
    elif yields == "default":
        model = YieldModel(defaults=YieldRates.from_profile(study.standards))
    else:
        raise ValidationError(f"yields must be 'fitted', 'default' or a YieldModel; got {yields!r}")
    return project_demand(
        study["population"],
        study["developments"],
        scenarios=study_scenarios(study, scenarios),
        years=study.plan_years if years is None else years,
        yield_model=model,
        entry_age=study.standards.enrolment.entry_age,
    )
