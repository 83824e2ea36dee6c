"""Scoring probabilistic nowcasts, and the backtest that replays a line list.

* :func:`crps` — continuous ranked probability score from samples,
  ``E|X - y| - ½ E|X - X'|`` (Gneiting & Raftery 2007), computed exactly for the
  empirical distribution of the draws in ``O(n log n)``.
* :func:`wis` — weighted interval score (Bracher et al. 2021) of the central
  intervals at levels ``1 - α`` for α in ``alphas`` plus the median:
  ``(½|y - m| + Σ_k α_k/2 · IS_α_k) / (K + ½)``, where
  ``IS_α = (u - l) + 2/α (l - y)₊ + 2/α (y - u)₊``. With many levels it
  approaches the CRPS.
* :func:`coverage` — share of targets inside the central interval.
* :func:`backtest` — for each past date ``as_of``, keep only the cases reported
  by then, nowcast, and score against the counts known at the end of the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from kumin.epi._checks import check_real_param
from kumin.epi.delays import from_days, to_days
from kumin.epi.impute import count_by_day
from kumin.errors import DataError

# the 23 quantile levels of the US COVID-19 Forecast Hub: 11 central intervals and the median
HUB_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _draws_and_obs(draws: Any, observed: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(draws, dtype=float)
    y = np.asarray(observed, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1:] != y.shape and not (y.ndim == 0 and x.shape[1] == 1):
        raise DataError(
            "epi.data.shape_mismatch", name="observed", got=y.shape, expected=x.shape[1:]
        )
    return x, y


def crps(draws: Any, observed: Any) -> np.ndarray:
    """Sample CRPS of each target. ``draws`` is (n_draws, ...) and ``observed`` (...).

    Examples
    --------
    >>> import numpy as np
    >>> float(crps(np.array([1.0, 2.0, 3.0]), 2.0).round(4))
    0.2222
    """
    x, y = _draws_and_obs(draws, observed)
    n = x.shape[0]
    xs = np.sort(x, axis=0)
    term1 = np.mean(np.abs(xs - y), axis=0)
    # E|X - X'| over all n² ordered pairs, from the order statistics
    weights = (2 * np.arange(1, n + 1) - n - 1).reshape((n,) + (1,) * (xs.ndim - 1))
    term2 = 2.0 * np.sum(weights * xs, axis=0) / (n * n)
    out = term1 - 0.5 * term2
    return out.reshape(np.shape(observed)) if np.ndim(observed) else out.reshape(())


def wis(draws: Any, observed: Any, alphas: Iterable[float] = HUB_ALPHAS) -> np.ndarray:
    """Weighted interval score from samples (quantiles taken from the draws).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> float(wis(rng.normal(0, 1, 4000), 0.0)) < float(wis(rng.normal(3, 1, 4000), 0.0))
    True
    """
    x, y = _draws_and_obs(draws, observed)
    alphas = tuple(alphas)
    total = 0.5 * np.abs(y - np.median(x, axis=0))
    for a in alphas:
        lo, hi = np.quantile(x, [a / 2, 1 - a / 2], axis=0)
        score = (hi - lo) + (2 / a) * np.maximum(lo - y, 0) + (2 / a) * np.maximum(y - hi, 0)
        total = total + a / 2 * score
    out = total / (len(alphas) + 0.5)
    return out.reshape(np.shape(observed)) if np.ndim(observed) else out.reshape(())


def coverage(draws: Any, observed: Any, level: float = 0.9) -> np.ndarray:
    """Whether each target lies in the central ``level`` interval of the draws (bool array)."""
    check_real_param(level, "level", "coverage", 0.0, 1.0, closed="neither")
    x, y = _draws_and_obs(draws, observed)
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], axis=0)
    out = (y >= lo) & (y <= hi)
    return out.reshape(np.shape(observed)) if np.ndim(observed) else out.reshape(())


@dataclass(frozen=True)
class BacktestResult:
    """Scores of replayed nowcasts.

    ``table`` has one row per nowcast date ``as_of`` and onset date within
    ``horizon`` days before it: as_of, date, days_back (0 = as_of itself),
    reported_then, final, median, lower_50/upper_50/lower_90/upper_90, crps, wis,
    covered_50, covered_90, reliable. ``summary`` aggregates by days_back and overall
    (days_back = null).
    """

    table: pl.DataFrame
    summary: pl.DataFrame

    def coverage(self, level: float = 0.9) -> float:
        col = {0.5: "covered_50", 0.9: "covered_90"}[level]
        return float(self.table[col].mean())


def backtest(
    nowcaster: Any,
    onset_dates: Any,
    report_dates: Any,
    as_of_dates: Iterable[Any],
    *,
    horizon: int | None = None,
    final_date: Any = None,
) -> BacktestResult:
    """Replay the line list as it stood on each of ``as_of_dates`` and score the nowcasts.

    Parameters
    ----------
    nowcaster : Nowcaster
        An unfitted template; a fresh copy (same parameters) is fitted for each date.
    onset_dates, report_dates : array-like of dates
    as_of_dates : iterable of dates
    horizon : int, optional
        Days before each ``as_of`` to score (default: the nowcaster's ``max_delay``).
    final_date : date, optional
        What "later known" means: cases reported by this date (default: all).

    Returns
    -------
    BacktestResult
    """
    from kumin.epi.nowcast import Nowcaster  # avoid a cycle at import time

    onset, o_miss = to_days(onset_dates)
    report, r_miss = to_days(report_dates)
    ok = ~(o_miss | r_miss)
    onset, report = onset[ok], report[ok]
    if final_date is not None:
        final_day = int(to_days(np.array([final_date], "datetime64[D]"))[0][0])
        keep = report <= final_day
        onset, report = onset[keep], report[keep]
    params = nowcaster.get_params()
    h = params["max_delay"] if horizon is None else int(horizon)
    rows: list[dict[str, Any]] = []
    for as_of in as_of_dates:
        est = type(nowcaster)(**params) if isinstance(nowcaster, Nowcaster) else nowcaster
        est.fit(onset, report, as_of=as_of)
        days = to_days(est.dates_)[0]
        end = int(days[-1])
        sel = days > end - h
        final = count_by_day(onset, int(days[0]), end)
        draws = est.draws_[:, sel]
        fin = final[sel].astype(float)
        c = crps(draws, fin)
        w = wis(draws, fin)
        lo50, hi50 = np.quantile(draws, [0.25, 0.75], axis=0)
        lo90, hi90 = np.quantile(draws, [0.05, 0.95], axis=0)
        med = np.median(draws, axis=0)
        reliable = getattr(est, "reliable_", np.ones(len(days), dtype=bool))[sel]
        for j, day in enumerate(days[sel]):
            rows.append(
                {
                    "as_of": from_days(end).astype(object),
                    "date": from_days(day).astype(object),
                    "days_back": int(end - day),
                    "reported_then": int(est.observed_[sel][j]),
                    "final": int(fin[j]),
                    "median": float(med[j]),
                    "lower_50": float(lo50[j]),
                    "upper_50": float(hi50[j]),
                    "lower_90": float(lo90[j]),
                    "upper_90": float(hi90[j]),
                    "crps": float(c[j]),
                    "wis": float(w[j]),
                    "covered_50": bool(lo50[j] <= fin[j] <= hi50[j]),
                    "covered_90": bool(lo90[j] <= fin[j] <= hi90[j]),
                    # nowcast from the trend: too little was reported then
                    "reliable": bool(reliable[j]),
                }
            )
    table = pl.DataFrame(rows)
    agg = [
        pl.len().alias("n"),
        pl.col("crps").mean(),
        pl.col("wis").mean(),
        pl.col("covered_50").mean().alias("coverage_50"),
        pl.col("covered_90").mean().alias("coverage_90"),
    ]
    by_day = table.group_by("days_back").agg(agg).sort("days_back")
    overall = table.select(agg).with_columns(pl.lit(None, dtype=pl.Int64).alias("days_back"))
    summary = pl.concat([by_day, overall.select(by_day.columns)])
    return BacktestResult(table, summary)


__all__ = ["HUB_ALPHAS", "BacktestResult", "backtest", "coverage", "crps", "wis"]
