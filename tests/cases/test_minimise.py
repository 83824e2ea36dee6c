"""Town-level addresses, keyed pseudonyms, small-cell suppression."""

from __future__ import annotations

import pytest

from kumin.cases.minimise import (
    new_release_key,
    pseudonym,
    suppress_count,
    suppress_counts,
    suppress_frame,
    town_name,
)
from kumin.errors import ParameterError
from kumin.synth.ward import setagaya_like_ward


@pytest.mark.parametrize(
    ("address", "town"),
    [
        ("太子堂二丁目3番4号", "太子堂"),
        ("太子堂2-3-4", "太子堂"),
        ("太子堂２丁目３番４号", "太子堂"),
        ("太子堂２－３－４", "太子堂"),
        ("三軒茶屋一丁目", "三軒茶屋"),
        ("三軒茶屋1丁目2番地3", "三軒茶屋"),
        ("八幡山三丁目5番", "八幡山"),
        ("千歳台六丁目", "千歳台"),
        ("二子玉川二丁目", "二子玉川"),
        ("成城六丁目10番地", "成城"),
        ("成城10番地", "成城"),
        ("成城番地不明", "成城"),
        ("東京都世田谷区北沢三丁目1-2 サンハイツ101", "北沢"),
        ("世田谷区 玉川 4-1-1", "玉川"),
        ("等々力五丁目", "等々力"),
        ("砧公園1番1号", "砧公園"),
        ("北沢三-5-2", "北沢"),
        ("上北沢", "上北沢"),
        ("世田谷一丁目", "世田谷"),
        ("", None),
        (None, None),
    ],
)
def test_town_name(address: str | None, town: str | None) -> None:
    assert town_name(address) == town


def test_every_town_of_the_ward_survives_the_cut() -> None:
    for town in setagaya_like_ward().towns:
        assert town_name(town.name) == town.name
        assert town_name(f"{town.name}九丁目12番3号") == town.name
        assert town_name(f"東京都世田谷区{town.name}1-2-3") == town.name


def test_pseudonyms_stable_within_a_key_and_different_across_keys() -> None:
    k1, k2 = new_release_key(), new_release_key()
    assert k1 != k2 and len(k1) == 32
    ids = [str(10_000_000 + i) for i in range(2000)]
    p1 = [pseudonym(i, k1) for i in ids]
    assert p1 == [pseudonym(i, k1) for i in ids]
    assert len(set(p1)) == len(ids)
    p2 = [pseudonym(i, k2) for i in ids]
    assert not set(p1) & set(p2)
    assert pseudonym("１２３４５", k1) == pseudonym(" 12345 ", k1)
    assert all(i not in p for i, p in zip(ids, p1, strict=True))
    assert len(pseudonym("1", k1, length=12)) == 12


def test_pseudonym_refuses_weak_keys() -> None:
    with pytest.raises(ParameterError):
        pseudonym("1", b"short")
    with pytest.raises(ParameterError):
        pseudonym("1", "not bytes at all, a str")  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        pseudonym("1", bytes(32), length=4)


def test_suppression() -> None:
    assert [suppress_count(c) for c in (0, 1, 4, 5, 100)] == [0, "<5", "<5", 5, 100]
    assert suppress_count(9, threshold=10) == "<10"
    assert suppress_count(1, threshold=1) == 1
    assert suppress_counts({"太子堂": 3, "成城": 12, "玉川": 0}) == {
        "太子堂": "<5", "成城": 12, "玉川": 0,
    }  # fmt: skip
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError):
            suppress_count(3, threshold=bad)  # type: ignore[arg-type]


def test_suppress_frame() -> None:
    import polars as pl

    frame = pl.DataFrame({"town": ["a", "b", "c"], "count": [0, 3, 7]})
    out = suppress_frame(frame)
    assert out.get_column("count").to_list() == ["0", "<5", "7"]


def test_release_keeps_only_the_contract_items() -> None:
    import datetime as dt

    from kumin.cases.minimise import minimise_record, release_fields
    from kumin.cases.parse import CaseRecord

    record = CaseRecord(
        "12345",
        birth_date=dt.date(1970, 3, 2),
        age_band="50-59",
        sex="male",
        nationality="日本",
        address="太子堂二丁目3番4号",
        town="太子堂",
        onset_date=dt.date(2021, 8, 1),
        care_setting="home",
    )
    key = new_release_key()
    items = ["HER-SYS ID", "住所（町名まで）", "発病年月日", "性別"]
    out = minimise_record(record, items, key)
    assert out == {
        "pseudonym": pseudonym("12345", key),
        "age_band": "50-59",
        "sex": "male",
        "town": "太子堂",
        "onset_date": dt.date(2021, 8, 1),
    }
    assert "12345" not in str(out) and "二丁目" not in str(out)
    with_birth = minimise_record(record, [*items, "生年月日"], key)
    assert with_birth["birth_date"] == dt.date(1970, 3, 2)
    assert release_fields(["住所(町名まで)", "onset_date"]) == ["age_band", "town", "onset_date"]
    with pytest.raises(ParameterError) as info:
        release_fields(["マイナンバー"])
    assert "マイナンバー" in info.value.render("ja")
