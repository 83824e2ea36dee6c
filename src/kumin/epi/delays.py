"""Delay distributions: fit gamma, lognormal and Weibull to daily delays.

The delays of surveillance (onset → first visit, onset → specimen, specimen →
result, onset → result) are recorded as whole days. :class:`DelayFitter` fits the
three usual families by maximum likelihood, with

* **double interval censoring.** Both dates are days: the primary event falls
  anywhere in its day (uniformly) and the secondary event is recorded on the day
  it falls in. The probability of a recorded delay of ``d`` days is then
  ``P(d) = G(d+1) - 2 G(d) + G(d-1)`` with ``G(x) = ∫_0^x F(s) ds`` (the same
  construction as EpiEstim's ``discr_si``), computed exactly from the family's
  partial expectation. ``censoring="interval"`` instead treats the delay as lying
  in ``[d, d+1)``, i.e. ``P(d) = F(d+1) - F(d)``.
* **right truncation.** Near the end of the data only short delays have been
  observed. Each case contributes ``P(d) / P(D <= T - t)``, where ``t`` is its
  primary date and ``T`` the end date of the data: the likelihood conditions on
  the delay having been observable. Without it, recent periods look faster.
* **model choice** by AIC (two parameters each, so it is the likelihood).
* **95% intervals** from the observed information: the Hessian of the negative
  log-likelihood in the log-parameters is inverted and 4,000 parameter sets drawn
  from the normal approximation give the intervals of the mean and sd (and of the
  parameters themselves). Adequate for the hundreds or thousands of cases of a
  ward; for a handful of cases prefer a bootstrap.
* **periods** (e.g. waves), given as a table of date ranges; each period is fitted
  on the cases whose primary date falls in it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import optimize, special, stats

from kumin.epi._checks import (
    check_choice_param,
    check_fitted,
    check_int_param,
    check_positive_param,
    check_real_param,
)
from kumin.epi.growth import ConvergenceWarning  # one warning class for all of kumin.epi
from kumin.errors import DataError, ParameterError, Problem

FAMILIES = ("gamma", "lognormal", "weibull")
PARAM_NAMES = {
    "gamma": ("shape", "scale"),
    "lognormal": ("meanlog", "sdlog"),
    "weibull": ("shape", "scale"),
}
_EPOCH = np.datetime64("1970-01-01", "D")


# ---------------------------------------------------------------- dates -------


def to_days(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Dates as integer days since 1970-01-01 and a mask of the missing ones.

    Accepts a polars Series (Date, Datetime or ISO strings), numpy datetime64
    arrays, sequences of ``datetime.date``/ISO strings/None, or integers (taken
    as day numbers already).
    """
    if isinstance(values, pl.Series):
        if values.dtype == pl.Utf8:
            values = values.str.to_date(strict=False)
        if values.dtype == pl.Datetime:
            values = values.dt.date()
        if values.dtype.is_integer():
            arr = values.cast(pl.Int64).to_numpy()
            missing = values.is_null().to_numpy()
            return np.where(missing, 0, arr).astype(np.int64), missing
        missing = values.is_null().to_numpy()
        days = values.cast(pl.Int32).fill_null(0).to_numpy().astype(np.int64)
        return days, missing
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64), np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind != "M":
        arr = np.array(
            [np.datetime64("NaT") if v is None or v == "" else np.datetime64(v, "D") for v in arr],
            dtype="datetime64[D]",
        )
    arr = arr.astype("datetime64[D]")
    missing = np.isnat(arr)
    days = np.where(missing, 0, (arr - _EPOCH).astype(np.int64))
    return days.astype(np.int64), missing


def from_days(days: np.ndarray | int) -> np.ndarray:
    """Integer day numbers back to ``datetime64[D]``."""
    return _EPOCH + np.asarray(days).astype("timedelta64[D]")


# --------------------------------------------------------- distributions ------


def _partial_expectation(family: str, p: tuple[float, float], x: np.ndarray) -> np.ndarray:
    """E[X; X <= x] for x > 0."""
    a, b = p
    if family == "gamma":
        return a * b * special.gammainc(a + 1.0, x / b)
    if family == "lognormal":
        with np.errstate(divide="ignore"):
            z = (np.log(x) - a - b * b) / b
        return np.exp(a + 0.5 * b * b) * special.ndtr(z)
    # weibull: shape a, scale b
    return b * special.gamma(1.0 + 1.0 / a) * special.gammainc(1.0 + 1.0 / a, (x / b) ** a)


