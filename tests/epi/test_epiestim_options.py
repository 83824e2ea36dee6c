"""EpiEstim's options against EpiEstim's own printed outputs (tests/epi/epiestim_snapshots.py):
custom windows, a given SI pmf, imported cases, the parametric and the uncertain SI;
aggregated (weekly) incidence against the properties EpiEstim's test-weekly.R checks;
the posterior-CV warning; SI families and pmf files."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.epi import epiestim_snapshots as snap

from kumin.epi.epiestim import (
    PosteriorCVWarning,
    estimate_r_aggregated,
    read_pmf,
    serial_interval_pmf,
)
from kumin.epi.rt import RtEstimator, discr_si
from kumin.errors import DataError, ParameterError


def windows(example):
    # EpiEstim's 1-based days -> kumin's 0-based
    return np.array(example["t_start"]) - 1, np.array(example["t_end"]) - 1


def check(est, example, rtol):
    std = np.sqrt(est.shape_) * est.scale_
    np.testing.assert_allclose(est.mean_, example["mean"], rtol=rtol)
    np.testing.assert_allclose(std, example["std"], rtol=rtol)
    np.testing.assert_allclose(est.lower_, example["q025"], rtol=rtol)
    np.testing.assert_allclose(est.median_, example["median"], rtol=rtol)
    np.testing.assert_allclose(est.upper_, example["q975"], rtol=rtol)


def test_example1_non_parametric_si_and_custom_windows():
    s, e = windows(snap.EXAMPLE1)
    with warnings.catch_warnings():  # 17 cases in the first window: no CV warning
        warnings.simplefilter("error", PosteriorCVWarning)
        est = RtEstimator(generation_interval=snap.FLU2009_SI, t_start=s, t_end=e).fit(snap.FLU2009)
    assert est.t_start_.tolist() == s.tolist() and est.t_end_.tolist() == e.tolist()
    check(est, snap.EXAMPLE1, rtol=1e-6)  # EpiEstim prints 7-8 significant digits


def test_example2_imported_cases():
    s, e = windows(snap.EXAMPLE2)
    est = RtEstimator(si_mean=2.6, si_sd=1.5, t_start=s, t_end=e)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCVWarning)
        est.fit(snap.EXAMPLE2["local"], imported=snap.EXAMPLE2["imported"])
    check(est, snap.EXAMPLE2, rtol=1e-6)


def test_example3_parametric_si():
    s, e = windows(snap.EXAMPLE3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCVWarning)
        est = RtEstimator(si_mean=2.6, si_sd=1.5, t_start=s, t_end=e).fit(snap.FLU2009)
    check(est, snap.EXAMPLE3, rtol=1e-6)


def test_example4_uncertain_si_within_monte_carlo_error():
    # EpiEstim's figures are one draw of R's random numbers (n1 = n2 = 100): kumin's
    # own draws (more of them, so its Monte Carlo error is small) must agree to
    # within EpiEstim's Monte Carlo error
    s, e = windows(snap.EXAMPLE4)
    cfg = dict(snap.EXAMPLE4["uncertain_si"], n1=2000, n2=50)
    est = RtEstimator(si_mean=2.6, si_sd=1.5, uncertain_si=cfg, t_start=s, t_end=e, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorCVWarning)
        est.fit(snap.FLU2009)
    np.testing.assert_allclose(est.mean_, snap.EXAMPLE4["mean"], rtol=0.05)
    np.testing.assert_allclose(est.median_, snap.EXAMPLE4["median"], rtol=0.05)
    np.testing.assert_allclose(est.lower_, snap.EXAMPLE4["q025"], rtol=0.12)
    np.testing.assert_allclose(est.upper_, snap.EXAMPLE4["q975"], rtol=0.12)
    # and the SI uncertainty widens the interval against the parametric SI (Example 3)
    assert np.all(est.upper_ - est.lower_ > np.array(snap.EXAMPLE3["q975"]) - snap.EXAMPLE3["q025"])


def test_cv_warning_follows_epiestims_rule():
    # ceiling(1 / 0.3^2 - 1) = 11 cases needed in the first window
    counts = np.r_[[1.0], np.full(7, 10 / 7), np.full(20, 5.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCVWarning)
        RtEstimator(cv_posterior=0.35).fit(np.r_[[1.0], np.full(27, 2.0)])  # 14 >= 8 needed
    with pytest.warns(PosteriorCVWarning) as record:
        est = RtEstimator().fit(np.vstack([counts, counts * 10]))
    assert est.n_low_cv_ == 1 and record[0].message.needed == 11
    np.testing.assert_allclose(est.cv_, 1 / np.sqrt(est.shape_))


@pytest.mark.parametrize(
    "t_start, t_end",
    [([0], [6]), ([3, 4], [9]), ([5], [4]), ([2], [40]), ([1.5], [7])],
)
def test_bad_windows(t_start, t_end):
    with pytest.raises(ParameterError):
        RtEstimator(t_start=t_start, t_end=t_end).fit(np.full(30, 5.0))


def test_windows_are_refused_for_the_media_formula():
    with pytest.raises(ParameterError):
        RtEstimator(method="simple", t_start=[7], t_end=[20]).fit(np.full(30, 5.0))


def simulate_daily(seed=3, n_weeks=16):
    rng = np.random.default_rng(seed)
    w = discr_si(np.arange(7 * n_weeks), 4.8, 2.3)
    r = np.where(np.arange(7 * n_weeks) < 50, 1.5, 0.8)
    inc = np.zeros(7 * n_weeks)
    inc[:3] = 10
    for t in range(3, inc.size):
        inc[t] = rng.poisson(r[t] * (inc[:t][::-1] @ w[1 : t + 1]))
    return inc


def test_weekly_incidence_like_epiestims_test_weekly():
    daily = simulate_daily()
    weekly = daily.reshape(-1, 7).sum(1)
    res = estimate_r_aggregated(weekly, dt=7, dt_out=7, n_iter=10, si_mean=4.8, si_sd=2.3)
    # the reconstructed days add up to every week's count
    np.testing.assert_allclose(res.daily.reshape(-1, 7).sum(1), weekly, rtol=1e-12)
    # R from weekly data is exactly R of the reconstructed daily incidence
    est = res.estimator
    again = RtEstimator(si_mean=4.8, si_sd=2.3, t_start=est.t_start_, t_end=est.t_end_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PosteriorCVWarning)
        again.fit(res.daily)
    np.testing.assert_allclose(again.mean_, est.mean_, rtol=1e-9)
    assert est.t_start_[0] == 7  # estimation starts on the first day of the second week
    # and it vaguely matches the daily estimate (EpiEstim: relative error < 0.4 after 20)
    daily_est = RtEstimator(si_mean=4.8, si_sd=2.3).fit(daily)
    common = np.isin(daily_est.t_start_, est.t_start_)
    rel = np.abs(daily_est.mean_[common] - est.mean_) / daily_est.mean_[common]
    assert np.all(rel[20:] < 0.4)
    assert res.converged


def test_weekly_with_a_given_si_pmf_and_short_input():
    daily = simulate_daily(5)
    weekly = daily.reshape(-1, 7).sum(1)
    w = serial_interval_pmf("gamma", 4.8, 2.3, 40)
    res = estimate_r_aggregated(weekly, generation_interval=w / w.sum())
    assert res.daily.size == weekly.size * 7
    with pytest.raises(DataError):
        estimate_r_aggregated([5, 6])


@pytest.mark.parametrize("family", ["gamma", "lognormal", "weibull"])
def test_serial_interval_families(family):
    w = serial_interval_pmf(family, 4.8, 2.3, 60)
    assert w[0] == 0 and abs(w.sum() - 1) < 1e-6
    mean = (np.arange(60) * w).sum()
    assert mean == pytest.approx(4.8, abs=0.01)
    if family == "gamma":
        np.testing.assert_allclose(w, discr_si(np.arange(60), 4.8, 2.3), atol=1e-12)
    est = RtEstimator(generation_interval=w).fit(simulate_daily())
    assert np.isfinite(est.mean_[10:]).all()


def test_pmf_file(tmp_path):
    good = tmp_path / "si.csv"
    good.write_text("day,p\n" + "".join(f"{i},{p}\n" for i, p in enumerate(snap.FLU2009_SI)))
    np.testing.assert_allclose(read_pmf(good), snap.FLU2009_SI)
    bad = tmp_path / "bad.csv"
    bad.write_text("day,p\n0,0.1\n2,x\n")
    with pytest.raises(DataError) as info:
        read_pmf(bad)
    assert {p.line for p in info.value.problems} == {3}
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("p\n0\n0.5\n")
    with pytest.raises(DataError):
        read_pmf(wrong)
