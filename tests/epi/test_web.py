"""Epi pages, chart data, background jobs and the JSON API on an imported ward."""

from __future__ import annotations

import re

import pytest
from tests.conftest import actor_for

from kumin.core import jobs
from kumin.core.context import context
from kumin.errors import NotFound
from kumin.synth.cases import synth_cases, write_cases_csv


@pytest.fixture
def fresh_db(sqlite_db):
    # pages and charts see the same frame on either backend (test_cli_storage.py reads both)
    return sqlite_db


PAGES = ("/epi", "/epi/curve", "/epi/rt", "/epi/delays", "/epi/towns", "/epi/seir")


@pytest.fixture
def ward(cli, users, tmp_path):
    path = write_cases_csv(synth_cases(seed=11, n=1200), tmp_path / "cases.csv")
    r = cli("cases", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    return users


def test_pages_for_the_epidemiologist_and_refusals(app_client, users):
    app_client.login(users.by_role["epidemiologist"])
    for url in PAGES:
        r = app_client.get(url)
        assert r.status_code == 200, url
        assert "/static-vendor/plotly.min.js" in r.text or url == "/epi"
    body = app_client.get("/epi/rt").text
    assert 'data-figure="/epi/charts/rt.json?' in body
    assert "<script>" not in body  # no inline scripts (CSP)
    assert "実効再生産数" in body  # Japanese by default
    assert app_client.get("/epi/nothing").status_code == 404
    # no records yet: a clean error, not a crash
    r = app_client.get("/epi/charts/rt.json", headers={"accept": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "data"
    app_client.logout()
    app_client.login(users.by_role["researcher"])
    assert app_client.get("/epi/rt").status_code == 403
    assert app_client.get("/api/v1/epi/rt").status_code == 403


def test_english_switch(app_client, users):
    app_client.login(users.by_role["epidemiologist"])
    app_client.get("/lang/en?next=/epi/rt")
    assert "Reproduction number" in app_client.get("/epi/rt").text


def test_charts_and_api_on_a_ward(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    fig = app_client.get("/epi/charts/rt.json?from=2021-06-01&to=2021-10-31").json()
    assert fig["layout"]["shapes"][0]["y0"] == 1.0  # the threshold Rt = 1
    assert any(trace.get("fill") == "tonexty" for trace in fig["data"])  # the interval band
    curve = app_client.get("/epi/charts/curve.json").json()
    names = [trace.get("name", "") for trace in curve["data"]]
    assert any("ナウキャスト" in n for n in names)  # the nowcast band over the curve
    delays = app_client.get("/epi/charts/delays.json").json()
    assert len([t for t in delays["data"] if t["type"] == "scatter"]) == 4
    towns = app_client.get("/epi/charts/towns.json?metric=incidence").json()
    assert towns["layout"]["grid"]["pattern"] == "independent"
    assert len(towns["data"]) > 10
    rt_towns = app_client.get("/epi/charts/towns.json").json()
    assert len(rt_towns["layout"]["shapes"]) > 10  # Rt = 1 in every panel

    api = app_client.get("/api/v1/epi/rt?by=town").json()
    assert api["columns"] == ["region", "date", "r_mean", "r_median", "r_lower", "r_upper"]
    assert api["meta"]["missing_onset"] > 0
    curve_api = app_client.get("/api/v1/epi/curve?freq=week").json()
    assert "week_start" in curve_api["columns"]
    assert app_client.get("/api/v1/epi/nowcast").json()["meta"]["peak_date"]
    assert app_client.get("/api/v1/epi/growth?by=sex").status_code == 200
    bad = app_client.get("/api/v1/epi/curve?by=street")
    assert bad.status_code == 400 and "street" in bad.json()["error"]["message"]


def test_seir_job_with_progress(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    csrf = app_client.csrf()
    r = app_client.post(
        "/epi/jobs/seir",
        data={"csrf": csrf, "horizon": "21", "reduction1": "30", "reduction2": ""},
        headers={"hx-request": "true"},
    )
    assert r.status_code == 200
    job_id = re.search(r'/epi/jobs/([\w-]+)"', r.text).group(1)
    owner = actor_for(ward, "epidemiologist")
    job = jobs.wait(lambda: context(ward.settings, owner), job_id)
    assert job.state == "done", (job.error_key, job.error_params)
    assert job.done == job.total > 1  # progress was reported step by step
    page = app_client.get(f"/epi/jobs/{job_id}").text
    assert "hx-trigger" not in page  # finished: no more polling
    assert f"/epi/jobs/{job_id}/figures/cases.json" in page
    fig = app_client.get(f"/epi/jobs/{job_id}/figures/hospital.json").json()
    # scenarios and headings in Japanese; the API keeps the code names (#14)
    assert {t["name"] for t in fig["data"] if "name" in t} >= {"現状のまま", "接触を 30% 削減"}
    assert "<th>シナリオ</th>" in page and "<td>現状のまま</td>" in page
    assert "peak_date" not in page and "baseline" not in page
    status = app_client.get(f"/api/v1/epi/jobs/{job_id}").json()
    assert status["job"]["percent"] == 100 and status["rows"][0]["scenario"] == "baseline"
    # a job is its owner's only: others get "not found", roles without epi.run a 403
    with pytest.raises(NotFound), context(ward.settings, actor_for(ward, "admin")) as ctx:
        jobs.get(ctx, job_id)
    app_client.logout()
    app_client.login(ward.by_role["auditor"])
    assert app_client.get(f"/epi/jobs/{job_id}").status_code == 403


def test_running_job_fragment_polls(ward, app_client, monkeypatch):
    """A queued or running job's fragment keeps polling and shows the stored progress."""
    monkeypatch.setenv("KUMIN_INLINE_JOBS", "0")  # no worker in this process
    from kumin.core.db import session_scope
    from kumin.core.models import Job

    app_client.login(ward.by_role["epidemiologist"])
    owner = actor_for(ward, "epidemiologist")
    with context(ward.settings, owner) as ctx:
        job = jobs.submit(
            ctx, "epi_seir", {"start": None, "end": None, "horizon": 7, "reductions": [0.2]}
        )
    # a worker elsewhere claimed it and stored its progress (no worker runs it here)
    with session_scope(ward.settings) as s:
        row = s.get(Job, job.id)
        row.state, row.worker, row.done, row.total = "running", "elsewhere:1:x", 1, 4
    page = app_client.get(f"/epi/jobs/{job.id}").text
    assert 'hx-trigger="load delay:800ms"' in page
    assert '<progress class="job-progress" max="100" value="25">' in page
    assert app_client.get("/epi/jobs/unknown").status_code == 404


def test_a_job_started_on_one_server_is_polled_on_another(ward, app_client, monkeypatch):
    """Two apps (two machines) on one database: the job lives in the database, not in
    the process that started it; a `kumin worker` elsewhere runs it."""
    from anyio.from_thread import start_blocking_portal
    from tests.conftest import WebClient

    from kumin.web.app import create_app

    monkeypatch.setenv("KUMIN_INLINE_JOBS", "0")  # neither web app runs jobs itself
    app_client.login(ward.by_role["epidemiologist"])
    r = app_client.post(
        "/epi/jobs/rt_infection",
        data={"csrf": app_client.csrf(), "start": "2021-06-01", "end": "2021-09-30"},
        headers={"hx-request": "true"},
    )
    job_id = re.search(r'/epi/jobs/([\w-]+)"', r.text).group(1)
    with start_blocking_portal() as portal:
        other = WebClient(create_app(ward.settings), portal)
        other.cookies.update(app_client.cookies)  # the same browser, another server
        assert other.get(f"/api/v1/epi/jobs/{job_id}").json()["job"]["state"] == "queued"
        assert jobs.work(ward.settings, once=True) == 1  # the worker process
        body = other.get(f"/api/v1/epi/jobs/{job_id}").json()
        assert body["job"]["state"] == "done" and len(body["rows"]) == 14
        assert "hx-trigger" not in other.get(f"/epi/jobs/{job_id}").text
        portal.call(other._client.aclose)
