"""Calibrating a triangle nowcast on its own past (#12).

A :class:`~kumin.epi.nowcast.Nowcaster` draws the reports still to come from a
delay distribution it estimates on the recent weeks. When reporting changes —
backlogs cleared, reports arriving later than they used to — the errors of its
nowcasts are larger than its own spread says, and they are shared by neighbouring
days. On the German hub's triangles its 95% intervals covered 66%.

The correction is measured, not assumed. At a nowcast date ``T`` the same model
is replayed at earlier dates ``s`` (the triangle as it was known on ``s``: reports
after ``s`` are unseen), a week before ``T`` at least. For each replay and each
horizon ``h`` (days back from ``s``) the 7-day sum of the reports still to come, as
the replay drew them, is compared with what came in by ``T``: the log ratio ``e``
of actual to predicted remainder, and the variance ``v`` of the replay's own draws
(on the log scale). Where the days are complete by ``T`` (``s <= T - max_delay``)
the whole remainder is compared; where they are not, the part of it the replay's
own delay distribution expected by ``T`` (its draws thinned by that share), and the
log error of that part stands for the error of the whole (a backlog or a slower
reporting scales the late reports together); such a sum counts by the share it
covers. So a nowcast has replays as soon as its triangle has ``max_delay`` days and
one week of history, not twice ``max_delay``. Pooled over the replays and
neighbouring horizons (a Gaussian kernel of :data:`BANDWIDTH` days), what the mean
square of ``e`` exceeds ``v`` by is the missing variance ``σ²(h)``. The nowcast of
``T`` then scales each day's still-to-come draws by ``exp(σ(h)·ε)``, one ``ε`` per
sample path: the errors corrected (a backlog, a late wave of reports) move
neighbouring days together, so a weekly sum gets the full widening. ``σ`` is a
variance estimated from a few replays, so ``ε`` is drawn from the predictive of
such an estimate, a Student t with as many degrees of freedom as replays (each
counted by the share of its remainder it was scored on), not a normal.

The mean of ``e`` (the replays' bias, ``b(h)``) is measured and kept, not applied:
a bias of one to ten weeks ago says how reporting *changed* then, not how it
will change now. On the German hub's triangles applying it made the nowcasts
worse (mean WIS 32.6 instead of 22.4) while the symmetric widening alone brought
the 95% intervals from 66% to 80% coverage at a slightly better WIS (README).

Nothing from after ``T`` is used; everything comes from the triangle itself.
Replays are on a fixed weekly lattice of dates (epoch days divisible by
:data:`STEP`), so successive nowcast dates share them (:func:`replay_days`); a
date with fewer than :data:`MIN_REPLAYS` replays (a history shorter than
``max_delay`` and two weeks) is left as the model drew it. Sums are compared, not single days, because a nowcast is judged on
such sums (the hub scores 7-day sums); the widening is applied to every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: past nowcasts replayed at each nowcast date, a week apart
REPLAYS = 6
STEP = 7
#: a spread needs two replays at least
MIN_REPLAYS = 2
#: fewest degrees of freedom of the t a new error is drawn from (finite variance)
MIN_DOF = 3.0
#: days: horizons pooled with a Gaussian kernel of this sd
BANDWIDTH = 3.0
#: days summed: the errors compared are those of 7-day sums
SUM_DAYS = 7
#: a 7-day sum is compared only if this share of its remainder has come in since
MIN_SHARE = 0.25
#: draws of a replay: enough for the mean and variance of its log remainder
REPLAY_DRAWS = 200


@dataclass(frozen=True)
class Replay:
    """What a replayed nowcast drew: its dates (epoch days), reports known then and draws.

    ``cdf[i, k]``: the share of day ``i``'s final count the replay expected within ``k``
    days (None: the replay is only compared on complete days)."""

    days: np.ndarray
    observed: np.ndarray
    draws: np.ndarray
    cdf: np.ndarray | None = None


def replay_of(est: Any) -> Replay:
    """The :class:`Replay` of a fitted Nowcaster (its draws and delay distribution)."""
    days = (est.dates_ - np.datetime64("1970-01-01", "D")).astype(np.int64)
    pmf = getattr(est, "delay_pmf_by_date_", None)
    cdf = None
    if pmf is not None and pmf.shape[0] == days.size:
        # reports after max_delay (the late model) are still to come at every k
        cdf = np.cumsum(pmf, axis=1) / (1.0 + float(getattr(est, "late_ratio_", 0.0)))
    return Replay(days, est.observed_, est.draws_, cdf)


@dataclass(frozen=True)
class Calibration:
    """Per horizon ``h = 0 … max_delay - 1``: the replays' mean log error ``bias`` (not
    applied) and the extra sd ``sigma`` the draws are widened by (log scale)."""

    bias: np.ndarray
    sigma: np.ndarray
    n_replays: int
    #: degrees of freedom of the widening: the replays, each counted by the share of
    #: its remainder it was scored on (inf: a normal widening)
    dof: float = float("inf")


def replay_days(as_of: int, first: int, max_delay: int, n: int | None = None) -> list[int]:
    """The past nowcast dates to replay for ``as_of`` (epoch days), newest first.

    On the weekly lattice, at least a week before ``as_of`` and with at least
    ``max_delay`` days of history since ``first`` (the triangle's first reference
    day): those whose reference days are not yet complete by ``as_of`` (compared on
    what has come in since, :func:`estimate`) and ``n`` (default :data:`REPLAYS`)
    complete ones (``<= as_of - max_delay``).
    """
    last = as_of - STEP
    last -= last % STEP
    count = REPLAYS if n is None else n
    out, complete = [], 0
    s = last
    while s - first >= max_delay and complete < count:
        out.append(s)
        complete += s <= as_of - max_delay
        s -= STEP
    return out


def _errors(
    replay: Replay, s: int, known: dict[int, float], first: int, max_delay: int, as_of: int | None
) -> list[tuple[int, float, float, float]]:
    """(horizon, log error, model log variance, weight) of each 7-day sum the replay
    nowcast.

    A sum whose days are complete by ``as_of`` compares the whole remainder. One
    whose days are not compares what the replay expected to come in by ``as_of`` —
    its draws of the remainder thinned by the share of it its own delay distribution
    puts before ``as_of`` — with what did; its log error stands for the error of the
    whole remainder (a backlog or a slow-down scales the late reports together), and
    it weighs by that share, as it sees only part of the remainder.
    """
    out = []
    index = {int(d): i for i, d in enumerate(replay.days)}
    rng = np.random.default_rng(s)  # the thinning: fixed per replay
    for h in range(max_delay):
        days = [s - h - k for k in range(SUM_DAYS)]
        if days[-1] < first or any(d not in index for d in days):
            continue
        cols = [index[d] for d in days]
        reported = float(replay.observed[cols].sum())
        rest = np.maximum(replay.draws[:, cols] - replay.observed[cols][None, :], 0.0)
        share = np.ones(len(days))
        for j, d in enumerate(days):
            if as_of is None or as_of - d >= max_delay:
                continue
            if replay.cdf is None:
                share[j] = np.nan
                continue
            seen, by_now = replay.cdf[cols[j], s - d], replay.cdf[cols[j], as_of - d]
            share[j] = min(max((by_now - seen) / max(1.0 - seen, 1e-9), 0.0), 1.0)
        if np.isnan(share).any():
            continue
        mean_rest = rest.mean(axis=0)
        weight = float((share * mean_rest).sum() / mean_rest.sum()) if mean_rest.sum() else 1.0
        if weight < MIN_SHARE:
            continue
        if (share < 1).any():
            rest = rng.binomial(np.round(rest).astype(np.int64), share[None, :]).astype(float)
        actual = sum(known.get(d, 0.0) for d in days) - reported
        log_rest = np.log(rest.sum(axis=1) + 1.0)
        e = float(np.log(max(actual, 0.0) + 1.0) - log_rest.mean())
        out.append((h, e, float(log_rest.var()), weight))
    return out


def estimate(
    replays: list[tuple[int, Replay]],
    known: dict[int, float],
    first: int,
    max_delay: int,
    as_of: int | None = None,
) -> Calibration | None:
    """Bias and extra spread per horizon from the replays' errors (None: too few replays).

    ``known``: the reports by ``as_of`` per reference day (None: every replayed day
    is taken as complete).
    """
    if len(replays) < MIN_REPLAYS:
        return None
    rows, dof = [], 0.0
    for s, r in replays:
        errors = _errors(r, s, known, first, max_delay, as_of)
        rows += errors
        dof += float(np.mean([row[3] for row in errors])) if errors else 0.0
    if not rows:
        return None
    h, e, v, share = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    grid = np.arange(max_delay, dtype=float)
    w = np.exp(-0.5 * ((grid[:, None] - h[None, :]) / BANDWIDTH) ** 2) * share[None, :]
    total = w.sum(axis=1)
    bias = (w * e).sum(axis=1) / total
    # the mean square about zero: a past bias counts as uncertainty, not as a shift
    spread = (w * e[None, :] ** 2).sum(axis=1) / total
    own = (w * v).sum(axis=1) / total
    sigma = np.sqrt(np.maximum(spread - own, 0.0))
    return Calibration(bias, sigma, len(replays), dof)


def apply(est: Any, calibration: Calibration, rng: np.random.Generator) -> None:
    """Scale the still-to-come draws of ``est`` (a fitted Nowcaster) in place."""
    days = (est.dates_ - np.datetime64("1970-01-01", "D")).astype(np.int64)
    end = int((est.as_of_ - np.datetime64("1970-01-01", "D")).astype(np.int64))
    horizon = end - days
    near = np.flatnonzero(horizon < len(calibration.bias))
    if not len(near):
        return
    h = horizon[near]
    # one per path: shared by its days. sigma is estimated from a few replays, so a
    # new error is drawn from the predictive of such an estimate, a Student t with
    # as many degrees of freedom as there were replays (normal if dof is inf)
    shape = (est.draws_.shape[0], 1)
    # below 3 degrees of freedom a t has no variance: on the German hub's first nowcast
    # date (two partly complete replays, 1.8) one 7-day sum's 97.5% quantile was 300
    # times its remainder
    dof = max(calibration.dof, MIN_DOF)
    eps = rng.standard_t(dof, shape) if np.isfinite(dof) else rng.standard_normal(shape)
    factor = np.exp(calibration.sigma[h][None, :] * eps)
    rest = np.maximum(est.draws_[:, near] - est.observed_[near][None, :], 0.0)
    draws = est.draws_.astype(float)
    draws[:, near] = est.observed_[near][None, :] + np.maximum(
        np.round((rest + 1.0) * factor - 1.0), 0.0
    )
    extra = est.table_.select("reported_fraction", "reliable")
    est.uncalibrated_draws_ = est.draws_  # the model's own, for comparison
    est._finish(est.dates_, est.observed_, draws)
    est.table_ = est.table_.with_columns(extra)
    est.calibration_ = calibration


def known_by(tri: Any, end: int) -> dict[int, float]:
    """Cases of each reference day reported by ``end`` (corrections included)."""
    seen = tri.report <= end
    days, inverse = np.unique(tri.reference[seen], return_inverse=True)
    sums = np.bincount(inverse, weights=tri.count[seen].astype(float))
    return {int(d): float(c) for d, c in zip(days, sums, strict=True)}


__all__ = [
    "Calibration",
    "Replay",
    "apply",
    "estimate",
    "known_by",
    "replay_days",
    "replay_of",
]
