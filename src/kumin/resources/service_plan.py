"""What users do to staff the call centre: size one queue, and plan staffing
against a forecast or the centre's own records.

One function per user action, each taking a :class:`~kumin.core.context.Ctx`
first and checking its permission before any work; the CLI, the web pages and
the JSON API call these same functions. The numbers come from the pure cores
(:mod:`~kumin.resources.queueing`, :mod:`~kumin.resources.staffing`,
:mod:`~kumin.resources.intraday`, :mod:`~kumin.resources.calibration`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from kumin.core.context import Ctx
from kumin.errors import DataError, UserError
from kumin.resources.backtest import Backtest, backtest_calls
from kumin.resources.calibration import PatienceFit, calibrate_patience, what_happened
from kumin.resources.calls import parse_tokyo_calls
from kumin.resources.intraday import (
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    IntradayProfile,
    default_profile,
    estimate_profile,
    parse_intraday_counts,
)
from kumin.resources.models import WARD_CENTRE
from kumin.resources.profiles import parse_table
from kumin.resources.queueing import StaffingAnswer, check_number, min_agents
from kumin.resources.service import (
    CASE_FORECAST,
    call_frame,
    centre_case_counts,
    open_table,
    with_path,
)
from kumin.resources.staffing import (
    DEFAULT_OCCUPANCY_CAP,
    DEFAULT_PERSON_DAY_YEN,
    DEFAULT_SHRINKAGE,
    StaffingPlan,
    call_forecast_from_cases,
    plan_sensitivity,
    staffing_plan,
)

# Calls linear in cases: the log-log form bends a wave's extrapolation down and
# missed Omicron (backtest in the README).
FORECAST_FORM = "linear"


@dataclass(frozen=True)
class StaffingResult:
    """The calculator's answer with every input it used (the JSON of ``calls staffing``)."""

    answer: StaffingAnswer
    arrivals_per_hour: float
    handle_seconds: float
    answer_within: float
    service_level_target: float
    patience_seconds: float | None
    shrinkage: float
    max_occupancy: float | None

    def as_dict(self) -> dict[str, Any]:
        a = self.answer
        return {
            "model": a.model,
            "arrivals_per_hour": self.arrivals_per_hour,
            "handle_seconds": self.handle_seconds,
            "answer_within": self.answer_within,
            "service_level_target": self.service_level_target,
            "patience_seconds": self.patience_seconds,
            "shrinkage": self.shrinkage,
            "max_occupancy": self.max_occupancy,
            "offered_load": a.offered_load,
            "agents": a.agents,
            "scheduled_agents": math.ceil(a.agents / (1 - self.shrinkage) - 1e-9),
            "service_level": a.service_level,
            "occupancy": a.occupancy,
            "probability_wait": a.probability_wait,
            "mean_wait_seconds": a.mean_wait_seconds,
            "abandonment_probability": a.abandonment_probability,
        }


STAFFING_KEYS = (
    "model",
    "arrivals_per_hour",
    "handle_seconds",
    "answer_within",
    "service_level_target",
    "patience_seconds",
    "shrinkage",
    "max_occupancy",
    "offered_load",
    "agents",
    "scheduled_agents",
    "service_level",
    "occupancy",
    "probability_wait",
    "mean_wait_seconds",
    "abandonment_probability",
)


def staffing_answer(
    ctx: Ctx,
    arrivals_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    service_level: float,
    patience_seconds: float | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
    max_occupancy: float | None = DEFAULT_OCCUPANCY_CAP,
) -> StaffingResult:
    """The fewest agents meeting the target (Erlang C, or Erlang A with patience),
    under an occupancy cap, and the staff to schedule after shrinkage."""
    ctx.authorize("calls.read")
    return staffing_result(
        arrivals_per_hour,
        handle_seconds,
        answer_within,
        service_level,
        patience_seconds,
        shrinkage,
        max_occupancy,
    )


