"""Epidemic curves: daily and weekly incidence by onset or report date, rates, strata.

The curve is zero-filled over a contiguous date range, so every day (or ISO week,
Monday to Sunday) of every stratum has a row, as the Rt and nowcast steps expect.
Cases without a date in the chosen column are never dropped silently: they are
counted in :attr:`EpiCurve.missing_date` (impute onset dates first with
``kumin.epi.impute`` to put them back on the curve).

Examples
--------
>>> import datetime as dt
>>> import polars as pl
>>> from kumin.epi.curves import epi_curve
>>> cases = pl.DataFrame({
...     "onset_date": [dt.date(2021, 1, 4), dt.date(2021, 1, 4), dt.date(2021, 1, 6), None],
...     "result_date": [dt.date(2021, 1, 6), dt.date(2021, 1, 7), dt.date(2021, 1, 8),
...                     dt.date(2021, 1, 8)],
...     "town": ["A", "B", "A", "A"],
... })
>>> curve = epi_curve(cases, strata=["town"], population={"A": 20_000, "B": 50_000})
>>> curve.frame.filter(pl.col("town") == "A")["cases"].to_list()
[1, 0, 1]
>>> curve.missing_date
1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from kumin.epi._checks import check_choice_param, check_int_param
from kumin.errors import DataError, Problem

__all__ = ["DATE_COLUMNS", "STRATA_COLUMNS", "EpiCurve", "epi_curve"]

DATE_COLUMNS = {"onset": "onset_date", "report": "result_date"}
STRATA_COLUMNS = ("age_band", "sex", "town", "care_setting", "vaccine_doses")
_OWNER = "epi_curve"


@dataclass(frozen=True)
class EpiCurve:
    """An epidemic curve.

    Attributes
    ----------
    frame : polars.DataFrame
        ``freq="day"``: the strata columns, ``date``, ``cases``, ``cases_avg``
        (trailing mean over ``rolling`` days, null until ``rolling`` days are
        available) and, given populations, ``per_100k`` and ``per_100k_avg``.
        ``freq="week"``: the strata columns, ``week_start`` (Monday), ``iso_year``,
        ``iso_week``, ``days`` (days of the week inside the range: partial weeks at
        the edges have fewer than 7), ``cases`` and, given populations, ``per_100k``.
        Sorted by strata, then time.
    by : {"onset", "report"}
    freq : {"day", "week"}
    strata : tuple of str
    start, end : datetime.date
        The (inclusive) date range.
    missing_date : int
        Cases without a date in the chosen column (not on the curve).
    outside_range : int
        Cases dated outside ``[start, end]`` (not on the curve).
    """

    frame: pl.DataFrame
    by: str
    freq: str
    strata: tuple[str, ...]
    start: dt.date
    end: dt.date
    missing_date: int
    outside_range: int

    def matrix(self, column: str = "cases") -> tuple[np.ndarray, list[Any], list[dt.date]]:
        """``column`` as a (strata x time) array, with the stratum keys and the dates.

        Keys are values for one stratum column, tuples for several and ``None``
        when the curve is not stratified. Feeds :class:`kumin.epi.rt.RtEstimator`.
        """
        time_col = "date" if self.freq == "day" else "week_start"
        times = self.frame[time_col].unique(maintain_order=True).sort().to_list()
        n = len(times)
        values = self.frame[column].to_numpy().astype(np.float64).reshape(-1, n)
        if not self.strata:
            return values, [None], times
        keys_frame = self.frame.select(self.strata).gather_every(n)
        keys = [r[0] if len(r) == 1 else tuple(r) for r in keys_frame.iter_rows()]
        return values, keys, times


def _population_frame(
    population: Mapping[Any, float] | float, strata: Sequence[str]
) -> pl.DataFrame:
    if not strata:
        if isinstance(population, Mapping):
            if len(population) != 1:
                raise DataError("epi.curves.population_missing", count=1, example="(all)")
            population = next(iter(population.values()))
        items: list[tuple[tuple[Any, ...], Any]] = [((), population)]
    else:
        if not isinstance(population, Mapping):
            raise DataError("epi.curves.population_missing", count=1, example=str(strata))
        items = [
            ((key,) if len(strata) == 1 else tuple(key), value) for key, value in population.items()
        ]
    problems = []
    for key, value in items:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if not ok:
            problems.append(
                Problem(None, None, "epi.curves.population_bad", {"stratum": key, "value": value})
            )
    if problems:
        raise DataError(
            "epi.curves.population_bad",
            problems=problems,
            stratum=problems[0].params["stratum"],
            value=problems[0].params["value"],
        )
    data: dict[str, list[Any]] = {s: [k[i] for k, _ in items] for i, s in enumerate(strata)}
    data["_population"] = [float(v) for _, v in items]
    return pl.DataFrame(data, strict=False)


def epi_curve(
    cases: pl.DataFrame,
    *,
    by: str = "onset",
    freq: str = "day",
    strata: Sequence[str] = (),
    population: Mapping[Any, float] | float | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rolling: int = 7,
) -> EpiCurve:
    """Count cases per day or ISO week, zero-filled, optionally by stratum and per 100,000.

    Parameters
    ----------
    cases : polars.DataFrame
        One row per case, with ``onset_date`` and/or ``result_date`` (Date) and
        any strata columns (``age_band``, ``sex``, ``town``, ``care_setting``,
        ``vaccine_doses``, or others).
    by : {"onset", "report"}
        Date the case is counted on: symptom onset or test result (report).
    freq : {"day", "week"}
        Daily counts, or ISO weeks (Monday to Sunday).
    strata : sequence of str
        Columns to stratify by (every combination seen in the data, plus every
        key of ``population``). Missing values form their own (null) stratum.
    population : mapping or float, optional
        Population per stratum, keyed by value (one stratum column) or tuple of
        values (several); a number when not stratified. Every non-null stratum
        needs one; the null stratum's rates are null unless the mapping has a
        ``None`` key.
    start, end : datetime.date, optional
        Range of the curve (default: first and last dated case).
    rolling : int
        Days of the trailing average (daily curves).

    Returns
    -------
    EpiCurve
    """
    check_choice_param(by, "by", _OWNER, tuple(DATE_COLUMNS))
    check_choice_param(freq, "freq", _OWNER, ("day", "week"))
    check_int_param(rolling, "rolling", _OWNER, 1, 365)
    strata = tuple(strata)
    date_col = DATE_COLUMNS[by]
    missing = [c for c in (date_col, *strata) if c not in cases.columns]
    if missing:
        raise DataError("epi.curves.missing_columns", columns=", ".join(missing))
    if cases.schema[date_col] != pl.Date:
        raise DataError("epi.curves.not_date", column=date_col, dtype=str(cases.schema[date_col]))

    df = cases.select(pl.col(date_col).alias("date"), *strata)
    missing_date = df["date"].null_count()
    df = df.drop_nulls("date")
    if start is None:
        start = df["date"].min() if df.height else end
    if end is None:
        end = df["date"].max() if df.height else start
    if start is None or end is None:
        raise DataError("epi.data.too_short", name=date_col, length=0, minimum=1)
    if start > end:
        raise DataError("epi.curves.empty_range", start=start, end=end)
    inside = df.filter(pl.col("date").is_between(start, end))
    outside = df.height - inside.height

    keys = [*strata, "date"]
    counts = inside.group_by(keys).agg(pl.len().cast(pl.Int64).alias("cases"))
    dates = pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)})
    pop = _population_frame(population, strata) if population is not None else None
    if strata:
        levels = counts.select(strata).unique()
        if pop is not None:
            pop = pop.with_columns([pl.col(s).cast(cases.schema[s]) for s in strata])
            levels = pl.concat([levels, pop.select(strata)]).unique()
        grid = levels.join(dates, how="cross")
    else:
        grid = dates
    full = (
        grid.join(counts, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("cases").fill_null(0))
        .sort(keys, nulls_last=True)
    )
    over = list(strata) if strata else None

    def per_stratum(expr: pl.Expr) -> pl.Expr:
        return expr.over(over) if over else expr

    if freq == "week":
        full = (
            full.with_columns(pl.col("date").dt.truncate("1w").alias("week_start"))
            .group_by([*strata, "week_start"])
            .agg(pl.len().alias("days"), pl.col("cases").sum())
            .with_columns(
                pl.col("week_start").dt.iso_year().alias("iso_year"),
                pl.col("week_start").dt.week().alias("iso_week"),
            )
            .select(*strata, "week_start", "iso_year", "iso_week", "days", "cases")
            .sort([*strata, "week_start"], nulls_last=True)
        )
    else:
        full = full.with_columns(
            per_stratum(pl.col("cases").cast(pl.Float64).rolling_mean(rolling)).alias("cases_avg")
        )
    if pop is not None:
        if strata:
            full = full.join(pop, on=list(strata), how="left", nulls_equal=True)
        else:
            full = full.with_columns(pl.lit(pop["_population"][0]).alias("_population"))
        unmatched = full.filter(pl.col("_population").is_null()).select(strata).unique()
        non_null = unmatched.drop_nulls() if strata else unmatched
        if non_null.height:
            examples = [r[0] if len(r) == 1 else r for r in non_null.iter_rows()]
            raise DataError(
                "epi.curves.population_missing", count=len(examples), example=examples[0]
            )
        rate = [(pl.col("cases") * 100_000 / pl.col("_population")).alias("per_100k")]
        if freq == "day":
            rate.append(
                (pl.col("cases_avg") * 100_000 / pl.col("_population")).alias("per_100k_avg")
            )
        time_col = "date" if freq == "day" else "week_start"
        full = (
            full.with_columns(rate).drop("_population").sort([*strata, time_col], nulls_last=True)
        )
    return EpiCurve(
        frame=full,
        by=by,
        freq=freq,
        strata=strata,
        start=start,
        end=end,
        missing_date=missing_date,
        outside_range=outside,
    )
