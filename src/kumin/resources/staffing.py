"""A staffing plan by the standard of workforce management.

From a daily call forecast (a given table, the centre's own records, or a case
forecast turned into calls with :class:`kumin.resources.calls.CallsFromCases`),
each day's own handle time and an intraday arrival profile by weekday
(:mod:`kumin.resources.intraday`), :func:`staffing_plan` finds the fewest
agents on the phones meeting the service target in every interval (Erlang A
with the callers' patience, or Erlang C on request;
:func:`kumin.resources.queueing.min_agents`) under an occupancy cap, turns them
into scheduled staff through shrinkage, and into a headcount of external staff
per day and per week with its cost. With the staff actually deployed it says,
per interval and per day, who was short and who had staff to spare;
:func:`plan_sensitivity` shows how those verdicts move with shrinkage,
patience and handle time.

The stated defaults (:data:`DEFAULT_SHRINKAGE`, :data:`DEFAULT_OCCUPANCY_CAP`,
:data:`DEFAULT_PERSON_DAY_YEN`) are those a contact-centre planner starts from;
every figure the plan rests on is carried in :meth:`StaffingPlan.settings`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from kumin.errors import DataError, Problem
from kumin.resources.calls import CallsFromCases, check_hourly_shares
from kumin.resources.intraday import IntradayProfile, clock, default_profile, hourly_profile
from kumin.resources.queueing import StaffingAnswer, check_number, min_agents, queue_stats

# Share of paid time off the phones (breaks, training, meetings, absence): 30 %
# is the usual planning figure for an inbound public line.
DEFAULT_SHRINKAGE = 0.30
# Agents kept busier than 85 % burn out and leave no slack for a burst.
DEFAULT_OCCUPANCY_CAP = 0.85
# An external person-day: 9 staffed hours at the ward's 2,900 yen an hour.
DEFAULT_PERSON_DAY_YEN = 26_100.0


@dataclass(frozen=True)
class StaffingPlan:
    """Agents needed and deployed, per interval, day and week.

    ``by_interval``: date, weekday, start (``HH:MM``), hour, calls,
    arrivals_per_hour, handle_seconds, agents_on_phone (the queueing answer),
    agents_needed (scheduled, after shrinkage), service_level, occupancy,
    mean_wait_seconds, probability_wait, abandonment_probability and, with
    deployed staff, agents_deployed, gap (deployed − needed),
    service_level_deployed (what the model says the deployed staff achieved)
    and status (``under`` / ``ok`` / ``over``).

    ``by_day``: date, calls, handle_seconds, peak_agents_needed (= the day's
    headcount: staff come for whole days), agent_hours_needed, regular_staff,
    external_needed, external_cost_needed_yen and, with deployed staff,
    staff_deployed, external_deployed, staffed_hours, agent_hours_deployed,
    external_cost_deployed_yen, shortfall_agent_hours, surplus_agent_hours,
    under_hours and status: ``under`` when any interval was short, ``over``
    when every interval had agents to spare (a quiet lunch alone does not make
    a day over-staffed), else ``ok``.

    ``by_week`` (weeks from Monday): days, peak headcount, external
    person-days and cost needed, and deployed, days under and over.

    ``chart``: long format ``date, series, value``.
    """

    by_interval: pl.DataFrame
    by_day: pl.DataFrame
    by_week: pl.DataFrame
    chart: pl.DataFrame
    days_under: int
    days_over: int
    shortfall_agent_hours: float
    surplus_agent_hours: float
    settings: dict = field(default_factory=dict)

    @property
    def by_hour(self) -> pl.DataFrame:
        """The interval table (hourly with a 60-minute profile); kept for old callers."""
        return self.by_interval

    def totals(self) -> dict:
        """The plan's headline figures (JSON-ready)."""
        d = self.by_day
        out = {
            "days": d.height,
            "external_person_days_needed": int(d["external_needed"].sum()),
            "external_cost_needed_yen": float(d["external_cost_needed_yen"].sum()),
            "peak_headcount_needed": int(d["peak_agents_needed"].max() or 0),
            "agent_hours_needed": float(d["agent_hours_needed"].sum()),
        }
        if "staff_deployed" in d.columns:
            out.update(
                days_under=self.days_under,
                days_over=self.days_over,
                shortfall_agent_hours=self.shortfall_agent_hours,
                surplus_agent_hours=self.surplus_agent_hours,
                external_person_days_deployed=int(d["external_deployed"].fill_null(0).sum()),
                external_cost_deployed_yen=float(
                    d["external_cost_deployed_yen"].fill_null(0).sum()
                ),
            )
        return out


