"""The security report as an .xlsx in the source report's layout."""

from __future__ import annotations

import io
import json

import openpyxl
import polars as pl

from kumin.cards.records import CardRecords
from kumin.cards.service_records import import_records
from kumin.core.context import context
from kumin.core.permissions import Actor
from kumin.synth.cards import NOT_ITEMISED, synthetic_card_records

OFFICER = Actor("demo-records", "records_officer")


def _load_part(settings) -> None:
    full = synthetic_card_records(seed=4)
    cards = full.cards.filter(pl.col("card_id") % 40 == 0)
    keep = cards.select("card_id")
    part = CardRecords(
        cards=cards,
        card_events=full.card_events.join(keep, on="card_id", how="semi"),
        certificates=full.certificates.join(keep, on="card_id", how="semi"),
        juki_transactions=full.juki_transactions.gather_every(40),
        inquiries=full.inquiries.filter(pl.col("function") != NOT_ITEMISED.code).gather_every(40),
        population=full.population,
    )
    with context(settings, OFFICER) as ctx:
        import_records(ctx, part)


def test_security_report_xlsx_has_the_printed_layout_and_the_json_figures(cli, users, tmp_path):
    _load_part(cli.settings)
    officer = users.by_role["records_officer"]
    out = tmp_path / "report.xlsx"
    args = ("report", "security", "--fy", "2021", "--lang", "ja")
    r = cli(*args, "--format", "xlsx", "--out", str(out), user=officer)
    assert r.exit_code == 0, r.stderr
    r = cli(*args, "--format", "json", user=officer)
    body = json.loads(r.stdout)
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    sheet = book.worksheets[0]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    texts = [str(c) for row in cells for c in row if c is not None]
    assert texts[0].startswith("令和3年度")
    # era-dated column headings: the previous year beside the current one
    assert any(
        str(r[1]).startswith("令和2年度") and str(r[2]).startswith("令和3年度") for r in cells
    )
    issuance = next(tb for s in body["sections"] for tb in s["tables"] if tb["key"] == "issuance")
    applications = issuance["values"][0]
    row = next(r for r in cells if r[0] == issuance["rows"][0][0])
    assert list(row[1:3]) == applications[1:3] and isinstance(row[1], int)
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)  # A4
    figures = book.worksheets[1]
    assert figures.max_row > 20 and figures.cell(1, 5).value == "値"
