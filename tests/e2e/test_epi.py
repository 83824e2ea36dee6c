"""In a real browser: the Rt page draws its Plotly chart from local files."""

from __future__ import annotations

import pytest
from tests.conftest import PASSWORD, actor_for, make_users

pytestmark = pytest.mark.e2e


def test_rt_page_draws_the_chart(sqlite_db, live_server, page, tmp_path):
    from kumin.cases.service import import_cases
    from kumin.core.context import context
    from kumin.synth.cases import synth_cases, write_cases_csv

    accounts = make_users(sqlite_db)
    path = write_cases_csv(synth_cases(seed=3, n=600), tmp_path / "cases.csv")
    with context(sqlite_db, actor_for(accounts, "epidemiologist")) as ctx:
        import_cases(ctx, path)

    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["epidemiologist"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/epi/rt")
    assert "実効再生産数" in page.locator("h1").inner_text()
    # kumin.js fetches /epi/charts/rt.json and Plotly draws it into the div
    page.wait_for_selector("#rt-chart .main-svg", timeout=30_000)
    assert page.locator("#rt-chart .scatterlayer .trace").count() >= 2  # Rt band and line
    assert "Rt = 1" in page.locator("#rt-chart").inner_text()


def test_a_chart_that_cannot_be_drawn_says_why(sqlite_db, live_server, page):
    accounts = make_users(sqlite_db)  # no records imported: every chart request fails
    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["epidemiologist"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/epi/rt")
    page.wait_for_selector("#rt-chart[data-state='error']", timeout=30_000)
    message = page.locator("#rt-chart .plot-message").inner_text()
    assert "届出データがありません" in message  # the server's own message, in Japanese
