"""Rt by date of infection from a raw line list, in one call.

:func:`rt_by_infection_date` chains the steps of ``kumin.epi``::

    line list ──► onset → report delay (fitted, or given)
              ──► missing onsets imputed M times            (impute.py)
              ──► recent onset days nowcast, M·K draws        (nowcast.py)
              ──► infections by Richardson–Lucy deconvolution (deconvolve.py)
              ──► Rt by infection date, pooled over draws    (rt.py, method="infection")

Every draw of one step feeds the next, so the final interval carries the
uncertainty of the imputation and the nowcast (each draw is deconvolved on its
own, and the infections not yet seen as onsets are drawn) as well as the Poisson
uncertainty of the renewal equation. With report dates the nowcast is fitted once,
on the triangle of the cases whose onset is known: their reporting is observed,
where imputed onsets carry an average delay — among them a batch upload that
empties the backlog would pass for ordinary reporting of larger days. A day's
still-to-come cases are then scaled by its share of cases without onset (±3 days),
assuming the cases still to come lack an onset as often as those reported. Imported cases go through
imputation and deconvolution too, and count as infectors, never as locally
infected (they are not nowcast: their numbers are small and their reporting
differs).

Assumptions: the delays and the incubation period are the same for all cases
and over time (within the nowcast window for the delay); the generation interval
is the given distribution with day 0 removed; cases without an onset resemble
those with one reported on the same day; asymptomatic cases, if their "onset" is
missing, are treated like the others (their infection date is then the imputed
onset minus an incubation period).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from kumin.epi._checks import check_choice_param, check_int_param
from kumin.epi.deconvolve import Infections, infections_from_onsets, richardson_lucy
from kumin.epi.delays import DelayDistribution, DelayFit, DelayFitter, from_days, to_days
from kumin.epi.impute import ImputedOnsets, count_by_day, delay_pmf, impute_onsets
from kumin.epi.nowcast import DelayNowcaster, Nowcaster
from kumin.epi.rt import RtEstimator
from kumin.errors import DataError


@dataclass(frozen=True)
class PipelineResult:
    """What :func:`rt_by_infection_date` produced, step by step.

    Attributes
    ----------
    rt : polars.DataFrame
        date (end of the window, by infection date), r_mean, r_median, r_lower,
        r_upper (95%), and r_*_centred for the window centred on the date.
    onsets : polars.DataFrame
        date, reported (local cases with a known onset), imputed_mean (local,
        after imputation), nowcast median and 50/90/95% bounds.
    infections : Infections
        Local infections, draws × days.
    imported_infections : numpy.ndarray
        Imported infections on the same days, draws × days.
    imputation : ImputedOnsets
    onset_to_report : DelayDistribution
    timings : dict of str to float
        Seconds per step.
    """

    rt: pl.DataFrame
    onsets: pl.DataFrame
    infections: Infections
    imported_infections: np.ndarray
    imputation: ImputedOnsets
    onset_to_report: DelayDistribution
    n_cases: int
    n_imputed: int
    n_imported: int
    timings: dict[str, float] = field(default_factory=dict)


def generation_pmf(
    distribution: DelayDistribution | DelayFit | np.ndarray, max_days: int
) -> np.ndarray:
    """A generation-interval pmf over 0..max_days with day 0 set to 0 (renewal equation)."""
    p = delay_pmf(distribution, max_days, name="generation_interval").copy()
    p[0] = 0.0
    return p / p.sum()


def _column_days(frame: pl.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    if name not in frame.columns:
        raise DataError("epi.pipeline.missing_column", column=name)
    return to_days(frame[name])


def _still_to_come(
    onset: np.ndarray,
    report: np.ndarray,
    leave_out: np.ndarray,
    end: int,
    max_delay: int,
    n_draws: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Draws of the cases of known onset still to be reported, on the last days.

    The triangle is that of the local cases whose onset is known: their reporting is
    observed, where the imputed onsets' is drawn from an average delay. A batch upload
    of the last day is seen as such there (every pending case reported); among imputed
    onsets it would pass for ordinary reporting of larger days.
    """
    use = ~leave_out
    est = Nowcaster(max_delay=max_delay, n_draws=n_draws, random_state=int(rng.integers(2**31)))
    est.fit(onset[use], report[use], as_of=end)
    return np.maximum(est.draws_ - est.observed_[None, :], 0.0), est.draws_.shape[1]


