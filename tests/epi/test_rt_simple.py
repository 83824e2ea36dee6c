"""The media formula against Toyo Keizai's published Tokyo values."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from kumin.epi.rt import RtEstimator, simple_rt


def _tokyo(shared_data):
    path = shared_data / "toyokeizai" / "prefectures.csv"
    frame = (
        pl.read_csv(path, infer_schema_length=0)
        .filter(pl.col("prefectureNameJ") == "東京都")
        .with_columns(
            pl.date(
                pl.col("year").cast(int), pl.col("month").cast(int), pl.col("date").cast(int)
            ).alias("day"),
            pl.col("testedPositive").cast(pl.Float64),
            pl.col("effectiveReproductionNumber").cast(pl.Float64, strict=False).alias("published"),
        )
        # The file repeats its first Tokyo row (2020-02-08) verbatim.
        .unique("day", keep="first", maintain_order=True)
        .sort("day")
    )
    assert (frame["day"].diff().drop_nulls().dt.total_days() == 1).all()
    return frame


@pytest.mark.realdata
def test_simple_reproduces_all_published_tokyo_values(shared_data):
    frame = _tokyo(shared_data)
    cumulative = frame["testedPositive"].to_numpy()
    published = frame["published"].to_numpy()
    ours = simple_rt(cumulative)
    have = np.isfinite(published)
    assert have.sum() == 343  # prefectures.csv @355fc4f67a88: 343 published Tokyo values
    # Toyo Keizai publishes 2 decimals.
    np.testing.assert_array_equal(np.round(ours[have], 2), published[have])


@pytest.mark.realdata
def test_estimator_simple_on_daily_counts_matches(shared_data):
    frame = _tokyo(shared_data)
    cumulative = frame["testedPositive"].to_numpy()
    # Daily counts whose running sum is the published cumulative (first day: all
    # cases reported up to then).
    daily = np.diff(cumulative, prepend=0.0)
    est = RtEstimator(method="simple").fit(daily)
    direct = simple_rt(cumulative)[est.t_end_]
    np.testing.assert_allclose(est.mean_[1:], direct[1:], rtol=1e-12)
    out = est.to_frame(frame["day"], dropna=True)
    published = frame.select("day", "published").drop_nulls()
    joined = out.join(published, left_on="date", right_on="day")
    assert joined.height == 343
    assert (joined["r_mean"].round(2) == joined["published"]).all()


def test_simple_formula_and_edges():
    daily = np.r_[np.full(7, 10.0), np.full(7, 20.0)]
    est = RtEstimator(method="simple").fit(daily)
    assert est.t_end_.tolist() == [13] and est.t_start_.tolist() == [0]
    assert est.mean_[0] == pytest.approx(2 ** (5 / 7))
    assert np.isnan(est.lower_).all() and np.isnan(est.upper_).all()
    zero_first = RtEstimator(method="simple").fit(np.r_[np.zeros(7), np.ones(8)])
    assert np.isnan(zero_first.mean_[0])  # nothing in the earlier week: undefined
    assert zero_first.mean_[1] > 0
