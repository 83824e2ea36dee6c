"""EpiEstim's options around the Cori estimator (:class:`kumin.epi.rt.RtEstimator`).

- :func:`check_windows` -- custom ``t_start``/``t_end`` windows, checked as EpiEstim does;
- :class:`PosteriorCVWarning` -- EpiEstim's "too early in the epidemic to get the
  desired posterior CV" warning;
- :func:`serial_interval_pmf` -- a serial interval given as gamma, lognormal or
  Weibull (mean, sd), discretised as EpiEstim's ``discr_si`` discretises the gamma;
  :func:`read_pmf` -- a serial interval given as a pmf file;
- :func:`estimate_r_aggregated` -- Rt from incidence aggregated over ``dt`` days
  (weekly counts), EpiEstim's ``estimate_R_agg`` (Nash, Cori & Nouvellet 2023):
  an EM reconstruction of daily incidence, then the usual sliding windows.

Imported cases are :meth:`RtEstimator.fit`'s ``imported`` argument and the
uncertain serial interval its ``uncertain_si`` parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kumin.epi._checks import check_choice_param, check_int_param, check_real_param
from kumin.errors import DataError, ParameterError

SI_FAMILIES = ("gamma", "lognormal", "weibull")


class PosteriorCVWarning(UserWarning):
    """Too few cases in the first window for the posterior CV wanted (EpiEstim's warning)."""

    def __init__(self, n_series: int, of: int, needed: int, cv: float) -> None:
        self.n_series, self.of, self.needed, self.cv = n_series, of, needed, cv
        super().__init__(
            f"{n_series} of {of} series have fewer than {needed} cases in their first window: "
            f"R is estimated too early in the epidemic for a posterior CV of {cv:g}."
        )


def check_windows(t_start: Any, t_end: Any, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Custom windows as 0-based inclusive int arrays, checked like EpiEstim's ``check_times``.

    Examples
    --------
    >>> [a.tolist() for a in check_windows([1, 8], [7, 14], 20)]
    [[1, 8], [7, 14]]
    """

    def bad(reason: str) -> ParameterError:
        return ParameterError("epi.rt_options.windows", reason=reason)

    try:
        s = np.asarray(t_start, dtype=np.float64).ravel()
        e = np.asarray(t_end, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise bad("not numbers") from None
    if s.size == 0 or s.size != e.size:
        raise bad("t_start and t_end must have the same, non-zero length")
    if not (np.all(np.isfinite(s)) and np.all(s == np.floor(s)) and np.all(e == np.floor(e))):
        raise bad("days must be whole numbers")
    if np.any(s < 1):
        raise bad("t_start must be >= 1 (the first day has no infectors)")
    if np.any(e < s):
        raise bad("t_end must be >= t_start")
    if np.any(e > n_days - 1):
        raise bad(f"t_end must be <= {n_days - 1} (the last day)")
    return s.astype(np.int64), e.astype(np.int64)


def serial_interval_pmf(family: str, mean: float, sd: float, n_days: int) -> np.ndarray:
    """A serial interval over days 0..n_days-1 from its family, mean and sd.

    As EpiEstim's ``discr_si`` does for the gamma: the serial interval minus one
    day follows the distribution (mean ``mean - 1``, sd ``sd``), the infector's
    onset is uniform within its day, so ``w_0 = 0`` and ``w_k`` is the
    double-censored probability of ``k - 1``. For ``"gamma"`` this is
    :func:`kumin.epi.rt.discr_si` exactly.

    Examples
    --------
    >>> from kumin.epi.rt import discr_si
    >>> w = serial_interval_pmf("gamma", 4.8, 2.3, 30)
    >>> bool(np.allclose(w, discr_si(np.arange(30), 4.8, 2.3), atol=1e-12))
    True
    >>> round(float(serial_interval_pmf("weibull", 4.8, 2.3, 40).sum()), 6)
    1.0
    """
    from kumin.epi.delays import DelayDistribution

    check_choice_param(family, "si_distribution", "serial_interval_pmf", SI_FAMILIES)
    mean = check_real_param(mean, "si_mean", "serial_interval_pmf", 1.0, None, closed="neither")
    sd = check_real_param(sd, "si_sd", "serial_interval_pmf", 0.0, None, closed="neither")
    n_days = check_int_param(n_days, "n_days", "serial_interval_pmf", 2)
    if family == "gamma":
        from kumin.epi.rt import discr_si

        return discr_si(np.arange(n_days), mean, sd)
    dist = DelayDistribution.from_mean_sd(family, mean - 1.0, sd)
    p = dist.pmf(n_days - 2, normalise=False)
    return np.concatenate([[0.0], p])


def read_pmf(path: str | Path, encoding: str = "auto") -> np.ndarray:
    """A serial-interval pmf file: columns ``day,p`` (days 0, 1, ... in order), or one column ``p``.

    Day 0 must have probability 0 and the whole must sum to 1 within 0.01 (EpiEstim's
    rules for ``si_distr``); problems are reported by line.
    """
    from kumin.core.tabular import read_table
    from kumin.errors import Problem

    table = read_table(path, encoding)
    if "p" not in table.columns or set(table.columns) - {"day", "p"}:
        raise DataError("epi.rt_options.pmf_columns", path=Path(path).name)
    values: list[float] = []
    problems: list[Problem] = []
    for line, row in table.rows:
        try:
            p = float(str(row["p"]).strip())
        except ValueError:
            p = float("nan")
        if not (np.isfinite(p) and p >= 0):
            problems.append(Problem(line, "p", "epi.rt_options.pmf_value", {"value": row["p"]}))
        if "day" in row and str(row["day"]).strip() != str(len(values)):
            problems.append(
                Problem(
                    line,
                    "day",
                    "epi.rt_options.pmf_day",
                    {"value": row["day"], "expected": len(values)},
                )
            )
        values.append(p)
    w = np.array(values)
    if not problems and (w.size < 2 or w[0] != 0 or abs(w.sum() - 1) > 0.01):
        problems.append(
            Problem(1, "p", "epi.rt_options.pmf_sum", {"total": round(float(np.nansum(w)), 4)})
        )
    if problems:
        raise DataError("epi.counts.invalid", problems=problems, path=Path(path).name)
    return w


# -- aggregated incidence (EpiEstim's estimate_R_agg) ---------------------------------


def r_to_big_r(r: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Growth rate to reproduction number (Wallinga & Lipsitch 2007), as ``epitrix::r2R0``."""
    w = np.asarray(w, dtype=np.float64)
    w = w / w.sum()
    t = np.concatenate([[0.0], np.arange(w.size) + 0.5])
    r = np.asarray(r, dtype=np.float64)
    out = np.ones_like(r)
    nz = np.abs(r) >= 1e-14
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(-np.outer(r[nz], t))
        denom = -(w * np.diff(e, axis=1) / np.diff(t)).sum(1)
        val = r[nz] / denom
    out[nz] = np.where(np.isinf(e[:, -1]), 0.0, val)
    return out


def _growth_rates(big_r: np.ndarray, w: np.ndarray, grid: tuple[float, float, float]) -> np.ndarray:
    """EpiEstim's ``get_r_from_R``: the grid growth rate whose R is nearest (widened if at an edge)."""
    precision, lo, hi = grid
    while True:
        n = int(np.floor((hi - lo) / precision + 1e-10))
        r_grid = lo + np.arange(n + 1) * precision
        r_of = r_to_big_r(r_grid, w)
        idx = np.abs(r_of[None, :] - big_r.ravel()[:, None]).argmin(axis=1)  # first minimum
        if not (np.any(idx == 0) or np.any(idx == r_grid.size - 1)):
            return r_grid[idx].reshape(big_r.shape)
        hi = 5 * hi if hi > 0 else -hi
        lo = 5 * lo if lo < 0 else -lo


@dataclass(frozen=True)
class AggregatedRt:
    """What :func:`estimate_r_aggregated` returns.

    Attributes
    ----------
    daily : numpy.ndarray (T,)
        Daily incidence reconstructed by the EM algorithm (the first aggregation
        window, which has no estimate of R, split evenly).
    estimator : RtEstimator
        Fitted on ``daily`` with sliding windows of ``dt_out`` days from the first
        day of the second aggregation window.
    converged : bool
        Whether the last two iterations differ by at most ``tol`` on every day.
    """

    daily: np.ndarray
    estimator: Any
    converged: bool


def estimate_r_aggregated(
    counts: Any,
    *,
    dt: int = 7,
    dt_out: int = 7,
    n_iter: int = 10,
    tol: float = 1e-6,
    grid: tuple[float, float, float] = (0.001, -1.0, 1.0),
    **estimator_params: Any,
) -> AggregatedRt:
    """Rt from counts aggregated over ``dt`` days (e.g. weekly), as EpiEstim's ``estimate_R_agg``.

    The EM algorithm of Nash, Cori & Nouvellet (2023), with ``recon_opt =
    "naive"``: start from each aggregate split evenly over its days; estimate R
    on the aggregation windows (from the second); turn each R into a growth rate
    on a grid (:func:`r_to_big_r`); rebuild each window's days as ``k·exp(r·j)``
    with ``k`` such that they sum to the aggregate; repeat ``n_iter`` times; then
    estimate R on sliding windows of ``dt_out`` days.

    Parameters
    ----------
    counts : array-like (n,)
        Cases per aggregation window (whole numbers).
    dt, dt_out, n_iter : int
        Days per aggregate; length of the output windows; EM iterations (>= 2).
    tol : float
        Convergence check of the last iteration (reported, as EpiEstim's message).
    grid : (precision, min, max)
        The grid of growth rates.
    **estimator_params
        Parameters of :class:`RtEstimator` (``si_mean``, ``si_sd``,
        ``generation_interval``, ``prior_shape``, ``prior_scale``).

    Examples
    --------
    >>> weekly = [7, 21, 49, 98, 150, 180, 160, 120]
    >>> res = estimate_r_aggregated(weekly, si_mean=4.8, si_sd=2.3)
    >>> res.daily.reshape(-1, 7).sum(1).round(6).tolist() == [float(x) for x in weekly]
    True
    """
    import warnings

    from kumin.epi._checks import check_counts
    from kumin.epi.rt import RtEstimator

    owner = "estimate_r_aggregated"
    dt = check_int_param(dt, "dt", owner, 2, 365)
    dt_out = check_int_param(dt_out, "dt_out", owner, 1, 365)
    n_iter = check_int_param(n_iter, "n_iter", owner, 2, 1000)
    incid = check_counts(counts, "counts", ndim=(1,)).astype(np.float64)
    n = incid.size
    if n < 3:
        raise DataError("epi.data.too_short", name="counts", length=n, minimum=3)
    T = n * dt
    starts = np.arange(dt, T - dt + 1, dt)  # 0-based: the first day of windows 2..n
    ends = starts + dt - 1
    dis_inc = np.repeat(incid / dt, dt)
    inner = {k: v for k, v in estimator_params.items() if k not in ("t_start", "t_end", "window")}

    def fit(inc: np.ndarray, **kw: Any) -> RtEstimator:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PosteriorCVWarning)
            return RtEstimator(method="cori", **inner, **kw).fit(inc)

    if inner.get("generation_interval") is None:
        from kumin.epi.rt import discr_si

        w = discr_si(np.arange(T + 1), inner.get("si_mean", 4.8), inner.get("si_sd", 2.3))
    else:
        w = np.asarray(inner["generation_interval"], dtype=np.float64)
    inc, prev = dis_inc, dis_inc
    for _ in range(n_iter):
        est = fit(inc, t_start=starts, t_end=ends)
        ok = np.isfinite(est.mean_)
        if not ok.any():
            raise DataError("epi.rt_options.too_few_to_reconstruct")
        first = int(starts[ok][0])
        aggs = np.arange(first // dt, n)
        gr = _growth_rates(est.mean_[ok], w, grid)
        j = np.arange(1, dt + 1)
        k = incid[aggs] / (np.exp(gr) * (1 + np.exp(np.outer(gr, np.arange(1, dt))).sum(1)))
        rebuilt = (k[:, None] * np.exp(np.outer(gr, j))).ravel()
        prev, inc = inc, np.concatenate([dis_inc[:first], rebuilt])
    converged = bool(np.all(np.abs(inc - prev) <= tol))
    out_start = np.arange(dt, T - dt_out + 1)
    final = fit(inc, t_start=out_start, t_end=out_start + dt_out - 1)
    return AggregatedRt(inc, final, converged)


__all__ = [
    "SI_FAMILIES",
    "AggregatedRt",
    "PosteriorCVWarning",
    "check_windows",
    "estimate_r_aggregated",
    "r_to_big_r",
    "read_pmf",
    "serial_interval_pmf",
]
