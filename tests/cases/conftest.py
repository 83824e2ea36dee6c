"""Fixtures for the notification-record tests: small HER-SYS exports on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

HERSYS_HEADER = (
    "HER-SYS ID,生年月日,年代,性別,国籍,居住地,住所（町名まで）,発病年月日,初診年月日,"
    "検体採取日,結果判明日,症状,ワクチン接種歴,療養先"
)
# Six rows as a health centre exports them: era dates, full-width digits, stray spaces.
HERSYS_ROWS = [
    "1001,昭和45年3月2日,50代,男性,日本,東京都世田谷区,太子堂二丁目3番4号,令和3年8月1日,R3.8.2,R03/08/03,令和3年8月4日,発熱、咳,2回,自宅",  # noqa: E501
    "1002,H7.1.17,20代,女,日本,東京都世田谷区,三軒茶屋1-2-3,,2021/8/5,2021/8/5,2021/8/6,無症状,なし,宿泊療養",  # noqa: E501
    "１００３,平成31年4月1日, 10歳未満 ,F,日本,東京都世田谷区,成城６丁目１０番地,2021-12-20,2021-12-21,2021-12-21,2021-12-23,咽頭痛・鼻汁,なし,自宅",  # noqa: E501
    "1004,大正8年5月6日,100歳以上,女性,日本,東京都世田谷区,上北沢五丁目1番1号,令和2年4月1日,令和2年4月3日,令和2年4月3日,令和2年4月5日,発熱,不明,入院",  # noqa: E501
    "1005,令和元年5月1日,10歳未満,男性,中国,東京都世田谷区,北沢3-5-2,2022年1月10日,2022年1月11日,2022年1月11日,2022年1月13日,発熱,なし,調整中",  # noqa: E501
    "1006,S60.12.31,30代,M,日本,東京都世田谷区,砧公園1番1号,R4.1.2,R4.1.3,R4.1.3,R4.1.4,倦怠感,3回,施設",  # noqa: E501
]


def write_hersys(path: Path, rows: list[str], encoding: str = "cp932") -> Path:
    text = "\r\n".join([HERSYS_HEADER, *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def hersys_rows() -> list[str]:
    """Six valid data rows of a HER-SYS export (a fresh list each time)."""
    return list(HERSYS_ROWS)


@pytest.fixture
def hersys_header() -> str:
    return HERSYS_HEADER


@pytest.fixture
def make_hersys_csv(tmp_path: Path) -> Callable[..., Path]:
    """Write ``rows`` under the HER-SYS header: ``make_hersys_csv("x.csv", rows, "cp932")``."""

    def make(name: str, rows: list[str], encoding: str = "cp932") -> Path:
        return write_hersys(tmp_path / name, rows, encoding)

    return make


@pytest.fixture
def hersys_csv(tmp_path: Path) -> Path:
    """A valid six-row HER-SYS export in CP932 with era dates."""
    return write_hersys(tmp_path / "hersys.csv", HERSYS_ROWS)
