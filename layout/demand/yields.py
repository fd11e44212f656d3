"""Children brought by new residential developments: student yield per household.

A development phase of *H* households delivered in year *d* adds, in year *y* >= *d*::

    children(level) = H x occupancy(y - d) x yield(level)

spread evenly over the level's grades (6 primary, 3 junior). ``occupancy`` rises over the first
years after delivery (by default 40%, 70%, 90%, then 100%: an assumption). ``yield`` is the
number of children of the level per occupied household, either a fixed rate
(:class:`YieldRates`) or, when enough completed developments have observed enrolment, a rate
fitted by :class:`YieldModel` from the developments' attributes.

The default rates come from the profile's ``yields`` table (:class:`layout.standards.Yields`):
the planning indicator of school places per 1000 residents (千人指标) times the persons per
household. With ``anshan-2020``: 80 primary and 40 junior places per 1000 residents (planning
norms, not Anshan observations: assumptions to replace with local data) times 2.25 persons per
family household (Anshan, 2020 census) = 0.18 primary and 0.09 junior children per household.

Phases delivered in or before the population's base year are already counted in the base-year
population; only phases delivered after it add children (see
:func:`layout.demand.developments.development_children`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

import numpy as np
import pandas as pd
from scipy.special import xlogy
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import _validate
from ..errors import ValidationError
from ..schema import CHILD_LEVELS
from ..standards import Profile, load_profile
from .developments import YEARS_SINCE_DELIVERY, check_developments

log = logging.getLogger(__name__)

DEFAULT_FEATURES: tuple[str, ...] = ("mean_unit_m2", "price_index", YEARS_SINCE_DELIVERY)
"""Attributes the :class:`YieldModel` fits on by default."""

REPORT_COLUMNS: tuple[str, ...] = (
    "source",
    "reason",
    "n_developments",
    "cv_mae",
    "cv_deviance",
    "default_mae",
    "default_deviance",
)
"""Columns of :attr:`YieldModel.report` (one row per level)."""


class _LinearRate(NamedTuple):
    """A fitted level: the Poisson rate ``exp(((x - mean) / scale) . coef + intercept)``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_pipeline(cls, fit: Pipeline) -> _LinearRate:
        scaler, regressor = fit.steps[0][1], fit.steps[-1][1]
        return cls(scaler.mean_, scaler.scale_, regressor.coef_, float(regressor.intercept_))

    def predict(self, design: np.ndarray) -> np.ndarray:
        """Apply the same arithmetic as the scikit-learn pipeline it came from."""
        return np.asarray(np.exp((design - self.mean) / self.scale @ self.coef + self.intercept))


