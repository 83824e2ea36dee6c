"""Calibrating a triangle nowcast on its own past (#12).

A :class:`~kumin.epi.nowcast.Nowcaster` draws the reports still to come from a
delay distribution it estimates on the recent weeks. When reporting changes —
backlogs cleared, reports arriving later than they used to — the errors of its
nowcasts are larger than its own spread says, and they are shared by neighbouring
days. On the German hub's triangles its 95% intervals covered 66%.

The correction is measured, not assumed. At a nowcast date ``T`` the same model
is replayed at earlier dates ``s`` (the triangle as it was known on ``s``: reports
after ``s`` are unseen), at dates old enough that the reference days it nowcast
are complete by ``T`` (``s <= T - max_delay``). For each replay and each horizon
``h`` (days back from ``s``) the 7-day sum of the reports still to come, as the
replay drew them, is compared with what came in by ``T``: the log ratio ``e`` of
actual to predicted remainder, and the variance ``v`` of the replay's own draws
(on the log scale). Pooled over the replays and neighbouring horizons (a Gaussian
kernel of :data:`BANDWIDTH` days), what the mean square of ``e`` exceeds ``v`` by
is the missing variance ``σ²(h)``. The nowcast of ``T`` then scales each day's
still-to-come draws by ``exp(σ(h)·ε)``, one ``ε ~ N(0, 1)`` per sample path: the
errors corrected (a backlog, a late wave of reports) move neighbouring days
together, so a weekly sum gets the full widening.

The mean of ``e`` (the replays' bias, ``b(h)``) is measured and kept, not applied:
a bias of six to ten weeks ago says how reporting *changed* then, not how it
will change now. On the German hub's triangles applying it made the nowcasts
worse (mean WIS 32.6 instead of 22.4) while the symmetric widening alone brought
the 95% intervals from 66% to 80% coverage at a slightly better WIS (README).

Nothing from after ``T`` is used; everything comes from the triangle itself.
Replays are on a fixed weekly lattice of dates (epoch days divisible by
:data:`STEP`), so successive nowcast dates share them (:func:`replay_days`); a
date with fewer than :data:`MIN_REPLAYS` replays (a short history) is left as the
model drew it. Sums are compared, not single days, because a nowcast is judged on
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
#: days: horizons pooled with a Gaussian kernel of this sd
BANDWIDTH = 3.0
#: days summed: the errors compared are those of 7-day sums
SUM_DAYS = 7
#: draws of a replay: enough for the mean and variance of its log remainder
REPLAY_DRAWS = 200


@dataclass(frozen=True)
class Replay:
    """What a replayed nowcast drew: its dates (epoch days), reports known then and draws."""

    days: np.ndarray
    observed: np.ndarray
    draws: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """Per horizon ``h = 0 … max_delay - 1``: the replays' mean log error ``bias`` (not
    applied) and the extra sd ``sigma`` the draws are widened by (log scale)."""

    bias: np.ndarray
    sigma: np.ndarray
    n_replays: int


def replay_days(as_of: int, first: int, max_delay: int, n: int | None = None) -> list[int]:
    """The past nowcast dates to replay for ``as_of`` (epoch days), newest first.

    On the weekly lattice, at most ``as_of - max_delay`` (their reference days are
    complete by ``as_of``) and with at least ``max_delay`` days of history since
    ``first`` (the triangle's first reference day).
    """
    last = as_of - max_delay
    last -= last % STEP
    count = REPLAYS if n is None else n
    return [s for s in (last - STEP * k for k in range(count)) if s - first >= max_delay]


def _errors(
    replay: Replay, s: int, known: dict[int, float], first: int, max_delay: int
) -> list[tuple[int, float, float]]:
    """(horizon, log error, model log variance) of each 7-day sum the replay nowcast."""
    out = []
    index = {int(d): i for i, d in enumerate(replay.days)}
    for h in range(max_delay):
        days = [s - h - k for k in range(SUM_DAYS)]
        if days[-1] < first or any(d not in index for d in days):
            continue
        cols = [index[d] for d in days]
        reported = float(replay.observed[cols].sum())
        rest = replay.draws[:, cols].sum(axis=1) - reported
        actual = sum(known.get(d, 0.0) for d in days) - reported
        log_rest = np.log(np.maximum(rest, 0.0) + 1.0)
        out.append((h, float(np.log(max(actual, 0.0) + 1.0) - log_rest.mean()), log_rest.var()))
    return out


def estimate(
    replays: list[tuple[int, Replay]], known: dict[int, float], first: int, max_delay: int
) -> Calibration | None:
    """Bias and extra spread per horizon from the replays' errors (None: too few replays)."""
    if len(replays) < MIN_REPLAYS:
        return None
    rows = [e for s, r in replays for e in _errors(r, s, known, first, max_delay)]
    if not rows:
        return None
    h, e, v = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    grid = np.arange(max_delay, dtype=float)
    w = np.exp(-0.5 * ((grid[:, None] - h[None, :]) / BANDWIDTH) ** 2)
    total = w.sum(axis=1)
    bias = (w * e).sum(axis=1) / total
    # the mean square about zero: a past bias counts as uncertainty, not as a shift
    spread = (w * e[None, :] ** 2).sum(axis=1) / total
    own = (w * v).sum(axis=1) / total
    sigma = np.sqrt(np.maximum(spread - own, 0.0))
    return Calibration(bias, sigma, len(replays))


def apply(est: Any, calibration: Calibration, rng: np.random.Generator) -> None:
    """Scale the still-to-come draws of ``est`` (a fitted Nowcaster) in place."""
    days = (est.dates_ - np.datetime64("1970-01-01", "D")).astype(np.int64)
    end = int((est.as_of_ - np.datetime64("1970-01-01", "D")).astype(np.int64))
    horizon = end - days
    near = np.flatnonzero(horizon < len(calibration.bias))
    if not len(near):
        return
    h = horizon[near]
    eps = rng.standard_normal((est.draws_.shape[0], 1))  # one per path: shared by its days
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


__all__ = ["Calibration", "Replay", "apply", "estimate", "known_by", "replay_days"]
