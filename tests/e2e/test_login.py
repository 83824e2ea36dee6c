"""In a real browser: sign in, switch language, sign out."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD, make_users

pytestmark = pytest.mark.e2e


def test_login_switch_language_logout(sqlite_db, live_server, page):
    accounts = make_users(sqlite_db)
    page.goto(live_server + "/")
    assert page.url.endswith("/login")
    assert page.locator("h1").inner_text() == "ログイン"
    page.fill("#name", accounts.by_role["auditor"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    assert "ようこそ" in page.locator("h1").inner_text()
    page.click("#lang-en")
    page.wait_for_load_state()
    assert "Welcome" in page.locator("h1").inner_text()
    page.click("#logout")
    page.wait_for_url(live_server + "/login")
    assert page.locator("h1").inner_text() == "Sign in"
    page.goto(live_server + "/audit")
    assert page.url.endswith("/login")
