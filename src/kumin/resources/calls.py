"""Daily records of a fever-consultation call centre: import and analysis.

Two import profiles (TOML files in :mod:`kumin.resources.profiles`):

* ``call_centre_daily`` — the ward's own records: ``date, calls_received,
  calls_answered, staff_regular, staff_external, staffed_hours`` and optionally
  ``calls_abandoned, mean_handle_seconds, cost_yen``;
* ``tokyo_calls`` — Tokyo's open data (``date,calls``): demand only.

Everything below the readers works on polars frames and degrades gracefully:
with calls alone you get demand figures and the lead/lag with cases; staffing
figures appear when the staffing columns exist.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass

import numpy as np
import polars as pl

from kumin.core.tabular import Table, read_table
from kumin.errors import DataError, NotFittedError, ParameterError, Problem
from kumin.resources.profiles import parse_table
from kumin.resources.queueing import (
    check_number,
    min_agents,
    queue_stats,
)

STAFF_COLUMNS = ("calls_answered", "staff_regular", "staff_external", "staffed_hours")
Z95 = 1.959963984540054


# ---------------------------------------------------------------- import


def _record_problems(line: int, row: dict) -> list[Problem]:
    problems = []
    received, answered = row["calls_received"], row["calls_answered"]
    if answered > received:
        problems.append(
            Problem(
                line,
                "calls_answered",
                "resources.import.answered_exceeds",
                {"answered": answered, "received": received},
            )
        )
    elif row.get("calls_abandoned") is not None and answered + row["calls_abandoned"] > received:
        problems.append(
            Problem(
                line,
                "calls_abandoned",
                "resources.import.abandoned_exceeds",
                {"total": answered + row["calls_abandoned"], "received": received},
            )
        )
    if answered > 0 and row["staffed_hours"] == 0:
        problems.append(Problem(line, "staffed_hours", "resources.import.no_staffed_hours"))
    return problems


def parse_call_records(table: Table) -> pl.DataFrame:
    """Validate a table of daily call-centre records into a frame sorted by date.

    All-or-nothing: any bad cell, duplicate date or inconsistent row (answered
    above received, answered plus abandoned above received, calls answered with
    no staffed hours) raises one :class:`DataError` listing every problem.
    """
    frame, _ = parse_table(table, "call_centre_daily", _record_problems)
    return frame.sort("date")


def read_call_records(path: str | os.PathLike[str], encoding: str = "auto") -> pl.DataFrame:
    """Read and validate a CSV/xlsx file of daily call-centre records."""
    return parse_call_records(read_table(path, encoding))


def parse_tokyo_calls(table: Table) -> pl.DataFrame:
    """Validate a ``date,calls`` table (Tokyo open data) into ``date, calls_received``."""
    frame, _ = parse_table(table, "tokyo_calls")
    return frame.sort("date")


def read_tokyo_calls(path: str | os.PathLike[str], encoding: str = "auto") -> pl.DataFrame:
    """Read one of Tokyo's daily call-count files (``date,calls``)."""
    return parse_tokyo_calls(read_table(path, encoding))


# ---------------------------------------------------------------- period figures


def _between(frame: pl.DataFrame, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    return frame


def _has(frame: pl.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns and frame[c].null_count() < frame.height for c in columns)


def daily_metrics(frame: pl.DataFrame) -> pl.DataFrame:
    """Add per-day ratios to a records frame, for the columns it has.

    Adds ``staff_total``, ``staff_hours`` (people × hours), ``answer_rate``,
    ``abandon_rate``, ``calls_per_staff_hour`` (answered) and
    ``cost_per_answered_call``; a ratio with a zero denominator is null.
    """
    exprs = []
    if _has(frame, "calls_answered"):
        exprs.append(
            _ratio(pl.col("calls_answered"), pl.col("calls_received")).alias("answer_rate")
        )
    if _has(frame, "calls_abandoned"):
        exprs.append(
            _ratio(pl.col("calls_abandoned"), pl.col("calls_received")).alias("abandon_rate")
        )
    if _has(frame, "staff_regular", "staff_external", "staffed_hours"):
        total = pl.col("staff_regular") + pl.col("staff_external")
        exprs += [
            total.alias("staff_total"),
            (total * pl.col("staffed_hours")).alias("staff_hours"),
        ]
        exprs.append(
            _ratio(pl.col("calls_answered"), total * pl.col("staffed_hours")).alias(
                "calls_per_staff_hour"
            )
        )
    if _has(frame, "cost_yen", "calls_answered"):
        exprs.append(
            _ratio(pl.col("cost_yen"), pl.col("calls_answered")).alias("cost_per_answered_call")
        )
    return frame.with_columns(exprs) if exprs else frame


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)


