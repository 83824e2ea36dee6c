"""Years that stay closed: publishing FY2021's security report closes the year; a
back-dated change is refused until an auditor re-opens the year with a reason; the
report of a published year shows what was published and every difference since.
On both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from tests.conftest import actor_for

from kumin.cards import service
from kumin.cards.models import Card, JukiTransaction
from kumin.core import closures
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.models import AuditEntry, FiscalYearClosure
from kumin.errors import ParameterError, PermissionDenied, StateError
from kumin.reports.publication import publish_security, reopen_security
from kumin.reports.security import make_security_report, security_report

IN_FY2021 = dt.date(2021, 10, 5)
IN_FY2022 = dt.date(2022, 5, 9)


@pytest.fixture
def people(users):
    return actor_for(users, "records_officer"), actor_for(users, "auditor")


def _resident(settings, officer, no=2001):
    with context(settings, officer) as ctx:
        service.register_resident(ctx, no, "試験 花子", dt.date(1990, 1, 2), "世田谷区北沢2丁目")
    return no


def _continued_use(settings, officer, no, on) -> None:
    with context(settings, officer) as ctx:
        service.move_in(ctx, no, on)


def _cards(settings) -> int:
    with session_scope(settings) as s:
        return len(s.scalars(select(Card.card_id)).all())


def test_publish_closes_the_year_and_a_back_dated_change_is_refused(fresh_db, people):
    officer, auditor = people
    no = _resident(fresh_db, officer)
    _continued_use(fresh_db, officer, no, IN_FY2021)
    with context(fresh_db, auditor) as ctx:
        row = publish_security(ctx, 2021)
    assert row["number"] == 1 and len(row["sha256"]) == 64
    before = _cards(fresh_db)
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.move_in(ctx, no, IN_FY2021 + dt.timedelta(days=3))
    assert err.value.key == "closures.year_closed"
    ja, en = err.value.render("ja"), err.value.render("en")
    assert "令和3年度" in ja and "reopen --fy 2021" in ja
    assert "FY2021" in en and "re-opens" in en
    assert _cards(fresh_db) == before  # nothing stored
    # a window application, a workflow step and a state change dated in FY2021: refused too
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.apply(ctx, no, "web", dt.datetime(2022, 3, 31, 23, 0))
    assert err.value.key == "closures.year_closed"
    # the next year is open
    _continued_use(fresh_db, officer, no, IN_FY2022)
    assert _cards(fresh_db) == before + 1


def test_reopen_change_republish_lists_the_differences(fresh_db, people):
    officer, auditor = people
    no = _resident(fresh_db, officer)
    _continued_use(fresh_db, officer, no, IN_FY2021)
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
        report = security_report(ctx, 2021, "ja")
    assert report.publication["closed"] and report.differences == []
    assert report.publication["verified"]

    with context(fresh_db, auditor) as ctx, pytest.raises(ParameterError) as err:
        reopen_security(ctx, 2021, "  ")
    assert err.value.key == "closures.reason_required"
    with context(fresh_db, officer) as ctx, pytest.raises(PermissionDenied):
        reopen_security(ctx, 2021, "records officer may not")
    with context(fresh_db, auditor) as ctx:
        reopen_security(ctx, 2021, "転入の記録漏れ（2件）の訂正")
    _continued_use(fresh_db, officer, no, IN_FY2021 + dt.timedelta(days=1))
    _continued_use(fresh_db, officer, no, IN_FY2021 + dt.timedelta(days=2))

    with context(fresh_db, auditor) as ctx:
        reopened = security_report(ctx, 2021, "ja")
    assert not reopened.publication["closed"]
    changed = {(d["item"], d["published"], d["now"]) for d in reopened.differences}
    assert any("継続利用" in item and (a, b) == ("1件", "3件") for item, a, b in changed), changed

    with context(fresh_db, auditor) as ctx:
        with pytest.raises(StateError) as err:  # published while open, so no double publication
            publish_security(ctx, 2021)
            publish_security(ctx, 2021)
        assert err.value.key == "closures.already_published"
    with context(fresh_db, auditor) as ctx:
        again = security_report(ctx, 2021, "en")
        body, _media, _name = make_security_report(ctx, 2021, "json", "en")
    assert again.publication["publication"] == 2 and again.differences == []
    data = json.loads(body)
    assert [e["event"] for e in data["publication"]["history"]] == [
        "published",
        "reopened",
        "published",
    ]
    assert data["publication"]["history"][1]["reason"] == "転入の記録漏れ（2件）の訂正"
    with session_scope(fresh_db) as s:
        actions = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.action.like("security.%"), AuditEntry.outcome == "ok"
            )
        ).all()
        rows = s.scalars(select(FiscalYearClosure).order_by(FiscalYearClosure.id)).all()
    assert actions.count("security.publish") == 2 and actions.count("security.reopen") == 1
    assert [r.number for r in rows] == [1, 1, 2]


def test_published_figures_stay_and_late_evidence_shows_as_a_difference(fresh_db, people):
    """A record arriving in a closed year by a path that may write there (e.g. a late
    import of evidence) leaves the published figures as they were, and the report
    lists the difference."""
    officer, auditor = people
    no = _resident(fresh_db, officer)
    _continued_use(fresh_db, officer, no, IN_FY2021)
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
    with session_scope(fresh_db) as s:
        s.add(JukiTransaction(date=IN_FY2021, kind="special_move_in", resident_no=no))
    with context(fresh_db, auditor) as ctx:
        report = security_report(ctx, 2021, "en")
        html, _media, _name = make_security_report(ctx, 2021, "html", "en")
    moves = next(tb for s in report.sections for tb in s.tables if tb.key == "juki_moves")
    special_in = next(
        r for r in moves.rows if "move-in" in r[0].lower() and "special" in r[0].lower()
    )
    assert "0" in special_in[1:]  # as published
    assert any(d["published"] == "0" and d["now"] == "1" for d in report.differences)
    text = html.decode("utf-8")
    assert 'id="table-differences"' in text and "Publication and closure" in text


def test_a_tampered_publication_is_flagged(fresh_db, people):
    _officer, auditor = people
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
    with session_scope(fresh_db) as s:
        row = s.scalars(select(FiscalYearClosure)).one()
        row.body = row.body.replace(b'"fy":2021', b'"fy":2021 ')
    with context(fresh_db, auditor) as ctx:
        report = security_report(ctx, 2021, "ja")
    assert report.publication["verified"] is False


def test_ensure_open_and_the_future():
    now = dt.datetime(2024, 5, 1, 12, 0)
    closures.ensure_not_future(now + dt.timedelta(minutes=4), now)
    with pytest.raises(StateError) as err:
        closures.ensure_not_future(now + dt.timedelta(hours=1), now)
    assert err.value.key == "closures.future"
    with pytest.raises(StateError):
        closures.ensure_not_future(dt.date(2024, 5, 2), now)
    assert closures.fiscal_year_of(dt.datetime(2022, 3, 31, 23, 59)) == 2021


def test_cli_publish_reopen_status(fresh_db, cli, users):
    r = cli("report", "security", "publish", "--fy", "2021", user=users.by_role["records_officer"])
    assert r.exit_code == 1 and "not allowed" in r.stderr
    r = cli("report", "security", "publish", "--fy", "2021", user=users.by_role["auditor"])
    assert r.exit_code == 0, r.output
    assert "令和3年度" in r.stdout or "FY2021" in r.stdout
    r = cli(
        "report",
        "security",
        "status",
        "--fy",
        "2021",
        "--format",
        "json",
        user=users.by_role["auditor"],
    )
    assert json.loads(r.stdout)["closed"] is True
    r = cli(
        "report",
        "security",
        "reopen",
        "--fy",
        "2021",
        "--reason",
        "訂正",
        user=users.by_role["auditor"],
    )
    assert r.exit_code == 0, r.output
    r = cli("report", "security", "--format", "json", user=users.by_role["auditor"])
    assert r.exit_code == 2  # --fy is required to make the report


def test_imports_into_a_closed_year_are_refused_whole(fresh_db, people, tmp_path):
    from kumin.cards import service_records
    from kumin.core.tabular import csv_bytes

    officer, auditor = people
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
    path = tmp_path / "juki.csv"
    path.write_bytes(
        csv_bytes(
            ["date", "kind", "resident_no", "other_code6"],
            [["2022-04-02", "continued_use", "", ""], ["2022-03-31", "special_move_in", "", ""]],
        )
    )
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service_records.import_juki(ctx, path)
    assert err.value.key == "closures.year_closed" and err.value.params["date"] == "2022-03-31"
    with session_scope(fresh_db) as s:
        assert s.scalars(select(JukiTransaction.id)).all() == []
    path.write_bytes(
        csv_bytes(
            ["date", "kind", "resident_no", "other_code6"],
            [["2022-04-02", "continued_use", "", ""]],
        )
    )
    with context(fresh_db, officer) as ctx:
        assert service_records.import_juki(ctx, path).inserted == 1


def test_csv_of_a_changed_published_year_lists_the_differences(fresh_db, people):
    officer, auditor = people
    no = _resident(fresh_db, officer)
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
    with session_scope(fresh_db) as s:  # late evidence, by a path that may write there
        s.add(JukiTransaction(date=IN_FY2021, kind="continued_use", resident_no=no))
    with context(fresh_db, auditor) as ctx:
        body, _media, _name = make_security_report(ctx, 2021, "csv", "ja")
    lines = [ln for ln in body.decode("utf-8-sig").splitlines() if "公表版との差異" in ln]
    assert lines and any("継続利用" in ln for ln in lines)


def test_the_auditor_publishes_and_reopens_from_the_report_page(fresh_db, users, app_client):
    app_client.login(users.by_role["records_officer"])
    page = app_client.get("/cards/report?fy=2021").text
    assert 'id="publish-report"' not in page  # the records officer keeps the data
    csrf = app_client.csrf()
    r = app_client.post("/cards/report/publish", data={"fy": "2021", "csrf": csrf})
    assert r.status_code == 403
    app_client.login(users.by_role["auditor"])
    csrf = app_client.csrf()
    assert 'id="publish-report"' in app_client.get("/cards/report?fy=2021").text
    r = app_client.post(
        "/cards/report/publish", data={"fy": "2021", "confirm": "yes", "csrf": csrf}
    )
    assert r.status_code == 303
    page = app_client.get("/cards/report?fy=2021").text
    assert 'id="publication-state"' in page and 'id="reopen-year"' in page
    assert 'id="publish-report"' not in page and 'id="no-differences"' in page
    r = app_client.post("/cards/report/reopen", data={"fy": "2021", "reason": "", "csrf": csrf})
    assert r.status_code == 400  # a reason is required
    r = app_client.post(
        "/cards/report/reopen", data={"fy": "2021", "reason": "訂正のため", "csrf": csrf}
    )
    assert r.status_code == 303
    page = app_client.get("/cards/report?fy=2021").text
    assert "訂正のため" in page and 'id="publish-report"' in page


def test_xlsx_of_a_published_year_has_a_differences_sheet(fresh_db, people):
    import io

    from openpyxl import load_workbook

    _officer, auditor = people
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
        body, _media, _name = make_security_report(ctx, 2021, "xlsx", "ja")
    book = load_workbook(io.BytesIO(body))
    sheet = book["公表版との差異"]
    assert sheet["A1"].value.startswith("公表済み・締め（第1版")
    assert "差異はありません" in sheet["A4"].value


def test_two_auditors_publishing_at_once_one_is_refused(fresh_db):
    from kumin.core.db import session_scope as scope

    with scope(fresh_db) as first, scope(fresh_db) as second:
        closures.publish(first, 2021, "a", b"{}")
        first.commit()
        # the second read the state before the first committed: same number
        row = FiscalYearClosure(fy=2021, event="published", number=1, body=b"{}", actor="b")
        row.sha256, row.reason = closures.sha256(b"{}"), ""
        with pytest.raises(StateError) as err:
            closures._store(second, row)
        assert err.value.key == "closures.concurrent"
        second.rollback()


def test_markdown_of_a_changed_published_year_lists_the_differences(fresh_db, people):
    officer, auditor = people
    no = _resident(fresh_db, officer)
    with context(fresh_db, auditor) as ctx:
        publish_security(ctx, 2021)
    with session_scope(fresh_db) as s:  # late evidence, by a path that may write there
        s.add(JukiTransaction(date=IN_FY2021, kind="continued_use", resident_no=no))
    with context(fresh_db, auditor) as ctx:
        body, _media, _name = make_security_report(ctx, 2021, "md", "en")
    text = body.decode("utf-8")
    assert "## Publication and closure" in text and "Continued use" in text
    assert "| Section | Item | Published | Now |" in text
