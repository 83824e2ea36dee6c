"""Nowcasting an onset-count series with no report dates, from a known delay.

:class:`DelayNowcaster` is for data that hold **only onset counts** (no report
dates), e.g. a published onset curve. The delay is then not estimable and must be
given — a fitted distribution from other data or literature values; several
candidate pmfs (e.g. draws of uncertain parameters) spread the draws over them so
that the intervals carry the delay's uncertainty. Day ``t`` has been reported
with probability ``F(as_of - t)``, so ``y_t ~ NB(λ_t F(as_of - t), φ)`` with
``log λ_t`` a random walk. Its sd and ``φ`` are estimated on the complete days of
the window by Laplace-approximate marginal likelihood (:func:`estimate_smoothing`),
and several candidate delays are weighted by their evidence (or equally).
*Assumption:* the delay is the same for every onset day in the window; the
nowcast of days reported to a few percent is mostly the trend and the delay.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import linalg, optimize, special

from kumin.epi._checks import (
    check_choice_param,
    check_counts,
    check_fitted,
    check_int_param,
    check_real_param,
)
from kumin.epi._nowcast_base import _as_of_day, _NowcastBase, _rnbinom
from kumin.epi.delays import ConvergenceWarning, DelayDistribution, DelayFit, from_days, to_days
from kumin.epi.impute import delay_pmf
from kumin.errors import DataError


@dataclass(frozen=True)
class _Cells:
    y: np.ndarray  # observed counts, one per day
    row: np.ndarray  # index of the day
    col: np.ndarray  # unused (-1): the delay is given, ``offset`` holds it
    offset: np.ndarray  # log of the reported fraction of each day
    n_rows: int
    n_cols: int  # always 0 here


def _objective(theta: np.ndarray, cells: _Cells, rw_sd: float) -> tuple[float, np.ndarray]:
    """Negative penalised log-likelihood of the daily counts and its gradient."""
    n = cells.n_rows
    a = theta[:n]
    log_phi = theta[-1]
    phi = math.exp(log_phi)
    log_mu = a[cells.row] + cells.offset
    mu = np.exp(log_mu)
    y = cells.y
    ll = (
        special.gammaln(y + phi)
        - special.gammaln(phi)
        + phi * (log_phi - np.logaddexp(log_phi, log_mu))
        + y * (log_mu - np.logaddexp(log_phi, log_mu))
    )
    g = phi * (y - mu) / (phi + mu)  # d ll / d log mu
    grad = np.zeros_like(theta)
    grad[:n] = np.bincount(cells.row, weights=g, minlength=n)
    grad[-1] = np.sum(
        phi
        * (
            special.digamma(y + phi)
            - special.digamma(phi)
            + log_phi
            - np.logaddexp(log_phi, log_mu)
            + 1.0
            - (y + phi) / (phi + mu)
        )
    )
    diff = np.diff(a)
    pen = 0.5 * np.sum(diff * diff) / (rw_sd * rw_sd)
    gpen = np.zeros(n)
    gpen[1:] += diff / (rw_sd * rw_sd)
    gpen[:-1] -= diff / (rw_sd * rw_sd)
    grad[:n] = grad[:n] - gpen
    return -(float(ll.sum()) - pen), -grad


@dataclass(frozen=True)
class _Mode:
    theta: np.ndarray
    cov: np.ndarray
    converged: bool
    neg_log_post: float
    logdet: float  # log det of the Hessian of the free parameters
    chol_banded: np.ndarray | None = None  # upper banded Cholesky factor (random-walk fits)


def _fit_rw(cells: _Cells, a0: np.ndarray, log_phi: float, rw_sd: float) -> _Mode:
    """Mode of log λ for one count per day and a fixed φ: a tridiagonal Newton problem.

    The Hessian of a random walk observed with noise is tridiagonal, so each Newton
    step and the Laplace factor cost O(days) with banded Cholesky (dense LAPACK
    calls are also much slower when the machine is busy).
    """
    n = cells.n_rows
    prec = 1.0 / (rw_sd * rw_sd)
    theta = np.concatenate([np.clip(a0, -15.0, 25.0), [log_phi]])
    phi = math.exp(log_phi)
    y = cells.y

    def banded(th: np.ndarray) -> np.ndarray:
        mu = np.exp(th[:n] + cells.offset)
        diag = phi * mu * (y + phi) / (phi + mu) ** 2 + 2 * prec
        diag[0] -= prec
        diag[-1] -= prec
        ab = np.empty((2, n))
        ab[0, 0] = 0.0
        ab[0, 1:] = -prec
        ab[1] = diag
        return linalg.cholesky_banded(ab, lower=False)

    val, grad = _objective(theta, cells, rw_sd)
    converged = False
    tol = 1e-6 * math.sqrt(y.sum() + 1.0)
    for _ in range(200):
        chol = banded(theta)
        step = linalg.cho_solve_banded((chol, False), grad[:n])
        t = 1.0
        while t > 1e-8:
            cand = theta.copy()
            cand[:n] = np.clip(theta[:n] - t * step, -15.0, 25.0)
            new_val, new_grad = _objective(cand, cells, rw_sd)
            if new_val <= val:
                break
            t *= 0.5
        done = abs(val - new_val) < 1e-10 * max(1.0, abs(val)) or np.all(np.abs(new_grad[:n]) < tol)
        theta, val, grad = cand, new_val, new_grad
        if done:
            converged = True
            break
    chol = banded(theta)
    logdet = float(2 * np.log(chol[1]).sum())
    return _Mode(theta, None, converged, val, logdet, chol)  # type: ignore[arg-type]


def _sample_rw(mode: _Mode, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of log λ from the Laplace approximation N(mode, H⁻¹), with H = UᵀU banded."""
    chol = mode.chol_banded
    n = chol.shape[1]
    z = rng.standard_normal((n, size))
    # x = U⁻¹ z has covariance (UᵀU)⁻¹
    x = linalg.solve_banded((0, 1), chol, z)
    return mode.theta[:n][None, :] + x.T


