"""The Ministry's card statistics, read from the real files with their quirks
(codeforjapan/mynumbercard_statistics @3c7a1dad4d97, see ../shared/data/README.md)."""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest

from kumin.cards.national import (
    check_digit,
    code6,
    load_national,
    ratio_over_time,
    read_snapshot,
    restore_code6,
    snapshot_files,
)
from kumin.errors import DataError

D = dt.date


@pytest.fixture(scope="module")
def stats_dir(shared_data):
    return shared_data / "mynumbercard_statistics"


@pytest.fixture(scope="module")
def national(stats_dir):
    return load_national(stats_dir)


def test_restore_code6_puts_back_the_leading_zero():
    assert restore_code6(11002) == "011002"  # 札幌市
    assert restore_code6("131121") == "131121"  # 世田谷区
    assert code6(13112) == "131121" and check_digit("01100") == 2
    for bad in ("11003", "1100", "abc", "1311211"):
        with pytest.raises(DataError):
            restore_code6(bad)


@pytest.mark.realdata
def test_every_snapshot_loads_once_per_date(national, stats_dir):
    dated = [p for p in snapshot_files(stats_dir) if p.parent.name.isdigit()]
    assert len(dated) == 46
    assert national.select(pl.struct("date", "code6").is_unique().all()).item()
    per_date = national.group_by("date").len()
    assert per_date["len"].unique().to_list() == [1741]
    # latest/ is the 2022-04-01 snapshot, missing from the dated folders: it is kept
    # under its own reference date, once, and never taken for the newest data
    assert national["date"].n_unique() == 47
    assert national["date"].max() == D(2022, 12, 31)
    assert D(2022, 4, 1) in per_date["date"].to_list()


@pytest.mark.realdata
def test_sapporo_keeps_its_leading_zero(national):
    sapporo = national.filter(pl.col("municipality") == "札幌市")
    assert sapporo["code6"].unique().to_list() == ["011002"]
    assert sapporo.height == 47


@pytest.mark.realdata
def test_island_villages_that_lost_their_code_get_it_back(national, stats_dir):
    raw = read_snapshot(stats_dir / "static/data/20210801/all_localgovs.csv")
    lost = raw.filter(pl.col("code6").is_null())["municipality"].sort().to_list()
    assert lost == ["三宅村", "八丈町"]
    filled = national.filter(pl.col("municipality").is_in(["三宅村", "八丈町"]))
    assert set(filled["code6"]) == {"133817", "134015"}


@pytest.mark.realdata
def test_published_rates_recompute(national):
    diff = national.select(
        ((pl.col("cards") / pl.col("population") * 100) - pl.col("rate")).abs().max()
    ).item()
    assert diff <= 0.0501


@pytest.mark.realdata
def test_setagaya_against_tokyo_prefecture_and_country(national):
    series = ratio_over_time(national, "131121")
    assert series.height == 47
    row = series.filter(pl.col("date") == D(2021, 4, 1)).row(0, named=True)
    assert row["ward"] == 32.4  # 297,403 / 917,486 in 20210401/all_localgovs.csv
    assert row["municipalities"] == 1741 and 1 <= row["rank_in_23_wards"] <= 23
    assert row["tokyo_23_wards"] > row["country"]
    assert series["rank"].min() >= 1 and series["rank"].max() <= 1741
    with pytest.raises(DataError):
        ratio_over_time(national, "131122")  # wrong check digit


@pytest.mark.realdata
def test_stale_latest_duplicate_is_skipped(tmp_path, stats_dir):
    src = stats_dir / "static/data/20220301/all_localgovs.csv"
    for folder in ("20220301", "latest"):
        (tmp_path / folder).mkdir()
        shutil.copy(src, tmp_path / folder / "all_localgovs.csv")
    # without citycode.csv beside them, the island villages that lost their code
    # in 2021-08 get it from the code table that ships with kumin
    loaded = load_national(tmp_path)
    islands = loaded.filter(pl.col("municipality").is_in(["三宅村", "八丈町"]))
    assert sorted(islands["code6"]) == ["133817", "134015"]
    shutil.copy(stats_dir / "citycode.csv", tmp_path / "citycode.csv")
    loaded = load_national(tmp_path)
    assert loaded["date"].unique().to_list() == [D(2022, 3, 1)] and loaded.height == 1741
    assert loaded["code6"].null_count() == 0


@pytest.mark.parametrize("name", ["all_localgovs.csv", "all_localgovs.xlsx"])
def test_html_disguised_as_a_table_is_rejected(tmp_path, name):
    page = tmp_path / name
    page.write_bytes("<!DOCTYPE html><html><body>404 見つかりません</body></html>".encode("cp932"))
    with pytest.raises(DataError) as info:
        read_snapshot(page)
    assert info.value.key == "cards.national.html"


