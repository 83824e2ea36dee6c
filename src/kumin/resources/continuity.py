"""Continuity of core services: did TB control and routine immunisation keep going?

For each service (monthly counts ``service, month, count``), a baseline is fitted
to the pre-pandemic months: a quasi-Poisson log-linear model with a linear
trend and month-of-year seasonality, fitted by iteratively reweighted least
squares, with the dispersion ``φ`` estimated from Pearson residuals (floored at
1). Each crisis month gets the expected count and a 95 % prediction interval
that includes parameter uncertainty: coefficients are drawn from their
approximate normal distribution, and counts from a negative binomial with the
drawn mean and variance ``φ·μ`` (quasi-Poisson's variance), ``φ`` itself drawn
from its sampling distribution.

The verdict controls the false-alarm rate over the whole period judged, not
per month (a month below its 95 % interval happens by chance in one month of
40, so over two years most undisturbed services would have one): a one-sided
CUSUM of the standardised monthly shortfalls ``S_t = max(0, S_{t-1} + z_t - k)``
is compared with the threshold that the baseline's *joint* predictive
simulation crosses in only ``alpha`` (5 %) of undisturbed periods. A service is
*disrupted* when its CUSUM crosses that threshold; the disrupted months are
the excursion's rising part (its last zero before the alarm to its peak), and
recovery is the month after the peak. The shortfall is the net
shortfall over the whole period judged (expected minus observed, catch-up
included), with its interval from the same joint simulation — never summed
over months chosen because they were low. The verdict is repeated with the
other baseline trend choice, and ``trend_sensitive`` says when it changes.

A month missing from the file is treated as unknown, not as zero.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kumin.core.cells import CellError, parse_month
from kumin.core.tabular import Table, read_table
from kumin.errors import DataError, ParameterError
from kumin.resources.profiles import parse_table
from kumin.resources.queueing import check_number

MIN_BASELINE_MONTHS = 24


def parse_service_counts(table: Table) -> pl.DataFrame:
    """Validate a ``service, month, count`` table (month as YYYY-MM) into a frame."""
    frame, _ = parse_table(table, "monthly_service_counts")
    return frame.sort("service", "month")


def read_service_counts(path: str | os.PathLike[str], encoding: str = "auto") -> pl.DataFrame:
    """Read and validate a CSV/xlsx file of monthly service counts."""
    return parse_service_counts(read_table(path, encoding))


@dataclass(frozen=True)
class ServiceVerdict:
    """The verdict for one service over the crisis window.

    ``verdict`` is ``maintained``, ``disrupted`` or ``insufficient_data`` (fewer
    than 24 baseline months). ``disrupted_months`` is the CUSUM excursion that
    raised the alarm. ``shortfall`` is the net expected minus observed over the
    whole period judged, with a 95 % interval (``shortfall_low`` /
    ``shortfall_high``). ``recovered_month`` is the month after the CUSUM's peak
    (counts back within ``k`` standard deviations of expected); None if the
    peak is the last month judged. ``cusum_max`` and
    ``threshold`` are the statistic and its calibrated bound, ``p_value`` the
    share of undisturbed simulated periods reaching ``cusum_max``;
    ``trend_sensitive`` says the verdict flips with the other trend choice.
    """

    service: str
    verdict: str
    disrupted_months: list[dt.date] = field(default_factory=list)
    shortfall: float = 0.0
    shortfall_low: float = 0.0
    shortfall_high: float = 0.0
    recovered_month: dt.date | None = None
    dispersion: float | None = None
    baseline_months: int = 0
    cusum_max: float = 0.0
    threshold: float = 0.0
    p_value: float = 1.0
    trend_sensitive: bool = False


@dataclass(frozen=True)
class ContinuityAssessment:
    """``months``: service, month, count, expected, lower, upper, below, above,
    cusum (crisis months only); ``verdicts``: one per service, in name order;
    ``alpha``: the per-service false-alarm rate over the whole period."""

    baseline_end: dt.date
    months: pl.DataFrame
    verdicts: list[ServiceVerdict]
    alpha: float = 0.05


def _month_index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def _design(months: list[dt.date], origin: int, trend: bool) -> np.ndarray:
    idx = np.array([_month_index(m) for m in months], float)
    cols = [np.ones(len(months))]
    if trend:
        cols.append((idx - origin) / 12.0)
    moy = np.array([m.month for m in months])
    cols += [(moy == k).astype(float) for k in range(2, 13)]
    return np.column_stack(cols)


def fit_quasi_poisson(
    x: np.ndarray, y: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray, float]:
    """Poisson log-linear fit by IRLS; returns coefficients, their quasi-Poisson
    covariance ``φ·(X'WX)⁻¹`` and ``φ`` (Pearson, floored at 1).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.column_stack([np.ones(40), np.arange(40) / 12])
    >>> y = np.round(100 * np.exp(0.1 * np.arange(40) / 12))
    >>> beta, cov, phi = fit_quasi_poisson(x, y)
    >>> round(float(np.exp(beta[0]))), round(float(beta[1]), 2), phi
    (100, 0.1, 1.0)
    """
    y = np.asarray(y, float)
    mean = max(y.mean(), 0.5)
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(mean)
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -30, 30)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        xw = x * mu[:, None]
        new = np.linalg.lstsq(xw.T @ x, xw.T @ z, rcond=None)[0]
        if np.max(np.abs(new - beta)) < 1e-10:
            beta = new
            break
        beta = new
    mu = np.exp(np.clip(x @ beta, -30, 30))
    dof = max(len(y) - x.shape[1], 1)
    phi = max(1.0, float(((y - mu) ** 2 / mu).sum() / dof))
    cov = phi * np.linalg.pinv((x * mu[:, None]).T @ x)
    return beta, cov, phi


def _as_month(value: str | dt.date, name: str) -> dt.date:
    try:
        month = parse_month(value) if value is not None else None
    except CellError:
        month = None
    if month is None:
        raise ParameterError(
            "resources.parameter",
            name=name,
            owner="assess_continuity",
            constraint="a month YYYY-MM",
            got=repr(value),
        )
    return month


def assess_continuity(
    counts: pl.DataFrame,
    baseline_end: str | dt.date,
    crisis_end: str | dt.date | None = None,
    level: float = 0.95,
    trend: bool | str = True,
    recovery_months: int = 2,
    n_sim: int = 4000,
    seed: int = 0,
    alpha: float = 0.05,
    cusum_k: float = 1.0,
) -> ContinuityAssessment:
    """Expected counts, prediction intervals and a verdict for each service.

    Parameters
    ----------
    counts : polars.DataFrame
        ``service, month, count`` (month as a date on the 1st).
    baseline_end : str or date
        Last pre-pandemic month (e.g. ``"2020-02"``); the baseline is every
        earlier month in the data.
    crisis_end : str or date, optional
        Last month assessed; default the last month in the data.
    level : float
        Prediction-interval level of the monthly bands shown (0.95); ``below``
        marks a month under the band, for the chart only.
    trend : bool or "auto"
        Include a linear trend (on the log scale) in the baseline; ``"auto"``
        keeps it only where it is significant (Wald test, p < 0.05), as in
        Farrington's outbreak-detection method. The default keeps it: births,
        hence vaccine doses, drift by a few per cent a year, too little to be
        significant in three years but enough to bias two years ahead.
    recovery_months : int
        Kept for callers; recovery is now the CUSUM's return to zero.
    n_sim : int
        Simulation draws for the intervals.
    seed : int
        Seed of the simulation (results are reproducible).
    alpha : float
        Chance that an undisturbed service is called disrupted over the whole
        period judged (default 5 %).
    cusum_k : float
        CUSUM reference value in standard deviations. The baseline's parameter
        uncertainty shifts every month of an undisturbed period the same way,
        and a small ``k`` lets such drifts accumulate into a high threshold;
        1.0 keeps the threshold low enough that a 35 % dip over two months
        (about three standard deviations a month) is found.

    Examples
    --------
    >>> from kumin.synth.resources import service_counts
    >>> a = assess_continuity(service_counts(seed=0), "2020-02", "2021-03")
    >>> {v.service: v.verdict for v in a.verdicts}["tb_contact_examinations"]
    'disrupted'
    """
    owner = "assess_continuity"
    if trend not in (True, False, "auto"):
        raise ParameterError(
            "resources.parameter",
            name="trend",
            owner=owner,
            constraint="True, False or 'auto'",
            got=repr(trend),
        )
    level = check_number(level, "level", owner, 0.5, 1, high_open=True)
    recovery_months = check_number(recovery_months, "recovery_months", owner, 1, 24, integer=True)
    n_sim = check_number(n_sim, "n_sim", owner, 200, 1_000_000, integer=True)
    alpha_run = check_number(alpha, "alpha", owner, 0.001, 0.5)
    k_ref = check_number(cusum_k, "cusum_k", owner, 0, 5)
    end_base = _as_month(baseline_end, "baseline_end")
    end_crisis = (
        _as_month(crisis_end, "crisis_end") if crisis_end is not None else counts["month"].max()
    )
    if end_crisis is None or end_crisis <= end_base:
        raise ParameterError(
            "resources.parameter",
            name="crisis_end",
            owner=owner,
            constraint="a month after baseline_end",
            got=repr(crisis_end),
        )
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2  # of the monthly bands
    month_rows = []
    verdicts = []
    for (service,), part in counts.sort("month").group_by("service", maintain_order=True):
        base = part.filter(pl.col("month") <= end_base)
        crisis = part.filter((pl.col("month") > end_base) & (pl.col("month") <= end_crisis))
        if base.height < MIN_BASELINE_MONTHS or crisis.height == 0:
            verdicts.append(
                ServiceVerdict(service, "insufficient_data", baseline_months=base.height)
            )
            continue
        origin = _month_index(base["month"].min())
        use_trend = trend is True or trend == "auto"
        if trend == "auto":
            x_base = _design(base["month"].to_list(), origin, True)
            beta, cov, _ = fit_quasi_poisson(x_base, base["count"].to_numpy())
            use_trend = abs(beta[1]) >= 1.959963984540054 * np.sqrt(cov[1, 1])
        new_months = crisis["month"].to_list()
        observed = crisis["count"].to_numpy().astype(float)
        judged = {}
        for with_trend in (use_trend, not use_trend):
            judged[with_trend] = _judge(
                rng, base, origin, with_trend, new_months, observed, n_sim, alpha_run, k_ref
            )
        fit = judged[use_trend]
        other = judged[not use_trend]
        lower = np.quantile(fit["y_sim"], tail, axis=0)
        upper = np.quantile(fit["y_sim"], 1 - tail, axis=0)
        below = observed < lower
        above = observed > upper
        for i, month in enumerate(new_months):
            month_rows.append(
                (
                    service,
                    month,
                    int(observed[i]),
                    float(fit["expected"][i]),
                    float(lower[i]),
                    float(upper[i]),
                    bool(below[i]),
                    bool(above[i]),
                    float(fit["cusum"][i]),
                )
            )
        verdicts.append(_verdict(service, new_months, observed, fit, base.height, other["alarm"]))
    months = pl.DataFrame(
        month_rows,
        schema={
            "service": pl.String,
            "month": pl.Date,
            "count": pl.Int64,
            "expected": pl.Float64,
            "lower": pl.Float64,
            "upper": pl.Float64,
            "below": pl.Boolean,
            "above": pl.Boolean,
            "cusum": pl.Float64,
        },
        orient="row",
    )
    if not verdicts:
        raise DataError("resources.no_rows")
    return ContinuityAssessment(
        end_base, months, sorted(verdicts, key=lambda v: v.service), alpha_run
    )


def cusum(z: np.ndarray, k: float) -> np.ndarray:
    """One-sided CUSUM ``S_t = max(0, S_{t-1} + z_t - k)`` along the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> cusum(np.array([0.0, 3.0, 3.0, -4.0]), 0.5).tolist()
    [0.0, 2.5, 5.0, 0.5]
    """
    out = np.zeros_like(z, dtype=float)
    s = np.zeros(z.shape[:-1])
    for t in range(z.shape[-1]):
        s = np.maximum(0.0, s + z[..., t] - k)
        out[..., t] = s
    return out


def _judge(rng, base, origin, with_trend, months, observed, n_sim, alpha, k) -> dict:
    """Fit one baseline, simulate the undisturbed period jointly, run the CUSUM."""
    x_base = _design(base["month"].to_list(), origin, with_trend)
    beta, cov, phi = fit_quasi_poisson(x_base, base["count"].to_numpy())
    x_new = _design(months, origin, with_trend)
    y_sim = _simulate(rng, beta, cov, phi, len(base) - x_base.shape[1], x_new, n_sim)
    centre = y_sim.mean(axis=0)
    sd = np.maximum(y_sim.std(axis=0), 1e-9)
    # Shortfalls standardised by the predictive spread; the undisturbed paths
    # give the threshold the observed path must cross.
    null_max = cusum((centre - y_sim) / sd, k).max(axis=1)
    threshold = float(np.quantile(null_max, 1 - alpha))
    path = cusum((centre - observed) / sd, k)
    top = float(path.max())
    return {
        "expected": np.exp(x_new @ beta),
        "y_sim": y_sim,
        "cusum": path,
        "threshold": threshold,
        "max": top,
        "p_value": float((1 + (null_max >= top).sum()) / (n_sim + 1)),
        "alarm": top > threshold,
        "phi": phi,
    }


def _simulate(rng, beta, cov, phi, dof, x_new, n_sim) -> np.ndarray:
    """Draw future counts with parameter and dispersion uncertainty.

    The dispersion is drawn as ``φ̂·dof / χ²(dof)`` (its quasi-likelihood
    sampling distribution) and the coefficients from ``N(β̂, cov·φ/φ̂)``: with
    about three years of baseline, ignoring the uncertainty in ``φ`` makes the
    interval too narrow, like a normal quantile in place of Student's t.
    """
    dof = max(dof, 1)
    if phi > 1.0:
        phis = np.maximum(1.0, phi * dof / rng.chisquare(dof, size=n_sim))
    else:
        phis = np.ones(n_sim)
    scale = np.sqrt(phis / phi)
    chol = _factor(cov)
    draws = beta + (rng.standard_normal((n_sim, len(beta))) @ chol.T) * scale[:, None]
    mu = np.exp(np.clip(draws @ x_new.T, -30, 30))
    y = np.empty_like(mu)
    over = phis > 1.0 + 1e-9
    if over.any():
        ph = phis[over][:, None]
        y[over] = rng.negative_binomial(mu[over] / (ph - 1.0), 1.0 / ph)
    if (~over).any():
        y[~over] = rng.poisson(mu[~over])
    return y


def _factor(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L·Lᵀ = cov (Cholesky, or via eigenvalues if not positive definite)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(cov)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def _verdict(service, months, observed, fit, n_base, other_alarm) -> ServiceVerdict:
    # Net shortfall over the whole period judged: no month is chosen for being low.
    sims = (fit["y_sim"] - observed).sum(axis=1)
    low, high = np.quantile(sims, [0.025, 0.975])
    common = dict(
        shortfall=float((fit["expected"] - observed).sum()),
        shortfall_low=float(low),
        shortfall_high=float(high),
        dispersion=fit["phi"],
        baseline_months=n_base,
        cusum_max=fit["max"],
        threshold=fit["threshold"],
        p_value=fit["p_value"],
        trend_sensitive=bool(other_alarm != fit["alarm"]),
    )
    if not fit["alarm"]:
        return ServiceVerdict(service, "maintained", **common)
    # The excursion's rising part, from its last zero to its peak, is the run of
    # months with the largest summed excess shortfall: the dip. The CUSUM then
    # decays by at most k a month, so its return to zero would overstate it.
    path = fit["cusum"]
    cross = int(np.argmax(path > fit["threshold"]))
    start = cross
    while start > 0 and path[start - 1] > 0:
        start -= 1
    end = cross
    while end + 1 < len(path) and path[end + 1] > 0:
        end += 1
    peak = start + int(np.argmax(path[start : end + 1]))
    recovered = months[peak + 1] if peak + 1 < len(path) else None
    end = peak
    return ServiceVerdict(
        service,
        "disrupted",
        disrupted_months=list(months[start : end + 1]),
        recovered_month=recovered,
        **common,
    )