@dataclass(frozen=True)
class YieldRates:
    """Fixed yields per occupied household and the occupancy ramp after delivery.

    Parameters
    ----------
    primary
        Primary-school children (grades 1-6) per occupied household.
    junior
        Junior-middle children (grades 7-9) per occupied household.
    occupancy_ramp
        Share of households living in the phase in the delivery year, the year after, and so
        on; the last value holds from then on. Values in [0, 1].

    Examples
    --------
    >>> rates = YieldRates(primary=0.18, junior=0.09, occupancy_ramp=(0.4, 0.7, 0.9, 1.0))
    >>> rates.occupancy(np.array([-1, 0, 1, 2, 3, 10])).tolist()
    [0.0, 0.4, 0.7, 0.9, 1.0, 1.0]
    """

    primary: float
    junior: float
    occupancy_ramp: tuple[float, ...]

    def __post_init__(self) -> None:
        problems = [
            f"yield rates: {name} must be a number of children per household, 0 or more, "
            f"got {value!r}"
            for name, value in (("primary", self.primary), ("junior", self.junior))
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0
        ]
        ramp = self.occupancy_ramp
        if (
            not isinstance(ramp, Sequence)
            or not ramp
            or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in ramp)
        ):
            problems.append(
                "yield rates: occupancy_ramp must be a non-empty list of shares in [0, 1], e.g. "
                f"(0.4, 0.7, 0.9, 1.0), got {ramp!r}"
            )
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "occupancy_ramp", tuple(float(v) for v in ramp))

    @classmethod
    def from_profile(cls, profile: Profile) -> YieldRates:
        """Build the default rates of a profile's ``yields`` table.

        Parameters
        ----------
        profile
            Standards profile: ``yields.primary_places_per_1000``,
            ``yields.junior_places_per_1000``, ``yields.persons_per_household`` and
            ``yields.occupancy_ramp``.

        Returns
        -------
        YieldRates
            Places per 1000 residents times persons per household, over 1000.

        Examples
        --------
        80 and 40 places per 1000 residents, 2.25 persons per household: 0.18 and 0.09.

        >>> rates = YieldRates.from_profile(load_profile())
        >>> round(rates.primary, 6), round(rates.junior, 6), rates.occupancy_ramp
        (0.18, 0.09, (0.4, 0.7, 0.9, 1.0))
        """
        table = profile.yields
        return cls.per_thousand_residents(
            primary=table.primary_places_per_1000,
            junior=table.junior_places_per_1000,
            persons_per_household=table.persons_per_household,
            occupancy_ramp=table.occupancy_ramp,
        )

    @classmethod
    def per_thousand_residents(
        cls,
        *,
        primary: float,
        junior: float,
        persons_per_household: float,
        occupancy_ramp: tuple[float, ...],
    ) -> YieldRates:
        """Build rates from children per 1000 residents (千人指标) and household size.

        Parameters
        ----------
        primary
            Primary-school children per 1000 residents.
        junior
            Junior-middle children per 1000 residents.
        persons_per_household
            Residents per occupied household.
        occupancy_ramp
            As in :class:`YieldRates`.

        Returns
        -------
        YieldRates
            Per-household rates ``primary * persons_per_household / 1000`` and likewise junior.

        Examples
        --------
        >>> YieldRates.per_thousand_residents(
        ...     primary=100, junior=50, persons_per_household=3, occupancy_ramp=(0.5, 1.0))
        YieldRates(primary=0.3, junior=0.15, occupancy_ramp=(0.5, 1.0))
        """
        if isinstance(persons_per_household, bool) or not persons_per_household > 0:
            raise ValidationError(
                f"persons_per_household must be a positive number, got {persons_per_household!r}"
            )
        scale = persons_per_household / 1000
        return cls(primary=primary * scale, junior=junior * scale, occupancy_ramp=occupancy_ramp)

    def occupancy(self, years_since_delivery: np.ndarray) -> np.ndarray:
        """Return the occupied share of households by years since delivery (0 before it).

        Parameters
        ----------
        years_since_delivery
            Whole years; 0 is the delivery year.

        Returns
        -------
        numpy.ndarray
            Shares in [0, 1], same shape.

        Examples
        --------
        See :class:`YieldRates`.
        """
        k = np.asarray(years_since_delivery)
        ramp = np.asarray(self.occupancy_ramp)
        return np.where(k < 0, 0.0, ramp[np.clip(k, 0, len(ramp) - 1)])

    def rate(self, level: str) -> float:
        """Return the children of ``level`` (``"primary"`` or ``"junior"``) per household.

        Parameters
        ----------
        level
            A level of :data:`layout.demand.CHILD_LEVELS`.

        Returns
        -------
        float
            The rate.

        Examples
        --------
        >>> YieldRates(primary=0.18, junior=0.09, occupancy_ramp=(1.0,)).rate("junior")
        0.09
        """
        return {"primary": self.primary, "junior": self.junior}[level]


