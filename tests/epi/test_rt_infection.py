"""Rt by date of infection (pooled over input draws) and EpiEstim's uncertain_si."""

from __future__ import annotations

import numpy as np
import pytest
from tests.epi.test_rt_simulation import simulate, steady_windows

from kumin.epi.rt import RtEstimator, UncertainSI, discr_si
from kumin.errors import DataError, ParameterError

GI = discr_si(np.arange(40), 4.8, 2.3)


def test_identical_draws_reduce_to_cori():
    cases, _ = simulate(4)
    draws = np.tile(cases, (20, 1))
    inf = RtEstimator(method="infection", generation_interval=GI).fit(draws)
    cori = RtEstimator().fit(cases)
    keep = ~np.isnan(cori.mean_)
    # A mixture of identical posteriors is that posterior: exact quantiles agree.
    for name in ("mean_", "median_", "lower_", "upper_"):
        np.testing.assert_allclose(getattr(inf, name)[keep], getattr(cori, name)[keep], rtol=1e-8)


def test_pooled_quantiles_are_those_of_the_mixture():
    from scipy.special import gammainc

    rng = np.random.default_rng(9)
    draws = rng.poisson(rng.uniform(5, 80, size=(30, 1)), size=(30, 40)).astype(float)
    est = RtEstimator(method="infection").fit(draws)
    w = discr_si(np.arange(40), 4.8, 2.3)
    for j in (0, 10, 32):
        s, e = est.t_start_[j], est.t_end_[j]
        shape = 1 + draws[:, s : e + 1].sum(1)
        lam = np.array(
            [[sum(d[t - k] * w[k] for k in range(1, t + 1)) for t in range(40)] for d in draws]
        )
        scale = 1 / (1 / 5 + lam[:, s : e + 1].sum(1))
        for q, x in ((0.025, est.lower_[j]), (0.5, est.median_[j]), (0.975, est.upper_[j])):
            assert np.mean(gammainc(shape, x / scale)) == pytest.approx(q, abs=1e-9)
        assert est.mean_[j] == pytest.approx(np.mean(shape * scale), rel=1e-12)


def test_draw_uncertainty_widens_the_interval_and_still_covers():
    rng = np.random.default_rng(5)
    cases, r = simulate(5)
    # Draws as a deconvolution step would give: the same epidemic, uncertain day by day.
    draws = rng.poisson(cases * rng.lognormal(0, 0.15, size=(50, cases.size)))
    inf = RtEstimator(method="infection", generation_interval=GI).fit(draws)
    single = RtEstimator().fit(cases)
    keep = steady_windows(inf)
    width_inf = (inf.upper_ - inf.lower_)[keep]
    width_one = (single.upper_ - single.lower_)[keep]
    assert np.median(width_inf / width_one) > 1.1
    truth = r[inf.t_end_][keep]
    assert ((inf.lower_[keep] <= truth) & (truth <= inf.upper_[keep])).mean() >= 0.9


def test_uncertain_si_seeded_results_repeat():
    draws = np.random.default_rng(0).poisson(30, size=50)
    cfg = dict(UNCERTAIN, n1=10, n2=10)
    a = RtEstimator(uncertain_si=cfg, random_state=3).fit(draws)
    b = RtEstimator(uncertain_si=cfg, random_state=3).fit(draws)
    np.testing.assert_array_equal(a.upper_, b.upper_)


def test_imported_infectors_lower_local_rt():
    draws = np.random.default_rng(1).poisson(30, size=(10, 50)).astype(float)
    imported = np.full(50, 10.0)
    with_imp = RtEstimator(method="infection", random_state=0).fit(draws, imported=imported)
    without = RtEstimator(method="infection", random_state=0).fit(draws)
    assert np.all(with_imp.mean_ < without.mean_)
    # 30 local per day caused by 40 infectors per day: R near 0.75
    assert abs(np.nanmedian(with_imp.mean_) - 0.75) < 0.1


def test_regions_of_draws():
    draws = np.random.default_rng(2).poisson(30, size=(3, 8, 60))
    est = RtEstimator(method="infection", random_state=0).fit(draws)
    assert est.mean_.shape == (3, 53)
    one = RtEstimator(method="infection", random_state=0).fit(draws[1])
    np.testing.assert_allclose(est.mean_[1], one.mean_, rtol=1e-12)


@pytest.mark.parametrize("gi", [[0.5, 0.5], [0.0, -1.0, 2.0], [[0.0, 1.0]], [0.0]])
def test_bad_generation_interval(gi):
    with pytest.raises(ParameterError):
        RtEstimator(method="infection", generation_interval=gi).fit(np.ones((2, 30)))


def test_infection_needs_draws():
    with pytest.raises(DataError):
        RtEstimator(method="infection").fit(np.ones(30))


UNCERTAIN = {
    "std_mean_si": 1.0,
    "min_mean_si": 3.0,
    "max_mean_si": 6.6,
    "std_std_si": 0.5,
    "min_std_si": 1.3,
    "max_std_si": 3.3,
    "n1": 100,
    "n2": 100,
}


def test_uncertain_si_is_wider_and_centred_on_the_certain_estimate():
    cases, _ = simulate(6)
    certain = RtEstimator().fit(cases)
    est = RtEstimator(uncertain_si=UNCERTAIN, random_state=0).fit(cases)
    keep = ~np.isnan(est.mean_) & ~np.isnan(certain.mean_)
    assert np.median((est.upper_ - est.lower_)[keep] / (certain.upper_ - certain.lower_)[keep]) > 1
    np.testing.assert_allclose(np.median(est.median_[keep] / certain.median_[keep]), 1, atol=0.05)
    assert est.si_distr_.shape == (100, cases.size)
    assert est.si_moments_.shape == (100, 2)
    m = est.si_moments_
    assert (m[:, 0] >= 3.0).all() and (m[:, 0] <= 6.6).all()
    assert (m[:, 1] >= 1.3).all() and (m[:, 1] <= 3.3).all()


def test_uncertain_si_with_no_spread_equals_certain():
    cases, _ = simulate(7)
    tight = dict(UNCERTAIN, std_mean_si=1e-9, std_std_si=1e-9, n1=5, n2=4000)
    est = RtEstimator(uncertain_si=UncertainSI(**tight), random_state=0).fit(cases)
    certain = RtEstimator().fit(cases)
    np.testing.assert_allclose(est.mean_, certain.mean_, rtol=1e-6)
    np.testing.assert_allclose(est.median_, certain.median_, rtol=0.03)


def test_uncertain_si_vectorised_over_regions():
    counts = np.stack([simulate(s)[0] for s in (1, 2)])
    cfg = dict(UNCERTAIN, n1=20, n2=20)
    both = RtEstimator(uncertain_si=cfg, random_state=0).fit(counts)
    assert both.mean_.shape == (2, counts.shape[1] - 7)


@pytest.mark.parametrize(
    "change",
    [{"min_mean_si": 0.5}, {"max_mean_si": 4.0}, {"n1": 0}, {"std_std_si": 0}, {"bogus": 1}],
)
def test_uncertain_si_validation(change):
    with pytest.raises(ParameterError):
        RtEstimator(uncertain_si=dict(UNCERTAIN, **change)).fit(np.ones(30))
