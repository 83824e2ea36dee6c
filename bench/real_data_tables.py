"""Tables of the README from the real public data (not a benchmark: no peer, no timing).

1. Rt by infection date on the national line list as of 2020-05-10
   (../shared/data/nishiura_japan_reff/JapaneseDataCOVID19_200510.csv), missing onsets
   imputed, imported cases kept out of the local renewal but counted as infectors,
   infections by Richardson–Lucy deconvolution, beside the published daily estimates
   of the same repository (rtmle.csv, copied into tests/epi/data/), every day.
   Same computation as tests/epi/test_pipeline.py.
2. The Tokyo Omicron nowcast: the onset curve published on 2022-01-30
   (../shared/data/tokyo/tokyo_positive_by_onset_date_snapshot_2022-01-30.csv),
   truncated as published, nowcast with an assumed onset → publication delay (gamma,
   mean 2.5–5 days, sd 1.5–3; 24 candidates weighted by evidence), as in
   tests/epi/test_nowcast.py.

Run: ``.venv/bin/python bench/real_data_tables.py [--data ../shared/data]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from kumin.epi import DelayDistribution, DelayNowcaster, rt_by_infection_date

#: rtmle.csv of contactmodel/COVID19-Japan-Reff @48227e13b11b, copied (date, infections,
#: Rt and its 95% CI) into the test fixture below
PUBLISHED = Path(__file__).resolve().parents[1] / "tests/epi/data/nishiura_rtmle_200510.csv"
#: the repository's own figure stops 17 days before the data date (2020-04-23)
PERIOD = (dt.date(2020, 2, 15), dt.date(2020, 4, 23))


def national(data: Path) -> None:
    df = pl.read_csv(
        data / "nishiura_japan_reff" / "JapaneseDataCOVID19_200510.csv", null_values="NA"
    )
    ll = df.select(
        pl.col("onset").str.to_date().alias("onset_date"),
        pl.coalesce("confirmed", "reported").str.to_date().alias("report_date"),
        (pl.col("exp_type") == "imported").alias("imported"),
    )
    published = pl.read_csv(PUBLISHED, comment_prefix="#", try_parse_dates=True)
    results = {}
    for method in ("richardson-lucy", "shift"):
        results[method] = rt_by_infection_date(
            ll,
            incubation=DelayDistribution.lognormal(1.519, 0.615),
            generation_interval=DelayDistribution.weibull(2.305, 5.452),
            onset_to_report=DelayDistribution.weibull(1.741, 8.573),
            imported_col="imported",
            as_of="2020-05-10",
            nowcast="delay",
            n_imputations=5,
            draws_per_imputation=20,
            deconvolution=method,
            random_state=1,
        )
    res = results["richardson-lucy"]
    print(
        f"national line list: {res.n_cases:,} cases, {res.n_imputed:,} onsets imputed, "
        f"{res.n_imported:,} imported; {res.timings['total']:.2f} s"
    )
    for method, r in results.items():
        both = r.rt.join(published, on="date").filter(pl.col("date").is_between(*PERIOD))
        a, b = both["r_median_centred"].to_numpy(), both["Rt"].to_numpy()
        print(
            f"{method}: {both.height} days {PERIOD[0]}..{PERIOD[1]}: correlation "
            f"{np.corrcoef(a, b)[0, 1]:.3f}, mean |difference| {np.abs(a - b).mean():.3f}"
        )
    rt = res.rt.join(published, on="date", how="left").filter(
        pl.col("date").is_between(dt.date(2020, 2, 1), dt.date(2020, 5, 9))
    )
    print("| date | published Rt (95% CI) | kumin (95% CrI) | difference |")
    print("|---|---|---|---|")
    for r in rt.iter_rows(named=True):
        theirs = "—" if r["Rt"] is None else f"{r['Rt']:.2f} ({r['lower']:.2f}–{r['upper']:.2f})"
        if r["r_median_centred"] is None:
            ours, diff = "—", ""
        else:
            ours = (
                f"{r['r_median_centred']:.2f} ({r['r_lower_centred']:.2f}–"
                f"{r['r_upper_centred']:.2f})"
            )
            diff = "" if r["Rt"] is None else f"{r['r_median_centred'] - r['Rt']:+.2f}"
        mark = "" if PERIOD[0] <= r["date"] <= PERIOD[1] else " ·"
        print(f"| {r['date']}{mark} | {theirs} | {ours} | {diff} |")


def tokyo(data: Path) -> None:
    path = data / "tokyo" / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv"
    df = pl.read_csv(path, try_parse_dates=True)
    candidates = [
        DelayDistribution.from_mean_sd("gamma", m, s)
        for m in (2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
        for s in (1.5, 2.0, 2.5, 3.0)
    ]
    nc = DelayNowcaster(candidates, max_delay=30, n_draws=1200, random_state=0)
    nc.fit(df["cases"].to_numpy(), df["onset_date"], as_of="2022-01-30")
    peak = nc.peak()
    print(
        f"Tokyo nowcast as of 2022-01-30: peak of onsets on {peak['date']}, median "
        f"{peak['median']:,.0f} (90% interval of the peak size {peak['size_lower_90']:,.0f}–"
        f"{peak['size_upper_90']:,.0f}; peak date {peak['date_lower_90']}–{peak['date_upper_90']}); "
        f"highest count published: {int(df['cases'].max()):,}"
    )
    table = nc.table_.tail(9).select(
        "date", "observed", "median", "lower_90", "upper_90", "reliable"
    )
    print("| onset date | published 2022-01-30 | nowcast median | 90% interval | reliable |")
    print("|---|---|---|---|---|")
    for r in table.iter_rows(named=True):
        print(
            f"| {r['date']} | {r['observed']:,} | {r['median']:,.0f} | "
            f"{r['lower_90']:,.0f}–{r['upper_90']:,.0f} | {'yes' if r['reliable'] else 'no'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default)
    args = parser.parse_args()
    national(args.data)
    print()
    tokyo(args.data)


if __name__ == "__main__":
    main()