def staffing_result(
    arrivals_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    service_level: float,
    patience_seconds: float | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
    max_occupancy: float | None = DEFAULT_OCCUPANCY_CAP,
) -> StaffingResult:
    """:func:`staffing_answer` without a context: a pure calculation on the numbers
    given (no database, no personal data), so ``kumin calls staffing`` needs no
    sign-in, like ``kumin epi rt --counts``."""
    check_number(shrinkage, "shrinkage", "staffing_answer", 0, 1, high_open=True)
    answer = min_agents(
        arrivals_per_hour,
        handle_seconds,
        answer_within,
        service_level,
        patience_seconds,
        max_occupancy=max_occupancy,
    )
    return StaffingResult(
        answer,
        float(arrivals_per_hour),
        float(handle_seconds),
        float(answer_within),
        float(service_level),
        patience_seconds,
        float(shrinkage),
        max_occupancy,
    )


@dataclass(frozen=True)
class PlanResult:
    """A staffing plan with the inputs it was made from."""

    plan: StaffingPlan
    centre: str
    source: str  # "records" (the centre's own days) or the forecast file's name
    handle_seconds: float
    answer_within: float
    service_level: float
    patience_seconds: float | None
    has_deployed: bool
    patience: PatienceFit | None = None  # the calibration, when patience was estimated
    sensitivity: pl.DataFrame | None = None
    backtest: Backtest | None = None  # a case forecast's track record over the last 26 weeks
    scenario: pl.DataFrame | None = None  # weekly external need with the forecast's bounds

    def totals(self) -> dict[str, Any]:
        p = self.plan
        out = {
            "centre": self.centre,
            "source": self.source,
            "days": p.by_day.height,
            "handle_seconds": round(self.handle_seconds, 1),
            "answer_within": self.answer_within,
            "service_level": self.service_level,
            "patience_seconds": self.patience_seconds,
            "days_under": p.days_under if self.has_deployed else None,
            "days_over": p.days_over if self.has_deployed else None,
            "shortfall_agent_hours": round(p.shortfall_agent_hours, 1)
            if self.has_deployed
            else None,
            "surplus_agent_hours": round(p.surplus_agent_hours, 1) if self.has_deployed else None,
        }
        out.update({k: v for k, v in p.totals().items() if k not in out})
        out["settings"] = p.settings
        out["patience_fit"] = None if self.patience is None else asdict(self.patience)
        out["forecast_backtest"] = None if self.backtest is None else self.backtest.as_dict()
        out["weekly_scenario"] = (
            None
            if self.scenario is None
            else [{**r, "week": r["week"].isoformat()} for r in self.scenario.iter_rows(named=True)]
        )
        return out


def mean_handle_seconds(frame: pl.DataFrame) -> float | None:
    """Calls-weighted mean handle time of the days that record one."""
    if "mean_handle_seconds" not in frame.columns:
        return None
    known = frame.filter(pl.col("mean_handle_seconds") > 0)
    weight = known["calls_received"].sum() if known.height else 0
    if not weight:
        return None
    return float((known["mean_handle_seconds"] * known["calls_received"]).sum() / weight)


def intraday_profile(
    path: str | os.PathLike[str] | None,
    interval_minutes: int = 60,
    opens: str = DEFAULT_OPENS,
    closes: str = DEFAULT_CLOSES,
    encoding: str = "auto",
    display_name: str | None = None,
) -> IntradayProfile:
    """The intraday shape by weekday from a file of calls per interval, else the default."""
    if path is None:
        return default_profile(interval_minutes, opens, closes)
    table = open_table(path, encoding, display_name)
    return estimate_profile(parse_intraday_counts(table), interval_minutes, opens, closes)


