"""Card windows (取扱窓口): methods, opening hours, closure rules and a calendar.

A window has the issuance methods it handles (交 visit-at-issuance, 申
visit-at-application), opening hours by weekday, closure rules such as "the third
Saturday and the Sunday after it", opening and closing dates, and — for temporary
windows — the only days it opens. National holidays and the year-end break
(12-29 .. 01-03) close every window unless it says otherwise.

The default data are the report's two tables (令和3年度実績 and 令和4年度計画).

Example
-------
>>> import datetime as dt
>>> from kumin.cards.windows import open_windows
>>> [w.window.code for w in open_windows(dt.date(2021, 5, 18))]
['branch_offices', 'kumin_madoguchi', 'card_centre', 'special_venue']
>>> [w.window.code for w in open_windows(dt.date(2021, 6, 19))]  # the third Saturday
[]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import jpholiday
import polars as pl

from kumin.cards.records import Method
from kumin.errors import ParameterError

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEKDAYS = (MON, TUE, WED, THU, FRI)


@dataclass(frozen=True)
class DayRule:
    """The ``n``-th ``weekday`` of each month, shifted by ``offset_days``.

    ``DayRule(3, SAT)`` is the third Saturday; ``DayRule(3, SAT, 1)`` the Sunday
    after it (which may fall in the next month's first days only if the third
    Saturday is the month's last day, which it never is).
    """

    n: int
    weekday: int
    offset_days: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.n <= 5:
            raise ParameterError("cards.windows.bad_rule", field="n", value=self.n)
        if not 0 <= self.weekday <= 6:
            raise ParameterError("cards.windows.bad_rule", field="weekday", value=self.weekday)

    def applies(self, day: dt.date) -> bool:
        base = day - dt.timedelta(days=self.offset_days)
        return base.weekday() == self.weekday and (base.day - 1) // 7 + 1 == self.n


THIRD_SATURDAY = DayRule(3, SAT)
SUNDAY_AFTER_THIRD_SATURDAY = DayRule(3, SAT, 1)


def is_year_end_break(day: dt.date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


@cache
def _holidays_of(year: int) -> frozenset[dt.date]:
    # one call per year: jpholiday's per-day check is ~1 ms, too slow for a calendar,
    # while its range query is fast
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return frozenset(d for d, _name in jpholiday.between(start, end))


def is_public_holiday(day: dt.date) -> bool:
    return day in _holidays_of(day.year)


Hours = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class Window:
    """One card window, or a group the report lists as one row."""

    code: str
    name_ja: str
    name_en: str
    methods: frozenset[Method]
    hours: Mapping[int, Hours]  # weekday (0 = Monday) -> (opens, closes)
    closures: tuple[DayRule, ...] = ()
    opened_on: dt.date | None = None  # first open day; None = since before the records
    closed_on: dt.date | None = None  # last open day; None = still open
    only_on: tuple[DayRule, ...] | None = None  # temporary windows: open on these days only
    dates: tuple[dt.date, ...] = ()  # temporary windows: extra explicit open days
    temporary: bool = False
    closed_on_holidays: bool = True
    note_ja: str = ""
    note_en: str = ""

    def hours_on(self, day: dt.date) -> Hours | None:
        """Opening hours on ``day``, or None if the window is closed that day."""
        if self.opened_on and day < self.opened_on:
            return None
        if self.closed_on and day > self.closed_on:
            return None
        if is_year_end_break(day):
            return None
        if self.closed_on_holidays and is_public_holiday(day) and day not in self.dates:
            return None
        if any(rule.applies(day) for rule in self.closures):
            return None
        if (
            self.temporary
            and day not in self.dates
            and not any(rule.applies(day) for rule in (self.only_on or ()))
        ):
            return None
        return self.hours.get(day.weekday())

    def is_open(self, day: dt.date) -> bool:
        return self.hours_on(day) is not None

    def open_at(self, moment: dt.datetime) -> bool:
        """Whether the window takes people at ``moment`` (opening and closing minute in).

        >>> CARD_CENTRE.open_at(dt.datetime(2022, 4, 4, 10, 59))  # opens 11:00 on Mondays
        False
        >>> CARD_CENTRE.open_at(dt.datetime(2022, 4, 4, 18, 30))
        True
        """
        hours = self.hours_on(moment.date())
        return hours is not None and hours[0] <= moment.time() <= hours[1]

    def method_codes(self) -> str:
        """``交・申`` as the report prints it."""
        return "・".join(m.code_ja for m in Method if m in self.methods)


@dataclass(frozen=True)
class OpenWindow:
    window: Window
    opens: dt.time
    closes: dt.time


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _hours(days: Iterable[int], opens: str, closes: str) -> dict[int, Hours]:
    return {d: (_t(opens), _t(closes)) for d in days}


BOTH = frozenset({Method.AT_ISSUANCE, Method.AT_APPLICATION})
ISSUANCE_ONLY = frozenset({Method.AT_ISSUANCE})

BRANCH_OFFICES = Window(
    "branch_offices",
    "出張所",
    "Branch offices",
    BOTH,
    _hours(WEEKDAYS, "09:00", "15:30"),
    note_ja="開設時間は概ね",
    note_en="hours are approximate",
)
KUMIN_MADOGUCHI = Window(
    "kumin_madoguchi",
    "各総合支所マイナンバーカード特設窓口（くみん窓口）",
    "Special card windows at the general branch offices (Kumin windows)",
    ISSUANCE_ONLY,
    _hours((MON, TUE, WED, THU, FRI, SAT), "09:30", "16:00"),
    closures=(THIRD_SATURDAY,),
    opened_on=dt.date(2021, 5, 18),
    note_ja="申請時来庁方式による再交付申請も受け付ける",
    note_en="also takes re-issue applications by visit-at-application",
)
CARD_CENTRE = Window(
    "card_centre",
    "マイナンバーカード専用窓口",
    "My Number card centre",
    BOTH,
    {**_hours(WEEKDAYS, "11:00", "18:30"), **_hours((SAT, SUN), "09:00", "16:30")},
    closures=(THIRD_SATURDAY, SUNDAY_AFTER_THIRD_SATURDAY),
)
SPECIAL_VENUE = Window(
    "special_venue",
    "マイナンバーカード交付特設会場（世田谷区民会館ホールホワイエ）",
    "Card issuance venue (Setagaya Civic Hall foyer)",
    ISSUANCE_ONLY,
    _hours(range(7), "09:30", "16:30"),
    closures=(THIRD_SATURDAY, SUNDAY_AFTER_THIRD_SATURDAY),
    closed_on=dt.date(2021, 5, 21),
    note_ja="改修工事により令和3年5月21日まで",
    note_en="until 2021-05-21 (building works)",
)


def _temporary(code: str, area_ja: str, area_en: str, rule: DayRule) -> Window:
    # The report says only "once a month in each area except Setagaya"; the day
    # rule per area is an illustrative stand-in a ward replaces with its own dates.
    return Window(
        f"temporary_{code}",
        f"臨時窓口（{area_ja}地域）",
        f"Temporary window ({area_en} area)",
        BOTH,
        _hours(range(7), "09:30", "16:00"),
        only_on=(rule,),
        temporary=True,
        note_ja="原則月1回開設",
        note_en="about once a month",
    )


TEMPORARY_WINDOWS = (
    _temporary("kitazawa", "北沢", "Kitazawa", DayRule(1, SUN)),
    _temporary("tamagawa", "玉川", "Tamagawa", DayRule(2, SUN)),
    _temporary("kinuta", "砧", "Kinuta", DayRule(4, SUN)),
    _temporary("karasuyama", "烏山", "Karasuyama", DayRule(4, SAT)),
)


def windows_fy2021() -> tuple[Window, ...]:
    """The report's 令和3年度実績 table."""
    return (BRANCH_OFFICES, KUMIN_MADOGUCHI, CARD_CENTRE, *TEMPORARY_WINDOWS, SPECIAL_VENUE)


def windows_fy2022() -> tuple[Window, ...]:
    """The report's 令和4年度計画 table (the special venue has closed)."""
    return (BRANCH_OFFICES, KUMIN_MADOGUCHI, CARD_CENTRE, *TEMPORARY_WINDOWS)


DEFAULT_WINDOWS: tuple[Window, ...] = windows_fy2021()


def open_windows(
    day: dt.date,
    windows: Iterable[Window] | None = None,
    method: Method | None = None,
) -> list[OpenWindow]:
    """The windows open on ``day`` (optionally: handling ``method``), with their hours."""
    out = []
    for w in DEFAULT_WINDOWS if windows is None else windows:
        if method is not None and method not in w.methods:
            continue
        hours = w.hours_on(day)
        if hours is not None:
            out.append(OpenWindow(w, *hours))
    return out


def window_calendar(
    start: dt.date,
    end: dt.date,
    windows: Iterable[Window] | None = None,
) -> pl.DataFrame:
    """One row per (date, open window) from ``start`` to ``end`` inclusive.

    Columns: date, window, methods (e.g. ``交・申``), opens, closes.
    """
    if end < start:
        raise ParameterError(
            "cards.windows.bad_range", start=start.isoformat(), end=end.isoformat()
        )
    windows = tuple(DEFAULT_WINDOWS if windows is None else windows)
    rows: dict[str, list] = {"date": [], "window": [], "methods": [], "opens": [], "closes": []}
    day = start
    while day <= end:
        for ow in open_windows(day, windows):
            rows["date"].append(day)
            rows["window"].append(ow.window.code)
            rows["methods"].append(ow.window.method_codes())
            rows["opens"].append(ow.opens)
            rows["closes"].append(ow.closes)
        day += dt.timedelta(days=1)
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "window": pl.Utf8,
            "methods": pl.Utf8,
            "opens": pl.Time,
            "closes": pl.Time,
        },
    )