def _with_unseen_drawn(inf: Infections, rng: np.random.Generator) -> Infections:
    """The last days' infections not yet seen as onsets, drawn instead of projected.

    The deconvolution scales a day's infections up by its completeness ``q`` (the
    share with an onset by the end): ``λ = seen / q``. The unseen part is not known,
    only its rate, and that rate rests on the ``q·λ`` infections seen: it is drawn as
    Poisson((1 − q)·λ·G), G ~ Gamma(q·λ, q·λ) (mean one). Complete days are left as
    they are; the interval widens as ``q`` falls towards the last day.
    """
    q = inf.completeness[None, :]
    seen = q * inf.draws
    shape = np.maximum(seen, 1e-9)
    rate = rng.gamma(shape, 1.0 / shape)
    unseen = rng.poisson((1.0 - q) * inf.draws * rate)
    draws = np.where(q < 1.0, seen + unseen, inf.draws)
    return Infections(draws, inf.days, inf.completeness, inf.complete_left)


def _missing_ratio(local: np.ndarray, known: np.ndarray, half: int = 3) -> np.ndarray:
    """Cases without a known onset per case with one, by onset day (±``half`` days
    summed; those without onset were imputed). Missing at random given the report
    date, the cases still to come lack an onset as often as those reported."""
    kernel = np.ones(2 * half + 1)
    imputed = np.convolve(np.maximum(local - known, 0.0), kernel, "same")
    with_onset = np.convolve(known, kernel, "same")
    overall = max(local.sum() - known.sum(), 0.0) / max(known.sum(), 1.0)
    return np.where(with_onset > 0, imputed / np.maximum(with_onset, 1e-9), overall)


