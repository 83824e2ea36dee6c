"""Scenario projections and care demand (beds and hotel rooms)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from kumin.epi.contact_matrices import contact_matrix_from_array
from kumin.epi.seir import simulate_seir
from kumin.epi.seir_fit import SEIRModel
from kumin.epi.seir_scenarios import (
    CareSettings,
    Scenario,
    ScenarioResult,
    care_demand,
    compare_scenarios,
)
from kumin.errors import ParameterError

START = dt.date(2021, 6, 1)
N_DATA = 50


def cm2():
    return contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])


def days(n):
    return [START + dt.timedelta(days=i) for i in range(n)]


def planned_doses(n_days):
    """First doses for the old from day 30, second doses three weeks later."""
    doses = np.zeros((2, n_days, 2))
    doses[0, 30:, 1] = 15_000.0
    doses[1, 51:, 1] = 15_000.0
    return doses


@pytest.fixture(scope="module")
def growing():
    """A fitted model of a growing epidemic (R0 1.5), with doses planned past the data."""
    cm = cm2()
    doses = planned_doses(N_DATA + 80)
    truth = simulate_seir(
        cm, START, N_DATA, 1.5, initial_infectious=30, symptomatic_fraction=0.5, doses=doses
    )
    mu = truth.frame["expected_cases"].to_numpy().reshape(N_DATA, 2)
    y = np.random.default_rng(11).negative_binomial(30, 30 / (30 + mu))
    model = SEIRModel(cm, symptomatic_fraction=0.5, ci_method="wald")
    return model.fit(days(N_DATA), y, doses=doses)


def test_reduction_scenario_lowers_the_peak(growing):
    base = growing.project(80, Scenario("as is"), random_state=0)
    cut = growing.project(80, Scenario("-30%", contact_reduction=0.3), random_state=0)
    assert cut.peak()["expected_cases"] < 0.8 * base.peak()["expected_cases"]
    proj = pl.col("projected")
    assert (
        cut.total.filter(proj)["expected_cases"].sum()
        < base.total.filter(proj)["expected_cases"].sum()
    )
    # the data period is untouched by a reduction that starts after it
    np.testing.assert_allclose(
        cut.total.filter(~proj)["expected_cases"], base.total.filter(~proj)["expected_cases"]
    )


def test_faster_vaccination_lowers_cases_and_stopping_raises_them(growing):
    def projected(scale):
        result = growing.project(80, Scenario(f"x{scale}", vaccination_scale=scale), n_samples=0)
        return result.total.filter(pl.col("projected"))["expected_cases"].sum()

    assert projected(3.0) < projected(1.0) < projected(0.0)


def test_projection_intervals_cover_the_central_path(growing):
    result = growing.project(40, n_samples=300, random_state=1)
    total = result.total
    assert total.height == N_DATA + 40
    assert total["projected"].sum() == 40
    inside = (total["cases_lower"] <= total["expected_cases"]) & (
        total["expected_cases"] <= total["cases_upper"]
    )
    assert inside.mean() > 0.95
    assert result.case_samples.shape == (300, N_DATA + 40, 2)
    assert result.by_age.columns == [
        "date",
        "age_band",
        "new_infections",
        "new_symptomatic",
        "expected_cases",
        "cases_lower",
        "cases_upper",
    ]


def test_same_seed_same_projection(growing):
    a = growing.project(20, random_state=5).total
    b = growing.project(20, random_state=5).total
    assert a.equals(b)


def constant_result(cases_per_day=10.0, n_days=40):
    dates = [START + dt.timedelta(days=i) for i in range(n_days)]
    by_age = pl.DataFrame(
        {
            "date": np.repeat(dates, 2),
            "age_band": ["young", "old"] * n_days,
            "new_infections": np.zeros(2 * n_days),
            "new_symptomatic": np.zeros(2 * n_days),
            "expected_cases": np.tile([cases_per_day, cases_per_day], n_days),
            "cases_lower": np.zeros(2 * n_days),
            "cases_upper": np.zeros(2 * n_days),
        }
    )
    total = pl.DataFrame({"date": dates, "projected": [True] * n_days})
    return ScenarioResult(Scenario("flat"), by_age, total, None, 0.9)


def test_occupancy_reaches_admissions_times_stay():
    # Little's law: a steady inflow a with stay L fills a * L beds
    care = CareSettings(
        {"young": {"home": 0.9, "hospital": 0.1}, "old": {"home": 0.5, "hospital": 0.5}},
        {"home": 10, "hospital": 7.5},
        {"hospital": 3},
    )
    demand = care_demand(constant_result(), care)
    hospital = demand.filter(pl.col("setting") == "hospital")
    admissions = 10 * 0.1 + 10 * 0.5
    assert hospital["admissions"][0] == pytest.approx(admissions)
    assert hospital["occupied"][2] == 0.0  # nobody in before the 3-day delay
    assert hospital["occupied"][-1] == pytest.approx(admissions * 7.5)
    home = demand.filter(pl.col("setting") == "home")
    assert home["occupied"][-1] == pytest.approx((9 + 5) * 10)
    assert home["occupied"][4] == pytest.approx((9 + 5) * 5)


@pytest.mark.parametrize(
    ("shares", "stay"),
    [
        ({"young": {"home": 0.5}, "old": {"home": 1.0}}, {"home": 10}),
        ({"young": {"home": 1.0}}, {"home": 10}),
        ({"young": {"home": 1.0}, "old": {"home": 1.0}}, {"home": 0}),
        ({"young": {"home": 1.2, "hotel": -0.2}, "old": {"home": 1.0}}, {"home": 5, "hotel": 5}),
    ],
)
def test_bad_care_settings(shares, stay):
    with pytest.raises(ParameterError):
        care_demand(constant_result(), CareSettings(shares, stay))


def test_compare_scenarios_side_by_side(growing):
    care = CareSettings(
        {
            "young": {"home": 0.8, "hotel": 0.15, "hospital": 0.05},
            "old": {"home": 0.5, "hotel": 0.2, "hospital": 0.3},
        },
        {"home": 10, "hotel": 9, "hospital": 14},
    )
    scenarios = [
        Scenario("as is"),
        Scenario("-30% from 07-25", contact_reduction=0.3, reduction_from="2021-07-25"),
    ]
    cmp = compare_scenarios(growing, scenarios, 60, care, n_samples=50)
    assert cmp.summary["scenario"].to_list() == ["as is", "-30% from 07-25"]
    assert set(cmp.summary.columns) >= {"peak_date", "peak_cases", "peak_hospital", "peak_hotel"}
    assert cmp.summary["peak_hospital"][1] < cmp.summary["peak_hospital"][0]
    assert cmp.total["scenario"].n_unique() == 2
    assert cmp.care.columns[:3] == ["scenario", "date", "setting"]
    with pytest.raises(ParameterError):
        compare_scenarios(growing, [Scenario("a"), Scenario("a")], 10)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contact_reduction": 1.0},
        {"contact_reduction": -0.1},
        {"vaccination_scale": -1},
        {"reduction_from": "soon"},
    ],
)
def test_bad_scenarios(kwargs):
    with pytest.raises(ParameterError):
        Scenario("bad", **kwargs)
