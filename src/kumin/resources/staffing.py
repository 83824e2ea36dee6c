"""A staffing plan: agents needed by day and hour against the staff deployed.

From a daily call forecast (a given table, or a case forecast turned into calls
with :class:`kumin.resources.calls.CallsFromCases`) and an intraday arrival
profile, :func:`staffing_plan` gives the fewest agents meeting the service
target in each open hour (:func:`kumin.resources.queueing.min_agents`), and,
when the staff actually deployed are known, the under- and over-staffing per
hour and per day, in frames ready for a table and a chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from kumin.errors import DataError, Problem
from kumin.resources.calls import CallsFromCases, check_hourly_shares, hourly_arrivals
from kumin.resources.queueing import check_number, min_agents, queue_stats


@dataclass(frozen=True)
class StaffingPlan:
    """Agents needed and deployed.

    ``by_hour``: date, hour, calls, arrivals_per_hour, agents_needed (scheduled,
    after shrinkage), service_level, occupancy, mean_wait_seconds and, with
    deployed staff, agents_deployed, gap (deployed − needed),
    service_level_deployed (what the model says the deployed staff achieved)
    and status (``under`` / ``ok`` / ``over``).

    ``by_day``: date, calls, peak_agents_needed, agent_hours_needed and, with
    deployed staff, staff_deployed, staffed_hours, agent_hours_deployed,
    shortfall_agent_hours, surplus_agent_hours, under_hours and status:
    ``under`` when any hour was short, ``over`` when even the busiest hour had
    agents to spare (staff come for whole days, so a quiet lunch hour alone
    does not make a day over-staffed), else ``ok``.

    ``chart``: long format ``date, series, value`` with series
    ``agents_needed_peak`` and ``agents_deployed`` (one line each).
    """

    by_hour: pl.DataFrame
    by_day: pl.DataFrame
    chart: pl.DataFrame
    days_under: int
    days_over: int
    shortfall_agent_hours: float
    surplus_agent_hours: float


def _forecast_calls(forecast: pl.DataFrame) -> pl.DataFrame:
    column = next((c for c in ("calls", "calls_received") if c in forecast.columns), None)
    if "date" not in forecast.columns or column is None:
        missing = "date" if "date" not in forecast.columns else "calls"
        raise DataError(
            "resources.import.invalid",
            problems=[Problem(None, missing, "core.tabular.missing_column")],
            path="-",
        )
    return (
        forecast.select("date", pl.col(column).cast(pl.Float64).alias("calls"))
        .drop_nulls()
        .sort("date")
    )


def staffing_plan(
    forecast: pl.DataFrame,
    handle_seconds: float,
    answer_within: float = 30.0,
    service_level: float = 0.8,
    patience_seconds: float | None = None,
    hourly_shares: dict[int, float] | None = None,
    deployed: pl.DataFrame | None = None,
    shrinkage: float = 0.0,
    over_margin: float = 0.2,
    rate_step: float = 0.1,
) -> StaffingPlan:
    """Agents needed per day and hour for a call forecast, against staff deployed.

    Parameters
    ----------
    forecast : polars.DataFrame
        ``date`` and ``calls`` (or ``calls_received``) per day.
    handle_seconds, answer_within, service_level, patience_seconds
        As in :func:`~kumin.resources.queueing.min_agents`.
    hourly_shares : dict, optional
        Hour of day -> share of the day's calls; default
        :data:`~kumin.resources.calls.DEFAULT_HOURLY_SHARES` (9:00-18:00).
    deployed : polars.DataFrame, optional
        ``date, staff_regular, staff_external, staffed_hours`` (e.g. the imported
        daily records). Staff are taken as present through the staffed hours, so
        an hour of the profile holds ``staff × staffed_hours / len(profile)``
        agents (exactly the staff when the centre was open all profile hours).
    shrinkage : float
        Share of paid time not on the phones (breaks, training); scheduled
        agents are ``ceil(needed / (1 - shrinkage))``.
    over_margin : float
        An hour is over-staffed when deployed exceeds needed by this share and
        by at least one agent.
    rate_step : float
        Arrival rates are rounded up to this step (calls/hour) so that equal
        hours are solved once; rounding up keeps the plan on the safe side.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> f = pl.DataFrame({"date": [dt.date(2021, 8, 2)], "calls": [450]})
    >>> plan = staffing_plan(f, handle_seconds=360, answer_within=30, service_level=0.8)
    >>> plan.by_day["peak_agents_needed"][0]
    10
    """
    owner = "staffing_plan"
    check_number(handle_seconds, "handle_seconds", owner, 0, 86400, low_open=True)
    check_number(answer_within, "answer_within", owner, 0, 86400)
    check_number(service_level, "service_level", owner, 0, 1, low_open=True, high_open=True)
    if patience_seconds is not None:
        check_number(patience_seconds, "patience_seconds", owner, 0, None, low_open=True)
    shrink = check_number(shrinkage, "shrinkage", owner, 0, 1, high_open=True)
    margin = check_number(over_margin, "over_margin", owner, 0, 10)
    step = check_number(rate_step, "rate_step", owner, 0, 1000, low_open=True)
    shares = check_hourly_shares(hourly_shares, owner)
    hours = list(shares)
    m = len(hours)
    calls = _forecast_calls(forecast)

    dep: dict = {}
    if deployed is not None:
        for row in deployed.iter_rows(named=True):
            dep[row["date"]] = (
                row["staff_regular"] + row["staff_external"],
                float(row["staffed_hours"]),
            )

    need_cache: dict[float, tuple[int, float, float, float]] = {}
    sl_cache: dict[tuple[int, float], float] = {}
    rows = []
    for day, day_calls in calls.iter_rows():
        staff, open_hours = dep.get(day, (None, float(m)))
        open_hours = open_hours if open_hours and open_hours > 0 else float(m)
        rates = hourly_arrivals(day_calls, open_hours, shares)
        for hour, rate in zip(hours, rates, strict=True):
            key = math.ceil(round(rate / step, 9)) * step
            if key not in need_cache:
                ans = min_agents(
                    key, handle_seconds, answer_within, service_level, patience_seconds
                )
                scheduled = math.ceil(ans.agents / (1 - shrink) - 1e-9)
                need_cache[key] = (
                    scheduled,
                    ans.service_level,
                    ans.occupancy,
                    ans.mean_wait_seconds,
                )
            needed, sl, occ, wait = need_cache[key]
            row = {
                "date": day,
                "hour": hour,
                "calls": float(rate * open_hours / m),
                "arrivals_per_hour": float(rate),
                "agents_needed": needed,
                "service_level": sl,
                "occupancy": occ,
                "mean_wait_seconds": wait,
            }
            if deployed is not None:
                agents = None if staff is None else staff * open_hours / m
                row["agents_deployed"] = agents
                if agents is None:
                    row.update(gap=None, service_level_deployed=None, status=None)
                else:
                    on_phone = int(math.floor(agents * (1 - shrink) + 1e-9))
                    sk = (on_phone, key)
                    if sk not in sl_cache:
                        sl_cache[sk] = queue_stats(
                            on_phone, key, handle_seconds, answer_within, patience_seconds
                        ).service_level
                    gap = agents - needed
                    over = gap >= max(1.0, margin * needed)
                    row.update(
                        gap=gap,
                        service_level_deployed=sl_cache[sk],
                        status="under" if gap < -1e-9 else ("over" if over else "ok"),
                    )
            rows.append(row)
    schema = {
        "date": pl.Date,
        "hour": pl.Int64,
        "calls": pl.Float64,
        "arrivals_per_hour": pl.Float64,
        "agents_needed": pl.Int64,
        "service_level": pl.Float64,
        "occupancy": pl.Float64,
        "mean_wait_seconds": pl.Float64,
    }
    if deployed is not None:
        schema.update(
            agents_deployed=pl.Float64,
            gap=pl.Float64,
            service_level_deployed=pl.Float64,
            status=pl.String,
        )
    by_hour = (
        pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    )
    return _summarise(by_hour, calls, dep, deployed is not None, m, margin)


def _summarise(by_hour, calls, dep, has_deployed, m, margin) -> StaffingPlan:
    if has_deployed:
        lengths = pl.DataFrame(
            {"date": list(dep), "_len": [h / m if h > 0 else 1.0 for _, h in dep.values()]},
            schema={"date": pl.Date, "_len": pl.Float64},
        )
        work = by_hour.join(lengths, on="date", how="left").with_columns(
            pl.col("_len").fill_null(1.0)
        )
    else:
        work = by_hour.with_columns(pl.lit(1.0).alias("_len"))
    hour_len = pl.col("_len")  # real hours one profile hour stands for
    aggs = [
        pl.col("calls").sum(),
        pl.col("agents_needed").max().alias("peak_agents_needed"),
        (pl.col("agents_needed") * hour_len).sum().alias("agent_hours_needed"),
    ]
    if has_deployed:
        aggs += [
            (pl.col("gap").clip(upper_bound=0).abs() * hour_len)
            .sum()
            .alias("shortfall_agent_hours"),
            (pl.col("gap").clip(lower_bound=0) * hour_len).sum().alias("surplus_agent_hours"),
            (pl.col("status") == "under").sum().alias("under_hours"),
            pl.col("agents_deployed").null_count().alias("_unknown"),
            (pl.col("status") == "over").sum().alias("_over_hours"),
            pl.len().alias("_hours"),
        ]
    by_day = work.group_by("date", maintain_order=True).agg(aggs).sort("date")
    if has_deployed:
        deployed_frame = pl.DataFrame(
            {
                "date": list(dep),
                "staff_deployed": [s for s, _ in dep.values()],
                "staffed_hours": [h for _, h in dep.values()],
            },
            schema={"date": pl.Date, "staff_deployed": pl.Int64, "staffed_hours": pl.Float64},
        )
        by_day = (
            by_day.join(deployed_frame, on="date", how="left")
            .with_columns(
                (pl.col("staff_deployed") * pl.col("staffed_hours")).alias("agent_hours_deployed")
            )
            .with_columns(
                pl.when(pl.col("_unknown") > 0)
                .then(None)
                .when(pl.col("shortfall_agent_hours") > 1e-9)
                .then(pl.lit("under"))
                .when(pl.col("_over_hours") == pl.col("_hours"))
                .then(pl.lit("over"))
                .otherwise(pl.lit("ok"))
                .alias("status")
            )
            .with_columns(
                [
                    pl.when(pl.col("_unknown") > 0).then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("shortfall_agent_hours", "surplus_agent_hours", "under_hours")
                ]
            )
            .drop("_unknown", "_over_hours", "_hours")
            .select(
                "date",
                "calls",
                "peak_agents_needed",
                "agent_hours_needed",
                "staff_deployed",
                "staffed_hours",
                "agent_hours_deployed",
                "shortfall_agent_hours",
                "surplus_agent_hours",
                "under_hours",
                "status",
            )
        )
        chart = pl.concat(
            [
                by_day.select(
                    "date",
                    pl.lit("agents_needed_peak").alias("series"),
                    pl.col("peak_agents_needed").cast(pl.Float64).alias("value"),
                ),
                by_day.select(
                    "date",
                    pl.lit("agents_deployed").alias("series"),
                    pl.col("staff_deployed").cast(pl.Float64).alias("value"),
                ),
            ]
        )
        short = float(np.nansum(by_day["shortfall_agent_hours"].fill_null(0).to_numpy()))
        surplus = float(np.nansum(by_day["surplus_agent_hours"].fill_null(0).to_numpy()))
        under = int((by_day["status"] == "under").sum())
        over = int((by_day["status"] == "over").sum())
    else:
        chart = by_day.select(
            "date",
            pl.lit("agents_needed_peak").alias("series"),
            pl.col("peak_agents_needed").cast(pl.Float64).alias("value"),
        )
        short = surplus = 0.0
        under = over = 0
    del calls
    return StaffingPlan(by_hour, by_day, chart, under, over, short, surplus)


def call_forecast_from_cases(
    case_forecast: pl.DataFrame,
    calls: pl.DataFrame,
    cases: pl.DataFrame,
    lag: int | None = None,
    window_days: int = 56,
) -> pl.DataFrame:
    """Daily call forecast (``date, calls, calls_low, calls_high``) from a case forecast.

    Fits :class:`~kumin.resources.calls.CallsFromCases` on past ``calls``
    (``date, calls_received``) and ``cases`` (``date, cases``), then applies it
    to ``case_forecast`` (``date, cases``). Feed the result to
    :func:`staffing_plan` (its ``calls`` column), or its ``calls_high`` column
    renamed to ``calls`` for a cautious plan.
    """
    model = CallsFromCases(lag=lag, window_days=window_days).fit(calls, cases)
    return model.predict(case_forecast)
