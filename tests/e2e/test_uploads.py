"""In a real browser: a bad upload shows the form again with its problems (#14)."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD, make_users

pytestmark = pytest.mark.e2e


def test_a_bad_operation_log_shows_the_form_and_its_problems(
    sqlite_db, live_server, page, tmp_path
):
    accounts = make_users(sqlite_db)
    bad = tmp_path / "操作ログ_202106.csv"
    bad.write_text(
        "timestamp,terminal_id,operator_id,action,subject,function\n"
        "2021-06-01 10:00:00,T0101,U1,view,R1,住民票\n"
        "2021-13-01 10:05:00,T0801,U8,view,R2,住民税\n",
        encoding="utf-8",
    )
    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["auditor"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/oplog/files")
    page.set_input_files("#upload input[type=file]", str(bad))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#import-error")
    box = page.locator("#import-error").inner_text()
    assert "「操作ログ_202106.csv」は取り込めませんでした" in box
    assert "kumin-upload" not in box and "/tmp/" not in box
    lines = page.locator("#problems tbody tr td:first-child").all_inner_texts()
    assert "3" in lines  # the bad timestamp, by its line
    assert page.locator("#upload").is_visible()  # the form, ready for the fixed file
    assert "エラー (400)" not in page.locator("h1").inner_text()