def _log_marginal(
    y: np.ndarray, log_phi: float, log_sd: float, a0: np.ndarray
) -> tuple[float, np.ndarray]:
    """Laplace approximation of log p(y | φ, σ) with log λ a random walk of sd σ."""
    n = len(y)
    cells = _Cells(
        y=y, row=np.arange(n), col=np.full(n, -1), offset=np.zeros(n), n_rows=n, n_cols=0
    )
    mode = _fit_rw(cells, a0, log_phi, math.exp(log_sd))
    # -(n-1) log σ normalises the random-walk prior; the NB constant lgamma(y+1) is dropped
    value = -mode.neg_log_post - (n - 1) * log_sd - 0.5 * mode.logdet
    return value, mode.theta[:n]


def estimate_smoothing(y: np.ndarray) -> tuple[float, float]:
    """Dispersion φ and random-walk sd σ of a complete count series, by Laplace marginal likelihood.

    The series is modelled as ``y_t ~ NB(λ_t, φ)`` with ``log λ_t`` a random walk
    of sd ``σ``; both are chosen to maximise the approximate marginal likelihood
    (the random walk integrated out), which, unlike a joint maximum, does not
    explain all day-to-day noise away as trend.
    """
    y = np.asarray(y, dtype=float)
    a0 = np.log(y + 0.5)
    state = {"a": a0}

    def neg(par: np.ndarray) -> float:
        log_phi = float(np.clip(par[0], -3.0, 11.0))
        log_sd = float(np.clip(par[1], math.log(0.005), math.log(2.0)))
        value, a = _log_marginal(y, log_phi, log_sd, state["a"])
        state["a"] = a
        return -value

    res = optimize.minimize(
        neg,
        np.array([math.log(50.0), math.log(0.1)]),
        method="Nelder-Mead",
        options={"xatol": 0.02, "fatol": 0.01, "maxiter": 200},
    )
    return float(math.exp(np.clip(res.x[0], -3.0, 11.0))), float(
        math.exp(np.clip(res.x[1], math.log(0.005), math.log(2.0)))
    )


def _day_terms(a: np.ndarray, cells: _Cells, phi: float, rw_sd: float) -> np.ndarray:
    """Each day's share of the log posterior at the mode: its NB log-likelihood and
    the random-walk step into it."""
    mu = np.exp(a + cells.offset)
    y = cells.y
    ll = (
        special.gammaln(y + phi)
        - special.gammaln(phi)
        - special.gammaln(y + 1)
        + phi * np.log(phi / (phi + mu))
        + y * np.log(mu / (phi + mu))
    )
    step = np.concatenate([[0.0], np.diff(a)])
    return ll - 0.5 * step**2 / rw_sd**2


def _bootstrap_weights(
    by_day: np.ndarray, evidence: np.ndarray, rng: np.random.Generator, n_boot: int = 1000
) -> np.ndarray:
    """Pseudo-BMA+ weights: the evidence with its day terms reweighted by Dirichlet(1)
    draws (times the number of days), softmax, averaged over the draws."""
    n_days = by_day.shape[1]
    rest = evidence - by_day.sum(axis=1)  # the Laplace volume term, not a sum over days
    u = rng.dirichlet(np.ones(n_days), n_boot) * n_days
    score = u @ by_day.T + rest[None, :]
    score -= score.max(axis=1, keepdims=True)
    w = np.exp(score)
    w /= w.sum(axis=1, keepdims=True)
    return w.mean(axis=0)


