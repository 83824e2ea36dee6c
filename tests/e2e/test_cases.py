"""In a real browser: a researcher named on a contract signs in and downloads the release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.cases.conftest import HERSYS_ROWS, write_hersys
from tests.conftest import PASSWORD, make_users

from kumin.cases import releases, service
from kumin.cases.contracts import ContractInput, add_contract
from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.permissions import Actor

pytestmark = pytest.mark.e2e


def test_researcher_downloads_the_release(sqlite_db, live_server, page, tmp_path):
    accounts = make_users(sqlite_db)
    epi = Actor(accounts.by_role["epidemiologist"], "epidemiologist")
    today = dt.date.today()
    with context(sqlite_db, epi) as ctx:
        service.import_cases(ctx, write_hersys(tmp_path / "h.csv", HERSYS_ROWS))
        add_contract(
            ctx,
            ContractInput(
                code="E2E-1",
                title="共同研究",
                start=today - dt.timedelta(days=1),
                end=today + dt.timedelta(days=30),
                contractors=["結核研究所"],
                items=["HER-SYS ID", "年代", "住所（町名まで）", "結果判明日"],
                researchers=[accounts.by_role["researcher"]],
            ),
        )
        made = releases.create_release(ctx, "E2E-1")

    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["researcher"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/releases")
    assert "E2E-1" in page.locator("#releases").inner_text()
    with page.expect_download() as info:
        page.click(f"#download-{made.release_id}-1")
    saved = Path(info.value.path())
    text = saved.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "pseudonym,age_band,town,result_date"
    assert len(text.splitlines()) == 1 + 6
    assert "1001" not in text and "丁目" not in text
    with session_scope(sqlite_db) as s:
        downloads = audit.query(s, action="release.download")
    assert [d.actor for d in downloads] == [accounts.by_role["researcher"]]