def test_a_bad_row_is_reported_with_its_line(tmp_path):
    path = tmp_path / "all_localgovs.csv"
    path.write_text(
        '\ufeff"算出基準日","都道府県名","市区町村名","総数（人口）","交付枚数",'
        '"人口に対する交付枚数率","人口算出基準日","交付件数基準日","団体コード"\n'
        '"2022/03/01","北海道","札幌市",100,10,10.0,"2021/01/01","2022/03/01",11002\n'
        '"2022/03/01","北海道","函館市",100,x,10.0,"2021/01/01","2022/03/01",12025\n'
        '"2022/03/01","北海道","小樽市",100,10,10.0,"2021/01/01","2022/03/01",12034\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as info:
        read_snapshot(path)
    assert [(p.line, p.column, p.key) for p in info.value.problems] == [
        (3, "交付枚数", "core.cell.not_integer"),  # the column as the file names it
        (4, "団体コード", "cards.national.bad_check_digit"),
    ]


@pytest.mark.realdata
@pytest.mark.parametrize("folder", ["20170308", "20210801", "20221231"])
def test_municipal_sums_equal_the_national_summary(national, stats_dir, folder):
    from kumin.core.tabular import read_table

    table = read_table(stats_dir / "static/data" / folder / "summary_by_types.csv")
    country = next(row for _, row in table.rows if row["区分"] == "全国")
    day = dt.datetime.strptime(country["算出基準日"], "%Y/%m/%d").date()
    snap = national.filter(pl.col("date") == day)
    assert snap["population"].sum() == int(country["人口"])
    assert snap["cards"].sum() == int(country["交付枚数"])


def test_five_digit_codes_without_check_digit_are_accepted():
    assert restore_code6("13112") == "131121"  # 世田谷区, 5 digits without check digit
    assert restore_code6(11002) == "011002"  # 札幌市, 6 digits that lost the zero
    assert restore_code6("１３１１２") == "131121"  # full-width digits
    assert restore_code6("13101") == "131016"  # 千代田区


def _write(path, text):
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_the_ministrys_later_wording_and_a_file_without_codes(tmp_path):
    """The 2024- tables say 保有枚数, put the population's date in the header and
    carry no 団体コード: the columns map through national_columns.toml and the
    codes come from the shipped code table."""
    _write(
        tmp_path / "all_localgovs.csv",
        "算出基準日,都道府県名,市区町村名,人口(R7.1.1),保有枚数,人口に対する保有枚数率,人口算出基準日\n"
        '2025/08/31,東京都,世田谷区,"920,000",690000,75.0,2025/01/01\n'
        "2025/08/31,東京都,三宅村,2300,1700,73.9,2025/01/01\n"
        "2025/08/31,北海道,札幌市,1950000,1500000,76.9,2025/01/01\n",
    )
    frame = load_national(tmp_path)
    assert dict(zip(frame["municipality"], frame["code6"], strict=True)) == {
        "世田谷区": "131121",
        "三宅村": "133817",
        "札幌市": "011002",
    }
    assert frame["population_date"].unique().to_list() == [D(2025, 1, 1)]
    assert frame.filter(pl.col("code6") == "131121")["population"].item() == 920_000


def test_an_unknown_header_of_a_required_column_is_named(tmp_path):
    _write(
        tmp_path / "all_localgovs.csv",
        "算出基準日,都道府県名,市区町村名,人口,謎の枚数\n2025/08/31,東京都,世田谷区,1,1\n",
    )
    with pytest.raises(DataError) as info:
        load_national(tmp_path)
    assert [(p.line, p.column) for p in info.value.problems] == [(1, "交付枚数")]


def test_percentile_beside_rank_and_no_rank_in_23_wards_outside_them(tmp_path):
    rows = [("東京都", "世田谷区", 100, 50), ("東京都", "千代田区", 100, 60)]
    rows += [("北海道", "札幌市", 100, 40), ("北海道", "函館市", 100, 30)]
    body = "".join(f"2022/03/01,{p},{m},{n},{c},{c / n * 100:.1f}\n" for p, m, n, c in rows)
    _write(
        tmp_path / "all_localgovs.csv",
        "算出基準日,都道府県名,市区町村名,総数（人口）,交付枚数,人口に対する交付枚数率\n" + body,
    )
    national = load_national(tmp_path)
    setagaya = ratio_over_time(national, "131121").row(0, named=True)
    assert (setagaya["rank"], setagaya["percentile"], setagaya["rank_in_23_wards"]) == (
        2,
        66.7,
        2,
    )
    sapporo = ratio_over_time(national, "011002").row(0, named=True)
    assert sapporo["rank_in_23_wards"] is None and sapporo["percentile"] == 33.3
