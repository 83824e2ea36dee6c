"""Staffing plan: agents needed by day and hour against the staff deployed."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from kumin.errors import DataError, ParameterError
from kumin.resources.calls import DEFAULT_HOURLY_SHARES
from kumin.resources.queueing import min_agents, queue_stats
from kumin.resources.staffing import call_forecast_from_cases, staffing_plan
from kumin.synth.resources import call_centre_days

DAY = dt.date(2021, 8, 2)
# No shrinkage and no occupancy cap: the plan is then plain Erlang C per hour.
BARE = {"shrinkage": 0.0, "occupancy_cap": None}


def test_hourly_needs_match_min_agents():
    forecast = pl.DataFrame({"date": [DAY, DAY + dt.timedelta(days=1)], "calls": [450, 90]})
    plan = staffing_plan(forecast, handle_seconds=360, answer_within=30, service_level=0.8, **BARE)
    assert plan.by_hour.height == 2 * len(DEFAULT_HOURLY_SHARES)
    for row in plan.by_hour.iter_rows(named=True):
        rate = math.ceil(round(row["arrivals_per_hour"] / 0.1, 9)) * 0.1
        assert row["agents_needed"] == min_agents(rate, 360, 30, 0.8).agents
    first = plan.by_day.row(0, named=True)
    hours = plan.by_hour.filter(pl.col("date") == DAY)
    assert first["calls"] == pytest.approx(450)
    assert first["peak_agents_needed"] == hours["agents_needed"].max()
    assert first["agent_hours_needed"] == hours["agents_needed"].sum()
    # The 10:00 rush holds 15 % of calls: the peak is there.
    assert hours.sort("agents_needed", descending=True)["hour"][0] == 10


def test_against_deployed_staff():
    forecast = pl.DataFrame(
        {
            "date": [DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)],
            "calls": [450, 450, 450],
        }
    )
    peak = staffing_plan(forecast, handle_seconds=360, **BARE).by_day["peak_agents_needed"][0]
    deployed = pl.DataFrame(
        {
            "date": forecast["date"],
            "staff_regular": [4, 4, 4],
            "staff_external": [peak - 4 - 3, peak - 4, peak - 4 + 8],  # short, just right, surplus
            "staffed_hours": [9.0, 9.0, 9.0],
        }
    )
    plan = staffing_plan(forecast, handle_seconds=360, deployed=deployed, **BARE)
    assert plan.by_day["status"].to_list() == ["under", "ok", "over"]
    assert plan.days_under == 1 and plan.days_over == 1
    short = plan.by_day.row(0, named=True)
    assert short["shortfall_agent_hours"] >= 3  # at least the peak hour, 3 short
    assert short["agent_hours_deployed"] == (peak - 3) * 9
    peak_hour = plan.by_hour.filter((pl.col("date") == DAY) & (pl.col("hour") == 10)).row(
        0, named=True
    )
    assert peak_hour["status"] == "under"
    assert peak_hour["gap"] == -3
    assert peak_hour["service_level_deployed"] < 0.8
    assert peak_hour["service_level_deployed"] == pytest.approx(
        queue_stats(
            peak - 3, math.ceil(peak_hour["arrivals_per_hour"] * 10 - 1e-9) / 10, 360, 30
        ).service_level
    )
    assert set(plan.chart["series"]) == {"agents_needed_peak", "agents_deployed"}
    assert plan.chart.height == 6


def test_unknown_deployment_days_have_no_status():
    forecast = pl.DataFrame({"date": [DAY], "calls": [100]})
    other = pl.DataFrame(
        {
            "date": [DAY - dt.timedelta(days=1)],
            "staff_regular": [4],
            "staff_external": [0],
            "staffed_hours": [9.0],
        }
    )
    plan = staffing_plan(forecast, handle_seconds=360, deployed=other)
    assert plan.by_day["status"][0] is None


def test_shrinkage_and_patience():
    forecast = pl.DataFrame({"date": [DAY], "calls": [600]})
    base = staffing_plan(forecast, handle_seconds=360, **BARE).by_day["peak_agents_needed"][0]
    shrunk = staffing_plan(forecast, handle_seconds=360, shrinkage=0.25, occupancy_cap=None).by_day[
        "peak_agents_needed"
    ][0]
    assert shrunk == math.ceil(base / 0.75)
    impatient = staffing_plan(forecast, handle_seconds=360, patience_seconds=60).by_hour
    assert (impatient["service_level"] >= 0.8).all()


def test_custom_profile_and_short_days():
    forecast = pl.DataFrame({"date": [DAY], "calls": [240]})
    deployed = pl.DataFrame(
        {"date": [DAY], "staff_regular": [3], "staff_external": [1], "staffed_hours": [6.0]}
    )
    plan = staffing_plan(
        forecast, handle_seconds=300, hourly_shares={9: 1, 10: 1, 11: 1}, deployed=deployed
    )
    assert plan.by_hour["hour"].to_list() == [9, 10, 11]
    # 240 calls over 6 open hours: 40 an hour, each profile hour standing for two,
    # answered by the 4 people present all along (not 8 "agent-equivalents").
    assert plan.by_hour["arrivals_per_hour"].to_list() == pytest.approx([40, 40, 40])
    assert plan.by_hour["agents_deployed"].to_list() == pytest.approx([4, 4, 4])
    assert plan.by_day["agent_hours_deployed"][0] == 24


def test_synthetic_ward_plan():
    days = call_centre_days(seed=0, start=dt.date(2021, 7, 1), end=dt.date(2021, 9, 30))
    plan = staffing_plan(days, handle_seconds=380, deployed=days)
    assert plan.by_day.height == 92
    # The ward hired late into the fifth wave and kept staff after it.
    july = plan.by_day.filter(pl.col("date").dt.month() == 7)
    september = plan.by_day.filter(pl.col("date").dt.month() == 9)
    assert (july["status"] == "under").sum() > (september["status"] == "under").sum()
    assert (september["status"] == "over").sum() > 10


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"hourly_shares": {25: 1.0}}, "hourly_shares hour"),
        ({"hourly_shares": {9: 0.0}}, "hourly_shares"),
        ({"service_level": 0}, "service_level"),
    ],
)
def test_parameters_are_checked(kwargs, name):
    forecast = pl.DataFrame({"date": [DAY], "calls": [10]})
    with pytest.raises(ParameterError) as info:
        staffing_plan(forecast, handle_seconds=300, **kwargs)
    assert f"'{name}'" in str(info.value)


def test_forecast_needs_calls():
    with pytest.raises(DataError):
        staffing_plan(pl.DataFrame({"date": [DAY]}), handle_seconds=300)


def test_call_forecast_from_cases_feeds_the_plan():
    import numpy as np

    days = pl.date_range(dt.date(2021, 6, 1), dt.date(2021, 8, 31), "1d", eager=True)
    t = np.arange(len(days) + 2)
    wave = 40 + 30 * np.sin(t / 8) ** 2 + t
    cases = pl.DataFrame({"date": days, "cases": wave[:-2]})
    calls = pl.DataFrame({"date": days, "calls_received": 3 * wave[2:]})
    future = pl.DataFrame(
        {"date": [dt.date(2021, 9, 5), dt.date(2021, 9, 6)], "cases": [150.0, 160.0]}
    )
    forecast = call_forecast_from_cases(future, calls, cases, lag=2)
    assert forecast["date"].to_list() == [dt.date(2021, 9, 3), dt.date(2021, 9, 4)]
    plan = staffing_plan(forecast, handle_seconds=360)
    assert plan.by_day["peak_agents_needed"].min() >= 1