def _forecast_calls(forecast: pl.DataFrame) -> pl.DataFrame:
    column = next((c for c in ("calls", "calls_received") if c in forecast.columns), None)
    if "date" not in forecast.columns or column is None:
        missing = "date" if "date" not in forecast.columns else "calls"
        raise DataError(
            "resources.import.invalid",
            problems=[Problem(None, missing, "core.tabular.missing_column")],
            path="-",
        )
    handle = next(
        (c for c in ("handle_seconds", "mean_handle_seconds") if c in forecast.columns), None
    )
    cols = [pl.col("date"), pl.col(column).cast(pl.Float64).alias("calls")]
    cols.append(
        pl.col(handle).cast(pl.Float64).alias("handle")
        if handle
        else pl.lit(None, pl.Float64).alias("handle")
    )
    return forecast.select(cols).filter(pl.col("calls").is_not_null()).sort("date")


class _Solver:
    """Cached :func:`min_agents` answers, shared across the plans of a sensitivity run."""

    def __init__(self) -> None:
        self.need: dict[tuple, StaffingAnswer] = {}
        self.sl: dict[tuple, float] = {}

    def needed(self, rate, handle, within, target, patience, cap) -> StaffingAnswer:
        key = (rate, handle, within, target, patience, cap)
        if key not in self.need:
            self.need[key] = min_agents(rate, handle, within, target, patience, max_occupancy=cap)
        return self.need[key]

    def service_level(self, agents, rate, handle, within, patience) -> float:
        key = (agents, rate, handle, within, patience)
        if key not in self.sl:
            self.sl[key] = queue_stats(agents, rate, handle, within, patience).service_level
        return self.sl[key]


