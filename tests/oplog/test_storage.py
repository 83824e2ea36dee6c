"""Operation logs through the database, on SQLite and PostgreSQL: import (errors by
line, nothing written, re-import harmless), scan (rules fire on their case and stay
quiet on the legitimate twin, JSON keys), triage, suppression, audited reads."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from tests.oplog._db import acting, load_records, write_log
from tests.oplog._ward import make_events, ward_context

from kumin.core import audit
from kumin.errors import DataError, StateError, UserError
from kumin.oplog import models as m
from kumin.oplog import service
from kumin.oplog.context import ChecklistEntry

HEADER = "timestamp,terminal_id,operator_id,action,subject,function\n"
#: each suspicious line has a legitimate twin on the lines next to it
ROWS = [
    ("2021-06-01 10:00:00", "T0101", "U1", "view", "R1", "住民票"),  # 2 ordinary
    ("2021-06-01 10:05:00", "T0801", "U8", "view", "R2", "住民税"),  # 3 ordinary
    ("2021-06-01 10:30:00", "T0102", "U99", "view", "R6", "住民票"),  # 4 never listed
    ("2021-06-01 11:00:00", "T0101", "U1", "view", "R900", "住民票"),  # 5 watch list
    ("2021-06-01 14:00:00", "S01", "U8", "view", "R3", "住民税"),  # 6 inside the reservation
    ("2021-06-01 16:00:00", "S01", "U8", "view", "R4", "住民税"),  # 7 outside it
    ("2021-06-01 17:20:00", "T0102", "U3", "view", "R7", "住民票"),  # 8 overtime, allowed
    ("2021-06-01 23:10:00", "T0102", "U3", "view", "R5", "住民票"),  # 9 at night
    ("2021-06-01 10:10:00", "T0801", "U8", "view", "R9", "児童手当"),  # 10 no application
]
#: the daily checklist found T0801 without its security wire (T0101 was fixed)
CHECKLIST = (
    ChecklistEntry("T0101", dt.date(2021, 6, 1), True),
    ChecklistEntry("T0801", dt.date(2021, 6, 1), False),
)
EXPECTED = {
    "unlisted_operator": {4},
    "watch_list": {5},
    "outside_reservation": {7},
    "off_hours": {9},
    "unapproved_function": {10},
    "unsecured_terminal": {3, 10},
}


@pytest.fixture
def ward(fresh_db, users, tmp_path):
    load_records(fresh_db, ward_context(checklist=CHECKLIST), tmp_path)
    log = write_log(make_events(ROWS), tmp_path / "terminal_log_202106.csv")
    return fresh_db, log


def _count(settings, table) -> int:
    with acting(settings, "auditor") as ctx:
        return ctx.session.scalar(select(func.count()).select_from(table))


def test_import_errors_named_by_line_and_nothing_written(fresh_db, users, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + "2021-06-01 10:00:00,T0101,U1,view,R1,住民票\n"
        + "2021-06-31 10:00:00,T0101,U1,view,R1,住民票\n"
        + "2021-06-01 10:01:00,,U1,view,R1,住民票\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "auditor") as ctx:
        service.import_log(ctx, bad)
    assert [(p.line, p.column) for p in err.value.problems] == [
        (3, "timestamp"),
        (4, "terminal_id"),
    ]
    assert _count(fresh_db, m.OplogEvent) == 0
    assert _count(fresh_db, m.OplogFile) == 0
    assert _count(fresh_db, m.OplogSubject) == 0


def test_unknown_action_rejects_the_file_and_writes_nothing(fresh_db, users, tmp_path):
    bad = tmp_path / "ja.csv"
    bad.write_text(
        "日時,端末ID,操作者ID,操作,対象者,業務\n"
        "2021-06-01 10:00:00,T0101,U1,照会,R1,住民票\n"
        "2021-06-01 10:01:00,T0101,U1,のぞき見,R2,住民票\n",
        encoding="cp932",
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "auditor") as ctx:
        service.import_log(ctx, bad)
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.params["value"]) == (3, "action", "のぞき見")
    assert "[values.action]" in problem.render("en")
    assert _count(fresh_db, m.OplogEvent) == 0
    assert _count(fresh_db, m.OplogFile) == 0
    assert _count(fresh_db, m.OplogSubject) == 0


def test_import_keeps_lines_encrypts_subjects_and_reimport_is_harmless(ward):
    settings, log = ward
    with acting(settings, "records_officer") as ctx:
        first = service.import_log(ctx, log)
    with acting(settings, "auditor") as ctx:
        again = service.import_log(ctx, log)
    assert (first.events, first.new_subjects, first.already) == (9, 9, False)
    assert again.already and again.import_id == first.import_id
    assert _count(settings, m.OplogEvent) == 9
    with acting(settings, "auditor") as ctx:
        lines = sorted(ctx.session.scalars(select(m.OplogEvent.line)))
        stored = list(ctx.session.scalars(select(m.OplogSubject.value)))
        indexes = set(ctx.session.scalars(select(m.OplogEvent.subject_index)))
        events = service.load_events(ctx)
    assert lines == list(range(2, 11))
    assert all(b"R900" not in v for v in stored)  # only ciphertext in the table
    assert "R900" not in indexes and all(len(i) == 64 for i in indexes)
    assert events.height == 9 and events.get_column("file").unique().to_list() == [log.name]


def test_each_rule_fires_on_its_case_and_not_on_the_twin(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        result = service.run_scan(ctx)
    got: dict[str, set[int]] = {}
    for a in result.alerts:
        got.setdefault(a["rule"], set()).update(e["line"] for e in a["events"])
        assert {e["file"] for e in a["events"]} == {log.name}
    assert got == EXPECTED
    watch = next(a for a in result.alerts if a["rule"] == "watch_list")
    assert watch["subject"].startswith("#") and "R900" not in json.dumps(result.alerts)
    assert "R900" not in watch["explanation"]


def test_rescan_upserts_by_fingerprint_and_keeps_triage(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        first = service.run_scan(ctx)
        service.review(ctx, first.alerts[0]["id"], "looking")
    with acting(settings, "auditor") as ctx:
        second = service.run_scan(ctx)
    assert (first.new, second.new) == (6, 0)
    assert _count(settings, m.OplogAlert) == 6
    states = {a["id"]: a["state"] for a in second.alerts}
    assert states[first.alerts[0]["id"]] == "under_review"
    with acting(settings, "auditor") as ctx:
        assert len(service.list_scans(ctx)) == 2


def test_scan_period_filters_events(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        assert service.run_scan(ctx, start=_d("2021-06-02"), end=_d("2021-06-30")).alerts == []
        with pytest.raises(UserError):
            service.run_scan(ctx, start=_d("2021-06-30"), end=_d("2021-06-02"))


def _d(text):
    import datetime as dt

    return dt.date.fromisoformat(text)


def _actions(settings, prefix):
    with acting(settings, "auditor") as ctx:
        return [e.action for e in audit.query(ctx.session, action=prefix)]


def test_triage_state_machine_is_enforced_and_audited(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        alert = next(a for a in service.run_scan(ctx).alerts if a["rule"] == "off_hours")
    aid = alert["id"]
    with acting(settings, "auditor") as ctx, pytest.raises(StateError):
        service.close(ctx, aid, "misuse", "too early")
    with acting(settings, "auditor") as ctx:
        assert service.review(ctx, aid, "asked the department")["state"] == "under_review"
    with acting(settings, "auditor") as ctx:
        with pytest.raises(StateError):
            service.review(ctx, aid)
        with pytest.raises(UserError):
            service.close(ctx, aid, "misuse", "   ")
        with pytest.raises(UserError):
            service.close(ctx, aid, "maybe", "note")
    with acting(settings, "auditor") as ctx:
        closed = service.close(ctx, aid, "misuse", "no business reason given")
    assert (closed["state"], closed["outcome"]) == ("closed", "misuse")
    with acting(settings, "auditor") as ctx:
        shown = service.get_alert(ctx, aid)
        assert [(n["from"], n["to"]) for n in shown["notes"]] == [
            ("new", "under_review"),
            ("under_review", "closed"),
        ]
        assert shown["lines"][0]["line"] == 9 and shown["lines"][0]["operator_id"] == "U3"
        assert service.list_alerts(ctx, state="misuse")[0]["id"] == aid
    assert _actions(settings, "oplog.triage") == ["oplog.triage_review", "oplog.triage_close"]
    with acting(settings, "auditor") as ctx:
        service.reopen(ctx, aid, "new facts")
    assert _actions(settings, "oplog.triage")[-1] == "oplog.triage_reopen"


def test_revealing_a_subject_is_an_audited_read(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        alert = next(a for a in service.run_scan(ctx).alerts if a["rule"] == "watch_list")
    with acting(settings, "auditor") as ctx, pytest.raises(UserError):
        service.get_alert(ctx, alert["id"], reveal=True, purpose="")
    with acting(settings, "auditor") as ctx:
        shown = service.get_alert(ctx, alert["id"], reveal=True, purpose="triage of a DV case")
    assert shown["subject"] == "R900" and shown["revealed"]
    with acting(settings, "auditor") as ctx:
        entries = audit.query(ctx.session, action="oplog.subject_read")
    assert len(entries) == 1 and entries[0].purpose == "triage of a DV case"
    assert "R900" not in entries[0].details
    # kumin's own trail now holds that personal read, as an event of the auditor
    with acting(settings, "auditor") as ctx:
        trail = service.load_audit_events(ctx)
    mine = trail.filter(trail["subject"] == f"oplog_alert:{alert['id']}")
    assert mine.select("operator_id", "terminal_id", "function").rows() == [
        ("u-auditor", "kumin-cli", "triage of a DV case")
    ]


def test_suppressed_pattern_is_not_raised_again_until_lifted(ward, tmp_path):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        alert = next(a for a in service.run_scan(ctx).alerts if a["rule"] == "off_hours")
        service.review(ctx, alert["id"])
        with pytest.raises(StateError):
            service.suppress(ctx, alert["id"], "overtime")  # not closed yet
        service.close(ctx, alert["id"], "legitimate", "election night overtime, approved")
        sup = service.suppress(ctx, alert["id"], "U3 works election nights", match=["operator_id"])
    # the same pattern a week later, in a new log
    later = [("2021-06-08 23:30:00", "T0102", "U3", "view", "R8", "住民票")]
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, write_log(make_events(later), tmp_path / "later.csv"))
        result = service.run_scan(ctx)
    assert result.suppressed == 2  # the closed alert itself and its repeat a week later
    assert not any(a["first_seen"].startswith("2021-06-08") for a in result.alerts)
    with acting(settings, "auditor") as ctx:
        assert [s["id"] for s in service.list_suppressions(ctx)] == [sup["id"]]
        service.lift_suppression(ctx, sup["id"], "election over")
    with acting(settings, "auditor") as ctx:
        result = service.run_scan(ctx)
        assert service.list_suppressions(ctx) == []
        assert len(service.list_suppressions(ctx, include_lifted=True)) == 1
    assert result.suppressed == 0
    assert any(a["first_seen"].startswith("2021-06-08") for a in result.alerts)
    assert _actions(settings, "oplog.suppress") == ["oplog.suppress", "oplog.suppression_lift"]


def test_thresholds_are_settings_checked_and_used(ward):
    settings, log = ward
    with acting(settings, "auditor") as ctx:
        with pytest.raises(UserError):
            service.set_threshold(ctx, "late_grace_minutes", "-5")
        with pytest.raises(UserError):
            service.set_threshold(ctx, "no_such_threshold", "1")
        service.set_threshold(ctx, "late_grace_minutes", "400")  # 17:15 + 6h40 covers 23:10
        service.import_log(ctx, log)
        rules = {a["rule"] for a in service.run_scan(ctx).alerts}
    assert "off_hours" not in rules
    with acting(settings, "auditor") as ctx:
        service.set_threshold(ctx, "late_grace_minutes", None)
        assert service.thresholds(ctx).late_grace_minutes == 120
    assert _actions(settings, "oplog.thresholds") == ["oplog.thresholds"] * 2


def test_report_and_notices(ward):
    from kumin.oplog.report import make_notice, make_report

    settings, log = ward
    with acting(settings, "auditor") as ctx:
        service.import_log(ctx, log)
        alerts = service.run_scan(ctx).alerts
        service.review(ctx, alerts[0]["id"])
        service.close(ctx, alerts[0]["id"], "misuse", "confirmed")
    with acting(settings, "records_officer") as ctx:
        issued = service.issue_notices(ctx, _d("2021-04-01"), _d("2022-03-31"))
        data = service.report_data(ctx, _d("2021-04-01"), _d("2022-03-31"))
        html, _ = make_report(ctx, _d("2021-04-01"), _d("2022-03-31"), "html", "ja")
        notice, _ = make_notice(ctx, issued[0]["id"], "html", "ja")
        notice_en, _ = make_notice(ctx, issued[0]["id"], "html", "en")
    assert len(issued) == 3 and {n["department"] for n in data["notices"]} == {"D01", "D02", "D08"}
    assert data["lines"] == 9 and data["files"][0]["name"] == log.name
    assert data["totals"] == {"total": 6, "new": 5, "under_review": 0, "legitimate": 0, "misuse": 1}
    assert {r["rule"] for r in data["rules"]} == set(EXPECTED)
    text = html.decode()
    assert "操作ログ分析結果報告" in text and "住民記録・戸籍課" in text
    assert "統合端末の操作ログ分析について" in notice.decode()
    assert "analysed periodically" in notice_en.decode()
    assert _actions(settings, "oplog.notice") == ["oplog.notice"] * 3


def test_report_opens_on_the_latest_fiscal_year_with_events(ward):
    settings, log = ward
    today = _d("2026-12-07")
    with acting(settings, "auditor") as ctx:
        # no events yet: the last complete fiscal year
        assert service.default_period(ctx, today) == (_d("2025-04-01"), _d("2026-03-31"))
        service.import_log(ctx, log)  # June 2021
        assert service.default_period(ctx, today) == (_d("2021-04-01"), _d("2022-03-31"))
        # a year not yet complete is never the default
        assert service.default_period(ctx, _d("2021-07-01")) == (_d("2020-04-01"), _d("2021-03-31"))