def calls_plan(
    ctx: Ctx,
    forecast: str | os.PathLike[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    centre: str = WARD_CENTRE,
    handle_seconds: float | None = None,
    answer_within: float = 30.0,
    service_level: float = 0.8,
    patience_seconds: float | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
    encoding: str = "auto",
    display_name: str | None = None,
    case_forecast: str | os.PathLike[str] | None = None,
    cautious: bool = False,
    *,
    model: str = "erlang_a",
    occupancy_cap: float | None = DEFAULT_OCCUPANCY_CAP,
    profile: IntradayProfile | None = None,
    person_day_yen: float = DEFAULT_PERSON_DAY_YEN,
    sensitivity: bool = False,
) -> PlanResult:
    """Agents needed by day and interval for a call forecast, against the staff deployed.

    Without a forecast file the centre's own recorded calls are the forecast: a
    look back at what the queueing model says was needed on each day, each day
    with its own handle time. A case forecast (``date, cases``) becomes a call
    forecast through the centre's past calls and the reported cases
    (:class:`~kumin.resources.calls.CallsFromCases`); ``cautious`` plans for the
    upper end of its 95 % interval. ``model="erlang_a"`` (the default) plans
    with the callers' patience — the given ``patience_seconds``, else the one
    calibrated on the centre's abandoned calls (Erlang C when they cannot
    identify it); ``"erlang_c"`` assumes callers never hang up. ``handle_seconds``
    replaces every day's own handle time. The staff deployed are the centre's
    recorded staff on the same days, where known.
    """
    ctx.authorize("calls.read")
    if model not in ("erlang_a", "erlang_c"):
        raise UserError("core.cli.bad_format", format=model, allowed="erlang_a, erlang_c")
    records = call_frame(ctx, centre, start, end)
    if forecast is not None and case_forecast is not None:
        raise UserError("resources.plan.one_forecast")
    if case_forecast is not None:
        table = open_table(case_forecast, encoding, display_name)
        source = table.path.name
        cases_ahead, _ = parse_table(table, CASE_FORECAST)
        history = call_frame(ctx, centre).select("date", "calls_received")
        reported = centre_case_counts(ctx, centre)  # the cases of the area it serves
        try:
            predicted = call_forecast_from_cases(cases_ahead, history, reported, form=FORECAST_FORM)
        except DataError as exc:
            raise with_path(exc, source) from None
        try:
            # The forecast's own track record, printed with it.
            track = backtest_calls(
                history,
                reported,
                history["date"].max() - dt.timedelta(days=182),
                form=FORECAST_FORM,
            )
        except (DataError, ValueError):
            track = None
        column = "calls_high" if cautious else "calls"
        if start is not None:
            predicted = predicted.filter(pl.col("date") >= start)
        if end is not None:
            predicted = predicted.filter(pl.col("date") <= end)
        calls = predicted.select("date", pl.col(column).alias("calls"))
        bounds = predicted
    elif forecast is not None:
        table = open_table(forecast, encoding, display_name)
        source = table.path.name
        calls = parse_tokyo_calls(table)
        if start is not None:
            calls = calls.filter(pl.col("date") >= start)
        if end is not None:
            calls = calls.filter(pl.col("date") <= end)
    else:
        source = "records"
        calls = records.select("date", "calls_received", "mean_handle_seconds")
    if calls.height == 0:
        raise DataError("resources.no_rows")
    if case_forecast is None:
        track = bounds = None
    if handle_seconds is not None:
        calls = calls.drop("mean_handle_seconds", strict=False)
    else:
        handle_seconds = mean_handle_seconds(records) or mean_handle_seconds(
            call_frame(ctx, centre)
        )
        if handle_seconds is None:
            raise UserError("resources.plan.need_handle")
    profile = profile or default_profile()
    fit = None
    if model == "erlang_c":
        patience_seconds = None
    elif patience_seconds is None:
        history = records if records.height else call_frame(ctx, centre)
        try:
            fit = calibrate_patience(history, profile)
        except DataError:
            fit = None
        patience_seconds = fit.patience_seconds if fit is not None else None
    deployed = None
    staffed = records.filter(
        pl.col("staff_regular").is_not_null()
        & pl.col("staff_external").is_not_null()
        & pl.col("staffed_hours").is_not_null()
    )
    if staffed.height:
        deployed = staffed.select("date", "staff_regular", "staff_external", "staffed_hours")
    # Days ahead have no recorded staff: the regular staff of the last four weeks
    # stand in, so the external headcount is what must be hired on top of them.
    recent = call_frame(ctx, centre).tail(28)["staff_regular"].drop_nulls()
    settings = dict(
        regular_staff=int(recent.median()) if recent.len() else 0,
        handle_seconds=handle_seconds,
        answer_within=answer_within,
        service_level=service_level,
        patience_seconds=patience_seconds,
        shrinkage=shrinkage,
        profile=profile,
        occupancy_cap=occupancy_cap,
        person_day_yen=person_day_yen,
    )
    try:
        plan = staffing_plan(calls, deployed=deployed, **settings)
        scenario = None if bounds is None else _weekly_scenario(plan, bounds, settings)
        table_sens = (
            plan_sensitivity(calls, deployed, **settings)
            if sensitivity and deployed is not None
            else None
        )
    except DataError as exc:
        raise with_path(exc, source) from None
    return PlanResult(
        plan,
        centre,
        source,
        float(handle_seconds),
        float(answer_within),
        float(service_level),
        patience_seconds,
        deployed is not None,
        fit,
        table_sens,
        track,
        scenario,
    )


def _weekly_scenario(plan: StaffingPlan, bounds: pl.DataFrame, settings: dict) -> pl.DataFrame:
    """Weekly external headcount and cost for the forecast and its 95 % bounds."""
    weeks = plan.by_week.select(
        "week",
        "days",
        "peak_external_needed",
        "external_person_days_needed",
        "external_cost_needed_yen",
    )
    for side in ("low", "high"):
        other = staffing_plan(
            bounds.select("date", pl.col(f"calls_{side}").alias("calls")), **settings
        ).by_week.select(
            "week",
            pl.col("peak_external_needed").alias(f"peak_external_{side}"),
            pl.col("external_person_days_needed").alias(f"external_person_days_{side}"),
            pl.col("external_cost_needed_yen").alias(f"external_cost_{side}_yen"),
        )
        weeks = weeks.join(other, on="week", how="left")
    return weeks


BACKTEST_FROM = dt.date(2021, 7, 10)  # the fifth and sixth waves


def calls_backtest(
    ctx: Ctx,
    centre: str = WARD_CENTRE,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Backtest:
    """How the call forecast from the centre's own cases did over past waves.

    Refitted weekly (linear in cases, lag re-estimated each time) and judged on
    the next week's calls given that week's actual cases; the 95 % interval is
    widened to the spread of earlier forecast errors.
    """
    ctx.authorize("calls.read")
    calls = call_frame(ctx, centre).select("date", "calls_received")
    cases = centre_case_counts(ctx, centre)
    if calls.height == 0 or cases.height == 0:
        raise DataError("resources.no_rows")
    return backtest_calls(calls, cases, start or BACKTEST_FROM, end, form=FORECAST_FORM)


def calls_history(
    ctx: Ctx,
    centre: str = WARD_CENTRE,
    start: dt.date | None = None,
    end: dt.date | None = None,
    by: str = "month",
) -> pl.DataFrame:
    """What happened per day or month: calls offered, answered and abandoned, the
    observed answer rate beside the modelled service level of the staff on duty
    (Erlang A with the calibrated patience), staff on duty and cost per answered call."""
    ctx.authorize("calls.read")
    if by not in ("day", "month"):
        raise UserError("core.cli.bad_format", format=by, allowed="day, month")
    frame = call_frame(ctx, centre, start, end)
    if frame.height == 0:
        raise DataError("resources.no_rows")
    try:
        fit = calibrate_patience(frame)
    except DataError:
        fit = None
    return what_happened(frame, fit, every="1d" if by == "day" else "1mo")
