"""Working hours and days: a department's default hours, and the days the ward is closed.

Kept in juki (the records) rather than in the operation-log rules so that juki
never imports oplog: the arrow goes oplog → juki only.
"""

from __future__ import annotations

import datetime as dt

import jpholiday

DEFAULT_OPEN = dt.time(8, 30)
DEFAULT_CLOSE = dt.time(17, 15)


def is_closed_day(day: dt.date, year_end_closure: bool = True) -> bool:
    """A Japanese public holiday, or (optionally) the year-end closure 29 Dec - 3 Jan."""
    if year_end_closure and (
        (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
    ):
        return True
    return jpholiday.is_holiday(day)


def closed_days(start: dt.date, end: dt.date, year_end_closure: bool = True) -> list[dt.date]:
    """Every non-working day (holiday or closure, weekends excluded) in [start, end]."""
    out = []
    day = start
    while day <= end:
        if is_closed_day(day, year_end_closure):
            out.append(day)
        day += dt.timedelta(days=1)
    return out