@dataclass(frozen=True)
class CallSummary:
    """Totals and ratios over a period; ``None`` where the data lack the columns."""

    start: dt.date
    end: dt.date
    days: int
    calls_received: int
    mean_calls_per_day: float
    peak_calls: int
    peak_date: dt.date
    calls_answered: int | None = None
    answer_rate: float | None = None
    calls_abandoned: int | None = None
    abandon_rate: float | None = None
    staff_hours: float | None = None
    external_share_of_staff_hours: float | None = None
    calls_per_staff_hour: float | None = None
    cost_yen: float | None = None
    cost_per_answered_call: float | None = None


def summarise_period(
    frame: pl.DataFrame, start: dt.date | None = None, end: dt.date | None = None
) -> CallSummary:
    """Answer rate, calls per staff-hour and cost per answered call over a period.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> f = pl.DataFrame({"date": [dt.date(2020, 4, 1), dt.date(2020, 4, 2)],
    ...                   "calls_received": [120, 80]})
    >>> summarise_period(f).mean_calls_per_day
    100.0
    """
    part = _between(frame, start, end)
    if part.height == 0:
        raise DataError("resources.no_rows")
    received = int(part["calls_received"].sum())
    peak = part.sort("calls_received", descending=True).row(0, named=True)
    out = dict(
        start=part["date"].min(),
        end=part["date"].max(),
        days=part.height,
        calls_received=received,
        mean_calls_per_day=received / part.height,
        peak_calls=int(peak["calls_received"]),
        peak_date=peak["date"],
    )
    if _has(part, "calls_answered"):
        answered = int(part["calls_answered"].sum())
        out.update(calls_answered=answered, answer_rate=answered / received if received else None)
    if _has(part, "calls_abandoned"):
        abandoned = int(part["calls_abandoned"].fill_null(0).sum())
        out.update(
            calls_abandoned=abandoned, abandon_rate=abandoned / received if received else None
        )
    if _has(part, "staff_regular", "staff_external", "staffed_hours"):
        hours = float(
            ((part["staff_regular"] + part["staff_external"]) * part["staffed_hours"]).sum()
        )
        external = float((part["staff_external"] * part["staffed_hours"]).sum())
        out.update(
            staff_hours=hours,
            external_share_of_staff_hours=external / hours if hours else None,
            calls_per_staff_hour=out["calls_answered"] / hours if hours else None,
        )
    if _has(part, "cost_yen"):
        cost = float(part["cost_yen"].fill_null(0).sum())
        answered = out.get("calls_answered")
        out.update(cost_yen=cost, cost_per_answered_call=cost / answered if answered else None)
    return CallSummary(**out)


# ---------------------------------------------------------------- external staff effect


def hac_lags(n: int) -> int:
    """Newey–West lags: the usual ``floor(4 (n/100)^(2/9))``, but never below 7.

    Staff rotas and calls both follow the week, and the residuals of the daily
    regression stay correlated at lag 7 (0.37 on the synthetic ward); a
    bandwidth that stops at 6 days would miss exactly that correlation.
    """
    return max(7, int(math.floor(4 * (n / 100) ** (2 / 9))))


def _hac_cov(x: np.ndarray, resid: np.ndarray, lags: int | None = None) -> np.ndarray:
    """Newey–West covariance of OLS coefficients (Bartlett kernel).

    Daily call data are autocorrelated, so plain OLS intervals would be too narrow.
    """
    n = len(resid)
    if lags is None:
        lags = int(math.floor(4 * (n / 100) ** (2 / 9)))
    xu = x * resid[:, None]
    meat = xu.T @ xu
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        gamma = xu[lag:].T @ xu[:-lag]
        meat += w * (gamma + gamma.T)
    bread = np.linalg.pinv(x.T @ x)
    return bread @ meat @ bread * n / max(n - x.shape[1], 1)


