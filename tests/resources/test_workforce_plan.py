"""The staffing plan by the standard of workforce management: Erlang A with the
calibrated patience, shrinkage and an occupancy cap, each day's handle time, an
intraday profile by weekday, headcount and cost, and the verdict's sensitivity.

The synthetic ward's generating model is known (patience 150 s, each day's
handle time, the 9:00-18:00 hourly shares, agents = staff on duty), so the plan
made from the data can be checked against the plan made from the truth.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from kumin.errors import ParameterError
from kumin.resources.calibration import calibrate_patience, staff_effect_by_load
from kumin.resources.intraday import default_profile, estimate_profile
from kumin.resources.queueing import erlang_a, erlang_c_stats, min_agents
from kumin.resources.staffing import plan_sensitivity, staffing_plan
from kumin.synth.resources import call_centre_days, calls_by_interval, true_interval_shares

TRUE_PATIENCE = 150.0
WAVE = (dt.date(2021, 7, 1), dt.date(2021, 9, 30))  # the fifth wave


@pytest.fixture(scope="module")
def wave_days() -> pl.DataFrame:
    days = call_centre_days(seed=0)
    return days.filter(pl.col("date").is_between(*WAVE))


@pytest.fixture(scope="module")
def wave_fit(wave_days):
    return calibrate_patience(wave_days)


def test_occupancy_cap_and_shrinkage_raise_the_plan_where_erlang_c_alone_burns_staff():
    # A January-2022-like peak hour: Erlang C at 80 % in 30 s runs agents near 89 %.
    rate, handle = 420.0, 380.0
    bare = min_agents(rate, handle, 30, 0.8)
    assert bare.occupancy > 0.85
    capped = min_agents(rate, handle, 30, 0.8, max_occupancy=0.85)
    assert capped.occupancy <= 0.85 < erlang_c_stats(capped.agents - 1, rate, handle, 30).occupancy
    forecast = pl.DataFrame({"date": [dt.date(2022, 1, 24)], "calls": [rate * 9]})
    flat = {h: 1.0 for h in range(9, 18)}
    plan = staffing_plan(forecast, handle, patience_seconds=None, hourly_shares=flat, shrinkage=0.3)
    row = plan.by_interval.row(0, named=True)
    assert row["agents_on_phone"] == capped.agents
    assert row["agents_needed"] == math.ceil(capped.agents / 0.7)
    assert plan.settings["shrinkage"] == 0.3 and plan.settings["occupancy_cap"] == 0.85


def test_each_day_keeps_its_own_handle_time():
    days = [dt.date(2021, 8, 2), dt.date(2021, 8, 3)]
    forecast = pl.DataFrame({"date": days, "calls": [400, 400], "handle_seconds": [475.0, 360.0]})
    plan = staffing_plan(forecast, handle_seconds=383, patience_seconds=150)
    long_day, short_day = plan.by_day.sort("date").iter_rows(named=True)
    assert long_day["handle_seconds"] == 475 and short_day["handle_seconds"] == 360
    assert long_day["peak_agents_needed"] > short_day["peak_agents_needed"]
    assert plan.settings["model"] == "erlang_a" and plan.settings["handle_seconds_per_day"]


def test_profile_by_weekday_is_estimated_from_interval_counts(wave_days):
    counts = calls_by_interval(wave_days, seed=1)
    quarter = estimate_profile(counts, 15, "09:00", "18:00")
    weekdays = wave_days["date"].dt.weekday()
    for weekday in (1, 3, 6):
        truth = true_interval_shares(weekday)
        calls = wave_days.filter(weekdays == weekday)["calls_received"].sum()
        # Multinomial noise: within 4.5 standard errors in every one of 36 intervals.
        se = np.sqrt(truth * (1 - truth) / calls)
        assert (np.abs(quarter.for_weekday(weekday) - truth) < 4.5 * se).all()
    # Mondays are front-loaded: more of the day by 12:00 than on Saturdays.
    assert quarter.for_weekday(1)[:12].sum() > quarter.for_weekday(6)[:12].sum() + 0.05
    half = estimate_profile(counts, 30, "08:30", "18:00")
    assert len(half.starts) == 19 and half.for_weekday(2)[0] == 0.0
    assert half.describe()["days_by_weekday"]["1"] == 13
    hourly = estimate_profile(counts, 60)
    plan = staffing_plan(wave_days.head(7), patience_seconds=150, profile=quarter)
    assert plan.by_interval.height == 7 * 36
    assert plan.by_interval["start"][:3].to_list() == ["09:00", "09:15", "09:30"]
    # A quarter-hour rush needs at least as many agents as its hour's average.
    coarse = staffing_plan(wave_days.head(7), patience_seconds=150, profile=hourly)
    assert plan.by_day["peak_agents_needed"].sum() >= coarse.by_day["peak_agents_needed"].sum()


def test_opening_hours_and_intervals_are_checked():
    with pytest.raises(ParameterError, match="interval_minutes"):
        default_profile(20)
    with pytest.raises(ParameterError, match="closes"):
        default_profile(60, "09:00", "08:00")
    p = default_profile(15, "08:00", "20:00")
    assert len(p.starts) == 48 and p.for_weekday(7).sum() == pytest.approx(1.0)


def test_headcount_per_day_and_week_with_cost(wave_days):
    week = wave_days.filter(pl.col("date").is_between(dt.date(2021, 8, 2), dt.date(2021, 8, 8)))
    plan = staffing_plan(week, patience_seconds=150, deployed=week, person_day_yen=20_000)
    day = plan.by_day.row(0, named=True)
    assert day["external_needed"] == max(0, day["peak_agents_needed"] - day["regular_staff"])
    assert day["external_cost_needed_yen"] == day["external_needed"] * 20_000
    assert plan.by_week.height == 1
    w = plan.by_week.row(0, named=True)
    assert w["external_person_days_needed"] == plan.by_day["external_needed"].sum()
    assert w["external_person_days_deployed"] == week["staff_external"].sum()
    assert w["days_under"] + w["days_over"] <= 7
    totals = plan.totals()
    assert totals["external_cost_needed_yen"] == 20_000 * totals["external_person_days_needed"]


def test_days_under_and_over_are_within_the_patience_interval_of_the_truth(wave_days, wave_fit):
    """The plan from the data brackets the plan from the generating model."""
    assert wave_fit.low < TRUE_PATIENCE < wave_fit.high
    truth = staffing_plan(wave_days, patience_seconds=TRUE_PATIENCE, deployed=wave_days)
    under, over = [], []
    for patience in (wave_fit.low, wave_fit.patience_seconds, wave_fit.high):
        plan = staffing_plan(wave_days, patience_seconds=patience, deployed=wave_days)
        under.append(plan.days_under)
        over.append(plan.days_over)
    print(f"\nwave plan: under {under} over {over}; truth {truth.days_under}/{truth.days_over}")
    assert min(under) <= truth.days_under <= max(under)
    assert min(over) <= truth.days_over <= max(over)


def test_staff_effect_depends_on_load_as_the_true_model_says(wave_days, wave_fit):
    effect = staff_effect_by_load(wave_days, patience=wave_fit)
    true = staff_effect_by_load(
        wave_days, patience=type(wave_fit)(TRUE_PATIENCE, None, None, 0, 0, 0, 1.0)
    )
    bands = {r["band"]: r for r in effect.by_band.iter_rows(named=True)}
    truth = {r["band"]: r["marginal"] for r in true.by_band.iter_rows(named=True)}
    print("\nmarginal by band:", {k: (v["days"], v["marginal"]) for k, v in bands.items()})
    for name, row in bands.items():
        if row["days"]:
            assert row["low"] - 1e-9 <= truth[name] <= row["high"] + 1e-9
    # One more person answers far more on an overloaded day than on a quiet one.
    assert bands["over_20pct"]["marginal"] > 10 * bands["under_5pct"]["marginal"]
    assert effect.median_day_low <= true.median_day <= effect.median_day_high


def test_model_marginal_equals_erlang_a_by_hand(wave_days):
    day = wave_days.filter(pl.col("date") == dt.date(2021, 8, 16))
    row = day.row(0, named=True)
    fit = type(calibrate_patience(wave_days.head(20)))(150.0, None, None, 0, 0, 0, 1.0)
    effect = staff_effect_by_load(day, patience=fit)
    agents = row["staff_regular"] + row["staff_external"]
    shares = default_profile().for_weekday(row["date"].isoweekday())
    by_hand = 0.0
    for share in shares:
        rate = row["calls_received"] * share
        for n, sign in ((agents, 1), (agents + 1, -1)):
            p = erlang_a(n, rate, row["mean_handle_seconds"], 150.0, 0).abandonment_probability
            by_hand += sign * rate * p
    assert effect.by_day["marginal"][0] == pytest.approx(by_hand)


def test_sensitivity_of_the_verdict(wave_days):
    part = wave_days.filter(pl.col("date").is_between(dt.date(2021, 8, 1), dt.date(2021, 8, 21)))
    table = plan_sensitivity(part, part, patience_seconds=150.0)
    params = table["parameter"].to_list()
    assert params[0] == "base"
    assert params.count("shrinkage") == 3 and params.count("patience_seconds") == 3
    assert params.count("handle_seconds") == 2
    by_shrink = table.filter(pl.col("parameter") == "shrinkage").sort("value")
    # Less shrinkage, fewer staff needed, fewer days under.
    assert by_shrink["days_under"].to_list() == sorted(by_shrink["days_under"].to_list())
    handle = table.filter(pl.col("parameter") == "handle_seconds")["days_under"].to_list()
    assert handle[0] <= handle[1]


def test_what_happened_per_month(wave_days):
    from kumin.resources.calibration import what_happened

    months = what_happened(wave_days, 150.0, every="1mo")
    assert months["period_start"].to_list() == [
        dt.date(2021, 7, 1),
        dt.date(2021, 8, 1),
        dt.date(2021, 9, 1),
    ]
    august = months.row(1, named=True)
    part = wave_days.filter(pl.col("date").dt.month() == 8)
    assert august["offered"] == part["calls_received"].sum()
    assert august["abandoned"] == part["calls_abandoned"].sum()
    assert august["answer_rate"] == pytest.approx(
        part["calls_answered"].sum() / part["calls_received"].sum()
    )
    assert august["cost_per_answered_call"] == pytest.approx(
        part["cost_yen"].sum() / part["calls_answered"].sum()
    )
    # Answered within 30 s (model) is never more than answered at all (observed,
    # up to noise), and the model's worst month is the observed worst month.
    assert (months["service_level_model"] <= months["answer_rate"] + 0.02).all()
    worst = months.sort("service_level_model")["period_start"][0]
    assert worst == months.sort("answer_rate")["period_start"][0]
