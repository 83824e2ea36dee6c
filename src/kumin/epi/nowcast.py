"""Nowcasting: correct the right-truncated recent days of an epidemic curve.

:class:`Nowcaster` works from the **reporting triangle**: cases by reference day
``t`` (onset, or the date of a positive test) and delay ``d`` (days to report),
known only where ``t + d <= as_of``. Each cell is negative binomial,

    n[t, d] ~ NB(mean = λ_t · p[t, d], size = φ),
    p[t, ·] = softmax_d(β_d + γ[weekday of t + d] + κ[week of t] · d / D)

— a chain ladder with NB overdispersion whose delay pmf ``p[t, ·]`` carries a
day-of-week effect of the *report* day (``γ``: what is not reported on a Sunday
comes on Monday) and changes with the reference week (``κ``, a random walk across
weeks, tilts the pmf towards shorter or longer delays as testing speeds up or
slows down). Every row's pmf sums to one, so ``λ_t`` stays the expected final
count. Priors (penalties): a random walk on ``log λ_t`` (sd ``rw_sd``) and on the
delay logits ``β`` (sd 1, so that a delay never yet seen keeps some probability),
a random walk of sd ``delay_sd`` on ``κ`` and N(0, 1) on ``γ``. The mode is found
by Fisher scoring with the analytic gradient; the Laplace
approximation (Fisher information at the mode) gives parameter draws, and for
each draw the cells still to come are drawn from the NB. What was reported is data
and stays as it is; the still-to-come counts of a day are conditioned on its
reported cells through the posterior of ``λ_t``. Report days still to come get
effects of their own (drawn with the spread of the past ones, shared by every
reference day they report on), and the still-to-come counts of each lag are
scaled by a mean-one gamma factor whose size is measured on the complete days:
how far what came after that lag strayed from what the average delay predicted
(:func:`_remainder_spread`). Both make weekly sums honestly uncertain.

**Degrading gracefully.** A reference day whose expected reported fraction
``F_t = Σ_{d <= as_of - t} p[t, d]`` is below ``min_fraction``, or whose estimate
jumps more than 3 sd from the recent trend while less than half of it is reported
(an anomalous last day: a cut-off at midnight, a batch upload), does not carry
the information to be scaled up: a ratio of tiny numbers would blow up. Such a day
is flagged (``table_["reliable"]`` false) and its final count is drawn from the
recent trend instead — log-linear over the last 14 days at least half reported,
damped, its sd widened by 0.05 per day beyond them — given that it is at least
what is already reported.

**Late reports.** Cases reported more than ``max_delay`` days after their
reference day are outside the triangle. With ``late="model"`` the ratio of late to
timely reports is estimated on the rows old enough to show them (gamma posterior,
last 8 weeks of such rows) and late cases are drawn for the days that have not had
them yet; with ``late="ignore"`` (the default for line lists) they are left out
and counted in ``n_beyond_max_delay_``.

**Corrections** (:meth:`Nowcaster.fit_triangle`): a negative count corrects
earlier reports of the same reference day. The cumulative count of each day is
made monotone from the latest report backwards (``C'_d = min_{k >= d} C_k``): what
is known today is kept and the correction is taken out of the reports it corrects.

:class:`DelayNowcaster` (:mod:`kumin.epi.nowcast_delay`) nowcasts series without
report dates from a given delay.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import linalg, special, stats

from kumin.epi._checks import check_choice_param, check_int_param, check_real_param
from kumin.epi._nowcast_base import (
    LEVELS,
    _as_of_day,
    _NowcastBase,
    _rnbinom,
    single_threaded_blas,
)
from kumin.epi.delays import ConvergenceWarning, from_days, to_days
from kumin.epi.nowcast_delay import DelayNowcaster, estimate_smoothing
from kumin.errors import DataError

# prior sds: day-to-day change of the delay logits, and the report-weekday effects
DELAY_RW_SD = 1.0
WEEKDAY_SD = 1.0
# sd of the effect of one report day (a holiday, a batch upload, a missing upload)
REPORT_DAY_SD = 0.25
# the fallback trend for days with too little information
TREND_DAYS = 14
TREND_DAMPING = 0.9  # a growth rate is carried forward with a daily factor of 0.9
TREND_WIDEN = 0.05  # extra sd of log counts per day beyond the trend's last day
ANOMALY_Z = 3.0
SOLID_FRACTION = 0.5  # days at least this much reported anchor the trend
LATE_WEEKS = 8
# Fisher scoring: most iterations allowed, and the longest step in log φ
MAX_ITER = 100
PHI_STEP = 2.0


@dataclass(frozen=True)
class _Grid:
    """The window of the triangle as a W × (D+1) grid and the model's design."""

    y: np.ndarray  # counts, 0 where not yet observable
    obs: np.ndarray  # observable cells (t + d <= as_of)
    dow: np.ndarray  # weekday of each cell's report day (Monday = 0)
    week: np.ndarray  # reference week of each row (0 = oldest)
    n_weeks: int
    z: np.ndarray  # d / D: the shape of the weekly tilt
    rep: np.ndarray  # index of each cell's report day in the window
    rw_sd: float
    delay_sd: float

    @property
    def W(self) -> int:
        return self.y.shape[0]

    @property
    def D(self) -> int:
        return self.y.shape[1] - 1


