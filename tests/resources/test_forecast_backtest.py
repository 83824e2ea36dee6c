"""The call forecast from cases, backtested over the fifth and sixth waves on the
synthetic ward (calls lead the ward's cases by 3 days, ~2.5 calls per case)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from kumin.errors import ParameterError
from kumin.resources.backtest import backtest_calls
from kumin.resources.calls import CallsFromCases
from kumin.synth.resources import call_centre_days, ward_case_curve

FROM = dt.date(2021, 7, 10)


@pytest.fixture(scope="module")
def series() -> tuple[pl.DataFrame, pl.DataFrame]:
    calls = call_centre_days(seed=0).select("date", "calls_received")
    curve = ward_case_curve(dt.date(2020, 2, 1), dt.date(2022, 1, 31))
    rng = np.random.default_rng(0)
    cases = curve.with_columns(pl.Series("cases", rng.poisson(curve["cases"].to_numpy())))
    return calls, cases


def test_backtest_from_july_2021_covers_85_percent(series):
    calls, cases = series
    result = backtest_calls(calls, cases, FROM, form="linear")
    d = result.as_dict()
    print(
        f"\nbacktest from {FROM}: {d['days']} days, 95% coverage {d['coverage_95']:.1%}, "
        f"total {d['total_forecast']:,.0f} vs {d['total_actual']:,.0f} "
        f"({d['total_error']:+.0%}), peak {d['peak_forecast']:,.0f} vs {d['peak_actual']:,.0f} "
        f"({d['peak_error']:+.0%})"
    )
    assert d["start"] == "2021-07-10" and result.widened
    assert d["coverage_95"] >= 0.85
    # Each day is judged once, by the forecast made at the latest weekly origin.
    assert result.days["date"].n_unique() == result.days.height
    assert ((result.days["date"] - result.days["origin"]).dt.total_days() <= 7).all()


def test_the_old_forecast_would_not_have_passed(series):
    """Log-log, one interval from in-sample residuals: narrower than the errors."""
    calls, cases = series
    old = backtest_calls(calls, cases, FROM, form="loglog", widen=False)
    new = backtest_calls(calls, cases, FROM, form="linear")
    assert old.coverage < 0.80 < new.coverage
    assert abs(new.total_forecast - new.total_actual) < abs(old.total_forecast - old.total_actual)


def test_linear_form_extrapolates_a_wave():
    days = pl.date_range(dt.date(2021, 1, 1), dt.date(2021, 3, 31), "1d", eager=True)
    cases = pl.DataFrame({"date": days, "cases": np.linspace(10, 60, len(days))})
    calls = pl.DataFrame({"date": days, "calls_received": 40 + 3 * cases["cases"]})
    model = CallsFromCases(lag=0, form="linear").fit(calls, cases)
    ahead = pl.DataFrame({"date": [dt.date(2021, 4, 5)], "cases": [600.0]})
    assert model.predict(ahead)["calls"][0] == pytest.approx(40 + 3 * 600, rel=1e-6)
    with pytest.raises(ParameterError):
        CallsFromCases(form="cubic").fit(calls, cases)
