"""Code values in Japanese and English."""

from __future__ import annotations

import pytest

from kumin.cases.codes import (
    AGE_BANDS,
    InvalidCode,
    age_band_of,
    parse_age_band,
    parse_care_setting,
    parse_flag,
    parse_imported,
    parse_sex,
    parse_symptoms,
    parse_text,
    parse_vaccine_doses,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("男性", "male"), ("女性", "female"), ("男", "male"), ("女", "female"),
        ("M", "male"), ("F", "female"), ("m", "male"), ("Ｆ", "female"),
        ("その他", "other"), ("不明", "unknown"), ("male", "male"), ("Female", "female"),
        (" 男性 ", "male"), ("", None),
    ],
)  # fmt: skip
def test_sex(text: str, code: str | None) -> None:
    assert parse_sex(text) == code


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("10歳未満", "0-9"), ("10代", "10-19"), ("20代", "20-29"), ("30代", "30-39"),
        ("40代", "40-49"), ("50代", "50-59"), ("60代", "60-69"), ("70代", "70-79"),
        ("80代", "80-89"), ("90代", "90-99"), ("100歳以上", "100+"), ("１０代", "10-19"),
        ("30-39", "30-39"), ("100+", "100+"), ("不明", None), ("", None),
    ],
)  # fmt: skip
def test_age_band(text: str, band: str | None) -> None:
    assert parse_age_band(text) == band


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("自宅", "home"), ("宿泊療養", "hotel"), ("入院", "hospital"), ("施設", "facility"),
        ("調整中", "pending"), ("自宅療養", "home"), ("hotel", "hotel"), ("Pending", "pending"),
        ("不明", None), ("", None),
    ],
)  # fmt: skip
def test_care_setting(text: str, code: str | None) -> None:
    assert parse_care_setting(text) == code


@pytest.mark.parametrize(
    ("text", "doses"),
    [("なし", 0), ("1回", 1), ("2回", 2), ("3回", 3), ("３回", 3), ("不明", None), ("", None),
     ("未接種", 0), (2, 2)],
)  # fmt: skip
def test_vaccine_doses(text: object, doses: int | None) -> None:
    assert parse_vaccine_doses(text) == doses


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_sex, "男の子"),
        (parse_age_band, "110代"),
        (parse_age_band, "25歳"),
        (parse_care_setting, "病院"),
        (parse_vaccine_doses, "4回"),
        (parse_imported, "abroad"),
        (parse_flag, "maybe"),
    ],
)
def test_unknown_codes(parser, text: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parser(text)
    assert info.value.key == "cases.code.unknown"
    assert info.value.params["value"] == text
    assert info.value.params["allowed"]


def test_symptoms() -> None:
    assert parse_symptoms("無症状") == (None, True)
    assert parse_symptoms(" 無症状 ") == (None, True)
    assert parse_symptoms("") == (None, None)
    assert parse_symptoms("不明") == (None, None)
    assert parse_symptoms("発熱、咳") == ("発熱、咳", False)
    assert parse_symptoms("発熱・咳,咽頭痛") == ("発熱、咳、咽頭痛", False)
    assert parse_symptoms("発熱，咳") == ("発熱、咳", False)
    assert parse_symptoms(["発熱", " 咳 "]) == ("発熱、咳", False)
    assert parse_symptoms("38度の発熱が3日続く") == ("38度の発熱が3日続く", False)


def test_flags_and_imported() -> None:
    assert parse_flag("1") is True and parse_flag("0") is False and parse_flag("") is None
    assert parse_imported("imported") is True and parse_imported("domestic") is False
    assert parse_imported("輸入") is True and parse_imported("国内") is False


def test_text_and_age_band_of() -> None:
    assert parse_text("  東京都　世田谷区 ") == "東京都 世田谷区"
    assert parse_text("   ") is None
    assert [age_band_of(a) for a in (0, 9, 10, 99, 100, 117)] == [
        "0-9", "0-9", "10-19", "90-99", "100+", "100+",
    ]  # fmt: skip
    assert len(AGE_BANDS) == 11
