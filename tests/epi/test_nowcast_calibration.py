"""Calibration of triangle nowcasts on replays of their own past (#12)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from kumin.epi import nowcast_calibration as cal
from kumin.epi._nowcast_base import _NowcastBase
from kumin.epi.delays import DelayDistribution
from kumin.epi.triangle_file import Triangle, nowcast_strata

EPOCH = dt.date(1970, 1, 1)


def test_replay_dates_are_on_a_weekly_lattice_and_a_week_old_at_least():
    days = cal.replay_days(as_of=19_000, first=18_800, max_delay=20)
    complete = [s for s in days if s <= 19_000 - 20]
    assert len(complete) == cal.REPLAYS
    # the newer ones are not complete yet: compared on what has come in since
    assert days[: len(days) - len(complete)] == [18_991, 18_984]
    assert all(s <= 19_000 - cal.STEP and s % cal.STEP == 0 for s in days)
    assert days == sorted(days, reverse=True) and days[0] - days[1] == cal.STEP
    # a short history: only the replays with max_delay days before them
    assert cal.replay_days(as_of=19_000, first=18_940, max_delay=20) == [
        18_991,
        18_984,
        18_977,
        18_970,
        18_963,
    ]
    assert cal.replay_days(as_of=19_000, first=18_980, max_delay=20) == []


def _replay(s: int, reported: float, rest_mean: float, n: int = 400, seed: int = 0):
    """A replay whose 40 days each had ``reported`` cases and ``rest_mean`` still to come."""
    rng = np.random.default_rng(seed)
    days = np.arange(s - 39, s + 1)
    observed = np.full(days.size, reported)
    draws = observed[None, :] + rng.poisson(rest_mean, (n, days.size))
    return cal.Replay(days, observed, draws.astype(float))


def test_errors_larger_than_the_model_says_widen_and_shift_the_draws():
    first, max_delay = 18_000, 14
    replays = [(s, _replay(s, 10.0, 5.0, seed=s)) for s in (18_300, 18_250, 18_200, 18_150)]
    # what came in by now: the remainder was 3x or 1/3 of what the replays drew, by turns
    known = {}
    for k, (_s, r) in enumerate(replays):
        factor = 3.0 if k % 2 == 0 else 1 / 3
        for d in r.days:
            known[int(d)] = 10.0 + 5.0 * factor
    found = cal.estimate(replays, known, first, max_delay)
    assert found is not None and found.n_replays == 4
    assert found.sigma.min() > 0.5  # log(3) ≈ 1.1 either way, far beyond Poisson noise
    # a model right on average: no bias to speak of
    assert abs(found.bias).max() < 0.35
    # a model off by 3x always: the same widening (a past bias is not a future shift)
    for _, r in replays:
        for d in r.days:
            known[int(d)] = 10.0 + 5.0 * 3.0
    biased = cal.estimate(replays, known, first, max_delay)
    assert biased.bias.min() > 0.7 and biased.sigma.min() > 0.5


def test_a_right_model_is_left_almost_alone_and_too_few_replays_change_nothing():
    first, max_delay = 18_000, 14
    replays = [(s, _replay(s, 10.0, 20.0, seed=s)) for s in (18_200, 18_193, 18_186)]
    rng = np.random.default_rng(5)
    known = {}
    for _, r in replays:
        for d in r.days:
            known[int(d)] = 10.0 + float(rng.poisson(20.0))
    found = cal.estimate(replays, known, first, max_delay)
    assert found.sigma.max() < 0.15 and abs(found.bias).max() < 0.15
    assert cal.estimate(replays[:1], known, first, max_delay) is None


class _Fitted(_NowcastBase):
    """The attributes of a fitted Nowcaster that :func:`cal.apply` reads and writes."""

    def __init__(self, end: int, n_days: int, draws: np.ndarray, observed: np.ndarray):
        self.as_of_ = np.datetime64(EPOCH, "D") + end
        dates = np.datetime64(EPOCH, "D") + np.arange(end - n_days + 1, end + 1)
        self._finish(dates, observed, draws)
        self.table_ = self.table_.with_columns(
            pl.lit(1.0).alias("reported_fraction"), pl.lit(True).alias("reliable")
        )


def test_apply_widens_recent_days_only_and_never_below_what_is_reported():
    end, n_days, max_delay = 18_300, 30, 10
    observed = np.full(n_days, 50.0)
    draws = observed[None, :] + np.random.default_rng(1).poisson(20.0, (500, n_days))
    est = _Fitted(end, n_days, draws.astype(float), observed)
    before = est.draws_.copy()
    calibration = cal.Calibration(np.full(max_delay, 0.2), np.full(max_delay, 0.6), 4)
    cal.apply(est, calibration, np.random.default_rng(2))
    recent = slice(n_days - max_delay, n_days)
    old = slice(0, n_days - max_delay)
    np.testing.assert_array_equal(est.draws_[:, old], before[:, old])
    assert np.all(est.draws_ >= observed[None, :])
    width = np.subtract(*np.quantile(est.draws_[:, recent], [0.975, 0.025], axis=0))
    width0 = np.subtract(*np.quantile(before[:, recent], [0.975, 0.025], axis=0))
    assert np.all(width > 2 * width0)
    # widened, not shifted: the bias is not applied, the medians stay where they were
    np.testing.assert_allclose(
        np.median(est.draws_[:, recent], axis=0), np.median(before[:, recent], axis=0), rtol=0.1
    )
    assert est.calibration_ is calibration
    assert set(est.table_.columns) >= {"reported_fraction", "reliable", "median"}


def _backlog_triangle(seed: int, days: int = 160, max_delay: int = 14) -> tuple[Triangle, dict]:
    """Reports whose late part comes in bursts: each week's reports after 3 days are
    scaled by one log-normal factor (sd 0.6), as when backlogs are cleared."""
    rng = np.random.default_rng(seed)
    pmf = DelayDistribution.gamma(2.0, 2.5).pmf(max_delay)
    pmf = pmf / pmf.sum()
    lam = 200 * np.exp(0.6 * np.sin(np.arange(days) / 20))
    burst = np.exp(rng.normal(0, 0.6, days // 7 + 1))
    ref, rep, cnt, final = [], [], [], {}
    for t in range(days):
        mean = lam[t] * pmf * np.where(np.arange(max_delay + 1) > 3, burst[t // 7], 1.0)
        cells = rng.poisson(mean)
        final[18_000 + t] = float(cells.sum())
        for d in np.flatnonzero(cells):
            ref.append(18_000 + t)
            rep.append(18_000 + t + d)
            cnt.append(cells[d])
    tri = Triangle("X", np.array(ref), np.array(rep), np.array(cnt, dtype=float))
    return tri, final


def test_calibration_makes_weekly_intervals_cover_better_on_bursty_reports():
    max_delay = 10
    tri, final = _backlog_triangle(3, days=120, max_delay=max_delay)
    cache: dict = {}
    hits = {"calibrated": [], "model": []}
    for end in range(18_000 + 84, 18_000 + 120, 4):
        as_of = EPOCH + dt.timedelta(days=end)
        [(_, est)] = nowcast_strata(
            [tri], max_delay=max_delay, as_of=as_of, n_draws=300, replay_cache=cache
        )
        assert est.calibration_.n_replays >= cal.MIN_REPLAYS
        days = (est.dates_ - np.datetime64(EPOCH, "D")).astype(int)
        for name, draws in (("calibrated", est.draws_), ("model", est.uncalibrated_draws_)):
            for h in (0, 7):  # the last two weeks, as 7-day sums
                sel = (days > end - h - 7) & (days <= end - h)
                sums = draws[:, sel].sum(axis=1)
                truth = sum(final[int(d)] for d in days[sel])
                lo, hi = np.quantile(sums, [0.025, 0.975])
                hits[name].append(lo <= truth <= hi)
    # the replays are shared by the nowcast dates (a weekly lattice)
    assert 0 < len(cache) < 9 * cal.REPLAYS and all(k[0] == "X" for k in cache)
    assert np.mean(hits["calibrated"]) > np.mean(hits["model"])
    assert np.mean(hits["calibrated"]) >= 0.8


def test_partly_complete_replays_are_scored_on_what_has_come_in_since():
    first, max_delay, as_of = 18_000, 20, 18_300
    # replays a week or two old: by now half of what they still expected has come in
    replays = [(s, _replay(s, 10.0, 20.0, seed=s)) for s in (18_293, 18_286)]
    for k, (s, r) in enumerate(replays):
        cdf = np.empty((r.days.size, max_delay + 1))
        for i, d in enumerate(r.days):
            seen = int(s - d)  # 1/3 of the final count reported by s, 2/3 by as_of
            cdf[i] = np.where(np.arange(max_delay + 1) < min(seen, as_of - d), 0.0, 1 / 3)
            cdf[i, as_of - d :] = 2 / 3
        replays[k] = (s, cal.Replay(r.days, r.observed, r.draws, cdf))

    def known(factors):
        # days complete by now have all 20 still to come, the others half of it
        return {
            int(d): 10.0 + (20.0 if as_of - d >= max_delay else 10.0) * factors[k]
            for k, (_, r) in enumerate(replays)
            for d in r.days
        }

    right = cal.estimate(replays, known([1.0, 1.0]), first, max_delay, as_of)
    assert right is not None and right.sigma.max() < 0.2 and abs(right.bias).max() < 0.2
    # three times what was expected came in, then a third, by turns
    half_in = known([3.0, 1 / 3])
    wrong = cal.estimate(replays, half_in, first, max_delay, as_of)
    assert wrong.sigma.min() > 0.5
    # without a delay distribution a replay is compared on complete days only
    s, r = replays[0]
    bare = cal.Replay(r.days, r.observed, r.draws)
    assert min(row[0] for row in cal._errors(r, s, half_in, first, max_delay, as_of)) == 0
    assert min(row[0] for row in cal._errors(bare, s, half_in, first, max_delay, as_of)) == 13


def _lengthening_triangle(days: int, max_delay: int, seed: int = 4) -> Triangle:
    """Reports whose delays lengthen: a mean delay of 1.5 days at first, 6 at the end."""
    rng = np.random.default_rng(seed)
    ref, rep, cnt = [], [], []
    for t in range(days):
        mean_delay = 1.5 + 4.5 * t / (days - 1)
        pmf = DelayDistribution.gamma(2.0, mean_delay / 2.0).pmf(max_delay)
        cells = rng.poisson(150 * pmf / pmf.sum())
        for d in np.flatnonzero(cells):
            ref.append(18_000 + t)
            rep.append(18_000 + t + d)
            cnt.append(cells[d])
    return Triangle("X", np.array(ref), np.array(rep), np.array(cnt, dtype=float))


def test_a_short_history_with_lengthening_delays_gets_wider_intervals():
    # 35 days and max_delay 14: no replay is complete by the end but one, too few
    # before #12; the replays of the last weeks now widen the intervals
    max_delay, days = 14, 35
    tri = _lengthening_triangle(days, max_delay)
    end = 18_000 + days - 1
    assert len([s for s in cal.replay_days(end, 18_000, max_delay) if s <= end - max_delay]) < 2
    [(_, est)] = nowcast_strata(
        [tri], max_delay=max_delay, as_of=EPOCH + dt.timedelta(days=end), n_draws=400
    )
    assert est.calibration_.n_replays >= cal.MIN_REPLAYS
    assert est.calibration_.sigma[:7].min() > 0.1
    recent = slice(-7, None)

    def width(draws):
        sums = draws[:, recent].sum(axis=1)
        return np.subtract(*np.quantile(sums, [0.975, 0.025]))

    assert width(est.draws_) > 1.3 * width(est.uncalibrated_draws_)


def test_a_widening_from_few_replays_has_heavier_tails():
    end, n_days, max_delay = 18_300, 30, 10
    observed = np.full(n_days, 50.0)
    draws = observed[None, :] + np.random.default_rng(1).poisson(20.0, (4000, n_days))
    widths = {}
    for dof in (2.0, float("inf")):
        est = _Fitted(end, n_days, draws.astype(float), observed)
        calibration = cal.Calibration(np.zeros(max_delay), np.full(max_delay, 0.5), 2, dof)
        cal.apply(est, calibration, np.random.default_rng(2))
        widths[dof] = np.subtract(*np.quantile(est.draws_[:, -1], [0.975, 0.025]))
    assert widths[2.0] > 1.5 * widths[float("inf")]
