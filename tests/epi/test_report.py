"""``kumin report epi``: HTML in Japanese and English, PDF, small cells suppressed, audited."""

from __future__ import annotations

import pytest

from kumin.synth.cases import synth_cases, write_cases_csv


@pytest.fixture
def fresh_db(sqlite_db):
    # the report reads through case_frame, tested on both backends elsewhere
    return sqlite_db


@pytest.fixture
def ward(cli, users, tmp_path):
    path = write_cases_csv(synth_cases(seed=5, n=1000), tmp_path / "cases.csv")
    r = cli("cases", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    return users


def test_japanese_html(ward, cli, tmp_path):
    ja = tmp_path / "epi_ja.html"
    r = cli("report", "epi", "--lang", "ja", "--out", str(ja), user=ward.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    html = ja.read_text("utf-8")
    assert "感染症数理モデルによる分析報告書" in html
    for heading in ("流行曲線とナウキャスト", "遅れの分布", "実効再生産数", "方法と前提", "限界"):
        assert heading in html
    assert html.count("<svg") >= 4  # curve, delays, Rt, SEIR (+ care)
    assert "Cori" in html and "EpiEstim" in html  # what each method is and assumes
    assert '<td class="num">x</td>' in html  # a small weekly count and its complement
    assert "1～4 の件数と、その件数を合計や他の欄から逆算できないよう" in html

    from kumin.core import audit
    from kumin.core.db import session_scope

    with session_scope(cli.settings) as session:
        entries = audit.query(session, None, None, "epi.report", limit=10)
        kinds = sorted(e.object for e in entries)
    assert kinds == ["cases", "report:epi"]


def test_english_pdf_of_one_wave(ward, cli, tmp_path):
    out = tmp_path / "epi_en.pdf"
    args = ("--format", "pdf", "--lang", "en", "--from", "2021-07-01", "--to", "2021-09-30")
    r = cli("report", "epi", *args, "--out", str(out), user=ward.by_role["auditor"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:5] == b"%PDF-"


def test_english_text():
    # the English catalogue fills the same template (the figures are checked above)
    from kumin.reports.render import render_html

    html = render_html("epi/report.html", "en", **_empty_context())
    assert "Infectious-disease model analysis report" in html
    assert "Assumes:" in html and "Limitations" in html
    assert "Public tables show counts from 1 to 4, and as many other cells" in html


def _empty_context() -> dict:
    import datetime as dt

    return {
        "n_cases": 3, "n_onset": 2, "n_imported": 0, "first": dt.date(2021, 7, 1),
        "last": dt.date(2021, 7, 3), "small_cell": 5, "curve_chart": None, "nowcast": None,
        "nowcast_error": None, "rt_chart": None, "rt_error": None, "rt_recent": [],
        "delays_chart": None, "delay_rows": [], "delays_error": None, "delays_meta": None,
        "growth": None, "seir": None, "seir_error": None, "seir_chart": None,
        "care_chart": None, "week_rows": [{"week": dt.date(2021, 6, 28), "cases": "<5"}],
        "age_rows": [], "care_rows": [], "si": (4.8, 2.3), "recent_days": 120,
    }  # fmt: skip


def test_refused_and_bad_format(ward, cli):
    r = cli("report", "epi", user=ward.by_role["researcher"])
    assert r.exit_code == 1 and "not allowed" in r.stderr
    r = cli("report", "epi", "--format", "docx", user=ward.by_role["epidemiologist"])
    assert r.exit_code == 1 and "docx" in r.stderr


def test_public_tables_of_the_report_resist_the_lp_attacker():
    """Small cells and their complements are hidden: no hidden count of the report's
    tables can be narrowed to within the threshold from the total (#15)."""
    from tests.cases.test_disclosure import _attack

    from kumin.cases.tables import MARKER
    from kumin.epi.report import _protected

    counts = [130, 2, 44, 61, 9, 1]  # weeks, say: two small cells, one at the edge
    rows = _protected([{"week": i, "cases": c} for i, c in enumerate(counts)], 5)
    shown = [r["cases"] for r in rows]
    assert shown[1] == MARKER and shown[5] == MARKER and shown.count(MARKER) >= 3
    for low, high in _attack({"weeks": shown}, sum(counts)):
        assert high - low > 5
    # a table with one cell below the threshold and nothing to hide it behind
    (only,) = _protected([{"band": "0-9", "cases": 3}], 5)
    assert only["cases"] == MARKER
