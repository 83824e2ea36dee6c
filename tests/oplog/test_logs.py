"""Reading operation logs: encodings, .xlsx, line numbers, all-or-nothing errors."""

from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl
import pytest

from kumin.errors import DataError
from kumin.oplog.logs import EVENT_SCHEMA, read_log, read_logs, write_log_csv

HEADER = "timestamp,terminal_id,operator_id,action,subject,function\n"
GOOD = (
    "2021-06-01 09:00:00,T0101,U1,login,,\n"
    "2021-06-01 09:01:10,T0101,U1,view,R1,住民票の写し等交付\n"
    "2021-06-01 09:03:00,T0101,U1,logout,,\n"
)


def write(tmp_path, text, name="log.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_reads_each_encoding_with_file_and_line(tmp_path, encoding):
    df = read_log(write(tmp_path, HEADER + GOOD, encoding=encoding))
    assert df.schema == pl.Schema(EVENT_SCHEMA)
    assert df["line"].to_list() == [2, 3, 4]
    assert df["file"].cast(pl.String).to_list() == ["log.csv"] * 3
    assert df.row(1)[:6] == (
        dt.datetime(2021, 6, 1, 9, 1, 10),
        "T0101",
        "U1",
        "view",
        "R1",
        "住民票の写し等交付",
    )
    assert df["subject"].to_list()[0] == ""


def test_blank_lines_and_column_order_keep_true_line_numbers(tmp_path):
    text = (
        "function,subject,action,operator_id,terminal_id,timestamp,extra\n"
        "住民税,R1,view,U8,T0801,2021/06/01 10:00:00,x\n\n"
        "住民税,R2,view,U8,T0801,2021/06/01 10:01:00,y\n"
    )
    df = read_log(write(tmp_path, text))
    assert df["line"].to_list() == [2, 4]
    assert df["subject"].to_list() == ["R1", "R2"]
    assert df["ts"][1] == dt.datetime(2021, 6, 1, 10, 1)


def test_a_quoted_line_break_does_not_shift_later_lines(tmp_path):
    text = (
        HEADER
        + '2021-06-01 09:00:00,T0101,U1,view,R1,"two\nlines"\n2021-06-01 09:01:00,T0101,U1,view,R2,x\n'
    )
    df = read_log(write(tmp_path, text))
    # kumin.core.tabular numbers a multi-line record by its last line
    assert df["line"].to_list()[-1] == 4 and df["function"][0] == "two\nlines"


def test_spaces_around_values_are_stripped(tmp_path):
    df = read_log(write(tmp_path, HEADER + "2021-06-01 09:00:00, T0101 ,U1 ,view, R1 ,f\n"))
    assert df.row(0)[1:5] == ("T0101", "U1", "view", "R1")


def test_every_bad_line_is_named_and_nothing_is_read(tmp_path):
    text = (
        HEADER
        + GOOD
        + (
            "2021-13-01 09:00:00,T0101,U1,view,R1,f\n"  # line 5: no 13th month
            "2021-06-01 09:00:00,,U1,view,R1,f\n"  # line 6: no terminal
            "yesterday,T0101,,view,R1,f\n"  # line 7: both
        )
    )
    with pytest.raises(DataError) as err:
        read_log(write(tmp_path, text))
    got = [(p.line, p.column, p.key) for p in err.value.problems]
    assert got == [
        (5, "timestamp", "oplog.import.bad_timestamp"),
        (6, "terminal_id", "oplog.import.missing_value"),
        (7, "timestamp", "oplog.import.bad_timestamp"),
        (7, "operator_id", "oplog.import.missing_value"),
    ]
    text_ja = err.value.render("ja")
    assert "5 行目" in text_ja or "line 5" in err.value.render("en")
    assert "yesterday" in err.value.render("en")


def test_ragged_rows_are_named_by_line(tmp_path):
    text = HEADER + GOOD + "2021-06-01 10:00:00,T0101,U1,view,R1,f,extra\n"
    with pytest.raises(DataError) as err:
        read_log(write(tmp_path, text))
    assert [(p.line, p.key) for p in err.value.problems] == [(5, "core.tabular.bad_width")]


def test_missing_required_column_is_named(tmp_path):
    with pytest.raises(DataError) as err:
        read_log(write(tmp_path, "timestamp,terminal_id,action\n2021-06-01 09:00:00,T1,view\n"))
    assert [(p.line, p.column) for p in err.value.problems] == [(1, "operator_id")]


def test_reads_xlsx_with_date_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([dt.datetime(2021, 6, 1, 9, 30), "T0101", "U1", "view", "R1", "住民票"])
    sheet.append([None] * 6)
    sheet.append(["2021-06-01 09:31:00", "T0101", "U1", "print", "R1", "住民票"])
    path = tmp_path / "log.xlsx"
    book.save(path)
    df = read_log(path)
    assert df["line"].to_list() == [2, 4]
    assert df["ts"].to_list() == [dt.datetime(2021, 6, 1, 9, 30), dt.datetime(2021, 6, 1, 9, 31)]


def test_read_logs_combines_files_and_names_the_file_of_each_problem(tmp_path):
    a = write(tmp_path, HEADER + GOOD, "a.csv")
    b = write(tmp_path, HEADER + GOOD, "b.csv", "cp932")
    df = read_logs([a, b])
    assert df.height == 6 and set(df["file"].cast(pl.String)) == {"a.csv", "b.csv"}
    bad = write(tmp_path, HEADER + "nope,T1,U1,view,R1,f\n", "c.csv")
    with pytest.raises(DataError) as err:
        read_logs([a, bad])
    assert [(p.line, p.params["file"]) for p in err.value.problems] == [(2, "c.csv")]


def test_write_log_csv_round_trips(tmp_path):
    df = read_log(write(tmp_path, HEADER + GOOD))
    out = tmp_path / "out.csv"
    write_log_csv(df, out)
    again = read_log(out, name="log.csv")
    assert again.equals(df)
