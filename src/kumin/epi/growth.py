"""Epidemic growth rate r (per day) and doubling or halving time, with 95% intervals.

On each window the daily counts are fitted by a log-linear model
``log E[y_t] = a + r t``, a generalised linear model with log link:

``family="quasipoisson"``
    Poisson mean-variance with a free dispersion ``phi`` (Pearson chi-squared /
    (n - 2)), as R's ``glm(family = quasipoisson)``; intervals
    ``r +/- t_{n-2} se``. Assumes the variance is proportional to the mean.
``family="negbin"``
    Negative binomial (NB2, variance ``mu + mu^2 / theta``), ``theta`` by the
    method of moments (as ``MASS::theta.mm``; infinite when there is no
    overdispersion), normal intervals. Suits large, overdispersed counts.

Both assume exponential growth at a constant rate within the window and a
constant ascertainment fraction. The doubling time is ``log(2) / r`` for ``r > 0``,
the halving time ``log(2) / -r`` for ``r < 0``; their intervals come from the
interval of ``r`` and are open-ended (infinite) when that interval contains 0.

All windows of all regions are fitted together by vectorised Newton iterations.

Examples
--------
>>> import numpy as np
>>> from kumin.epi.growth import GrowthEstimator
>>> counts = np.round(20 * np.exp(0.1 * np.arange(28)))
>>> est = GrowthEstimator(window=14).fit(counts)
>>> round(float(est.r_[-1]), 3), round(float(est.doubling_time_[-1]), 2)
(0.1, 6.93)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import norm
from scipy.stats import t as t_dist

from kumin.epi._checks import (
    check_choice_param,
    check_counts,
    check_dates_contiguous,
    check_fitted,
    check_int_param,
    check_min_length,
    check_real_param,
)
from kumin.errors import DataError, ParameterError

__all__ = ["ConvergenceWarning", "GrowthEstimator", "doubling_time"]

_OWNER = "GrowthEstimator"
LOG2 = float(np.log(2.0))


class ConvergenceWarning(UserWarning):
    """A fit did not converge; the affected estimates are NaN."""


def doubling_time(
    r: Any, lower: Any, upper: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Doubling and halving times with intervals from a growth rate and its interval.

    Returns
    -------
    doubling, doubling_lower, doubling_upper, halving, halving_lower, halving_upper
        Doubling values are NaN unless ``r > 0``; halving values NaN unless
        ``r < 0``. A bound is ``inf`` when the interval of ``r`` reaches 0.

    Examples
    --------
    >>> [round(float(x), 2) for x in doubling_time(0.1, 0.05, 0.2)[:3]]
    [6.93, 3.47, 13.86]
    """
    r, lo, hi = (np.asarray(x, dtype=np.float64) for x in (r, lower, upper))
    with np.errstate(divide="ignore", invalid="ignore"):
        grow = r > 0
        shrink = r < 0
        d = np.where(grow, LOG2 / r, np.nan)
        d_lo = np.where(grow, LOG2 / hi, np.nan)
        d_hi = np.where(grow, np.where(lo > 0, LOG2 / lo, np.inf), np.nan)
        h = np.where(shrink, LOG2 / -r, np.nan)
        h_lo = np.where(shrink, LOG2 / -lo, np.nan)
        h_hi = np.where(shrink, np.where(hi < 0, LOG2 / -hi, np.inf), np.nan)
    return d, d_lo, d_hi, h, h_lo, h_hi


def _newton(y, x, a, r, theta, max_iter, tol):
    """Newton (Fisher scoring) on rows of ``y`` (M, n); iterates only unconverged rows."""
    n = y.shape[-1]
    converged = np.zeros(a.shape, bool)
    active = np.arange(a.size)
    for _ in range(max_iter):
        ya, aa, ra, tha = y[active], a[active], r[active], theta[active]
        mu = np.exp(aa[:, None] + ra[:, None] * x)
        w = mu / (1.0 + mu / tha[:, None])  # NB2 IRLS weight; Poisson when theta = inf
        res = (ya - mu) * (w / mu)
        u0 = res.sum(-1)
        u1 = res @ x
        i00 = w.sum(-1)
        i01 = w @ x
        i11 = w @ (x * x)
        det = i00 * i11 - i01 * i01
        da = (i11 * u0 - i01 * u1) / det
        dr = (i00 * u1 - i01 * u0) / det
        # Damp huge steps (far from the optimum, or drifting towards r = +-inf).
        scale = np.minimum(1.0, 2.0 / np.maximum(np.abs(da), np.abs(dr) * n))
        scale = np.where(np.isfinite(scale), scale, 0.0)
        a[active] = aa + scale * np.nan_to_num(da)
        r[active] = ra + scale * np.nan_to_num(dr)
        step = np.abs(dr) + np.abs(da) / n
        done = np.isfinite(step) & (step < tol)
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    return a, r, converged


