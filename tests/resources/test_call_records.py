"""Call-centre records: import (all-or-nothing), Tokyo files, period figures, effects, lead/lag."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from kumin.errors import DataError, NotFittedError
from kumin.resources.calls import (
    CallsFromCases,
    calibrate_periods,
    daily_metrics,
    external_staff_effect,
    lead_lag,
    read_call_records,
    read_tokyo_calls,
    summarise_period,
)
from kumin.synth.resources import CALLS_LEAD_DAYS, call_centre_days, ward_case_curve

HEADER = "date,calls_received,calls_answered,staff_regular,staff_external,staffed_hours"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_a_valid_file_with_optional_columns(tmp_path):
    f = write(
        tmp_path / "days.csv",
        HEADER + ",calls_abandoned,mean_handle_seconds,cost_yen\n"
        "2020-04-02,120,100,4,2,9,15,380,180000\n"
        '2020/4/1,"1,050",900,4,6,9,,400.5,250000\n',
    )
    frame = read_call_records(f)
    assert frame["date"].to_list() == [dt.date(2020, 4, 1), dt.date(2020, 4, 2)]
    assert frame["calls_received"].to_list() == [1050, 120]
    assert frame["calls_abandoned"].to_list() == [None, 15]
    assert frame.schema["staffed_hours"] == pl.Float64


def test_reads_cp932_with_japanese_headers(tmp_path):
    text = "日付,受電件数,応答件数,職員数,外部人材数,稼働時間\n2021年8月2日,450,400,4,8,9\n"
    frame = read_call_records(write(tmp_path / "days.csv", text, "cp932"))
    assert frame.row(0) == (dt.date(2021, 8, 2), 450, 400, 4, 8, 9.0)


def test_reads_xlsx(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append([dt.datetime(2021, 8, 2), 450, 400, 4, 8, 9])
    sheet.append([dt.date(2021, 8, 3), 470.0, 420, 4, 8, 8.5])
    book.save(tmp_path / "days.xlsx")
    frame = read_call_records(tmp_path / "days.xlsx")
    assert frame["calls_received"].to_list() == [450, 470]
    assert frame["staffed_hours"].to_list() == [9.0, 8.5]


def test_every_problem_is_reported_with_its_line(tmp_path):
    f = write(
        tmp_path / "bad.csv",
        HEADER + ",calls_abandoned\n"
        "2020-04-01,100,90,4,2,9,5\n"  # line 2: fine
        "2020-04-31,100,90,4,2,9,5\n"  # line 3: no such date
        "2020-04-03,100,120,4,2,9,0\n"  # line 4: answered > received
        "2020-04-01,100,90,4,2,9,5\n"  # line 5: duplicate of line 2
        "2020-04-05,100,90,-1,2,9,5\n"  # line 6: negative staff
        "2020-04-06,100,90,4,2,25,5\n"  # line 7: more than 24 hours
        "2020-04-07,100,90,4,2,9,20\n"  # line 8: answered + abandoned > received
        "2020-04-08,100,90,4,2,0,0\n"  # line 9: answered with no staffed hours
        "2020-04-09,1.5,1,4,2,9,0\n"  # line 10: not a whole number
        "2020-04-10,100,90,4\n",  # line 11: wrong width
    )
    with pytest.raises(DataError) as info:
        read_call_records(f)
    found = {(p.line, p.key) for p in info.value.problems}
    assert found == {
        (3, "core.cell.impossible"),
        (4, "resources.import.answered_exceeds"),
        (5, "core.import.duplicate"),
        (6, "core.cell.below"),
        (7, "core.cell.out_of_range"),
        (8, "resources.import.abandoned_exceeds"),
        (9, "resources.import.no_staffed_hours"),
        (10, "core.cell.not_integer"),
        (11, "core.tabular.bad_width"),
    }
    assert "line 5" in info.value.render("en")
    assert "bad.csv" in info.value.render("ja")


def test_missing_columns_are_named(tmp_path):
    f = write(tmp_path / "bad.csv", "date,calls_received\n2020-04-01,3\n")
    with pytest.raises(DataError) as info:
        read_call_records(f)
    assert {p.column for p in info.value.problems} == {
        "calls_answered",
        "staff_regular",
        "staff_external",
        "staffed_hours",
    }


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "days", "total"),
    [
        # Figures from ../shared/data/README.md.
        ("tokyo_call_center_daily.csv", 601, 424_680),
        ("tokyo_7119_fever_consultation_calls_daily.csv", 788, 58_891),
        ("tokyo_combined_telephone_advice_center_daily.csv", 154, None),
    ],
)
def test_tokyo_files_import_whole(shared_data, name, days, total):
    frame = read_tokyo_calls(shared_data / "tokyo" / name)
    assert frame.height == days
    assert frame.columns == ["date", "calls_received"]
    assert frame["date"].is_sorted() and frame["date"].n_unique() == days
    if total is not None:
        assert frame["calls_received"].sum() == total
    summary = summarise_period(frame)  # demand analysis with calls alone
    assert summary.answer_rate is None and summary.calls_per_staff_hour is None
    assert summary.calls_received == frame["calls_received"].sum()


@pytest.mark.realdata
def test_tokyo_calls_lead_lag_with_onset_cases(shared_data):
    calls = read_tokyo_calls(shared_data / "tokyo" / "tokyo_call_center_daily.csv")
    cases = pl.read_csv(
        shared_data / "tokyo" / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv",
        try_parse_dates=True,
    ).rename({"onset_date": "date"})
    result = lead_lag(calls, cases, max_lag=21)
    print(
        f"\nTokyo call centre vs onset cases: best lag {result.best_lag} days, "
        f"r = {result.correlation:.2f} (95 % bound {result.threshold:.2f})"
    )
    assert result.correlation > result.threshold
    assert -21 <= result.best_lag <= 21


def test_period_summary_and_daily_metrics():
    days = call_centre_days(seed=3)
    s = summarise_period(days, dt.date(2021, 8, 1), dt.date(2021, 8, 31))
    part = days.filter(pl.col("date").dt.month() == 8, pl.col("date").dt.year() == 2021)
    assert s.days == 31
    assert s.answer_rate == pytest.approx(
        part["calls_answered"].sum() / part["calls_received"].sum()
    )
    hours = ((part["staff_regular"] + part["staff_external"]) * part["staffed_hours"]).sum()
    assert s.calls_per_staff_hour == pytest.approx(part["calls_answered"].sum() / hours)
    assert s.cost_per_answered_call == pytest.approx(
        part["cost_yen"].sum() / part["calls_answered"].sum()
    )
    metrics = daily_metrics(days)
    assert {"answer_rate", "calls_per_staff_hour", "cost_per_answered_call"} <= set(metrics.columns)
    with pytest.raises(DataError):
        summarise_period(days, dt.date(2030, 1, 1))


def test_external_staff_effect_recovers_a_known_gain():
    rng = np.random.default_rng(7)
    n = 300
    received = rng.integers(200, 900, n)
    external = rng.integers(0, 15, n)
    regular = np.full(n, 4)
    # Each external person answers 25 calls a day, on the day (lag 0).
    answered = (0.3 * received + 25 * external + 40 * regular + rng.normal(0, 20, n)).round()
    frame = pl.DataFrame(
        {
            "date": pl.date_range(
                dt.date(2020, 3, 1),
                dt.date(2020, 3, 1) + dt.timedelta(days=n - 1),
                "1d",
                eager=True,
            ),
            "calls_received": received,
            "calls_answered": answered.astype(int),
            "staff_regular": regular,
            "staff_external": external,
            "staffed_hours": np.full(n, 9.0),
        }
    )
    effect = external_staff_effect(frame, max_lag=5)
    assert effect.lag == 0
    assert effect.per_person_low < 25 < effect.per_person_high
    assert effect.per_person_high - effect.per_person_low < 5
    assert effect.by_lag.height == 6


def test_saturation_test_finds_a_line_limit_but_not_smooth_erlang_a_returns():
    """Smooth diminishing returns (the synthetic ward is Erlang A) are not a
    saturation; a centre whose lines cap the agents at 12 is."""
    from kumin.resources.calibration import calibrate_patience, saturation_test

    smooth = call_centre_days(seed=0)
    fit = calibrate_patience(smooth)
    plain = saturation_test(smooth, patience=fit)
    assert not plain.saturates and plain.p_value > 0.05 and plain.threshold is None
    capped = call_centre_days(seed=0, line_limit=12)
    limited = saturation_test(capped, patience=calibrate_patience(capped))
    assert limited.saturates and limited.p_value < 0.01
    assert limited.threshold > 12  # days with more staff than lines
    print(f"\nsaturation p: smooth {plain.p_value:.3f}, 12 lines {limited.p_value:.4f}")


def test_staff_effect_interval_accounts_for_the_lag_choice_and_the_week():
    effect = external_staff_effect(call_centre_days(seed=0))
    assert effect.hac_lags >= 7
    # Bonferroni over the 8 lags tried: wider than the plain 95 % interval.
    assert effect.z == pytest.approx(2.7344, abs=1e-3)
    best = effect.by_lag.filter(pl.col("lag") == effect.lag).row(0, named=True)
    assert best["high"] - best["low"] == pytest.approx(
        effect.per_person_high - effect.per_person_low
    )


def _wave(n: int, seed: int) -> np.ndarray:
    t = np.arange(n)
    return (
        30 + 25 * np.sin(t / 11) + 20 * np.sin(t / 5.3) ** 2 + 100 * np.exp(-(((t - 80) / 12) ** 2))
    )


def test_lead_lag_finds_a_known_lead():
    rng = np.random.default_rng(5)
    days = pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 6, 30), "1d", eager=True)
    n = len(days)
    cases = rng.poisson(_wave(n, 0))
    # Calls on day t follow cases on day t + 4: calls lead cases by 4 days.
    calls = rng.poisson(3 * np.concatenate([_wave(n + 4, 0)[4:]]))
    result = lead_lag(
        pl.DataFrame({"date": days, "calls_received": calls}),
        pl.DataFrame({"date": days, "cases": cases}),
        max_lag=14,
    )
    assert result.best_lag == 4
    assert result.table.height == 29


def test_lead_lag_on_the_synthetic_ward():
    calls = call_centre_days(seed=2)
    cases = ward_case_curve(dt.date(2020, 2, 1), dt.date(2022, 1, 31))
    rng = np.random.default_rng(2)
    cases = cases.with_columns(pl.Series("cases", rng.poisson(cases["cases"].to_numpy() * 5)))
    assert lead_lag(calls, cases, max_lag=14).best_lag == CALLS_LEAD_DAYS


def test_calls_from_cases():
    days = pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 5, 31), "1d", eager=True)
    wave = _wave(len(days) + 3, 0)
    cases = pl.DataFrame({"date": days, "cases": wave[:-3]})
    calls = pl.DataFrame({"date": days, "calls_received": 2.0 * wave[3:]})  # lead 3 days
    with pytest.raises(NotFittedError):
        CallsFromCases().predict(cases)
    model = CallsFromCases(lag=None, max_lag=10).fit(calls, cases)
    assert model.lag_ == 3
    future = pl.DataFrame({"date": [dt.date(2021, 6, 10)], "cases": [100.0]})
    forecast = model.predict(future)
    assert forecast["date"][0] == dt.date(2021, 6, 7)
    assert forecast["calls_low"][0] < forecast["calls"][0] < forecast["calls_high"][0]
    assert forecast["calls"][0] == pytest.approx(200, rel=0.1)


def test_calibration_recovers_patience_in_busy_months():
    days = call_centre_days(seed=4, start=dt.date(2021, 7, 1), end=dt.date(2021, 8, 31))
    table = calibrate_periods(days, answer_within=30, service_level=0.8)
    assert table.height == 2
    busy = table.filter(pl.col("abandon_rate") > 0.05)
    assert busy.height >= 1
    # The synthetic centre's callers have 150 s mean patience.
    for patience in busy["patience_seconds"]:
        assert 75 < patience < 300
    assert (table["agents_needed_peak"] >= 1).all()
    assert ((table["service_level_deployed"] >= 0) & (table["service_level_deployed"] <= 1)).all()


def test_calibration_needs_a_handle_time(tmp_path):
    days = call_centre_days(seed=1, end=dt.date(2020, 2, 29)).drop("mean_handle_seconds")
    with pytest.raises(Exception) as info:
        calibrate_periods(days)
    assert "handle_seconds" in str(info.value)
    assert calibrate_periods(days, handle_seconds=400)["handle_seconds"][0] == 400


def test_lead_lag_bound_allows_for_autocorrelation():
    """Two independent smooth series: the white-noise bound 1.96/sqrt(n) calls
    their best chance correlation significant most of the time; Bartlett's
    bound keeps it near the nominal rate."""
    days = pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 12, 31), "1d", eager=True)
    n = len(days)
    beyond = beyond_white = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a = np.exp(np.cumsum(rng.normal(0, 0.05, n))) * 100
        b = np.exp(np.cumsum(rng.normal(0, 0.05, n))) * 100
        result = lead_lag(
            pl.DataFrame({"date": days, "calls_received": rng.poisson(a)}),
            pl.DataFrame({"date": days, "cases": rng.poisson(b)}),
            max_lag=7,
        )
        n_used = result.table.filter(pl.col("lag") == result.best_lag)["n"][0]
        beyond += result.correlation > result.threshold
        beyond_white += result.correlation > 1.959963984540054 / np.sqrt(n_used)
    assert beyond_white >= 10  # the old bound: most independent pairs "related"
    assert beyond <= 4
