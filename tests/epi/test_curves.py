"""Epidemic curves: zero-filled daily/weekly counts, averages, rates, strata."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from kumin.epi.curves import epi_curve
from kumin.epi.rt import RtEstimator
from kumin.errors import DataError, ParameterError

D = dt.date


@pytest.fixture
def cases() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    onset = [D(2021, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 40, n)]
    delay = rng.integers(1, 6, n)
    result = [o + dt.timedelta(days=int(x)) for o, x in zip(onset, delay, strict=True)]
    onset = [None if i % 25 == 0 else o for i, o in enumerate(onset)]  # 16 unknown onsets
    return pl.DataFrame(
        {
            "onset_date": pl.Series(onset, dtype=pl.Date),
            "result_date": pl.Series(result, dtype=pl.Date),
            "town": rng.choice(["Nakano", "Suginami", "Nerima"], n).tolist(),
            "sex": rng.choice(["F", "M"], n).tolist(),
            "age_band": [
                None if i % 50 == 1 else a
                for i, a in enumerate(rng.choice(["0-19", "20-64", "65+"], n).tolist())
            ],
        }
    )


def test_daily_onset_curve_is_complete_and_zero_filled(cases):
    curve = epi_curve(cases)
    f = curve.frame
    assert f.columns == ["date", "cases", "cases_avg"]
    assert curve.missing_date == 16
    assert f["cases"].sum() + curve.missing_date == cases.height
    assert (f["date"].diff().drop_nulls().dt.total_days() == 1).all()
    assert f["date"][0] == cases["onset_date"].min()
    # trailing 7-day mean, null until 7 days are available
    avg = f["cases_avg"].to_numpy()
    assert f["cases_avg"][:6].null_count() == 6
    assert avg[6] == pytest.approx(f["cases"][:7].mean())


def test_report_date_curve_and_gap_days(cases):
    sparse = cases.filter(pl.col("result_date") != D(2021, 1, 10))
    f = epi_curve(sparse, by="report", start=D(2021, 1, 1), end=D(2021, 2, 20)).frame
    assert f.height == 51
    assert f.filter(pl.col("date") == D(2021, 1, 10))["cases"].item() == 0
    assert f["cases"].sum() == sparse.filter(pl.col("result_date") <= D(2021, 2, 20)).height


def test_range_outside_is_counted(cases):
    curve = epi_curve(cases, start=D(2021, 1, 10), end=D(2021, 1, 19))
    assert curve.frame.height == 10
    assert curve.frame["cases"].sum() + curve.outside_range + curve.missing_date == cases.height


def test_stratified_by_two_columns_with_population(cases):
    pop = {
        (t, s): 10_000 + 1000 * i
        for i, (t, s) in enumerate(
            [(t, s) for t in ("Nakano", "Suginami", "Nerima", "Shibuya") for s in ("F", "M")]
        )
    }
    curve = epi_curve(cases, strata=["town", "sex"], population=pop)
    f = curve.frame
    days = (curve.end - curve.start).days + 1
    # 4 towns x 2 sexes (Shibuya has no cases but a population: zero rows)
    assert f.height == 8 * days
    assert f.filter(pl.col("town") == "Shibuya")["cases"].sum() == 0
    row = f.filter((pl.col("town") == "Nakano") & (pl.col("sex") == "M")).row(10, named=True)
    assert row["per_100k"] == pytest.approx(row["cases"] * 100_000 / pop[("Nakano", "M")])
    matrix, keys, dates = curve.matrix()
    assert matrix.shape == (8, days) and len(dates) == days
    assert ("Nakano", "F") in keys
    assert matrix.sum() == f["cases"].sum()


def test_null_stratum_is_kept(cases):
    f = epi_curve(cases, strata=["age_band"]).frame
    assert f["age_band"].null_count() > 0
    assert f["cases"].sum() == cases["onset_date"].drop_nulls().len()


def test_missing_population_is_an_error(cases):
    with pytest.raises(DataError) as info:
        epi_curve(cases, strata=["town"], population={"Nakano": 300_000})
    assert info.value.key == "epi.curves.population_missing"
    with pytest.raises(DataError):
        epi_curve(cases, strata=["town"], population={"Nakano": -1, "Suginami": 1, "Nerima": 1})


def test_weekly_iso_weeks_start_monday(cases):
    # 2021-01-01 is a Friday in ISO week 2020-W53
    curve = epi_curve(
        cases, freq="week", start=D(2021, 1, 1), end=D(2021, 2, 9), population=100_000
    )
    f = curve.frame
    assert f.columns == ["week_start", "iso_year", "iso_week", "days", "cases", "per_100k"]
    assert f["week_start"][0] == D(2020, 12, 28)
    assert (f["iso_year"][0], f["iso_week"][0], f["days"][0]) == (2020, 53, 3)
    assert all(d.weekday() == 0 for d in f["week_start"])
    assert f["days"].sum() == 40
    daily = epi_curve(cases, start=D(2021, 1, 1), end=D(2021, 2, 9)).frame
    assert f["cases"].sum() == daily["cases"].sum()
    np.testing.assert_allclose(f["per_100k"].to_numpy(), f["cases"].to_numpy(), rtol=1e-12)


def test_weekly_by_stratum(cases):
    f = epi_curve(cases, freq="week", strata=["sex"]).frame
    assert set(f["sex"]) == {"F", "M"}
    assert f.group_by("sex").agg(pl.len())["len"].n_unique() == 1


def test_curve_feeds_rt(cases):
    curve = epi_curve(cases, by="report", strata=["town"])
    counts, towns, dates = curve.matrix()
    frame = RtEstimator().fit(counts).to_frame(dates, towns)
    assert set(frame["region"]) == set(towns)


def test_bad_input(cases):
    with pytest.raises(DataError):
        epi_curve(cases.drop("onset_date"))
    with pytest.raises(DataError):
        epi_curve(cases.with_columns(pl.col("onset_date").cast(pl.Utf8)))
    with pytest.raises(DataError):
        epi_curve(cases, strata=["vaccine_doses"])
    with pytest.raises(ParameterError):
        epi_curve(cases, by="specimen")
    with pytest.raises(DataError):
        epi_curve(cases, start=D(2021, 2, 1), end=D(2021, 1, 1))
