"""Importing notification records into the database (SQLite and PostgreSQL):
all-or-nothing, idempotent, changes audited, personal fields never in clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.cases.conftest import HERSYS_ROWS

from kumin.cases import service
from kumin.cases.models import CaseRow, ImportRun
from kumin.cases.profiles import load_profile
from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import dispose_engine, get_engine, session_scope
from kumin.core.permissions import Actor
from kumin.errors import DataError, PermissionDenied

EPI = Actor("u-epidemiologist", "epidemiologist", lang="en")

# Values that must never be stored or logged in clear: distinctive so a chance
# match in ciphertext is impossible in practice.
SECRET_ROWS = [
    "HS-7731-0042,昭和45年3月2日,50代,男性,ネパール,東京都世田谷区,太子堂二丁目37番41号,令和3年8月1日,R3.8.2,R03/08/03,令和3年8月4日,発熱、咳,2回,自宅",  # noqa: E501
    "HS-7731-0043,H7.1.17,20代,女,ベトナム,東京都世田谷区,三軒茶屋1-29-83,,2021/8/5,2021/8/5,2021/8/6,無症状,なし,宿泊療養",  # noqa: E501
]
SECRETS = ["HS-7731-0042", "HS-7731-0043", "1970-03-02", "1995-01-17", "ネパール", "ベトナム",
           "二丁目37番41号", "1-29-83", "37番41"]  # fmt: skip


def _count(settings, model=CaseRow) -> int:
    with session_scope(settings) as s:
        return s.scalar(select(func.count()).select_from(model))


def _snapshot(settings) -> list[tuple]:
    with session_scope(settings) as s:
        cols = [c for c in CaseRow.__table__.columns if c.name != "personal"]
        return [tuple(r) for r in s.execute(select(*cols).order_by(CaseRow.id)).all()]


def test_cp932_hersys_with_era_dates_imports(cli, users, hersys_csv):
    r = cli("cases", "import", str(hersys_csv), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    assert "6 new" in r.stdout
    assert _count(cli.settings) == 6
    with context(cli.settings, EPI) as ctx:
        frame = service.case_frame(ctx)
    assert frame.height == 6
    assert set(frame.get_column("town")) == {
        "太子堂",
        "三軒茶屋",
        "成城",
        "上北沢",
        "北沢",
        "砧公園",
    }
    by_town = dict(zip(frame.get_column("town"), frame.get_column("age_years"), strict=True))
    assert by_town["太子堂"] == 51  # born 1970-03-02 (昭和45年), onset 2021-08-01 (令和3年)
    assert "personal" not in frame.columns and "hersys_id" not in frame.columns


def test_three_bad_rows_change_nothing_and_name_every_line(cli, users, make_hersys_csv):
    epi = users.by_role["epidemiologist"]
    assert (
        cli("cases", "import", str(make_hersys_csv("a.csv", HERSYS_ROWS)), user=epi).exit_code == 0
    )
    before, runs = _snapshot(cli.settings), _count(cli.settings, ImportRun)
    rows = list(HERSYS_ROWS)
    rows[0] = rows[0].replace("自宅", "入院")  # a valid change that must not be written either
    rows[1] = rows[1].replace("2021/8/5,2021/8/5", "2021/2/30,2021/8/5")  # impossible date: line 3
    rows[3] = rows[3].replace("女性", "おんな")  # unknown code: line 5
    rows[5] = "," + rows[5].split(",", 1)[1]  # missing ID: line 7
    r = cli("cases", "import", str(make_hersys_csv("bad.csv", rows)), user=epi)
    assert r.exit_code == 1
    for line in (3, 5, 7):
        assert f"line {line} column" in r.stderr, r.stderr
    assert "line 2 " not in r.stderr and "line 4 " not in r.stderr
    assert _snapshot(cli.settings) == before
    assert _count(cli.settings, ImportRun) == runs


def test_dry_run_writes_nothing(cli, users, hersys_csv):
    r = cli("cases", "import", str(hersys_csv), "--dry-run", user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    assert "Nothing was written" in r.stdout
    assert _count(cli.settings) == 0 and _count(cli.settings, ImportRun) == 0


def test_reimport_is_idempotent(fresh_db, hersys_csv):
    with context(fresh_db, EPI) as ctx:
        first = service.import_cases(ctx, hersys_csv)
    before = _snapshot(fresh_db)
    with context(fresh_db, EPI) as ctx:
        again = service.import_cases(ctx, hersys_csv)
    assert (first.inserted, first.updated, first.unchanged) == (6, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)
    assert _snapshot(fresh_db) == before
    with session_scope(fresh_db) as s:
        assert audit.query(s, action="cases.update") == []


def test_changed_record_is_updated_and_audited_without_values(fresh_db, make_hersys_csv):
    with context(fresh_db, EPI) as ctx:
        service.import_cases(ctx, make_hersys_csv("v1.csv", SECRET_ROWS + HERSYS_ROWS[2:]))
    rows = list(SECRET_ROWS + HERSYS_ROWS[2:])
    rows[0] = rows[0].replace("太子堂二丁目37番41号", "若林四丁目12番9号").replace("自宅", "入院")
    newer = make_hersys_csv("v2.csv", [*rows, HERSYS_ROWS[0]])  # a newer export: one more record
    with context(fresh_db, EPI) as ctx:
        result = service.import_cases(ctx, newer)
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 5)
    with session_scope(fresh_db) as s:
        entries = audit.as_rows(audit.query(s, action="cases.update"))
        towns = set(s.scalars(select(CaseRow.town)))
    assert len(entries) == 1
    assert entries[0]["details"]["fields"] == ["address", "care_setting", "town"]
    assert entries[0]["object"].startswith("case:")
    blob = json.dumps(entries, ensure_ascii=False)
    assert all(secret not in blob for secret in [*SECRETS, "若林四丁目12番9号", "12番9"])
    assert "若林" in towns  # the moved record; 太子堂 stays through the new record 1001


def _raw_database_text(settings) -> bytes:
    if settings.is_sqlite:
        dispose_engine(settings)  # flush the WAL into the file we read
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        return data + (wal.read_bytes() if wal.exists() else b"")
    with get_engine(settings).connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
        ]
        chunks = [
            str(conn.execute(text(f'SELECT t::text FROM "{name}" t')).all()) for name in tables
        ]
    return "\n".join(chunks).encode("utf-8")


def test_no_personal_value_in_clear_in_database_or_audit(fresh_db, make_hersys_csv):
    with context(fresh_db, EPI) as ctx:
        service.import_cases(ctx, make_hersys_csv("s.csv", SECRET_ROWS))
    with context(fresh_db, EPI) as ctx:  # and a changed re-import, audited
        service.import_cases(
            ctx, make_hersys_csv("s2.csv", [SECRET_ROWS[0].replace("2回", "3回"), SECRET_ROWS[1]])
        )
    with session_scope(fresh_db) as s:
        trail = json.dumps(audit.as_rows(audit.query(s)), ensure_ascii=False)
    raw = _raw_database_text(fresh_db)
    for secret in SECRETS:
        encoded = secret.encode("utf-8")
        assert encoded not in raw, secret
        assert encoded.hex().encode() not in raw, secret  # PostgreSQL shows bytea as hex
        assert secret not in trail, secret
    assert "太子堂".encode() in raw  # the town is kept in clear for analysis


def test_case_frame_filters_and_refuses_records_officer(fresh_db, hersys_csv):
    import datetime as dt

    with context(fresh_db, EPI) as ctx:
        service.import_cases(ctx, hersys_csv)
        frame = service.case_frame(ctx, dt.date(2021, 8, 1), dt.date(2021, 8, 31))
        by_report = service.case_frame(ctx, dt.date(2021, 8, 1), dt.date(2021, 8, 31), by="report")
        # 1001: onset 08-01, result 08-04; 1002: no onset, result 08-06
        by_onset = service.case_frame(ctx, dt.date(2021, 8, 2), dt.date(2021, 8, 31), by="onset")
        first_days = service.case_frame(ctx, dt.date(2021, 8, 1), dt.date(2021, 8, 5), by="onset")
    assert frame.height == 2  # results 2021-08-04 and 2021-08-06
    assert by_report.height == 0  # no report date in a HER-SYS export
    assert by_onset["onset_date"].to_list() == [None]  # 1001's onset is before the period
    assert first_days["onset_date"].to_list() == [dt.date(2021, 8, 1)]
    assert dict(frame.schema)["result_date"].__class__.__name__ == "Date"
    with pytest.raises(PermissionDenied), context(fresh_db, Actor("x", "records_officer")) as ctx:
        service.case_frame(ctx)


def test_summary_suppresses_small_cells_for_publication(cli, users, hersys_csv):
    epi = users.by_role["epidemiologist"]
    cli("cases", "import", str(hersys_csv), user=epi)
    r = cli("cases", "summary", "--format", "json", "--public", user=users.by_role["auditor"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["total"] == 6 and body["suppressed"] is True
    # six towns of one record each under a total of 6: suppressing them all would
    # still give every one away (each is at least 1), so the table is withheld
    assert body["town"] == [] and "town" in body["withheld"]
    internal = json.loads(cli("cases", "summary", "--format", "json", user=epi).stdout)
    assert {row["count"] for row in internal["town"]} == {1}
    assert internal["withheld"] == []
    table = cli("cases", "summary", "--public", user=epi).stdout
    assert "not published" in table and "x marks a suppressed count" in table


def test_nishiura_line_list_imports_whole_through_the_cli(cli, users, shared_data):
    path = shared_data / "nishiura_japan_reff" / "JapaneseDataCOVID19_200510.csv"
    r = cli(
        "cases", "import", str(path), "--profile", "nishiura", user=users.by_role["epidemiologist"]
    )
    assert r.exit_code == 0, r.output
    assert _count(cli.settings) == 15_404
    with context(cli.settings, EPI) as ctx:
        frame = service.case_frame(ctx)
    assert frame.get_column("imported").sum() > 0


def test_streamed_import_in_small_chunks_matches_in_memory(
    sqlite_db, tmp_path, hersys_csv, monkeypatch
):
    from kumin.cases import imports

    with context(sqlite_db, EPI) as ctx:
        service.import_cases(ctx, hersys_csv)
    expected = _snapshot(sqlite_db)
    other = sqlite_db.with_(database_url=sqlite_db.database_url.replace("kumin.db", "streamed.db"))
    from kumin.core.setup import initialise

    initialise(other)
    monkeypatch.setattr(imports, "IN_MEMORY_BYTES", 0)  # two passes, as for a huge file
    monkeypatch.setattr(imports, "CHUNK", 4)  # and several chunks
    seen = []
    with context(other, EPI) as ctx:
        result = service.import_cases(
            ctx, hersys_csv, progress=lambda done, total: seen.append((done, total))
        )
    assert (result.inserted, result.records) == (6, 6)
    got = _snapshot(other)
    dispose_engine(other)
    # the same analysis fields (each database has its own key, so its own HMACs)
    assert [r[3:-2] for r in got] == [r[3:-2] for r in expected]
    assert seen[-1] == (12, 12)


def test_unknown_code_rejects_naming_line_column_value_and_a_profile_maps_it(
    fresh_db, make_hersys_csv, tmp_path, monkeypatch
):
    """An unknown care setting rejects the whole file (nothing written, on both
    databases), the message names line, column and value and says where to map
    it; a ward's profile that maps the form imports the same file."""
    rows = list(HERSYS_ROWS)
    rows[2] = rows[2].replace(",自宅", ",在宅療養")  # line 4
    path = make_hersys_csv("ward.csv", rows)
    with pytest.raises(DataError) as err, context(fresh_db, EPI) as ctx:
        service.import_cases(ctx, path)
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.params["value"]) == (4, "療養先", "在宅療養")
    assert "[values." in problem.render("ja") and "kumin profiles show" in problem.render("en")
    assert _count(fresh_db) == 0 and _count(fresh_db, ImportRun) == 0
    builtin = Path(load_profile("hersys").source).read_text("utf-8")
    ward = builtin.replace('name = "hersys"', 'name = "ward"')
    ward += '\n[values.care_setting]\nhome = ["在宅療養"]\n'
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ward.toml").write_text(ward, encoding="utf-8")
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path / "profiles"))
    with context(fresh_db, EPI) as ctx:
        assert service.import_cases(ctx, path, "ward").inserted == 6
        frame = service.case_frame(ctx)
    assert frame.get_column("care_setting").to_list().count("home") == 2  # 1001 and 1003
