"""In a real browser: the alert queue, the call plan and the card list sort, filter,
page and download as CSV (UTF-8 with BOM) and Excel (#14)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from tests.conftest import PASSWORD, actor_for, make_users

from kumin.core.context import context
from kumin.core.i18n import t

pytestmark = pytest.mark.e2e


def _login(page, live_server, name):
    page.goto(live_server + "/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(live_server + "/")


def _download(page, button) -> bytes:
    with page.expect_download() as info:
        page.click(button)
    return Path(info.value.path()).read_bytes()


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # UTF-8 with BOM, as Excel needs
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    return [[c.value for c in r] for r in load_workbook(io.BytesIO(data)).active.iter_rows()]


def _visible(page, table: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{table} tbody tr:not([hidden])",
        "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
    )


def test_alert_queue(sqlite_db, live_server, page, tmp_path):
    from tests.oplog._db import acting, load_records, write_log
    from tests.oplog._ward import make_events, ward_context
    from tests.oplog.test_storage import CHECKLIST, ROWS

    from kumin.oplog import service

    accounts = make_users(sqlite_db)
    load_records(sqlite_db, ward_context(checklist=CHECKLIST), tmp_path)
    with acting(sqlite_db, "auditor") as ctx:
        service.import_log(ctx, write_log(make_events(ROWS), tmp_path / "log.csv"))
        total = len(service.run_scan(ctx).alerts)
    _login(page, live_server, accounts.by_role["auditor"])
    page.goto(live_server + "/oplog")
    assert page.locator(".table-count").inner_text() == f"{total} 件"

    page.click("#alerts thead th:nth-child(1)")  # by number, then the other way
    page.click("#alerts thead th:nth-child(1)")
    numbers = [int(r[0]) for r in _visible(page, "#alerts")]
    assert numbers == sorted(numbers, reverse=True)
    assert page.get_attribute("#alerts thead th:nth-child(1)", "aria-sort") == "descending"

    watch = t("oplog.rule_name.watch_list", "ja")
    page.fill(".table-filter", watch)
    assert page.locator(".table-count").inner_text() == "1 件"
    rows = _csv_rows(_download(page, ".table-csv"))
    assert rows[0][0] == "#" and len(rows) == 2 and watch in rows[1]
    sheet = _xlsx_rows(_download(page, ".table-xlsx"))
    assert len(sheet) == 2 and watch in sheet[1]


def test_call_plan_pages_every_day(sqlite_db, live_server, page, tmp_path):
    from kumin.core.tabular import atomic_write_bytes
    from kumin.resources import service
    from kumin.synth.resources import call_centre_days, frame_csv_bytes

    accounts = make_users(sqlite_db)
    calls_csv = tmp_path / "calls.csv"
    atomic_write_bytes(calls_csv, frame_csv_bytes(call_centre_days(seed=5)))
    with context(sqlite_db, actor_for(accounts, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
    _login(page, live_server, accounts.by_role["epidemiologist"])
    page.goto(live_server + "/calls/plan")
    table = "#plan-days"
    total = page.locator(f"{table} tbody tr").count()
    assert total > 50  # every day is listed, none cut off
    assert len(_visible(page, table)) == 50  # fifty to a page
    assert page.locator(".table-page").inner_text().startswith("1 / ")
    page.click(".table-next")
    assert page.locator(".table-page").inner_text().startswith("2 / ")

    page.click(f"{table} thead th:nth-child(2)")  # calls received, as numbers
    assert page.locator(".table-page").inner_text().startswith("1 / ")  # back to page 1
    received = [float(r[1].replace(",", "")) for r in _visible(page, table)]
    assert received == sorted(received)
    rows = _csv_rows(_download(page, ".table-csv"))
    assert len(rows) == total + 1  # every page, not just the one shown
    assert [float(r[1]) for r in rows[1:51]] == received
    sheet = _xlsx_rows(_download(page, ".table-xlsx"))
    assert len(sheet) == total + 1 and isinstance(sheet[1][1], int | float)


def test_card_list(sqlite_db, live_server, page):
    from kumin.cards import service

    accounts = make_users(sqlite_db)
    at = dt.datetime(2022, 4, 4, 11, 0)
    with context(sqlite_db, actor_for(accounts, "records_officer")) as ctx:
        for i, name in enumerate(("世田 太郎", "北沢 花子", "玉川 一郎")):
            no = 3001 + i
            service.register_resident(ctx, no, name, dt.date(1980 + i, 1, 2), "世田谷区砧1丁目")
            service.apply(ctx, no, "web", at + dt.timedelta(days=i))
    _login(page, live_server, accounts.by_role["records_officer"])
    page.goto(live_server + "/cards")
    table = "table.data:has(th:text('" + t("cards.web.card_no", "ja") + "'))"
    assert page.locator(".table-count").first.inner_text() == "3 件"
    page.click(f"{table} thead th:nth-child(2)")
    page.click(f"{table} thead th:nth-child(2)")
    residents = [r[1] for r in _visible(page, table)]
    assert residents == ["3003", "3002", "3001"]
    page.locator(".table-filter").first.fill("3002")
    assert [r[1] for r in _visible(page, table)] == ["3002"]
    with page.expect_download() as info:
        page.locator(".table-xlsx").first.click()
    sheet = _xlsx_rows(Path(info.value.path()).read_bytes())
    assert sheet[0][1] == t("cards.web.resident_no", "ja") and len(sheet) == 2
    assert sheet[1][1] == 3002