@dataclass(frozen=True)
class StaffEffect:
    """How many more calls a day went with each added external person: an association.

    ``per_person`` is the coefficient of external staff (lagged ``lag`` days)
    in ``answered = a + b·external + c·regular + d·received``, one average over
    quiet and overloaded days alike (the effect by load is
    :func:`kumin.resources.calibration.staff_effect_by_load`). The interval is
    Newey–West with ``hac_lags`` lags (at least 7: the week), and since the lag
    was chosen by fit among ``max_lag + 1``, its critical value ``z`` is
    Bonferroni-corrected for that choice. ``by_lag`` holds every lag tried.
    Staff were not assigned at random, so this says association, not cause.
    """

    lag: int
    days: int
    per_person: float
    per_person_low: float
    per_person_high: float
    by_lag: pl.DataFrame  # lag, per_person, low, high, rss
    hac_lags: int = 7
    z: float = Z95


def external_staff_effect(
    frame: pl.DataFrame,
    max_lag: int = 7,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> StaffEffect:
    """Lagged regression of calls answered on external staff (see :class:`StaffEffect`).

    The lag (0..``max_lag`` days: new staff may need some days of training) with
    the smallest residual sum of squares is chosen on a common sample. Calls
    received is a regressor so that the effect is not mistaken for demand
    (staff were added when calls rose).
    """
    max_lag = check_number(max_lag, "max_lag", "external_staff_effect", 0, 60, integer=True)
    for c in ("calls_answered", "staff_regular", "staff_external", "staffed_hours"):
        if not _has(frame, c):
            raise DataError(
                "resources.import.invalid",
                problems=[Problem(None, c, "core.tabular.missing_column")],
                path="-",
            )
    part = _between(frame.sort("date"), start, end)
    y_all = part["calls_answered"].to_numpy().astype(float)
    ext = part["staff_external"].to_numpy().astype(float)
    reg = part["staff_regular"].to_numpy().astype(float)
    rec = part["calls_received"].to_numpy().astype(float)
    n = len(y_all) - max_lag
    if n < 20:
        raise DataError("resources.too_few", got=max(n, 0), need=20 + max_lag)
    sl = slice(max_lag, None)
    rows = []
    best = None
    lags = hac_lags(n)
    from scipy.stats import norm

    z = float(norm.ppf(1 - 0.025 / (max_lag + 1)))
    for lag in range(max_lag + 1):
        x_ext = ext[max_lag - lag : len(ext) - lag]
        x = np.column_stack([np.ones(n), x_ext, reg[sl], rec[sl]])
        beta, *_ = np.linalg.lstsq(x, y_all[sl], rcond=None)
        resid = y_all[sl] - x @ beta
        cov = _hac_cov(x, resid, lags)
        rss = float(resid @ resid)
        se = math.sqrt(max(cov[1, 1], 0.0))
        rows.append((lag, float(beta[1]), float(beta[1] - z * se), float(beta[1] + z * se), rss))
        if best is None or rss < best[4]:
            best = rows[-1]
    by_lag = pl.DataFrame(rows, schema=["lag", "per_person", "low", "high", "rss"], orient="row")
    return StaffEffect(
        lag=best[0],
        days=n,
        per_person=best[1],
        per_person_low=best[2],
        per_person_high=best[3],
        by_lag=by_lag,
        hac_lags=lags,
        z=z,
    )


# ---------------------------------------------------------------- calls and cases


def _weekly_growth(frame: pl.DataFrame, column: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    days = pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)})
    full = days.join(
        frame.select("date", pl.col(column).cast(pl.Float64).alias("v")), on="date", how="left"
    )
    # 7-day means remove the weekday pattern; week-on-week log growth removes the
    # shared trend that makes any two epidemic curves look correlated at all lags.
    mean = full["v"].rolling_mean(7)
    growth = (mean + 0.5).log() - (mean.shift(7) + 0.5).log()
    return full.with_columns(growth.alias("g")).select("date", "g")


