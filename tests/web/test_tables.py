"""``POST /tables/export``: the table on the screen as CSV (UTF-8 with BOM) or .xlsx (#14)."""

from __future__ import annotations

import io

import pytest

from kumin.core import audit
from kumin.core.context import context
from kumin.core.permissions import SYSTEM

TABLE = {
    "name": "警告の一覧",
    "columns": ["番号", "所属", "件数", "メモ"],
    "rows": [["011002", "課税課", "1,234", '=HYPERLINK("x")'], ["2", "保険年金課", "12.5", ""]],
}


@pytest.fixture
def fresh_db(sqlite_db):
    # no storage here: the file is written from the posted rows
    return sqlite_db


def _post(client, **body):
    return client.post(
        "/tables/export",
        json=TABLE | body,
        # as kumin.js sends it: errors come back as JSON, in the one error shape
        headers={"X-CSRF-Token": client.csrf(), "accept": "application/json"},
    )


def test_csv_and_xlsx_of_a_table(app_client, users):
    from openpyxl import load_workbook

    app_client.login(users.by_role["auditor"])
    r = _post(app_client, format="csv")
    assert r.status_code == 200, r.text
    assert r.content.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    assert "番号,所属,件数,メモ" in r.content.decode("utf-8-sig")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]

    r = _post(app_client, format="xlsx")
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == TABLE["columns"]
    assert rows[1][0] == "011002"  # a code keeps its leading zero
    assert rows[1][2] == 1234 and rows[2][2] == 12.5  # numbers are numbers
    cell = sheet.cell(row=2, column=4)
    assert cell.value == '=HYPERLINK("x")' and cell.data_type == "s"  # text, never a formula

    with context(users.settings, SYSTEM) as ctx:
        entries = audit.query(ctx.session, action="tables.export")
    assert [e.object for e in entries] == ["table:警告の一覧"] * 2
    assert all("課税課" not in str(e.details) for e in entries)  # no cell value in the trail


def test_bad_requests_are_refused_cleanly(app_client, users):
    assert app_client.post("/tables/export", json=TABLE).status_code in (302, 303, 401, 403)
    app_client.login(users.by_role["researcher"])
    r = _post(app_client, format="ods")
    assert r.status_code == 400 and "ods" in r.json()["error"]["message"]
    r = _post(app_client, rows=[["1"]])
    assert r.status_code == 400
