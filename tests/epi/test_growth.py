"""Growth rate and doubling time from log-linear GLMs on windows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

from kumin.epi.growth import GrowthEstimator, doubling_time
from kumin.errors import DataError, NotFittedError, ParameterError


def poisson_fit_reference(y):
    """Plain maximum likelihood with scipy.optimize, one window at a time."""
    t = np.arange(len(y), dtype=float)

    def nll(p):
        eta = p[0] + p[1] * t
        return np.exp(eta).sum() - (y * eta).sum()

    res = minimize(nll, [np.log(y.mean() + 0.5), 0.0], method="BFGS", options={"gtol": 1e-10})
    mu = np.exp(res.x[0] + res.x[1] * t)
    x = np.column_stack([np.ones_like(t), t])
    cov = np.linalg.inv(x.T @ (mu[:, None] * x))
    phi = ((y - mu) ** 2 / mu).sum() / (len(y) - 2)
    return res.x[1], np.sqrt(phi * cov[1, 1])


def test_exact_exponential_is_recovered():
    y = 30 * np.exp(-0.07 * np.arange(21))
    est = GrowthEstimator(window=21).fit(y)
    assert est.r_[0] == pytest.approx(-0.07, rel=1e-8)
    assert est.halving_time_[0] == pytest.approx(np.log(2) / 0.07, rel=1e-8)
    assert np.isnan(est.doubling_time_[0])


@pytest.mark.parametrize("seed", range(3))
def test_quasipoisson_matches_reference_fit(seed):
    rng = np.random.default_rng(seed)
    y = rng.poisson(40 * np.exp(0.03 * np.arange(40))).astype(float)
    est = GrowthEstimator(window=14).fit(y)
    for i in (0, 13, 26):
        r, se = poisson_fit_reference(y[i : i + 14])
        assert est.r_[i] == pytest.approx(r, rel=1e-5, abs=1e-7)
        assert est.se_[i] == pytest.approx(se, rel=1e-4)


@pytest.mark.parametrize("family", ["quasipoisson", "negbin"])
def test_interval_covers_known_rate(family):
    rng = np.random.default_rng(42)
    n_sim, n = 300, 21
    mu = 60 * np.exp(0.05 * np.arange(n))
    k = 20.0  # overdispersed: variance mu + mu^2 / 20
    y = rng.negative_binomial(k, k / (k + mu), size=(n_sim, n))
    est = GrowthEstimator(family=family, window=n).fit(y)
    covered = (est.r_lower_[:, 0] <= 0.05) & (est.r_upper_[:, 0] >= 0.05)
    assert 0.9 <= covered.mean() <= 0.99
    assert abs(np.mean(est.r_[:, 0]) - 0.05) < 0.005


def test_poisson_intervals_would_be_too_narrow_without_dispersion():
    """The coverage test has teeth: fixing phi = 1 undercovers overdispersed data."""
    rng = np.random.default_rng(1)
    n = 21
    mu = 200 * np.exp(0.05 * np.arange(n))
    y = rng.negative_binomial(10, 10 / (10 + mu), size=(300, n))
    est = GrowthEstimator(window=n).fit(y)
    naive_se = est.se_[:, 0] / np.sqrt(est.dispersion_[:, 0])
    covered = np.abs(est.r_[:, 0] - 0.05) <= 1.96 * naive_se
    assert covered.mean() < 0.7


def test_doubling_time_intervals():
    d, d_lo, d_hi, h, h_lo, h_hi = doubling_time(
        [0.1, 0.1, -0.1], [0.05, -0.01, -0.2], [0.2, 0.2, -0.05]
    )
    assert d[0] == pytest.approx(np.log(2) / 0.1)
    assert (d_lo[0], d_hi[0]) == pytest.approx((np.log(2) / 0.2, np.log(2) / 0.05))
    assert np.isinf(d_hi[1])  # interval of r reaches 0: doubling time unbounded
    assert np.isnan(d[2]) and h[2] == pytest.approx(np.log(2) / 0.1)
    assert (h_lo[2], h_hi[2]) == pytest.approx((np.log(2) / 0.2, np.log(2) / 0.05))


def test_given_windows_and_regions():
    rng = np.random.default_rng(3)
    y = rng.poisson(50, size=(4, 60))
    est = GrowthEstimator(windows=[(0, 20), (21, 59), (10, 30)]).fit(y)
    assert est.r_.shape == (4, 3)
    one = GrowthEstimator(window=21).fit(y[2])
    assert est.r_[2, 0] == pytest.approx(one.r_[0], rel=1e-8)
    assert est.r_[2, 2] == pytest.approx(one.r_[10], rel=1e-8)


def test_zero_windows_are_nan_without_warning():
    y = np.r_[np.zeros(14), np.arange(1, 15)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GrowthEstimator(window=14).fit(y)
    assert np.isnan(est.r_[0]) and np.isfinite(est.r_[-1])
    assert est.n_failed_ >= 1


def test_to_frame():
    y = np.random.default_rng(0).poisson(20, size=30)
    f = GrowthEstimator().fit(y).to_frame(np.arange(30) + np.datetime64("2022-01-01"))
    assert f.columns[:5] == ["region", "date_start", "date", "r", "r_lower"]
    assert f.height == 17 and str(f["date"][0]) == "2022-01-14"


def test_validation():
    with pytest.raises(DataError):
        GrowthEstimator().fit([1, -2, 3] * 10)
    with pytest.raises(DataError):
        GrowthEstimator(window=14).fit(np.ones(10))
    with pytest.raises(ParameterError):
        GrowthEstimator(family="gaussian").fit(np.ones(30))
    with pytest.raises(ParameterError):
        GrowthEstimator(window=2).fit(np.ones(30))
    with pytest.raises(DataError):
        GrowthEstimator(windows=[(0, 40)]).fit(np.ones(30))
    with pytest.raises(NotFittedError):
        GrowthEstimator().to_frame([])