@dataclass(frozen=True)
class LeadLag:
    """Cross-correlation of calls with cases; ``lag > 0`` means calls lead cases.

    ``best_lag`` maximises the correlation between calls on day ``t`` and cases on
    day ``t + lag`` (both as week-on-week growth of 7-day means);
    ``threshold`` is the approximate 95 % bound for a correlation of zero,
    widened by Bartlett's formula for the series' own autocorrelation.
    """

    best_lag: int
    correlation: float
    threshold: float
    table: pl.DataFrame  # lag, correlation, n


def lead_lag(
    calls: pl.DataFrame,
    cases: pl.DataFrame,
    max_lag: int = 21,
    calls_column: str = "calls_received",
    cases_column: str = "cases",
) -> LeadLag:
    """Best lead/lag between daily calls and reported cases (cross-correlation)."""
    max_lag = check_number(max_lag, "max_lag", "lead_lag", 0, 90, integer=True)
    start = max(calls["date"].min(), cases["date"].min())
    end = min(calls["date"].max(), cases["date"].max())
    if start is None or end is None or (end - start).days < 28 + max_lag:
        raise DataError(
            "resources.too_few",
            got=0 if end is None or start is None else (end - start).days + 1,
            need=29 + max_lag,
        )
    lo = start - dt.timedelta(days=max_lag)
    hi = end + dt.timedelta(days=max_lag)
    g_calls = _weekly_growth(calls, calls_column, lo, hi)["g"].to_numpy()
    g_cases = _weekly_growth(cases, cases_column, lo, hi)["g"].to_numpy()
    rows = []
    for lag in range(-max_lag, max_lag + 1):
        a = g_calls[max_lag : len(g_calls) - max_lag]
        b = g_cases[max_lag + lag : len(g_cases) - max_lag + lag]
        ok = np.isfinite(a) & np.isfinite(b)
        r = float(np.corrcoef(a[ok], b[ok])[0, 1]) if ok.sum() > 10 else float("nan")
        rows.append((lag, r, int(ok.sum())))
    table = pl.DataFrame(rows, schema=["lag", "correlation", "n"], orient="row")
    found = table.filter(pl.col("correlation").is_not_nan())
    if found.is_empty():
        # no lag had enough varying days on both sides (e.g. no cases in the calls'
        # period): there is no best lag, which is a finding, not a crash (#14 walk)
        raise DataError("resources.calls.no_overlap")
    best = found.sort("correlation", descending=True).row(0)
    a = g_calls[max_lag : len(g_calls) - max_lag]
    b = g_cases[max_lag + best[0] : len(g_cases) - max_lag + best[0]]
    return LeadLag(
        best_lag=best[0],
        correlation=best[1],
        threshold=Z95 * math.sqrt(_bartlett_factor(a, b, max(7, max_lag)) / best[2]),
        table=table,
    )


def _acf(x: np.ndarray, lags: int) -> np.ndarray:
    x = x[np.isfinite(x)]
    x = x - x.mean()
    denom = float(x @ x)
    if denom == 0 or len(x) <= lags + 1:
        return np.zeros(lags)
    return np.array([float(x[k:] @ x[:-k]) / denom for k in range(1, lags + 1)])


def _bartlett_factor(a: np.ndarray, b: np.ndarray, lags: int) -> float:
    """Bartlett's variance inflation for a cross-correlation of two autocorrelated
    series, ``1 + 2·Σ ρ_a(k)·ρ_b(k)``: 7-day growth rates are strongly autocorrelated,
    so the white-noise bound ``1.96/√n`` would call chance correlations significant."""
    return max(1.0, 1.0 + 2.0 * float((_acf(a, lags) * _acf(b, lags)).sum()))


