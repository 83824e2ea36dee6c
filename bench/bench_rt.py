"""Benchmark: Rt (Cori / EpiEstim parametric_si) for 1,741 regions x 800 days, vs epyestim.

Run: ``.venv/bin/python bench/bench_rt.py [--regions 1741] [--days 800] [--peer-regions 200]``

Input: one synthetic epidemic per municipality of Japan (1,741), simulated by the
renewal equation with a random-walk Rt and Poisson noise, seeded; sizes vary
over four orders of magnitude as municipal populations do.

Peer: epyestim 0.1 (Python), on the same input and the same serial interval:
1. its deterministic core, ``epyestim.estimate_r.estimate_r`` (same posterior as
   EpiEstim and kumin) plus ``gamma_quantiles``, one region at a time as its API
   takes one pandas Series; run on ``--peer-regions`` regions and extrapolated
   linearly to all regions;
2. its top-level ``bagging_r`` (bootstrap of smoothed, deconvolved series: a
   different, ~100x heavier method), on 3 regions, extrapolated; for scale only.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from kumin.epi.rt import RtEstimator, discr_si


def simulate(n_regions: int, n_days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = discr_si(np.arange(n_days), 4.8, 2.3)
    w = w[: np.flatnonzero(w)[-1] + 1]
    log_r = np.log(1.2) + np.cumsum(rng.normal(0, 0.03, (n_regions, n_days)), axis=1)
    log_r -= 0.3 * (log_r - np.log(1.0)) * (np.abs(log_r) > 0.5)  # keep R within ~0.5-2
    r = np.exp(np.clip(log_r, np.log(0.5), np.log(2.0)))
    seed_cases = rng.lognormal(1.0, 1.2, n_regions)
    cases = np.zeros((n_regions, n_days))
    cases[:, :7] = rng.poisson(seed_cases[:, None], (n_regions, 7))
    cap = 50 * seed_cases + 50  # crude depletion: a region's epidemic saturates
    for t in range(7, n_days):
        k = min(t, w.size - 1)
        lam = cases[:, t - k : t][:, ::-1] @ w[1 : k + 1]
        rt = np.where(lam > cap, np.minimum(r[:, t], 0.9), r[:, t])
        cases[:, t] = rng.poisson(rt * lam + 0.05)  # + importations, so no region dies out
    return cases


def best_of(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=1741)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--peer-regions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores available: {cores}")
    t0 = time.perf_counter()
    counts = simulate(args.regions, args.days)
    print(
        f"input: {args.regions} regions x {args.days} days, {int(counts.sum()):,} cases "
        f"(median region {int(np.median(counts.sum(1))):,}), simulated in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    est = RtEstimator(method="cori", window=7, si_mean=4.8, si_sd=2.3)
    first, best = best_of(lambda: est.fit(counts), args.repeats)
    n_windows = est.mean_.size
    print(
        f"kumin  RtEstimator('cori').fit: first {first:.3f} s, best of {args.repeats} "
        f"{best:.3f} s  ({n_windows:,} region-windows; mean, median, 2.5%, 97.5%)"
    )

    try:
        import pandas as pd
        from epyestim import estimate_r as er
        from epyestim.covid19 import generate_standard_infection_to_reporting_distribution
        from epyestim.main import bagging_r
    except ImportError as exc:  # bench extra not installed
        print(f"epyestim not available ({exc}); no comparison")
        return

    n_peer = min(args.peer_regions, args.regions)
    index = pd.date_range("2020-01-16", periods=args.days, freq="D")
    w = discr_si(np.arange(args.days), 4.8, 2.3)
    w_norm = w / w.sum()  # epyestim asserts the SI sums to 1 (EpiEstim's sums to 1 - 3e-14)

    def peer_core() -> list:
        out = []
        for i in range(n_peer):
            post = er.estimate_r(
                pd.Series(counts[i], index=index), w_norm, a_prior=1.0, b_prior=5.0, window_size=7
            )
            a = post["a_posterior"].to_numpy()
            b = post["b_posterior"].to_numpy()
            out.append((a * b, *(er.gamma_quantiles(q, a, b) for q in (0.5, 0.025, 0.975))))
        return out

    t0 = time.perf_counter()
    peer = peer_core()
    peer_time = time.perf_counter() - t0
    peer_all = peer_time * args.regions / n_peer
    diffs = []
    for i, (mean, median, lower, upper) in enumerate(peer):
        # epyestim's first window ends on day 7; EpiEstim's and kumin's on day 8
        for ours, theirs in (
            (est.mean_[i], mean[1:]),
            (est.median_[i], median[1:]),
            (est.lower_[i], lower[1:]),
            (est.upper_[i], upper[1:]),
        ):
            diffs.append(np.nanmax(np.abs(ours / theirs - 1)))
    extrap = "" if n_peer == args.regions else f", extrapolated x{args.regions / n_peer:.2f}"
    print(
        f"epyestim estimate_r + gamma_quantiles (same method), {n_peer} regions: "
        f"{peer_time:.2f} s -> {args.regions} regions: {peer_all:.1f} s{extrap}"
    )
    print(f"  agreement kumin vs epyestim core: max relative difference {max(diffs):.1e}")
    print(f"  speed ratio (epyestim core / kumin best): {peer_all / best:,.0f}x")

    n_bag = 3
    delay = generate_standard_infection_to_reporting_distribution()
    t0 = time.perf_counter()
    for i in range(n_bag):
        bagging_r(
            pd.Series(counts[i].astype(int), index=index),
            gt_distribution=w_norm,
            delay_distribution=delay,
            a_prior=1.0,
            b_prior=5.0,
            smoothing_window=21,
            r_window_size=7,
            n_samples=100,
        )
    bag_time = (time.perf_counter() - t0) / n_bag * args.regions
    print(
        f"epyestim bagging_r (bootstrap of smoothed series, 100 samples; a different, "
        f"heavier method), {n_bag} regions extrapolated to {args.regions}: {bag_time:,.0f} s "
        f"-> ratio {bag_time / best:,.0f}x"
    )

    # Other kumin methods, for the record.
    small = counts[:5]
    unc = RtEstimator(
        uncertain_si={
            "std_mean_si": 1.0,
            "min_mean_si": 2.8,
            "max_mean_si": 6.8,
            "std_std_si": 0.5,
            "min_std_si": 1.3,
            "max_std_si": 3.3,
            "n1": 500,
            "n2": 50,
        },
        random_state=0,
    )
    _, t_unc = best_of(lambda: unc.fit(small), 1)
    print(
        f"kumin cori with uncertain_si (n1=500, n2=50: 25,000 samples per window), "
        f"5 regions: {t_unc:.2f} s"
    )
    rng = np.random.default_rng(1)
    draws = rng.poisson(counts[:1] * rng.lognormal(0, 0.1, (200, args.days)))
    inf = RtEstimator(method="infection", random_state=0)
    _, t_inf = best_of(lambda: inf.fit(draws), 1)
    print(
        f"kumin infection method (exact mixture quantiles), 1 region x 200 draws x "
        f"{args.days} days: {t_inf:.2f} s"
    )


if __name__ == "__main__":
    main()
