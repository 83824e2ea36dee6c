"""Juki-net records in a closed fiscal year, and working days without a daily check
(a finding in the yearly report and on the governance page). On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.juki._helpers import D, T, acting, approve_fy2021, small_ward, write_csv

from kumin.errors import DataError, StateError
from kumin.juki import service
from kumin.juki.models import Checklist, LedgerVersion, Reservation
from kumin.juki.service_checks import missing_checks
from kumin.reports.publication import publish_security, reopen_security
from kumin.reports.security import security_report


def _ok(ctx) -> dict[str, bool]:
    return {i["code"]: True for i in service.checklist_items(ctx)}


def _count(settings, model) -> int:
    from kumin.core.db import session_scope

    with session_scope(settings) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_closed_year_refuses_juki_records_and_imports(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    with acting(fresh_db, "terminal_manager") as ctx:
        service.record_checklist(ctx, "T0801", D(2021, 6, 1), _ok(ctx))
    with acting(fresh_db, "auditor") as ctx:
        publish_security(ctx, 2021)
    attempts = {
        "checklist": lambda ctx: service.record_checklist(ctx, "T0801", D(2021, 6, 2), _ok(ctx)),
        "reservation": lambda ctx: service.create_reservation(
            ctx, "D08", "S01", T(2021, 6, 1, 9), T(2021, 6, 1, 10)
        ),
        "audit": lambda ctx: service.add_audit(ctx, D(2022, 1, 14), "jukinet", "監査"),
        "meeting": lambda ctx: service.add_meeting(ctx, D(2021, 6, 2), "jukinet", "会議"),
        "training": lambda ctx: service.add_training(ctx, D(2022, 2, 24), "training", "研修"),
        "application": lambda ctx: service.submit_application(
            ctx, "D08", "住民税", D(2022, 3, 1), D(2022, 9, 30)
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(StateError) as err, acting(fresh_db, "records_officer") as ctx:
            attempt(ctx)
        assert err.value.key == "closures.year_closed", name
    ledger = write_csv(
        tmp_path / "l.csv", ["operator_id", "name", "role"], [["U7", "職員", "操作者"]]
    )
    versions = _count(fresh_db, LedgerVersion)
    with pytest.raises(StateError), acting(fresh_db, "records_officer") as ctx:
        service.import_ledger(ctx, "D08", D(2021, 10, 1), ledger)
    assert _count(fresh_db, LedgerVersion) == versions
    # an import with one row in the closed year changes nothing and names the line
    rows = [
        ["T0801", "2021-06-01", "yes"],
        ["T0801", "2022-04-01", "yes"],
        ["T0801", "2021-06-03", "yes"],
    ]
    path = write_csv(tmp_path / "c.csv", ["terminal_id", "date", "secured"], rows)
    with pytest.raises(DataError) as err, acting(fresh_db, "records_officer") as ctx:
        service.import_checklists(ctx, path)
    assert [(p.line, p.column, p.key) for p in err.value.problems] == [
        (4, "date", "closures.line_closed")
    ]
    assert "令和3年度" in err.value.problems[0].render("ja")
    assert _count(fresh_db, Checklist) == 1
    # the unchanged day and the open year's day: accepted
    path = write_csv(tmp_path / "c2.csv", ["terminal_id", "date", "secured"], rows[:2])
    with acting(fresh_db, "records_officer") as ctx:
        result = service.import_checklists(ctx, path)
    assert (result.inserted, result.unchanged) == (1, 1)
    res = write_csv(
        tmp_path / "r.csv",
        ["department", "terminal_id", "start", "end"],
        [["D08", "S01", "2021-06-01 09:00", "2021-06-01 10:00"]],
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "records_officer") as ctx:
        service.import_reservations(ctx, res)
    assert err.value.problems[0].key == "closures.line_closed"
    # re-opened with a reason: the same changes go through
    with acting(fresh_db, "auditor") as ctx:
        reopen_security(ctx, 2021, "点検簿の転記漏れ")
    with acting(fresh_db, "records_officer") as ctx:
        service.import_reservations(ctx, res)
        service.record_checklist(ctx, "T0801", D(2021, 6, 2), _ok(ctx))
    assert _count(fresh_db, Reservation) == 1


def test_a_reservation_needs_an_approved_application(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with pytest.raises(StateError) as err, acting(fresh_db, "records_officer") as ctx:
        service.create_reservation(ctx, "D08", "S01", T(2021, 6, 1, 9), T(2021, 6, 1, 10))
    assert err.value.key == "juki.import.no_approved_application"
    assert "D08" in err.value.render("ja") and "2021-06-01" in err.value.render("en")
    approve_fy2021(fresh_db, tmp_path)
    with (
        pytest.raises(StateError),
        acting(fresh_db, "records_officer") as ctx,
    ):  # outside its validity
        service.create_reservation(ctx, "D08", "S01", T(2022, 6, 1, 9), T(2022, 6, 1, 10))
    with acting(fresh_db, "records_officer") as ctx:
        service.create_reservation(ctx, "D08", "S01", T(2021, 6, 1, 9), T(2021, 6, 1, 10))
    assert _count(fresh_db, Reservation) == 1


def test_working_days_without_a_daily_check_are_a_finding(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    # T0801 checked Tue 1 Jun .. Fri 4 Jun 2021 but not Wed 2 Jun; T1201 every day
    with acting(fresh_db, "records_officer") as ctx:
        ok = _ok(ctx)
        for day in (1, 3, 4):
            service.record_checklist(ctx, "T0801", D(2021, 6, day), ok)
        for day in (1, 2, 3, 4, 7):  # Mon 7 Jun: the ward's last recorded check
            service.record_checklist(ctx, "T1201", D(2021, 6, day), ok)
        found = missing_checks(ctx, D(2021, 4, 1), D(2022, 3, 31))
    by_terminal = {r["terminal_id"]: r for r in found["terminals"]}
    assert found["horizon"] == D(2021, 6, 7)
    # T0801: 2 Jun and Mon 7 Jun (weekend 5-6 Jun not a working day); T1201: none;
    # terminals never checked count from the year's start (T0101, S01)
    assert (by_terminal["T0801"]["days"], by_terminal["T0801"]["first"]) == (2, D(2021, 6, 2))
    assert "T1201" not in by_terminal
    assert by_terminal["S01"]["first"] == D(2021, 4, 1)
    with acting(fresh_db, "auditor") as ctx:
        report = security_report(ctx, 2021, "ja")
    (ops,) = [s for s in report.sections if s.key == "ops.daily_checks"]
    assert ops.figures["missing_check_days"] == found["days"]
    (table,) = [tb for tb in ops.tables if tb.key == "ops_missing_checks"]
    assert ["課税課", "T0801", "2", "令和3年6月2日", "令和3年6月7日"] in table.rows
    app_client.login(users.by_role["auditor"])
    page = app_client.get("/juki/governance?fy=2021").text
    assert 'id="missing-checks"' in page and "T0801" in page


def test_every_working_day_checked_is_no_finding(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:
        ok = _ok(ctx)
        for term in ("T0101", "S01", "T0801", "T1201"):
            for day in (1, 2, 3, 4):
                service.record_checklist(ctx, term, D(2021, 6, day), ok)
        assert missing_checks(ctx, D(2021, 6, 1), D(2021, 6, 30))["terminals"] == []
    with acting(fresh_db, "auditor") as ctx:
        (ops,) = [
            s for s in security_report(ctx, 2021, "en").sections if s.key == "ops.daily_checks"
        ]
    assert ops.figures["missing_check_days"] == 0
    assert any(p.startswith("No working day without a daily check") for p in ops.paragraphs)


def test_operation_logs_of_a_closed_year_are_still_imported(fresh_db, tmp_path):
    """Logs are evidence that arrives late: refusing them would hide misuse. A lookup
    on the shared terminal changes the reconciliation (section 7) after publication."""
    from kumin.oplog import service as oplog

    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "auditor") as ctx:
        publish_security(ctx, 2021)
    log = tmp_path / "log.csv"
    log.write_text(
        "timestamp,terminal_id,operator_id,action,subject,function\n"
        "2021-06-01 10:00:00,S01,U1,view,R1,住民税\n",
        encoding="utf-8",
    )
    with acting(fresh_db, "auditor") as ctx:
        assert oplog.import_log(ctx, log).events == 1
    # the published report stays as published; the late log shows as a difference
    with acting(fresh_db, "auditor") as ctx:
        report = security_report(ctx, 2021, "en")
    assert report.publication["closed"]
    late = [d for d in report.differences if d["section"].startswith("7")]
    assert late and any(d["now"] and not d["published"] for d in late), report.differences


def test_a_check_or_usage_in_the_future_is_refused(fresh_db, tmp_path):
    import datetime as dt

    small_ward(fresh_db, tmp_path)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with acting(fresh_db, "records_officer") as ctx, pytest.raises(StateError) as err:
        service.record_checklist(ctx, "T0801", tomorrow, _ok(ctx))
    assert err.value.key == "closures.future"
    later = dt.datetime.combine(tomorrow, dt.time(10))
    with acting(fresh_db, "records_officer") as ctx, pytest.raises(StateError) as err:
        service.record_usage(
            ctx, "D08", "T0801", "U1", later, later + dt.timedelta(hours=1), "住民税", 1
        )
    assert err.value.key == "closures.future"
    assert _count(fresh_db, Checklist) == 0