def staffing_plan(
    forecast: pl.DataFrame,
    handle_seconds: float | None = None,
    answer_within: float = 30.0,
    service_level: float = 0.8,
    patience_seconds: float | None = None,
    hourly_shares: dict[int, float] | None = None,
    deployed: pl.DataFrame | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
    over_margin: float = 0.2,
    rate_step: float = 0.1,
    *,
    profile: IntradayProfile | None = None,
    occupancy_cap: float | None = DEFAULT_OCCUPANCY_CAP,
    person_day_yen: float = DEFAULT_PERSON_DAY_YEN,
    regular_staff: int = 0,
    _solver: _Solver | None = None,
) -> StaffingPlan:
    """Agents needed per day and interval for a call forecast, against staff deployed.

    Parameters
    ----------
    forecast : polars.DataFrame
        ``date`` and ``calls`` (or ``calls_received``) per day, optionally
        ``handle_seconds`` (or ``mean_handle_seconds``): each day's own handle time.
    handle_seconds : float, optional
        Handle time for days without their own.
    answer_within, service_level, patience_seconds
        As in :func:`~kumin.resources.queueing.min_agents`; with
        ``patience_seconds`` the plan uses Erlang A (callers hang up), without it
        Erlang C.
    hourly_shares : dict, optional
        Hour -> share (a 60-minute profile, every weekday alike); ignored when
        ``profile`` is given.
    deployed : polars.DataFrame, optional
        ``date, staff_regular, staff_external, staffed_hours``. Staff are present
        through the staffed hours, over which the profile's intervals are spread.
    shrinkage : float
        Share of paid time off the phones; scheduled staff are
        ``ceil(on_phone / (1 - shrinkage))``. Default 30 %.
    over_margin : float
        An interval is over-staffed when deployed exceeds needed by this share
        and by at least one agent.
    rate_step : float
        Arrival rates are rounded up to this step (calls/hour) and handle times
        up to the second, so that equal intervals are solved once.
    profile : IntradayProfile, optional
        Intraday shape by weekday (:func:`~kumin.resources.intraday.estimate_profile`);
        default the stated 9:00-18:00 hourly fallback.
    occupancy_cap : float or None
        Highest occupancy allowed (default 85 %); None for no cap.
    person_day_yen : float
        Cost of one external person-day.
    regular_staff : int
        Regular staff on days whose deployment is unknown; the external
        headcount needed is the day's headcount less the regular staff.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> f = pl.DataFrame({"date": [dt.date(2021, 8, 2)], "calls": [450]})
    >>> plan = staffing_plan(f, handle_seconds=360, shrinkage=0, occupancy_cap=None)
    >>> plan.by_day["peak_agents_needed"][0]
    10
    """
    owner = "staffing_plan"
    if handle_seconds is not None:
        check_number(handle_seconds, "handle_seconds", owner, 0, 86400, low_open=True)
    check_number(answer_within, "answer_within", owner, 0, 86400)
    check_number(service_level, "service_level", owner, 0, 1, low_open=True, high_open=True)
    if patience_seconds is not None:
        check_number(patience_seconds, "patience_seconds", owner, 0, None, low_open=True)
    shrink = check_number(shrinkage, "shrinkage", owner, 0, 1, high_open=True)
    margin = check_number(over_margin, "over_margin", owner, 0, 10)
    step = check_number(rate_step, "rate_step", owner, 0, 1000, low_open=True)
    if occupancy_cap is not None:
        check_number(occupancy_cap, "occupancy_cap", owner, 0, 1, low_open=True)
    day_rate = check_number(person_day_yen, "person_day_yen", owner, 0, 1e9)
    regular_default = check_number(regular_staff, "regular_staff", owner, 0, 10_000, integer=True)
    if profile is None:
        shares = check_hourly_shares(hourly_shares, owner) if hourly_shares else None
        profile = hourly_profile(shares) if shares else default_profile()
    calls = _forecast_calls(forecast)
    if handle_seconds is None and calls["handle"].null_count() > 0:
        raise DataError(
            "resources.import.invalid",
            problems=[Problem(None, "handle_seconds", "core.tabular.missing_column")],
            path="-",
        )
    solver = _solver or _Solver()
    interval_h = profile.interval_minutes / 60.0
    starts = profile.starts
    dep: dict = {}
    if deployed is not None:
        for row in deployed.iter_rows(named=True):
            dep[row["date"]] = (
                int(row["staff_regular"]),
                int(row["staff_external"]),
                float(row["staffed_hours"]),
            )
    rows = []
    for day, day_calls, day_handle in calls.iter_rows():
        handle = float(day_handle) if day_handle and day_handle > 0 else float(handle_seconds)
        handle_key = float(math.ceil(handle - 1e-9))
        known = dep.get(day)
        open_hours = known[2] if known and known[2] > 0 else profile.open_hours
        # Each profile interval stands for this many real hours of the day.
        real_h = interval_h * open_hours / profile.open_hours
        weekday = day.isoweekday()
        for start, share in zip(starts, profile.for_weekday(weekday), strict=True):
            rate = day_calls * share / real_h
            key = math.ceil(round(rate / step, 9)) * step
            ans = solver.needed(
                key, handle_key, answer_within, service_level, patience_seconds, occupancy_cap
            )
            needed = math.ceil(ans.agents / (1 - shrink) - 1e-9)
            row = {
                "date": day,
                "weekday": weekday,
                "start": clock(start),
                "hour": start // 60,
                "calls": float(day_calls * share),
                "arrivals_per_hour": float(rate),
                "handle_seconds": handle,
                "agents_on_phone": ans.agents,
                "agents_needed": needed,
                "service_level": ans.service_level,
                "occupancy": ans.occupancy,
                "mean_wait_seconds": ans.mean_wait_seconds,
                "probability_wait": ans.probability_wait,
                "abandonment_probability": ans.abandonment_probability,
                "_len": real_h,
            }
            if deployed is not None:
                if known is None:
                    row.update(
                        agents_deployed=None, gap=None, service_level_deployed=None, status=None
                    )
                else:
                    agents = float(known[0] + known[1])
                    on_phone = int(math.floor(agents * (1 - shrink) + 1e-9))
                    sl = solver.service_level(
                        on_phone, key, handle_key, answer_within, patience_seconds
                    )
                    gap = agents - needed
                    over = gap >= max(1.0, margin * needed)
                    row.update(
                        agents_deployed=agents,
                        gap=gap,
                        service_level_deployed=sl,
                        status="under" if gap < -1e-9 else ("over" if over else "ok"),
                    )
            rows.append(row)
    schema = {
        "date": pl.Date,
        "weekday": pl.Int64,
        "start": pl.String,
        "hour": pl.Int64,
        "calls": pl.Float64,
        "arrivals_per_hour": pl.Float64,
        "handle_seconds": pl.Float64,
        "agents_on_phone": pl.Int64,
        "agents_needed": pl.Int64,
        "service_level": pl.Float64,
        "occupancy": pl.Float64,
        "mean_wait_seconds": pl.Float64,
        "probability_wait": pl.Float64,
        "abandonment_probability": pl.Float64,
        "_len": pl.Float64,
    }
    if deployed is not None:
        schema.update(
            agents_deployed=pl.Float64,
            gap=pl.Float64,
            service_level_deployed=pl.Float64,
            status=pl.String,
        )
    work = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    settings = {
        "model": "erlang_c" if patience_seconds is None else "erlang_a",
        "patience_seconds": patience_seconds,
        "answer_within": float(answer_within),
        "service_level": float(service_level),
        "shrinkage": shrink,
        "occupancy_cap": occupancy_cap,
        "handle_seconds_default": handle_seconds,
        "handle_seconds_per_day": bool(calls["handle"].null_count() < calls.height),
        "person_day_yen": day_rate,
        "rate_step": step,
        "over_margin": margin,
        "profile": profile.describe(),
    }
    return _summarise(work, dep, deployed is not None, day_rate, regular_default, settings)


