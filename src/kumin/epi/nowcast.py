"""Nowcasting: correct the right-truncated recent days of the onset curve.

Two estimators share one model and one output.

:class:`Nowcaster` works from the **reporting triangle**: cases by onset day ``t``
and delay ``d`` (days from onset to report), known only where ``t + d <= as_of``.
Each cell is negative binomial,

    n[t, d] ~ NB(mean = λ_t · p_d, size = φ)

— the multiplicative (chain-ladder) delay model with NB overdispersion. ``λ_t``
is the expected final count of onset day ``t``, ``p`` the delay pmf (estimated,
constant over the window) and ``φ`` the overdispersion (variance ``μ + μ²/φ``).
A random-walk penalty on ``log λ_t`` (sd ``rw_sd`` per day) keeps the most recent
days, which have almost no data, from running off to zero or infinity; with the
default ``rw_sd=1`` it is weak where the data speak. A random walk (sd 1) on the
logits of ``p`` keeps delays never yet seen from a pmf of exactly zero. Estimation
is penalised maximum likelihood (the MAP of a model with random-walk priors).
*Assumptions:* the delay distribution is the same for every onset day in the
window (no day-of-week reporting effect, no change in testing), and reporting is
eventually complete within ``max_delay``.

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

Uncertainty: the parameters are drawn from the normal approximation at the mode
(Laplace: inverse Hessian of the penalised log-likelihood), then the cases still
to be reported are drawn from the NB for each parameter draw. ``draws_`` (draws ×
days, observed plus predicted) carries this to deconvolution and Rt.

Cases with a delay beyond ``max_delay`` are outside the model: choose
``max_delay`` so that they are rare (``n_beyond_max_delay_`` counts them).
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
from kumin.epi.delays import ConvergenceWarning, DelayDistribution, DelayFit, from_days, to_days
from kumin.epi.impute import delay_pmf
from kumin.errors import DataError

LEVELS = (0.5, 0.9, 0.95)
# day-to-day sd of the random-walk penalty on the logits of the delay pmf
DELAY_RW_SD = 1.0


@dataclass(frozen=True)
class _Cells:
    y: np.ndarray  # observed counts
    row: np.ndarray  # index of the onset day
    col: np.ndarray  # delay index, or -1 when the delay is given (offset holds it)
    offset: np.ndarray  # log of a known factor of the mean
    n_rows: int
    n_cols: int  # number of estimated delay probabilities (0: delay given)


def _objective(theta: np.ndarray, cells: _Cells, rw_sd: float) -> tuple[float, np.ndarray]:
    """Negative penalised log-likelihood and its gradient."""
    n, k = cells.n_rows, cells.n_cols
    a = theta[:n]
    log_phi = theta[-1]
    phi = math.exp(log_phi)
    log_mu = a[cells.row] + cells.offset
    if k:
        b = np.concatenate([[0.0], theta[n : n + k - 1]])
        log_p = b - special.logsumexp(b)
        log_mu = log_mu + log_p[cells.col]
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
    if k:
        by_col = np.bincount(cells.col, weights=g, minlength=k)
        grad_b = by_col - np.exp(log_p) * g.sum()
        grad[n : n + k - 1] = grad_b[1:]
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
    if k > 1:
        # a smooth delay pmf: without it a delay never seen runs to log p = -inf
        # and its Laplace variance explodes
        c = np.concatenate([[0.0], theta[n : n + k - 1]])
        dc = np.diff(c) / (DELAY_RW_SD * DELAY_RW_SD)
        pen += 0.5 * np.sum(np.diff(c) ** 2) / (DELAY_RW_SD * DELAY_RW_SD)
        gb = dc.copy()
        gb[:-1] -= dc[1:]
        grad[n : n + k - 1] -= gb
    return -(float(ll.sum()) - pen), -grad


def _hessian(theta: np.ndarray, cells: _Cells, rw_sd: float) -> np.ndarray:
    """Analytic Hessian of the negative penalised log-likelihood.

    Built from the cell curvatures summed by onset day and delay, so its cost is
    that of the triangle, not of a cells × parameters design matrix.
    """
    n, k = cells.n_rows, cells.n_cols
    m = len(theta)
    log_phi = theta[-1]
    phi = math.exp(log_phi)
    log_mu = theta[:n][cells.row] + cells.offset
    if k:
        b = np.concatenate([[0.0], theta[n : n + k - 1]])
        log_p = b - special.logsumexp(b)
        log_mu = log_mu + log_p[cells.col]
        p = np.exp(log_p)
    mu = np.exp(log_mu)
    y = cells.y
    den = (phi + mu) ** 2
    h_mu = phi * mu * (y + phi) / den  # minus d2 ll / d log mu2
    g = phi * (y - mu) / (phi + mu)
    h_cross = -phi * mu * (y - mu) / den  # minus d2 ll / d log mu d log phi
    g_phi = phi * (
        special.digamma(y + phi)
        - special.digamma(phi)
        + log_phi
        - np.log(phi + mu)
        + 1.0
        - (y + phi) / (phi + mu)
    )
    h_phi = g_phi + phi * phi * (
        special.polygamma(1, y + phi)
        - special.polygamma(1, phi)
        + 1.0 / phi
        - 2.0 / (phi + mu)
        + (y + phi) / den
    )
    hess = np.zeros((m, m))
    rows_h = np.bincount(cells.row, weights=h_mu, minlength=n)
    rows_c = np.bincount(cells.row, weights=h_cross, minlength=n)
    idx = np.arange(n)
    hess[idx, idx] = rows_h
    hess[idx, -1] = hess[-1, idx] = rows_c
    hess[-1, -1] = -h_phi.sum()
    if k:
        flat = cells.row * k + cells.col
        grid_h = np.bincount(flat, weights=h_mu, minlength=n * k).reshape(n, k)
        col_h = grid_h.sum(axis=0)
        col_c = np.bincount(cells.col, weights=h_cross, minlength=k)
        tot_h, tot_c = col_h.sum(), col_c.sum()
        hab = grid_h - np.outer(rows_h, p)
        hbb = np.diag(col_h) - np.outer(col_h, p) - np.outer(p, col_h) + tot_h * np.outer(p, p)
        # curvature of log p (softmax) itself, weighted by the score of each cell
        hbb += g.sum() * (np.diag(p) - np.outer(p, p))
        sl = slice(n, n + k - 1)
        hess[:n, sl] = hab[:, 1:]
        hess[sl, :n] = hab[:, 1:].T
        hess[sl, sl] = hbb[1:, 1:]
        hess[sl, -1] = hess[-1, sl] = (col_c - p * tot_c)[1:]
    prec = 1.0 / (rw_sd * rw_sd)
    diag = np.full(n, 2 * prec)
    diag[0] = diag[-1] = prec
    hess[idx, idx] += diag
    hess[idx[1:], idx[:-1]] -= prec
    hess[idx[:-1], idx[1:]] -= prec
    if k > 1:
        prec_b = 1.0 / (DELAY_RW_SD * DELAY_RW_SD)
        jdx = np.arange(n, n + k - 1)
        diag_b = np.full(k - 1, 2 * prec_b)
        diag_b[-1] = prec_b
        hess[jdx, jdx] += diag_b
        hess[jdx[1:], jdx[:-1]] -= prec_b
        hess[jdx[:-1], jdx[1:]] -= prec_b
    return hess


@dataclass(frozen=True)
class _Mode:
    theta: np.ndarray
    cov: np.ndarray
    converged: bool
    neg_log_post: float
    logdet: float  # log det of the Hessian of the free parameters
    chol_banded: np.ndarray | None = None  # upper banded Cholesky factor (random-walk fits)


def _fit_cells(cells: _Cells, theta0: np.ndarray, rw_sd: float) -> _Mode:
    """Penalised ML of the triangle model by damped Newton: mode, Laplace covariance."""
    n, k = cells.n_rows, cells.n_cols
    lo = np.array([-15.0] * n + [-20.0] * max(k - 1, 0) + [-4.0])
    hi = np.array([25.0] * n + [20.0] * max(k - 1, 0) + [12.0])
    theta = np.clip(theta0, lo, hi)
    val, grad = _objective(theta, cells, rw_sd)
    converged = False
    tol = 1e-6 * math.sqrt(cells.y.sum() + 1.0)
    for _ in range(200):
        hess = _hessian(theta, cells, rw_sd)
        # Levenberg damping keeps the step a descent direction away from the mode
        ridge = 0.0
        while True:
            try:
                step = np.linalg.solve(hess + ridge * np.eye(len(theta)), grad)
                if np.dot(step, grad) > 0:
                    break
            except np.linalg.LinAlgError:
                pass
            ridge = max(1e-6, ridge * 10)
        t = 1.0
        while t > 1e-8:
            cand = np.clip(theta - t * step, lo, hi)
            new_val, new_grad = _objective(cand, cells, rw_sd)
            if new_val <= val + 1e-4 * t * np.dot(grad, cand - theta) or new_val <= val:
                break
            t *= 0.5
        free = (cand > lo + 1e-9) & (cand < hi - 1e-9)
        done = abs(val - new_val) < 1e-10 * max(1.0, abs(val)) or np.all(
            np.abs(new_grad[free]) < tol
        )
        theta, val, grad = cand, new_val, new_grad
        if done:
            converged = True
            break
    hess = _hessian(theta, cells, rw_sd)
    m = len(theta)
    # a dispersion at its bound (Poisson-like data) has a flat likelihood: hold it fixed
    if theta[-1] >= hi[-1] - 1e-6 or theta[-1] <= lo[-1] + 1e-6:
        hess[-1, :] = 0.0
        hess[:, -1] = 0.0
        hess[-1, -1] = 1e8
    hess = 0.5 * (hess + hess.T)
    # Cholesky tests positive definiteness; a ridge is added only if the mode is not a
    # proper maximum (eigvalsh is far slower when the machine is busy)
    ridge = 0.0
    while True:
        try:
            chol = np.linalg.cholesky(hess + ridge * np.eye(m))
            break
        except np.linalg.LinAlgError:
            ridge = max(1e-6, ridge * 10)
    inv_chol = linalg.solve_triangular(chol, np.eye(m), lower=True)
    cov = inv_chol.T @ inv_chol
    logdet = float(2 * np.log(np.diag(chol)).sum())
    return _Mode(theta, 0.5 * (cov + cov.T), converged, val, logdet)


def _rnbinom(rng: np.random.Generator, mu: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """NB draws with mean ``mu`` and size ``phi`` as a gamma-Poisson mixture.

    numpy's ``negative_binomial`` refuses the large sizes of nearly Poisson data.
    """
    mu = np.minimum(mu, 1e12)
    # sparse data can drive the size to 0 (gamma scale inf, draws NaN): keep it positive
    phi = np.broadcast_to(np.maximum(phi, 1e-6), mu.shape)
    return rng.poisson(np.minimum(rng.gamma(phi, mu / phi), 1e15))


def _summary(dates: np.ndarray, observed: np.ndarray, draws: np.ndarray) -> pl.DataFrame:
    cols: dict[str, Any] = {
        "date": dates.astype("datetime64[D]"),
        "observed": observed.astype(np.int64),
        "mean": draws.mean(axis=0),
        "median": np.median(draws, axis=0),
    }
    for level in LEVELS:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        pct = round(level * 100)
        cols[f"lower_{pct}"] = lo
        cols[f"upper_{pct}"] = hi
    return pl.DataFrame(cols)


class _NowcastBase:
    """Shared attributes and summaries."""

    def _finish(self, dates: np.ndarray, observed: np.ndarray, draws: np.ndarray) -> None:
        self.dates_ = dates
        self.observed_ = observed
        self.draws_ = draws
        self.median_ = np.median(draws, axis=0)
        self.mean_ = draws.mean(axis=0)
        self.table_ = _summary(dates, observed, draws)

    def interval(self, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Equal-tailed prediction interval of the final counts at ``level``."""
        check_fitted(self, "draws_")
        check_real_param(level, "level", type(self).__name__, 0.0, 1.0, closed="neither")
        lo, hi = np.quantile(self.draws_, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return lo, hi

    def peak(self) -> dict[str, Any]:
        """Date of the highest median and the 90% interval of the peak size (over draws)."""
        check_fitted(self, "draws_")
        i = int(np.argmax(self.median_))
        peak_sizes = self.draws_.max(axis=1)
        peak_days = np.argmax(self.draws_, axis=1)
        return {
            "date": self.dates_[i],
            "median": float(self.median_[i]),
            "size_lower_90": float(np.quantile(peak_sizes, 0.05)),
            "size_upper_90": float(np.quantile(peak_sizes, 0.95)),
            "date_lower_90": self.dates_[int(np.quantile(peak_days, 0.05))],
            "date_upper_90": self.dates_[int(np.quantile(peak_days, 0.95))],
        }


def _as_of_day(as_of: Any, default: int) -> int:
    if as_of is None:
        return default
    if isinstance(as_of, (int, np.integer)):
        return int(as_of)
    return int(to_days(np.array([as_of], dtype="datetime64[D]"))[0][0])


class Nowcaster(_NowcastBase):
    """Nowcast recent onset counts from the reporting triangle (NB chain ladder).

    Parameters
    ----------
    max_delay : int, default 21
        Longest onset → report delay modelled (days).
    window : int or None
        Onset days modelled, ending at ``as_of`` (default ``3 * (max_delay + 1)``).
    rw_sd : float, default 1.0
        Day-to-day sd of the random-walk penalty on log expected counts.
    n_draws : int, default 1000
    random_state : int or None
    warm_start : bool, default False
        Start the optimiser of the next ``fit`` from this fit's mode (``theta_``),
        as scikit-learn's ``warm_start``: refits on slightly different data (e.g.
        one per imputation of missing onsets) then take a few Newton steps, not ten.

    Attributes
    ----------
    dates_ : datetime64[D] array (window,)
    observed_ : ndarray (window,)  cases reported by ``as_of``
    draws_ : ndarray (n_draws, window)  final counts (observed + still to come)
    mean_, median_ : ndarray (window,)
    table_ : polars.DataFrame  date, observed, mean, median, lower/upper_50/90/95
    delay_pmf_ : ndarray (max_delay + 1,)  estimated delay pmf
    dispersion_ : float  NB size φ
    n_beyond_max_delay_ : int
    converged_ : bool
    theta_ : ndarray  the mode: log expected counts, delay logits, log dispersion

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> onset = np.repeat(np.arange(60), rng.poisson(50, 60))
    >>> report = onset + rng.geometric(0.3, len(onset)) - 1
    >>> nc = Nowcaster(max_delay=15, n_draws=200, random_state=1).fit(onset, report, as_of=59)
    >>> nc.draws_.shape
    (200, 48)
    >>> bool(nc.median_[-1] > nc.observed_[-1])
    True
    """

    def __init__(
        self,
        max_delay: int = 21,
        *,
        window: int | None = None,
        rw_sd: float = 1.0,
        n_draws: int = 1000,
        random_state: int | None = None,
        warm_start: bool = False,
    ) -> None:
        self.max_delay = max_delay
        self.window = window
        self.rw_sd = rw_sd
        self.n_draws = n_draws
        self.random_state = random_state
        self.warm_start = warm_start

    def get_params(self) -> dict[str, Any]:
        names = ("max_delay", "window", "rw_sd", "n_draws", "random_state", "warm_start")
        return {k: getattr(self, k) for k in names}

    def fit(self, onset_dates: Any, report_dates: Any, as_of: Any = None) -> Nowcaster:
        """Fit on the cases reported by ``as_of`` (default: latest report date).

        Cases without an onset date are not used: impute them first
        (:func:`kumin.epi.impute.impute_onsets`).
        """
        owner = "Nowcaster"
        D = check_int_param(self.max_delay, "max_delay", owner, 1, 120)
        W = (
            3 * (D + 1)
            if self.window is None
            else check_int_param(self.window, "window", owner, D + 2, 2000)
        )
        rw_sd = check_real_param(self.rw_sd, "rw_sd", owner, 0.0, None, closed="neither")
        n_draws = check_int_param(self.n_draws, "n_draws", owner, 1, 1_000_000)
        onset, o_miss = to_days(onset_dates)
        report, r_miss = to_days(report_dates)
        if onset.shape != report.shape:
            raise DataError(
                "epi.data.shape_mismatch",
                name="report_dates",
                got=report.shape,
                expected=onset.shape,
            )
        ok = ~(o_miss | r_miss)
        onset, report = onset[ok], report[ok]
        if len(onset) == 0:
            raise DataError("epi.nowcast.no_cases")
        end = _as_of_day(as_of, int(report.max()))
        seen = report <= end
        onset, report = onset[seen], report[seen]
        delay = report - onset
        if np.any(delay < 0):
            raise DataError("epi.nowcast.report_before_onset", count=int((delay < 0).sum()))
        start = end - W + 1
        in_window = (onset >= start) & (onset <= end)
        self.n_beyond_max_delay_ = int(np.sum(in_window & (delay > D)))
        use = in_window & (delay <= D)
        tri = np.zeros((W, D + 1))
        np.add.at(tri, (onset[use] - start, delay[use]), 1.0)

        rows, cols = np.meshgrid(np.arange(W), np.arange(D + 1), indexing="ij")
        observed_cell = rows + cols <= W - 1
        cells = _Cells(
            y=tri[observed_cell],
            row=rows[observed_cell],
            col=cols[observed_cell],
            offset=np.zeros(observed_cell.sum()),
            n_rows=W,
            n_cols=D + 1,
        )
        # start from chain-ladder-like totals: complete rows as they are
        col_tot = tri[: W - D].sum(axis=0) + 0.5
        p0 = col_tot / col_tot.sum()
        cdf0 = np.cumsum(p0)
        row_obs = tri.sum(axis=1, where=observed_cell)
        frac = cdf0[np.minimum(W - 1 - np.arange(W), D)]
        a0 = np.log((row_obs + 0.5) / frac)
        b0 = np.log(p0[1:]) - np.log(p0[0])
        theta0 = np.concatenate([a0, b0, [math.log(20.0)]])
        previous = getattr(self, "theta_", None) if self.warm_start else None
        if previous is not None and previous.shape == theta0.shape:
            theta0 = previous
        mode = _fit_cells(cells, theta0, rw_sd)
        theta, cov, converged = mode.theta, mode.cov, mode.converged
        if not converged:
            warnings.warn(
                "Nowcaster: the optimiser did not converge", ConvergenceWarning, stacklevel=2
            )

        rng = np.random.default_rng(self.random_state)
        thetas = rng.multivariate_normal(theta, cov, size=n_draws, method="cholesky")
        a = thetas[:, :W]
        b = np.concatenate([np.zeros((n_draws, 1)), thetas[:, W : W + D]], axis=1)
        log_p = b - special.logsumexp(b, axis=1, keepdims=True)
        phi = np.exp(np.minimum(thetas[:, -1], 12.0))
        mu = np.exp(a[:, :, None] + log_p[:, None, :])  # draws × W × (D+1)
        unobs = ~observed_cell
        mu_u = mu[:, unobs]
        future = _rnbinom(rng, mu_u, phi[:, None])
        pred = np.zeros((n_draws, W))
        for d in range(1, D + 1):
            # unobserved cells of delay d belong to the last d onset days
            pred[:, W - d :] += future[:, cols[unobs] == d]
        observed = row_obs
        draws = observed[None, :] + pred

        b_hat = np.concatenate([[0.0], theta[W : W + D]])
        self.delay_pmf_ = np.exp(b_hat - special.logsumexp(b_hat))
        self.dispersion_ = float(math.exp(theta[-1]))
        self.expected_ = np.exp(theta[:W])
        self.converged_ = converged
        self.theta_ = theta
        self.as_of_ = from_days(end)
        self._finish(from_days(np.arange(start, end + 1)), observed, draws)
        return self


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
    delay_weights : {"evidence", "equal"}, default "evidence"
        How draws are shared among several candidate delays: by their Laplace
        marginal likelihood (Bayesian model averaging; a delay that leaves a
        jagged end of the curve is unlikely under the random walk) or equally.
        The evidence rests on the smoothness of the curve: a single snapshot says
        little about the delay otherwise, and with thousands of cases a day it can
        concentrate on one candidate; ``"equal"`` keeps every candidate's spread.
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
        delay_weights: str = "evidence",
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
        check_choice_param(self.delay_weights, "delay_weights", owner, ("evidence", "equal"))
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
        modes, fractions, evidence = [], [], []
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
        if self.delay_weights == "evidence":
            ev = np.array(evidence)
            weights = np.exp(ev - ev.max())
            weights /= weights.sum()
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


def triangle(
    onset_dates: Any, report_dates: Any, max_delay: int, as_of: Any = None
) -> pl.DataFrame:
    """The reporting triangle: onset date × delay 0..max_delay (null = not yet observable)."""
    onset, o_miss = to_days(onset_dates)
    report, r_miss = to_days(report_dates)
    ok = ~(o_miss | r_miss)
    onset, report = onset[ok], report[ok]
    end = _as_of_day(as_of, int(report.max()))
    keep = (report <= end) & (report - onset <= max_delay)
    start = int(onset[keep].min())
    n = end - start + 1
    tri = np.zeros((n, max_delay + 1))
    np.add.at(tri, (onset[keep] - start, report[keep] - onset[keep]), 1.0)
    lag = end - np.arange(start, end + 1)
    data: dict[str, Any] = {"onset_date": from_days(np.arange(start, end + 1))}
    for d in range(max_delay + 1):
        data[f"d{d}"] = [int(v) if d <= lag[i] else None for i, v in enumerate(tri[:, d])]
    return pl.DataFrame(data)


__all__ = ["LEVELS", "DelayNowcaster", "Nowcaster", "estimate_smoothing", "triangle"]
