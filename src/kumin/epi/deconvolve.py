"""From onset dates to infection dates, draw by draw.

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


__all__ = ["Infections", "infections_from_onsets"]