def _summarise(work, dep, has_deployed, day_rate, regular_default, settings) -> StaffingPlan:
    hour_len = pl.col("_len")  # real hours one profile interval stands for
    aggs = [
        pl.col("calls").sum(),
        pl.col("handle_seconds").first(),
        pl.col("agents_needed").max().alias("peak_agents_needed"),
        (pl.col("agents_needed") * hour_len).sum().alias("agent_hours_needed"),
    ]
    if has_deployed:
        aggs += [
            (pl.col("gap").clip(upper_bound=0).abs() * hour_len)
            .sum()
            .alias("shortfall_agent_hours"),
            (pl.col("gap").clip(lower_bound=0) * hour_len).sum().alias("surplus_agent_hours"),
            ((pl.col("status") == "under").cast(pl.Float64) * hour_len).sum().alias("under_hours"),
            pl.col("agents_deployed").null_count().alias("_unknown"),
            (pl.col("status") == "over").sum().alias("_over"),
            pl.len().alias("_n"),
        ]
    by_day = work.group_by("date", maintain_order=True).agg(aggs).sort("date")
    regular = pl.DataFrame(
        {
            "date": list(dep),
            "regular_staff": [r for r, _, _ in dep.values()],
            "external_deployed": [e for _, e, _ in dep.values()],
            "staffed_hours": [h for _, _, h in dep.values()],
        },
        schema={
            "date": pl.Date,
            "regular_staff": pl.Int64,
            "external_deployed": pl.Int64,
            "staffed_hours": pl.Float64,
        },
    )
    by_day = (
        by_day.join(regular, on="date", how="left")
        .with_columns(pl.col("regular_staff").fill_null(regular_default))
        .with_columns(
            (pl.col("peak_agents_needed") - pl.col("regular_staff"))
            .clip(lower_bound=0)
            .alias("external_needed")
        )
        .with_columns(
            (pl.col("external_needed") * day_rate)
            .cast(pl.Float64)
            .alias("external_cost_needed_yen")
        )
    )
    base_cols = [
        "date",
        "calls",
        "handle_seconds",
        "peak_agents_needed",
        "agent_hours_needed",
        "regular_staff",
        "external_needed",
        "external_cost_needed_yen",
    ]
    if has_deployed:
        by_day = (
            by_day.with_columns(
                (pl.col("regular_staff") + pl.col("external_deployed")).alias("staff_deployed"),
                (pl.col("external_deployed") * day_rate)
                .cast(pl.Float64)
                .alias("external_cost_deployed_yen"),
            )
            .with_columns(
                (pl.col("staff_deployed") * pl.col("staffed_hours")).alias("agent_hours_deployed"),
                pl.when(pl.col("_unknown") > 0)
                .then(None)
                .when(pl.col("shortfall_agent_hours") > 1e-9)
                .then(pl.lit("under"))
                .when(pl.col("_over") == pl.col("_n"))
                .then(pl.lit("over"))
                .otherwise(pl.lit("ok"))
                .alias("status"),
            )
            .with_columns(
                [
                    pl.when(pl.col("_unknown") > 0).then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("shortfall_agent_hours", "surplus_agent_hours", "under_hours")
                ]
            )
            .select(
                *base_cols,
                "staff_deployed",
                "external_deployed",
                "staffed_hours",
                "agent_hours_deployed",
                "external_cost_deployed_yen",
                "shortfall_agent_hours",
                "surplus_agent_hours",
                "under_hours",
                "status",
            )
        )
    else:
        by_day = by_day.select(base_cols)
    by_week = _weekly(by_day, has_deployed)
    series = [("agents_needed_peak", "peak_agents_needed")]
    if has_deployed:
        series.append(("agents_deployed", "staff_deployed"))
    chart = pl.concat(
        [
            by_day.select(
                "date", pl.lit(name).alias("series"), pl.col(col).cast(pl.Float64).alias("value")
            )
            for name, col in series
        ]
    )
    if has_deployed:
        short = float(by_day["shortfall_agent_hours"].fill_null(0).sum())
        surplus = float(by_day["surplus_agent_hours"].fill_null(0).sum())
        under = int((by_day["status"] == "under").sum())
        over = int((by_day["status"] == "over").sum())
    else:
        short = surplus = 0.0
        under = over = 0
    return StaffingPlan(
        work.drop("_len"), by_day, by_week, chart, under, over, short, surplus, settings
    )


