"""Tables of the README from the real public data (not a benchmark: no peer, no timing).

1. Rt by infection date on the national line list as of 2020-05-10
   (../shared/data/nishiura_japan_reff/JapaneseDataCOVID19_200510.csv), missing onsets
   imputed, imported cases kept out of the local renewal but counted as infectors,
   beside the published estimates of the same repository (rtmle.csv, as listed in
   ../shared/data/README.md). Same computation as tests/epi/test_pipeline.py.
2. The Tokyo Omicron nowcast: the onset curve published on 2022-01-30
   (../shared/data/tokyo/tokyo_positive_by_onset_date_snapshot_2022-01-30.csv),
   truncated as published, nowcast with an assumed onset → publication delay (gamma,
   mean 2.5–5 days, sd 1.5–3; 24 candidates weighted by evidence), as in
   tests/epi/test_nowcast.py.

Run: ``.venv/bin/python bench/real_data_tables.py [--data ../shared/data]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from kumin.epi import DelayDistribution, DelayNowcaster, rt_by_infection_date

#: rtmle.csv of contactmodel/COVID19-Japan-Reff @2493be7637e8, as listed in
#: ../shared/data/README.md: date -> (Rt, lower 95%, upper 95%)
PUBLISHED = {
    "2020-02-12": (2.58, 1.46, 4.18),
    "2020-02-19": (1.76, 1.21, 2.46),
    "2020-02-26": (0.84, 0.57, 1.19),
    "2020-03-04": (1.01, 0.72, 1.37),
    "2020-03-11": (0.80, 0.55, 1.11),
    "2020-03-18": (1.92, 1.63, 2.25),
    "2020-03-25": (2.16, 1.98, 2.36),
    "2020-04-01": (0.85, 0.78, 0.93),
    "2020-04-08": (0.75, 0.67, 0.83),
    "2020-04-15": (0.62, 0.53, 0.71),
    "2020-04-22": (0.70, 0.58, 0.84),
    "2020-04-29": (0.19, 0.12, 0.29),
}


def national(data: Path) -> None:
    df = pl.read_csv(
        data / "nishiura_japan_reff" / "JapaneseDataCOVID19_200510.csv", null_values="NA"
    )
    ll = df.select(
        pl.col("onset").str.to_date().alias("onset_date"),
        pl.coalesce("confirmed", "reported").str.to_date().alias("report_date"),
        (pl.col("exp_type") == "imported").alias("imported"),
    )
    res = rt_by_infection_date(
        ll,
        incubation=DelayDistribution.lognormal(1.519, 0.615),
        generation_interval=DelayDistribution.weibull(2.305, 5.452),
        onset_to_report=DelayDistribution.weibull(1.741, 8.573),
        imported_col="imported",
        as_of="2020-05-10",
        nowcast="delay",
        n_imputations=5,
        draws_per_imputation=20,
        random_state=1,
    )
    print(
        f"national line list: {res.n_cases:,} cases, {res.n_imputed:,} onsets imputed, "
        f"{res.n_imported:,} imported; {res.timings['total']:.2f} s"
    )
    rt = res.rt.with_columns(pl.col("date").cast(pl.Utf8))
    print("| date | published Rt (95% CI) | kumin Rt by infection date (95% CrI) |")
    print("|---|---|---|")
    for day, (value, lo, hi) in PUBLISHED.items():
        row = rt.filter(pl.col("date") == day)
        if row.height == 0 or row["r_median_centred"][0] is None:
            ours = "—"
        else:
            r = row.row(0, named=True)
            ours = f"{r['r_median_centred']:.2f} ({r['r_lower_centred']:.2f}–{r['r_upper_centred']:.2f})"
        print(f"| {day} | {value:.2f} ({lo:.2f}–{hi:.2f}) | {ours} |")


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