def _cdf(family: str, p: tuple[float, float], x: np.ndarray) -> np.ndarray:
    a, b = p
    x = np.asarray(x, dtype=float)
    pos = np.maximum(x, 0.0)
    if family == "gamma":
        out = special.gammainc(a, pos / b)
    elif family == "lognormal":
        with np.errstate(divide="ignore"):
            out = special.ndtr((np.log(pos) - a) / b)
    else:
        out = -np.expm1(-((pos / b) ** a))
    return np.where(x > 0, out, 0.0)


def _integrated_cdf(family: str, p: tuple[float, float], x: np.ndarray) -> np.ndarray:
    """G(x) = ∫_0^x F(s) ds = x F(x) - E[X; X <= x]; zero for x <= 0."""
    x = np.asarray(x, dtype=float)
    pos = np.maximum(x, 1e-300)
    g = pos * _cdf(family, p, pos) - _partial_expectation(family, p, pos)
    return np.where(x > 0, np.maximum(g, 0.0), 0.0)


def _mean_sd(family: str, a: np.ndarray | float, b: np.ndarray | float):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if family == "gamma":
        return a * b, np.sqrt(a) * b
    if family == "lognormal":
        mean = np.exp(a + 0.5 * b * b)
        return mean, mean * np.sqrt(np.expm1(b * b))
    g1 = special.gamma(1.0 + 1.0 / a)
    g2 = special.gamma(1.0 + 2.0 / a)
    return b * g1, b * np.sqrt(np.maximum(g2 - g1 * g1, 0.0))


