"""Benchmark: the whole infection-date pipeline for a ward-sized line list, vs epyestim.

A synthetic line list of 31,077 cases (the size of the study ward's notifications)
is generated here with a simple simulator: three waves of infections, onset after
an incubation period, report after an onset → report delay, 15% of onsets missing
and 2% imported cases, and the list cut at its extract date (right truncation).

kumin: ``rt_by_infection_date`` — fits the onset → report delay (three families,
AIC, truncation), imputes missing onsets 10 times, nowcasts each imputation from
the reporting triangle (20 draws each), sends the 200 onset curves back to
infection dates and estimates Rt by infection date.

epyestim: ``epyestim.covid19.r_covid`` on the same cases by report date — its own
pipeline: bootstrap of the counts, LOWESS smoothing, Richardson–Lucy deconvolution
by the infection → report delay, and Rt per sample (100 samples). The
distributions given to it are the ones used by the simulator.

Run: ``.venv/bin/python bench/bench_pipeline.py``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import polars as pl

from kumin.epi.delays import DelayDistribution
from kumin.epi.pipeline import generation_pmf, rt_by_infection_date

N_CASES = 31_077
N_DAYS = 700
INCUBATION = DelayDistribution.lognormal(1.519, 0.615)
GENERATION = DelayDistribution.weibull(2.305, 5.452)
REPORT = DelayDistribution.gamma(2.2, 1.6)  # onset → report, mean 3.5 days


def wave_curve() -> np.ndarray:
    t = np.arange(N_DAYS)
    return (
        sum(
            h * np.exp(-0.5 * ((t - c) / s) ** 2)
            for h, c, s in ((1.0, 120, 25), (2.5, 360, 30), (4.0, 600, 35))
        )
        + 0.05
    )


def true_rt() -> np.ndarray:
    """Instantaneous R of the expected infection curve: I_t / Σ_s w_s I_{t-s}."""
    curve = wave_curve()
    w = generation_pmf(GENERATION, 30)
    load = np.convolve(curve, w)[:N_DAYS]
    return np.where(load > 0, curve / np.maximum(load, 1e-12), np.nan)


def synthetic_ward(seed: int = 0) -> tuple[pl.DataFrame, np.datetime64]:
    rng = np.random.default_rng(seed)
    waves = wave_curve()
    # enough infections that N_CASES remain after the cut at the extract date
    infection = rng.choice(N_DAYS, size=int(N_CASES * 1.15), p=waves / waves.sum())
    onset = infection + INCUBATION.sample_days(infection.size, rng)
    report = onset + REPORT.sample_days(infection.size, rng)
    as_of = N_DAYS - 1
    seen = np.flatnonzero(report <= as_of)[:N_CASES]
    onset, report = onset[seen], report[seen]
    start = np.datetime64("2020-03-01")
    missing = rng.random(N_CASES) < 0.15
    frame = pl.DataFrame(
        {
            "onset_date": np.where(missing, np.datetime64("NaT"), start + onset).astype(
                "datetime64[D]"
            ),
            "report_date": (start + report).astype("datetime64[D]"),
            "imported": rng.random(N_CASES) < 0.02,
        }
    )
    return frame, start + as_of


def run_kumin(frame: pl.DataFrame, as_of: np.datetime64):
    return rt_by_infection_date(
        frame,
        incubation=INCUBATION,
        generation_interval=GENERATION,
        imported_col="imported",
        as_of=as_of,
        nowcast="triangle",
        n_imputations=10,
        draws_per_imputation=20,
        max_delay=21,
        random_state=0,
    )


def run_epyestim(frame: pl.DataFrame):
    import pandas as pd
    from epyestim import covid19

    daily = frame.group_by("report_date").len().sort("report_date")
    index = pd.date_range(daily["report_date"].min(), daily["report_date"].max(), freq="D")
    series = pd.Series(daily["len"].to_numpy(), index=pd.DatetimeIndex(daily["report_date"]))
    series = series.reindex(index, fill_value=0)
    gt = generation_pmf(GENERATION, 30)
    # infection → report = incubation + onset → report, as a pmf over days
    delay = np.convolve(INCUBATION.pmf(30), REPORT.pmf(30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return covid19.r_covid(series, gt_distribution=gt, delay_distribution=delay, n_samples=100)


def main() -> None:
    frame, as_of = synthetic_ward()
    print(
        f"line list: {frame.height:,} cases, {frame['onset_date'].null_count():,} without onset, "
        f"{int(frame['imported'].sum()):,} imported, extract {as_of}"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_kumin(frame, as_of)
    t_kumin, c_kumin = time.perf_counter() - t0, time.process_time() - c0
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in res.timings.items() if k != "total")
    print(
        f"kumin   rt_by_infection_date: {t_kumin:6.2f} s wall, {c_kumin:6.2f} s CPU "
        f"({steps}); target < 10 s"
    )
    print(
        f"        {res.infections.draws.shape[0]} draws x {res.infections.draws.shape[1]} days, "
        f"{res.rt.height} Rt windows; delay fitted {res.onset_to_report.family} "
        f"mean {res.onset_to_report.mean:.2f} d (true {REPORT.mean:.2f})"
    )
    t1, c1 = time.perf_counter(), time.process_time()
    ep = run_epyestim(frame)
    t_ep, c_ep = time.perf_counter() - t1, time.process_time() - c1
    print(
        f"epyestim r_covid (100 samples): {t_ep:6.2f} s wall, {c_ep:6.2f} s CPU ({len(ep)} Rt values)"
    )
    truth = true_rt()
    start = np.datetime64("2020-03-01")
    # compare where both have estimates, away from the first 60 and the last 30 days
    ours = res.rt.drop_nulls("r_median_centred")
    k_dates = ours["date"].to_numpy().astype("datetime64[D]")
    k_val = dict(zip(k_dates.tolist(), ours["r_median_centred"].to_numpy(), strict=True))
    e_val = {d.date(): v for d, v in zip(ep.index, ep["Q0.5"], strict=True)}
    days = [start + np.timedelta64(t, "D") for t in range(60, N_DAYS - 30)]
    common = [d for d in days if d.astype(object) in k_val and d.astype(object) in e_val]
    tr = np.array([truth[int((d - start).astype(int))] for d in common])
    k_err = np.abs(np.array([k_val[d.astype(object)] for d in common]) - tr)
    e_err = np.abs(np.array([e_val[d.astype(object)] for d in common]) - tr)
    print(
        f"mean |Rt - true R| over {len(common)} common days: kumin {k_err.mean():.3f}, "
        f"epyestim {e_err.mean():.3f}"
    )
    print(f"speed ratio epyestim / kumin: {t_ep / t_kumin:.1f}x wall, {c_ep / c_kumin:.1f}x CPU")


if __name__ == "__main__":
    main()
