"""Windows calendar: the report's closure rules and opening/closing dates."""

from __future__ import annotations

import datetime as dt

import pytest

from kumin.cards.records import Method
from kumin.cards.windows import (
    CARD_CENTRE,
    KUMIN_MADOGUCHI,
    SAT,
    SPECIAL_VENUE,
    SUNDAY_AFTER_THIRD_SATURDAY,
    THIRD_SATURDAY,
    DayRule,
    open_windows,
    window_calendar,
    windows_fy2021,
    windows_fy2022,
)
from kumin.errors import ParameterError

D = dt.date


def codes(day, **kw):
    return [w.window.code for w in open_windows(day, **kw)]


@pytest.mark.parametrize(
    "third_sat", [D(2021, 5, 15), D(2021, 6, 19), D(2022, 1, 15), D(2021, 8, 21)]
)
def test_third_saturday_and_the_sunday_after_close_the_card_centre(third_sat):
    assert THIRD_SATURDAY.applies(third_sat)
    sunday = third_sat + dt.timedelta(days=1)
    assert SUNDAY_AFTER_THIRD_SATURDAY.applies(sunday)
    assert not CARD_CENTRE.is_open(third_sat) and not CARD_CENTRE.is_open(sunday)
    assert not KUMIN_MADOGUCHI.is_open(third_sat)
    # the Saturday a week earlier and the Sunday a week later are open
    assert CARD_CENTRE.is_open(third_sat - dt.timedelta(days=7))
    assert CARD_CENTRE.is_open(sunday + dt.timedelta(days=7))


def test_third_saturday_when_the_month_starts_on_a_saturday():
    # May 2021 starts on a Saturday: the third Saturday is the 15th, not the 22nd
    assert THIRD_SATURDAY.applies(D(2021, 5, 15)) and not THIRD_SATURDAY.applies(D(2021, 5, 22))
    # and on a Sunday (Aug 2021): the Sunday after the third Saturday (21st) is the 22nd,
    # though the 15th is the third Sunday of the month
    assert SUNDAY_AFTER_THIRD_SATURDAY.applies(D(2021, 8, 22))
    assert not SUNDAY_AFTER_THIRD_SATURDAY.applies(D(2021, 8, 15))


def test_kumin_windows_open_from_2021_05_18():
    assert "kumin_madoguchi" not in codes(D(2021, 5, 17))
    assert "kumin_madoguchi" in codes(D(2021, 5, 18))
    assert KUMIN_MADOGUCHI.hours_on(D(2021, 5, 22)) == (dt.time(9, 30), dt.time(16))  # Sat
    assert not KUMIN_MADOGUCHI.is_open(D(2021, 5, 23))  # Sunday: no hours


def test_special_venue_until_2021_05_21():
    assert "special_venue" in codes(D(2021, 5, 21))
    assert "special_venue" in codes(D(2021, 5, 9))  # a Sunday ("毎日")
    assert "special_venue" not in codes(D(2021, 5, 22))
    assert SPECIAL_VENUE not in windows_fy2022() and SPECIAL_VENUE in windows_fy2021()


def test_hours_by_weekday_at_the_card_centre():
    assert CARD_CENTRE.hours_on(D(2021, 6, 7)) == (dt.time(11), dt.time(18, 30))  # Monday
    assert CARD_CENTRE.hours_on(D(2021, 6, 12)) == (dt.time(9), dt.time(16, 30))  # Saturday


def test_holidays_and_the_year_end_close_every_window():
    assert codes(D(2021, 11, 3)) == []  # Culture Day, a Wednesday
    assert codes(D(2021, 12, 29)) == [] and codes(D(2022, 1, 3)) == []
    assert "branch_offices" in codes(D(2022, 1, 4))


def test_method_filter_and_codes():
    monday = D(2021, 6, 7)
    assert codes(monday, method=Method.AT_APPLICATION) == ["branch_offices", "card_centre"]
    assert "kumin_madoguchi" in codes(monday, method=Method.AT_ISSUANCE)
    assert CARD_CENTRE.method_codes() == "交・申" and KUMIN_MADOGUCHI.method_codes() == "交"


def test_temporary_windows_open_only_on_their_days():
    first_sunday = D(2021, 6, 6)
    assert "temporary_kitazawa" in codes(first_sunday)
    assert "temporary_kitazawa" not in codes(D(2021, 6, 13))


def test_calendar_frame():
    cal = window_calendar(D(2021, 6, 14), D(2021, 6, 20))
    assert cal.columns == ["date", "window", "methods", "opens", "closes"]
    per_day = dict(cal.group_by("date").len().iter_rows())
    assert D(2021, 6, 19) not in per_day and D(2021, 6, 20) not in per_day
    assert per_day[D(2021, 6, 14)] == 3  # branch offices, kumin windows, card centre
    with pytest.raises(ParameterError):
        window_calendar(D(2021, 6, 20), D(2021, 6, 14))


def test_day_rule_validates():
    with pytest.raises(ParameterError):
        DayRule(6, SAT)
    with pytest.raises(ParameterError):
        DayRule(1, 7)
