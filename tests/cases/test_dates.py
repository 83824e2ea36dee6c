"""Every date form Japanese offices export, and the impossible ones."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kumin.core.cells import InvalidDate, age_on, parse_date, to_era

D = dt.date(2022, 1, 14)


@pytest.mark.parametrize(
    "text",
    [
        "2022-01-14",
        "2022/1/14",
        "2022/01/14",
        "2022.1.14",
        "20220114",
        "2022年1月14日",
        "令和4年1月14日",
        "R4.1.14",
        "R04/01/14",
        "r4.1.14",
        "R4-1-14",
        "㋿4年1月14日",
        "２０２２／１／１４",
        "令和４年１月１４日",
        "Ｒ０４／０１／１４",
        " 2022 / 1 / 14 ",
        "\u30002022-01-14\u3000",
        "令和 4年 1月 14日",
        "2022/1/14 0:00",
        "2022-01-14 00:00:00",
        "2022-01-14T00:00:00",
        "令和4年1月14日 0:00",
        "44575",
    ],
)
def test_forms_of_one_day(text: str) -> None:
    assert parse_date(text) == D


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("令和1年5月1日", dt.date(2019, 5, 1)),
        ("R1.5.1", dt.date(2019, 5, 1)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("H31.4.30", dt.date(2019, 4, 30)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("H2.3.4", dt.date(1990, 3, 4)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        ("昭和45年3月2日", dt.date(1970, 3, 2)),
        ("S45.3.2", dt.date(1970, 3, 2)),
        ("s45/03/02", dt.date(1970, 3, 2)),
        ("大正15年12月24日", dt.date(1926, 12, 24)),
        ("T14.5.6", dt.date(1925, 5, 6)),
        ("昭和元年12月25日", dt.date(1926, 12, 25)),
        ("明治45年7月29日", dt.date(1912, 7, 29)),
        ("㍻7年1月17日", dt.date(1995, 1, 17)),
        # Old forms printed with 平成 stay in use after the change of era.
        ("平成31年5月1日", dt.date(2019, 5, 1)),
        ("平成31年12月31日", dt.date(2019, 12, 31)),
        ("昭和64年1月8日", dt.date(1989, 1, 8)),
    ],
)
def test_era_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2021-02-30", "core.cell.impossible"),
        ("2021/13/01", "core.cell.impossible"),
        ("令和3年2月29日", "core.cell.impossible"),
        ("令和0年5月1日", "core.cell.era_year_zero"),
        ("R0.5.1", "core.cell.era_year_zero"),
        ("平成32年1月1日", "core.cell.outside_era"),
        ("令和元年4月30日", "core.cell.outside_era"),
        ("昭和65年1月1日", "core.cell.outside_era"),
        ("大正1年7月29日", "core.cell.outside_era"),
        ("22/1/14", "core.cell.unparseable"),
        ("1月14日", "core.cell.unparseable"),
        ("yesterday", "core.cell.unparseable"),
        ("X4.1.14", "core.cell.unparseable"),
        ("123", "core.cell.unparseable"),
        ("0001-01-01", "core.cell.impossible"),
        ("1867/12/31", "core.cell.impossible"),
    ],
)
def test_bad_dates(text: str, key: str) -> None:
    with pytest.raises(InvalidDate) as info:
        parse_date(text)
    assert info.value.key == key
    assert info.value.params["value"] == text


def test_bad_dates_fail_every_time_despite_the_cache() -> None:
    for _ in range(3):
        with pytest.raises(InvalidDate):
            parse_date("2021-02-30")


@pytest.mark.parametrize("text", ["", "  ", "-", "－", "不明", "なし", None])
def test_missing(text: object) -> None:
    assert parse_date(text) is None


def test_profile_missing_texts() -> None:
    with pytest.raises(InvalidDate):
        parse_date("NA")
    assert parse_date("NA", frozenset({"NA"})) is None


def test_excel_values() -> None:
    assert parse_date(dt.datetime(2022, 1, 14, 9, 30)) == D
    assert parse_date(D) == D
    assert parse_date(44575) == D
    assert parse_date(44575.0) == D
    assert parse_date(61) == dt.date(1900, 3, 1)
    for bad in (44575.5, 0, -3, 3_000_000, True):
        with pytest.raises(InvalidDate):
            parse_date(bad)


def test_to_era_round_trips() -> None:
    day = dt.date(1919, 7, 1)
    while day < dt.date(2023, 1, 1):
        for style in ("kanji", "letter", "padded"):
            assert parse_date(to_era(day, style)) == day
        day += dt.timedelta(days=97)
    assert to_era(dt.date(1989, 1, 8)) == "平成元年1月8日"
    assert to_era(dt.date(1926, 12, 24), "letter") == "T15.12.24"


def test_age_on() -> None:
    birth = dt.date(2000, 3, 15)
    assert age_on(birth, dt.date(2020, 3, 14)) == 19
    assert age_on(birth, dt.date(2020, 3, 15)) == 20


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_every_written_form_reads_back(day: dt.date) -> None:
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        to_era(day, "kanji"),
        to_era(day, "letter"),
        to_era(day, "padded"),
        to_era(day, "kanji").translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f" {day.year} / {day.month} / {day.day} ",
    ]
    for text in forms:
        assert parse_date(text) == day, text
