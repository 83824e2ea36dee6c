"""Synthetic call-centre days and monthly service counts for a Setagaya-like ward.

Deterministic for a given seed, and independent of ../shared/data at run time:
the shape of Tokyo's waves is written below as weekly figures, with their source.

* :func:`call_centre_days` — Feb 2020 – Jan 2022, one row per day in the
  ``call_centre_daily`` import profile: calls follow Tokyo's waves (calls lead
  cases by :data:`CALLS_LEAD_DAYS` days, with calls per case falling as the public
  got used to the disease), regular staff plus external staff hired about two
  weeks behind demand, and abandoned calls drawn from the Erlang A model, so the
  queueing calibration has something true to find.
* :func:`service_counts` — 2017–2022 monthly counts of eight core services, with
  a spring-2020 disruption (contact examinations and several vaccines dip in
  April–May 2020, then recover, some with catch-up).
"""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np
import polars as pl

from kumin.core.tabular import atomic_write_bytes, csv_bytes
from kumin.resources.calls import DEFAULT_HOURLY_SHARES
from kumin.resources.queueing import erlang_a

# Weekly sums of cases by onset date in Tokyo, weeks starting Monday 2020-01-13
# through the week of 2022-01-17. Source: ../shared/data/tokyo/
# tokyo_positive_by_onset_date_snapshot_2022-01-30.csv (the week of 2022-01-24 is
# right-truncated in that snapshot and left out).
TOKYO_WEEKLY_ONSET_CASES = (
    2,
    7,
    5,
    7,
    6,
    5,
    14,
    22,
    49,
    171,
    523,
    974,
    722,
    425,
    251,
    172,
    55,
    32,
    56,
    96,
    109,
    157,
    215,
    381,
    743,
    1101,
    1161,
    1322,
    1459,
    1214,
    1095,
    802,
    672,
    689,
    642,
    623,
    708,
    719,
    797,
    679,
    737,
    791,
    1201,
    1588,
    1843,
    1713,
    1948,
    2388,
    2963,
    3978,
    7016,
    8367,
    5611,
    3835,
    2676,
    2035,
    1532,
    1273,
    1131,
    1233,
    1358,
    1568,
    1710,
    2068,
    2482,
    3334,
    3821,
    4298,
    4113,
    3239,
    2774,
    2284,
    1805,
    1792,
    2107,
    2514,
    3160,
    4112,
    6416,
    11409,
    19223,
    22582,
    24820,
    22242,
    16657,
    9236,
    5255,
    2684,
    1284,
    699,
    344,
    203,
    153,
    101,
    107,
    91,
    80,
    75,
    78,
    117,
    165,
    255,
    1109,
    7725,
    30674,
    68750,
)
TOKYO_FIRST_WEEK = dt.date(2020, 1, 13)
# Tokyo's call centre took ~12,700 calls a week in early March 2020 against ~500
# onset cases, and ~12,900 against ~22,600 in August 2021 (weekly sums of
# ../shared/data/tokyo/tokyo_call_center_daily.csv): calls per case fell ~50-fold.
WARD_SHARE = 0.07  # Setagaya holds ~940k of Tokyo's ~14M people
CALLS_LEAD_DAYS = 3
HOURLY_SHARES = tuple(DEFAULT_HOURLY_SHARES.values())  # lines open 9:00-18:00


def ward_case_curve(start: dt.date, end: dt.date) -> pl.DataFrame:
    """Expected daily cases of the ward (Tokyo's weekly curve × ward share), smooth.

    Weekly sums are spread over days by linear interpolation of the daily mean at
    mid-week; beyond the table the last value is held.
    """
    weeks = np.arange(len(TOKYO_WEEKLY_ONSET_CASES))
    mid = weeks * 7 + 3.0
    daily = np.asarray(TOKYO_WEEKLY_ONSET_CASES, float) / 7 * WARD_SHARE
    days = pl.date_range(start, end, "1d", eager=True)
    x = np.array([(d - TOKYO_FIRST_WEEK).days for d in days], float)
    return pl.DataFrame({"date": days, "cases": np.interp(x, mid, daily)})


def _calls_per_case(day_index: np.ndarray) -> np.ndarray:
    # From ~16 calls per case in spring 2020 down to ~2.5 by mid 2021.
    return 2.5 + 14.0 * np.exp(-np.maximum(day_index, 0.0) / 150.0)


