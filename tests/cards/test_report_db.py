"""The security report computed from the DATABASE after the demo load reproduces every
figure of the source report (../shared/seeds/000_6f72770991084e8a.txt, sections 1(2),
3, 4), typed here from the report.

The full synthetic ward (581k cards, 1.15M certificate events) is loaded on SQLite;
on PostgreSQL a tenth of it is loaded and the figures read back from the database
must equal those computed from the same frames in memory (the full load there
takes about as long again, too long for every test run).
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from rich.progress import Progress

from kumin.cards import demo
from kumin.cards.figures import security_figures
from kumin.cards.records import CardRecords, inquiry_functions
from kumin.cards.report import card_sections
from kumin.cards.service_records import import_records
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.permissions import Actor
from kumin.reports.security import make_security_report, render_report, security_report
from kumin.synth.cards import NOT_ITEMISED, synthetic_card_records

# 令和2年度, 令和3年度 — as printed in the source report
ISSUANCE = [
    ("applications", 395_217, 526_379),
    ("prepared", 336_000, 478_855),
    ("issued", 297_030, 439_506),
    ("not_collected", 38_970, 39_349),
]
CERTIFICATES = [("signature", 166_053, 173_860, 584_353), ("user_auth", 166_355, 166_427, 568_116)]
STATUS = [  # 令和3年4月1日, 令和4年4月1日
    ("valid", 278_614, 411_263),
    ("ratio", "30.3", "44.8"),
    ("operating", 278_177, 410_654),
    ("suspended", 437, 609),
    ("revoked", 20_285, 31_439),
]
JUKI_MOVES = [
    ("special_move_out", 5_390, 9_254, 25_335),
    ("special_move_in", 6_912, 12_026, 39_030),
    ("continued_use", 13_795, 23_119, 63_545),
]
JUKI_WIDE_AREA = [("wide_area_issued", 795, 641, 10_969), ("wide_area_sent", 1_241, 1_096, 18_772)]
INQUIRIES = [
    ("residential_tax", 6_850, 7_725),
    ("national_health_insurance", 220, 176),
    ("long_term_care", 86, 70),
    ("late_stage_elderly", 0, 111),
    ("public_assistance", 75, 37),
    ("child_allowance", 11_655, 10_057),
    ("child_rearing_allowance", 184, 170),
    ("special_child_rearing_allowance", 34, 19),
    ("welfare_loans", 6, 0),
    ("immunisation", 13, 18),
    ("elections", 1_807, 428),
    ("public_benefits", 0, 359),
    ("not_itemised", 0, 10),  # the printed total less the rows (see the report note)
    ("total", 20_930, 19_180),
]
ADMIN = Actor("demo-admin", "admin")
OFFICER = Actor("demo-records", "records_officer")


def _tables(report_json: bytes) -> dict[str, list[list]]:
    body = json.loads(report_json)
    return {
        tb["key"]: [[str(v) if isinstance(v, str) else v for v in row] for row in tb["values"]]
        for section in body["sections"]
        for tb in section["tables"]
    }


def _as_lists(rows) -> list[list]:
    return [[str(v) if isinstance(v, str) else v for v in row] for row in rows]


def test_demo_reproduces_every_figure_of_the_source_report(sqlite_db, tmp_path, monkeypatch):
    # one test, so that the full load runs once whatever the number of test workers;
    # the national figures are tested on their own (test_cli_db.py)
    monkeypatch.setenv("KUMIN_SHARED_DATA", str(tmp_path / "no-shared-data"))
    with Progress(disable=True) as progress, context(sqlite_db, ADMIN) as ctx:
        demo.load_demo(ctx, seed=3, progress=progress)
    with context(sqlite_db, OFFICER) as ctx:
        body, media, name = make_security_report(ctx, 2021, "json", "en", [card_sections])
        body20, _, _ = make_security_report(ctx, 2020, "json", "ja", providers=[card_sections])
        report = security_report(ctx, 2021, "ja", providers=[card_sections])
    # FY2021, from the database
    assert media == "application/json" and name == "security_report_FY2021_en.json"
    tables = _tables(body)
    assert tables["issuance"] == [list(r) for r in ISSUANCE]
    assert tables["certificates"] == [list(r) for r in CERTIFICATES]
    assert tables["status"] == [list(r) for r in STATUS]
    assert tables["juki_moves"] == [list(r) for r in JUKI_MOVES]
    assert tables["juki_wide_area"] == [list(r) for r in JUKI_WIDE_AREA]
    assert tables["inquiries"] == [list(r) for r in INQUIRIES]
    body_json = json.loads(body)
    assert (body_json["label_ja"], body_json["label_en"]) == ("令和3年度", "FY2021")
    section4 = next(s for s in body_json["sections"] if s["number"] == "4")
    assert any("10" in note and "Other" in note for note in section4["notes"])
    # FY2020: its current column is the FY2021 report's previous column
    tables20 = _tables(body20)
    assert [r[2] for r in tables20["issuance"]] == [r[1] for r in ISSUANCE]
    assert tables20["status"][0][2] == 278_614
    sections = {s["key"]: s for s in json.loads(body20)["sections"]}
    assert sections["cards.issuance"]["tables"][0]["header"][1:] == ["令和元年度", "令和2年度"]
    windows = [r[0] for r in sections["cards.system"]["tables"][0]["values"]]
    assert "special_venue" in windows and "card_centre" in windows  # open in FY2020
    # the layout: HTML and PDF as the source report prints them, CSV for Excel
    html, _, _ = render_report(report, "html")
    pdf, pdf_media, _ = render_report(report, "pdf")
    csv, _, _ = render_report(report, "csv")
    text = html.decode("utf-8")
    for printed in ("526,379件", "411,263枚 (44.8%)", "584,353通", "12,026件", "19,180件"):
        assert printed in text, printed
    assert "令和4年4月1日" in text and "制度開始 (平成24年7月) からの累計" in text
    assert "その他（報告書の内訳に記載なし）" in text
    assert "第3土曜とそれに続く日曜を除く" in text and text.count("<h2>1 ") == 1
    assert csv.startswith(b"\xef\xbb\xbf")
    assert "交付申請,395217,526379" in csv.decode("utf-8-sig")
    assert pdf.startswith(b"%PDF") and pdf_media == "application/pdf"
    # loading again changes nothing; report generation is audited
    from sqlalchemy import func, select

    from kumin.cards.models import Card, Certificate
    from kumin.core import audit

    def counts():
        with session_scope(sqlite_db) as s:
            return (
                s.scalar(select(func.count()).select_from(Card)),
                s.scalar(select(func.count()).select_from(Certificate)),
            )

    before = counts()
    with Progress(disable=True) as progress, context(sqlite_db, ADMIN) as ctx:
        demo.load_demo(ctx, seed=3, progress=progress)
    assert counts() == before and before[0] > 580_000 and before[1] > 1_150_000
    with session_scope(sqlite_db) as s:
        reports = audit.query(s, action="security.report")
        assert [json.loads(e.details)["format"] for e in reports] == ["json", "json"]
        assert reports[0].actor == "demo-records" and reports[0].object == "report:security:FY2021"
        assert audit.verify(s).ok


def test_figures_read_back_from_postgresql(fresh_db):
    if not fresh_db.database_url.startswith("postgresql"):
        pytest.skip("the full load runs on SQLite above")
    full = synthetic_card_records(seed=1)
    cards = full.cards.filter(pl.col("card_id") % 10 == 0)
    keep = cards.select("card_id")
    part = CardRecords(
        cards=cards,
        card_events=full.card_events.join(keep, on="card_id", how="semi"),
        certificates=full.certificates.join(keep, on="card_id", how="semi"),
        juki_transactions=full.juki_transactions.gather_every(10),
        inquiries=full.inquiries.filter(pl.col("function") != NOT_ITEMISED.code).gather_every(10),
        population=full.population,
    )
    expected = security_figures(part, 2021, inquiry_functions()).to_dict()
    with context(fresh_db, OFFICER) as ctx:
        import_records(ctx, part)
    with context(fresh_db, OFFICER) as ctx:
        from kumin.cards.report import card_figures

        got = card_figures(ctx, 2021).to_dict()
    assert got == expected
    assert got["issuance"]["issued"] > 40_000
