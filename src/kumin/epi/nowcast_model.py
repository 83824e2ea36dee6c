"""The triangle nowcast's model and its fit: a negative-binomial triangle with a
discrete-time hazard of reporting (see :mod:`kumin.epi.nowcast` for the model), its
penalised likelihood, analytic gradient and Fisher information, and the mode found by
Fisher scoring with its Laplace covariance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

# prior sds: day-to-day change of the delay logits, and the report-weekday effects
DELAY_RW_SD = 1.0
WEEKDAY_SD = 1.0
# effect of one report day on the odds of reporting (a holiday, a batch upload that
# empties the backlog, a missing upload): Student t, scale 0.25, 3 degrees of freedom.
# Most days move the odds a little; a heavy tail lets one day report nearly everything
# still pending (or nothing) without the totals of the recent days taking the blame.
REPORT_DAY_SD = 0.25
REPORT_DAY_DF = 3.0
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
    rep: np.ndarray  # index of each cell's report day (W.. for days still to come)
    rw_sd: float
    delay_sd: float

    @property
    def W(self) -> int:
        return self.y.shape[0]

    @functools.cached_property
    def eta_design(self) -> np.ndarray:
        """x[t, k, ·]: how β_k, γ, κ, τ, ρ enter η[t, k] (k < D), a W × D × (D+7+2K+W) array."""
        W, D, K = self.W, self.D, self.n_weeks
        x = np.zeros((W, D, D + 7 + 2 * K + W))
        t_idx, k_idx = np.arange(W)[:, None], np.arange(D)[None, :]
        x[t_idx, k_idx, k_idx] = 1.0
        x[t_idx, k_idx, D + self.dow[:, :D]] = 1.0
        x[t_idx, k_idx, D + 7 + self.week[:, None]] = 1.0
        x[t_idx, k_idx, D + 7 + K + self.week[:, None]] = self.tilt[None, :]
        rep = self.rep[:, :D]
        past = rep < W  # report days still to come have no parameter
        x[t_idx, k_idx, np.where(past, D + 7 + 2 * K + rep, 0)] += np.where(past, 1.0, 0.0)
        return x

    @property
    def D(self) -> int:
        return self.y.shape[1] - 1

    @property
    def tilt(self) -> np.ndarray:
        """How the weekly tilt moves the hazard of each delay 0..D-1 (centred, −½..½)."""
        D = self.D
        return np.arange(D) / max(D - 1, 1) - 0.5


def _split(theta: np.ndarray, g: _Grid) -> tuple[np.ndarray, ...]:
    """log λ, β (delays 0..D-1), γ, κ (the weekly shifts, then the weekly tilts τ), ρ and
    log φ; ``theta`` may be one vector or draws × params."""
    W, D, K = g.W, g.D, g.n_weeks
    a = theta[..., :W]
    beta = theta[..., W : W + D]
    gam = theta[..., W + D : W + D + 7]
    kap = theta[..., W + D + 7 : W + D + 7 + 2 * K]  # weekly shift, then weekly tilt
    rho = theta[..., W + D + 7 + 2 * K : 2 * W + D + 7 + 2 * K]
    return a, beta, gam, kap, rho, theta[..., -1]


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _hazards(
    beta: np.ndarray, gam: np.ndarray, kap: np.ndarray, rho: np.ndarray, g: _Grid
) -> tuple[np.ndarray, np.ndarray]:
    """log p[t, d] (W × (D+1)) and the hazards h[t, d] (W × D), with leading draw axes
    if the parameters have them.

    ``rho`` holds the effects of the window's report days and may go on with those of
    the D report days still to come (zero where it does not).
    """
    D = g.D
    future = g.W + D - rho.shape[-1]
    if future > 0:
        rho = np.concatenate([rho, np.zeros(rho.shape[:-1] + (future,))], axis=-1)
    rep = g.rep[:, :D]
    K = g.n_weeks
    shift = kap[..., :K][..., g.week][..., :, None]
    tilt = kap[..., K:][..., g.week][..., :, None] * g.tilt
    eta = beta[..., None, :] + gam[..., g.dow[:, :D]] + shift + tilt + rho[..., rep]
    log_h = -_softplus(-eta)
    log_s = -_softplus(eta)  # log(1 - h)
    surv = np.cumsum(log_s, axis=-1)  # log P(not reported by delay d)
    log_p = np.concatenate(
        [log_h[..., :1], log_h[..., 1:] + surv[..., :-1], surv[..., -1:]], axis=-1
    )
    return log_p, np.exp(log_h)


def _rw_penalty(x: np.ndarray, sd: float) -> tuple[float, np.ndarray]:
    diff = np.diff(x) / (sd * sd)
    grad = np.zeros_like(x)
    grad[1:] += diff
    grad[:-1] -= diff
    return 0.5 * float(np.sum(np.diff(x) ** 2)) / (sd * sd), grad


def _report_day_penalty(rho: np.ndarray) -> float:
    """− log density of the report-day effects (Student t, up to a constant)."""
    nu, s2 = REPORT_DAY_DF, REPORT_DAY_SD**2
    return 0.5 * (nu + 1) * float(np.sum(np.log1p(rho * rho / (nu * s2))))


def _report_day_weight(rho: np.ndarray) -> np.ndarray:
    """The t penalty's gradient over ρ, and its Fisher curvature (positive everywhere)."""
    nu, s2 = REPORT_DAY_DF, REPORT_DAY_SD**2
    return (nu + 1) / (nu * s2 + rho * rho)