def _fit_loglinear(y: np.ndarray, family: str, max_iter: int, tol: float):
    """Vectorised GLM fit of ``log mu = a + r x`` on the last axis of ``y`` (..., n).

    Returns r, its standard error, the dispersion (phi or theta), a converged flag
    and a flag for windows where r has no finite estimate.
    """
    lead, n = y.shape[:-1], y.shape[-1]
    y = y.reshape(-1, n)
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0  # centred: a and r nearly orthogonal
    total = y.sum(-1)
    # Start from least squares on log(y + 0.5): usually a few Newton steps from the optimum.
    ly = np.log(y + 0.5)
    r = (ly @ x) / (x @ x)
    a = np.log(np.maximum(np.exp(ly.mean(-1)), 1e-8))
    theta = np.full(a.shape, np.inf)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a, r, converged = _newton(y, x, a, r, theta, max_iter, tol)
        if family == "negbin":
            for _ in range(3):  # alternate theta (moments) and the mean (Newton)
                mu = np.exp(a[:, None] + r[:, None] * x)
                theta = _theta_moments(y, mu, n - 2, theta)
                a, r, converged = _newton(y, x, a, r, theta, max_iter, tol)
        mu = np.exp(a[:, None] + r[:, None] * x)
        w = mu / (1.0 + mu / theta[:, None])
        i00 = w.sum(-1)
        i01 = w @ x
        i11 = w @ (x * x)
        var_r = i00 / (i00 * i11 - i01 * i01)
        if family == "quasipoisson":
            dispersion = ((y - mu) ** 2 / mu).sum(-1) / (n - 2)
            se = np.sqrt(dispersion * var_r)
        else:
            dispersion = theta
            se = np.sqrt(var_r)
    # No cases, or all cases on one day: the maximum-likelihood r is not finite.
    degenerate = (total <= 0) | ((y > 0).sum(-1) < 2)
    ok = converged & ~degenerate & np.isfinite(se) & np.isfinite(r)
    out = (np.where(ok, r, np.nan), np.where(ok, se, np.nan), dispersion, ok, degenerate)
    return tuple(v.reshape(lead) for v in out)


def _theta_moments(y: np.ndarray, mu: np.ndarray, dof: int, theta: np.ndarray) -> np.ndarray:
    # Solve sum (y - mu)^2 / (mu + mu^2 / theta) = dof for theta (MASS::theta.mm);
    # theta = inf when the Poisson Pearson statistic is already <= dof.
    pearson0 = ((y - mu) ** 2 / mu).sum(-1)
    out = np.full(theta.shape, np.inf)
    over = pearson0 > dof
    if not over.any():
        return out
    yo, mo = y[over], mu[over]
    lo = np.full(yo.shape[0], 1e-4)
    hi = np.full(yo.shape[0], 1e8)
    for _ in range(45):  # bisection in log space: the statistic rises with theta
        mid = np.sqrt(lo * hi)
        stat = ((yo - mo) ** 2 / (mo + mo**2 / mid[:, None])).sum(-1)
        bigger = stat > dof
        hi = np.where(bigger, mid, hi)
        lo = np.where(bigger, lo, mid)
    out[over] = np.sqrt(lo * hi)
    return out


