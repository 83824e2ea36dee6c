"""Nowcasting: correct the right-truncated recent days of an epidemic curve.

:class:`Nowcaster` works from the **reporting triangle**: cases by reference day
``t`` (onset, or the date of a positive test) and delay ``d`` (days to report),
known only where ``t + d <= as_of``. Each cell is negative binomial,

    n[t, d] ~ NB(mean = λ_t · p[t, d], size = φ),
    p[t, d] = h[t, d] · Π_{k<d} (1 − h[t, k]),   h[t, D] = 1,
    logit h[t, d] = β_d + γ[weekday of t + d] + κ[week of t] + τ[week of t]·z_d + ρ[day t + d]

— a discrete-time hazard of reporting, as epinowcast's: ``h[t, d]`` is the chance
that a case of day ``t`` not reported after ``d − 1`` days is reported on day
``t + d``. ``β`` is the baseline by delay; ``γ`` the weekday of the *report* day
(what is not reported on a Sunday comes on Monday); ``κ`` and ``τ`` random walks
across reference weeks: reporting that speeds up or slows down at every delay
(``κ``), and the late delays changing against the early ones (``τ``, with ``z_d``
running from −½ at delay 0 to ½ at delay D − 1: hospitals that report late during a
wave); ``ρ`` the effect of each report day. Every effect acts on the hazard, so an unusual report day moves what was
pending, not the size of the days: a batch upload that empties the backlog
(``ρ`` large: every pending case reported) leaves nothing still to come, a missing
upload (``ρ`` very negative) leaves the backlog for the next days. ``ρ`` has a
Student t prior (scale 0.25, 3 degrees of freedom): most days move the odds a
little, a few a lot. Every row's pmf sums to one, so ``λ_t`` stays the expected
final count. Priors (penalties): a random walk on ``log λ_t`` (sd ``rw_sd``) and on
``β`` (sd 1, so that a delay never yet seen keeps some probability), random walks
of sd ``delay_sd`` on ``κ`` and ``τ`` (each starting at N(0, 1)) and N(0, 1) on ``γ``. The mode is found by Fisher
scoring with the analytic gradient; the Laplace approximation (Fisher information
at the mode) gives parameter draws, and for each draw the cells still to come are
drawn from the NB. What was reported is data and stays as it is; the still-to-come
counts of a day are conditioned on its reported cells through the posterior of
``λ_t`` and through the hazards of the report days already past. Report days still
to come get effects of their own (drawn with the spread the past ones showed,
robustly, shared by every reference day they report on), and the still-to-come
counts of each lag are scaled by a mean-one gamma factor whose size is measured on
the complete days: how far what came after that lag strayed from what the average
delay predicted (:func:`_remainder_spread`). Both make weekly sums honestly
uncertain.

**Degrading gracefully.** A reference day whose expected reported fraction
``F_t = Σ_{d <= as_of - t} p[t, d]`` is below ``min_fraction`` (with the report days
as fitted, or as usual days: a batch upload on the last day says how much of the
backlog came, not how large a day with one cell is), or whose estimate
jumps more than 3 sd from the recent trend while less than half of it is reported
(an anomalous last day: a cut-off at midnight, a batch upload), does not carry
the information to be scaled up: a ratio of tiny numbers would blow up. Such a day
is flagged (``table_["reliable"]`` false). Unless half of it is reported as fitted
(its completeness then rests on an unusual report day the other days measured), its
final count is drawn from the recent trend instead — log-linear over the last 14
days at least half reported, damped, its sd widened by 0.05 per day beyond them —
given that it is at least what is already reported.

**Two starts.** With heavy-tailed report-day effects a large last report day has two
readings, both local modes: larger recent days, or a batch that emptied the
backlog. The fit starts once more from the batch (the last day's ``ρ`` at
:data:`BATCH_START`) and keeps the better posterior. It does so where the last
report day was large (:func:`_large_last_day`): a batch cannot be a small day.

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
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

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
from kumin.epi.nowcast_model import _fit_mode, _Grid, _hazards, _objective, _split
from kumin.errors import DataError

# the fallback trend for days with too little information
TREND_DAYS = 14
TREND_DAMPING = 0.9  # a growth rate is carried forward with a daily factor of 0.9
TREND_WIDEN = 0.05  # extra sd of log counts per day beyond the trend's last day
ANOMALY_Z = 3.0
SOLID_FRACTION = 0.5  # days at least this much reported anchor the trend
LATE_WEEKS = 8
BATCH_START = 5.0  # log odds ratio of reporting on the last day, the second start
# the second start is tried where the last report day brought this many times the
# median of the same weekday's last four (a batch can only be a large day)
BATCH_RATIO = 1.5


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


def _large_last_day(g: _Grid) -> bool:
    """Whether the last report day brought more than :data:`BATCH_RATIO` times the
    median of the same weekday's reports in the four weeks before."""
    totals = np.bincount(g.rep[g.obs], g.y[g.obs], minlength=g.W)
    weeks_back = g.W - 1 - 7 * np.arange(1, 5)
    before = totals[weeks_back[weeks_back >= 0]]
    return len(before) == 0 or totals[-1] > BATCH_RATIO * max(float(np.median(before)), 1.0)


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
    delay_sd : float, default 0.1
        Week-to-week sd of the random walks of the weekly shift ``κ`` and tilt ``τ`` of the hazards (0 fixes the
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
    weekday_effect_ : ndarray (7,)  report-weekday multipliers of the odds of reporting, Monday first
    report_day_effect_ : ndarray (window,)  each report day's log odds ratio of reporting (ρ)
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
            rep=rows + cols,
            rw_sd=rw_sd,
            delay_sd=delay_sd,
        )
        # start from chain-ladder-like totals: complete rows as they are
        col_tot = tri[: W - D].sum(axis=0) + 0.5
        p0 = col_tot / col_tot.sum()
        row_obs = np.where(obs, tri, 0.0).sum(axis=1)
        frac = np.cumsum(p0)[np.minimum(W - 1 - np.arange(W), D)]
        left = 1.0 - np.concatenate([[0.0], np.cumsum(p0)[:-1]])
        h0 = np.clip(p0[:D] / np.maximum(left[:D], 1e-9), 1e-4, 1 - 1e-4)
        theta0 = np.concatenate(
            [
                np.log((row_obs + 0.5) / frac),
                np.log(h0) - np.log1p(-h0),
                np.zeros(7 + 2 * n_weeks + W),
                [math.log(20.0)],
            ]
        )
        previous = getattr(self, "theta_", None) if self.warm_start else None
        warm = previous is not None and previous.shape == theta0.shape
        if warm:
            theta0 = previous
        theta, cov, converged = _fit_mode(grid, theta0)
        # the heavy-tailed report-day effects make two readings of a large last report
        # day local modes: larger recent days, or a batch that emptied the backlog (a
        # cut-off at midnight, an upload of everything pending). Start once more from
        # the batch and keep the better posterior (a warm start's mode has done so).
        last = len(theta) - 2  # ρ of the last report day (log φ is last)
        if not warm and theta[last] < BATCH_START / 2 and _large_last_day(grid):
            batch0 = theta.copy()
            batch0[last] = BATCH_START
            batch, batch_cov, batch_converged = _fit_mode(grid, batch0)
            if _objective(batch, grid)[0] < _objective(theta, grid)[0]:
                theta, cov, converged = batch, batch_cov, batch_converged
        if not converged:
            warnings.warn(
                "Nowcaster: the optimiser did not converge", ConvergenceWarning, stacklevel=3
            )

        rng = np.random.default_rng(self.random_state)
        thetas = rng.multivariate_normal(theta, cov, size=n_draws, method="cholesky")
        a_s, beta_s, gam_s, kap_s, rho_s, lphi_s = _split(thetas, grid)
        phi = np.exp(np.minimum(lphi_s, 12.0))
        unobs = ~obs
        # report days still to come have effects of their own, shared by every reference
        # day they report on: drawn with the spread the past report days showed (robust:
        # one batch upload is not the typical day), they move the still-to-come together
        past_rho = _split(theta, grid)[4]
        spread = 1.4826 * float(np.median(np.abs(past_rho - np.median(past_rho))))
        future_rep = rng.normal(0.0, spread, (n_draws, D))
        log_p = _hazards(beta_s, gam_s, kap_s, np.concatenate([rho_s, future_rep], axis=1), grid)[0]
        log_mu = a_s[:, :, None] + log_p
        mu_u = np.exp(np.minimum(log_mu, 25.0))[:, unobs]
        future = _rnbinom(rng, mu_u, phi[:, None])
        pred = future @ (rows[unobs][:, None] == np.arange(W)[None, :]).astype(float)
        a, beta, gam, kap, rho, _ = _split(theta, grid)
        p_hat = np.exp(_hazards(beta, gam, kap, rho, grid)[0])
        self.spread_of_remainder_ = _remainder_spread(grid.y, p_hat)
        pred = _widen(pred, self.spread_of_remainder_, rng)
        draws = row_obs[None, :] + pred
        fraction = np.where(obs, p_hat, 0.0).sum(axis=1)
        # a day's fraction must be reached by usual reporting, not only by one unusual
        # report day's effect (a batch upload on the last day says how much of the
        # backlog came, not how large the last day is)
        p_usual = np.exp(_hazards(beta, gam, kap, np.zeros_like(rho), grid)[0])
        usual = np.where(obs, p_usual, 0.0).sum(axis=1)
        reliable = np.minimum(fraction, usual) >= min_fraction
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
        self.report_day_effect_ = rho
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
        # a day mostly reported as fitted keeps the model's draws, flagged: its
        # completeness rests on an unusual report day, which the other days measured
        bad = np.flatnonzero(
            ~reliable & (np.arange(W) > np.flatnonzero(solid)[-1]) & (fraction < SOLID_FRACTION)
        )
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
