"""Printable paper forms: operator ledger, usage record book, daily checklist."""

from __future__ import annotations

import io

import openpyxl
from tests.conftest import make_users
from tests.juki._helpers import small_ward


def _cells(path) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(path.read_bytes())).worksheets[0]
    return [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def test_forms_print_as_xlsx_and_pdf(fresh_db, tmp_path, cli):
    users = make_users(fresh_db)
    small_ward(fresh_db, tmp_path)
    officer, manager = users.by_role["records_officer"], users.by_role["terminal_manager"]
    ledger = tmp_path / "ledger.xlsx"
    args = ("juki", "form", "ledger", "--department", "D08", "--on", "2021-05-01", "--lang", "ja")
    r = cli(*args, "--format", "xlsx", "--out", str(ledger), user=officer)
    assert r.exit_code == 0, r.stderr
    cells = _cells(ledger)
    assert "住基ネット操作者管理簿" in cells and "令和3年4月1日" in cells  # the version in force
    assert {"U1", "U3", "U4", "職員U4"} <= set(cells) and "U2" not in cells  # U2 left in April
    pdf = tmp_path / "ledger.pdf"
    r = cli(*args, "--out", str(pdf), user=officer)
    assert r.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")

    r = cli("juki", "checklist", "record", "T0801", "--date", "2021-06-01", user=manager)
    assert r.exit_code == 0
    checklist = tmp_path / "checklist.xlsx"
    r = cli(
        "juki", "form", "checklist", "--terminal", "T0801", "--from", "2021-06-01",
        "--to", "2021-06-07", "--format", "xlsx", "--out", str(checklist), "--lang", "ja",
        user=manager,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    cells = _cells(checklist)
    # 6/1 checked; 6/2-6/4 and 6/7 are business days without a check; 6/5-6/6 a weekend
    assert cells.count("未点検") == 4 and "適合" in cells and "令和3年6月5日" not in cells
    r = cli("juki", "form", "checklist", "--out", str(checklist), user=manager)
    assert r.exit_code == 2 and "--terminal" in r.stderr
    # a terminal manager prints only their own department's ledger
    r = cli("juki", "form", "ledger", "--department", "D12", "--out", str(ledger), user=manager)
    assert r.exit_code == 1 and "not allowed" in r.stderr
    usage = tmp_path / "usage.xlsx"
    r = cli(
        "juki", "form", "usage", "--from", "2021-06-01", "--to", "2021-06-30",
        "--format", "xlsx", "--out", str(usage), user=officer,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr


def test_form_and_report_cells_are_never_formulas():
    from kumin.juki.forms import Form, render_form
    from kumin.reports.security import ReportSection, SecurityReport
    from kumin.reports.security_xlsx import render_xlsx

    hostile = '=HYPERLINK("http://x","y")'
    form = Form("usage", "ja", "t", [("所属", hostile)], ["a"], [[hostile]])
    body, _, _ = render_form(form, "xlsx")
    cells = [
        c for row in openpyxl.load_workbook(io.BytesIO(body)).worksheets[0].values for c in row
    ]
    assert hostile not in cells and "'" + hostile in cells
    report = SecurityReport(2021, "ja", hostile, "令和3年度", "令和3年度", "FY2021", [
        ReportSection("1", "k", hostile, paragraphs=[hostile]),
    ])  # fmt: skip
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(report))).worksheets[0]
    texts = [c for row in sheet.values for c in row if c]
    assert not any(str(c).startswith("=") for c in texts)
