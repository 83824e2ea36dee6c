"""Multiple imputation of missing onset dates.

A case without an onset date keeps its report (or result, or confirmation) date;
its onset is drawn ``M`` times as ``report - delay``. No case is ever dropped: a
case with neither date is an error, reported with its position.

The delay is drawn from the *backward* distribution. Given a report on day ``r``,

    P(onset = r - d | report r)  ∝  p(d) · c(r - d)

where ``p`` is the onset → report pmf and ``c`` the onset curve of the cases whose
onset is known, divided by ``P(delay <= T - t)`` so that its own right truncation
does not pull imputed onsets back in time (``weighting="curve"``, the default).
While an epidemic grows, recent onset days hold more cases, so backward delays
are shorter than forward ones; ignoring that (``weighting="forward"``, i.e.
``p(d)`` alone) imputes onsets too early in a growing wave and too late in a
declining one. The curve term assumes cases without onset resemble those with
one (missing at random given the report date).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kumin.epi._checks import check_choice_param, check_int_param
from kumin.epi.delays import DelayDistribution, DelayFit, from_days, to_days
from kumin.errors import DataError, ParameterError, Problem


def delay_pmf(delay: Any, max_delay: int, name: str = "delay") -> np.ndarray:
    """A delay given as distribution, fit or pmf array, as a pmf over 0..max_delay."""
    if isinstance(delay, DelayFit):
        delay = delay.distribution
    if isinstance(delay, DelayDistribution):
        return delay.pmf(max_delay)
    p = np.asarray(delay, dtype=float)
    if p.ndim != 1 or len(p) == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ParameterError("epi.param.bad_pmf", name=name)
    p = p[: max_delay + 1]
    if len(p) < max_delay + 1:
        p = np.concatenate([p, np.zeros(max_delay + 1 - len(p))])
    return p / p.sum()


def count_by_day(days: np.ndarray, start: int, end: int) -> np.ndarray:
    """Daily counts of day numbers: ``(..., n)`` → ``(..., end - start + 1)``.

    Days outside ``[start, end]`` are not counted.
    """
    days = np.asarray(days)
    flat = (
        days.reshape(int(np.prod(days.shape[:-1])), days.shape[-1])
        if days.ndim > 1
        else days[None, :]
    )
    n_days = end - start + 1
    rows = np.repeat(np.arange(flat.shape[0]), flat.shape[1])
    idx = flat.ravel() - start
    ok = (idx >= 0) & (idx < n_days)
    out = np.bincount(rows[ok] * n_days + idx[ok], minlength=flat.shape[0] * n_days)
    out = out.reshape(flat.shape[0], n_days)
    return out if days.ndim > 1 else out[0]


@dataclass(frozen=True)
class ImputedOnsets:
    """Onset dates with missing ones imputed ``n_draws`` times.

    Attributes
    ----------
    onset_days : ndarray of int, shape (n_draws, n_cases)
        Day numbers (days since 1970-01-01); known onsets repeat in every draw.
    imputed : ndarray of bool, shape (n_cases,)
        Which cases had no onset date.
    """

    onset_days: np.ndarray
    imputed: np.ndarray

    @property
    def n_draws(self) -> int:
        return int(self.onset_days.shape[0])

    @property
    def n_imputed(self) -> int:
        return int(self.imputed.sum())

    @property
    def onset_dates(self) -> np.ndarray:
        """``datetime64[D]`` array of shape (n_draws, n_cases)."""
        return from_days(self.onset_days)

    def counts(self, start: Any = None, end: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Daily onset counts per draw: ``(dates, counts)`` with counts (n_draws, T)."""
        lo = (
            int(self.onset_days.min())
            if start is None
            else int(to_days(np.array([start], "datetime64[D]"))[0][0])
        )
        hi = (
            int(self.onset_days.max())
            if end is None
            else int(to_days(np.array([end], "datetime64[D]"))[0][0])
        )
        return from_days(np.arange(lo, hi + 1)), count_by_day(self.onset_days, lo, hi)


