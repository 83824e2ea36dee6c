"""Rt by the Cori method against an independent EpiEstim implementation and epyestim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.epi.epiestim_reference import discrete_si, estimate_r_reference

from kumin.epi.rt import RtEstimator, discr_si, overall_infectivity
from kumin.errors import DataError, NotFittedError, ParameterError

# EpiEstim's Flu2009 incidence (pandemic influenza in a Pennsylvania school, 2009),
# as listed in EpiEstim's data documentation.
FLU2009 = [
    1,
    1,
    0,
    2,
    5,
    3,
    3,
    3,
    6,
    2,
    5,
    9,
    13,
    12,
    13,
    11,
    12,
    6,
    6,
    6,
    3,
    1,
    0,
    2,
    0,
    0,
    0,
    0,
    2,
    0,
    2,
    0,
]


def _series(seed: int, n_days: int = 120) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = np.exp(np.cumsum(rng.normal(0, 0.08, n_days))) * rng.uniform(2, 200)
    return rng.poisson(level).astype(float)


@pytest.mark.parametrize("mean_si, sd_si", [(4.8, 2.3), (2.6, 1.5), (6.5, 4.0), (1.5, 0.3)])
def test_discr_si_matches_reference_formula(mean_si, sd_si):
    k = np.arange(150)
    ours = discr_si(k, mean_si, sd_si)
    ref = np.array([discrete_si(int(i), mean_si, sd_si) for i in k])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    assert ours[0] == 0.0
    assert abs(ours.sum() - 1) < 1e-6
    # The discretised SI keeps the continuous mean (Cori et al. 2013, appendix 11).
    assert abs((k * ours).sum() - mean_si) < 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_cori_matches_reference_to_6_digits(seed):
    counts = _series(seed)
    est = RtEstimator().fit(counts)
    ref = estimate_r_reference(list(counts), 4.8, 2.3)
    assert [r["t_end"] for r in ref] == (est.t_end_ + 1).tolist()
    assert [r["t_start"] for r in ref] == (est.t_start_ + 1).tolist()
    for ours, key in [
        (est.mean_, "mean"),
        (est.median_, "median"),
        (est.lower_, "q025"),
        (est.upper_, "q975"),
    ]:
        np.testing.assert_allclose(ours, [r[key] for r in ref], rtol=1e-6)


def test_cori_flu2009_defaults_and_other_parameters():
    est = RtEstimator(si_mean=2.6, si_sd=1.5, window=5, prior_shape=2.0, prior_scale=3.0)
    est.fit(FLU2009)
    # prior mean 6, sd sqrt(2)*3 in EpiEstim's parametrisation
    ref = estimate_r_reference(
        FLU2009, 2.6, 1.5, window=5, mean_prior=6.0, std_prior=np.sqrt(2) * 3
    )
    np.testing.assert_allclose(est.mean_, [r["mean"] for r in ref], rtol=1e-6)
    np.testing.assert_allclose(est.upper_, [r["q975"] for r in ref], rtol=1e-6)
    assert est.t_start_[0] == 1 and est.t_end_[-1] == len(FLU2009) - 1


def test_non_parametric_si_like_epiestim():
    # Nishiura et al. (2020) style SI given as a pmf (a Weibull discretised by hand)
    from scipy.stats import weibull_min

    k = np.arange(21)
    cdf = weibull_min.cdf(np.r_[0, k[1:] + 0.5], 2.305, scale=5.452)
    pmf = np.r_[0.0, np.diff(cdf)]
    pmf[1] += cdf[0]
    pmf /= pmf.sum()
    counts = _series(8, 70)
    est = RtEstimator(generation_interval=pmf).fit(counts)
    ref = estimate_r_reference(list(counts), 0, 0, si_distr=list(pmf))
    np.testing.assert_allclose(est.mean_, [r["mean"] for r in ref], rtol=1e-6)
    np.testing.assert_allclose(est.upper_, [r["q975"] for r in ref], rtol=1e-6)
    with pytest.raises(ParameterError):
        RtEstimator(generation_interval=pmf * 0.9).fit(counts)  # EpiEstim: must sum to 1
    cfg = {
        "std_mean_si": 1.0,
        "min_mean_si": 2.8,
        "max_mean_si": 6.8,
        "std_std_si": 0.5,
        "min_std_si": 1.3,
        "max_std_si": 3.3,
    }
    with pytest.raises(ParameterError) as info:
        RtEstimator(generation_interval=pmf, uncertain_si=cfg).fit(counts)
    assert info.value.params["name"] == "generation_interval"


def test_windows_ending_before_si_mean_are_nan_like_epiestim():
    counts = _series(3, 40)
    est = RtEstimator(si_mean=10.0, si_sd=3.0).fit(counts)
    ref = estimate_r_reference(list(counts), 10.0, 3.0)
    defined = ~np.isnan(est.mean_)
    assert (est.t_end_[defined] + 1).tolist() == [r["t_end"] for r in ref]
    assert not defined[0]  # t_end = 8 <= 10
    np.testing.assert_allclose(est.mean_[defined], [r["mean"] for r in ref], rtol=1e-6)


def test_imported_cases_infect_but_are_not_counted_as_local():
    rng = np.random.default_rng(7)
    local = rng.poisson(20, 60).astype(float)
    imported = rng.poisson(5, 60).astype(float)
    est = RtEstimator().fit(local, imported=imported)
    ref = estimate_r_reference(list(local), 4.8, 2.3, imported=list(imported))
    np.testing.assert_allclose(est.mean_, [r["mean"] for r in ref], rtol=1e-6)
    plain = RtEstimator().fit(local)
    assert np.all(est.mean_ < plain.mean_)


def test_vectorised_equals_loop_over_regions():
    counts = np.stack([_series(s, 90) for s in range(6)])
    counts[2, :30] = 0  # a region whose epidemic starts late
    est = RtEstimator().fit(counts)
    for i in range(counts.shape[0]):
        one = RtEstimator().fit(counts[i])
        for name in ("mean_", "median_", "lower_", "upper_"):
            np.testing.assert_allclose(getattr(est, name)[i], getattr(one, name), rtol=1e-12)


def test_overall_infectivity_direct_and_fft_agree():
    counts = _series(1, 300)
    w_short = discr_si(np.arange(300), 4.8, 2.3)
    w_long = discr_si(np.arange(300), 40.0, 30.0)  # > 200 non-zero days: FFT path
    for w in (w_short, w_long):
        ref = np.array([sum(counts[t - k] * w[k] for k in range(1, t + 1)) for t in range(300)])
        np.testing.assert_allclose(
            overall_infectivity(counts, w), ref, rtol=1e-9, atol=1e-9 * counts.max()
        )


def test_many_regions_use_the_dense_product_and_agree_with_reference():
    counts = np.stack([_series(s, 60) for s in range(12)])  # >= 8 series: matrix product
    est = RtEstimator().fit(counts)
    for i in (0, 7, 11):
        ref = estimate_r_reference(list(counts[i]), 4.8, 2.3)
        np.testing.assert_allclose(est.mean_[i], [r["mean"] for r in ref], rtol=1e-6)
        np.testing.assert_allclose(est.lower_[i], [r["q025"] for r in ref], rtol=1e-6)


def test_agrees_with_epyestim_posterior():
    """epyestim's ``estimate_r`` computes the same Gamma posterior given the same SI.

    epyestim's top-level functions add bootstrapping and smoothing of the series,
    so only its deterministic core is compared; its own discretisation of the SI
    differs from EpiEstim's, so EpiEstim's ``discr_si`` is passed to it.
    """
    pd = pytest.importorskip("pandas")
    er = pytest.importorskip("epyestim.estimate_r")
    counts = _series(11, 150)
    est = RtEstimator().fit(counts)
    w = discr_si(np.arange(len(counts)), 4.8, 2.3)
    series = pd.Series(counts, index=pd.date_range("2021-01-01", periods=len(counts)))
    post = er.estimate_r(series, w / w.sum(), a_prior=1.0, b_prior=5.0, window_size=7)
    # epyestim's first window ends on day 7; EpiEstim's (and ours) on day 8.
    a = post["a_posterior"].to_numpy()[1:]
    b = post["b_posterior"].to_numpy()[1:]
    np.testing.assert_allclose(est.shape_, a, rtol=1e-9)
    np.testing.assert_allclose(est.scale_, b, rtol=1e-6)
    np.testing.assert_allclose(est.upper_, er.gamma_quantiles(0.975, a, b), rtol=1e-6)


def test_to_frame_columns_and_dates():
    counts = np.stack([_series(1, 30), _series(2, 30)])
    dates = np.arange(30) + np.datetime64("2021-03-01")
    frame = RtEstimator().fit(counts).to_frame(dates, ["Shinjuku", "Nakano"])
    assert frame.columns == ["region", "date", "r_mean", "r_median", "r_lower", "r_upper"]
    assert frame.height == 2 * 23
    assert str(frame["date"][0]) == "2021-03-08"  # window end: day 8
    assert frame["region"].unique(maintain_order=True).to_list() == ["Shinjuku", "Nakano"]
    single = RtEstimator().fit(counts[0]).to_frame(dates)
    assert single["region"].null_count() == single.height


@pytest.mark.parametrize(
    "bad, key",
    [
        ([1, 2, -1, 4, 5, 6, 7, 8, 9], "epi.data.negative"),
        ([1, 2, np.nan, 4, 5, 6, 7, 8, 9], "epi.data.not_finite"),
        ([1, 2, 3, 4, 5, 6, 7], "epi.data.too_short"),
        ([[[1.0]]], "epi.data.bad_ndim"),
        (["a", "b"], "epi.data.not_numeric"),
    ],
)
def test_bad_counts_raise_data_error(bad, key):
    with pytest.raises(DataError) as info:
        RtEstimator().fit(bad)
    assert info.value.key == key


@pytest.mark.parametrize(
    "params, key",
    [
        ({"si_mean": 1.0}, "epi.param.si_mean"),
        ({"si_mean": 0.5}, "epi.param.si_mean"),
        ({"window": 0}, "epi.param.int_range"),
        ({"window": 7.0}, "epi.param.int_range"),
        ({"window": 400}, "epi.param.int_range"),
        ({"method": "wallinga"}, "epi.param.choice"),
        ({"si_sd": 0}, "epi.param.real_range"),
        ({"prior_scale": -1}, "epi.param.real_range"),
    ],
)
def test_bad_parameters_raise_parameter_error(params, key):
    with pytest.raises(ParameterError) as info:
        RtEstimator(**params).fit(np.ones(30))
    assert info.value.key == key


def test_window_message_reads_like_scikit_learn():
    with pytest.raises(
        ParameterError,
        match=r"The 'window' parameter of RtEstimator must be an "
        r"int in \[1, 365\]. Got 0 instead.",
    ):
        RtEstimator(window=0).fit(np.ones(30))


def test_window_longer_than_series_is_too_short():
    with pytest.raises(DataError) as info:
        RtEstimator(window=30).fit(np.ones(30))
    assert info.value.params["minimum"] == 31


def test_not_fitted():
    with pytest.raises(NotFittedError):
        RtEstimator().to_frame([])


def test_imported_shape_mismatch():
    with pytest.raises(DataError) as info:
        RtEstimator().fit(np.ones(30), imported=np.ones(29))
    assert info.value.key == "epi.data.shape_mismatch"


def test_numerical_core_imports_no_database_or_web():
    import ast
    import importlib

    forbidden = ("kumin.web", "kumin.cli", "kumin.core.db", "kumin.core.models", "sqlalchemy")
    for name in ("rt", "curves", "growth", "_checks"):
        module = importlib.import_module(f"kumin.epi.{name}")
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = [node.module or ""]
            else:
                continue
            assert not [t for t in targets if t.startswith(forbidden)], (name, targets)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 500), min_size=8, max_size=45),
    si=st.tuples(st.floats(1.2, 9.0), st.floats(0.3, 5.0)),
    window=st.integers(1, 7),
)
def test_cori_matches_reference_on_arbitrary_series(counts, si, window):
    est = RtEstimator(si_mean=si[0], si_sd=si[1], window=window).fit(counts)
    ref = estimate_r_reference(counts, si[0], si[1], window=window)
    defined = ~np.isnan(est.mean_)
    assert (est.t_end_[defined] + 1).tolist() == [r["t_end"] for r in ref]
    for ours, key in [(est.mean_, "mean"), (est.lower_, "q025"), (est.upper_, "q975")]:
        np.testing.assert_allclose(ours[defined], [r[key] for r in ref], rtol=1e-6)
