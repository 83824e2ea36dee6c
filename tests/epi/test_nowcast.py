"""Nowcasting: the NB reporting-triangle model and the known-delay model."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from kumin.epi.delays import DelayDistribution
from kumin.epi.nowcast import DelayNowcaster, Nowcaster, estimate_smoothing, triangle
from kumin.errors import DataError, NotFittedError, ParameterError

DELAY = DelayDistribution.lognormal(1.2, 0.6)


def simulate(seed, n_days=100, level=60.0, size=10.0):
    rng = np.random.default_rng(seed)
    lam = level * np.exp(0.3 * np.sin(np.arange(n_days) / 10))
    onset = np.repeat(np.arange(n_days), rng.negative_binomial(size, size / (size + lam)))
    report = onset + DELAY.sample_days(onset.size, rng)
    return onset, report


def test_triangle_nowcast_covers_the_truth():
    hits, total = 0, 0
    for seed in range(3):
        onset, report = simulate(seed)
        ok = report - onset <= 20
        final = np.bincount(onset[ok], minlength=100)
        for as_of in (75, 87, 99):
            nc = Nowcaster(max_delay=20, n_draws=500, random_state=seed).fit(onset, report, as_of)
            lo, hi = nc.interval(0.9)
            days = (nc.dates_ - np.datetime64("1970-01-01")).astype(int)
            recent = days > as_of - 15
            truth = final[days[recent]]
            hits += int(np.sum((truth >= lo[recent]) & (truth <= hi[recent])))
            total += int(recent.sum())
    assert hits / total >= 0.85


def test_triangle_recovers_the_delay_and_corrects_upwards():
    onset, report = simulate(1, level=300.0)
    nc = Nowcaster(max_delay=20, n_draws=300, random_state=0).fit(onset, report, as_of=99)
    true_pmf = DELAY.pmf(20)
    assert np.abs(nc.delay_pmf_ - true_pmf).max() < 0.02
    assert np.all(nc.median_[-5:] > nc.observed_[-5:])
    assert np.all(nc.draws_ >= nc.observed_)
    t = nc.table_
    assert t.columns[:4] == ["date", "observed", "mean", "median"]
    assert (t["lower_95"] <= t["lower_90"]).all() and (t["lower_90"] <= t["lower_50"]).all()
    assert (t["upper_50"] <= t["upper_90"]).all() and (t["upper_90"] <= t["upper_95"]).all()


def test_triangle_seeded_and_as_of_replays():
    onset, report = simulate(2)
    a = Nowcaster(max_delay=15, n_draws=50, random_state=3).fit(onset, report, as_of=80)
    b = Nowcaster(max_delay=15, n_draws=50, random_state=3).fit(onset, report, as_of=80)
    assert np.array_equal(a.draws_, b.draws_)
    # reports after as_of are invisible
    later = report > 80
    c = Nowcaster(max_delay=15, n_draws=50, random_state=3).fit(onset[~later], report[~later], 80)
    assert np.array_equal(a.draws_, c.draws_)


def test_triangle_table():
    onset = np.array([0, 0, 1, 2])
    report = np.array([0, 2, 1, 2])
    t = triangle(onset, report, max_delay=2)
    assert t["d0"].to_list() == [1, 1, 1]
    assert t["d2"].to_list() == [1, None, None]


def test_delay_nowcaster_with_known_delay_covers():
    hits, total = 0, 0
    for seed in range(4):
        onset, report = simulate(10 + seed, level=200.0)
        seen = report <= 99
        counts = np.bincount(onset[seen], minlength=100)
        final = np.bincount(onset, minlength=100)
        nc = DelayNowcaster(DELAY, max_delay=20, n_draws=400, random_state=seed).fit(counts)
        lo, hi = nc.interval(0.9)
        reliable = nc.table_["reliable"].to_numpy()
        recent = np.arange(nc.dates_.size) >= nc.dates_.size - 12
        sel = recent & reliable
        truth = final[-nc.dates_.size :][sel]
        hits += int(np.sum((truth >= lo[sel]) & (truth <= hi[sel])))
        total += int(sel.sum())
    assert hits / total >= 0.85


def test_delay_nowcaster_candidates_widen_intervals():
    onset, report = simulate(3, level=200.0)
    counts = np.bincount(onset[report <= 99], minlength=100)
    one = DelayNowcaster(DELAY, max_delay=20, n_draws=400, random_state=0).fit(counts)
    several = [DelayDistribution.lognormal(m, 0.6) for m in (1.0, 1.2, 1.4)]
    many = DelayNowcaster(several, max_delay=20, n_draws=400, random_state=0).fit(counts)
    w_one = np.subtract(*one.interval(0.9)[::-1])[-4]
    w_many = np.subtract(*many.interval(0.9)[::-1])[-4]
    assert w_many > w_one
    full = many.full_draws()
    assert full.shape == (400, 100)
    assert np.all(full[:, :20] == counts[:20])


def test_estimate_smoothing_finds_overdispersion():
    rng = np.random.default_rng(0)
    y = rng.negative_binomial(5, 5 / (5 + 100.0), size=80)
    phi, sd = estimate_smoothing(y)
    assert 2 < phi < 15
    assert sd < 0.2


def test_errors():
    with pytest.raises(NotFittedError):
        Nowcaster().interval()
    with pytest.raises(ParameterError):
        Nowcaster(max_delay=0).fit([0, 1], [1, 2])
    with pytest.raises(DataError):
        Nowcaster(max_delay=3).fit([3, 1], [1, 2])
    with pytest.raises(DataError):
        DelayNowcaster(DELAY, max_delay=5).fit([1, 2, 3], dates=np.array([0, 1, 3]))
    with pytest.raises(DataError):
        DelayNowcaster(DELAY, max_delay=5).fit([1, -2, 3])


@pytest.mark.realdata
def test_tokyo_omicron_nowcast(shared_data):
    # The Tokyo onset curve published on 2022-01-30 (tokyo/..._snapshot_2022-01-30.csv) has
    # no report dates, so the delay must be assumed: onset → appearing in the file, gamma
    # with mean 2.5–5 days and sd 1.5–3 (24 candidates, pseudo-BMA+ weights).
    path = shared_data / "tokyo" / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv"
    df = pl.read_csv(path, try_parse_dates=True)
    candidates = [
        DelayDistribution.from_mean_sd("gamma", m, s)
        for m in (2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
        for s in (1.5, 2.0, 2.5, 3.0)
    ]
    nc = DelayNowcaster(candidates, max_delay=30, n_draws=1200, random_state=0)
    nc.fit(df["cases"].to_numpy(), df["onset_date"], as_of="2022-01-30")
    t = nc.table_.with_columns(pl.col("date").cast(pl.Utf8))
    complete = t.filter(pl.col("reported_fraction") >= 0.95)
    last_complete = complete["date"].max()
    peak = nc.peak()
    assert str(peak["date"]) > last_complete
    observed_max = int(df["cases"].max())
    assert peak["median"] > observed_max
    recent = t.filter(pl.col("date") > last_complete, pl.col("reliable"))
    assert (recent["lower_90"] >= recent["observed"]).all()
    assert (recent["upper_90"] < 10 * observed_max).all()
    # intervals widen as fewer cases have been reported
    widths = (recent["upper_90"] - recent["lower_90"]).to_numpy()
    assert widths[-1] > widths[0]
    assert nc.delay_weights_.sum() == pytest.approx(1.0)
    # model averaging that is not too sure: the evidence alone puts 98% on one candidate
    assert nc.delay_weights_.max() < 0.9
    sure = DelayNowcaster(
        candidates, max_delay=30, n_draws=1200, random_state=0, delay_weights="evidence"
    ).fit(df["cases"].to_numpy(), df["onset_date"], as_of="2022-01-30")
    assert sure.delay_weights_.max() > 0.9
    day = -3  # 2022-01-28, 15% reported
    assert (
        np.subtract(*nc.interval(0.9)[::-1])[day] > 3 * np.subtract(*sure.interval(0.9)[::-1])[day]
    )
    print(nc.table_.tail(9))
    print(peak)