class GrowthEstimator:
    """Growth rate per day from a log-linear GLM on sliding or given windows.

    Parameters
    ----------
    family : {"quasipoisson", "negbin"}
    window : int
        Days per sliding window (default 14: two whole weeks, so that weekday
        reporting patterns weigh equally on both halves).
    windows : sequence of (start, end), optional
        Explicit 0-based inclusive windows (e.g. one per wave) instead of sliding ones.
    level : float
        Interval level (0.95).
    max_iter : int
    tol : float
        Convergence tolerance on the change of r per iteration.

    Attributes
    ----------
    r_, r_lower_, r_upper_, se_ : numpy.ndarray, shape (W,) or (regions, W)
    dispersion_ : numpy.ndarray
        ``phi`` (quasi-Poisson) or ``theta`` (negative binomial; inf = Poisson).
    doubling_time_, doubling_lower_, doubling_upper_ : numpy.ndarray
    halving_time_, halving_lower_, halving_upper_ : numpy.ndarray
    t_start_, t_end_ : numpy.ndarray of int
    n_failed_ : int
        Windows without an estimate (no cases, cases on a single day, or no
        convergence; a ``ConvergenceWarning`` names the last).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.poisson(50 * np.exp(-0.05 * np.arange(30)), size=(2, 30))
    >>> est = GrowthEstimator(family="negbin").fit(y)
    >>> est.r_.shape, bool(np.all(est.r_ < 0))
    ((2, 17), True)
    """

    def __init__(
        self,
        family: str = "quasipoisson",
        window: int = 14,
        windows: Sequence[tuple[int, int]] | None = None,
        level: float = 0.95,
        max_iter: int = 100,
        tol: float = 1e-9,
    ) -> None:
        self.family = family
        self.window = window
        self.windows = windows
        self.level = level
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, counts: Any) -> GrowthEstimator:
        """Fit every window of ``counts`` (shape (T,) or (regions, T)); returns self."""
        check_choice_param(self.family, "family", _OWNER, ("quasipoisson", "negbin"))
        check_int_param(self.window, "window", _OWNER, 3, 365)
        check_real_param(self.level, "level", _OWNER, 0.0, 1.0, "neither")
        check_int_param(self.max_iter, "max_iter", _OWNER, 1, 10_000)
        check_real_param(self.tol, "tol", _OWNER, 0.0, None, "neither")
        y = check_counts(counts, "counts")
        n_days = y.shape[-1]
        self.n_days_ = n_days
        if self.windows is None:
            check_min_length(n_days, self.window, "counts")
            self.t_end_ = np.arange(self.window - 1, n_days)
            self.t_start_ = self.t_end_ - self.window + 1
            idx = self.t_start_[:, None] + np.arange(self.window)
            groups = [(np.arange(self.t_end_.size), y[..., idx])]
        else:
            bounds = self._check_windows(n_days)
            self.t_start_ = bounds[:, 0]
            self.t_end_ = bounds[:, 1]
            lengths = self.t_end_ - self.t_start_ + 1
            groups = []
            for length in np.unique(lengths):  # one vectorised fit per window length
                which = np.flatnonzero(lengths == length)
                idx = self.t_start_[which, None] + np.arange(length)
                groups.append((which, y[..., idx]))
        shape = y.shape[:-1] + (self.t_end_.size,)
        r, se, disp = (np.full(shape, np.nan) for _ in range(3))
        crit = np.full(self.t_end_.size, np.nan)
        failed = 0
        for which, block in groups:
            n = block.shape[-1]
            r_b, se_b, disp_b, ok, degenerate = _fit_loglinear(
                block, self.family, self.max_iter, self.tol
            )
            r[..., which], se[..., which], disp[..., which] = r_b, se_b, disp_b
            q = 0.5 + self.level / 2
            crit[which] = t_dist.ppf(q, n - 2) if self.family == "quasipoisson" else norm.ppf(q)
            failed += int((~ok & ~degenerate).sum())
        if failed:
            warnings.warn(
                f"The growth-rate fit did not converge in {failed} windows; "
                "their estimates are NaN.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.r_, self.se_, self.dispersion_ = r, se, disp
        self.r_lower_ = r - crit * se
        self.r_upper_ = r + crit * se
        self.n_failed_ = int(np.isnan(r).sum())
        (
            self.doubling_time_,
            self.doubling_lower_,
            self.doubling_upper_,
            self.halving_time_,
            self.halving_lower_,
            self.halving_upper_,
        ) = doubling_time(self.r_, self.r_lower_, self.r_upper_)
        return self

    def _check_windows(self, n_days: int) -> np.ndarray:
        try:
            bounds = np.asarray(self.windows, dtype=np.int64).reshape(-1, 2)
        except (TypeError, ValueError):
            raise ParameterError(
                "epi.param.choice",
                name="windows",
                owner=_OWNER,
                choices="pairs (start, end)",
                got=repr(self.windows),
            ) from None
        for s, e in bounds:
            if not (s >= 0 and e < n_days and e - s + 1 >= 3):
                raise DataError(
                    "epi.data.too_short", name="windows", length=int(e - s + 1), minimum=3
                )
        return bounds

    def to_frame(self, dates: Any, regions: Sequence[Any] | None = None) -> pl.DataFrame:
        """Long frame: region, date (window end), r, r_lower, r_upper, doubling/halving times."""
        check_fitted(self, "r_")
        days = check_dates_contiguous(dates, "dates")
        if len(days) != self.n_days_:
            raise DataError(
                "epi.data.labels_length", name="dates", got=len(days), expected=self.n_days_
            )
        r = np.atleast_2d(self.r_)
        n_regions, n_win = r.shape
        if regions is None:
            one = self.r_.ndim == 1
            labels: list[Any] = [None] if one else [str(i) for i in range(n_regions)]
        else:
            labels = list(regions)
            if len(labels) != n_regions:
                raise DataError(
                    "epi.data.labels_length", name="regions", got=len(labels), expected=n_regions
                )
        cols = {
            "r": self.r_,
            "r_lower": self.r_lower_,
            "r_upper": self.r_upper_,
            "doubling_time": self.doubling_time_,
            "doubling_lower": self.doubling_lower_,
            "doubling_upper": self.doubling_upper_,
            "halving_time": self.halving_time_,
            "halving_lower": self.halving_lower_,
            "halving_upper": self.halving_upper_,
        }
        data: dict[str, Any] = {
            "region": pl.Series(
                [None if x is None else str(x) for x in labels for _ in range(n_win)],
                dtype=pl.Utf8,
            ),
            "date_start": pl.Series([days[i] for i in self.t_start_] * n_regions, dtype=pl.Date),
            "date": pl.Series([days[i] for i in self.t_end_] * n_regions, dtype=pl.Date),
        }
        data.update({k: np.atleast_2d(v).ravel() for k, v in cols.items()})
        return pl.DataFrame(data).with_columns(pl.col(list(cols)).fill_nan(None))
