"""Intraday arrival profiles: the share of a day's calls in each interval, by weekday.

A workforce plan sizes every interval of the day, not an average hour, so it
needs the shape of the day: a rush at opening, a lunch dip, and a Monday that
differs from a Saturday. :func:`estimate_profile` learns that shape from counts
per interval (``date, time, calls``), weekday by weekday, for the opening hours
and interval length (15, 30 or 60 minutes) the planner chooses;
:func:`default_profile` is the stated fallback when no interval counts exist
(a public-office line: rush at opening, lunch dip, smaller afternoon peak).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kumin.core.tabular import Table
from kumin.errors import DataError, ParameterError, Problem
from kumin.resources.calls import DEFAULT_HOURLY_SHARES
from kumin.resources.profiles import Column, inline_profile, parse_table

INTERVALS = (15, 30, 60)
DEFAULT_OPENS = "09:00"
DEFAULT_CLOSES = "18:00"
# A weekday with fewer days than this takes the pooled profile of all days.
MIN_DAYS_PER_WEEKDAY = 4

# Share of a day's calls in each hour for a line open 9:00-18:00 (the fallback):
# the same shape the queueing calibration assumes.
FALLBACK_HOURLY_SHARES = DEFAULT_HOURLY_SHARES

_TIME = re.compile(r"\s*(\d{1,2})\s*[:：時]\s*(\d{2})\s*(?::\d{2})?\s*分?\s*")


def parse_clock(value: object, name: str = "time", owner: str = "intraday") -> int:
    """Minutes after midnight of ``HH:MM`` (24:00 allowed for a closing time)."""
    m = _TIME.fullmatch(str(value)) if value is not None else None
    if m is None or int(m[2]) >= 60 or int(m[1]) * 60 + int(m[2]) > 24 * 60:
        raise ParameterError(
            "resources.parameter",
            name=name,
            owner=owner,
            constraint="a time HH:MM",
            got=repr(value),
        )
    return int(m[1]) * 60 + int(m[2])


def clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class IntradayProfile:
    """Shares of a day's calls per interval, one array per ISO weekday (1 = Monday).

    ``source`` is ``"estimated"`` (from interval counts) or ``"default"``;
    ``days_by_weekday`` says how many days each weekday's shares rest on (0: the
    pooled or default shape was used).
    """

    interval_minutes: int
    starts: tuple[int, ...]  # minutes after midnight of each interval's start
    shares: dict[int, np.ndarray]
    source: str = "default"
    days_by_weekday: dict[int, int] = field(default_factory=dict)
    calls_outside_hours: int = 0

    @property
    def opens(self) -> int:
        return self.starts[0]

    @property
    def closes(self) -> int:
        return self.starts[-1] + self.interval_minutes

    @property
    def open_hours(self) -> float:
        return len(self.starts) * self.interval_minutes / 60.0

    def for_weekday(self, weekday: int) -> np.ndarray:
        return self.shares[int(weekday)]

    def as_frame(self) -> pl.DataFrame:
        """Long frame ``weekday, start, share`` for a table or chart."""
        rows = [
            (wd, clock(s), float(v))
            for wd in range(1, 8)
            for s, v in zip(self.starts, self.shares[wd], strict=True)
        ]
        return pl.DataFrame(rows, schema=["weekday", "start", "share"], orient="row")

    def describe(self) -> dict:
        return {
            "source": self.source,
            "interval_minutes": self.interval_minutes,
            "opens": clock(self.opens),
            "closes": clock(self.closes),
            "days_by_weekday": {str(k): v for k, v in sorted(self.days_by_weekday.items())},
            "calls_outside_hours": self.calls_outside_hours,
        }


def _check_window(interval_minutes: int, opens: str, closes: str, owner: str) -> tuple[int, int]:
    if interval_minutes not in INTERVALS:
        raise ParameterError(
            "resources.parameter",
            name="interval_minutes",
            owner=owner,
            constraint="15, 30 or 60",
            got=repr(interval_minutes),
        )
    start = parse_clock(opens, "opens", owner)
    end = parse_clock(closes, "closes", owner)
    if end <= start or (end - start) % interval_minutes or start % interval_minutes:
        raise ParameterError(
            "resources.parameter",
            name="closes",
            owner=owner,
            constraint=f"after opens, both on a {interval_minutes}-minute boundary",
            got=repr(closes),
        )
    return start, end


def default_profile(
    interval_minutes: int = 60, opens: str = DEFAULT_OPENS, closes: str = DEFAULT_CLOSES
) -> IntradayProfile:
    """The fallback shape, cut to the opening hours and interval, the same every day.

    Hours outside 9:00-18:00 get the mean hourly share; an hour's share is split
    evenly over its intervals.

    Examples
    --------
    >>> p = default_profile(30, "08:30", "17:00")
    >>> len(p.starts), round(float(p.for_weekday(1).sum()), 6)
    (17, 1.0)
    """
    start, end = _check_window(interval_minutes, opens, closes, "default_profile")
    mean = float(np.mean(list(FALLBACK_HOURLY_SHARES.values())))
    raw = np.array(
        [
            FALLBACK_HOURLY_SHARES.get(s // 60, mean) * interval_minutes / 60
            for s in range(start, end, interval_minutes)
        ]
    )
    shape = raw / raw.sum()
    starts = tuple(range(start, end, interval_minutes))
    return IntradayProfile(interval_minutes, starts, {wd: shape for wd in range(1, 8)}, "default")


def hourly_profile(shares: dict[int, float]) -> IntradayProfile:
    """A 60-minute profile from validated, normalised ``hour -> share``, every day alike."""
    hours = sorted(shares)
    shape = np.array([shares[h] for h in hours], float)
    return IntradayProfile(60, tuple(h * 60 for h in hours), {wd: shape for wd in range(1, 8)})


def estimate_profile(
    counts: pl.DataFrame,
    interval_minutes: int = 60,
    opens: str = DEFAULT_OPENS,
    closes: str = DEFAULT_CLOSES,
) -> IntradayProfile:
    """Estimate the share of each interval by weekday from calls per interval.

    Parameters
    ----------
    counts : polars.DataFrame
        ``date`` (Date), ``time`` (``HH:MM``, the start of the counting interval)
        and ``calls``. Counting intervals coarser than ``interval_minutes`` are
        spread evenly over the intervals they cover.
    interval_minutes : {15, 30, 60}
    opens, closes : str
        Opening hours ``HH:MM``; calls outside them are counted in
        ``calls_outside_hours`` and left out of the shares.

    Each weekday's shares are the ratio of its summed interval calls to its
    summed day calls (days with more calls weigh more, as they should for
    staffing); a weekday with fewer than four days takes the pooled shape.
    """
    owner = "estimate_profile"
    start, end = _check_window(interval_minutes, opens, closes, owner)
    for column in ("date", "time", "calls"):
        if column not in counts.columns:
            raise ParameterError(
                "resources.parameter",
                name="counts",
                owner=owner,
                constraint="a frame with date, time and calls",
                got=repr(counts.columns),
            )
    minutes = np.array([parse_clock(t, "time", owner) for t in counts["time"].to_list()])
    calls = counts["calls"].cast(pl.Float64).to_numpy()
    if (calls < 0).any() or not np.isfinite(calls).all():
        raise ParameterError(
            "resources.parameter",
            name="calls",
            owner=owner,
            constraint="counts >= 0",
            got="a negative count",
        )
    # Resolution of the counts: the largest step that all start times fall on.
    step = 60
    for m in np.unique(minutes % 60):
        step = math.gcd(step, int(m))
    step = max(step, 1)
    dates = counts["date"].to_list()
    day_index = {d: i for i, d in enumerate(sorted(set(dates)))}
    n_int = (end - start) // interval_minutes
    grid = np.zeros((len(day_index), n_int))
    outside = 0.0
    pieces = max(1, step // interval_minutes)
    for d, m, c in zip(dates, minutes, calls, strict=True):
        for p in range(pieces):
            at = m + p * interval_minutes
            if start <= at < end:
                grid[day_index[d], (at - start) // interval_minutes] += c / pieces
            else:
                outside += c / pieces
    weekday = np.array([d.isoweekday() for d in sorted(day_index)])
    totals = grid.sum(axis=1)
    used = totals > 0
    if not used.any():
        raise ParameterError(
            "resources.parameter",
            name="counts",
            owner=owner,
            constraint="some calls within the opening hours",
            got="none",
        )
    pooled = grid[used].sum(axis=0) / totals[used].sum()
    shares, days = {}, {}
    for wd in range(1, 8):
        sel = used & (weekday == wd)
        days[wd] = int(sel.sum())
        if days[wd] >= MIN_DAYS_PER_WEEKDAY:
            shares[wd] = grid[sel].sum(axis=0) / totals[sel].sum()
        else:
            shares[wd] = pooled
    starts = tuple(range(start, end, interval_minutes))
    return IntradayProfile(interval_minutes, starts, shares, "estimated", days, int(round(outside)))


# Calls per interval: one row per day and interval start.
INTRADAY_PROFILE = inline_profile(
    "intraday_calls",
    Column("date", ("日付", "年月日"), "date"),
    Column("time", ("時刻", "開始時刻", "start"), "text"),
    Column("calls", ("受電件数", "件数", "calls_received"), "float", low=0),
    key=("date", "time"),
)


def parse_intraday_counts(table: Table) -> pl.DataFrame:
    """Validate a ``date, time, calls`` table (all or nothing; a bad time by line)."""

    def check(line: int, row: dict) -> list[Problem]:
        try:
            parse_clock(row["time"])
        except ParameterError:
            return [Problem(line, "time", "resources.evaluation.bad_time", {"value": row["time"]})]
        return []

    frame, _ = parse_table(table, INTRADAY_PROFILE, check)
    if frame.height == 0:
        raise DataError("resources.no_rows")
    return frame.sort("date", "time")
