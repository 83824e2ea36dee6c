"""Multiple imputation of missing onset dates."""

from __future__ import annotations

import numpy as np
import pytest

from kumin.epi.delays import DelayDistribution
from kumin.epi.impute import count_by_day, impute_onsets
from kumin.errors import DataError

DELAY = DelayDistribution.gamma(2.0, 2.0)


def line_list(rng, n_days=80, growth=0.05, missing=0.3):
    level = 20 * np.exp(growth * np.arange(n_days))
    onset = np.repeat(np.arange(n_days), rng.poisson(level))
    report = onset + DELAY.sample_days(onset.size, rng)
    keep = report < n_days  # the list as it stands on the last day
    onset, report = onset[keep], report[keep]
    hidden = rng.random(onset.size) < missing
    observed = np.where(hidden, np.datetime64("NaT"), np.datetime64("2021-01-01") + onset)
    return observed.astype("datetime64[D]"), np.datetime64("2021-01-01") + report, onset, hidden


def test_keeps_every_case_and_known_onsets():
    rng = np.random.default_rng(0)
    onset, report, true, hidden = line_list(rng)
    res = impute_onsets(onset, report, DELAY, n_draws=7, random_state=1)
    assert res.onset_dates.shape == (7, onset.size)
    assert res.n_imputed == hidden.sum()
    assert np.all(res.onset_dates[:, ~hidden] == onset[~hidden])
    assert np.all(res.onset_dates[:, hidden] <= report[hidden])
    dates, counts = res.counts()
    assert counts.shape == (7, dates.size)
    assert np.all(counts.sum(axis=1) == onset.size)


def test_seeded():
    rng = np.random.default_rng(0)
    onset, report, _, _ = line_list(rng)
    a = impute_onsets(onset, report, DELAY, n_draws=3, random_state=4).onset_days
    b = impute_onsets(onset, report, DELAY, n_draws=3, random_state=4).onset_days
    assert np.array_equal(a, b)


def test_backward_delay_is_shorter_in_a_growing_epidemic():
    rng = np.random.default_rng(2)
    onset, report, true, hidden = line_list(rng, growth=0.08)
    curve = impute_onsets(onset, report, DELAY, n_draws=20, random_state=0)
    forward = impute_onsets(onset, report, DELAY, n_draws=20, weighting="forward", random_state=0)
    r = (report[hidden] - np.datetime64("1970-01-01")).astype(int)
    true_delay = ((report[hidden] - np.datetime64("2021-01-01")).astype(int) - true[hidden]).mean()
    d_curve = (r - curve.onset_days[:, hidden]).mean()
    d_forward = (r - forward.onset_days[:, hidden]).mean()
    assert d_forward == pytest.approx(DELAY.mean, abs=0.3)
    # growth makes recent reports mostly recent onsets: the curve weighting sees it
    assert d_curve < d_forward
    assert abs(d_curve - true_delay) < abs(d_forward - true_delay)


def test_pmf_array_and_no_missing():
    onset = np.array(["2021-01-01", "2021-01-02"], dtype="datetime64[D]")
    report = np.array([None, None], dtype="datetime64[D]")
    res = impute_onsets(onset, report, np.array([0.2, 0.5, 0.3]), n_draws=2, random_state=0)
    assert res.n_imputed == 0


def test_case_without_any_date_is_an_error():
    onset = np.array(["2021-01-01", None], dtype="datetime64[D]")
    report = np.array(["2021-01-03", None], dtype="datetime64[D]")
    with pytest.raises(DataError) as err:
        impute_onsets(onset, report, DELAY)
    assert err.value.problems[0].params == {"index": 1}


def test_count_by_day():
    days = np.array([[0, 1, 1, 5], [2, 2, 2, 9]])
    assert count_by_day(days, 0, 4).tolist() == [[1, 2, 0, 0, 0], [0, 0, 3, 0, 0]]
    assert count_by_day(np.zeros((3, 0), dtype=int), 0, 2).shape == (3, 3)