def _split(theta: np.ndarray, g: _Grid) -> tuple[np.ndarray, ...]:
    """log λ, β (β_0 = 0), γ, κ, ρ and log φ; ``theta`` may be one vector or draws × params."""
    W, D, K = g.W, g.D, g.n_weeks
    a = theta[..., :W]
    beta = np.concatenate([np.zeros(theta.shape[:-1] + (1,)), theta[..., W : W + D]], axis=-1)
    gam = theta[..., W + D : W + D + 7]
    kap = theta[..., W + D + 7 : W + D + 7 + K]
    rho = theta[..., W + D + 7 + K : 2 * W + D + 7 + K]
    return a, beta, gam, kap, rho, theta[..., -1]


def _log_pmf(beta: np.ndarray, gam: np.ndarray, kap: np.ndarray, g: _Grid) -> np.ndarray:
    """log p[t, d] (W × (D+1), with leading draw axes if the parameters have them)."""
    eta = beta[..., None, :] + gam[..., g.dow] + kap[..., g.week][..., :, None] * g.z
    top = eta.max(axis=-1, keepdims=True)
    return eta - top - np.log(np.exp(eta - top).sum(axis=-1, keepdims=True))


def _rw_penalty(x: np.ndarray, sd: float) -> tuple[float, np.ndarray]:
    diff = np.diff(x) / (sd * sd)
    grad = np.zeros_like(x)
    grad[1:] += diff
    grad[:-1] -= diff
    return 0.5 * float(np.sum(np.diff(x) ** 2)) / (sd * sd), grad


def _objective(theta: np.ndarray, g: _Grid) -> tuple[float, np.ndarray]:
    """Negative penalised log-likelihood of the triangle and its gradient."""
    W, D = g.W, g.D
    a, beta, gam, kap, rho, log_phi = _split(theta, g)
    K = g.n_weeks
    phi = math.exp(log_phi)
    log_p = _log_pmf(beta, gam, kap, g)
    log_mu = (a[:, None] + log_p)[g.obs] + rho[g.rep[g.obs]]
    y = g.y[g.obs]
    mu = np.exp(log_mu)
    lse = np.logaddexp(log_phi, log_mu)
    ll = (
        special.gammaln(y + phi) - special.gammaln(phi) + phi * (log_phi - lse) + y * (log_mu - lse)
    )
    cell = np.zeros(g.y.shape)
    cell[g.obs] = phi * (y - mu) / (phi + mu)  # d ll / d log mu
    by_row = cell.sum(axis=1)
    # log mu = a + eta - logsumexp(eta): the softmax spreads each row's score over all delays
    d_eta = cell - np.exp(log_p) * by_row[:, None]
    grad = np.empty_like(theta)
    grad[:W] = by_row
    grad[W : W + D] = d_eta.sum(axis=0)[1:]
    grad[W + D : W + D + 7] = np.bincount(g.dow.ravel(), d_eta.ravel(), minlength=7)
    grad[W + D + 7 : W + D + 7 + K] = np.bincount(g.week, (d_eta * g.z).sum(axis=1), minlength=K)
    grad[W + D + 7 + K : -1] = np.bincount(g.rep.ravel(), cell.ravel(), minlength=W)
    grad[-1] = np.sum(
        phi
        * (
            special.digamma(y + phi)
            - special.digamma(phi)
            + log_phi
            - lse
            + 1.0
            - (y + phi) / (phi + mu)
        )
    )
    pen_a, g_a = _rw_penalty(a, g.rw_sd)
    pen_b, g_b = _rw_penalty(beta, DELAY_RW_SD)
    pen_k, g_k = _rw_penalty(kap, g.delay_sd)
    pen = pen_a + pen_b + pen_k + 0.5 * float(gam @ gam) / WEEKDAY_SD**2 + 0.5 * kap[0] ** 2
    pen += 0.5 * float(rho @ rho) / REPORT_DAY_SD**2
    grad[:W] -= g_a
    grad[W : W + D] -= g_b[1:]
    grad[W + D : W + D + 7] -= gam / WEEKDAY_SD**2
    g_k[0] += kap[0]
    grad[W + D + 7 : W + D + 7 + K] -= g_k
    grad[W + D + 7 + K : -1] -= rho / REPORT_DAY_SD**2
    return -(float(ll.sum()) - pen), -grad


