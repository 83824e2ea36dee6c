"""Scenario projections of a fitted SEIR, and the beds and rooms they need.

A :class:`Scenario` changes the fitted model from given dates: contacts reduced
by a share (transmission multiplied by ``1 - contact_reduction``), vaccination
faster or slower (the dose schedule scaled; doses beyond the people eligible are
not given), or a different dose schedule altogether. :meth:`SEIRModel.project
<kumin.epi.seir_fit.SEIRModel.project>` runs one; :func:`compare_scenarios`
runs several on the same parameter draws so their differences are not noise.

Intervals: the parameters are drawn from the bootstrap refits when the model
was fitted with ``ci_method="bootstrap"``, else from the normal approximation of
the fitted log-parameters (``covariance_``), and reported cases from the negative
binomial around each draw's expected cases; ``cases_lower``/``cases_upper`` are
quantiles of those draws (prediction intervals). The seed of the draws is fixed
by ``random_state``.

Care demand (:func:`care_demand`): each day's reported cases in band ``a`` are
split over care settings (home, hotel, hospital, facility, ...) by given shares,
enter after a given delay and stay a given number of days; occupancy on a day
counts everyone still in (a stay of 7.5 days counts half on its eighth day). No
capacity limit is applied: the output is demand, to compare with capacity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kumin.epi.seir import delay_convolve, multiplier_path, symptomatic_vector
from kumin.errors import ParameterError

__all__ = [
    "CareSettings",
    "Scenario",
    "ScenarioComparison",
    "ScenarioResult",
    "care_demand",
    "compare_scenarios",
]


def _as_date(value, name: str) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError("epi.seir.scenario_date", name=name, got=repr(value)) from None


@dataclass(frozen=True)
class Scenario:
    """A what-if for projections.

    Attributes
    ----------
    name : str
        Label shown in tables and charts.
    contact_reduction : float
        Share in [0, 1) by which transmission is cut from ``reduction_from``.
    reduction_from : date, optional
        First day of the reduction; default the day after the data.
    vaccination_scale : float
        Factor on the daily doses from ``vaccination_from`` (2 = twice as fast, 0 = stop).
    vaccination_from : date, optional
        First day of the scaled schedule; default the day after the data.
    doses : array-like, optional
        A replacement schedule ``(n, days, k)`` from the first date of the data.
    """

    name: str
    contact_reduction: float = 0.0
    reduction_from: dt.date | None = None
    vaccination_scale: float = 1.0
    vaccination_from: dt.date | None = None
    doses: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        r = self.contact_reduction
        if not isinstance(r, int | float) or not 0.0 <= r < 1.0:
            raise ParameterError(
                "epi.param.real_range",
                name="contact_reduction",
                owner="Scenario",
                interval="[0, 1)",
                got=repr(r),
            )
        v = self.vaccination_scale
        if not isinstance(v, int | float) or not 0.0 <= v <= 100.0:
            raise ParameterError(
                "epi.param.real_range",
                name="vaccination_scale",
                owner="Scenario",
                interval="[0, 100]",
                got=repr(v),
            )
        object.__setattr__(self, "reduction_from", _as_date(self.reduction_from, "reduction_from"))
        object.__setattr__(
            self, "vaccination_from", _as_date(self.vaccination_from, "vaccination_from")
        )


@dataclass(frozen=True)
class ScenarioResult:
    """A projection under one scenario, from the first day of the data.

    Attributes
    ----------
    scenario : Scenario
    by_age : polars.DataFrame
        ``date, age_band, new_infections, new_symptomatic, expected_cases,
        cases_lower, cases_upper`` (central values at the estimate).
    total : polars.DataFrame
        ``date, new_infections, new_symptomatic, expected_cases, cases_lower,
        cases_upper, rt, projected`` (``projected`` is false over the data).
    case_samples : numpy.ndarray or None
        Simulated reported cases ``(n_samples, n_days, k)`` behind the intervals.
    level : float
        Level of the intervals.
    """

    scenario: Scenario
    by_age: pl.DataFrame
    total: pl.DataFrame
    case_samples: np.ndarray | None
    level: float

    def peak(self) -> dict:
        """Date and size of the peak of expected reported cases (all ages) in the projection."""
        proj = self.total.filter(pl.col("projected"))
        row = proj.row(int(proj["expected_cases"].arg_max()), named=True)
        return {"date": row["date"], "expected_cases": row["expected_cases"]}


def run_scenario(model, horizon: int, scenario: Scenario, n_samples: int, random_state, level):
    """Project a fitted :class:`SEIRModel` (used by ``SEIRModel.project``)."""
    if not isinstance(scenario, Scenario):
        raise ParameterError("epi.seir.scenario_type", got=type(scenario).__name__)
    start = model.dates_[0]
    n_data = len(model.dates_)
    n_total = n_data + horizon
    first_new = model.dates_[-1] + dt.timedelta(days=1)
    doses = model._doses if scenario.doses is None else np.asarray(scenario.doses, float)
    if doses is not None and scenario.vaccination_scale != 1.0:
        doses = np.array(doses, dtype=np.float64, copy=True)
        if doses.ndim == 2:
            doses = doses[None]
        offset = max(((scenario.vaccination_from or first_new) - start).days, 0)
        doses[:, offset:] *= scenario.vaccination_scale
    engine = model._engine(start, n_total, doses, clip_doses=True)
    problem = model._problem
    theta_hat = model.theta_
    rng = np.random.default_rng(random_state)
    thetas = theta_hat[None, :]
    cov = model.covariance_
    boot = getattr(model, "bootstrap_", None)
    if n_samples and boot is not None:
        draws = boot[rng.integers(0, boot.shape[0], size=n_samples)]
        thetas = np.vstack([thetas, draws])
    elif n_samples and np.all(np.isfinite(cov)):
        draws = rng.multivariate_normal(theta_hat, cov, size=n_samples, method="eigh")
        lo = np.array([b[0] for b in problem.bounds])
        hi = np.array([b[1] for b in problem.bounds])
        thetas = np.vstack([thetas, np.clip(draws, lo, hi)])
    mult = multiplier_path(start, n_total, problem.changes, np.exp(thetas[:, 1:-2]))
    if scenario.contact_reduction:
        offset = max(((scenario.reduction_from or first_new) - start).days, 0)
        mult[:, offset:] *= 1.0 - scenario.contact_reduction
    inf, on, sus = engine.run(np.exp(thetas[:, 0]), mult, np.exp(thetas[:, -2]), n_total)
    observe = problem.observe
    cases = delay_convolve(on * observe[None, None, :], problem.delay)
    symp = symptomatic_vector(model.symptomatic_fraction, model.bands_, "SEIRModel")
    samples = None
    k = len(model.bands_)
    if thetas.shape[0] > 1:
        size = np.exp(thetas[1:, -1])[:, None, None]
        mu = np.maximum(cases[1:], 1e-12)
        samples = rng.negative_binomial(size, size / (size + mu)).astype(np.float64)
    alpha = (1 - level) / 2
    dates = pl.date_range(start, start + dt.timedelta(days=n_total - 1), "1d", eager=True)
    if samples is not None:
        lower_age = np.quantile(samples, alpha, axis=0)
        upper_age = np.quantile(samples, 1 - alpha, axis=0)
        tot = samples.sum(axis=2)
        lower_tot = np.quantile(tot, alpha, axis=0)
        upper_tot = np.quantile(tot, 1 - alpha, axis=0)
    else:
        lower_age = upper_age = np.full((n_total, k), np.nan)
        lower_tot = upper_tot = np.full(n_total, np.nan)
    by_age = pl.DataFrame(
        {
            "date": np.repeat(dates.to_numpy(), k),
            "age_band": list(model.bands_) * n_total,
            "new_infections": inf[0].reshape(-1),
            "new_symptomatic": (on[0] * symp[None, :]).reshape(-1),
            "expected_cases": cases[0].reshape(-1),
            "cases_lower": lower_age.reshape(-1),
            "cases_upper": upper_age.reshape(-1),
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    rt = engine.reproduction_numbers(float(np.exp(thetas[0, 0])), mult[0], sus[0])
    total = pl.DataFrame(
        {
            "date": dates,
            "new_infections": inf[0].sum(axis=1),
            "new_symptomatic": (on[0] * symp[None, :]).sum(axis=1),
            "expected_cases": cases[0].sum(axis=1),
            "cases_lower": lower_tot,
            "cases_upper": upper_tot,
            "rt": rt,
            "projected": np.arange(n_total) >= n_data,
        }
    )
    return ScenarioResult(scenario, by_age, total, samples, level)


@dataclass(frozen=True)
class CareSettings:
    """Where reported cases are cared for, by age band, and for how long.

    Attributes
    ----------
    shares : dict
        ``{band: {setting: share}}``; each band's shares are non-negative and sum
        to 1 (e.g. ``{"80+": {"home": 0.3, "hotel": 0.05, "hospital": 0.45,
        "facility": 0.2}, ...}``).
    length_of_stay : dict
        ``{setting: days}`` (mean stay, may be fractional).
    admission_delay : dict
        ``{setting: days}`` from onset to entering the setting; default 0.

    Examples
    --------
    >>> care = CareSettings(
    ...     {"young": {"home": 0.9, "hospital": 0.1}, "old": {"home": 0.5, "hospital": 0.5}},
    ...     {"home": 10, "hospital": 14},
    ... )
    >>> care.settings
    ('home', 'hospital')
    """

    shares: dict
    length_of_stay: dict
    admission_delay: dict = field(default_factory=dict)

    @property
    def settings(self) -> tuple[str, ...]:
        seen: list[str] = []
        for row in self.shares.values():
            seen.extend(s for s in row if s not in seen)
        return tuple(seen)

    def share_matrix(self, bands: tuple[str, ...]) -> np.ndarray:
        """Shares as an array ``(k, n_settings)``, validated against ``bands``."""
        settings = self.settings
        missing = [b for b in bands if b not in self.shares]
        if missing:
            raise ParameterError("epi.seir.care_band_missing", band=missing[0])
        out = np.array([[float(self.shares[b].get(s, 0.0)) for s in settings] for b in bands])
        for b, row in zip(bands, out, strict=True):
            if not np.all(np.isfinite(row)) or (row < 0).any() or abs(row.sum() - 1.0) > 1e-6:
                raise ParameterError("epi.seir.care_shares", band=b, total=f"{row.sum():g}")
        for s in settings:
            los = self.length_of_stay.get(s)
            if not isinstance(los, int | float) or not 0 < los <= 365:
                raise ParameterError("epi.seir.care_stay", setting=s, got=repr(los))
            delay = self.admission_delay.get(s, 0)
            if not isinstance(delay, int) or not 0 <= delay <= 60:
                raise ParameterError("epi.seir.care_delay", setting=s, got=repr(delay))
        return out


def _occupancy(admissions: np.ndarray, stay: float, delay: int) -> np.ndarray:
    """People in a setting by day from admissions on the last axis (days)."""
    n = admissions.shape[-1]
    kernel = np.clip(stay - np.arange(int(np.ceil(stay)) + 1), 0.0, 1.0)
    shifted = np.zeros_like(admissions)
    if delay < n:
        shifted[..., delay:] = admissions[..., : n - delay]
    out = np.zeros_like(admissions)
    for lag, weight in enumerate(kernel):
        if weight and lag < n:
            out[..., lag:] += weight * shifted[..., : n - lag]
    return out


def care_demand(result: ScenarioResult, care: CareSettings) -> pl.DataFrame:
    """Daily admissions and occupied beds or rooms by care setting.

    Parameters
    ----------
    result : ScenarioResult
        A projection (its reported cases by age enter care).
    care : CareSettings

    Returns
    -------
    polars.DataFrame
        ``date, setting, admissions, occupied, occupied_lower, occupied_upper``.
    """
    bands = tuple(result.by_age["age_band"].unique(maintain_order=True).to_list())
    shares = care.share_matrix(bands)
    k = len(bands)
    cases = result.by_age["expected_cases"].to_numpy().reshape(-1, k)
    dates = result.total["date"]
    frames = []
    alpha = (1 - result.level) / 2
    for j, setting in enumerate(care.settings):
        stay = float(care.length_of_stay[setting])
        delay = int(care.admission_delay.get(setting, 0))
        adm = cases @ shares[:, j]
        occ = _occupancy(adm, stay, delay)
        if result.case_samples is not None:
            occ_s = _occupancy(result.case_samples @ shares[:, j], stay, delay)
            lower = np.quantile(occ_s, alpha, axis=0)
            upper = np.quantile(occ_s, 1 - alpha, axis=0)
        else:
            lower = upper = np.full(adm.shape, np.nan)
        frames.append(
            pl.DataFrame(
                {
                    "date": dates,
                    "setting": [setting] * len(adm),
                    "admissions": adm,
                    "occupied": occ,
                    "occupied_lower": lower,
                    "occupied_upper": upper,
                }
            )
        )
    return pl.concat(frames)


@dataclass(frozen=True)
class ScenarioComparison:
    """Several scenarios side by side, ready to plot.

    Attributes
    ----------
    total : polars.DataFrame
        ``scenario`` + the columns of :attr:`ScenarioResult.total`.
    by_age : polars.DataFrame
        ``scenario`` + the columns of :attr:`ScenarioResult.by_age`.
    care : polars.DataFrame or None
        ``scenario`` + the columns of :func:`care_demand`.
    summary : polars.DataFrame
        One row per scenario: ``scenario, peak_date, peak_cases,
        projected_cases`` and ``peak_<setting>`` per care setting.
    """

    total: pl.DataFrame
    by_age: pl.DataFrame
    care: pl.DataFrame | None
    summary: pl.DataFrame


def compare_scenarios(
    model,
    scenarios,
    horizon: int,
    care: CareSettings | None = None,
    *,
    n_samples: int = 100,
    random_state=0,
) -> ScenarioComparison:
    """Project a fitted model under each scenario with the same parameter draws.

    Examples
    --------
    >>> # model = SEIRModel(...).fit(dates, cases, doses)
    >>> # cmp = compare_scenarios(model, [Scenario("as is"),
    >>> #                                 Scenario("-30% contacts", contact_reduction=0.3)], 60)
    >>> # cmp.summary
    """
    names = [s.name for s in scenarios]
    if not scenarios or len(set(names)) != len(names):
        raise ParameterError("epi.seir.scenario_names")
    totals, ages, cares, rows = [], [], [], []
    for scenario in scenarios:
        result = model.project(horizon, scenario, n_samples=n_samples, random_state=random_state)
        label = pl.lit(scenario.name).alias("scenario")
        totals.append(result.total.select(label, pl.all()))
        ages.append(result.by_age.select(label, pl.all()))
        peak = result.peak()
        row = {
            "scenario": scenario.name,
            "peak_date": peak["date"],
            "peak_cases": peak["expected_cases"],
            "projected_cases": float(
                result.total.filter(pl.col("projected"))["expected_cases"].sum()
            ),
        }
        if care is not None:
            demand = care_demand(result, care)
            cares.append(demand.select(label, pl.all()))
            proj_start = result.total.filter(pl.col("projected"))["date"][0]
            for setting in care.settings:
                row[f"peak_{setting}"] = float(
                    demand.filter((pl.col("setting") == setting) & (pl.col("date") >= proj_start))[
                        "occupied"
                    ].max()
                )
        rows.append(row)
    return ScenarioComparison(
        pl.concat(totals),
        pl.concat(ages),
        pl.concat(cares) if cares else None,
        pl.DataFrame(rows),
    )