@dataclass(frozen=True)
class DelayDistribution:
    """A continuous delay distribution and its discretisation to days.

    Parameters
    ----------
    family : {"gamma", "lognormal", "weibull"}
    params : (float, float)
        gamma (shape, scale), lognormal (meanlog, sdlog), Weibull (shape, scale).

    Examples
    --------
    >>> d = DelayDistribution.weibull(1.741, 8.573)   # onset → confirmation, Japan 2020
    >>> round(d.mean, 2)
    7.64
    >>> p = d.pmf(30)
    >>> p.shape, round(float(p.sum()), 6)
    ((31,), 1.0)
    """

    family: str
    params: tuple[float, float]

    def __post_init__(self) -> None:
        check_choice_param(self.family, "family", "DelayDistribution", FAMILIES)
        a, b = (float(v) for v in self.params)
        if (
            not (math.isfinite(a) and math.isfinite(b))
            or b <= 0
            or (self.family != "lognormal" and a <= 0)
        ):
            raise ParameterError("epi.delays.bad_params", family=self.family, got=repr(self.params))
        object.__setattr__(self, "params", (a, b))

    @classmethod
    def gamma(cls, shape: float, scale: float) -> DelayDistribution:
        return cls("gamma", (shape, scale))

    @classmethod
    def lognormal(cls, meanlog: float, sdlog: float) -> DelayDistribution:
        return cls("lognormal", (meanlog, sdlog))

    @classmethod
    def weibull(cls, shape: float, scale: float) -> DelayDistribution:
        return cls("weibull", (shape, scale))

    @classmethod
    def from_mean_sd(cls, family: str, mean: float, sd: float) -> DelayDistribution:
        """The distribution of ``family`` with the given mean and standard deviation."""
        check_choice_param(family, "family", "DelayDistribution", FAMILIES)
        mean = check_positive_param(mean, "mean", "DelayDistribution.from_mean_sd")
        sd = check_positive_param(sd, "sd", "DelayDistribution.from_mean_sd")
        if family == "gamma":
            shape = (mean / sd) ** 2
            return cls(family, (shape, mean / shape))
        if family == "lognormal":
            s2 = math.log1p((sd / mean) ** 2)
            return cls(family, (math.log(mean) - s2 / 2, math.sqrt(s2)))
        cv = sd / mean

        def gap(k: float) -> float:
            g1, g2 = special.gamma(1 + 1 / k), special.gamma(1 + 2 / k)
            return math.sqrt(g2 - g1 * g1) / g1 - cv

        shape = optimize.brentq(gap, 0.05, 100.0)
        return cls("weibull", (shape, mean / special.gamma(1 + 1 / shape)))

    @property
    def mean(self) -> float:
        return float(_mean_sd(self.family, *self.params)[0])

    @property
    def sd(self) -> float:
        return float(_mean_sd(self.family, *self.params)[1])

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        return _cdf(self.family, self.params, x)

    def pmf(
        self, max_days: int, *, censoring: str = "double", normalise: bool = True
    ) -> np.ndarray:
        """Probabilities of a delay of 0, 1, ..., ``max_days`` whole days.

        ``censoring="double"`` (default) assumes both events fall uniformly within
        their days; ``"interval"`` gives ``F(d+1) - F(d)``. With ``normalise`` the
        mass beyond ``max_days`` is folded back by rescaling to sum 1.
        """
        check_int_param(max_days, "max_days", "DelayDistribution.pmf", 0)
        check_choice_param(censoring, "censoring", "DelayDistribution.pmf", ("double", "interval"))
        p = _discrete_pmf(self.family, self.params, np.arange(max_days + 1), censoring)
        if normalise:
            p = p / p.sum()
        return p

    def sample_days(self, size: int | tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Random recorded delays in whole days (double interval censored)."""
        a, b = self.params
        if self.family == "gamma":
            x = rng.gamma(a, b, size)
        elif self.family == "lognormal":
            x = rng.lognormal(a, b, size)
        else:
            x = b * rng.weibull(a, size)
        return np.floor(rng.random(size) + x).astype(np.int64)


def _discrete_pmf(family: str, p, d: np.ndarray, censoring: str) -> np.ndarray:
    d = np.asarray(d, dtype=float)
    if censoring == "double":
        g = _integrated_cdf
        out = g(family, p, d + 1) - 2 * g(family, p, d) + g(family, p, d - 1)
    else:
        out = _cdf(family, p, d + 1) - _cdf(family, p, d)
    return np.maximum(out, 1e-300)


def _discrete_cdf(family: str, p, tau: np.ndarray, censoring: str) -> np.ndarray:
    """P(recorded delay <= tau)."""
    tau = np.asarray(tau, dtype=float)
    if censoring == "double":
        out = _integrated_cdf(family, p, tau + 1) - _integrated_cdf(family, p, tau)
    else:
        out = _cdf(family, p, tau + 1)
    return np.maximum(out, 1e-300)


# ---------------------------------------------------------------- fitting -----


@dataclass(frozen=True)
class DelayFit:
    """One family fitted to one set of delays.

    ``mean_ci``, ``sd_ci`` and ``params_ci`` are 95% (or ``ci``) intervals from
    the normal approximation to the likelihood on the log-parameter scale.
    """

    distribution: DelayDistribution
    loglik: float
    aic: float
    n: int
    mean: float
    sd: float
    mean_ci: tuple[float, float]
    sd_ci: tuple[float, float]
    params_ci: tuple[tuple[float, float], tuple[float, float]]
    converged: bool
    period: str | None = None
    start: np.datetime64 | None = None
    end: np.datetime64 | None = None

    @property
    def family(self) -> str:
        return self.distribution.family

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(PARAM_NAMES[self.family], self.distribution.params, strict=True))

    def pmf(self, max_days: int, **kwargs: Any) -> np.ndarray:
        return self.distribution.pmf(max_days, **kwargs)


def _to_natural(family: str, theta: np.ndarray) -> tuple[float, float]:
    # lognormal's meanlog is unconstrained; everything else is fitted on the log scale
    if family == "lognormal":
        return float(theta[0]), float(np.exp(theta[1]))
    return float(np.exp(theta[0])), float(np.exp(theta[1]))


def _start_values(family: str, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    x = d + 0.5
    m = max(float(np.average(x, weights=w)), 0.5)
    v = max(float(np.average((x - m) ** 2, weights=w)), 0.25)
    if family == "gamma":
        return np.log([m * m / v, v / m])
    if family == "lognormal":
        s2 = math.log1p(v / (m * m))
        return np.array([math.log(m) - s2 / 2, 0.5 * math.log(s2)])
    return np.array([math.log(1.2), math.log(m / special.gamma(1 + 1 / 1.2))])


def _numeric_hessian(f, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    k = len(x)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h
            ej[j] = h
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
            hess[i, j] = hess[j, i] = val
    return hess


def fit_family(
    family: str,
    delays: np.ndarray,
    horizon: np.ndarray | None,
    *,
    weights: np.ndarray | None = None,
    censoring: str = "double",
    ci: float = 0.95,
    n_draws: int = 4000,
    rng: np.random.Generator | None = None,
) -> DelayFit:
    """Maximum-likelihood fit of one family to whole-day delays.

    ``horizon[i]`` is the longest delay case ``i`` could have shown by the end of
    the data (``None``: no truncation). ``weights`` are case counts for
    aggregated rows.
    """
    d = np.asarray(delays, dtype=float)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float)
    tau = None if horizon is None else np.asarray(horizon, dtype=float)

    top = int(max(d.max(), 0 if tau is None else tau.max()))
    grid = np.arange(top + 1)
    d_idx = d.astype(np.int64)
    t_idx = None if tau is None else np.minimum(tau, top).astype(np.int64)

    def nll(theta: np.ndarray) -> float:
        if not np.all(np.isfinite(theta)) or np.any(np.abs(theta) > 30):
            return 1e100
        p = _to_natural(family, theta)
        with np.errstate(all="ignore"):
            # delays and horizons are whole days: one pass over the grid 0..top serves both
            pmf = _discrete_pmf(family, p, grid, censoring)
            ll = np.log(pmf[d_idx])
            if tau is not None:
                cdf = np.maximum(np.cumsum(pmf), 1e-300)
                ll = ll - np.log(cdf[t_idx])
        val = -float(np.sum(w * ll))
        return val if math.isfinite(val) else 1e100

    x0 = _start_values(family, d, w)
    res = optimize.minimize(
        nll, x0, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000}
    )
    theta = res.x
    # judge convergence by the gradient at the final point, not the simplex size
    # steps of 1e-3 on the log scale: smaller ones drown in the rounding of the pmf's tail
    h = 1e-3
    grad = np.array([(nll(theta + h * e) - nll(theta - h * e)) / (2 * h) for e in np.eye(2)])
    converged = bool(np.linalg.norm(grad) < 1e-2 * max(1.0, math.sqrt(w.sum())))
    a, b = _to_natural(family, theta)
    dist = DelayDistribution(family, (a, b))
    loglik = -float(res.fun)
    n = int(round(w.sum()))

    rng = rng or np.random.default_rng(0)
    hess = _numeric_hessian(nll, theta)
    try:
        cov = np.linalg.inv(hess)
        if not np.all(np.linalg.eigvalsh(cov) > 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = None
        converged = False
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    mean, sd = (float(v) for v in _mean_sd(family, a, b))
    if cov is not None:
        draws = rng.multivariate_normal(theta, cov, size=n_draws)
        nat = np.exp(draws)
        if family == "lognormal":
            nat[:, 0] = draws[:, 0]
        m_d, s_d = _mean_sd(family, nat[:, 0], nat[:, 1])
        mean_ci = tuple(float(v) for v in np.quantile(m_d, [lo_q, hi_q]))
        sd_ci = tuple(float(v) for v in np.quantile(s_d, [lo_q, hi_q]))
        z = stats.norm.ppf(hi_q)
        se = np.sqrt(np.diag(cov))
        lo = _to_natural(family, theta - z * se)
        hi = _to_natural(family, theta + z * se)
        params_ci = ((lo[0], hi[0]), (lo[1], hi[1]))
    else:
        nan2 = (math.nan, math.nan)
        mean_ci = sd_ci = nan2
        params_ci = (nan2, nan2)
    if not converged:
        warnings.warn(f"{family} delay fit did not converge", ConvergenceWarning, stacklevel=2)
    return DelayFit(
        distribution=dist,
        loglik=loglik,
        aic=2 * 2 - 2 * loglik,
        n=n,
        mean=mean,
        sd=sd,
        mean_ci=mean_ci,  # type: ignore[arg-type]
        sd_ci=sd_ci,  # type: ignore[arg-type]
        params_ci=params_ci,
        converged=converged,
    )


def _periods_table(periods: Any) -> list[tuple[str, int, int]]:
    if periods is None:
        return []
    if isinstance(periods, pl.DataFrame):
        missing = {"label", "start", "end"} - set(periods.columns)
        if missing:
            raise ParameterError("epi.delays.bad_periods", reason=", ".join(sorted(missing)))
        rows = list(
            zip(periods["label"].cast(pl.Utf8), periods["start"], periods["end"], strict=True)
        )
    else:
        rows = [tuple(r) for r in periods]
    out = []
    for label, start, end in rows:
        s, _ = to_days([start] if not isinstance(start, (int, np.integer)) else np.array([start]))
        e, _ = to_days([end] if not isinstance(end, (int, np.integer)) else np.array([end]))
        if e[0] < s[0]:
            raise ParameterError("epi.delays.bad_periods", reason=f"{label}: {start} > {end}")
        out.append((str(label), int(s[0]), int(e[0])))
    return out


class DelayFitter:
    """Fit gamma, lognormal and Weibull delays, choose by AIC, optionally per period.

    Parameters
    ----------
    families : sequence of str, default all three
    censoring : {"double", "interval"}, default "double"
        See the module docstring.
    truncation : bool, default True
        Condition each case on its delay being observable by ``end_date``.
    ci : float, default 0.95
        Level of the intervals.
    random_state : int or None
        Seed of the draws behind the intervals of mean and sd.

    Attributes
    ----------
    fits_ : dict[str, DelayFit]
        All families on all data.
    best_ : DelayFit
        The family with the lowest AIC.
    periods_ : dict[str, dict[str, DelayFit]]
        Per period label, every family (empty without ``periods``).
    table_ : polars.DataFrame
        One row per period (``"all"`` first) and family with parameters, mean,
        sd, their intervals, AIC, ΔAIC and the chosen family.
    n_used_, n_missing_, end_date_

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> onset = np.datetime64("2021-07-01") + rng.integers(0, 60, 400).astype("timedelta64[D]")
    >>> delay = DelayDistribution.gamma(2.0, 2.0).sample_days(400, rng)
    >>> fitter = DelayFitter(random_state=0).fit(onset, onset + delay.astype("timedelta64[D]"))
    >>> fitter.best_.family in ("gamma", "lognormal", "weibull")
    True
    >>> fitter.pmf(20).shape
    (21,)
    """

    def __init__(
        self,
        families: Sequence[str] = FAMILIES,
        *,
        censoring: str = "double",
        truncation: bool = True,
        ci: float = 0.95,
        random_state: int | None = None,
    ) -> None:
        self.families = families
        self.censoring = censoring
        self.truncation = truncation
        self.ci = ci
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "families": self.families,
            "censoring": self.censoring,
            "truncation": self.truncation,
            "ci": self.ci,
            "random_state": self.random_state,
        }

    def _validate(self) -> tuple[str, ...]:
        fams = tuple(self.families) if not isinstance(self.families, str) else (self.families,)
        if not fams:
            check_choice_param(None, "families", "DelayFitter", FAMILIES)
        for fam in fams:
            check_choice_param(fam, "families", "DelayFitter", FAMILIES)
        check_choice_param(self.censoring, "censoring", "DelayFitter", ("double", "interval"))
        check_real_param(self.ci, "ci", "DelayFitter", 0.0, 1.0, closed="neither")
        return fams

    def fit(
        self,
        start_dates: Any,
        end_dates: Any,
        *,
        end_date: Any = None,
        periods: pl.DataFrame | Iterable[tuple[str, Any, Any]] | None = None,
    ) -> DelayFitter:
        """Fit from paired dates (e.g. onset and result); pairs with a missing date are skipped.

        ``end_date`` is the last day the data could contain (default: the latest
        ``end_dates``). ``periods`` is a table (label, start, end) of inclusive
        date ranges applied to ``start_dates``.
        """
        fams = self._validate()
        s, s_miss = to_days(start_dates)
        e, e_miss = to_days(end_dates)
        if s.shape != e.shape:
            raise DataError(
                "epi.data.shape_mismatch", name="end_dates", got=e.shape, expected=s.shape
            )
        keep = ~(s_miss | e_miss)
        s, e = s[keep], e[keep]
        delay = e - s
        neg = np.flatnonzero(delay < 0)
        if len(neg):
            index = np.flatnonzero(keep)[neg]
            problems = [
                Problem(
                    line=None,
                    column=None,
                    key="epi.delays.negative_delay",
                    params={"index": int(i), "delay": int(delay[j])},
                )
                for i, j in zip(index[:20], neg[:20], strict=True)
            ]
            raise DataError("epi.delays.negative_delays", problems=problems, count=len(neg))
        if len(delay) < 5:
            raise DataError("epi.delays.too_few", count=int(len(delay)), minimum=5)
        if end_date is None:
            end = int(e.max())
        else:
            end = int(to_days(np.array([end_date], dtype="datetime64[D]"))[0][0])
        if end < int(e.max()):
            raise ParameterError(
                "epi.delays.end_date_early", got=str(from_days(end)), latest=str(from_days(e.max()))
            )
        rng = np.random.default_rng(self.random_state)
        horizon = end - s

        def fit_subset(
            mask: np.ndarray, label: str | None, lo: int | None, hi: int | None
        ) -> dict[str, DelayFit]:
            # aggregate identical (delay, horizon) pairs: thousands of cases, few distinct rows
            dd, hh = delay[mask], np.minimum(horizon[mask], 400)
            key = np.unique(np.stack([dd, hh]), axis=1, return_counts=True)
            pairs, counts = key
            out: dict[str, DelayFit] = {}
            for fam in fams:
                fit = fit_family(
                    fam,
                    pairs[0],
                    pairs[1] if self.truncation else None,
                    weights=counts,
                    censoring=self.censoring,
                    ci=self.ci,
                    rng=rng,
                )
                out[fam] = DelayFit(
                    **{
                        **fit.__dict__,
                        "period": label,
                        "start": None if lo is None else from_days(lo),
                        "end": None if hi is None else from_days(hi),
                    }
                )
            return out

        self.fits_ = fit_subset(np.ones(len(delay), dtype=bool), None, None, None)
        self.best_ = min(self.fits_.values(), key=lambda f: f.aic)
        self.periods_: dict[str, dict[str, DelayFit]] = {}
        for label, lo, hi in _periods_table(periods):
            mask = (s >= lo) & (s <= hi)
            if mask.sum() < 5:
                warnings.warn(
                    f"period {label} has {int(mask.sum())} cases; not fitted",
                    UserWarning,
                    stacklevel=2,
                )
                continue
            self.periods_[label] = fit_subset(mask, label, lo, hi)
        self.n_used_ = int(len(delay))
        self.n_missing_ = int((~keep).sum())
        self.end_date_ = from_days(end)
        self.table_ = self._table()
        return self

    def best_for(self, period: str | None = None) -> DelayFit:
        """The AIC-chosen fit of a period (``None``: all data)."""
        check_fitted(self, "best_")
        fits = self.fits_ if period is None else self.periods_[period]
        return min(fits.values(), key=lambda f: f.aic)

    def pmf(
        self, max_days: int, *, period: str | None = None, normalise: bool = True
    ) -> np.ndarray:
        """Discretised pmf (0..max_days) of the AIC-chosen family."""
        return self.best_for(period).distribution.pmf(
            max_days, censoring=self.censoring, normalise=normalise
        )

    def _table(self) -> pl.DataFrame:
        rows = []
        groups = [("all", self.fits_), *self.periods_.items()]
        for label, fits in groups:
            best = min(f.aic for f in fits.values())
            for fam, f in fits.items():
                (n1, n2), (v1, v2) = PARAM_NAMES[fam], f.distribution.params
                rows.append(
                    {
                        "period": label,
                        "start": f.start.astype(object) if f.start is not None else None,
                        "end": f.end.astype(object) if f.end is not None else None,
                        "n": f.n,
                        "family": fam,
                        "param1_name": n1,
                        "param1": v1,
                        "param1_lower": f.params_ci[0][0],
                        "param1_upper": f.params_ci[0][1],
                        "param2_name": n2,
                        "param2": v2,
                        "param2_lower": f.params_ci[1][0],
                        "param2_upper": f.params_ci[1][1],
                        "mean": f.mean,
                        "mean_lower": f.mean_ci[0],
                        "mean_upper": f.mean_ci[1],
                        "sd": f.sd,
                        "sd_lower": f.sd_ci[0],
                        "sd_upper": f.sd_ci[1],
                        "loglik": f.loglik,
                        "aic": f.aic,
                        "delta_aic": f.aic - best,
                        "best": f.aic == best,
                    }
                )
        return pl.DataFrame(rows, schema_overrides={"start": pl.Date, "end": pl.Date})


__all__ = [
    "FAMILIES",
    "ConvergenceWarning",
    "DelayDistribution",
    "DelayFit",
    "DelayFitter",
    "fit_family",
    "from_days",
    "to_days",
]
