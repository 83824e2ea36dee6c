"""Web pages and JSON API of the resources domain (both backends)."""

from __future__ import annotations

import pytest
from tests.conftest import actor_for

from kumin.core.context import context
from kumin.resources import service, service_continuity, service_plan

PAGES = ["/calls", "/calls/staffing", "/calls/plan", "/continuity", "/reports/evaluation"]


@pytest.fixture
def loaded(users, calls_csv, counts_csv):
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv)
        service_continuity.import_service_counts(ctx, counts_csv)
    return users


def test_pages_open_for_allowed_roles(app_client, loaded):
    for role in ("epidemiologist", "auditor"):
        app_client.login(loaded.by_role[role])
        for path in PAGES:
            r = app_client.get(path)
            assert r.status_code == 200, (role, path, r.status_code)
        calls = app_client.get("/calls").text
        assert 'data-figure="/calls/charts/daily.json' in calls
        assert "/static-vendor/plotly.min.js" in calls
        assert ("calls/import" in calls) == (role == "epidemiologist")
        app_client.logout()


def test_researcher_is_refused(app_client, loaded):
    app_client.login(loaded.by_role["researcher"])
    for path in PAGES:
        assert app_client.get(path).status_code == 403


def test_charts_and_api(app_client, loaded):
    app_client.login(loaded.by_role["epidemiologist"])
    for name in ("daily", "answer_rate", "saturation"):
        fig = app_client.get(f"/calls/charts/{name}.json").json()
        assert fig["data"], name
    assert app_client.get("/calls/charts/nothing.json").status_code == 404
    plan = app_client.get("/calls/plan/chart.json?from=2020-04-01&to=2020-04-30").json()
    assert len(plan["data"][0]["x"]) == 30
    bcg = app_client.get("/continuity/charts/bcg.json").json()
    assert any(trace.get("fill") == "tonexty" for trace in bcg["data"])  # the expected band
    answer = app_client.get(
        "/api/v1/calls/staffing?arrivals_per_hour=200&handle_seconds=180&answer_within=20"
        "&service_level=0.8"
    ).json()
    assert tuple(answer) == service_plan.STAFFING_KEYS  # the same figures as the CLI's JSON
    assert answer["agents"] == 14 and answer["scheduled_agents"] == 20
    (ward,) = app_client.get("/api/v1/calls/summary").json()
    assert ward["centre"] == "ward" and ward["days"] == 122
    assessment = app_client.get("/api/v1/continuity/assessment?baseline_end=2020-02").json()
    assert {v["service"] for v in assessment["verdicts"]} == {
        "bcg",
        "tb_contact_examinations",
        "dot_completions",
    }
    plan_api = app_client.get("/api/v1/calls/plan?from=2020-03-01&to=2020-03-07").json()
    assert plan_api["totals"]["days"] == 7 and len(plan_api["by_day"]) == 7
    assert plan_api["totals"]["settings"]["shrinkage"] == 0.3  # the stated default
    bare = app_client.get(
        "/api/v1/calls/plan?from=2020-03-01&to=2020-03-07&shrinkage=0&occupancy_cap=1"
    ).json()
    assert bare["totals"]["settings"]["shrinkage"] == 0.0
    assert (
        bare["totals"]["external_person_days_needed"]
        <= (plan_api["totals"]["external_person_days_needed"])
    )
    page = app_client.get("/calls/plan?from=2020-03-01&to=2020-03-07").text
    assert 'id="plan-settings"' in page
    evaluation = app_client.get("/api/v1/reports/evaluation").json()
    assert evaluation["findings"] and "continuity_bcg" in evaluation["charts"]
    chart = app_client.get("/reports/evaluation/charts/continuity_bcg.json").json()
    assert chart["data"]


def test_staffing_calculator_fragment(app_client, loaded):
    app_client.login(loaded.by_role["auditor"])
    r = app_client.get(
        "/calls/staffing/answer?arrivals_per_hour=200&handle_seconds=180&answer_within=20"
        "&service_level=0.8&patience_seconds=",
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "<strong>14</strong>" in r.text and "<html" not in r.text
    bad = app_client.get(
        "/calls/staffing/answer?arrivals_per_hour=200&handle_seconds=180&answer_within=20"
        "&service_level=2"
    )
    assert 'class="error"' in bad.text


def test_upload_imports_all_or_nothing(app_client, users, calls_csv, tmp_path):
    app_client.login(users.by_role["epidemiologist"])
    csrf = app_client.csrf()
    bad = b"date,calls_received,calls_answered,staff_regular,staff_external,staffed_hours\n"
    bad += b"2020-04-01,10,20,1,1,9\n"
    r = app_client.post(
        "/calls/import", data={"csrf": csrf}, files={"file": ("office.csv", bad, "text/csv")}
    )
    assert r.status_code == 400
    assert "office.csv" in r.text and '<tr><td class="num">2</td>' in r.text  # line 2
    r = app_client.post(
        "/calls/import",
        data={"csrf": csrf, "profile": "call_centre_daily"},
        files={"file": ("daily.csv", calls_csv.read_bytes(), "text/csv")},
    )
    assert r.status_code == 200
    assert "新規 122" in r.text


def test_evaluation_download(app_client, loaded):
    app_client.login(loaded.by_role["epidemiologist"])
    r = app_client.get("/reports/evaluation/download?format=html&from=2020-05-01&to=2020-06-30")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    assert "健康危機対応の評価" in r.text and "<svg" in r.text
    assert app_client.get("/reports/evaluation/download?format=docx").status_code == 400