def _weekly(by_day: pl.DataFrame, has_deployed: bool) -> pl.DataFrame:
    aggs = [
        pl.len().alias("days"),
        pl.col("calls").sum(),
        pl.col("peak_agents_needed").max().alias("peak_headcount_needed"),
        pl.col("external_needed").max().alias("peak_external_needed"),
        pl.col("external_needed").sum().alias("external_person_days_needed"),
        pl.col("external_cost_needed_yen").sum(),
    ]
    if has_deployed:
        aggs += [
            pl.col("external_deployed").sum().alias("external_person_days_deployed"),
            pl.col("external_cost_deployed_yen").sum(),
            (pl.col("status") == "under").sum().alias("days_under"),
            (pl.col("status") == "over").sum().alias("days_over"),
        ]
    return (
        by_day.with_columns(
            (pl.col("date") - pl.duration(days=pl.col("date").dt.weekday() - 1)).alias("week")
        )
        .group_by("week", maintain_order=True)
        .agg(aggs)
        .sort("week")
    )


# Multipliers of the base settings tried by plan_sensitivity.
SENSITIVITY_SHRINKAGE = (0.0, 0.15, 0.30, 0.40)
SENSITIVITY_FACTORS = (0.5, 2.0)
SENSITIVITY_HANDLE = (0.9, 1.1)


