"""Imports: all or nothing, every problem named by its line, UTF-8/CP932/xlsx,
idempotent, and the stable command line."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func, select
from tests.conftest import make_users
from tests.juki._helpers import (
    DEPARTMENT_HEADER,
    DEPARTMENTS,
    TERMINAL_HEADER,
    TERMINALS,
    acting,
    approve_fy2021,
    small_ward,
    write_csv,
)

from kumin.errors import DataError
from kumin.juki import service
from kumin.juki.models import JukiDepartment, JukiTerminal, Reservation


def _count(settings, model) -> int:
    with acting(settings, "records_officer") as ctx:
        return ctx.session.scalar(select(func.count()).select_from(model))


def test_departments_all_or_nothing_with_line_numbers(fresh_db, tmp_path):
    bad = write_csv(
        tmp_path / "d.csv",
        DEPARTMENT_HEADER,
        [
            ["D01", "住民記録・戸籍課", "08:30", "17:15", "no"],
            ["D02", "番号制度担当課", "8時", "17:15", "no"],
            ["D03", "区民課", "08:30", "07:00", "no"],
            ["D01", "重複", "08:30", "17:15", "no"],
            ["D04", "", "08:30", "17:15", "maybe"],
        ],
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "records_officer") as ctx:
        service.import_departments(ctx, bad)
    found = {(p.line, p.column, p.key) for p in err.value.problems}
    assert found == {
        (3, "open", "core.cell.bad_time"),
        (4, "close", "juki.import.close_before_open"),
        (5, "department", "juki.import.duplicate"),
        (6, "name", "core.cell.required"),
        (6, "weekend_open", "core.cell.bad_bool"),
    }
    assert "line 3" in err.value.render("en") and "3行目" in err.value.render("ja")
    assert _count(fresh_db, JukiDepartment) == 0


def test_cp932_and_xlsx_and_reimport_is_harmless(fresh_db, tmp_path):
    cp932 = write_csv(tmp_path / "d.csv", DEPARTMENT_HEADER, DEPARTMENTS, encoding="cp932")
    with acting(fresh_db, "records_officer") as ctx:
        first = service.import_departments(ctx, cp932)
    assert (first.inserted, first.updated) == (3, 0)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(TERMINAL_HEADER)
    for row in TERMINALS:
        sheet.append(row)
    book.save(tmp_path / "t.xlsx")
    with acting(fresh_db, "records_officer") as ctx:
        assert service.import_terminals(ctx, tmp_path / "t.xlsx").inserted == 4
        again = service.import_departments(ctx, cp932)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
        names = {d["department"]: d["name"] for d in service.list_departments(ctx)}
    assert names["D08"] == "課税課"
    shared = [t for t in TERMINALS if t[3] == "yes"]
    with acting(fresh_db, "auditor") as ctx:
        got = [t for t in service.list_terminals(ctx) if t["reservation_required"]]
    assert [t["terminal_id"] for t in got] == [s[0] for s in shared]


def test_terminals_need_known_departments(fresh_db, tmp_path):
    with acting(fresh_db, "records_officer") as ctx:
        service.import_departments(
            ctx, write_csv(tmp_path / "d.csv", DEPARTMENT_HEADER, DEPARTMENTS)
        )
    bad = write_csv(
        tmp_path / "t.csv",
        [*TERMINAL_HEADER, "state"],
        [
            ["T1", "D01", "x", "no", ""],
            ["T2", "D99", "x", "no", ""],
            ["T3", "D01", "x", "no", "lost"],
        ],
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "records_officer") as ctx:
        service.import_terminals(ctx, bad)
    assert [(p.line, p.key) for p in err.value.problems] == [
        (3, "juki.import.unknown_department"),
        (4, "core.cell.unknown_code"),
    ]
    unknown = err.value.problems[1]
    assert (unknown.column, unknown.params["value"]) == ("state", "lost")
    message = unknown.render("ja")
    assert "4行目" in message and "lost" in message and "[values.state]" in message
    assert "kumin profiles show terminals" in unknown.render("en")
    assert _count(fresh_db, JukiTerminal) == 0


def test_terminals_read_japanese_headers_and_states_through_the_profile(fresh_db, tmp_path):
    with acting(fresh_db, "records_officer") as ctx:
        service.import_departments(
            ctx, write_csv(tmp_path / "d.csv", DEPARTMENT_HEADER, DEPARTMENTS)
        )
    path = write_csv(
        tmp_path / "t.csv",
        ["端末ID", "所属コード", "設置場所", "予約制", "状態"],
        [["T1", "D01", "窓口", "いいえ", "稼働中"], ["T2", "D01", "倉庫", "はい", "廃止"]],
        encoding="cp932",
    )
    with acting(fresh_db, "records_officer") as ctx:
        assert service.import_terminals(ctx, path).inserted == 2
        states = {t["terminal_id"]: t["state"] for t in service.list_terminals(ctx)}
    assert states == {"T1": "in_service", "T2": "retired"}


def test_reservations_refuse_unshared_terminals_and_warn_on_double_booking(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    header = ["department", "terminal_id", "start", "end"]
    bad = write_csv(
        tmp_path / "r.csv",
        header,
        [
            ["D08", "S01", "2021-06-01 09:00", "2021-06-01 10:00"],
            ["D08", "T0801", "2021-06-01 09:00", "2021-06-01 10:00"],
            ["D12", "S01", "2021-06-01 10:00", "2021-06-01 09:00"],
            ["D12", "S01", "2021/06/01 9:30", "2021-06-02"],
        ],
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "records_officer") as ctx:
        service.import_reservations(ctx, bad)
    assert [(p.line, p.column, p.key) for p in err.value.problems] == [
        (3, "terminal_id", "juki.import.not_shared"),
        (4, "start", "juki.import.end_before_start"),
        (5, "end", "core.cell.bad_datetime"),
    ]
    assert _count(fresh_db, Reservation) == 0
    good = write_csv(
        tmp_path / "r2.csv",
        header,
        [
            ["D08", "S01", "2021-06-01 09:00", "2021-06-01 10:00"],
            ["D12", "S01", "2021-06-01 09:30", "2021-06-01 10:30"],
        ],
    )
    with acting(fresh_db, "records_officer") as ctx:
        result = service.import_reservations(ctx, good)
    assert result.inserted == 2
    assert [(w.line, w.key) for w in result.warnings] == [(3, "juki.import.overlap_in_file")]
    with acting(fresh_db, "records_officer") as ctx:
        assert service.import_reservations(ctx, good).unchanged == 2


def test_stable_command_line(fresh_db, tmp_path, cli):
    users = make_users(fresh_db)
    officer = users.by_role["records_officer"]
    d = write_csv(tmp_path / "d.csv", DEPARTMENT_HEADER, DEPARTMENTS, encoding="cp932")
    t = write_csv(tmp_path / "t.csv", TERMINAL_HEADER, TERMINALS)
    ledger = write_csv(
        tmp_path / "l.csv", ["operator_id", "name", "role"], [["U1", "山田 太郎", "操作者"]]
    )
    apps = write_csv(
        tmp_path / "a.csv",
        ["department", "function", "valid_from", "valid_to"],
        [["D08", "住民税", "2021-04-01", "2022-03-31"]],
    )
    res = write_csv(
        tmp_path / "r.csv",
        ["department", "terminal_id", "start", "end"],
        [["D08", "S01", "2021-06-01 09:00", "2021-06-01 10:00"]],
    )
    watch = write_csv(tmp_path / "w.csv", ["subject", "reason"], [["R0000042", "公人"]])
    for args in (
        ("juki", "departments", "import", str(d)),
        ("juki", "terminals", "import", str(t)),
        (
            "juki",
            "ledger",
            "import",
            "--department",
            "D08",
            "--effective",
            "2021-04-01",
            str(ledger),
        ),
        ("juki", "applications", "import", str(apps)),
        ("juki", "reservations", "import", str(res)),
        ("juki", "watchlist", "import", str(watch)),
    ):
        r = cli(*args, user=officer)
        assert r.exit_code == 0, r.output
    r = cli(
        "juki",
        "ledger",
        "show",
        "--department",
        "D08",
        "--on",
        "2021-05-01",
        "--format",
        "json",
        user=officer,
    )
    assert r.exit_code == 0 and '"U1"' in r.stdout and "山田" not in r.stdout
    r = cli("juki", "departments", "import", str(tmp_path / "missing.csv"), user=officer)
    assert r.exit_code == 1
    bad = write_csv(tmp_path / "bad.csv", TERMINAL_HEADER, [["T9", "D77", "x", "no"]])
    r = cli("juki", "terminals", "import", str(bad), user=officer)
    assert r.exit_code == 1 and "line 2" in r.stderr and "D77" in r.stderr