def _bounds(g: _Grid) -> tuple[np.ndarray, np.ndarray]:
    W, D, K = g.W, g.D, g.n_weeks
    lo = np.array([-10.0] * W + [-20.0] * D + [-5.0] * 7 + [-10.0] * K + [-5.0] * W + [-4.0])
    hi = np.array([25.0] * W + [20.0] * D + [5.0] * 7 + [10.0] * K + [5.0] * W + [12.0])
    return lo, hi


def _rw_matrix(n: int, sd: float) -> np.ndarray:
    diff = np.diff(np.eye(n), axis=0)
    return diff.T @ diff / (sd * sd)


def _prior_precision(g: _Grid) -> np.ndarray:
    """The (constant) Hessian of the penalties."""
    W, D, K = g.W, g.D, g.n_weeks
    m = 2 * W + D + 7 + K + 1
    prec = np.zeros((m, m))
    prec[:W, :W] = _rw_matrix(W, g.rw_sd)
    prec[W : W + D, W : W + D] = _rw_matrix(D + 1, DELAY_RW_SD)[1:, 1:]  # β_0 = 0 is fixed
    sl = slice(W + D, W + D + 7)
    prec[sl, sl] = np.eye(7) / WEEKDAY_SD**2
    sl = slice(W + D + 7, W + D + 7 + K)
    prec[sl, sl] = _rw_matrix(K, g.delay_sd)
    prec[W + D + 7, W + D + 7] += 1.0
    sl = slice(W + D + 7 + K, 2 * W + D + 7 + K)
    prec[sl, sl] = np.eye(W) / REPORT_DAY_SD**2
    return prec


def _information(theta: np.ndarray, g: _Grid, prec: np.ndarray) -> tuple[np.ndarray, float]:
    """Fisher information of the log-posterior: Jᵀ diag(w) J + prior precision, and the
    curvature of the objective in ``log φ`` as it is (it can be small or negative).

    ``J`` is the Jacobian of the observed cells' log means; ``w = φμ/(φ+μ)`` the
    expected NB information per unit of log mean. The dispersion's own curvature
    comes from differences of the analytic gradient (its expected cross terms with
    the means are zero, so its row and column are zero but for the diagonal).
    """
    W, D, K = g.W, g.D, g.n_weeks
    a, beta, gam, kap, rho, log_phi = _split(theta, g)
    phi = math.exp(log_phi)
    p = np.exp(_log_pmf(beta, gam, kap, g))
    rows, cols = np.nonzero(g.obs)
    mu = np.exp(a[rows] + np.log(p[rows, cols]) + rho[g.rep[rows, cols]])
    wgt = phi * mu / (phi + mu)
    n_eta = D + 7 + K
    # design of η over the whole grid: β (d >= 1), γ (report weekday), κ (week × d/D)
    x = np.zeros((W, D + 1, n_eta))
    for d in range(1, D + 1):
        x[:, d, d - 1] = 1.0
    x[np.arange(W)[:, None], np.arange(D + 1)[None, :], D + g.dow] = 1.0
    x[np.arange(W)[:, None], np.arange(D + 1)[None, :], D + 7 + g.week[:, None]] = g.z[None, :]
    centred = x - np.einsum("td,tdp->tp", p, x)[:, None, :]
    jac = np.zeros((len(rows), len(theta)))
    jac[np.arange(len(rows)), rows] = 1.0
    jac[:, W : W + n_eta] = centred[rows, cols]
    jac[np.arange(len(rows)), W + n_eta + g.rep[rows, cols]] = 1.0
    info = (jac * wgt[:, None]).T @ jac + prec
    h = 1e-4
    up, down = theta.copy(), theta.copy()
    up[-1] += h
    down[-1] -= h
    col = (_objective(up, g)[1] - _objective(down, g)[1]) / (2 * h)
    info[-1, :] = info[:, -1] = 0.0
    # away from the mode the curvature in φ can be negative: a floor keeps steps sane
    info[-1, -1] = max(col[-1], 1.0)
    return info, float(col[-1])