def _summarise(draws: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    out = {f"{prefix}median": np.median(draws, axis=0)}
    for level in (0.5, 0.9, 0.95):
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        out[f"{prefix}lower_{round(level * 100)}"] = lo
        out[f"{prefix}upper_{round(level * 100)}"] = hi
    return out


def rt_by_infection_date(
    linelist: pl.DataFrame,
    *,
    incubation: DelayDistribution | DelayFit | np.ndarray,
    generation_interval: DelayDistribution | DelayFit | np.ndarray,
    onset_to_report: DelayDistribution | DelayFit | None = None,
    onset_col: str = "onset_date",
    report_col: str = "report_date",
    imported_col: str | None = None,
    as_of: Any = None,
    nowcast: str = "auto",
    n_imputations: int = 10,
    draws_per_imputation: int = 20,
    max_delay: int = 30,
    max_incubation: int = 21,
    window: int = 7,
    deconvolution: str = "richardson-lucy",
    random_state: int | None = None,
) -> PipelineResult:
    """Line list → imputation → nowcast → infection dates → Rt (see the module docstring).

    Parameters
    ----------
    linelist : polars.DataFrame
        One row per case: ``onset_col`` (may be null), ``report_col`` (report,
        result or confirmation date; null only where the onset is known) and,
        optionally, ``imported_col`` (bool).
    incubation, generation_interval : DelayDistribution, DelayFit or pmf
    onset_to_report : DelayDistribution or DelayFit, optional
        Default: fitted (:class:`DelayFitter`, AIC choice, right truncation) on
        the cases with both dates.
    as_of : date, optional
        Date of the data extract (default: the latest date in the list).
    nowcast : {"auto", "triangle", "delay", "none"}
        ``"triangle"`` (:class:`Nowcaster`) needs report dates for every case;
        ``"delay"`` (:class:`DelayNowcaster`) uses ``onset_to_report``; ``"auto"``
        picks the triangle when every case has a report date.
    n_imputations, draws_per_imputation : int
        ``M`` imputations, each nowcast ``K`` times: ``M·K`` draws in all.
    max_delay, max_incubation : int
        Longest onset → report delay and incubation period considered (days).
    window : int
        Rt window length (days).
    deconvolution : {"richardson-lucy", "shift"}
        Onsets → infections: :func:`richardson_lucy` deconvolution (default), or
        the older random incubation shift :func:`infections_from_onsets`, which
        blurs the curve (kept to compare with).
    random_state : int, optional

    Returns
    -------
    PipelineResult

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> onset = np.datetime64("2021-07-01") + np.repeat(np.arange(70), rng.poisson(40, 70))
    >>> report = onset + rng.integers(1, 6, onset.size).astype("timedelta64[D]")
    >>> onset = np.where(rng.random(onset.size) < 0.2, np.datetime64("NaT"), onset)
    >>> ll = pl.DataFrame({"onset_date": onset, "report_date": report})
    >>> res = rt_by_infection_date(ll, incubation=DelayDistribution.lognormal(1.5, 0.5),
    ...     generation_interval=DelayDistribution.gamma(4.0, 1.2), as_of="2021-09-08",
    ...     n_imputations=2, draws_per_imputation=5, max_delay=10, max_incubation=14,
    ...     random_state=0)
    >>> bool(0.5 < res.rt["r_median"].drop_nulls().median() < 1.5)
    True
    """
    owner = "rt_by_infection_date"
    check_choice_param(nowcast, "nowcast", owner, ("auto", "triangle", "delay", "none"))
    check_choice_param(deconvolution, "deconvolution", owner, ("richardson-lucy", "shift"))
    M = check_int_param(n_imputations, "n_imputations", owner, 1, 1000)
    K = check_int_param(draws_per_imputation, "draws_per_imputation", owner, 1, 10_000)
    max_delay = check_int_param(max_delay, "max_delay", owner, 1, 120)
    max_incubation = check_int_param(max_incubation, "max_incubation", owner, 1, 60)
    rng = np.random.default_rng(random_state)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    onset, o_miss = _column_days(linelist, onset_col)
    report, r_miss = _column_days(linelist, report_col)
    if imported_col is None:
        imported = np.zeros(len(onset), dtype=bool)
    else:
        if imported_col not in linelist.columns:
            raise DataError("epi.pipeline.missing_column", column=imported_col)
        imported = linelist[imported_col].cast(pl.Boolean).fill_null(False).to_numpy()
    known = np.concatenate([onset[~o_miss], report[~r_miss]])
    if as_of is None:
        end = int(known.max())
    else:
        end = int(to_days(np.array([as_of], "datetime64[D]"))[0][0])
        # the list as it stood on as_of: later reports were not yet known
        seen = (r_miss | (report <= end)) & (o_miss | (onset <= end))
        onset, o_miss, report, r_miss = onset[seen], o_miss[seen], report[seen], r_miss[seen]
        imported = imported[seen]

    # 1. the onset → report delay
    if onset_to_report is None:
        both = ~(o_miss | r_miss)
        if both.sum() < 20:
            raise DataError("epi.pipeline.no_delay_data", count=int(both.sum()), minimum=20)
        fitter = DelayFitter(random_state=random_state).fit(
            onset[both], report[both], end_date=from_days(end)
        )
        delay_dist = fitter.best_.distribution
    else:
        delay_dist = (
            onset_to_report.distribution
            if isinstance(onset_to_report, DelayFit)
            else onset_to_report
        )
    timings["delay"] = time.perf_counter() - t0

    # 2. imputation
    t1 = time.perf_counter()
    imp = impute_onsets(
        np.where(o_miss, np.datetime64("NaT"), from_days(onset)),
        np.where(r_miss, np.datetime64("NaT"), from_days(report)),
        delay_dist,
        n_draws=M,
        max_delay=max_delay,
        end_date=from_days(end),
        random_state=rng,
    )
    timings["impute"] = time.perf_counter() - t1

    # 3. nowcast the local onset curve, per imputation
    t2 = time.perf_counter()
    first = int(imp.onset_days.min())
    n_days = end - first + 1
    local_counts = count_by_day(imp.onset_days[:, ~imported], first, end)
    known_counts = count_by_day(onset[~o_miss & ~imported], first, end)
    imported_counts = count_by_day(imp.onset_days[:, imported], first, end)
    mode = nowcast
    if mode == "auto":
        mode = "triangle" if not r_miss.any() else "delay"
    if mode == "triangle" and r_miss.any():
        raise DataError("epi.pipeline.triangle_needs_reports", count=int(r_miss.sum()))
    draws = np.empty((M * K, n_days))
    hyper: dict[str, float] = {}
    if mode == "triangle":
        still, still_days = _still_to_come(
            onset, report, o_miss | imported, end, max_delay, M * K, rng
        )
        still_days = min(still_days, n_days)
        still = still[:, -still_days:]
    for m in range(M):
        seed = int(rng.integers(2**31))
        rows = slice(m * K, (m + 1) * K)
        if mode == "none":
            draws[rows] = local_counts[m]
        elif mode == "triangle":
            # what is reported (known and imputed onsets) plus the still-to-come cases of
            # known onset, scaled up by the share of the days' cases without onset
            scale = 1.0 + _missing_ratio(local_counts[m], known_counts)[-still_days:]
            draws[rows] = local_counts[m]
            draws[rows, n_days - still_days :] += np.round(still[rows] * scale)
        else:
            est = DelayNowcaster(
                delay_dist, max_delay=max_delay, n_draws=K, random_state=seed, **hyper
            )
            est.fit(local_counts[m], np.arange(first, end + 1), as_of=end)
            # the smoothing hyperparameters barely change between imputations: estimate once
            hyper = {"rw_sd": est.rw_sd_, "dispersion": est.dispersion_}
            draws[rows] = est.full_draws()
    timings["nowcast"] = time.perf_counter() - t2

    # 4. infection dates
    t3 = time.perf_counter()
    imp_draws = np.repeat(imported_counts, K, axis=0)
    if deconvolution == "shift":
        local_inf = infections_from_onsets(
            draws, incubation, start=first, max_days=max_incubation, random_state=rng
        )
        imp_inf = infections_from_onsets(
            imp_draws, incubation, start=first, max_days=max_incubation, random_state=rng
        )
    else:
        local_inf = richardson_lucy(draws, incubation, start=first, max_days=max_incubation)
        local_inf = _with_unseen_drawn(local_inf, rng)
        imp_inf = richardson_lucy(imp_draws, incubation, start=first, max_days=max_incubation)
    T = local_inf.draws.shape[1]
    imported_inf = imp_inf.draws[:, :T]
    timings["deconvolve"] = time.perf_counter() - t3

    # 5. renewal equation by infection date
    t4 = time.perf_counter()
    gi = generation_pmf(generation_interval, max_incubation + 20)
    est_rt = RtEstimator(
        method="infection", window=window, generation_interval=gi, random_state=rng
    ).fit(local_inf.draws, imported=imported_inf)
    rt = est_rt.to_frame(local_inf.dates)
    half = window // 2
    centred = rt.select(
        (pl.col("date") - pl.duration(days=window - 1 - half)).alias("date"),
        *(pl.col(c).alias(f"{c}_centred") for c in ("r_mean", "r_median", "r_lower", "r_upper")),
    )
    rt = rt.drop("region").join(centred, on="date", how="left")
    # windows reaching into the first days miss infectees of onsets before the series
    first_complete = local_inf.days[local_inf.complete_left][0]
    rt = rt.filter(pl.col("date") >= from_days(first_complete + window - 1).astype(object))
    timings["rt"] = time.perf_counter() - t4

    known_local = ~o_miss & ~imported
    onsets = pl.DataFrame(
        {
            "date": from_days(np.arange(first, end + 1)),
            "reported": count_by_day(onset[known_local], first, end),
            "imputed_mean": local_counts.mean(axis=0),
            **_summarise(draws),
        }
    )
    timings["total"] = time.perf_counter() - t0
    return PipelineResult(
        rt=rt,
        onsets=onsets,
        infections=local_inf,
        imported_infections=imported_inf,
        imputation=imp,
        onset_to_report=delay_dist,
        n_cases=len(onset),
        n_imputed=imp.n_imputed,
        n_imported=int(imported.sum()),
        timings=timings,
    )


__all__ = ["PipelineResult", "generation_pmf", "rt_by_infection_date"]
