"""SEIRModel recovers the parameters of data it generated; the estimator contract.

Tolerance: the truth must lie within 3.5 standard errors (on the log scale) of
each estimate. For a consistent estimator that fails with probability 5e-4 per
parameter, so the check passes for essentially every seed while still failing
on a biased fit (a 10% error in R0 is over 4 standard errors here).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kumin.epi.contact_matrices import contact_matrix_from_array, japan_contact_matrix
from kumin.epi.seir import simulate_seir
from kumin.epi.seir_fit import SEIRModel
from kumin.errors import DataError, NotFittedError, ParameterError

START = dt.date(2020, 3, 1)
CHANGE = dt.date(2020, 4, 7)
SYMPTOMATIC = [0.25, 0.45, 0.65]
TRUTH = {"r0": 2.2, "multiplier_2020-04-07": 0.45, "initial_infectious": 200.0, "dispersion": 20.0}


def three_bands():
    cm = japan_contact_matrix()
    return cm.aggregate(
        {
            "0-19": ["0-9", "10-19"],
            "20-59": ["20-29", "30-39", "40-49", "50-59"],
            "60+": ["60-69", "70-79", "80+"],
        }
    )


def days(n, start=START):
    return [start + dt.timedelta(days=i) for i in range(n)]


def generated(seed, n=100):
    cm = three_bands()
    truth = simulate_seir(
        cm,
        START,
        n,
        TRUTH["r0"],
        initial_infectious=TRUTH["initial_infectious"],
        change_dates=[CHANGE],
        multipliers=[TRUTH["multiplier_2020-04-07"]],
        symptomatic_fraction=SYMPTOMATIC,
        ascertainment=0.5,
    )
    mu = truth.frame["expected_cases"].to_numpy().reshape(n, 3)
    k = TRUTH["dispersion"]
    y = np.random.default_rng(seed).negative_binomial(k, k / (k + mu))
    return cm, y


@pytest.fixture(scope="module")
def fitted():
    cm, y = generated(seed=7)
    model = SEIRModel(
        cm,
        change_dates=[CHANGE],
        symptomatic_fraction=SYMPTOMATIC,
        ascertainment=0.5,
        ci_method="wald",
    )
    return model.fit(days(100), y), y


def test_fit_returns_self_and_results(fitted):
    model, y = fitted
    assert model.converged_
    assert list(model.params_) == list(TRUTH)
    assert model.ci_.columns == ["parameter", "estimate", "lower", "upper", "method"]
    assert model.n_obs_ == y.size
    assert model.aic_ == pytest.approx(2 * 4 - 2 * model.loglik_)
    assert model.fitted_.frame.height == 300
    assert model.rt_.height == 100


def test_fit_recovers_known_parameters(fitted):
    model, _ = fitted
    se = np.sqrt(np.diag(model.covariance_))
    for (name, truth), s in zip(TRUTH.items(), se, strict=True):
        error = abs(np.log(model.params_[name]) - np.log(truth))
        assert error < 3.5 * s, (name, model.params_[name], truth, s)
    assert model.params_["r0"] == pytest.approx(TRUTH["r0"], rel=0.05)
    assert model.params_["multiplier_2020-04-07"] == pytest.approx(0.45, rel=0.05)


def test_fitted_curve_follows_the_data(fitted):
    model, y = fitted
    expected = model.fitted_.frame["expected_cases"].to_numpy().reshape(100, 3)
    assert expected.sum() == pytest.approx(y.sum(), rel=0.03)
    # Rt falls below 1 after the change, as in the generating model (R0 0.45 x 2.2 < 1)
    rt = model.rt_["rt"].to_numpy()
    assert rt[0] > 2.0 and rt[-1] < 1.0


def test_profile_intervals_are_close_to_wald_for_a_large_sample():
    cm = contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])
    truth = simulate_seir(cm, START, 50, 1.6, initial_infectious=50, symptomatic_fraction=0.5)
    mu = truth.frame["expected_cases"].to_numpy().reshape(50, 2)
    y = np.random.default_rng(3).negative_binomial(10, 10 / (10 + mu))
    model = SEIRModel(cm, symptomatic_fraction=0.5).fit(days(50), y)
    ci = model.ci_
    assert (ci["method"] == "profile").all()
    assert (ci["lower"] < ci["estimate"]).all() and (ci["estimate"] < ci["upper"]).all()
    z = 1.959964
    se = np.sqrt(np.diag(model.covariance_))
    wald_width = 2 * z * se
    width = np.log(ci["upper"].to_numpy()) - np.log(ci["lower"].to_numpy())
    np.testing.assert_allclose(width, wald_width, rtol=0.25)
    assert ci["lower"][0] < 1.6 < ci["upper"][0]


def test_not_fitted():
    with pytest.raises(NotFittedError):
        SEIRModel().project(30)


def test_init_stores_parameters_untouched():
    model = SEIRModel(change_dates=["2020-04-07"], ci_method="bogus")
    assert model.change_dates == ["2020-04-07"] and model.ci_method == "bogus"


@pytest.mark.parametrize(
    "kwargs", [{"ci_method": "jackknife"}, {"ci_level": 1.5}, {"max_iter": 0}, {"n_boot": 1}]
)
def test_bad_settings(kwargs):
    cm, y = generated(seed=1, n=30)
    with pytest.raises(ParameterError):
        SEIRModel(cm, symptomatic_fraction=SYMPTOMATIC, **kwargs).fit(days(30), y)


def test_bad_data():
    cm, y = generated(seed=1, n=30)
    model = SEIRModel(cm, symptomatic_fraction=SYMPTOMATIC, ci_method="wald")
    negative = y.copy()
    negative[3, 1] = -2
    with pytest.raises(DataError):
        model.fit(days(30), negative)
    gap = days(31)
    del gap[10]
    with pytest.raises(DataError) as info:
        model.fit(gap, y)
    assert info.value.problems[0].key == "epi.data.date_gap"
    with pytest.raises(DataError):
        model.fit(days(30), y[:, :2])
    with pytest.raises(DataError):
        model.fit(days(30), np.zeros_like(y))
    with pytest.raises(DataError):
        model.fit(days(30), y + 0.5)
    with pytest.raises(DataError) as info:
        model.fit(days(10), y[:10])
    assert info.value.key == "epi.data.too_short"


def test_change_dates_must_fall_inside_the_data_with_enough_days():
    cm, y = generated(seed=1, n=30)
    outside = SEIRModel(cm, change_dates=["2021-01-01"], symptomatic_fraction=SYMPTOMATIC)
    with pytest.raises(ParameterError):
        outside.fit(days(30), y)
    late = SEIRModel(cm, change_dates=["2020-03-28"], symptomatic_fraction=SYMPTOMATIC)
    with pytest.raises(DataError) as info:
        late.fit(days(30), y)
    assert "2020-03-28" in info.value.render("en")


def test_default_japan_model_with_vaccination_recovers_r0():
    # the 9 default bands, Davies symptomatic fractions, doses for the over-60s
    cm = japan_contact_matrix()
    n = 70
    doses = np.zeros((2, n + 30, 9))
    doses[0, 10:40, 6:] = cm.population[6:] * 0.02
    doses[1, 31:61, 6:] = cm.population[6:] * 0.02
    truth = simulate_seir(
        cm, START, n, 1.4, initial_infectious=2000, doses=doses, ascertainment=0.3
    )
    mu = truth.frame["expected_cases"].to_numpy().reshape(n, 9)
    y = np.random.default_rng(2).negative_binomial(50, 50 / (50 + mu))
    model = SEIRModel(ascertainment=0.3, ci_method="wald").fit(days(n), y, doses=doses)
    assert model.bands_[-1] == "80+"
    assert model.params_["r0"] == pytest.approx(1.4, rel=0.03)
    assert model.ci_["lower"][0] < 1.4 < model.ci_["upper"][0]


def test_tokyo_first_wave_state_of_emergency(shared_data):
    """Real data: Tokyo's onsets 2020-03-01..05-24 (tokyo_positive_by_onset_date_
    snapshot_2022-01-30.csv, Tokyo Metropolitan Government open data), one band with
    Tokyo's mean contacts. The first state of emergency (2020-04-07) must bring the
    reproduction number from about 2 to well below 1, as every analysis found."""
    import polars as pl

    frame = pl.read_csv(
        shared_data / "tokyo" / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv",
        try_parse_dates=True,
    ).filter(pl.col("onset_date").is_between(dt.date(2020, 3, 1), dt.date(2020, 5, 24)))
    tokyo = japan_contact_matrix("tokyo")
    one_band = tokyo.aggregate({"all": list(tokyo.bands)})
    model = SEIRModel(
        one_band,
        change_dates=[dt.date(2020, 4, 7)],
        symptomatic_fraction=1.0,
        ascertainment=0.1,
        ci_method="wald",
    ).fit(frame["onset_date"].to_list(), frame["cases"].to_numpy()[:, None])
    assert model.converged_
    assert 1.5 < model.params_["r0"] < 3.5
    rt = model.rt_.filter(pl.col("date") == dt.date(2020, 4, 20))["rt"][0]
    assert 0.3 < rt < 0.8


def test_parametric_bootstrap_intervals_and_projection_draws():
    cm = contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])
    truth = simulate_seir(cm, START, 50, 1.6, initial_infectious=50, symptomatic_fraction=0.5)
    mu = truth.frame["expected_cases"].to_numpy().reshape(50, 2)
    y = np.random.default_rng(4).negative_binomial(10, 10 / (10 + mu))

    def fit():
        return SEIRModel(
            cm, symptomatic_fraction=0.5, ci_method="bootstrap", n_boot=40, random_state=0
        ).fit(days(50), y)

    model = fit()
    assert model.bootstrap_.shape == (40, 3)
    ci = model.ci_
    assert (ci["method"] == "bootstrap").all()
    assert (ci["lower"] < ci["estimate"]).all() and (ci["estimate"] < ci["upper"]).all()
    width = np.log(ci["upper"].to_numpy()) - np.log(ci["lower"].to_numpy())
    wald = 2 * 1.959964 * np.sqrt(np.diag(model.covariance_))
    np.testing.assert_allclose(width, wald, rtol=0.5)  # 40 refits: a rough check only
    assert fit().ci_.equals(ci)  # seeded
    projection = model.project(20, n_samples=50, random_state=1)
    assert projection.case_samples.shape == (50, 70, 2)


def test_cases_by_report_date_with_a_reporting_delay():
    cm = contact_matrix_from_array([[8.0, 3.0], [1.5, 5.0]], [1e6, 2e6], ["young", "old"])
    delay = np.array([0.0, 0.1, 0.2, 0.3, 0.2, 0.1, 0.1])  # mean 3.5 days
    kw = dict(initial_infectious=50, symptomatic_fraction=0.5)
    onset = simulate_seir(cm, START, 60, 1.6, **kw)
    report = simulate_seir(cm, START, 60, 1.6, reporting_delay=delay, **kw)
    a = onset.frame["expected_cases"].to_numpy().reshape(60, 2)
    b = report.frame["expected_cases"].to_numpy().reshape(60, 2)
    np.testing.assert_allclose(
        b[10], 0.1 * a[9] + 0.2 * a[8] + 0.3 * a[7] + 0.2 * a[6] + 0.1 * a[5] + 0.1 * a[4]
    )
    np.testing.assert_allclose(report.frame["new_symptomatic"], onset.frame["new_symptomatic"])
    y = np.random.default_rng(5).negative_binomial(20, 20 / (20 + b))
    model = SEIRModel(cm, symptomatic_fraction=0.5, reporting_delay=delay, ci_method="wald")
    model.fit(days(60), y)
    assert model.params_["r0"] == pytest.approx(1.6, rel=0.03)
    with pytest.raises(ParameterError):
        SEIRModel(cm, symptomatic_fraction=0.5, reporting_delay=[-1.0, 2.0]).fit(days(60), y)
