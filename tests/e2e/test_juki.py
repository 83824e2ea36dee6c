"""In a real browser: a terminal manager fills today's daily checklist for their
terminal, marks the security wire not fixed, and sees the terminal flagged; the
terminal of another department is refused."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD, make_users
from tests.juki._helpers import acting, small_ward

from kumin.juki import service
from kumin.juki.service_units import today
from kumin.oplog.governance import governance_context

pytestmark = pytest.mark.e2e


def test_terminal_manager_fills_todays_checklist(sqlite_db, live_server, page, tmp_path):
    accounts = make_users(sqlite_db)  # the terminal manager works in 課税課 (D08)
    small_ward(sqlite_db, tmp_path)
    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["terminal_manager"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/juki")
    rows = page.locator("#terminals tbody tr")
    assert rows.count() == 2  # the department's own terminal and the shared one
    assert "T1201" not in page.locator("#terminals").inner_text()
    page.click("text=T0801")
    page.wait_for_url(live_server + "/juki/terminals/T0801")
    assert today().isoformat() in page.locator("h2").first.inner_text()
    page.check("#ng-wire")
    page.fill("#checklist-note", "ワイヤーが外れていた")
    page.click("#checklist-submit")
    page.wait_for_selector("#checklist-saved")
    assert "セキュリティワイヤー未固定" in page.locator("#terminal-state").inner_text()
    history = page.locator("#checklist-history").inner_text()
    assert today().isoformat() in history and "未固定" in history and "wire" in history
    with acting(sqlite_db, "auditor") as ctx:
        entries = service.list_checklists(ctx, today(), today(), terminal_id="T0801")
        context = governance_context(ctx, today(), today())
    assert [(c["secured"], c["note"]) for c in entries] == [(False, "ワイヤーが外れていた")]
    assert [(c.terminal_id, c.secured) for c in context.checklist] == [("T0801", False)]
    response = page.goto(live_server + "/juki/terminals/T1201")
    assert response.status == 403