class DelayNowcaster(_NowcastBase):
    """Nowcast an onset-count series whose recent days are truncated, from a known delay.

    Parameters
    ----------
    delay : DelayDistribution, DelayFit, 1-D pmf, or a list / 2-D array of them
        Onset → report delay. Several pmfs spread the draws evenly over them.
    max_delay : int, default 30
    window : int or None
        Days modelled before ``as_of`` (default ``max_delay + 60``); earlier days
        are complete and returned as observed.
    rw_sd : float or None
        Day-to-day sd of the random walk of log expected counts, which ties the
        truncated days to the trend of the complete ones. ``None`` (default)
        estimates it, with ``dispersion``, from the complete days of the window
        (:func:`estimate_smoothing`).
    dispersion : float or None
        NB size φ of the daily counts around the trend; ``None`` estimates it.
    delay_weights : {"evidence", "bootstrap", "equal"}, default "bootstrap"
        How draws are shared among several candidate delays: by their Laplace
        marginal likelihood (Bayesian model averaging; a delay that leaves a
        jagged end of the curve is unlikely under the random walk), by that
        evidence averaged over Bayesian-bootstrap reweightings of the days
        (pseudo-BMA+, Yao et al. 2018: a preference that rests on a few days is
        not trusted as if every day agreed), or equally. The evidence rests on
        the smoothness of the curve: a single snapshot says little about the
        delay otherwise, and with thousands of cases a day it can concentrate on
        one candidate (98% in the Tokyo example); ``"bootstrap"`` keeps the
        candidates the days disagree about, ``"equal"`` every candidate's spread.
    min_fraction : float, default 0.05
        Days reported to less than this fraction by ``as_of`` are still estimated
        (mostly from the trend) but flagged in ``table_["reliable"]``.
    n_draws, random_state

    Attributes
    ----------
    as in :class:`Nowcaster`, plus ``reported_fraction_`` (per date, averaged
    over the delay candidates with their weights), ``delay_weights_``, ``rw_sd_``,
    ``dispersion_`` and ``table_["reliable"]``.

    Examples
    --------
    >>> import numpy as np
    >>> delay = DelayDistribution.gamma(2.0, 1.5)
    >>> rng = np.random.default_rng(0)
    >>> frac = np.cumsum(delay.pmf(20))[np.minimum(np.arange(100)[::-1], 20)]
    >>> counts = rng.binomial(rng.poisson(200, 100), frac)
    >>> nc = DelayNowcaster(delay, max_delay=20, n_draws=300, random_state=0).fit(counts)
    >>> bool(abs(nc.median_[-3] - 200) < 60)
    True
    """

    def __init__(
        self,
        delay: Any,
        *,
        max_delay: int = 30,
        window: int | None = None,
        rw_sd: float | None = None,
        dispersion: float | None = None,
        delay_weights: str = "bootstrap",
        min_fraction: float = 0.05,
        n_draws: int = 1000,
        random_state: int | None = None,
    ) -> None:
        self.delay = delay
        self.max_delay = max_delay
        self.window = window
        self.rw_sd = rw_sd
        self.dispersion = dispersion
        self.delay_weights = delay_weights
        self.min_fraction = min_fraction
        self.n_draws = n_draws
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        keys = (
            "delay",
            "max_delay",
            "window",
            "rw_sd",
            "dispersion",
            "delay_weights",
            "min_fraction",
            "n_draws",
            "random_state",
        )
        return {k: getattr(self, k) for k in keys}

    def _pmfs(self, D: int) -> list[np.ndarray]:
        d = self.delay
        if isinstance(d, (DelayDistribution, DelayFit)):
            return [delay_pmf(d, D)]
        if isinstance(d, (list, tuple)) and d and isinstance(d[0], (DelayDistribution, DelayFit)):
            return [delay_pmf(x, D) for x in d]
        arr = np.asarray(d, dtype=float)
        if arr.ndim == 2:
            return [delay_pmf(row, D) for row in arr]
        return [delay_pmf(arr, D)]

    def fit(self, counts: Any, dates: Any = None, as_of: Any = None) -> DelayNowcaster:
        """Fit on a daily onset-count series.

        ``dates`` (contiguous days; default day numbers 0..T-1) label ``counts``;
        ``as_of`` is the day the series was extracted (default: its last date).
        """
        owner = "DelayNowcaster"
        D = check_int_param(self.max_delay, "max_delay", owner, 1, 365)
        if self.rw_sd is not None:
            check_real_param(self.rw_sd, "rw_sd", owner, 0.0, None, closed="neither")
        if self.dispersion is not None:
            check_real_param(self.dispersion, "dispersion", owner, 0.0, None, closed="neither")
        min_fraction = check_real_param(self.min_fraction, "min_fraction", owner, 0.0, 1.0)
        n_draws = check_int_param(self.n_draws, "n_draws", owner, 1, 1_000_000)
        check_choice_param(
            self.delay_weights, "delay_weights", owner, ("evidence", "bootstrap", "equal")
        )
        y_all = check_counts(counts, "counts", ndim=(1,))
        T = len(y_all)
        if dates is None:
            days = np.arange(T)
        else:
            days, miss = to_days(dates)
            if miss.any() or len(days) != T or (T > 1 and np.any(np.diff(days) != 1)):
                raise DataError("epi.nowcast.dates_not_daily", name="dates")
        end = _as_of_day(as_of, int(days[-1]))
        if end < days[-1]:
            raise DataError(
                "epi.nowcast.as_of_early", as_of=str(from_days(end)), last=str(from_days(days[-1]))
            )
        W = (
            D + 60
            if self.window is None
            else check_int_param(self.window, "window", owner, D + 2, 5000)
        )
        W = min(W, T)
        pmfs = self._pmfs(D)
        y = y_all[-W:]
        lag = end - days[-W:]  # days each onset day has had to be reported
        complete = lag >= D
        if self.rw_sd is None or self.dispersion is None:
            if complete.sum() < 14:
                raise DataError(
                    "epi.nowcast.too_few_complete", count=int(complete.sum()), minimum=14
                )
            phi_hat, sd_hat = estimate_smoothing(y[complete])
        phi = float(self.dispersion) if self.dispersion is not None else phi_hat
        rw_sd = float(self.rw_sd) if self.rw_sd is not None else sd_hat
        rng = np.random.default_rng(self.random_state)
        modes, fractions, evidence, by_day = [], [], [], []
        for pmf in pmfs:
            cdf = np.cumsum(pmf)
            frac = np.maximum(np.where(complete, 1.0, cdf[np.clip(lag, 0, D)]), 1e-6)
            cells = _Cells(
                y=y, row=np.arange(W), col=np.full(W, -1), offset=np.log(frac), n_rows=W, n_cols=0
            )
            a0 = np.log((y + 0.5) / np.maximum(frac, 0.05))
            mode = _fit_rw(cells, a0, math.log(phi), rw_sd)
            modes.append(mode)
            fractions.append(frac)
            # Laplace marginal likelihood of the counts under this delay
            evidence.append(-mode.neg_log_post - 0.5 * mode.logdet)
            by_day.append(_day_terms(mode.theta[:W], cells, phi, rw_sd))
        if self.delay_weights == "evidence":
            ev = np.array(evidence)
            weights = np.exp(ev - ev.max())
            weights /= weights.sum()
        elif self.delay_weights == "bootstrap":
            weights = _bootstrap_weights(np.array(by_day), np.array(evidence), rng)
        else:
            weights = np.full(len(pmfs), 1.0 / len(pmfs))
        per = rng.multinomial(n_draws, weights)
        draws_w, conv = [], True
        for mode, frac, n_k in zip(modes, fractions, per, strict=True):
            conv = conv and mode.converged
            if n_k == 0:
                continue
            lam = np.exp(np.minimum(_sample_rw(mode, n_k, rng), 25.0))
            # only the part not yet reported is predicted; what was reported is data
            future = _rnbinom(rng, lam * (1.0 - frac), np.full((1, 1), phi))
            draws_w.append(y[None, :] + future)
        self.delay_weights_ = weights
        if not conv:
            warnings.warn(
                "DelayNowcaster: the optimiser did not converge", ConvergenceWarning, stacklevel=2
            )
        draws = np.concatenate(draws_w, axis=0)
        self.reported_fraction_ = weights @ np.array(fractions)
        self.dispersion_ = phi
        self.rw_sd_ = rw_sd
        self.converged_ = conv
        self.as_of_ = from_days(end)
        self._finish(from_days(days[-W:]), y, draws)
        self.table_ = self.table_.with_columns(
            pl.Series("reported_fraction", self.reported_fraction_),
            pl.Series("reliable", self.reported_fraction_ >= min_fraction),
        )
        self.full_dates_ = from_days(days)
        self.full_observed_ = y_all
        return self

    def full_draws(self) -> np.ndarray:
        """Draws over the whole input series: complete days as observed, the window nowcast."""
        check_fitted(self, "draws_")
        T, W = len(self.full_observed_), self.draws_.shape[1]
        out = np.broadcast_to(self.full_observed_, (self.draws_.shape[0], T)).copy()
        out[:, T - W :] = self.draws_
        return out


__all__ = ["DelayNowcaster", "estimate_smoothing"]