def call_centre_days(
    seed: int = 0,
    start: dt.date = dt.date(2020, 2, 1),
    end: dt.date = dt.date(2022, 1, 31),
    patience_seconds: float = 150.0,
    line_limit: int | None = None,
) -> pl.DataFrame:
    """Daily records of the ward's fever-consultation centre, one row per day.

    Columns are those of the ``call_centre_daily`` profile. ``line_limit``
    caps the agents who can take calls at once (a centre that runs out of
    lines: staff beyond it answer nothing), the saturation a test must find;
    by default there is none and returns diminish smoothly, as in Erlang A.

    Examples
    --------
    >>> days = call_centre_days(seed=1)
    >>> days.height, days["date"].min(), days["date"].max()
    (731, datetime.date(2020, 2, 1), datetime.date(2022, 1, 31))
    """
    rng = np.random.default_rng(seed)
    cases = ward_case_curve(start, end + dt.timedelta(days=CALLS_LEAD_DAYS))
    expected_cases = cases["cases"].to_numpy()[CALLS_LEAD_DAYS:]
    dates = pl.date_range(start, end, "1d", eager=True)
    n = len(dates)
    # Days since 1 Feb 2020, whatever the window, so any window shows the same ward.
    idx = np.arange(n, dtype=float) + (start - dt.date(2020, 2, 1)).days
    weekday = dates.dt.weekday().to_numpy()  # 1 = Monday
    weekday_factor = np.select([weekday == 1, weekday == 6, weekday == 7], [1.2, 0.8, 0.7], 1.0)
    # Worried callers before the first wave (Feb-Mar 2020), fading by May.
    concern = 300.0 * np.exp(-(((idx - 35.0) / 25.0) ** 2))
    mean_calls = (40.0 + concern + _calls_per_case(idx) * expected_cases) * weekday_factor
    received = rng.negative_binomial(60, 60 / (60 + mean_calls))
    handle = np.clip(rng.normal(480 - 120 * (1 - np.exp(-np.maximum(idx, 0) / 200)), 20), 240, 900)
    regular = np.where(weekday >= 6, 2, 4)
    staffed_hours = np.full(n, float(len(HOURLY_SHARES)))
    # The ward hires external staff two weeks behind the 7-day mean of calls,
    # sized for 70 % occupancy at the peak hour; contracts change on Mondays and
    # are kept three weeks after demand falls (so wave tails are over-staffed).
    smooth = np.convolve(mean_calls, np.ones(7) / 7, mode="full")[:n]
    lagged = np.concatenate([np.full(14, smooth[0]), smooth[:-14]])
    peak_load = lagged * max(HOURLY_SHARES) * 420.0 / 3600
    wanted = np.clip(np.ceil(peak_load / 0.7) + 1 - 4, 0, 40)
    held = np.array([wanted[max(0, i - 21) : i + 1].max() for i in range(n)])
    external = held.copy()
    monday = np.nonzero(weekday == 1)[0]
    for i in range(n):
        last = monday[monday <= i]
        external[i] = held[last[-1]] if len(last) else held[i]
    external = external.astype(int)
    abandoned = np.zeros(n, dtype=int)
    shares = np.asarray(HOURLY_SHARES)
    for i in range(n):
        agents = int(regular[i] + external[i])
        if line_limit is not None:
            agents = min(agents, line_limit)
        # Each hour is an Erlang A queue at that hour's arrival rate; the day's
        # calls are then split over hours and each caller abandons with the
        # hour's probability (the model the calibration inverts).
        p_hour = [
            erlang_a(
                agents, float(received[i] * share), float(handle[i]), patience_seconds, 0.0
            ).abandonment_probability
            for share in shares
        ]
        per_hour = rng.multinomial(received[i], shares)
        abandoned[i] = int(rng.binomial(per_hour, p_hour).sum())
    answered = received - abandoned
    cost = (regular * 3_800 + external * 2_900) * staffed_hours + 20_000
    return pl.DataFrame(
        {
            "date": dates,
            "calls_received": received.astype(np.int64),
            "calls_answered": answered.astype(np.int64),
            "staff_regular": regular.astype(np.int64),
            "staff_external": external.astype(np.int64),
            "staffed_hours": staffed_hours,
            "calls_abandoned": abandoned.astype(np.int64),
            "mean_handle_seconds": np.round(handle, 1),
            "cost_yen": cost.astype(float),
        }
    )


# Monthly mean counts before the pandemic, for a ward of ~940k with ~7,000 births
# a year; yearly trend; month-of-year shape (12 factors, mean ~1); and the factor
# applied in each disrupted month (then a catch-up factor the month after).
SERVICES = {
    # name: (level in Jan 2017, trend per year, seasonal shape, {month: factor})
    "tb_new_registrations": (11.0, -0.04, None, {"2020-04": 0.8, "2020-05": 0.8}),
    "tb_contact_examinations": (
        70.0,
        -0.02,
        None,
        {"2020-04": 0.35, "2020-05": 0.45, "2020-06": 0.8},
    ),
    "dot_completions": (8.0, -0.03, None, {}),
    "bcg": (580.0, -0.02, None, {"2020-04": 0.7, "2020-05": 0.75, "2020-06": 1.2}),
    "mr": (
        1150.0,
        -0.02,
        (1.05, 1.10, 1.45, 0.80, 0.90, 0.95, 1.00, 0.95, 0.90, 0.95, 0.95, 1.00),
        {"2020-04": 0.5, "2020-05": 0.6, "2020-06": 1.15},
    ),
    "dpt_ipv": (2300.0, -0.02, None, {"2020-04": 0.8, "2020-05": 0.85}),
    "hpv": (60.0, 0.10, None, {}),
    "japanese_encephalitis": (
        1500.0,
        0.0,
        (0.85, 0.85, 1.00, 1.20, 1.25, 1.20, 1.10, 1.05, 0.90, 0.90, 0.85, 0.85),
        {"2020-04": 0.45, "2020-05": 0.55, "2020-06": 0.9},
    ),
}
SERVICE_DISPERSION = 400.0  # negative-binomial size: variance = mu + mu^2/400


