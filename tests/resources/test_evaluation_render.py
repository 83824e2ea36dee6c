"""The evaluation report rendered: HTML in both languages, PDF, and the audit entry.

Rendering (matplotlib SVGs, WeasyPrint) does not depend on the storage backend and
takes seconds per report, so these run on SQLite only; the data access behind them
runs on both backends in test_evaluation_report.py.
"""

from __future__ import annotations

import pytest
from tests.conftest import actor_for

from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.resources import service, service_continuity


@pytest.fixture
def fresh_db(sqlite_db):
    return sqlite_db


@pytest.fixture
def loaded(users, calls_csv, counts_csv):
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
        service_continuity.import_service_counts(ctx, counts_csv)
    return users


def test_html_report_in_japanese_and_english(cli, loaded, tmp_path):
    epi = loaded.by_role["epidemiologist"]
    r = cli("report", "evaluation", "--lang", "ja", user=epi)
    assert r.exit_code == 0, r.output
    html = r.stdout
    assert "健康危機対応の評価" in html
    assert "発生届の記録がない" in html  # no notification records: the report says so
    assert "結核接触者健診" in html and "<svg" in html
    out = tmp_path / "ev.html"
    r = cli(
        "report", "evaluation", "--lang", "en", "--from", "2020-04-01", "--to", "2020-05-31",
        "--out", str(out), user=loaded.by_role["auditor"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    english = out.read_text("utf-8")
    assert "Evaluation of the health-crisis response" in english
    assert "TB contact examinations: disrupted in 2020-04" in english
    assert "under-staffed" in english
    with session_scope(loaded.settings) as s:
        entries = audit.as_rows(audit.query(s, action="evaluation.report"))
    assert [(e["actor"], e["details"]["format"]) for e in entries] == [
        (epi, "html"),
        (loaded.by_role["auditor"], "html"),
    ]


def test_pdf_report(cli, loaded, tmp_path):
    out = tmp_path / "ev.pdf"
    r = cli(
        "report", "evaluation", "--format", "pdf", "--from", "2020-05-01", "--to", "2020-06-30",
        "--out", str(out), user=loaded.by_role["epidemiologist"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
