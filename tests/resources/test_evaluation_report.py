"""The evaluation report's content: what it finds in the data, and what it says
when parts of the data are missing (both backends). Rendering to HTML and PDF:
test_evaluation_render.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.conftest import actor_for

from kumin.core.context import context
from kumin.resources import report, service, service_continuity, service_plan


@pytest.fixture
def loaded(users, calls_csv, counts_csv):
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
        service_continuity.import_service_counts(ctx, counts_csv)
    return users


def test_report_of_an_empty_installation_says_what_is_missing(users):
    with context(users.settings, actor_for(users, "auditor")) as ctx:
        html = report.render_evaluation(ctx, fmt="html", lang="en").decode("utf-8")
    assert "no notification records" in html
    assert "No call-centre records have been imported." in html
    assert "No monthly service counts have been imported." in html


def test_findings_follow_the_data(loaded):
    with context(loaded.settings, actor_for(loaded, "epidemiologist")) as ctx:
        ev = report.evaluation(ctx, dt.date(2020, 3, 1), dt.date(2020, 6, 30), "en")
    texts = [text for text, _ in ev.findings]
    assert any(text.startswith("The ward's centre received") for text in texts)
    assert any("BCG doses" in text for text in texts)
    # In the manager's terms: external person-days and yen, the effect of one more
    # person by load, and saturation tested against the model (none in Erlang A data).
    assert any("external person-days" in text and "yen" in text for text in texts)
    assert any("one more person on the phones" in text for text in texts)
    assert any(text.startswith("No sign of saturation") for text in texts)
    assert any("an association, not a measured effect" in text for text in texts)
    assert ev.plan is not None and ev.plan.plan.by_day.height == 122
    assert ev.calibration is not None and ev.calibration.height == 4  # March to June
    charts = ev.charts()
    assert {
        "daily_calls",
        "answer_rate",
        "saturation",
        "plan",
        "weekly_headcount",
        "monthly_need",
    } <= set(charts)
    assert "continuity_bcg" in charts and "epi_curve" not in charts
    # the same figures as a workbook: one sheet per part, no formula cells
    import io

    import openpyxl

    from kumin.resources.report_xlsx import evaluation_xlsx

    book = openpyxl.load_workbook(io.BytesIO(evaluation_xlsx(ev)))
    assert book.sheetnames[:4] == ["Findings", "Days", "Plan by day", "Plan by week"]
    assert "Continuity" in book.sheetnames
    plan = list(book["Plan by day"].values)
    assert len(plan) == 123 and "peak_agents_needed" in plan[0]
    findings = [row[0] for row in book["Findings"].values][1:]
    assert findings == texts


def test_epidemic_section_from_notification_records(loaded, tmp_path):
    """With notification records, the report draws the curve and Rt by report date,
    and the call summary finds the lead/lag with reported cases."""
    from kumin.cases.imports import import_cases
    from kumin.synth.cases import synth_cases, write_cases_csv
    from kumin.synth.resources import write_call_centre_csv

    path = tmp_path / "hersys.csv"
    records = synth_cases(seed=11, n=3000)
    write_cases_csv(records, path, "hersys", encoding="cp932", seed=11)
    all_days = tmp_path / "all_days.csv"
    write_call_centre_csv(all_days, seed=7)  # Feb 2020 - Jan 2022, for the lead/lag
    epi = actor_for(loaded, "epidemiologist")
    with context(loaded.settings, epi) as ctx:
        import_cases(ctx, path, "hersys")
        service.import_calls(ctx, all_days)
    start, end = dt.date(2021, 6, 1), dt.date(2021, 9, 30)  # the fifth wave
    with context(loaded.settings, epi) as ctx:
        counts = service.case_counts(ctx, start, end)
        ev = report.evaluation(ctx, start, end, "en")
        (ward,) = service.calls_summary(ctx, centre="ward")
    in_window = sum(1 for r in records if r.result_date and start <= r.result_date <= end)
    assert int(counts["cases"].sum()) == in_window > 0
    assert ev.epidemic is not None and ev.epidemic.total == in_window
    assert ev.epidemic.curve.height == (end - start).days + 1
    assert ev.epidemic.rt.height > 0
    assert {"epi_curve", "rt"} <= set(ev.charts())
    assert ev.findings[0][0].startswith(f"{in_window:,} cases were reported")
    assert ward.lead_lag is not None and ward.lead_lag_note is None
    assert abs(ward.lead_lag.best_lag) <= 21
    # what the next wave would need: the largest 8 weeks replayed after the data
    wave = ev.next_wave
    assert wave is not None and wave.plan.scenario["days"].sum() == 56
    # the replayed cases start the day after the data; calls lead or follow them by the lag
    first = wave.plan.plan.by_day["date"].min()
    assert abs((first - (end + dt.timedelta(days=1))).days) <= 21
    totals = wave.totals()
    assert totals["person_days_low"] <= totals["person_days"] <= totals["person_days_high"]
    assert any(text.startswith("If a wave like the largest so far") for text, _ in ev.findings)
    # A case forecast becomes a call forecast, then a staffing plan.
    forecast = tmp_path / "case_forecast.csv"
    forecast.write_text(
        "date,cases\n" + "".join(f"2022-02-{d:02d},{40 + 5 * d}\n" for d in range(1, 15)),
        encoding="utf-8",
    )
    with context(loaded.settings, epi) as ctx:
        central = service_plan.calls_plan(ctx, case_forecast=forecast)
        cautious = service_plan.calls_plan(ctx, case_forecast=forecast, cautious=True)
    assert central.source == "case_forecast.csv"
    assert central.plan.by_day.height == 14
    assert (cautious.plan.by_day["calls"] >= central.plan.by_day["calls"]).all()
    assert cautious.plan.by_day["peak_agents_needed"].sum() >= (
        central.plan.by_day["peak_agents_needed"].sum()
    )
    # The next weeks' external headcount and cost, with the forecast's bounds.
    weeks = central.scenario
    assert weeks is not None and weeks["days"].sum() == 14
    assert (weeks["external_person_days_low"] <= weeks["external_person_days_needed"]).all()
    assert (weeks["external_person_days_needed"] <= weeks["external_person_days_high"]).all()
    assert len(central.totals()["weekly_scenario"]) == weeks.height
    # Every case-forecast plan carries its forecast's track record.
    track = central.totals()["forecast_backtest"]
    assert track is not None and 0.0 <= track["coverage_95"] <= 1.0
    with context(loaded.settings, epi) as ctx:
        backtest = service_plan.calls_backtest(ctx, start=dt.date(2021, 7, 10))
    assert backtest.days["date"].min() >= dt.date(2021, 7, 10)
    assert ev.backtest is None or ev.backtest.days.height > 0


def test_epidemic_from_counts_alone():
    counts = pl.DataFrame(
        {
            "date": pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 3, 31), "1d", eager=True),
            "cases": [int(20 * 1.03**i) for i in range(90)],
        }
    )
    e = report.epidemic(counts, None, None)
    assert e.total == counts["cases"].sum() and e.peak_date == dt.date(2021, 3, 31)
    # Steady 3 % daily growth: Rt above 1 throughout (serial interval ~4.8 days).
    late = e.rt["mean"].tail(40)  # past the renewal equation's start-up
    assert (late > 1.05).all() and (late < 1.3).all()
    assert report.epidemic(counts.filter(pl.col("date") > dt.date(2022, 1, 1)), None, None) is None
