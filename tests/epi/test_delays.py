"""Delay fitting: censoring, right truncation, AIC choice, intervals, periods."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats

from kumin.epi.delays import DelayDistribution, DelayFitter, fit_family, to_days
from kumin.errors import DataError, NotFittedError, ParameterError


def simulate(dist, n, days, growth, rng, end=None):
    """Primary events on a growing curve over ``days`` days; secondary observed by ``end``."""
    w = np.exp(growth * np.arange(days))
    primary = rng.choice(days, size=n, p=w / w.sum())
    secondary = primary + dist.sample_days(n, rng)
    end = days - 1 if end is None else end
    seen = secondary <= end
    return primary[seen], secondary[seen], end


@pytest.mark.parametrize(
    "dist",
    [
        DelayDistribution.gamma(2.5, 2.0),
        DelayDistribution.lognormal(1.4, 0.5),
        DelayDistribution.weibull(1.8, 6.0),
    ],
    ids=["gamma", "lognormal", "weibull"],
)
def test_recovers_parameters_under_truncation(dist):
    rng = np.random.default_rng(11)
    s, e, end = simulate(dist, 4000, 50, 0.06, rng)
    fitter = DelayFitter([dist.family], random_state=0).fit(s, e, end_date=end)
    fit = fitter.fits_[dist.family]
    lo, hi = fit.mean_ci
    assert lo <= dist.mean <= hi
    for (plo, phi), true in zip(fit.params_ci, dist.params, strict=True):
        assert plo <= true <= phi
    # without the correction the recent, truncated cases pull the mean down
    naive = DelayFitter([dist.family], truncation=False, random_state=0).fit(s, e, end_date=end)
    assert naive.fits_[dist.family].mean_ci[1] < dist.mean


def test_aic_prefers_the_true_family_when_the_shapes_differ():
    rng = np.random.default_rng(5)
    dist = DelayDistribution.lognormal(1.2, 0.9)  # heavy right tail
    s, e, end = simulate(dist, 5000, 200, 0.0, rng)
    fitter = DelayFitter(random_state=0).fit(s, e, end_date=end)
    assert fitter.best_.family == "lognormal"
    table = fitter.table_
    assert table.height == 3
    assert table.filter(pl.col("best"))["family"].to_list() == ["lognormal"]
    assert table["delta_aic"].min() == 0.0


def test_double_censored_pmf_matches_integration_and_simulation():
    dist = DelayDistribution.gamma(2.0, 1.7)
    pmf = dist.pmf(15, normalise=False)
    for d in (0, 1, 4, 9):
        # P(d) = ∫_0^1 [F(d + 1 - u) - F(d - u)] du with the primary uniform in its day
        f = lambda u, d=d: dist.cdf(d + 1 - u) - dist.cdf(d - u)  # noqa: E731
        assert pmf[d] == pytest.approx(integrate.quad(f, 0, 1)[0], abs=1e-10)
    rng = np.random.default_rng(0)
    empirical = np.bincount(dist.sample_days(200_000, rng), minlength=16)[:16] / 200_000
    assert np.abs(empirical - pmf).max() < 0.004
    assert dist.pmf(15).sum() == pytest.approx(1.0)
    interval = dist.pmf(15, censoring="interval", normalise=False)
    assert interval[3] == pytest.approx(
        stats.gamma(2.0, scale=1.7).cdf(4) - stats.gamma(2.0, scale=1.7).cdf(3)
    )


@pytest.mark.parametrize("family", ["gamma", "lognormal", "weibull"])
def test_from_mean_sd_round_trip(family):
    d = DelayDistribution.from_mean_sd(family, 6.0, 3.5)
    assert d.mean == pytest.approx(6.0, rel=1e-6)
    assert d.sd == pytest.approx(3.5, rel=1e-6)


def test_literature_onset_to_confirmation_mean():
    # Weibull(1.741, 8.573): mean 7.64 days per ../shared/data/literature
    assert DelayDistribution.weibull(1.741, 8.573).mean == pytest.approx(7.64, abs=0.01)


def test_periods_are_fitted_separately():
    rng = np.random.default_rng(3)
    fast = DelayDistribution.gamma(2.0, 1.0)
    slow = DelayDistribution.gamma(2.0, 3.0)
    s1 = rng.integers(0, 60, 1500)
    s2 = rng.integers(60, 120, 1500)
    s = np.concatenate([s1, s2])
    e = np.concatenate([s1 + fast.sample_days(1500, rng), s2 + slow.sample_days(1500, rng)])
    start = np.datetime64("2021-01-01")
    sd = start + s.astype("timedelta64[D]")
    ed = start + e.astype("timedelta64[D]")
    periods = pl.DataFrame(
        {
            "label": ["wave 1", "wave 2"],
            "start": [dt.date(2021, 1, 1), dt.date(2021, 3, 2)],
            "end": [dt.date(2021, 3, 1), dt.date(2021, 4, 30)],
        }
    )
    fitter = DelayFitter(["gamma"], random_state=0).fit(sd, ed, periods=periods)
    w1 = fitter.best_for("wave 1")
    w2 = fitter.best_for("wave 2")
    assert w1.mean_ci[0] <= fast.mean <= w1.mean_ci[1]
    assert w2.mean_ci[0] <= slow.mean <= w2.mean_ci[1]
    assert fitter.table_["period"].to_list() == ["all", "wave 1", "wave 2"]
    assert fitter.pmf(20, period="wave 2").shape == (21,)


def test_dates_as_polars_and_missing_pairs_are_skipped():
    onset = pl.Series(["2021-05-01", None, "2021-05-03"] * 10).str.to_date()
    result = pl.Series(
        [x for k in range(10) for x in (f"2021-05-0{2 + k % 6}", "2021-05-06", None)]
    ).str.to_date()
    fitter = DelayFitter(["gamma"], random_state=0).fit(onset, result)
    assert fitter.n_used_ == 10
    assert fitter.n_missing_ == 20
    days, missing = to_days(onset)
    assert missing.sum() == 10


def test_errors():
    with pytest.raises(NotFittedError):
        DelayFitter().pmf(10)
    with pytest.raises(ParameterError, match="families"):
        DelayFitter(["exponential"]).fit([0, 1, 2, 3, 4], [1, 2, 3, 4, 5])
    with pytest.raises(ParameterError):
        DelayDistribution("gamma", (-1.0, 2.0))
    with pytest.raises(DataError) as err:
        DelayFitter().fit([0, 5, 2, 3, 4, 6], [1, 2, 3, 4, 5, 7])
    assert err.value.problems[0].params == {"index": 1, "delay": -3}
    with pytest.raises(DataError):
        DelayFitter().fit([0, 1], [1, 2])


def test_fit_family_without_truncation_is_plain_censored_ml():
    rng = np.random.default_rng(2)
    dist = DelayDistribution.weibull(2.0, 5.0)
    d = dist.sample_days(3000, rng)
    fit = fit_family("weibull", d, None, rng=rng)
    assert fit.converged
    assert fit.params_ci[0][0] <= 2.0 <= fit.params_ci[0][1]
    assert fit.params_ci[1][0] <= 5.0 <= fit.params_ci[1][1]
