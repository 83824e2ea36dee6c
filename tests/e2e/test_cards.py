"""In a real browser: a records officer records a visit-at-application card
(申請時来庁方式) from the application at a window to its delivery by post."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import PASSWORD, actor_for, make_users

from kumin.cards import service
from kumin.core.context import context

pytestmark = pytest.mark.e2e


def test_records_officer_takes_a_card_from_application_to_delivery(sqlite_db, live_server, page):
    accounts = make_users(sqlite_db)
    with context(sqlite_db, actor_for(accounts, "records_officer")) as ctx:
        service.register_resident(ctx, 3001, "窓口 申子", dt.date(1990, 1, 2), "世田谷区砧1丁目")
    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["records_officer"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/cards")
    page.fill("#resident_no", "3001")
    page.fill("#purpose", "card issuance")
    page.click("#search")
    page.wait_for_url(live_server + "/cards/search")
    assert "3001" not in page.url  # the number travels in the form body only
    assert "窓口 申子" in page.locator("#resident").inner_text()
    # the application, taken at the card centre with the identity check
    page.select_option("#apply-method", "visit_at_application")
    page.select_option("#apply-window", "card_centre")
    page.select_option("#apply-face", "match")
    page.check("#apply-doc-driving_licence")
    page.fill("#apply-at", "2022-04-04T11:00")
    page.click("#apply")
    page.wait_for_url(live_server + "/cards/1")
    assert page.locator("#current-step").inner_text() == "本人確認"
    assert page.locator("input[type=password]").count() == 0
    steps = [
        ("hold_form", "2022-04-04T11:10", "暗証番号設定依頼書預かり"),
        ("ward_set_pins", "2022-04-18T10:00", "交付前設定（区による暗証番号設定）"),
        ("shred_form", "2022-04-18T10:20", "依頼書廃棄（シュレッダー）"),
        ("mail", "2022-04-19T09:00", "本人限定受取郵便で送付"),
        ("deliver", "2022-04-21T15:00", "交付"),
    ]
    for action, at, label in steps:
        # only the allowed next steps are offered
        assert page.locator(f"#form-{action}").count() == 1, action
        assert page.locator("#form-issue").count() == 0
        page.fill(f"#{action}-at", at)
        if action == "mail":
            page.fill("#mail-tracking", "RD000111222JP")
        page.click(f"#do-{action}")
        page.wait_for_url(live_server + "/cards/1")
        assert page.locator("#current-step").inner_text() == label, action
    assert page.locator("#current-status").inner_text() == "運用中"
    history = page.locator("#history").inner_text()
    assert "u-records-officer" in history and "RD000111222JP" in history
    assert page.locator("#next-steps").count() == 0
    assert "署名用電子証明書" in page.locator("#certificates").inner_text()
