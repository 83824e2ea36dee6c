"""From onset dates to infection dates, draw by draw.

:func:`richardson_lucy` (used by :func:`kumin.epi.rt_by_infection_date`)
deconvolves the onset curve: it estimates the infection curve whose convolution
with the incubation period gives the onsets, with the right-truncation
adjustment described there. :func:`infections_from_onsets`, below, is the older
random shift, kept to compare with.

Each case with onset on day ``t`` is sent back to an infection day ``t - k`` with
``k`` drawn from the incubation-period pmf, independently per case and per draw
(a multinomial split of each day's count). This is the simplest back-projection:
it needs no tuning, keeps counts whole, and, applied to every draw of the
imputed and nowcast onsets, carries their uncertainty and that of the incubation
period itself into the infection curve. It smooths the curve by the incubation
period once more than deconvolution proper (Richardson–Lucy, EpiNow2's renewal
fit), so sharp changes in transmission look blunter and the timing of a change
is still right on average; for Rt by infection date over weekly windows this is
the usual trade-off (cf. Gostic et al. 2020).

Right truncation: infections in the last days have often not yet led to an
onset. The share already seen for infection day ``τ`` is
``c(τ) = P(incubation <= end - τ)``; with ``adjust_right`` the unseen infections
are drawn as negative binomial (the number of failures before the seen count at
success probability ``c``), and days with ``c`` below ``min_completeness`` are
cut off. The first ``max_days`` days are incomplete on the left (onsets before
the series are unknown) and marked in ``complete_left``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kumin.epi._checks import check_counts, check_int_param, check_real_param
from kumin.epi.delays import DelayDistribution, DelayFit, from_days, to_days
from kumin.epi.impute import delay_pmf


@dataclass(frozen=True)
class Infections:
    """Draws of daily infections.

    Attributes
    ----------
    draws : ndarray (n_draws, T) of float
        Infections per day (whole numbers unless adjusted at the right edge).
    days : ndarray (T,) of int
        Day numbers (days since 1970-01-01); ``dates`` gives them as datetime64.
    completeness : ndarray (T,)
        Share of each day's infections whose onset had happened by the end.
    complete_left : ndarray (T,) of bool
        False for the first ``max_days`` days (infectees of earlier onsets unknown).
    """

    draws: np.ndarray
    days: np.ndarray
    completeness: np.ndarray
    complete_left: np.ndarray

    @property
    def dates(self) -> np.ndarray:
        return from_days(self.days)


def infections_from_onsets(
    onset_counts: Any,
    incubation: DelayDistribution | DelayFit | np.ndarray,
    *,
    start: Any = 0,
    max_days: int = 21,
    adjust_right: bool = True,
    min_completeness: float = 0.5,
    random_state: int | np.random.Generator | None = None,
) -> Infections:
    """Send each onset back by a random incubation period, draw by draw.

    Parameters
    ----------
    onset_counts : array-like (n_draws, T) or (T,)
        Daily onsets per draw (e.g. :attr:`Nowcaster.draws_`).
    incubation : DelayDistribution, DelayFit or pmf over days 0, 1, ...
    start : date or int
        Date (or day number) of the first column.
    max_days : int
        Longest incubation period considered.
    adjust_right : bool
        Add the infections not yet seen as onsets and cut days below
        ``min_completeness`` (see the module docstring).
    random_state : int or Generator

    Returns
    -------
    Infections
        Covering ``max_days`` days before the first onset day to the last day
        kept.

    Examples
    --------
    >>> import numpy as np
    >>> inc = DelayDistribution.lognormal(1.519, 0.615)
    >>> res = infections_from_onsets(np.full((5, 40), 100), inc, max_days=14, random_state=0)
    >>> res.draws.shape[0], bool(res.draws[:, 20:30].mean() > 90)
    (5, True)
    """
    max_days = check_int_param(max_days, "max_days", "infections_from_onsets", 0, 120)
    min_c = check_real_param(
        min_completeness, "min_completeness", "infections_from_onsets", 0.0, 1.0
    )
    counts = check_counts(onset_counts, "onset_counts", ndim=(1, 2))
    if counts.ndim == 1:
        counts = counts[None, :]
    counts = np.rint(counts).astype(np.int64)
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    pmf = delay_pmf(incubation, max_days, name="incubation")
    n_draws, T = counts.shape
    L = max_days
    out = np.zeros((n_draws, T + L))
    # multinomial split of every (draw, day) count over the incubation pmf
    split = rng.multinomial(counts, pmf)  # n_draws × T × (L + 1)
    for k in range(L + 1):
        out[:, L - k : L - k + T] += split[:, :, k]
    first = (
        int(start)
        if isinstance(start, (int, np.integer))
        else int(to_days(np.array([start], "datetime64[D]"))[0][0])
    )
    days = np.arange(first - L, first + T)
    end = first + T - 1
    cdf = np.cumsum(pmf)
    completeness = cdf[np.clip(end - days, 0, L)]
    complete_left = days >= first
    if adjust_right:
        keep = completeness >= min_c
        c = completeness[keep]
        seen = out[:, keep]
        missing = rng.poisson(rng.gamma(seen, (1.0 - c) / c)) if np.any(c < 1) else 0
        out = seen + missing
        days, completeness, complete_left = days[keep], completeness[keep], complete_left[keep]
    return Infections(out, days, completeness, complete_left)


def _start_day(start: Any) -> int:
    if isinstance(start, (int, np.integer)):
        return int(start)
    return int(to_days(np.array([start], "datetime64[D]"))[0][0])


def _smooth121(x: np.ndarray) -> np.ndarray:
    """EMS smoothing step (Becker et al. 1991, k = 2): weights 1/4, 1/2, 1/4, ends reflected."""
    padded = np.concatenate([x[:, :1], x, x[:, -1:]], axis=1)
    return 0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:]


def richardson_lucy(
    onset_counts: Any,
    incubation: DelayDistribution | DelayFit | np.ndarray,
    *,
    start: Any = 0,
    max_days: int = 21,
    max_iter: int = 500,
    smooth: bool = True,
    tol: float = 1e-4,
    min_completeness: float = 0.5,
) -> Infections:
    """Infections by deconvolution of onsets (Richardson–Lucy / EM back-projection).

    Solves ``O_t ≈ Σ_k p_k λ_{t-k}`` for the infection curve ``λ`` by the
    Richardson–Lucy iteration (the EM algorithm of back-projection, Becker et al.
    1991) with the adjustment for right truncation of Goldstein et al. (2009):
    an infection on day ``s`` has its onset inside the series with probability
    ``q_s = Σ_{k <= end - s} p_k``, so ::

        λ_s ← λ_s / q_s · Σ_{t >= s} p_{t-s} O_t / E_t,   E_t = Σ_k p_k λ_{t-k}

    and ``λ_s`` estimates every infection of day ``s``, seen or not. With
    ``smooth`` (default) each step is followed by the smoothing 1/4, 1/2, 1/4
    and the iteration runs to its fixed point (largest change ``<= tol`` of the
    curve's maximum): the EMS algorithm of R's ``surveillance::backprojNP``, whose
    smoothing keeps it from fitting day-to-day noise. Without it, plain
    Richardson–Lucy stops, per draw, once the fitted onsets explain the observed
    ones to Poisson noise (mean χ² per day ``<= 1``, Goldstein's rule). Days whose completeness is below
    ``min_completeness`` are cut off: their estimate would rest on a handful of
    onsets scaled up.

    Unlike :func:`infections_from_onsets` this undoes the incubation period's
    blurring instead of adding to it (Gostic et al. 2020). Applied to every draw
    of imputed and nowcast onsets, the spread of the result carries their
    uncertainty; the Poisson noise of the infections themselves is added by the
    renewal step.

    Parameters
    ----------
    onset_counts : array-like (n_draws, T) or (T,)
        Daily onsets per draw; non-integer values are allowed.
    incubation : DelayDistribution, DelayFit or pmf over days 0, 1, ...
    start : date or int
        Date (or day number) of the first column.
    max_days : int
        Longest incubation period considered.
    max_iter : int
        Most iterations.
    smooth : bool
        EMS smoothing after each step, run to convergence.
    tol : float
        Convergence threshold of the smoothed iteration.
    min_completeness : float
        Shortest share of a day's infections already seen as onsets to keep it.

    Returns
    -------
    Infections
        From ``max_days`` days before the first onset day to the last day kept.

    Examples
    --------
    >>> import numpy as np
    >>> inc = DelayDistribution.lognormal(1.519, 0.615)
    >>> true = np.r_[np.full(30, 50.0), np.full(30, 200.0)]
    >>> onsets = np.convolve(true, inc.pmf(21))[:60]
    >>> res = richardson_lucy(onsets, inc, max_days=21)
    >>> bool(abs(res.draws[0, 21 + 45] - 200) < 10)
    True
    """
    owner = "richardson_lucy"
    L = check_int_param(max_days, "max_days", owner, 0, 120)
    n_iter = check_int_param(max_iter, "max_iter", owner, 1, 100_000)
    tol = check_real_param(tol, "tol", owner, 0.0, 1.0)
    min_c = check_real_param(min_completeness, "min_completeness", owner, 0.0, 1.0)
    counts = check_counts(onset_counts, "onset_counts", ndim=(1, 2)).astype(np.float64)
    if counts.ndim == 1:
        counts = counts[None, :]
    pmf = delay_pmf(incubation, L, name="incubation")
    n_draws, T = counts.shape
    S = T + L
    first = _start_day(start)
    days = np.arange(first - L, first + T)
    # q_s: share of day s's infections with an onset by the last day of the series
    cdf = np.cumsum(pmf)
    q = cdf[np.clip((first + T - 1) - days, 0, L)]

    def forward(lam: np.ndarray) -> np.ndarray:
        out = np.zeros((lam.shape[0], T))
        for k in range(L + 1):
            out += pmf[k] * lam[:, L - k : L - k + T]
        return out

    def backward(ratio: np.ndarray) -> np.ndarray:
        out = np.zeros((ratio.shape[0], S))
        for k in range(L + 1):
            out[:, L - k : L - k + T] += pmf[k] * ratio
        return out

    # start: onsets moved back by the mean incubation period; the last days, which
    # have no onsets yet, start at the last day's level
    shift = int(round(float(pmf @ np.arange(L + 1))))
    lam = np.zeros((n_draws, S))
    lam[:, L - shift : L - shift + T] = counts
    if shift:
        lam[:, S - shift :] = counts[:, -1:]
    lam = _smooth121(_smooth121(np.maximum(lam, 1e-3 * max(counts.mean(), 1e-9))))
    active = np.ones(n_draws, dtype=bool)
    for _ in range(n_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        old = lam[idx]
        expected = forward(old)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(expected > 0, counts[idx] / expected, 0.0)
        new = old * backward(ratio) / np.maximum(q, 1e-12)
        if smooth:
            new = _smooth121(new)
            # EMS is run to its fixed point (the smoothing is the regularisation)
            scale = np.maximum(old.max(axis=1, keepdims=True), 1e-9)
            done = np.abs(new - old).max(axis=1) / scale[:, 0] <= tol
        else:
            # plain RL: stop once the fit is within Poisson noise (Goldstein et al. 2009)
            fitted = forward(new)
            with np.errstate(divide="ignore", invalid="ignore"):
                chi2 = np.where(fitted > 0, (counts[idx] - fitted) ** 2 / fitted, 0.0)
            done = chi2.mean(axis=1) <= 1.0
        lam[idx] = new
        active[idx[done]] = False
    keep = q >= min_c
    complete_left = days >= first
    return Infections(lam[:, keep], days[keep], q[keep], complete_left[keep])


__all__ = ["Infections", "infections_from_onsets", "richardson_lucy"]
