"""Reading and validating notification files: all-or-nothing, every problem named."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kumin.cases.parse import (
    CaseRecord,
    check_case_file,
    iter_case_chunks,
    parse_cases,
    records_frame,
)
from kumin.errors import DataError, ParameterError

TODAY = dt.date(2022, 8, 26)


def test_cp932_hersys_with_era_dates(hersys_csv: Path) -> None:
    result = parse_cases(hersys_csv, "hersys", today=TODAY)
    assert result.encoding == "cp932"
    assert result.rows == 6 and len(result.records) == 6
    assert result.warnings == []
    first = result.records[0]
    assert first == CaseRecord(
        hersys_id="1001",
        birth_date=dt.date(1970, 3, 2),
        age_band="50-59",
        sex="male",
        nationality="日本",
        residence="東京都世田谷区",
        address="太子堂二丁目3番4号",
        town="太子堂",
        onset_date=dt.date(2021, 8, 1),
        first_visit_date=dt.date(2021, 8, 2),
        specimen_date=dt.date(2021, 8, 3),
        result_date=dt.date(2021, 8, 4),
        symptoms="発熱、咳",
        asymptomatic=False,
        vaccine_doses=2,
        care_setting="home",
        age_years=51,
    )
    assert first.line == 2
    by_id = {r.hersys_id: r for r in result.records}
    assert by_id["1002"].asymptomatic is True and by_id["1002"].onset_date is None
    assert by_id["1002"].age_years == 26  # at the result date, onset being unknown
    assert by_id["1003"].birth_date == dt.date(2019, 4, 1)
    assert by_id["1003"].town == "成城" and by_id["1003"].address == "成城6丁目10番地"
    assert by_id["1004"].birth_date == dt.date(1919, 5, 6)
    assert by_id["1004"].vaccine_doses is None and by_id["1004"].care_setting == "hospital"
    assert by_id["1005"].birth_date == dt.date(2019, 5, 1) and by_id["1005"].sex == "male"
    assert by_id["1006"].care_setting == "facility" and by_id["1006"].town == "砧公園"


def test_same_file_in_utf8_with_bom(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    path = make_hersys_csv("bom.csv", hersys_rows, "utf-8-sig")
    result = parse_cases(path, today=TODAY)
    assert result.encoding == "utf-8-sig" and len(result.records) == 6


def test_three_bad_rows_are_all_named(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    rows = list(hersys_rows)
    rows.insert(1, rows[0].replace("1001,", "2001,").replace("R3.8.2", "令和3年2月30日"))
    rows.insert(3, rows[0].replace("1001,", "2002,").replace(",自宅", ",病院"))
    rows.append(rows[0].replace("1001,", ","))
    path = make_hersys_csv("bad.csv", rows)
    with pytest.raises(DataError) as info:
        parse_cases(path, today=TODAY)
    err = info.value
    assert err.key == "cases.import.rejected"
    assert [(p.line, p.column, p.key) for p in err.problems] == [
        (3, "初診年月日", "core.cell.impossible"),
        (5, "療養先", "cases.code.unknown"),
        (10, "HER-SYS ID", "cases.record.missing_id"),
    ]
    assert err.params["count"] == 3 and err.params["rows"] == 9
    ja, en = err.render("ja"), err.render("en")
    for line in (3, 5, 10):
        assert f"{line}行目" in ja and f"line {line}" in en
    assert "何も取り込んでいません" in ja and "nothing was imported" in en
    assert "病院" in en


@pytest.mark.parametrize(
    ("old", "new", "column", "key"),
    [
        ("R3.8.2", "そのうち", "初診年月日", "core.cell.unparseable"),
        ("R3.8.2", "令和0年8月2日", "初診年月日", "core.cell.era_year_zero"),
        ("R3.8.2", "平成33年8月2日", "初診年月日", "core.cell.outside_era"),
        ("昭和45年3月2日", "令和5年3月2日", "生年月日", "cases.record.birth_in_future"),
        ("昭和45年3月2日", "令和3年8月2日", "発病年月日", "cases.record.before_birth"),
        ("R3.8.2", "R4.9.1", "初診年月日", "cases.date.date_in_future"),
        ("男性", "男の子", "性別", "cases.code.unknown"),
        ("50代", "50歳", "年代", "cases.code.unknown"),
        ("2回", "4回", "ワクチン接種歴", "cases.code.unknown"),
    ],
)
def test_each_error(
    old: str,
    new: str,
    column: str,
    key: str,
    hersys_rows: list[str],
    make_hersys_csv: Callable[..., Path],
) -> None:
    path = make_hersys_csv("e.csv", [hersys_rows[0].replace(old, new, 1)])
    with pytest.raises(DataError) as info:
        parse_cases(path, today=TODAY)
    problems = info.value.problems
    key = key.replace("cases.date.date_in_future", "cases.record.date_in_future")
    assert (problems[0].line, problems[0].column, problems[0].key) == (2, column, key)


def test_personal_values_stay_out_of_messages(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    path = make_hersys_csv("p.csv", [hersys_rows[0].replace("昭和45年3月2日", "S45.2.30")])
    with pytest.raises(DataError) as info:
        parse_cases(path, today=TODAY)
    assert "S45.2.30" not in info.value.render("en")
    assert info.value.problems[0].column == "生年月日"


def test_duplicates(hersys_rows: list[str], make_hersys_csv: Callable[..., Path]) -> None:
    same = make_hersys_csv("same.csv", [*hersys_rows, " " + hersys_rows[0]])
    result = parse_cases(same, today=TODAY)
    assert len(result.records) == 6 and result.rows == 7
    assert [(w.line, w.key, w.params) for w in result.warnings] == [
        (8, "cases.warning.duplicate_collapsed", {"first_line": 2})
    ]
    changed = hersys_rows[0].replace(",自宅", ",入院")
    differ = make_hersys_csv("differ.csv", [*hersys_rows, changed, hersys_rows[0]])
    with pytest.raises(DataError) as info:
        parse_cases(differ, today=TODAY)
    assert [(p.line, p.key, p.params) for p in info.value.problems] == [
        (8, "cases.record.duplicate_id", {"first_line": 2})
    ]


def test_warnings_are_kept(hersys_rows: list[str], make_hersys_csv: Callable[..., Path]) -> None:
    rows = [
        hersys_rows[0].replace("令和3年8月1日", "令和3年6月20日"),  # onset 45 days before result
        hersys_rows[1].replace("2021/8/5,2021/8/6", "2021/8/7,2021/8/6"),  # specimen after result
        hersys_rows[3].replace("100歳以上", "80代"),  # band vs birth date
        hersys_rows[5],
    ]
    result = parse_cases(make_hersys_csv("w.csv", rows), today=TODAY)
    assert len(result.records) == 4
    got = [(w.line, w.column, w.key, w.severity) for w in result.warnings]
    assert got == [
        (2, "発病年月日", "cases.warning.onset_long_before_result", "warning"),
        (3, "検体採取日", "cases.warning.specimen_after_result", "warning"),
        (4, "年代", "cases.warning.age_band_mismatch", "warning"),
    ]
    assert result.warnings[0].params == {"days": 45}
    assert "45" in result.warnings[0].render("ja")
    assert result.records[2].age_band == "80-89"  # the given band is kept


def test_band_at_result_date_is_no_mismatch(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    # 19 at onset, 20 by the result: HER-SYS may write either band.
    row = hersys_rows[0].replace("昭和45年3月2日", "2001-08-03").replace("50代", "20代")
    result = parse_cases(make_hersys_csv("b.csv", [row]), today=TODAY)
    assert result.warnings == [] and result.records[0].age_years == 19


def test_width_and_missing_columns(
    tmp_path: Path, hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    path = make_hersys_csv("w.csv", [hersys_rows[0], "1,2,3"])
    with pytest.raises(DataError) as info:
        parse_cases(path, today=TODAY)
    assert info.value.problems[0].key == "core.tabular.bad_width"
    path = tmp_path / "cols.csv"
    path.write_text("HER-SYS ID,生年月日\n1,2000-01-01\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        parse_cases(path)
    assert info.value.key == "core.tabular.missing_columns"
    assert len(info.value.problems) == 12


def test_header_spelling_is_forgiving(
    tmp_path: Path, hersys_rows: list[str], hersys_header: str
) -> None:
    path = tmp_path / "h.csv"
    header = hersys_header.replace("HER-SYS ID", "ＨＥＲ－ＳＹＳ ＩＤ").replace("（", "(")
    header = header.replace("）", ")")
    path.write_text(header + "\n" + hersys_rows[0] + "\n", encoding="utf-8")
    assert parse_cases(path, today=TODAY).records[0].town == "太子堂"


def test_xlsx_with_datetimes_and_serials(tmp_path: Path, hersys_header: str) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(hersys_header.split(","))
    sheet.append([
        1001, dt.datetime(1970, 3, 2), "50代", "男性", "日本", "東京都世田谷区", "太子堂2-3-4",
        dt.datetime(2021, 8, 1), 44410, "R03/08/03", "令和3年8月4日", "発熱", 2, "自宅",
    ])  # fmt: skip
    path = tmp_path / "export.xlsx"
    book.save(path)
    record = parse_cases(path, today=TODAY).records[0]
    assert record.hersys_id == "1001" and record.birth_date == dt.date(1970, 3, 2)
    assert record.first_visit_date == dt.date(2021, 8, 2) and record.vaccine_doses == 2


def test_chunked_two_pass_api(hersys_rows: list[str], make_hersys_csv: Callable[..., Path]) -> None:
    rows = [*hersys_rows, hersys_rows[2]]  # one identical duplicate to skip
    path = make_hersys_csv("c.csv", rows)
    seen: list[int] = []
    check = check_case_file(path, "hersys", today=TODAY, on_progress=seen.append)
    assert check.rows == 7 and check.records == 6 and seen[-1] == 7
    chunks = list(iter_case_chunks(check, chunk_size=4))
    assert [len(c) for c in chunks] == [4, 2]
    assert [r for c in chunks for r in c] == parse_cases(path, today=TODAY).records
    with pytest.raises(ParameterError):
        next(iter_case_chunks(check, chunk_size=0))


def test_chunked_api_notices_a_changed_file(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    path = make_hersys_csv("c.csv", hersys_rows)
    check = check_case_file(path, today=TODAY)
    make_hersys_csv(path.name, hersys_rows[:3])
    os.utime(path, ns=(1, 1))
    with pytest.raises(DataError) as info:
        next(iter_case_chunks(check))
    assert info.value.key == "cases.import.file_changed"


def test_check_rejects_like_parse(
    hersys_rows: list[str], make_hersys_csv: Callable[..., Path]
) -> None:
    path = make_hersys_csv("bad.csv", [hersys_rows[0].replace(",自宅", ",病院")])
    with pytest.raises(DataError) as info:
        check_case_file(path, today=TODAY)
    assert info.value.problems[0].key == "cases.code.unknown"


def test_kumin_profile_and_frame(tmp_path: Path, hersys_csv: Path) -> None:
    from kumin.synth.cases import write_cases_csv

    records = parse_cases(hersys_csv, today=TODAY).records
    out = write_cases_csv(records, tmp_path / "k.csv", "kumin", dirty=False)
    header = out.read_text("utf-8-sig").splitlines()[0]
    assert header.startswith("hersys_id,birth_date,age_band,sex")
    assert parse_cases(out, "kumin", today=TODAY).records == records
    frame = records_frame(records)
    assert frame.height == 6 and frame.get_column("town").to_list()[0] == "太子堂"
    assert str(frame.schema["onset_date"]) == "Date"


@pytest.mark.realdata
def test_nishiura_line_list_whole(shared_data: Path) -> None:
    path = shared_data / "nishiura_japan_reff" / "JapaneseDataCOVID19_200510.csv"
    result = parse_cases(path, "nishiura", today=TODAY)
    records = result.records
    assert len(records) == 15_404 and result.rows == 15_404
    assert len({r.hersys_id for r in records}) == 15_404
    assert records[0].hersys_id == "NISHIURA-000002" and records[-1].hersys_id == "NISHIURA-015405"
    assert sum(r.onset_date is not None for r in records) == 12_488
    assert sum(r.imported is True for r in records) == 342
    assert sum(r.imported is False for r in records) == 15_062
    assert sum(r.asymptomatic is True for r in records) == 874
    assert sum(r.asymptomatic is None for r in records) == 578
    assert all(r.onset_date or r.result_date or r.report_date for r in records)
