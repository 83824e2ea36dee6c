"""The one import pipeline: profile schema and discovery, header and value
mapping, the cell parsers, typed tables, the row loop, the result, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kumin.core import cells
from kumin.core.imports import (
    Column,
    ImportResult,
    Profile,
    check_rows,
    list_profiles,
    load_profile,
    parse_cells,
    read_frame,
)
from kumin.core.tabular import read_table
from kumin.errors import DataError, NotFound, Problem

WARD = """domain = "resources"
kind = "calls"
name = "ward_calls"
title_ja = "区の様式"
missing = ["未集計"]
key = ["date"]

[columns]
date = { headers = ["受付日"], type = "date" }
calls = { headers = ["受電"], type = "int", min = 0, required = false }
line = { headers = ["回線"], type = "code" }

[values.line]
fever = ["発熱", "発熱相談"]
vaccine = ["ワクチン"]
"""


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_every_domain_ships_profiles_in_the_one_schema() -> None:
    found = {(p.domain, p.name) for p in list_profiles()}
    assert {
        ("cases", "hersys"),
        ("cases", "nishiura"),
        ("oplog", "kumin"),
        ("oplog", "vendor_codes"),
        ("resources", "call_centre_daily"),
        ("resources", "monthly_service_counts"),
        ("cards", "cards_history"),
        ("cards", "mic_national"),
        ("juki", "terminals"),
        ("juki", "departments"),
    } <= found
    assert all(p.builtin and p.title("ja") and p.title("en") for p in list_profiles())


def test_user_profiles_come_from_kumin_profile_dir_by_name_only(tmp_path, monkeypatch) -> None:
    (tmp_path / "ward_calls.toml").write_text(WARD, encoding="utf-8")
    with pytest.raises(NotFound):
        load_profile("resources", "ward_calls")
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path))
    profile = load_profile("resources", "ward_calls", kind="calls")
    assert not profile.builtin and profile.key == ("date",)
    assert (
        profile.code("line", " 発熱相談 ") == "fever"
        and profile.code("line", "VACCINE") == "vaccine"
    )
    with pytest.raises(NotFound):
        load_profile("cases", "ward_calls")  # another domain's profile
    for bad in ("../ward_calls", str(tmp_path / "ward_calls.toml"), ""):
        with pytest.raises(NotFound):
            load_profile("resources", bad)


def test_a_malformed_profile_lists_every_mistake(tmp_path) -> None:
    (tmp_path / "bad.toml").write_text(
        'domain = "oplog"\nencoding = "latin-1"\nmissing = "NA"\n'
        '[columns]\ntimestamp = 3\nshoe = ["x"]\n'
        '[values.action]\nview = ["x"]\nprint = ["x"]\npeek = []\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_profile(
            "oplog", "bad", [tmp_path], fields=("timestamp",), codes={"action": ("view", "print")}
        )
    keys = sorted((p.column, p.key) for p in err.value.problems)
    assert keys == [
        ("encoding", "core.profile.bad_encoding"),
        ("missing", "core.profile.bad_list"),
        ("shoe", "core.profile.unknown_field"),
        ("timestamp", "core.profile.bad_column"),
        ("values.action.peek", "core.profile.unknown_code"),
        ("values.action.print", "core.profile.ambiguous"),
    ]


def test_typed_table_maps_headers_values_and_reports_every_problem(tmp_path, monkeypatch) -> None:
    (tmp_path / "ward_calls.toml").write_text(WARD, encoding="utf-8")
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path))
    profile = load_profile("resources", "ward_calls")
    good = _csv(
        tmp_path / "ok.csv",
        '受付日,受電,回線\n令和3年4月1日,"1,204",発熱\nR3.4.2,未集計,ワクチン\n',
        "cp932",
    )
    frame, lines = read_frame(read_table(good), profile)
    assert lines == [2, 3]
    assert frame.to_dicts() == [
        {"date": dt.date(2021, 4, 1), "calls": 1204, "line": "fever"},
        {"date": dt.date(2021, 4, 2), "calls": None, "line": "vaccine"},
    ]
    bad = _csv(
        tmp_path / "bad.csv",
        "受付日,受電,回線\n2021-04-01,-3,発熱\n2021-02-30,5,救急\n2021-04-01,5,発熱\n",
    )
    with pytest.raises(DataError) as err:
        read_frame(read_table(bad), profile)
    got = [(p.line, p.column, p.key) for p in err.value.problems]
    assert got == [
        (2, "calls", "core.cell.below"),
        (3, "date", "core.cell.impossible"),
        (3, "line", "core.cell.unknown_code"),
        (4, "date", "core.import.duplicate"),
    ]
    unknown = err.value.problems[2]
    assert unknown.params["value"] == "救急" and unknown.params["profile"] == "ward_calls"
    assert "[values.line]" in unknown.render("ja") and "[values.line]" in unknown.render("en")
    assert err.value.params["path"] == "bad.csv"


def test_missing_and_doubled_columns_are_named(tmp_path) -> None:
    profile = Profile(
        "p", "core", columns={"a": Column("a", ("列A", "A列")), "b": Column("b", ("列B",))}
    )
    found, problems = profile.locate(["A列", "列A", "other"])
    assert found == {"a": "列A"}
    assert [(p.column, p.key) for p in problems] == [
        ("a", "core.import.duplicate_column"),
        ("列B", "core.tabular.missing_column"),
    ]


def test_row_loop_is_all_or_nothing_and_keeps_warnings(tmp_path) -> None:
    path = _csv(tmp_path / "t.csv", "name,when,flag\nA,09:00,はい\n,25:00,多分\nC,9:30,×\n")

    def parse(line: int, row: dict, problems: list[Problem]) -> dict | None:
        return parse_cells(
            line, row, problems, name=cells.require, when=cells.parse_time, flag=cells.parse_bool
        )

    with pytest.raises(DataError) as err:
        check_rows(path, ("name", "when", "flag"), parse)
    assert [(p.line, p.column, p.key) for p in err.value.problems] == [
        (3, "flag", "core.cell.bad_bool"),
        (3, "name", "core.cell.required"),
        (3, "when", "core.cell.bad_time"),
    ]
    _csv(path, "name,when,flag\nA,09:00,はい\nC,9:30,×\n")
    rows = check_rows(path, ("name", "when", "flag"), parse)
    assert rows[1] == {"name": "C", "when": dt.time(9, 30), "flag": False}


def test_cell_parsers() -> None:
    assert cells.parse_month("2021年4月") == dt.date(2021, 4, 1)
    assert cells.parse_datetime("令和3年4月5日 9:01") == dt.datetime(2021, 4, 5, 9, 1)
    assert cells.parse_datetime("2021/04/05 09:01:30") == dt.datetime(2021, 4, 5, 9, 1, 30)
    assert cells.parse_number("１２.５") == 12.5
    with pytest.raises(cells.CellError) as info:
        cells.parse_number("25", integer=True, low=0, high=24)
    assert info.value.key == "core.cell.out_of_range"
    with pytest.raises(cells.CellError):
        cells.strict(cells.parse_date)("")
    assert cells.fold("ＶＩＥＷ") == cells.fold(" view ") == "view"


def test_one_result_type() -> None:
    result = ImportResult.counted(5, 2, 1, [Problem(3, "x", "core.cell.required")])
    result.extra["events"] = 5
    assert (result.unchanged, result.events) == (2, 5)
    body = result.as_dict("en")
    assert body["events"] == 5 and body["warnings"][0]["line"] == 3
    assert result.counts() == {
        "rows": 5,
        "inserted": 2,
        "updated": 1,
        "unchanged": 2,
        "warnings": 1,
    }
    with pytest.raises(AttributeError):
        _ = result.nothing


def test_cli_profiles_list_and_show(cli) -> None:
    r = cli("profiles", "list", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert {r["domain"] for r in rows} == {"cases", "oplog", "resources", "cards", "juki"}
    r = cli("profiles", "list", "--domain", "juki", "--format", "json")
    assert {r["name"] for r in json.loads(r.stdout)} == {"departments", "terminals"}
    r = cli("profiles", "show", "kumin")  # a line-list profile and a log profile
    assert r.exit_code == 0 and "(cases/line_list)" in r.stdout and "(oplog/log)" in r.stdout
    r = cli("profiles", "show", "terminals", "--format", "json")
    assert json.loads(r.stdout)["values"]["state"]["retired"][0] == "廃止"
    r = cli("profiles", "show", "nosuch")
    assert r.exit_code == 1 and "hersys" in r.stderr


def test_a_profile_restricts_date_forms_and_sets_the_encoding(tmp_path, monkeypatch) -> None:
    ward = WARD.replace('missing = ["未集計"]', 'missing = ["未集計"]\ndates = ["gregorian"]')
    ward = ward.replace('key = ["date"]', 'key = ["date"]\nencoding = "cp932"')
    (tmp_path / "ward_calls.toml").write_text(ward, encoding="utf-8")
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path))
    profile = load_profile("resources", "ward_calls")
    assert (profile.dates, profile.encoding) == (("gregorian",), "cp932")
    path = _csv(tmp_path / "e.csv", "受付日,受電,回線\n2021-04-01,1,発熱\nR3.4.2,2,発熱\n", "cp932")
    with pytest.raises(DataError) as err:
        read_frame(read_table(path, profile.encoding), profile)
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.key) == (3, "date", "core.cell.date_form")
    assert cells.date_form("令和3年4月5日 9:01") == "era" and cells.date_form(44575) == "serial"
