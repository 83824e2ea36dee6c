"""The operational rules of the card workflow, on both databases: applications only
within a window's opening hours and never in the future; identity documents per the
card rules; forms shredded late listed in the yearly report (section 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.conftest import actor_for

from kumin.cards import service
from kumin.cards.models import Card
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.errors import StateError
from kumin.reports.security import security_report

MONDAY = dt.datetime(2022, 4, 4)  # the card centre opens 11:00-18:30 on weekdays
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def officer(users):
    return actor_for(users, "records_officer")


@pytest.fixture
def auditor(users):
    return actor_for(users, "auditor")


def _resident(settings, officer, no=3001):
    with context(settings, officer) as ctx:
        service.register_resident(ctx, no, "規則 一郎")
    return no


def _count(settings) -> int:
    with session_scope(settings) as s:
        return len(s.scalars(select(Card.card_id)).all())


def test_window_application_outside_opening_hours_is_refused(fresh_db, officer):
    no = _resident(fresh_db, officer)
    for at in (MONDAY + 10 * H + 59 * H / 60, MONDAY + 18 * H + 31 * H / 60):
        with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
            service.apply_at_window(ctx, no, "card_centre", "match", ["passport"], at)
        assert err.value.key == "cards.service.window_hours"
        assert "11:00～18:30" in err.value.render("ja")
    assert _count(fresh_db) == 0
    # the applicant who comes to collect outside the hours is refused too
    with context(fresh_db, officer) as ctx:
        card = service.apply(ctx, no, "web", MONDAY)["card_id"]
        service.prepare(ctx, card, MONDAY + 2 * D)
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.arrive(ctx, card, "branch_offices", MONDAY + 3 * D + 16 * H)  # closes 15:30
    assert err.value.key == "cards.service.window_hours"
    # within the hours (opening and closing minute included): allowed
    with context(fresh_db, officer) as ctx:
        service.apply_at_window(ctx, no, "card_centre", "match", ["passport"], MONDAY + 11 * H)
        service.arrive(ctx, card, "branch_offices", MONDAY + 3 * D + 15.5 * H)
    assert _count(fresh_db) == 2


def test_an_application_or_step_in_the_future_is_refused(fresh_db, officer):
    no = _resident(fresh_db, officer)
    tomorrow = service.now() + D
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.apply(ctx, no, "web", tomorrow)
    assert err.value.key == "closures.future"
    with context(fresh_db, officer) as ctx:
        card = service.apply(ctx, no, "web", MONDAY)["card_id"]
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.prepare(ctx, card, tomorrow)
    assert err.value.key == "closures.future"
    with context(fresh_db, officer) as ctx:
        assert service.prepare(ctx, card, service.now())["step"] == "prepared"


def test_identity_documents_at_the_window_name_what_is_missing(fresh_db, officer):
    no = _resident(fresh_db, officer)
    at = MONDAY + 11 * H
    with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
        service.apply_at_window(ctx, no, "card_centre", "match", ["health_insurance_card"], at)
    assert err.value.key == "cards.workflow.identity_insufficient"
    assert "健康保険証" in err.value.render("ja") and "もう1点" in err.value.render("ja")
    assert _count(fresh_db) == 0
    with context(fresh_db, officer) as ctx:  # two documents without a photo: allowed
        service.apply_at_window(
            ctx, no, "card_centre", "match", ["health_insurance_card", "pension_certificate"], at
        )
    assert _count(fresh_db) == 1


def _at_application(ctx, no, at, shred_after):
    card = service.apply_at_window(ctx, no, "card_centre", "match", ["passport"], at)["card_id"]
    service.hold_form(ctx, card, at + H / 6)
    service.ward_set_pins(ctx, card, at + 10 * D)
    if shred_after is not None:
        service.shred_form(ctx, card, "clerk-b", at + 10 * D + shred_after)
    return card


def test_late_form_shredding_is_in_the_yearly_report(fresh_db, officer, auditor):
    no = _resident(fresh_db, officer)
    start = dt.datetime(2022, 4, 5, 11, 0)
    with context(fresh_db, officer) as ctx:
        _at_application(ctx, no, start, H)  # on time
        _at_application(ctx, no, start + D, 3 * D)  # 72 hours: late
        _at_application(ctx, no, start + 2 * D, None)  # never shredded
    with context(fresh_db, auditor) as ctx:
        report = security_report(ctx, 2022, "ja")
    (ops,) = [s for s in report.sections if s.key == "ops.form_shredding"]
    assert ops.number == "8"
    assert ops.figures["forms_shredded"] == 2 and ops.figures["forms_shredded_late"] == 1
    assert ops.figures["forms_still_held"] == 1
    (table,) = [tb for tb in ops.tables if tb.key == "ops_form_shredding"]
    assert table.rows == [["マイナンバーカード専用窓口", "2022-04", "2", "1", "72.0"]]
    assert any("期限を過ぎて廃棄した依頼書が 1 件" in p for p in ops.paragraphs)
    assert "規則" not in str(ops.to_dict())  # no personal value


def test_forms_shredded_in_time_make_no_finding(fresh_db, officer, auditor):
    no = _resident(fresh_db, officer)
    with context(fresh_db, officer) as ctx:
        _at_application(ctx, no, dt.datetime(2022, 4, 5, 11, 0), H)
    with context(fresh_db, auditor) as ctx:
        (ops,) = [
            s for s in security_report(ctx, 2022, "en").sections if s.key == "ops.form_shredding"
        ]
    assert ops.figures["forms_shredded_late"] == 0 and ops.figures["forms_still_held"] == 0
    assert "Every form was shredded within the limit." in ops.paragraphs