class CallsFromCases:
    """Turn a case forecast into a call forecast through the lead/lag and ratio.

    Fits ``log(calls_t + 1) = a + b·log(cases_{t+lag} + 1) + weekday`` by least
    squares over the last ``window_days`` days with both series (the ratio of
    calls to cases drifts between waves, so recent days matter most).

    Parameters
    ----------
    lag : int, optional
        Days by which calls lead cases; estimated with :func:`lead_lag` if None.
    window_days : int
        Days of history used for the fit.
    max_lag : int
        Search range for the lag when it is estimated.

    Examples
    --------
    >>> import datetime as dt, numpy as np, polars as pl
    >>> days = pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 4, 30), "1d", eager=True)
    >>> wave = (50 + 40 * np.sin(np.arange(120) / 9)).round()
    >>> cases = pl.DataFrame({"date": days, "cases": wave})
    >>> calls = pl.DataFrame({"date": days - dt.timedelta(days=3), "calls_received": wave * 4})
    >>> model = CallsFromCases(lag=3).fit(calls, cases)
    >>> round(model.slope_, 1)
    1.0
    """

    def __init__(
        self,
        lag: int | None = None,
        window_days: int = 56,
        max_lag: int = 21,
        form: str = "loglog",
    ) -> None:
        self.lag = lag
        self.window_days = window_days
        self.max_lag = max_lag
        self.form = form

    def _fwd(self, v: np.ndarray) -> np.ndarray:
        # "linear": calls = a + b·cases (+ weekday), which extrapolates a wave
        # far above the fitted range proportionally; "loglog" bends it down.
        return np.log1p(v) if self.form == "loglog" else v

    def _back(self, v: np.ndarray) -> np.ndarray:
        return np.expm1(v) if self.form == "loglog" else v

    def _design(self, dates: pl.Series, log_cases: np.ndarray) -> np.ndarray:
        weekday = dates.dt.weekday().to_numpy()  # 1 = Monday
        dummies = np.column_stack([(weekday == d).astype(float) for d in range(2, 8)])
        return np.column_stack([np.ones(len(log_cases)), log_cases, dummies])

    def fit(self, calls: pl.DataFrame, cases: pl.DataFrame) -> CallsFromCases:
        owner = "CallsFromCases"
        if self.form not in ("loglog", "linear"):
            raise ParameterError(
                "resources.parameter",
                name="form",
                owner=owner,
                constraint="'loglog' or 'linear'",
                got=repr(self.form),
            )
        window = check_number(self.window_days, "window_days", owner, 14, 3650, integer=True)
        max_lag = check_number(self.max_lag, "max_lag", owner, 0, 90, integer=True)
        if self.lag is None:
            lag = lead_lag(calls, cases, max_lag=max_lag).best_lag
        else:
            lag = check_number(self.lag, "lag", owner, -90, 90, integer=True)
        shifted = cases.select(
            (pl.col("date") - pl.duration(days=lag)).alias("date"), pl.col("cases")
        )
        joined = (
            calls.select("date", "calls_received")
            .join(shifted, on="date", how="inner")
            .drop_nulls()
            .sort("date")
        )
        if joined.height > window:
            joined = joined.tail(window)
        if joined.height < 14:
            raise DataError("resources.too_few", got=joined.height, need=14)
        x = self._design(joined["date"], self._fwd(joined["cases"].to_numpy().astype(float)))
        y = self._fwd(joined["calls_received"].to_numpy().astype(float))
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ beta
        dof = max(len(y) - x.shape[1], 1)
        sigma2 = float(resid @ resid) / dof
        self.lag_ = lag
        self.coef_ = beta
        self.intercept_ = float(beta[0])
        self.slope_ = float(beta[1])
        self.sigma_ = math.sqrt(sigma2)
        self.cov_ = sigma2 * np.linalg.pinv(x.T @ x)
        self.fitted_days_ = joined.height
        return self

    def predict(self, case_forecast: pl.DataFrame) -> pl.DataFrame:
        """Call forecast ``date, calls, calls_low, calls_high`` (95 % prediction interval).

        A case forecast for day ``d`` gives calls on day ``d - lag``.
        """
        if not hasattr(self, "coef_"):
            raise NotFittedError("resources.not_fitted", owner="CallsFromCases")
        dates = (case_forecast["date"] - dt.timedelta(days=self.lag_)).alias("date")
        x = self._design(dates, self._fwd(case_forecast["cases"].to_numpy().astype(float)))
        mean = x @ self.coef_
        se = np.sqrt(self.sigma_**2 + np.einsum("ij,jk,ik->i", x, self.cov_, x))
        return pl.DataFrame(
            {
                "date": dates,
                "calls": self._back(mean).clip(0, None),
                "calls_low": self._back(mean - Z95 * se).clip(0, None),
                "calls_high": self._back(mean + Z95 * se).clip(0, None),
            }
        )