def _eta_score(cell: np.ndarray, h: np.ndarray) -> np.ndarray:
    """d ll / d η[t, k] from the cells' scores ``d ll / d log μ`` (W × (D+1)).

    log p[t, d] = log h_d + Σ_{k<d} log(1 - h_k): the hazard of delay k raises its own
    cell and lowers every later one, so d ll/dη_k = c_k − h_k · Σ_{d≥k} c_d.
    """
    after = np.cumsum(cell[:, ::-1], axis=1)[:, ::-1]  # Σ_{d >= k} c_d
    return cell[:, :-1] - h * after[:, :-1]


def _objective(theta: np.ndarray, g: _Grid) -> tuple[float, np.ndarray]:
    """Negative penalised log-likelihood of the triangle and its gradient."""
    W, D = g.W, g.D
    a, beta, gam, kap, rho, log_phi = _split(theta, g)
    K = g.n_weeks
    phi = math.exp(log_phi)
    log_p, h = _hazards(beta, gam, kap, rho, g)
    log_mu = (a[:, None] + log_p)[g.obs]
    y = g.y[g.obs]
    mu = np.exp(log_mu)
    lse = np.logaddexp(log_phi, log_mu)
    ll = (
        special.gammaln(y + phi) - special.gammaln(phi) + phi * (log_phi - lse) + y * (log_mu - lse)
    )
    cell = np.zeros(g.y.shape)
    cell[g.obs] = phi * (y - mu) / (phi + mu)  # d ll / d log mu
    by_row = cell.sum(axis=1)
    d_eta = _eta_score(cell, h)
    grad = np.empty_like(theta)
    grad[:W] = by_row
    grad[W : W + D] = d_eta.sum(axis=0)
    grad[W + D : W + D + 7] = np.bincount(g.dow[:, :D].ravel(), d_eta.ravel(), minlength=7)
    grad[W + D + 7 : W + D + 7 + K] = np.bincount(g.week, d_eta.sum(axis=1), minlength=K)
    grad[W + D + 7 + K : W + D + 7 + 2 * K] = np.bincount(
        g.week, (d_eta * g.tilt).sum(axis=1), minlength=K
    )
    by_day = np.bincount(g.rep[:, :D].ravel(), d_eta.ravel(), minlength=W + D)
    grad[W + D + 7 + 2 * K : -1] = by_day[:W]
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
    pen_k, g_k = _rw_penalty(kap[:K], g.delay_sd)
    pen_t, g_t = _rw_penalty(kap[K:], g.delay_sd)
    pen = pen_a + pen_b + pen_k + pen_t + 0.5 * float(gam @ gam) / WEEKDAY_SD**2
    pen += 0.5 * kap[0] ** 2 + 0.5 * kap[K] ** 2
    pen += _report_day_penalty(rho)
    grad[:W] -= g_a
    grad[W : W + D] -= g_b
    grad[W + D : W + D + 7] -= gam / WEEKDAY_SD**2
    g_k[0] += kap[0]
    g_t[0] += kap[K]
    grad[W + D + 7 : W + D + 7 + K] -= g_k
    grad[W + D + 7 + K : W + D + 7 + 2 * K] -= g_t
    grad[W + D + 7 + 2 * K : -1] -= _report_day_weight(rho) * rho
    return -(float(ll.sum()) - pen), -grad


