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


def _login(page, live_server, name):
    page.goto(live_server + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")


def test_delays_and_growth_pages_draw_their_charts_in_japanese(
    sqlite_db, live_server, page, tmp_path
):
    from pathlib import Path

    from kumin.cases.service import import_cases
    from kumin.core.context import context
    from kumin.synth.cases import synth_cases, write_cases_csv

    accounts = make_users(sqlite_db)
    path = write_cases_csv(synth_cases(seed=3, n=900), tmp_path / "cases.csv")
    with context(sqlite_db, actor_for(accounts, "epidemiologist")) as ctx:
        import_cases(ctx, path)
    _login(page, live_server, accounts.by_role["epidemiologist"])

    page.goto(live_server + "/epi/delays")
    page.wait_for_selector("#delays-chart .main-svg", timeout=30_000)
    chart = page.locator("#delays-chart")
    assert chart.locator(".barlayer .trace").count() == 4  # one histogram per interval
    legend = " ".join(chart.locator(".legend .legendtext").all_text_contents())
    assert all(w in legend for w in ("観測（補正前）", "ガンマ", "対数正規", "ワイブル"))
    # the parameter / AIC table arrives by HTMX and becomes a sortable table
    page.wait_for_selector("#delay-fits[data-enhanced]", timeout=30_000)
    assert page.locator("#delay-fits tbody tr").count() == 12
    # Plotly speaks Japanese: tool tips from the catalogue, no share button
    titles = chart.locator(".modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
    assert "PNG 画像として保存" in titles and not any("Share" in (t or "") for t in titles)
    with page.expect_download() as info:
        page.click("#delays-csv")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode()) and "観測（補正前）" in data.decode("utf-8-sig")

    page.goto(live_server + "/epi/growth")
    page.wait_for_selector("#growth-chart .main-svg", timeout=30_000)
    growth = page.locator("#growth-chart")
    assert "増加率（1 日あたり）" in " ".join(growth.locator(".legendtext").all_text_contents())
    assert growth.locator(".scatterlayer .trace").count() >= 6  # three lines, three bands
    ticks = growth.locator(".xtick text").all_text_contents()
    assert ticks and not any(m in " ".join(ticks) for m in ("Jan", "Feb", "Mar", "Jun", "Sep"))


def test_a_fragment_that_cannot_be_computed_says_why(sqlite_db, live_server, page):
    accounts = make_users(sqlite_db)  # no records: the delays table cannot be fitted
    _login(page, live_server, accounts.by_role["epidemiologist"])
    page.goto(live_server + "/epi/delays")
    page.wait_for_selector("#delays-table[data-state='error']", timeout=30_000)
    assert "届出データがありません" in page.locator("#delays-table").inner_text()
    page.wait_for_selector("#delays-chart[data-state='error']", timeout=30_000)