class YieldModel:
    """Yields per household fitted from completed developments, else fixed default rates.

    For each level, the expected enrolment of a completed phase observed *k* years after
    delivery is ``households x occupancy(k) x exp(x . beta)``, a Poisson regression on the
    standardised ``features`` with ``log(households x occupancy(k))`` as exposure. scikit-learn's
    ``PoissonRegressor`` has no offset, so the model is fitted, equivalently, to the rate
    ``enrolled / exposure`` with ``sample_weight = exposure``.

    Fallback rule, per level: the fitted rate is used only if at least ``min_developments``
    completed phases have observed enrolment of that level and the model's K-fold
    cross-validated mean Poisson deviance of enrolment is below that of the default rates on
    the same phases. Otherwise, and before :meth:`fit`, the level uses ``defaults``.
    :attr:`report` says which source each level uses and why.

    Parameters
    ----------
    defaults
        Fallback rates and the occupancy ramp (used in fitting too); by default those of the
        default profile (:meth:`YieldRates.from_profile`). A study's model takes its own
        profile's (:func:`layout.demand.study_yields`).
    features
        Numeric columns of the developments layer, plus ``"years_since_delivery"``.
    min_developments
        Fewest phases with observed enrolment needed to fit a level.
    folds
        Number of cross-validation folds (fewer if there are fewer phases).
    alpha
        L2 penalty of the Poisson regression on standardised features.
    random_state
        Seed of the fold shuffle.

    Examples
    --------
    >>> model = YieldModel()
    >>> model.report["source"].tolist()
    ['default', 'default']
    >>> phase = pd.DataFrame({"households": [100]})
    >>> model.rates(phase, years_since_delivery=np.array([[0, 5]]))[0].tolist()
    [[0.18, 0.09], [0.18, 0.09]]
    """

    def __init__(
        self,
        *,
        defaults: YieldRates | None = None,
        features: Sequence[str] = DEFAULT_FEATURES,
        min_developments: int = 10,
        folds: int = 5,
        alpha: float = 1e-4,
        random_state: int = 0,
    ) -> None:
        if not features or not all(isinstance(f, str) for f in features):
            raise ValidationError(
                f"features must be a non-empty list of column names, e.g. {DEFAULT_FEATURES}, "
                f"got {features!r}"
            )
        if not isinstance(folds, int) or folds < 2:
            raise ValidationError(f"folds must be a whole number of 2 or more, got {folds!r}")
        if not isinstance(min_developments, int) or min_developments < folds:
            raise ValidationError(
                f"min_developments must be a whole number of at least folds={folds}, "
                f"got {min_developments!r}"
            )
        self.defaults = YieldRates.from_profile(load_profile()) if defaults is None else defaults
        self.features = tuple(features)
        self.min_developments = min_developments
        self.folds = folds
        self.alpha = alpha
        self.random_state = random_state
        self._fits: dict[str, _LinearRate] = {}
        self.report = pd.DataFrame(
            {
                "source": "default",
                "reason": "not fitted",
                "n_developments": 0,
                **{c: np.nan for c in REPORT_COLUMNS[3:]},
            },
            index=pd.Index(CHILD_LEVELS, name="level"),
        )

    def fit(self, developments: pd.DataFrame, *, observed_year: int) -> Self:
        """Fit the yield of each level from completed phases with observed enrolment.

        Parameters
        ----------
        developments
            The developments layer; training rows are phases with status ``completed``,
            positive households and a value in ``enrolled_primary`` / ``enrolled_junior``.
        observed_year
            Year the enrolment was observed (usually the population's base year).

        Returns
        -------
        YieldModel
            ``self``, with :attr:`report` filled in.

        Raises
        ------
        ValidationError
            If the layer is malformed, a training phase was delivered after ``observed_year``,
            or a feature is missing or empty in a training phase.

        Examples
        --------
        With fewer phases than ``min_developments`` the defaults stay in use:

        >>> done = pd.DataFrame({"phase_id": ["a"], "households": [300], "delivery_year": [2015],
        ...     "status": ["completed"], "mean_unit_m2": [90.0], "price_index": [1.0],
        ...     "enrolled_primary": [40], "enrolled_junior": [20]})
        >>> YieldModel().fit(done, observed_year=2020).report["source"].tolist()
        ['default', 'default']
        """
        check_developments(developments)
        delivery = _validate.numeric_values(developments, "delivery_year")
        years_since = observed_year - delivery
        completed = (developments["status"] == "completed").to_numpy()
        early = completed & (years_since < 0)
        if early.any():
            raise ValidationError(
                f"developments: delivery_year is after the enrolment year {observed_year} in "
                f"completed phase_id {_validate.ids_text(developments['phase_id'][early])}; fix "
                "delivery_year or observed_year"
            )
        exposure = _validate.numeric_values(developments, "households") * self.defaults.occupancy(
            years_since.astype(int)
        )
        self._fits = {}
        rows = []
        for level in CHILD_LEVELS:
            column = f"enrolled_{level}"
            enrolled = (
                _validate.numeric_values(developments, column)
                if column in developments
                else np.full(len(developments), np.nan)
            )
            train = completed & ~np.isnan(enrolled) & (exposure > 0)
            if train.sum() < self.min_developments:  # too few to fit: features not needed
                design = np.empty((int(train.sum()), len(self.features)))
            else:
                design = self._design(developments[train], years_since[train, None])
            rows.append(self._fit_level(level, design, enrolled[train], exposure[train]))
        self.report = pd.DataFrame(rows, index=pd.Index(CHILD_LEVELS, name="level"))[
            list(REPORT_COLUMNS)
        ]
        return self

    def rates(self, developments: pd.DataFrame, *, years_since_delivery: np.ndarray) -> np.ndarray:
        """Return children per occupied household by phase, year and level.

        Parameters
        ----------
        developments
            Phases to predict for (their feature columns are needed only for fitted levels).
        years_since_delivery
            Array of shape (phases, years) or (phases,): years since each phase's delivery.

        Returns
        -------
        numpy.ndarray
            Shape (phases, years, 2): primary then junior rate.

        Raises
        ------
        ValidationError
            If a fitted level needs a feature that is missing or empty for some phases.

        Examples
        --------
        See :class:`YieldModel`.
        """
        k = np.asarray(years_since_delivery, dtype=float)
        k = k[:, None] if k.ndim == 1 else k
        out = np.empty((*k.shape, len(CHILD_LEVELS)))
        design = self._design(developments, k) if self._fits and k.size else None
        for i, level in enumerate(CHILD_LEVELS):
            if level in self._fits and design is not None:
                out[..., i] = self._fits[level].predict(design).reshape(k.shape)
            else:
                out[..., i] = self.defaults.rate(level)
        return out

    def to_table(self) -> dict[str, Any]:
        """Return the model as a TOML-ready table: its features, fitted levels and report.

        A county partition of a study carries the table of the model fitted on the whole
        study (:func:`from_table`), so that every county projects with the same yields.

        Examples
        --------
        >>> table = YieldModel().to_table()
        >>> table["features"], table["report"]["primary"]["source"]
        (['mean_unit_m2', 'price_index', 'years_since_delivery'], 'default')
        >>> YieldModel.from_table(table).report.equals(YieldModel().report)
        True
        """
        report = {
            level: {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
            for level, row in self.report.to_dict("index").items()
        }
        return {
            "features": list(self.features),
            "defaults": {
                "primary": self.defaults.primary,
                "junior": self.defaults.junior,
                "occupancy_ramp": list(self.defaults.occupancy_ramp),
            },
            "fitted": {
                level: {
                    "mean": fit.mean.tolist(),
                    "scale": fit.scale.tolist(),
                    "coef": fit.coef.tolist(),
                    "intercept": fit.intercept,
                }
                for level, fit in self._fits.items()
            },
            "report": {
                str(k): {str(f): _plain(v) for f, v in r.items()} for k, r in report.items()
            },
        }

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, where: str = "[yields]") -> YieldModel:
        """Rebuild a model from :meth:`to_table`; a bad table names the key and the fix.

        Raises
        ------
        ValidationError
            A key is missing, unknown or of the wrong shape.
        """
        problems = []
        unknown = sorted(set(table) - {"features", "defaults", "fitted", "report"})
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        try:
            defaults = YieldRates(
                primary=table["defaults"]["primary"],
                junior=table["defaults"]["junior"],
                occupancy_ramp=tuple(table["defaults"]["occupancy_ramp"]),
            )
            model = cls(defaults=defaults, features=table["features"])
            fits = {
                level: _LinearRate(
                    np.asarray(fit["mean"], dtype=float),
                    np.asarray(fit["scale"], dtype=float),
                    np.asarray(fit["coef"], dtype=float),
                    float(fit["intercept"]),
                )
                for level, fit in table.get("fitted", {}).items()
            }
            rows = {level: table["report"][level] for level in CHILD_LEVELS}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"{where}: not a table of a yield model ({exc!s}); it is written by a county "
                "partition (layout.runs.province): remove it to fit the yields afresh"
            ) from exc
        width = len(model.features)
        bad = [lv for lv, f in fits.items() if lv not in CHILD_LEVELS or len(f.coef) != width]
        if bad:
            problems.append(f"{where}: fitted levels {bad} do not match the {width} features")
        if problems:
            raise ValidationError(problems)
        model._fits = fits
        report = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=REPORT_COLUMNS)
        report.index.name = "level"
        model.report = report.astype({"n_developments": "int64"})
        return model

    def _design(self, developments: pd.DataFrame, years_since: np.ndarray) -> np.ndarray:
        """Build the feature matrix: one row per phase and column of ``years_since``."""
        attributes = [f for f in self.features if f != YEARS_SINCE_DELIVERY]
        problems = _validate.missing_columns(developments, attributes, layer="developments")
        if problems:
            raise ValidationError(
                [f"{p}, or leave it out of YieldModel(features=...)" for p in problems]
            )
        columns = []
        repeat = years_since.shape[1]
        for feature in self.features:
            if feature == YEARS_SINCE_DELIVERY:
                columns.append(years_since.ravel())
                continue
            values = _validate.numeric_values(developments, feature)
            if np.isnan(values).any():
                rows = _validate.ids_text(developments["phase_id"][np.isnan(values)])
                problems.append(
                    f"developments: feature {feature!r} is empty or not a number in phase_id "
                    f"{rows}; fill it in, or leave it out of YieldModel(features=...)"
                )
            columns.append(np.repeat(values, repeat))
        if problems:
            raise ValidationError(problems)
        return np.column_stack(columns)

    def _fit_level(
        self, level: str, design: np.ndarray, enrolled: np.ndarray, exposure: np.ndarray
    ) -> dict[str, object]:
        """Cross-validate, compare with the defaults, and keep the fit if it is better."""
        baseline = exposure * self.defaults.rate(level)
        default_deviance = _mean_poisson_deviance(enrolled, baseline)
        row: dict[str, object] = {
            "source": "default",
            "n_developments": len(enrolled),
            "cv_mae": np.nan,
            "cv_deviance": np.nan,
            "default_mae": _mean_absolute_error(enrolled, baseline),
            "default_deviance": default_deviance,
        }
        if len(enrolled) < self.min_developments:
            row["reason"] = (
                f"{len(enrolled)} completed phases have observed {level} enrolment; "
                f"fitting needs at least {self.min_developments}"
            )
            log.info("yield %s: %s; using the default rate", level, row["reason"])
            return row
        predicted = np.empty(len(enrolled))
        splits = KFold(self.folds, shuffle=True, random_state=self.random_state)
        for train, test in splits.split(design):
            fit = self._estimator(design[train], enrolled[train], exposure[train])
            predicted[test] = exposure[test] * fit.predict(design[test])
        row["cv_mae"] = _mean_absolute_error(enrolled, predicted)
        row["cv_deviance"] = cv_deviance = _mean_poisson_deviance(enrolled, predicted)
        if cv_deviance < default_deviance:
            self._fits[level] = _LinearRate.from_pipeline(
                self._estimator(design, enrolled, exposure)
            )
            row["source"] = "fitted"
            row["reason"] = "cross-validated deviance below the default rate's"
        else:
            row["reason"] = "cross-validated deviance not below the default rate's"
        log.info("yield %s: %s (%s)", level, row["source"], row["reason"])
        return row

    def _estimator(
        self, design: np.ndarray, enrolled: np.ndarray, exposure: np.ndarray
    ) -> Pipeline:
        """Fit the Poisson rate model with exposure as sample weight."""
        model = make_pipeline(
            StandardScaler(),
            PoissonRegressor(alpha=self.alpha, solver="newton-cholesky", max_iter=500),
        )
        return model.fit(design, enrolled / exposure, poissonregressor__sample_weight=exposure)


def _plain(value: object) -> object:
    """Return a numpy scalar as the Python value TOML can hold."""
    return value.item() if isinstance(value, np.generic) else value


def _mean_absolute_error(observed: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute difference between observed and expected counts."""
    return float(np.mean(np.abs(observed - expected))) if len(observed) else np.nan


def _mean_poisson_deviance(observed: np.ndarray, expected: np.ndarray) -> float:
    """Mean Poisson deviance; infinite where a count is observed but none is expected."""
    if not len(observed):
        return np.nan
    with np.errstate(divide="ignore"):
        deviance = 2 * (xlogy(observed, observed / expected) - observed + expected)
    return float(np.mean(deviance))
