"""Card services on both databases: workflow steps stored and audited, out-of-order
steps refused, card states, certificates, imports all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import actor_for

from kumin.cards import service, service_records
from kumin.cards.models import CardStep
from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.errors import DataError, NotFound, PermissionDenied, StateError

T0 = dt.datetime(2022, 4, 4, 11, 0)  # a Monday; the card centre is open
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def officer(users):
    return actor_for(users, "records_officer")


def _resident(settings, officer, no=1001):
    with context(settings, officer) as ctx:
        service.register_resident(ctx, no, "試験 太郎", dt.date(1980, 5, 6), "世田谷区北沢1丁目")
    return no


def test_visit_at_issuance_from_application_to_issue(fresh_db, officer):
    no = _resident(fresh_db, officer)
    with context(fresh_db, officer) as ctx:
        card = service.apply(ctx, no, "web", T0)["card_id"]
        assert service.card_view(ctx, card)["next"] == ["prepare", "cancel"]
        service.prepare(ctx, card, T0 + 7 * D)
        service.arrive(ctx, card, "card_centre", T0 + 9 * D)
        service.check_identity(ctx, card, "match", ["driving_licence"], T0 + 9 * D + H / 6)
        service.applicant_set_pins(ctx, card, T0 + 9 * D + H / 4)
        done = service.issue(ctx, card, T0 + 9 * D + H / 3)
    assert (done["step"], done["status"]) == ("issued", "operating")
    assert done["issued_on"] == dt.date(2022, 4, 13) and done["prepared_on"] == dt.date(2022, 4, 11)
    with context(fresh_db, officer) as ctx:
        view = service.card_view(ctx, card)
    assert [s["step"] for s in view["steps"]] == [
        "applied",
        "prepared",
        "came_to_window",
        "identity_checked",
        "pins_set_by_applicant",
        "issued",
    ]
    assert view["steps"][3]["details"] == {"face": "match", "documents": ["driving_licence"]}
    assert view["next"] == [] and view["state_actions"] == [
        "suspend",
        "revoke",
        "move_out",
        "certificate",
    ]
    assert sorted(c["cert_type"] for c in view["certificates"]) == ["signature", "user_auth"]
    with session_scope(fresh_db) as s:
        entries = audit.query(s, object_prefix=f"card:{card}")
        assert audit.verify(s).ok
    actions = [e.action for e in entries if e.action != "cards.read"]
    assert actions == [
        "cards.apply",
        "cards.prepare",
        "cards.arrive",
        "cards.check_identity",
        "cards.applicant_set_pins",
        "cards.issue",
    ]


def test_steps_out_of_order_are_refused_and_nothing_is_stored(fresh_db, officer):
    no = _resident(fresh_db, officer)
    with context(fresh_db, officer) as ctx:
        card = service.apply(ctx, no, "mail", T0)["card_id"]
    for name, call in (
        ("issue", lambda ctx: service.issue(ctx, card, T0 + D)),
        ("arrive", lambda ctx: service.arrive(ctx, card, "card_centre", T0 + D)),
        ("ward_set_pins", lambda ctx: service.ward_set_pins(ctx, card, T0 + D)),
        ("mail", lambda ctx: service.mail(ctx, card, None, T0 + D)),
    ):
        with pytest.raises(StateError) as err, context(fresh_db, officer) as ctx:
            call(ctx)
        assert err.value.key == "cards.service.out_of_order", name
        message = err.value.render("en")
        assert "Card 1: cannot go from 'Applied' to '" in message
        assert message.endswith("Allowed next: Prepared (pre-issuance setting), Cancelled.")
        assert "次に可能な段階: 交付前設定、申請取消" in err.value.render("ja")
    with session_scope(fresh_db) as s:
        assert s.query(CardStep).filter_by(card_id=card).count() == 1
    # a step dated before the previous one is refused too
    with context(fresh_db, officer) as ctx:
        with pytest.raises(StateError) as err:
            service.prepare(ctx, card, T0 - D)
        assert err.value.key == "cards.workflow.time_backwards"


def test_visit_at_application_returned_mail_then_collected(fresh_db, officer):
    no = _resident(fresh_db, officer)
    with context(fresh_db, officer) as ctx:
        card = service.apply_at_window(
            ctx, no, "card_centre", "no_match", ["passport", "health_insurance_card"], T0
        )["card_id"]
        assert service.card_view(ctx, card)["next"] == ["hold_form"]
        service.hold_form(ctx, card, T0 + H / 6)
        with pytest.raises(StateError):  # the form is shredded only after the PINs are set
            service.shred_form(ctx, card, "clerk-a", T0 + H)
    with context(fresh_db, officer) as ctx:
        service.ward_set_pins(ctx, card, T0 + 14 * D)
        assert service.card_view(ctx, card)["next"] == ["shred_form"]
        shred = service.shred_form(ctx, card, "clerk-a", T0 + 14 * D + H)
        assert shred["step"] == "form_shredded"
        service.mail(ctx, card, "RD1", T0 + 15 * D)
        with pytest.raises(StateError) as err:  # in the post: delivery, not a handover
            service.issue(ctx, card, T0 + 16 * D)
        assert err.value.key == "cards.service.use_deliver"
    with context(fresh_db, officer) as ctx:
        service.return_mail(ctx, card, "absent", T0 + 25 * D)
        assert service.card_view(ctx, card)["next"] == ["mail", "arrive", "cancel"]
        service.arrive(ctx, card, "card_centre", T0 + 32 * D)
        service.check_identity(ctx, card, "match", ["passport"], T0 + 32 * D + H / 6)
        done = service.issue(ctx, card, T0 + 32 * D + H / 3, signature=False)
        view = service.card_view(ctx, card)
    assert done["returned_on"] == dt.date(2022, 4, 29) and done["mailed_on"] == dt.date(2022, 4, 19)
    shredded = next(s for s in view["steps"] if s["step"] == "form_shredded")
    assert shredded["by"] == "clerk-a" and shredded["details"] == {"late": False}
    assert [c["cert_type"] for c in view["certificates"]] == ["user_auth"]


def test_application_at_a_closed_window_or_before_the_method_existed(fresh_db, officer):
    no = _resident(fresh_db, officer)
    third_saturday = dt.datetime(2022, 4, 16, 10)
    with context(fresh_db, officer) as ctx:
        with pytest.raises(StateError) as err:
            service.apply_at_window(ctx, no, "card_centre", "match", ["passport"], third_saturday)
        assert err.value.key == "cards.service.window_closed"
        with pytest.raises(StateError):  # the kumin windows hand out cards, take no 申 applications
            service.apply_at_window(ctx, no, "kumin_madoguchi", "match", ["passport"], T0)
        with pytest.raises(NotFound):
            service.apply(ctx, 99, "web", T0)


def test_card_states_and_certificates(fresh_db, officer):
    no = _resident(fresh_db, officer)
    with context(fresh_db, officer) as ctx:
        card = service.apply_at_window(ctx, no, "card_centre", "match", ["passport"], T0)["card_id"]
        for step, at in (
            ("hold_form", T0),
            ("ward_set_pins", T0 + 10 * D),
            ("shred_form", T0 + 10 * D + H),
            ("mail", T0 + 11 * D),
            ("deliver", T0 + 13 * D),
        ):
            service.STEP_ACTIONS[step](ctx, card, at=at)
        assert service.suspend(ctx, card, dt.date(2022, 6, 1))["status"] == "suspended"
        with pytest.raises(StateError):  # no certificate on a suspended card
            service.certificate(ctx, card, "signature", "pin_reset", dt.date(2022, 6, 2))
        assert service.resume(ctx, card, dt.date(2022, 6, 3))["status"] == "operating"
        service.certificate(ctx, card, "signature", "pin_reset", dt.date(2022, 6, 4))
        assert service.revoke(ctx, card, "death", dt.date(2022, 7, 1))["status"] == "revoked"
        with pytest.raises(StateError):
            service.resume(ctx, card, dt.date(2022, 7, 2))
        view = service.card_view(ctx, card)
    assert [e["event"] for e in view["events"]] == ["suspended", "resumed", "revoked"]
    assert view["events"][-1]["reason"] == "death"
    assert len(view["certificates"]) == 3 and view["state_actions"] == []


def test_personal_fields_are_encrypted_and_reads_audited(fresh_db, officer, users):
    no = _resident(fresh_db, officer)
    with session_scope(fresh_db) as s:
        from kumin.cards.models import Resident

        row = s.get(Resident, no)
        assert "試験".encode() not in row.name and b"1980" not in row.birth_date
    with context(fresh_db, actor_for(users, "auditor")) as ctx:
        found = service.find_resident(ctx, no, purpose="audit sample")
        assert found["name"] == "試験 太郎" and found["birth_date"] == "1980-05-06"
    with session_scope(fresh_db) as s:
        entry = audit.query(s, action="cards.read")[-1]
        assert entry.object == f"resident:{no}" and entry.purpose == "audit sample"
        assert "試験" not in entry.details
    with pytest.raises(PermissionDenied), context(fresh_db, actor_for(users, "researcher")) as ctx:
        service.find_resident(ctx, no)


def test_imports_are_all_or_nothing_and_harmless_twice(fresh_db, officer, tmp_path):
    bad = tmp_path / "juki.csv"
    bad.write_text(
        "date,kind,resident_no,other_code6\n"
        "2021-04-05,special_move_in,1001,131105\n"
        "2021-04-06,teleport,1002,\n"
        "2021/13/01,special_move_out,,\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err, context(fresh_db, officer) as ctx:
        service_records.import_juki(ctx, bad)
    assert [p.line for p in err.value.problems] == [3, 4]
    good = tmp_path / "juki_ok.csv"
    good.write_text(
        "date,kind,resident_no,other_code6\n2021-04-05,special_move_in,1001,13110\n"
        "2021/04/06,wide_area_issued,,\n",
        encoding="utf-8-sig",
    )
    with context(fresh_db, officer) as ctx:
        first = service_records.import_juki(ctx, good)
        assert (first.inserted, first.already) == (2, False)
    with context(fresh_db, officer) as ctx:
        again = service_records.import_juki(ctx, good)
        assert (again.inserted, again.already) == (0, True)
        from kumin.cards.store import load_records

        juki = load_records(ctx.session).juki_transactions
    assert juki["other_code6"].to_list() == ["131105", None]
    inquiries = tmp_path / "inq.csv"
    inquiries.write_text(
        "date,department,function,operator\n2021-05-06,課税課,residential_tax,U0101\n"
        "2021-05-06,課税課,new_benefit,U0101\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err, context(fresh_db, officer) as ctx:
        service_records.import_inquiries(ctx, inquiries)
    assert err.value.problems[0].params == {"value": "new_benefit"}
    assert err.value.problems[0].key == "cards.import.bad_function"
    # the ward extends the function list, then the same file imports
    with context(fresh_db, officer) as ctx:
        service_records.add_function(ctx, "new_benefit", "新給付", "New benefit", "給付課")
        assert service_records.import_inquiries(ctx, inquiries).inserted == 2
        codes = [f["code"] for f in service_records.list_functions(ctx)]
    assert codes[0] == "residential_tax" and codes[-1] == "new_benefit" and len(codes) == 13


def test_inquiries_import_from_excel(fresh_db, officer, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["date", "department", "function", "operator"])
    sheet.append([dt.datetime(2021, 6, 1), "子ども家庭課", "child_allowance", "U0601"])
    sheet.append(["2021-06-02", "選挙管理委員会事務局", "elections", "U1101"])
    path = tmp_path / "inquiries.xlsx"
    book.save(path)
    with context(fresh_db, officer) as ctx:
        assert service_records.import_inquiries(ctx, path).inserted == 2
    with context(fresh_db, officer) as ctx:
        from kumin.cards.report import card_figures

        rows = {r.function: (r.previous_fy, r.fy) for r in card_figures(ctx, 2021).inquiries.rows}
    assert rows["child_allowance"] == (0, 1) and rows["elections"] == (0, 1)
