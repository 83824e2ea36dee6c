"""Backtest of the call forecast from cases: would it have seen the waves coming?

:func:`backtest_calls` replays the past: at each origin (weekly from ``start``)
it refits :class:`~kumin.resources.calls.CallsFromCases` on what was known that
day — the relation between calls and cases drifts between waves, so it is
refitted as it changes — and forecasts the next days' calls from the cases of
those days (the actual ones: the backtest judges the calls model, not a case
forecast). Each day is judged once, by the latest forecast made before it. It
reports the share of days inside the 95 % interval, the total and the peak
error, so every forecast can be printed beside its own track record.

The model's own interval (from its in-sample residuals) is too narrow out of
sample, because the relation moves; :class:`CalibratedCalls` widens it to the
spread of the forecast errors made at earlier origins (on the log scale), a
split-conformal correction that needs no assumption about why the errors arose.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from kumin.errors import DataError
from kumin.resources.calls import Z95, CallsFromCases
from kumin.resources.queueing import check_number

# Earlier origins' errors needed before they widen the interval.
MIN_PAST_ERRORS = 14


@dataclass(frozen=True)
class Backtest:
    """How the call forecast did over past waves.

    ``days``: date, origin, calls (actual), forecast, low, high, inside.
    ``coverage``: share of days inside the 95 % interval. ``total_forecast`` /
    ``total_actual`` and ``peak_forecast`` / ``peak_actual`` (with dates) over
    the period backtested; ``peak_error`` is (forecast − actual) / actual.
    """

    days: pl.DataFrame
    coverage: float
    total_forecast: float
    total_actual: float
    peak_forecast: float
    peak_forecast_date: dt.date
    peak_actual: float
    peak_actual_date: dt.date
    peak_error: float
    widened: bool

    def as_dict(self) -> dict:
        return {
            "days": self.days.height,
            "start": self.days["date"].min().isoformat(),
            "end": self.days["date"].max().isoformat(),
            "coverage_95": self.coverage,
            "total_forecast": self.total_forecast,
            "total_actual": self.total_actual,
            "total_error": (self.total_forecast - self.total_actual) / self.total_actual
            if self.total_actual
            else None,
            "peak_forecast": self.peak_forecast,
            "peak_forecast_date": self.peak_forecast_date.isoformat(),
            "peak_actual": self.peak_actual,
            "peak_actual_date": self.peak_actual_date.isoformat(),
            "peak_error": self.peak_error,
            "interval_widened_by_past_errors": self.widened,
        }


def backtest_calls(
    calls: pl.DataFrame,
    cases: pl.DataFrame,
    start: dt.date,
    end: dt.date | None = None,
    step_days: int = 7,
    window_days: int = 56,
    lag: int | None = None,
    widen: bool = True,
    form: str = "loglog",
) -> Backtest:
    """Weekly-refitted backtest of calls forecast from cases (see the module docstring).

    Parameters
    ----------
    calls : polars.DataFrame
        ``date, calls_received``.
    cases : polars.DataFrame
        ``date, cases``: the centre's own case series (its area's notifications).
    start, end : date
        First and last day judged (``end`` defaults to the last day with calls).
    step_days : int
        Days between refits; each forecast covers the next ``step_days`` days.
    window_days, lag
        As in :class:`~kumin.resources.calls.CallsFromCases`; with ``lag=None``
        the lag is re-estimated at every origin from the data then known.
    widen : bool
        Widen each interval to the spread of the earlier origins' log errors.
    """
    owner = "backtest_calls"
    step = check_number(step_days, "step_days", owner, 1, 90, integer=True)
    last = calls["date"].max() if end is None else end
    if last is None or last < start:
        raise DataError("resources.no_rows")
    calls = calls.select("date", "calls_received").sort("date")
    cases = cases.select("date", pl.col("cases").cast(pl.Float64)).sort("date")
    rows = []
    errors: list[float] = []
    origin = start - dt.timedelta(days=1)
    widened = False
    while origin < last:
        known = calls.filter(pl.col("date") <= origin)
        # Cases known at the origin: those reported by then.
        model = CallsFromCases(lag=lag, window_days=window_days, form=form).fit(
            known, cases.filter(pl.col("date") <= origin)
        )
        days = [origin + dt.timedelta(days=i) for i in range(1, step + 1)]
        days = [d for d in days if d <= last]
        future = cases.filter(
            pl.col("date").is_in([d + dt.timedelta(days=model.lag_) for d in days])
        )
        if future.height:
            pred = model.predict(future)
            if widen and len(errors) >= MIN_PAST_ERRORS:
                pred = _widen(pred, model, future, errors)
                widened = True
            actual = calls.filter(pl.col("date").is_in(pred["date"].to_list()))
            joined = pred.join(actual, on="date", how="inner")
            for r in joined.iter_rows(named=True):
                rows.append(
                    (
                        r["date"],
                        origin,
                        float(r["calls_received"]),
                        r["calls"],
                        r["calls_low"],
                        r["calls_high"],
                    )
                )
                errors.append(
                    (math.log1p(r["calls_received"]) - math.log1p(r["calls"]))
                    if form == "loglog"
                    else (r["calls_received"] - r["calls"]) / max(r["calls"], 1.0)
                )
        origin += dt.timedelta(days=step)
    if not rows:
        raise DataError("resources.no_rows")
    frame = pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "origin": pl.Date,
            "calls": pl.Float64,
            "forecast": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
        orient="row",
    ).with_columns(
        ((pl.col("calls") >= pl.col("low")) & (pl.col("calls") <= pl.col("high"))).alias("inside")
    )
    peak_f = frame.sort("forecast", descending=True).row(0, named=True)
    peak_a = frame.sort("calls", descending=True).row(0, named=True)
    return Backtest(
        frame,
        float(frame["inside"].mean()),
        float(frame["forecast"].sum()),
        float(frame["calls"].sum()),
        float(peak_f["forecast"]),
        peak_f["date"],
        float(peak_a["calls"]),
        peak_a["date"],
        (peak_f["forecast"] - peak_a["calls"]) / peak_a["calls"] if peak_a["calls"] else 0.0,
        widened,
    )


def _widen(
    pred: pl.DataFrame, model: CallsFromCases, future: pl.DataFrame, errors: list[float]
) -> pl.DataFrame:
    """Interval from the model's mean and the 95 % band of earlier log errors."""
    past = np.asarray(errors[-MIN_PAST_ERRORS * 8 :])
    lo_q, hi_q = np.quantile(past, [0.025, 0.975])
    calls = pred["calls"].to_numpy()
    if model.form == "loglog":
        mean = np.log1p(calls)
        own = Z95 * model.sigma_
        low = np.expm1(mean + min(lo_q, -own)).clip(0, None)
        high = np.expm1(mean + max(hi_q, own)).clip(0, None)
    else:
        # Relative errors: a wave's spread grows with its level.
        base = np.maximum(calls, 1.0)
        low = np.minimum(pred["calls_low"].to_numpy(), calls + lo_q * base).clip(0, None)
        high = np.maximum(pred["calls_high"].to_numpy(), calls + hi_q * base)
    del future
    return pred.with_columns(pl.Series("calls_low", low), pl.Series("calls_high", high))