# ---------------------------------------------------------------- queueing calibration

# Share of a day's calls in each opening hour, for a public-office line open
# 9:00-18:00: a rush at opening, a lunch dip, a smaller afternoon peak.
DEFAULT_HOURLY_SHARES: dict[int, float] = {
    9: 0.13,
    10: 0.15,
    11: 0.13,
    12: 0.08,
    13: 0.12,
    14: 0.11,
    15: 0.10,
    16: 0.10,
    17: 0.08,
}


def check_hourly_shares(shares: dict[int, float] | None, owner: str) -> dict[int, float]:
    """Validate hour -> share (hours 0..23, shares >= 0, some > 0); return normalised."""
    if shares is None:
        shares = DEFAULT_HOURLY_SHARES
    if not isinstance(shares, dict) or not shares:
        raise ParameterError(
            "resources.parameter",
            name="hourly_shares",
            owner=owner,
            constraint="a dict of hour (0-23) to share",
            got=repr(shares),
        )
    for hour, share in shares.items():
        check_number(hour, "hourly_shares hour", owner, 0, 23, integer=True)
        check_number(share, "hourly_shares share", owner, 0, 1e9)
    total = float(sum(shares.values()))
    if total <= 0:
        raise ParameterError(
            "resources.parameter",
            name="hourly_shares",
            owner=owner,
            constraint="shares with a positive sum",
            got=repr(shares),
        )
    return {int(h): float(v) / total for h, v in sorted(shares.items())}


def hourly_arrivals(calls: float, staffed_hours: float, shares: dict[int, float]) -> np.ndarray:
    """Arrivals per hour in each profile hour for a day of ``calls`` over ``staffed_hours``.

    The profile's hours stand for the hours the lines were open: with a
    9-hour profile and 6 staffed hours, each profile hour stands for 40 minutes.
    """
    frac = np.array(list(shares.values()))
    return calls * frac * len(frac) / staffed_hours


def _patience_for(
    days: list[tuple[int, np.ndarray, float, float]], abandoned: int, calls: int
) -> float | None:
    """Patience at which Erlang A, hour by hour, reproduces the period's abandoned calls."""
    if calls == 0 or abandoned == 0:
        return None
    from scipy.optimize import brentq

    from kumin.resources.queueing import erlang_a

    def gap(log_p: float) -> float:
        patience = math.exp(log_p)
        expected = 0.0
        for agents, rates, handle, hour_len in days:
            for rate in rates:
                if rate > 0:
                    p = erlang_a(agents, rate, handle, patience, 0).abandonment_probability
                    expected += rate * hour_len * p
        return expected - abandoned

    lo, hi = 0.0, math.log(86_400.0)
    if not gap(lo) >= 0 >= gap(hi):
        return None
    return math.exp(brentq(gap, lo, hi, xtol=1e-3))