def _covariance(hess: np.ndarray) -> np.ndarray:
    m = len(hess)
    ridge = 0.0
    while True:  # a ridge only where the mode is not a proper maximum
        try:
            chol = np.linalg.cholesky(hess + ridge * np.eye(m))
            break
        except np.linalg.LinAlgError:
            ridge = max(1e-6, ridge * 10)
    inv = linalg.solve_triangular(chol, np.eye(m), lower=True)
    cov = inv.T @ inv
    return 0.5 * (cov + cov.T)


def _phi_step(grad: float, curv: float) -> float:
    """Newton step in ``log φ`` on its own curvature, at most :data:`PHI_STEP` long.

    On nearly Poisson data the likelihood flattens as ``φ`` grows (gradient and
    curvature both shrink like ``1/φ``): a Newton step is then about one unit of
    ``log φ`` whatever ``φ`` is, where a step on a curvature floored at 1 shrank
    with the gradient and the optimiser crawled towards the bound for all of its
    iterations, whatever the ward's size. Where the curvature is negative (far
    from the mode) the step goes downhill by ``PHI_STEP`` and the line search
    shortens it.
    """
    scale = max(curv, abs(grad) / PHI_STEP)
    return grad / scale if scale > 0 else 0.0


def _fit_mode(g: _Grid, theta0: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Mode of the penalised likelihood by Fisher scoring; the Laplace covariance."""
    lo, hi = _bounds(g)
    prec = _prior_precision(g)
    theta = np.clip(theta0, lo, hi)
    val, grad = _objective(theta, g)
    tol = 1e-4 * math.sqrt(g.y.sum() + 1.0)
    for _ in range(MAX_ITER):
        info, curv = _information(theta, g, prec)
        try:
            step = linalg.solve(info, grad, assume_a="pos")
        except (np.linalg.LinAlgError, ValueError):
            step = np.linalg.lstsq(info + 1e-6 * np.eye(len(theta)), grad, rcond=None)[0]
        step[-1] = _phi_step(grad[-1], curv)
        t = 1.0
        while t > 1e-6:
            cand = np.clip(theta - t * step, lo, hi)
            new_val, new_grad = _objective(cand, g)
            if new_val <= val:
                break
            t *= 0.5
        free = (cand > lo + 1e-6) & (cand < hi - 1e-6)
        # a change of 1e-7 in the log-posterior moves no quantile of the nowcast
        done = val - new_val < 1e-7 * max(1.0, abs(val)) or np.all(np.abs(new_grad[free]) < tol)
        if new_val <= val:
            theta, val, grad = cand, new_val, new_grad
        if done or t <= 1e-6:
            break
    free = (theta > lo + 1e-6) & (theta < hi - 1e-6)
    converged = bool(np.all(np.abs(grad[free]) < 100 * tol))
    info, _ = _information(theta, g, prec)
    # a dispersion at its bound (Poisson-like data) has a flat likelihood: hold it fixed
    if theta[-1] >= hi[-1] - 1e-6 or theta[-1] <= lo[-1] + 1e-6:
        info[-1, -1] = 1e8
    return theta, _covariance(info), converged


def _trend(
    x: np.ndarray, anchors: np.ndarray, weekday: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Log-linear trend of ``x`` over the last anchor rows, damped beyond them, with a
    day-of-week effect of the reference days when there are four weeks of anchors:
    mean and sd of each row's log count."""
    W = len(x)
    idx = np.flatnonzero(anchors)[-2 * TREND_DAYS :]
    if len(idx) < 5:
        return None
    use_week = len(idx) >= 3 * 7 and len(np.unique(weekday[idx])) == 7
    if not use_week:
        idx = idx[-TREND_DAYS:]
    last = idx[-1]
    rows = np.arange(W)
    h = np.maximum(rows - last, 0)
    # a damped trend: day h beyond the last anchor moves by slope · (ρ + ρ² + … + ρ^h)
    carried = TREND_DAMPING * (1 - TREND_DAMPING**h) / (1 - TREND_DAMPING)
    pos = np.where(rows > last, last + carried, rows).astype(float)

    def design(t: np.ndarray, wd: np.ndarray) -> np.ndarray:
        cols = [np.ones_like(t), t - last]
        if use_week:
            cols += [(wd == k).astype(float) for k in range(1, 7)]
        return np.column_stack(cols)

    X = design(idx.astype(float), weekday[idx])
    coef, *_ = np.linalg.lstsq(X, x[idx], rcond=None)
    resid = x[idx] - X @ coef
    dof = max(len(idx) - X.shape[1], 1)
    sigma = max(float(np.sqrt(np.sum(resid**2) / dof)), 0.05)
    xtx_inv = np.linalg.pinv(X.T @ X)
    Xp = design(pos, weekday)
    mean = Xp @ coef
    lever = np.einsum("ij,jk,ik->i", Xp, xtx_inv, Xp)
    sd = np.sqrt(sigma**2 * (1 + lever) + (TREND_WIDEN * h) ** 2)
    return mean, sd


def _remainder_spread(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Extra spread of what is still to come after each delay, seen on complete days.

    For the days complete within ``max_delay``, the cases reported after delay ``h``
    (summed over 7 consecutive days) are compared with what the window's average
    delay pmf predicts from the cases reported by ``h``, as a nowcast at lag ``h``
    would have; the variance beyond Poisson gives a gamma size ``ψ_h`` (moments;
    inf when there is none). Real reporting varies more than the model (batches,
    backlogs cleared, delays that change with the calendar): without this the
    intervals of weekly sums are far too narrow.
    """
    W, D1 = y.shape
    complete = W - D1 + 1  # rows 0..complete-1 have every delay observed
    size = np.full(D1 - 1, np.inf)
    if complete < 14:
        return size
    cdf = np.cumsum(p.mean(axis=0))
    got = np.cumsum(y[:complete], axis=1)
    kernel = np.ones(7)
    for h in range(D1 - 1):
        r = np.convolve(got[:, -1] - got[:, h], kernel, "valid")
        e = np.convolve(got[:, h] * (1 - cdf[h]) / max(cdf[h], 1e-3), kernel, "valid")
        excess = float(np.sum((r - e) ** 2 - e))
        if excess > 0 and e.sum() > 0:
            size[h] = max(float(np.sum(e**2)) / excess, 0.5)
    return size


def _widen(pred: np.ndarray, size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scale each draw's still-to-come counts by a mean-one gamma factor of size ``ψ_h``.

    One uniform per draw, shared by all days (comonotone): the factor moves the
    days of a week together, as the weekly sums it was measured on did.
    """
    n, W = pred.shape
    D = len(size)
    u = rng.uniform(0.005, 0.995, (n, 1))
    out = pred.copy()
    for h in range(min(D, W)):
        if np.isfinite(size[h]):
            col = W - 1 - h  # the day with lag h
            out[:, col] = pred[:, col] * stats.gamma.ppf(u[:, 0], size[h]) / size[h]
    return np.round(out)


def _at_least(rng: np.random.Generator, lam: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Poisson(λ) draws conditioned on being at least ``floor`` (inverse CDF)."""
    below = stats.poisson.cdf(floor - 1, lam)
    u = below + (1 - below) * rng.random(lam.shape)
    out = stats.poisson.ppf(np.minimum(u, 1 - 1e-12), lam)
    return np.where(np.isfinite(out), np.maximum(out, floor), floor)


def _monotone_cells(
    ref: np.ndarray, rep: np.ndarray, counts: np.ndarray, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a triangle with corrections, made non-negative (see the module docstring)."""
    first = int(ref.min())
    n_rows, n_cols = end - first + 1, int((rep - ref).max()) + 1
    grid = np.zeros((n_rows, n_cols))
    np.add.at(grid, (ref - first, rep - ref), counts)
    cum = np.cumsum(grid, axis=1)
    fixed = np.maximum(np.minimum.accumulate(cum[:, ::-1], axis=1)[:, ::-1], 0.0)
    cells = np.diff(fixed, axis=1, prepend=0.0)
    r, d = np.nonzero(cells > 0)
    return first + r, first + r + d, cells[r, d]


class Nowcaster(_NowcastBase):
    """Nowcast recent counts from the reporting triangle (NB chain ladder, see the module).

    Parameters
    ----------
    max_delay : int, default 21
        Longest reference → report delay modelled (days).
    window : int or None
        Reference days modelled, ending at ``as_of`` (default ``3 * (max_delay + 1)``).
    rw_sd : float, default 1.0
        Day-to-day sd of the random walk of log expected counts.
    delay_sd : float, default 0.3
        Week-to-week sd of the random walk of the delay tilt ``κ`` (0 fixes the
        delay over the window up to the weekday effect: give a tiny value).
    min_fraction : float, default 0.3
        Days expected to be reported to less than this fraction by ``as_of``
        are flagged unreliable and nowcast from the recent trend.
    late : {"ignore", "model"}, default "ignore"
        Reports after ``max_delay`` days: left out, or modelled (module docstring).
    n_draws : int, default 1000
    random_state : int or None
    warm_start : bool, default False
        Start the optimiser of the next ``fit`` from this fit's mode (``theta_``),
        as scikit-learn's ``warm_start`` (refits on slightly different data).

    Attributes
    ----------
    dates_ : datetime64[D] array (window,)
    observed_ : ndarray (window,)  cases reported by ``as_of``
    draws_ : ndarray (n_draws, window)  final counts (observed + still to come)
    mean_, median_ : ndarray (window,)
    table_ : polars.DataFrame  date, observed, mean, median, lower/upper_50/90/95,
        reported_fraction, reliable
    reported_fraction_, reliable_ : ndarray (window,)
    delay_pmf_ : ndarray (max_delay + 1,)  delay pmf averaged over the window's days
    delay_pmf_by_date_ : ndarray (window, max_delay + 1)
    weekday_effect_ : ndarray (7,)  report-day multipliers of the delay odds, Monday first
    dispersion_ : float  NB size φ
    late_ratio_ : float  late / timely reports (0 with ``late="ignore"``)
    spread_of_remainder_ : ndarray (max_delay,)  gamma size ψ_h of the still-to-come
        factor after lag h (inf: no extra spread)
    n_beyond_max_delay_ : int
    converged_ : bool
    theta_ : ndarray  the mode

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
        delay_sd: float = 0.1,
        min_fraction: float = 0.3,
        late: str = "ignore",
        n_draws: int = 1000,
        random_state: int | None = None,
        warm_start: bool = False,
    ) -> None:
        self.max_delay = max_delay
        self.window = window
        self.rw_sd = rw_sd
        self.delay_sd = delay_sd
        self.min_fraction = min_fraction
        self.late = late
        self.n_draws = n_draws
        self.random_state = random_state
        self.warm_start = warm_start

    def get_params(self) -> dict[str, Any]:
        names = (
            "max_delay",
            "window",
            "rw_sd",
            "delay_sd",
            "min_fraction",
            "late",
            "n_draws",
            "random_state",
            "warm_start",
        )
        return {k: getattr(self, k) for k in names}

    def fit(self, onset_dates: Any, report_dates: Any, as_of: Any = None) -> Nowcaster:
        """Fit on a line list: the cases reported by ``as_of`` (default: latest report date).

        Cases without an onset date are not used: impute them first
        (:func:`kumin.epi.impute.impute_onsets`).
        """
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
        if np.any(report < onset):
            raise DataError("epi.nowcast.report_before_onset", count=int((report < onset).sum()))
        with single_threaded_blas():
            return self._fit_counts(onset, report, np.ones(len(onset)), end)

    def fit_triangle(
        self, reference_dates: Any, report_dates: Any, counts: Any, as_of: Any = None
    ) -> Nowcaster:
        """Fit on a reporting triangle: ``counts`` newly reported on each report date.

        Several rows of the same cell add up; negative counts are corrections
        (module docstring). Reports after ``as_of`` (default: the last report
        date) are not yet known.
        """
        ref, r_miss = to_days(reference_dates)
        rep, p_miss = to_days(report_dates)
        w = np.asarray(counts, dtype=float)
        if ref.shape != rep.shape or w.shape != ref.shape:
            raise DataError(
                "epi.data.shape_mismatch", name="counts", got=w.shape, expected=ref.shape
            )
        if r_miss.any() or p_miss.any() or not np.all(np.isfinite(w)) or len(w) == 0:
            raise DataError("epi.nowcast.no_cases")
        if np.any(rep < ref):
            raise DataError("epi.nowcast.report_before_onset", count=int((rep < ref).sum()))
        end = _as_of_day(as_of, int(rep.max()))
        seen = rep <= end
        ref, rep, w = _monotone_cells(ref[seen], rep[seen], w[seen], end)
        if len(w) == 0:
            raise DataError("epi.nowcast.no_cases")
        with single_threaded_blas():
            return self._fit_counts(ref, rep, w, end)

    def _fit_counts(self, ref: np.ndarray, rep: np.ndarray, w: np.ndarray, end: int) -> Nowcaster:
        owner = "Nowcaster"
        D = check_int_param(self.max_delay, "max_delay", owner, 1, 120)
        W = (
            3 * (D + 1)
            if self.window is None
            else check_int_param(self.window, "window", owner, D + 2, 2000)
        )
        rw_sd = check_real_param(self.rw_sd, "rw_sd", owner, 0.0, None, closed="neither")
        delay_sd = check_real_param(self.delay_sd, "delay_sd", owner, 0.0, None, closed="neither")
        min_fraction = check_real_param(self.min_fraction, "min_fraction", owner, 0.0, 1.0)
        check_choice_param(self.late, "late", owner, ("ignore", "model"))
        n_draws = check_int_param(self.n_draws, "n_draws", owner, 1, 1_000_000)
        start = end - W + 1
        delay = rep - ref
        in_window = ref >= start
        late = delay > D
        self.n_beyond_max_delay_ = int(w[in_window & late].sum())
        use = in_window & ~late
        tri = np.zeros((W, D + 1))
        np.add.at(tri, (ref[use] - start, delay[use]), w[use])

        rows, cols = np.meshgrid(np.arange(W), np.arange(D + 1), indexing="ij")
        obs = rows + cols <= W - 1
        n_weeks = (W - 1) // 7 + 1
        # 1970-01-01 (day 0) was a Thursday: +3 makes Monday 0
        grid = _Grid(
            y=np.where(obs, tri, 0.0),
            obs=obs,
            dow=(start + rows + cols + 3) % 7,
            week=n_weeks - 1 - (W - 1 - np.arange(W)) // 7,
            n_weeks=n_weeks,
            z=np.arange(D + 1) / D,
            rep=np.minimum(rows + cols, W - 1),
            rw_sd=rw_sd,
            delay_sd=delay_sd,
        )
        # start from chain-ladder-like totals: complete rows as they are
        col_tot = tri[: W - D].sum(axis=0) + 0.5
        p0 = col_tot / col_tot.sum()
        row_obs = np.where(obs, tri, 0.0).sum(axis=1)
        frac = np.cumsum(p0)[np.minimum(W - 1 - np.arange(W), D)]
        theta0 = np.concatenate(
            [
                np.log((row_obs + 0.5) / frac),
                np.log(p0[1:]) - np.log(p0[0]),
                np.zeros(7 + n_weeks + W),
                [math.log(20.0)],
            ]
        )
        previous = getattr(self, "theta_", None) if self.warm_start else None
        if previous is not None and previous.shape == theta0.shape:
            theta0 = previous
        theta, cov, converged = _fit_mode(grid, theta0)
        if not converged:
            warnings.warn(
                "Nowcaster: the optimiser did not converge", ConvergenceWarning, stacklevel=3
            )

        rng = np.random.default_rng(self.random_state)
        thetas = rng.multivariate_normal(theta, cov, size=n_draws, method="cholesky")
        a_s, beta_s, gam_s, kap_s, _, lphi_s = _split(thetas, grid)
        log_p = _log_pmf(beta_s, gam_s, kap_s, grid)
        phi = np.exp(np.minimum(lphi_s, 12.0))
        unobs = ~obs
        # report days still to come have effects of their own, shared by every reference
        # day they report on: drawn with the spread the past report days showed
        # (mean-one multipliers), they make the still-to-come counts move together
        spread = float(np.std(theta[W + D + 7 + n_weeks : -1]))
        future_rep = rng.normal(-0.5 * spread**2, spread, (n_draws, D))
        log_mu = a_s[:, :, None] + log_p
        log_mu[:, unobs] += future_rep[:, (rows + cols - W)[unobs]]
        mu_u = np.exp(np.minimum(log_mu, 25.0))[:, unobs]
        future = _rnbinom(rng, mu_u, phi[:, None])
        pred = future @ (rows[unobs][:, None] == np.arange(W)[None, :]).astype(float)
        a, beta, gam, kap, rho, _ = _split(theta, grid)
        p_hat = np.exp(_log_pmf(beta, gam, kap, grid))
        self.spread_of_remainder_ = _remainder_spread(grid.y, p_hat)
        pred = _widen(pred, self.spread_of_remainder_, rng)
        draws = row_obs[None, :] + pred
        fraction = np.where(obs, p_hat, 0.0).sum(axis=1)
        reliable = fraction >= min_fraction
        weekday = (start + np.arange(W) + 3) % 7
        draws, reliable = self._degrade(draws, row_obs, a, cov, fraction, reliable, rng, weekday)
        observed = row_obs
        self.late_ratio_ = 0.0
        if self.late == "model":
            draws, observed, fraction = self._add_late(
                draws, row_obs, fraction, ref, rep, w, start, end, D, rng
            )

        self.delay_pmf_ = p_hat.mean(axis=0)
        self.delay_pmf_by_date_ = p_hat
        self.weekday_effect_ = np.exp(gam - gam.mean())
        self.dispersion_ = float(math.exp(theta[-1]))
        self.expected_ = np.exp(a)
        self.converged_ = converged
        self.theta_ = theta
        self.as_of_ = from_days(end)
        self.reported_fraction_ = fraction
        self.reliable_ = reliable
        self._finish(from_days(np.arange(start, end + 1)), observed, draws)
        self.table_ = self.table_.with_columns(
            pl.Series("reported_fraction", fraction), pl.Series("reliable", reliable)
        )
        return self

    def _degrade(
        self,
        draws: np.ndarray,
        row_obs: np.ndarray,
        a: np.ndarray,
        cov: np.ndarray,
        fraction: np.ndarray,
        reliable: np.ndarray,
        rng: np.random.Generator,
        weekday: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flag days with too little information or an anomalous estimate; nowcast them
        from the recent trend, given what is already reported."""
        W = len(a)
        solid = reliable & (fraction >= SOLID_FRACTION)
        trend = _trend(np.log(np.median(draws, axis=0) + 0.5), solid, weekday)
        if trend is None:  # too short a series for a trend: flag, keep the model's draws
            return draws, reliable
        mean, sd = trend
        var_a = np.diag(cov)[:W]
        z = (a - mean) / np.sqrt(sd**2 + var_a)
        reliable = reliable & ~((fraction < SOLID_FRACTION) & (np.abs(z) > ANOMALY_Z))
        bad = np.flatnonzero(~reliable & (np.arange(W) > np.flatnonzero(solid)[-1]))
        if len(bad):
            lam = np.exp(mean[bad] + sd[bad] * rng.standard_normal((draws.shape[0], len(bad))))
            draws = draws.copy()
            draws[:, bad] = _at_least(rng, lam, row_obs[bad])
        return draws, reliable

    def _add_late(self, draws, row_obs, fraction, ref, rep, w, start, end, D, rng):
        """Reports after ``max_delay`` days: observed ones added, the rest drawn."""
        W = draws.shape[1]
        lag = end - ref
        # rows old enough to have shown every delay up to 2D, most recent 8 weeks
        old = (lag >= 2 * D) & (lag < 2 * D + 7 * LATE_WEEKS)
        delay = rep - ref
        late_n = float(w[old & (delay > D) & (delay <= 2 * D)].sum())
        timely_n = float(w[old & (delay <= D)].sum())
        observed = row_obs.copy()
        seen_late = (ref >= start) & (delay > D)
        np.add.at(observed, ref[seen_late] - start, w[seen_late])
        draws = draws + (observed - row_obs)[None, :]
        if timely_n <= 0:
            return draws, observed, fraction
        self.late_ratio_ = late_n / timely_n
        # the late share changes from week to week (backlogs cleared): draw it with the
        # spread of the weekly shares, not only the sampling error of their mean
        week = (lag - 2 * D) // 7
        late_w = np.bincount(week[old], (w * ((delay > D) & (delay <= 2 * D)))[old], LATE_WEEKS)
        timely_w = np.bincount(week[old], (w * (delay <= D))[old], LATE_WEEKS)
        shares = late_w[timely_w > 0] / timely_w[timely_w > 0]
        var = max(float(np.var(shares, ddof=1)) if len(shares) > 1 else 0.0, 0.0)
        var += (late_n + 0.5) / timely_n**2  # and the sampling error
        mean = (late_n + 0.5) / timely_n
        ratio = rng.gamma(mean**2 / var, var / mean, size=(draws.shape[0], 1))
        pending = (end - (start + np.arange(W))) <= D  # days yet to see any late report
        extra = rng.poisson(ratio * draws[:, pending])
        draws[:, pending] += extra
        fraction = np.where(pending, fraction / (1 + self.late_ratio_), fraction)
        return draws, observed, fraction


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