def _bounds(g: _Grid) -> tuple[np.ndarray, np.ndarray]:
    W, D, K = g.W, g.D, g.n_weeks
    # a report day's odds ratio up to e^±10: a batch reports every pending case
    lo = np.array([-10.0] * W + [-20.0] * D + [-5.0] * 7 + [-10.0] * 2 * K + [-10.0] * W + [-4.0])
    hi = np.array([25.0] * W + [20.0] * D + [5.0] * 7 + [10.0] * 2 * K + [10.0] * W + [12.0])
    return lo, hi


def _rw_matrix(n: int, sd: float) -> np.ndarray:
    diff = np.diff(np.eye(n), axis=0)
    return diff.T @ diff / (sd * sd)


def _prior_precision(g: _Grid) -> np.ndarray:
    """The (constant) Hessian of the penalties."""
    W, D, K = g.W, g.D, g.n_weeks
    m = 2 * W + D + 7 + 2 * K + 1
    prec = np.zeros((m, m))
    prec[:W, :W] = _rw_matrix(W, g.rw_sd)
    prec[W : W + D, W : W + D] = _rw_matrix(D, DELAY_RW_SD)
    sl = slice(W + D, W + D + 7)
    prec[sl, sl] = np.eye(7) / WEEKDAY_SD**2
    for first in (W + D + 7, W + D + 7 + K):  # the weekly shift and the weekly tilt
        sl = slice(first, first + K)
        prec[sl, sl] = _rw_matrix(K, g.delay_sd)
        prec[first, first] += 1.0
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
    log_p, h = _hazards(beta, gam, kap, rho, g)
    rows, cols = np.nonzero(g.obs)
    mu = np.exp(a[rows] + log_p[rows, cols])
    wgt = phi * mu / (phi + mu)
    x = g.eta_design
    n_eta = x.shape[-1]
    # d log p[t, d] / dθ = (1 − h_d) x_d − Σ_{k<d} h_k x_k = x_d − Σ_{k<=d} h_k x_k, and for
    # the last delay (hazard 1) −Σ_{k<D} h_k x_k
    upto = np.cumsum(h[:, :, None] * x, axis=1)
    jac = (
        np.concatenate([x, np.zeros((W, 1, n_eta))], axis=1)
        - np.concatenate([upto, upto[:, -1:]], axis=1)
    )[rows, cols]
    weighted = jac * wgt[:, None]
    # the log λ columns are one-hot by row: their blocks are sums by row
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    info = prec.copy()
    eta = slice(W, W + n_eta)
    info[np.arange(W), np.arange(W)] += np.add.reduceat(wgt, starts)
    cross = np.add.reduceat(weighted, starts, axis=0)
    info[:W, eta] += cross
    info[eta, :W] += cross.T
    info[eta, eta] += weighted.T @ jac
    sl = np.arange(W + D + 7 + 2 * K, 2 * W + D + 7 + 2 * K)
    info[sl, sl] += _report_day_weight(rho)
    eps = 1e-4
    up, down = theta.copy(), theta.copy()
    up[-1] += eps
    down[-1] -= eps
    col = (_objective(up, g)[1] - _objective(down, g)[1]) / (2 * eps)
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
