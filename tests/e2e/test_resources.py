"""In a real browser: the epidemiologist opens the evaluation report and its charts draw."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.conftest import PASSWORD, actor_for, make_users

from kumin.core.context import context
from kumin.core.tabular import atomic_write_bytes
from kumin.resources import service, service_continuity
from kumin.synth.resources import call_centre_days, frame_csv_bytes, service_counts

pytestmark = pytest.mark.e2e


def _load(accounts, folder) -> None:
    days = call_centre_days(seed=5).filter(
        pl.col("date").is_between(dt.date(2020, 3, 1), dt.date(2020, 5, 31))
    )
    counts = service_counts(seed=5).filter(pl.col("service").is_in(["bcg", "mr"]))
    calls_csv, counts_csv = folder / "calls.csv", folder / "counts.csv"
    atomic_write_bytes(calls_csv, frame_csv_bytes(days))
    atomic_write_bytes(counts_csv, frame_csv_bytes(counts, ("month",)))
    with context(accounts.settings, actor_for(accounts, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
        service_continuity.import_service_counts(ctx, counts_csv)


def test_epidemiologist_opens_the_evaluation_report(sqlite_db, live_server, page, tmp_path):
    accounts = make_users(sqlite_db)
    _load(accounts, tmp_path)
    page.goto(live_server + "/login")
    page.fill("#name", accounts.by_role["epidemiologist"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")
    page.click("text=評価報告書")
    page.wait_for_url(live_server + "/reports/evaluation")
    assert page.locator("#evaluation-title").inner_text() == "健康危機対応の評価: 人・金・物の配分"
    assert page.locator(".finding").count() >= 3
    # Plotly (served locally) draws every chart of the page.
    plots = page.locator("div.plot")
    assert plots.count() >= 5
    page.wait_for_selector("div.plot .main-svg", timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('div.plot')].every(d => d.querySelector('.main-svg'))",
        timeout=60_000,
    )
    page.click("#lang-en")
    page.wait_for_load_state()
    assert (
        "Evaluation of the health-crisis response" in page.locator("#evaluation-title").inner_text()
    )
