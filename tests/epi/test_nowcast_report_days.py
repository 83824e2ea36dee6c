"""Unusual report days act on what is pending, not on the size of the days (#12).

The nowcast models the hazard of reporting, with a heavy-tailed effect for each
report day. A batch upload that empties the backlog on the last day (the synthetic
ward's generator clamps every later result to its last day; real exports do it at a
midnight cut-off) must leave nothing still to come: the softmax chain ladder this
replaced read the batch as larger days and put the last days' medians 17–59% above
counts that were already complete. A missing upload must leave the backlog to come.
"""

from __future__ import annotations

import numpy as np
import pytest

from kumin.epi.nowcast import Nowcaster
from kumin.synth.cases import synth_cases


def _line_list(seed: int, n_days: int = 90):
    rng = np.random.default_rng(seed)
    level = 60 * np.exp(0.02 * np.arange(n_days))
    counts = rng.poisson(level)
    onset = np.repeat(np.arange(n_days), counts)
    # at least a day to report, as results are: delay 0 is rare
    report = onset + 1 + rng.negative_binomial(2, 2 / (2 + 2.5), onset.size)
    return onset, report, counts


def test_a_batch_upload_on_the_last_day_leaves_nothing_to_come():
    last = 89
    for seed in range(3):
        onset, report, counts = _line_list(seed)
        report = np.minimum(report, last)  # everything still pending came on the last day
        nc = Nowcaster(max_delay=20, n_draws=400, random_state=seed).fit(onset, report, as_of=last)
        assert nc.report_day_effect_[-1] > 2.0  # the last day reported nearly all pending
        truth = counts[-len(nc.dates_) :]
        lo, hi = nc.interval(0.95)
        # every day reported twice or more is complete, and the nowcast says so
        for day in range(-8, -1):  # the day before the last is flagged, but kept
            assert lo[day] <= truth[day] <= hi[day], (seed, day)
            assert abs(nc.median_[day] / truth[day] - 1) < 0.1, (seed, day)
        # the last day has only its day-0 cell: flagged, and at least what was reported
        assert not nc.reliable_[-1]
        assert nc.median_[-1] >= truth[-1]


def test_a_missing_upload_leaves_the_backlog_to_come():
    last = 89
    onset, report, counts = _line_list(5)
    # day 87's uploads never came: its reports arrive on day 88 instead
    report = np.where(report == last - 2, last - 1, report)
    seen = report <= last
    nc = Nowcaster(max_delay=20, n_draws=400, random_state=1).fit(
        onset[seen], report[seen], as_of=last
    )
    assert nc.report_day_effect_[-3] < -1.0  # the missing day is seen as one
    assert nc.report_day_effect_[-2] > 0.5  # and the next as a catch-up
    lo, hi = nc.interval(0.95)
    final = counts[-len(nc.dates_) :]
    covered = (lo <= final) & (final <= hi)
    assert covered[-10:].mean() >= 0.8


@pytest.mark.parametrize("seed", [2, 7])
def test_the_synthetic_wards_clamped_results_are_read_as_a_batch(seed):
    # every result later than the ward's last day is on that day: the counts by onset
    # are complete, and the nowcast must say so for the days reported twice or more
    recs = [r for r in synth_cases(seed=seed) if r.onset_date is not None]
    onset = np.array([r.onset_date for r in recs], dtype="datetime64[D]")
    report = np.maximum(np.array([r.result_date for r in recs], dtype="datetime64[D]"), onset)
    nc = Nowcaster(max_delay=21, n_draws=400, random_state=0).fit(onset, report)
    assert nc.report_day_effect_[-1] > 2.0
    days = nc.dates_[-5:-1]
    observed = nc.observed_[-5:-1]
    assert np.all(np.abs(nc.median_[-5:-1] / observed - 1) < 0.05), (days, nc.median_[-5:-1])
    assert not nc.reliable_[-1]
