"""In a real browser: an auditor takes an alert under review and closes it as misuse."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD, make_users
from tests.oplog._db import acting, load_records, write_log
from tests.oplog._ward import make_events, ward_context
from tests.oplog.test_storage import CHECKLIST, ROWS

from kumin.core import audit
from kumin.oplog import service

pytestmark = pytest.mark.e2e


def test_auditor_triages_an_alert(sqlite_db, live_server, page, tmp_path):
    accounts = make_users(sqlite_db)
    load_records(sqlite_db, ward_context(checklist=CHECKLIST), tmp_path)
    with acting(sqlite_db, "auditor") as ctx:
        service.import_log(ctx, write_log(make_events(ROWS), tmp_path / "log.csv"))
        service.run_scan(ctx)

    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["auditor"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/oplog?rule=watch_list")
    links = page.locator("a.alert-link")
    assert links.count() == 1
    links.first.click()
    page.wait_for_selector("#step-review")
    assert "R900" not in page.content()  # the resident stays a reference until revealed

    page.fill("#note", "所属に照会した")
    page.click("#step-review")  # HTMX swaps the triage panel in place
    page.wait_for_selector("#step-close")
    assert "所属に照会した" in page.locator("#notes").inner_text()

    page.select_option("#outcome", "misuse")
    page.fill("#note", "同僚に頼まれた住所確認。業務上の理由なし")
    page.click("#step-close")
    page.wait_for_selector("#step-reopen")
    assert "不正利用" in page.locator("#state").inner_text()

    with acting(sqlite_db, "auditor") as ctx:
        closed = service.list_alerts(ctx, state="misuse")
        actions = [e.action for e in audit.query(ctx.session, action="oplog.triage")]
    assert [a["rule"] for a in closed] == ["watch_list"]
    assert actions == ["oplog.triage_review", "oplog.triage_close"]