def calibrate_periods(
    frame: pl.DataFrame,
    every: str = "1mo",
    answer_within: float = 30.0,
    service_level: float = 0.8,
    handle_seconds: float | None = None,
    hourly_shares: dict[int, float] | None = None,
) -> pl.DataFrame:
    """Queueing inputs and verdicts per period (default: calendar month).

    Per period: calls, arrivals per open hour, handle time (calls-weighted mean
    of ``mean_handle_seconds``, else ``handle_seconds``), agents on the phones
    (staff-hours ÷ open hours), abandonment rate, and the mean patience at
    which Erlang A, applied day by day and hour by hour through the intraday
    profile, reproduces the abandoned calls (null where abandonment is unknown
    or zero). Then the calls-weighted service level the model gives the staff
    actually deployed, and the agents it says an average day of the period
    needed at its peak hour and on average over open hours (Erlang A where
    patience is known, Erlang C otherwise).
    """
    owner = "calibrate_periods"
    check_number(answer_within, "answer_within", owner, 0, 86400)
    check_number(service_level, "service_level", owner, 0, 1, low_open=True, high_open=True)
    shares = check_hourly_shares(hourly_shares, owner)
    has_handle = _has(frame, "mean_handle_seconds")
    if handle_seconds is not None:
        check_number(handle_seconds, "handle_seconds", owner, 0, 86400, low_open=True)
    elif not has_handle:
        raise ParameterError(
            "resources.parameter",
            name="handle_seconds",
            owner=owner,
            constraint="a float in (0, 86400] when the data lack mean_handle_seconds",
            got="None",
        )
    for c in STAFF_COLUMNS:
        if not _has(frame, c):
            raise DataError(
                "resources.import.invalid",
                problems=[Problem(None, c, "core.tabular.missing_column")],
                path="-",
            )
    has_abandoned = _has(frame, "calls_abandoned")
    work = frame.filter(pl.col("staffed_hours") > 0).sort("date")
    m = len(shares)
    out = []
    for (period,), part in work.group_by_dynamic("date", every=every):
        days = []
        calls = int(part["calls_received"].sum())
        abandoned = int(part["calls_abandoned"].fill_null(0).sum()) if has_abandoned else None
        known_abandoned = has_abandoned and part["calls_abandoned"].null_count() == 0
        # Days without a handle time take the given default, else the period's
        # calls-weighted mean over the days that have one.
        fallback = handle_seconds
        if fallback is None and has_handle:
            known = part.filter(pl.col("mean_handle_seconds") > 0)
            weight = known["calls_received"].sum()
            if weight:
                fallback = float(
                    (known["mean_handle_seconds"] * known["calls_received"]).sum() / weight
                )
        hw = 0.0
        hn = 0
        for row in part.iter_rows(named=True):
            handle = row.get("mean_handle_seconds") if has_handle else None
            if handle is None or handle <= 0:
                handle = fallback
            if handle is None:
                continue
            hw += handle * row["calls_received"]
            hn += row["calls_received"]
            agents = row["staff_regular"] + row["staff_external"]
            rates = hourly_arrivals(row["calls_received"], row["staffed_hours"], shares)
            days.append((agents, rates, float(handle), row["staffed_hours"] / m))
        handle_mean = hw / hn if hn else (handle_seconds or float("nan"))
        open_hours = float(part["staffed_hours"].sum())
        patience = _patience_for(days, abandoned, calls) if known_abandoned else None
        cache: dict[tuple, float] = {}
        sl_num = 0.0
        for agents, rates, handle, hour_len in days:
            for rate in rates:
                key = (agents, round(rate, 1), round(handle))
                if key not in cache:
                    cache[key] = queue_stats(
                        agents, key[1], key[2], answer_within, patience
                    ).service_level
                sl_num += rate * hour_len * cache[key]
        mean_day_rates = hourly_arrivals(calls / part.height, open_hours / part.height, shares)
        needed = (
            [
                min_agents(r, handle_mean, answer_within, service_level, patience).agents
                for r in mean_day_rates
            ]
            if days
            else [0]
        )
        out.append(
            {
                "period_start": period,
                "days": part.height,
                "calls_received": calls,
                "arrivals_per_hour": calls / open_hours,
                "handle_seconds": handle_mean,
                "agents_deployed": float(
                    ((part["staff_regular"] + part["staff_external"]) * part["staffed_hours"]).sum()
                )
                / open_hours,
                "abandon_rate": abandoned / calls if known_abandoned and calls else None,
                "patience_seconds": patience,
                "model": "erlang_a" if patience is not None else "erlang_c",
                "service_level_deployed": sl_num / calls if calls and days else None,
                "agents_needed_peak": max(needed),
                "agents_needed_mean": float(np.mean(needed)),
            }
        )
    return pl.DataFrame(
        out,
        schema={
            "period_start": pl.Date,
            "days": pl.Int64,
            "calls_received": pl.Int64,
            "arrivals_per_hour": pl.Float64,
            "handle_seconds": pl.Float64,
            "agents_deployed": pl.Float64,
            "abandon_rate": pl.Float64,
            "patience_seconds": pl.Float64,
            "model": pl.String,
            "service_level_deployed": pl.Float64,
            "agents_needed_peak": pl.Int64,
            "agents_needed_mean": pl.Float64,
        },
    )
