"""kumin's triangle nowcast on the German COVID-19 Hospitalization Nowcast Hub's data,
beside a simple chain-ladder baseline run in the same script.

Data: ../shared/data/germany_nowcast_hub/hospitalisations_8_states_triangle.csv (8
states, reports 2021-11-18..2022-07-02; see that folder's provenance notes). For each
past date ``as_of`` (every 5 days, 2022-01-15..2022-05-25), both methods see only the
reports made by ``as_of`` and nowcast, as the hub did, the 7-day sums of
hospitalisations by reference date ending 0..28 days before ``as_of``. Targets are
the same sums as known on 2022-07-02, the last version here (at least 38 days after
every ``as_of``; the hub scored against 2022-08-08). Scores: the weighted interval
score of the hub's 7 quantiles (2.5, 10, 25, 50, 75, 90, 97.5%) and the coverage
of the 50% and 95% intervals.

Baseline (KIT-simple_nowcast style): multiplicative chain ladder on the cumulative
triangle, development factors from the last 60 reference days that show them, and
negative-binomial intervals for each horizon whose size is fitted by moments to the
errors the same chain ladder would have made on the 30 most recent days whose
final counts are known by ``as_of`` (nothing from after ``as_of`` is used).

Run: PYTHONPATH=src .venv/bin/python bench/bench_nowcast_hub.py [--every 5] [--draws 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

from kumin.epi import nowcast_calibration as cal
from kumin.epi.scoring import wis
from kumin.epi.triangle_file import nowcast_strata, read_triangle

DATA = Path(
    os.environ.get("KUMIN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
FILE = DATA / "germany_nowcast_hub" / "hospitalisations_8_states_triangle.csv"
MAX_DELAY = 40
HORIZONS = 29  # 7-day sums ending 0..28 days before as_of
ALPHAS = (0.05, 0.2, 0.5)  # the hub's quantiles 2.5/97.5, 10/90, 25/75 and the median
EPOCH = dt.date(1970, 1, 1)


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def cumulative(tri, end: int, first: int) -> np.ndarray:
    """C[t, d]: cases of reference day first + t reported within d days, as of ``end``."""
    n = end - first + 1
    grid = np.zeros((n, MAX_DELAY + 1))
    seen = (tri.report <= end) & (tri.reference >= first)
    ref, delay, count = (
        tri.reference[seen] - first,
        (tri.report - tri.reference)[seen],
        tri.count[seen],
    )
    np.add.at(grid, (ref, np.minimum(delay, MAX_DELAY)), count)
    return np.cumsum(grid, axis=1)


def chain_ladder(tri, as_of: int, first: int, n_draws: int, rng) -> np.ndarray:
    """Draws (n_draws × HORIZONS) of the 7-day sums ending as_of - h, h = 0..28."""
    cum = cumulative(tri, as_of, first)
    n = cum.shape[0]
    lag = as_of - (first + np.arange(n))
    factors = np.ones(MAX_DELAY)
    for d in range(MAX_DELAY):
        rows = np.flatnonzero(lag >= d + 1)[-60:]
        den = cum[rows, d].sum()
        factors[d] = cum[rows, d + 1].sum() / den if den > 0 else 1.0
    tail = np.cumprod(factors[::-1])[::-1]  # tail[d] = f_d · … · f_{D-1}
    tail = np.append(tail, 1.0)

    def point(t_idx: np.ndarray, as_of_day: int) -> np.ndarray:
        lags = np.minimum(as_of_day - (first + t_idx), MAX_DELAY)
        return cum[t_idx, lags] * tail[lags]

    out = np.empty((n_draws, HORIZONS))
    for h in range(HORIZONS):
        end_idx = n - 1 - h
        rows = np.arange(end_idx - 6, end_idx + 1)
        mean = max(float(point(rows, as_of).sum()), 0.0)
        # past errors at the same horizon, on days final by as_of
        preds, finals = [], []
        for s in range(as_of - MAX_DELAY - 30, as_of - MAX_DELAY):
            e = s - h - first
            if e - 6 < 0:
                continue
            r = np.arange(e - 6, e + 1)
            lags = np.minimum(s - (first + r), MAX_DELAY)
            preds.append(float((cum[r, lags] * tail[lags]).sum()))
            finals.append(float(cum[r, MAX_DELAY].sum()))
        m, y = np.maximum(np.array(preds), 1e-9), np.array(finals)
        excess = float(np.sum((y - m) ** 2 - m))
        size = float(np.sum(m**2) / excess) if excess > 0 else 1e6
        size = min(max(size, 0.1), 1e6)
        lam = rng.gamma(size, max(mean, 1e-9) / size, n_draws)
        out[:, h] = rng.poisson(lam)
    return out


def kumin_sums(est, as_of: int) -> np.ndarray:
    days = (est.dates_ - np.datetime64("1970-01-01")).astype(int)
    out = np.empty((est.draws_.shape[0], HORIZONS))
    for h in range(HORIZONS):
        end = as_of - h
        sel = (days > end - 7) & (days <= end)
        out[:, h] = est.draws_[:, sel].sum(axis=1)
    return out


def score(draws: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    lo50, hi50 = np.quantile(draws, [0.25, 0.75], axis=0)
    lo95, hi95 = np.quantile(draws, [0.025, 0.975], axis=0)
    return {
        "wis": wis(draws, truth, ALPHAS),
        "c50": (truth >= lo50) & (truth <= hi50),
        "c95": (truth >= lo95) & (truth <= hi95),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--first", default="2022-01-15")
    parser.add_argument("--last", default="2022-05-25")
    parser.add_argument("--no-calibration", action="store_true")
    parser.add_argument(
        "--rows", help="write every score (state, as_of, horizon, method) to this CSV"
    )
    args = parser.parse_args()
    if not FILE.is_file():
        sys.exit(f"missing {FILE}")
    triangles = read_triangle(FILE)
    first = int(min(t.reference.min() for t in triangles))
    end = int(max(t.report.max() for t in triangles))
    as_ofs = list(
        range(
            _day(dt.date.fromisoformat(args.first)),
            _day(dt.date.fromisoformat(args.last)) + 1,
            args.every,
        )
    )
    rng = np.random.default_rng(0)
    rows = []  # (state, as_of, h, method, wis, c50, c95)
    # whether the row's nowcast has fewer than MIN_REPLAYS replays complete by as_of
    # (before the partly complete replays of #12 these kept the model's intervals)
    short: list[bool] = []
    t0 = time.perf_counter()
    fit_time = 0.0
    cache: dict = {}  # replays of the calibration, shared by the nowcast dates
    n_calibrated = 0
    for as_of in as_ofs:
        t1 = time.perf_counter()
        fitted = dict(
            nowcast_strata(
                triangles,
                max_delay=MAX_DELAY,
                as_of=EPOCH + dt.timedelta(days=as_of),
                n_draws=args.draws,
                random_state=0,
                calibrate=not args.no_calibration,
                replay_cache=cache,
            )
        )
        fit_time += time.perf_counter() - t1
        for tri in triangles:
            final = cumulative(tri, end, first)[:, -1]
            truth = np.array(
                [
                    final[as_of - h - first - 6 : as_of - h - first + 1].sum()
                    for h in range(HORIZONS)
                ]
            )
            est = fitted[tri.stratum]
            model = kumin_sums(est, as_of)
            is_calibrated = hasattr(est, "uncalibrated_draws_")
            t0_tri = int(tri.reference.min())
            complete = [
                s for s in cal.replay_days(as_of, t0_tri, MAX_DELAY) if s <= as_of - MAX_DELAY
            ]
            is_short = len(complete) < cal.MIN_REPLAYS
            n_calibrated += is_calibrated
            if is_calibrated:  # the model's own draws beside the calibrated ones
                calibrated_draws, est.draws_ = est.draws_, est.uncalibrated_draws_
                model_only = kumin_sums(est, as_of)
                est.draws_ = calibrated_draws
            else:
                model_only = model
            for method, draws in (
                ("kumin", model),
                ("kumin, model only", model_only),
                ("chain ladder", chain_ladder(tri, as_of, first, args.draws, rng)),
            ):
                s = score(draws, truth)
                for h in range(HORIZONS):
                    rows.append(
                        (tri.stratum, as_of, h, method, s["wis"][h], s["c50"][h], s["c95"][h])
                    )
                    short.append(is_short)
        print(f"as_of {EPOCH + dt.timedelta(days=as_of)} done", file=sys.stderr)
    total = time.perf_counter() - t0
    if args.rows:
        with open(args.rows, "w", encoding="utf-8") as fh:
            fh.write("state,as_of,horizon,method,wis,c50,c95,short\n")
            for r, is_short in zip(rows, short, strict=True):
                day = EPOCH + dt.timedelta(days=r[1])
                fh.write(
                    f'{r[0]},{day},{r[2]},"{r[3]}",{r[4]:.4f},{int(r[5])},{int(r[6])},{int(is_short)}\n'
                )
    arr = np.array([(r[2], r[4], r[5], r[6]) for r in rows], dtype=float)
    method = np.array([r[3] for r in rows])
    state = np.array([r[0] for r in rows])
    print(f"{len(as_ofs)} nowcast dates × {len(triangles)} states × {HORIZONS} horizons")
    print(
        f"kumin: {fit_time:.1f} s for {len(as_ofs) * len(triangles)} nowcasts and "
        f"{len(cache)} replays; total {total:.1f} s; "
        f"calibrated {n_calibrated} of {len(as_ofs) * len(triangles)} nowcasts\n"
    )
    print("| states | method | mean WIS | 50% coverage | 95% coverage |")
    print("|---|---|---|---|---|")
    for m in ("kumin", "kumin, model only", "chain ladder"):
        sel = method == m
        print(
            f"| all 8 | {m} | {arr[sel, 1].mean():.1f} | {arr[sel, 2].mean():.0%} | {arr[sel, 3].mean():.0%} |"
        )
    brief = np.array(short)
    for label, group in (("a short history", brief), ("complete replays", ~brief)):
        print(f"\nthe {int(group.sum() / 3)} targets of nowcasts with {label}:\n")
        for m in ("kumin", "kumin, model only", "chain ladder"):
            sel = (method == m) & group
            print(
                f"| {m} | {arr[sel, 1].mean():.1f} | {arr[sel, 2].mean():.0%} | {arr[sel, 3].mean():.0%} |"
            )
    print(
        "\n| horizon (days back) | kumin WIS | chain ladder WIS | kumin 50% / 95% | chain ladder 50% / 95% | model only: WIS, 50% / 95% |"
    )
    print("|---|---|---|---|---|---|")
    for lo, hi in ((0, 6), (7, 13), (14, 20), (21, 28)):
        band = (arr[:, 0] >= lo) & (arr[:, 0] <= hi)
        k, c = band & (method == "kumin"), band & (method == "chain ladder")
        r = band & (method == "kumin, model only")
        print(
            f"| {lo}–{hi} | {arr[k, 1].mean():.1f} | {arr[c, 1].mean():.1f} | "
            f"{arr[k, 2].mean():.0%} / {arr[k, 3].mean():.0%} | {arr[c, 2].mean():.0%} / {arr[c, 3].mean():.0%} | "
            f"{arr[r, 1].mean():.1f}, {arr[r, 2].mean():.0%} / {arr[r, 3].mean():.0%} |"
        )
    print("\n| state | kumin WIS | chain ladder WIS | kumin 95% cov. | chain ladder 95% cov. |")
    print("|---|---|---|---|---|")
    for st in sorted(set(state)):
        k, c = (state == st) & (method == "kumin"), (state == st) & (method == "chain ladder")
        print(
            f"| {st} | {arr[k, 1].mean():.1f} | {arr[c, 1].mean():.1f} | {arr[k, 3].mean():.0%} | {arr[c, 3].mean():.0%} |"
        )


if __name__ == "__main__":
    main()