def impute_onsets(
    onset_dates: Any,
    report_dates: Any,
    delay: DelayDistribution | DelayFit | np.ndarray,
    *,
    n_draws: int = 20,
    max_delay: int = 30,
    weighting: str = "curve",
    end_date: Any = None,
    random_state: int | np.random.Generator | None = None,
) -> ImputedOnsets:
    """Impute every missing onset ``n_draws`` times from the onset → report delay.

    Parameters
    ----------
    onset_dates, report_dates : array-like of dates (missing: None/NaT/null)
        One entry per case. ``report_dates`` may be missing where the onset is known.
    delay : DelayDistribution, DelayFit or 1-D pmf over days 0, 1, ...
        Onset → report delay (e.g. ``DelayFitter(...).fit(...).best_``).
    n_draws : int
        Number of imputations ``M``.
    max_delay : int
        Longest delay considered.
    weighting : {"curve", "forward"}
        Backward delay weighted by the onset curve (default) or the plain delay
        pmf; see the module docstring.
    end_date : date, optional
        End of the data, for the truncation of the onset curve (default: latest date).
    random_state : int or Generator

    Returns
    -------
    ImputedOnsets

    Examples
    --------
    >>> import numpy as np
    >>> onset = np.array(["2021-08-01", None, "2021-08-03", None], dtype="datetime64[D]")
    >>> report = np.array(["2021-08-04", "2021-08-06", "2021-08-05", "2021-08-07"], "datetime64[D]")
    >>> delay = DelayDistribution.gamma(2, 1.5)
    >>> res = impute_onsets(onset, report, delay, n_draws=5, random_state=0)
    >>> res.onset_days.shape, res.n_imputed
    ((5, 4), 2)
    """
    n_draws = check_int_param(n_draws, "n_draws", "impute_onsets", 1, 100_000)
    max_delay = check_int_param(max_delay, "max_delay", "impute_onsets", 0, 365)
    check_choice_param(weighting, "weighting", "impute_onsets", ("curve", "forward"))
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    onset, o_miss = to_days(onset_dates)
    report, r_miss = to_days(report_dates)
    if onset.shape != report.shape:
        raise DataError(
            "epi.data.shape_mismatch", name="report_dates", got=report.shape, expected=onset.shape
        )
    both = np.flatnonzero(o_miss & r_miss)
    if len(both):
        problems = [
            Problem(None, None, "epi.impute.no_dates", {"index": int(i)}) for i in both[:20]
        ]
        raise DataError("epi.impute.cases_without_dates", problems=problems, count=len(both))
    pmf = delay_pmf(delay, max_delay)

    out = np.broadcast_to(onset, (n_draws, len(onset))).copy()
    missing = np.flatnonzero(o_miss)
    if len(missing) == 0:
        return ImputedOnsets(out, o_miss)

    known = onset[~o_miss]
    if end_date is None:
        end = int(max(report[~r_miss].max(initial=-(10**9)), known.max(initial=-(10**9))))
    else:
        end = int(to_days(np.array([end_date], "datetime64[D]"))[0][0])
    miss_report = report[missing]
    lo = int(miss_report.min()) - max_delay
    weights_by_day = None
    if weighting == "curve":
        hi = max(end, int(miss_report.max()))
        curve = count_by_day(known, lo, hi).astype(float)
        cdf = np.cumsum(pmf)
        # cases with onset t are seen by the end only if their delay <= end - t
        seen = cdf[np.clip(end - np.arange(lo, hi + 1), 0, max_delay)]
        seen[np.arange(lo, hi + 1) > end] = 1.0
        # no floor is needed: the weight of onset day t for a report on day r is
        # p(r - t) · curve(t) / F(end - t), and p(r - t) <= F(r - t) <= F(end - t), so it
        # never exceeds the cases seen. (A floor of 0.1 kept imputed onsets off the last
        # days whenever reports on the day of onset are rare: the synthetic ward's last
        # day got 7 of them where it had 160.)
        curve = curve / np.where(seen > 0, seen, 1.0) + 0.5
        weights_by_day = curve

    for r in np.unique(miss_report):
        cases = missing[miss_report == r]
        w = pmf.copy()
        if weights_by_day is not None:
            days = r - np.arange(max_delay + 1) - lo
            w = w * weights_by_day[days]
        w_cdf = np.cumsum(w / w.sum())
        w_cdf[-1] = 1.0
        u = rng.random((n_draws, len(cases)))
        d = np.searchsorted(w_cdf, u, side="right")
        out[:, cases] = r - d
    return ImputedOnsets(out, o_miss)


__all__ = ["ImputedOnsets", "count_by_day", "delay_pmf", "impute_onsets"]