def service_counts(seed: int = 0, start_year: int = 2017, end_year: int = 2022) -> pl.DataFrame:
    """Monthly counts ``service, month, count`` (month as the first day of the month).

    Examples
    --------
    >>> counts = service_counts(seed=1)
    >>> counts["service"].n_unique(), counts.height
    (8, 576)
    """
    rng = np.random.default_rng(seed)
    months = [dt.date(y, m, 1) for y in range(start_year, end_year + 1) for m in range(1, 13)]
    rows: dict[str, list] = {"service": [], "month": [], "count": []}
    for name, (level, trend, shape, shock) in SERVICES.items():
        for i, month in enumerate(months):
            years = (month.year - 2017) + (month.month - 1) / 12
            mu = level * math.exp(trend * years) * (shape[month.month - 1] if shape else 1.0)
            if name == "hpv" and month >= dt.date(2020, 10, 1):
                # Letters to eligible girls from autumn 2020 lifted uptake.
                mu *= 2.5
            mu *= shock.get(month.strftime("%Y-%m"), 1.0)
            p = SERVICE_DISPERSION / (SERVICE_DISPERSION + mu)
            rows["service"].append(name)
            rows["month"].append(month)
            rows["count"].append(int(rng.negative_binomial(SERVICE_DISPERSION, p)))
            del i
    return pl.DataFrame(rows, schema={"service": pl.String, "month": pl.Date, "count": pl.Int64})


# The true intraday shape: quarter-hour shares of each opening hour's calls, and
# weekday tilts (Mondays front-loaded, Saturdays flat), for the profile estimator
# to find.
QUARTER_TILT = (1.15, 1.05, 0.95, 0.85)
WEEKDAY_MORNING_TILT = {1: 1.35, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.95, 6: 0.8, 7: 0.8}


def true_interval_shares(weekday: int) -> np.ndarray:
    """Share of a day's calls in each quarter hour 9:00-18:00 (36 values) on ``weekday``."""
    hourly = np.array(HOURLY_SHARES, float)
    tilt = np.where(np.arange(len(hourly)) < 3, WEEKDAY_MORNING_TILT[weekday], 1.0)
    hourly = hourly * tilt
    quarters = np.concatenate([h * np.array(QUARTER_TILT) / 4 for h in hourly])
    return quarters / quarters.sum()


def calls_by_interval(days: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    """Quarter-hour counts ``date, time, calls`` splitting each day's calls by the true shape."""
    rng = np.random.default_rng(seed)
    times = [f"{9 + q // 4:02d}:{15 * (q % 4):02d}" for q in range(36)]
    rows: dict[str, list] = {"date": [], "time": [], "calls": []}
    for day, calls in days.select("date", "calls_received").iter_rows():
        counts = rng.multinomial(int(calls), true_interval_shares(day.isoweekday()))
        rows["date"] += [day] * 36
        rows["time"] += times
        rows["calls"] += counts.tolist()
    return pl.DataFrame(rows, schema={"date": pl.Date, "time": pl.String, "calls": pl.Int64})


def frame_csv_bytes(frame: pl.DataFrame, month_columns: tuple[str, ...] = ()) -> bytes:
    """A frame as Excel-friendly CSV bytes (UTF-8 with BOM); month columns as YYYY-MM."""
    out = frame.with_columns([pl.col(c).dt.strftime("%Y-%m") for c in month_columns])
    return csv_bytes(out.columns, out.iter_rows())


def write_call_centre_csv(path: str | os.PathLike[str], seed: int = 0) -> pl.DataFrame:
    """Write :func:`call_centre_days` to ``path`` and return the frame."""
    frame = call_centre_days(seed)
    atomic_write_bytes(path, frame_csv_bytes(frame))
    return frame


def write_service_counts_csv(path: str | os.PathLike[str], seed: int = 0) -> pl.DataFrame:
    """Write :func:`service_counts` to ``path`` (month as YYYY-MM) and return the frame."""
    frame = service_counts(seed)
    atomic_write_bytes(path, frame_csv_bytes(frame, ("month",)))
    return frame
