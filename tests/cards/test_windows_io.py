"""Windows as import rows: every default window survives the round trip, and a bad
row names every bad cell."""

from __future__ import annotations

import datetime as dt

import pytest

from kumin.cards.records import Method
from kumin.cards.windows import DEFAULT_WINDOWS, SAT, SUN, DayRule
from kumin.cards.windows_io import (
    parse_hours,
    parse_methods,
    parse_rules,
    window_from_row,
    window_to_row,
)
from kumin.errors import DataError


@pytest.mark.parametrize("window", DEFAULT_WINDOWS, ids=lambda w: w.code)
def test_default_windows_round_trip(window):
    assert window_from_row(window_to_row(window)) == window


def test_text_forms():
    hours = parse_hours("mon-fri 11:00-18:30; sat,sun 9:00-16:30")
    assert hours[0] == (dt.time(11), dt.time(18, 30)) and hours[SUN] == (
        dt.time(9),
        dt.time(16, 30),
    )
    assert parse_rules("3sat; 3sat+1") == (DayRule(3, SAT), DayRule(3, SAT, 1))
    assert parse_methods("交・申") == frozenset(Method)
    assert parse_methods("visit_at_application") == {Method.AT_APPLICATION}
    for bad in ("mon 18:00-09:00", "someday 09:00-10:00", "", "mon-fri"):
        with pytest.raises(ValueError):
            parse_hours(bad)


def test_a_bad_row_names_every_bad_cell():
    row = {
        "code": "Bad Code",
        "name_ja": "",
        "methods": "交・何",
        "hours": "mon 9:00-17:00",
        "closures": "6sat",
        "opened_on": "2021-13-01",
    }
    with pytest.raises(DataError) as err:
        window_from_row(row, line=7)
    columns = sorted(p.column for p in err.value.problems)
    assert columns == ["closures", "code", "methods", "name_ja", "opened_on"]
    assert {p.line for p in err.value.problems} == {7}
