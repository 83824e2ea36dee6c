"""The evaluation report's content: what it finds in the data, and what it says
when parts of the data are missing (both backends). Rendering to HTML and PDF:
test_evaluation_render.py."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.conftest import actor_for

from kumin.core.context import context
from kumin.resources import report, service, service_continuity


@pytest.fixture
def loaded(users, calls_csv, counts_csv):
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
        service_continuity.import_service_counts(ctx, counts_csv)
    return users


def test_report_of_an_empty_installation_says_what_is_missing(users):
    with context(users.settings, actor_for(users, "auditor")) as ctx:
        html = report.render_evaluation(ctx, fmt="html", lang="en").decode("utf-8")
    assert "no notification records" in html
    assert "No call-centre records have been imported." in html
    assert "No monthly service counts have been imported." in html


def test_findings_follow_the_data(loaded):
    with context(loaded.settings, actor_for(loaded, "epidemiologist")) as ctx:
        ev = report.evaluation(ctx, dt.date(2020, 3, 1), dt.date(2020, 6, 30), "en")
    texts = [text for text, _ in ev.findings]
    assert any(text.startswith("The ward's centre received") for text in texts)
    assert any("BCG doses" in text for text in texts)
    assert ev.plan is not None and ev.plan.plan.by_day.height == 122
    assert ev.calibration is not None and ev.calibration.height == 4  # March to June
    charts = ev.charts()
    assert {"daily_calls", "answer_rate", "saturation", "plan", "monthly_need"} <= set(charts)
    assert "continuity_bcg" in charts and "epi_curve" not in charts
