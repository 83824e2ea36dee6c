"""A failed fit never looks like a success: model warnings reach the page, the API,
the CLI and the report (#14)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from kumin.epi import service
from kumin.epi.model_warnings import texts
from kumin.synth.cases import synth_cases, write_cases_csv


@pytest.fixture
def fresh_db(sqlite_db):
    # no storage question here: the warnings come from the models, not the database
    return sqlite_db


def _fixed_delays(n: int = 60) -> list:
    """Cases whose every delay is the same number of days: no spread to fit."""
    base = dt.date(2021, 7, 1)
    out = []
    for i, record in enumerate(synth_cases(seed=2, n=n)):
        onset = base + dt.timedelta(days=i % 30)
        out.append(
            dataclasses.replace(
                record,
                onset_date=onset,
                first_visit_date=onset + dt.timedelta(days=1),
                specimen_date=onset + dt.timedelta(days=1),
                result_date=onset + dt.timedelta(days=3),
                report_date=None,
            )
        )
    return out


@pytest.fixture
def flat_ward(cli, users, tmp_path):
    path = write_cases_csv(_fixed_delays(), tmp_path / "cases.csv")
    r = cli("cases", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    return users


ASCII_IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(gamma|lognormal|weibull|shape|scale)\b")


def test_service_records_convergence_and_degenerate_intervals():
    import polars as pl

    from kumin.cases.service import FRAME_SCHEMA
    from kumin.epi.report import _model_warnings

    cases = _fixed_delays()
    frame = pl.DataFrame(
        [{c: getattr(r, c, None) for c in FRAME_SCHEMA} for r in cases], schema=FRAME_SCHEMA
    )
    result = service.analyse_delays(frame, recent_days=None)
    codes = {w["code"] for w in result.meta["warnings"]}
    assert codes == {"not_converged", "degenerate"}
    ja = texts(result.meta, "ja")
    assert any("収束しませんでした" in s for s in ja)
    assert any("一点" in s and "ガンマ" in s for s in ja)
    for sentence in ja:  # in Japanese: no code names of intervals, families or parameters
        assert not ASCII_IDENTIFIER.search(sentence), sentence
    assert any("did not converge" in s for s in texts(result.meta, "en"))
    assert _model_warnings("ja", result) == ja  # what the PDF lists


def test_warnings_on_the_page_the_api_and_the_cli(flat_ward, app_client, cli):
    epi = flat_ward.by_role["epidemiologist"]
    r = cli("epi", "delays", "--from", "2021-07-01", user=epi)
    assert r.exit_code == 0, r.output
    # the CLI of the tests speaks English (the catalogue's Japanese is checked above)
    assert "Warning: Delay distributions: the fit did not converge (12)." in r.stderr
    r = cli("epi", "delays", "--from", "2021-07-01", "--format", "csv", user=epi)
    assert "did not converge" in r.stderr and "converge" not in r.stdout  # csv stays clean

    app_client.login(epi)
    api = app_client.get("/api/v1/epi/delays?from=2021-07-01").json()
    warned = api["meta"]["warnings"]
    assert {w["code"] for w in warned} == {"not_converged", "degenerate"}
    assert all(w["message"] for w in warned)
    chart = app_client.get("/epi/charts/delays.json?from=2021-07-01").json()
    assert any("収束しませんでした" in w for w in chart["warnings"])


def test_the_report_lists_the_warnings(flat_ward, cli, tmp_path):
    out = tmp_path / "epi.html"
    r = cli(
        "report",
        "epi",
        "--format",
        "html",
        "--lang",
        "ja",
        "--out",
        str(out),
        user=flat_ward.by_role["epidemiologist"],
    )
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    assert 'id="model-warnings"' in html and "収束しませんでした" in html
