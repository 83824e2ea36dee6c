"""The calibrated Erlang A model of a call centre, and what it says about staff.

:func:`calibrate_patience` finds the callers' mean patience at which Erlang A,
interval by interval through the intraday profile, reproduces the abandoned
calls of a period, with a 95 % interval from the count's own noise (inflated
by the day-to-day overdispersion the model does not explain).

:func:`staff_effect_by_load` then asks the model the manager's question — how
many more calls would one more person on the phones have answered that day? —
day by day, and summarises it by load (the day's abandonment rate), because the
answer depends on load: almost nothing on a quiet day, dozens on a day when a
fifth of callers hang up. It is the model's counterfactual, not an
experiment: the effect holds to the extent that Erlang A describes the centre,
which :func:`saturation_test` checks where it matters — on the best-staffed
days, where a "saturation" (extra staff answering fewer calls than the model
says) would show as observed answered calls falling behind the model. The
test's null distribution is simulated from the calibrated model, so smooth
diminishing returns are not mistaken for a breakpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from kumin.errors import DataError
from kumin.resources.intraday import IntradayProfile, default_profile
from kumin.resources.queueing import erlang_a

Z95 = 1.959963984540054
# Abandonment bands a manager reads: fine, strained, overloaded.
LOAD_BANDS = ((0.0, 0.05, "under_5pct"), (0.05, 0.20, "5_to_20pct"), (0.20, 1.01, "over_20pct"))


@dataclass(frozen=True)
class DayQueue:
    """One day as the model sees it: agents, arrival rates per interval, handle time."""

    date: object
    agents: int
    rates: np.ndarray  # arrivals per hour in each profile interval
    handle: float
    real_hours: float  # real hours one interval stands for
    calls: int
    answered: int
    abandoned: int | None


def day_queues(frame: pl.DataFrame, profile: IntradayProfile | None = None) -> list[DayQueue]:
    """The days with staff, calls and a handle time, as queues."""
    profile = profile or default_profile()
    need = ("calls_received", "calls_answered", "staff_regular", "staff_external", "staffed_hours")
    if any(c not in frame.columns for c in (*need, "mean_handle_seconds")):
        raise DataError("resources.calls.no_staffing")
    out = []
    interval_h = profile.interval_minutes / 60.0
    for r in frame.sort("date").iter_rows(named=True):
        if any(r[c] is None for c in need) or not r["mean_handle_seconds"]:
            continue
        if r["staffed_hours"] <= 0 or r["calls_received"] <= 0:
            continue
        real_h = interval_h * r["staffed_hours"] / profile.open_hours
        shares = profile.for_weekday(r["date"].isoweekday())
        out.append(
            DayQueue(
                r["date"],
                int(r["staff_regular"] + r["staff_external"]),
                r["calls_received"] * shares / real_h,
                float(r["mean_handle_seconds"]),
                real_h,
                int(r["calls_received"]),
                int(r["calls_answered"]),
                None if r.get("calls_abandoned") is None else int(r["calls_abandoned"]),
            )
        )
    return out


def expected_abandoned(days: list[DayQueue], patience: float, extra_agents: int = 0) -> np.ndarray:
    """Abandoned calls Erlang A expects on each day (with ``extra_agents`` more on the phones)."""
    out = np.empty(len(days))
    for i, d in enumerate(days):
        total = 0.0
        for rate in d.rates:
            if rate > 0:
                p = erlang_a(d.agents + extra_agents, rate, d.handle, patience, 0)
                total += rate * d.real_hours * p.abandonment_probability
        out[i] = total
    return out


@dataclass(frozen=True)
class PatienceFit:
    """Callers' mean patience (seconds) with its 95 % interval.

    ``dispersion`` is the Pearson ratio of the daily abandoned counts about the
    model (1: binomial noise only); the interval is widened by its square root.
    ``low``/``high`` are None where the bound lies beyond 1 s or 10 days.
    """

    patience_seconds: float
    low: float | None
    high: float | None
    abandoned: int
    calls: int
    days: int
    dispersion: float


def _solve(
    days: list[DayQueue], target: float, lo: float = 1.0, hi: float = 864_000.0
) -> float | None:
    from scipy.optimize import brentq

    def gap(log_p: float) -> float:
        return float(expected_abandoned(days, math.exp(log_p)).sum()) - target

    a, b = math.log(lo), math.log(hi)
    if not gap(a) >= 0 >= gap(b):
        if (lo, hi) != (1.0, 864_000.0):
            return _solve(days, target)  # the narrow bracket missed: search it all
        return None
    return math.exp(brentq(gap, a, b, xtol=1e-3))


# Recent calibrations by content: the summary, the plan and the report calibrate
# the same days within one request, and each calibration costs seconds.
_CACHE: dict[tuple, PatienceFit | None] = {}
_CACHE_SIZE = 16


def calibrate_patience(
    frame: pl.DataFrame, profile: IntradayProfile | None = None
) -> PatienceFit | None:
    """Mean patience reproducing the abandoned calls; None when it cannot be identified.

    Abandonment falls monotonically as patience grows, so the root is unique;
    with no abandoned calls at all patience is unidentifiable (None).
    """
    profile = profile or default_profile()
    key = (
        frame.height,
        int(frame.hash_rows(seed=13).sum()) if frame.height else 0,
        profile.interval_minutes,
        profile.starts,
        tuple(float(v) for wd in range(1, 8) for v in profile.for_weekday(wd)),
    )
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _calibrate(frame, profile)
    return _CACHE[key]


def _calibrate(frame: pl.DataFrame, profile: IntradayProfile) -> PatienceFit | None:
    days = [d for d in day_queues(frame, profile) if d.abandoned is not None]
    abandoned = sum(d.abandoned for d in days)
    if not days or abandoned == 0:
        return None
    patience = _solve(days, abandoned, 20.0, 2000.0)
    if patience is None:
        return None
    expected = expected_abandoned(days, patience)
    observed = np.array([d.abandoned for d in days], float)
    ok = expected > 0.5
    dof = max(int(ok.sum()) - 1, 1)
    phi = max(1.0, float(((observed[ok] - expected[ok]) ** 2 / expected[ok]).sum() / dof))
    half = Z95 * math.sqrt(phi * abandoned)
    # More abandoned calls than observed means less patient callers: the bounds swap.
    low = _solve(days, abandoned + half, patience / 4, patience)
    high = _solve(days, max(abandoned - half, 0.5), patience, patience * 4)
    return PatienceFit(
        patience,
        low,
        high,
        int(abandoned),
        int(sum(d.calls for d in days)),
        len(days),
        phi,
    )


@dataclass(frozen=True)
class LoadEffect:
    """Calls one more person on the phones would have answered, by load.

    ``by_day``: date, abandon_rate, band, agents, marginal (at the fitted
    patience), marginal_low, marginal_high (over the patience interval).
    ``by_band``: band, days, mean marginal with its interval, and the median
    day's. Association through the calibrated model, not a measured effect.
    """

    patience: PatienceFit
    by_day: pl.DataFrame
    by_band: pl.DataFrame
    median_day: float
    median_day_low: float
    median_day_high: float


def marginal_answered(days: list[DayQueue], patience: float) -> np.ndarray:
    """Per day, answered calls with one more agent minus answered with the staff deployed."""
    return expected_abandoned(days, patience) - expected_abandoned(days, patience, 1)


def staff_effect_by_load(
    frame: pl.DataFrame,
    profile: IntradayProfile | None = None,
    patience: PatienceFit | None = None,
) -> LoadEffect:
    """The model's marginal effect of one more person, day by day and by load band."""
    patience = patience or calibrate_patience(frame, profile)
    if patience is None:
        raise DataError("resources.evaluation.no_abandoned")
    days = [d for d in day_queues(frame, profile) if d.abandoned is not None]
    fits = [patience.patience_seconds]
    fits += [p for p in (patience.low, patience.high) if p is not None]
    effects = np.array([marginal_answered(days, p) for p in fits])
    mid = effects[0]
    low, high = effects.min(axis=0), effects.max(axis=0)
    rate = np.array([d.abandoned / d.calls for d in days])
    band = [next(name for lo, hi, name in LOAD_BANDS if lo <= r < hi) for r in rate]
    by_day = pl.DataFrame(
        {
            "date": [d.date for d in days],
            "abandon_rate": rate,
            "band": band,
            "agents": [d.agents for d in days],
            "marginal": mid,
            "marginal_low": low,
            "marginal_high": high,
        }
    )
    # The interval of a band's mean uses each patience bound across all days at
    # once (the days share one patience), not day-by-day extremes.
    rows = []
    for _, _, name in LOAD_BANDS:
        sel = np.array([b == name for b in band])
        if not sel.any():
            rows.append((name, 0, None, None, None))
            continue
        means = effects[:, sel].mean(axis=1)
        rows.append((name, int(sel.sum()), float(means[0]), float(means.min()), float(means.max())))
    by_band = pl.DataFrame(
        rows,
        schema={
            "band": pl.String,
            "days": pl.Int64,
            "marginal": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
        orient="row",
    )
    med = np.median(effects, axis=1)
    return LoadEffect(patience, by_day, by_band, float(med[0]), float(med.min()), float(med.max()))


@dataclass(frozen=True)
class SaturationTest:
    """Do the best-staffed days answer fewer calls than the calibrated model says?

    ``statistic`` is the largest standardised shortfall of observed answered
    calls behind the model, accumulated over days sorted by staff on duty from
    each candidate threshold upward (a centre whose lines or desks run out
    answers fewer calls than its staff could, and only on its best-staffed
    days); its p-value comes from ``n_sim`` data sets simulated from the
    calibrated model itself, so the search over thresholds is paid for.
    ``saturates`` only when p < 0.05; then ``threshold`` is the staff count from
    which the shortfall accumulates.
    """

    statistic: float
    p_value: float
    saturates: bool
    threshold: float | None
    n_sim: int
    curve: pl.DataFrame  # agents, intensity, answer_rate (observed), model_rate


def _sup_shortfall(resid: np.ndarray, var: np.ndarray, min_days: int) -> tuple[float, int]:
    # Cumulative sums from the top (best staffed) down, standardised.
    rs = np.cumsum(resid[::-1])[::-1]
    vs = np.cumsum(var[::-1])[::-1]
    z = -rs / np.sqrt(np.maximum(vs, 1e-12))
    n = len(resid)
    z[n - min_days + 1 :] = -np.inf  # need enough days above a threshold
    k = int(np.argmax(z))
    return float(z[k]), k


def saturation_test(
    frame: pl.DataFrame,
    profile: IntradayProfile | None = None,
    patience: PatienceFit | None = None,
    n_sim: int = 400,
    seed: int = 0,
    min_days: int = 20,
) -> SaturationTest:
    """Test for saturation against the calibrated Erlang A model (see :class:`SaturationTest`)."""
    patience = patience or calibrate_patience(frame, profile)
    if patience is None:
        raise DataError("resources.evaluation.no_abandoned")
    days = [d for d in day_queues(frame, profile) if d.abandoned is not None]
    if len(days) < 2 * min_days:
        raise DataError("resources.too_few", got=len(days), need=2 * min_days)
    calls = np.array([d.calls for d in days], float)
    p_ab = np.clip(expected_abandoned(days, patience.patience_seconds) / calls, 0.0, 1.0)
    answered = np.array([d.answered for d in days], float)
    agents = np.array([d.agents for d in days], float)
    intensity = agents * np.array([d.real_hours * len(d.rates) for d in days]) / calls * 100
    order = np.lexsort((intensity, agents))
    expected = calls * (1 - p_ab)
    var = np.maximum(calls * p_ab * (1 - p_ab), 1e-9) * patience.dispersion
    stat, k = _sup_shortfall((answered - expected)[order], var[order], min_days)
    # Under the model each day's answered count is its expectation plus noise of
    # the calibrated variance (binomial, widened by the overdispersion).
    rng = np.random.default_rng(seed)
    sd = np.sqrt(var[order])
    sims = np.empty(n_sim)
    for i in range(n_sim):
        sims[i] = _sup_shortfall(sd * rng.standard_normal(len(sd)), var[order], min_days)[0]
    p_value = float((1 + (sims >= stat).sum()) / (n_sim + 1))
    saturates = p_value < 0.05
    curve = pl.DataFrame(
        {
            "agents": agents[order],
            "intensity": intensity[order],
            "answer_rate": (answered / calls)[order],
            "model_rate": (1 - p_ab)[order],
        }
    )
    return SaturationTest(
        stat,
        p_value,
        saturates,
        float(agents[order][k]) if saturates else None,
        n_sim,
        curve,
    )


def what_happened(
    frame: pl.DataFrame,
    patience: PatienceFit | float | None,
    profile: IntradayProfile | None = None,
    answer_within: float = 30.0,
    every: str = "1d",
) -> pl.DataFrame:
    """Per day (``every="1d"``) or month (``"1mo"``): offered, answered and abandoned
    calls, the observed answer rate beside the service level the model gives the
    staff on duty (Erlang A with ``patience``; Erlang C when None), staff on duty,
    cost and cost per answered call.

    ``service_level_model`` is the share of offered calls answered within
    ``answer_within`` seconds by the model; ``answer_rate`` is the share answered
    at all, as recorded.
    """
    from kumin.resources.queueing import queue_stats

    value = patience.patience_seconds if isinstance(patience, PatienceFit) else patience
    days = day_queues(frame, profile)
    cache: dict[tuple, float] = {}
    modelled = []
    for d in days:
        total = 0.0
        for rate in d.rates:
            # Rates to 0.5 calls/hour and handle times to the second share a solve.
            key = (d.agents, round(rate * 2) / 2, round(d.handle))
            if key not in cache:
                cache[key] = queue_stats(key[0], key[1], key[2], answer_within, value).service_level
            total += rate * d.real_hours * cache[key]
        modelled.append(total)
    by_day = pl.DataFrame(
        {
            "date": [d.date for d in days],
            "offered": [d.calls for d in days],
            "answered": [d.answered for d in days],
            "abandoned": [d.abandoned for d in days],
            "_answered_in_time_model": modelled,
            "staff_on_duty": [d.agents for d in days],
        },
        schema_overrides={"abandoned": pl.Int64},
    )
    cost = (
        frame.select("date", pl.col("cost_yen").cast(pl.Float64))
        if "cost_yen" in frame.columns
        else None
    )
    if cost is not None:
        by_day = by_day.join(cost, on="date", how="left")
    else:
        by_day = by_day.with_columns(pl.lit(None, pl.Float64).alias("cost_yen"))
    out = (
        by_day.sort("date")
        .group_by_dynamic("date", every=every)
        .agg(
            pl.len().alias("days"),
            pl.col("offered").sum(),
            pl.col("answered").sum(),
            pl.col("abandoned").sum(),
            pl.col("_answered_in_time_model").sum(),
            pl.col("staff_on_duty").mean(),
            pl.col("cost_yen").sum(),
        )
        .with_columns(
            (pl.col("answered") / pl.col("offered")).alias("answer_rate"),
            (pl.col("_answered_in_time_model") / pl.col("offered")).alias("service_level_model"),
            pl.when(pl.col("answered") > 0)
            .then(pl.col("cost_yen") / pl.col("answered"))
            .otherwise(None)
            .alias("cost_per_answered_call"),
        )
        .drop("_answered_in_time_model")
    )
    return out.rename({"date": "period_start"})