def plan_sensitivity(forecast: pl.DataFrame, deployed: pl.DataFrame, **settings) -> pl.DataFrame:
    """Days under and over as shrinkage, patience and handle time move.

    Returns ``parameter, value, days_under, days_over, shortfall_agent_hours,
    external_person_days_needed``: the base plan, then shrinkage 0/15/30/40 %,
    patience halved and doubled (and Erlang C, patience infinite) when the plan
    uses Erlang A, and handle times 10 % shorter and longer. A verdict that
    flips within these ranges rests on the setting, not on the data.
    """
    solver = _Solver()
    base_shrink = settings.get("shrinkage", DEFAULT_SHRINKAGE)
    patience = settings.get("patience_seconds")
    variants: list[tuple[str, object, dict]] = [("base", None, {})]
    variants += [
        ("shrinkage", s, {"shrinkage": s}) for s in SENSITIVITY_SHRINKAGE if s != base_shrink
    ]
    if patience is not None:
        variants += [
            ("patience_seconds", round(patience * f, 1), {"patience_seconds": patience * f})
            for f in SENSITIVITY_FACTORS
        ]
        variants.append(("patience_seconds", "inf (erlang_c)", {"patience_seconds": None}))
    rows = []
    for name, value, change in variants:
        plan = staffing_plan(forecast, deployed=deployed, **{**settings, **change}, _solver=solver)
        rows.append(_sensitivity_row(name, value, plan))
    for f in SENSITIVITY_HANDLE:
        scaled = _scaled_handle(forecast, f)
        change = {}
        if settings.get("handle_seconds") is not None:
            change["handle_seconds"] = settings["handle_seconds"] * f
        plan = staffing_plan(scaled, deployed=deployed, **{**settings, **change}, _solver=solver)
        rows.append(_sensitivity_row("handle_seconds", f"x{f:g}", plan))
    return pl.DataFrame(
        rows,
        schema={
            "parameter": pl.String,
            "value": pl.String,
            "days_under": pl.Int64,
            "days_over": pl.Int64,
            "shortfall_agent_hours": pl.Float64,
            "external_person_days_needed": pl.Int64,
        },
        orient="row",
    )


def _scaled_handle(forecast: pl.DataFrame, factor: float) -> pl.DataFrame:
    for c in ("handle_seconds", "mean_handle_seconds"):
        if c in forecast.columns:
            return forecast.with_columns(pl.col(c) * factor)
    return forecast


def _sensitivity_row(name, value, plan: StaffingPlan) -> tuple:
    return (
        name,
        "" if value is None else str(value),
        plan.days_under,
        plan.days_over,
        plan.shortfall_agent_hours,
        int(plan.by_day["external_needed"].sum()),
    )


def call_forecast_from_cases(
    case_forecast: pl.DataFrame,
    calls: pl.DataFrame,
    cases: pl.DataFrame,
    lag: int | None = None,
    window_days: int = 56,
    form: str = "loglog",
) -> pl.DataFrame:
    """Daily call forecast (``date, calls, calls_low, calls_high``) from a case forecast.

    Fits :class:`~kumin.resources.calls.CallsFromCases` on past ``calls``
    (``date, calls_received``) and ``cases`` (``date, cases``), then applies it
    to ``case_forecast`` (``date, cases``). Feed the result to
    :func:`staffing_plan` (its ``calls`` column), or its ``calls_high`` column
    renamed to ``calls`` for a cautious plan.
    """
    model = CallsFromCases(lag=lag, window_days=window_days, form=form).fit(calls, cases)
    return model.predict(case_forecast)
