"""WIS, CRPS, coverage and the backtest."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kumin.epi.delays import DelayDistribution
from kumin.epi.nowcast import Nowcaster
from kumin.epi.scoring import backtest, coverage, crps, wis


def normal_crps(mu, sigma, y):
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def test_crps_matches_the_normal_closed_form():
    rng = np.random.default_rng(0)
    draws = rng.normal(1.0, 2.0, size=(20_000, 3))
    y = np.array([0.0, 1.0, 5.0])
    assert crps(draws, y) == pytest.approx(normal_crps(1.0, 2.0, y), rel=0.02)


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert float(crps(np.full(10, 3.0), 7.0)) == pytest.approx(4.0)


def test_wis_is_close_to_crps_and_penalises_misses():
    rng = np.random.default_rng(1)
    draws = rng.normal(0.0, 1.0, size=(20_000, 2))
    y = np.array([0.3, 4.0])
    w = wis(draws, y)
    c = crps(draws, y)
    # with 11 intervals the WIS is a close approximation of the CRPS
    assert w == pytest.approx(c, rel=0.1)
    assert w[1] > w[0]
    # one interval: (u - l) + 2/α · distance outside, times α/2, plus ½|y - m|, over K + ½
    x = np.array([0.0, 10.0])
    one = wis(np.linspace(0, 10, 10_001), 12.0, alphas=[0.2])
    lo, hi = np.quantile(np.linspace(0, 10, 10_001), [0.1, 0.9])
    expected = (0.5 * 7.0 + 0.1 * ((hi - lo) + 10 * (12.0 - hi))) / 1.5
    assert float(one) == pytest.approx(expected)
    assert x.size == 2


def test_coverage():
    draws = np.arange(1000.0)[:, None] * np.ones((1, 3))
    cov = coverage(draws, np.array([500.0, 10.0, 980.0]), level=0.9)
    assert cov.tolist() == [True, False, False]


def test_backtest_covers_on_simulated_truncation():
    rng = np.random.default_rng(7)
    delay = DelayDistribution.lognormal(1.1, 0.6)
    n_days = 110
    level = 80 * np.exp(0.4 * np.sin(np.arange(n_days) / 12))
    onset = np.repeat(np.arange(n_days), rng.negative_binomial(15, 15 / (15 + level)))
    report = onset + np.minimum(delay.sample_days(onset.size, rng), 20)
    start = np.datetime64("2021-06-01")
    res = backtest(
        Nowcaster(max_delay=20, n_draws=400, random_state=0),
        start + onset,
        start + report,
        [start + np.timedelta64(d, "D") for d in (70, 78, 86, 94)],
        horizon=14,
    )
    assert res.table.height == 4 * 14
    assert res.coverage(0.9) >= 0.85
    # parameter uncertainty makes the intervals somewhat conservative, not overconfident
    assert 0.4 <= res.coverage(0.5) <= 0.95
    summary = res.summary
    assert summary["days_back"].null_count() == 1
    assert (summary["wis"] >= 0).all()
