"""Epi pages, chart data, background jobs and the JSON API on an imported ward."""

from __future__ import annotations

import datetime as dt
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


PAGES = ("/epi", "/epi/curve", "/epi/rt", "/epi/delays", "/epi/growth", "/epi/towns", "/epi/seir")


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
    # four intervals: each its observed histogram and the three fitted families
    assert len([t for t in delays["data"] if t["type"] == "bar"]) == 4
    assert len([t for t in delays["data"] if t["type"] == "scatter"]) == 12
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
    assert f"/epi/jobs/{job_id}/figures/cases.csv" in page  # every series, for Excel
    rows = _csv(app_client.get(f"/epi/jobs/{job_id}/figures/cases.csv"))
    assert rows[0][:2] == ["図", "系列"] and {r[1] for r in rows[1:]} >= {"現状のまま"}
    assert all(r[4] and r[5] for r in rows[1:])  # every projection with its interval
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


def _csv(r) -> list[list[str]]:
    import csv
    import io

    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # UTF-8 with BOM, as Excel needs
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_delays_chart_overlays_the_observed_histogram_and_the_fits(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    fig = app_client.get("/epi/charts/delays.json").json()
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    for bar in bars:  # shares of the cases, delays 0 … 21 days
        assert bar["x"][0] == 0 and len(bar["x"]) == 22
        assert 0.5 < sum(v or 0 for v in bar["y"]) <= 1.0 + 1e-9
    lines = [t for t in fig["data"] if t["type"] == "scatter"]
    assert {t["name"] for t in lines} == {"ガンマ", "対数正規", "ワイブル"}
    # the family AIC chose is drawn solid, the two others dashed, in every panel
    assert sum(t["line"]["dash"] == "solid" for t in lines) == len(bars)
    panels = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(p.startswith("発症→結果判明") and "選択:" in p for p in panels)
    # the parameter and AIC table beside it, sortable like every table
    table = app_client.get("/epi/delays/table").text
    assert 'id="delay-fits"' in table and "AIC" in table and "ΔAIC" in table
    rows = _csv(app_client.get("/epi/charts/delays.csv"))
    assert rows[0] == ["図", "区分", "系列", "日数", "値", "95% 区間 下限", "95% 区間 上限"]
    assert len(rows) - 1 == sum(len(t["x"]) for t in fig["data"])


def test_growth_page_and_chart(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    page = app_client.get("/epi/growth?from=2021-06-01&to=2021-09-30&window=21").text
    assert "増加率と倍加時間" in page
    assert (
        'data-figure="/epi/charts/growth.json?from=2021-06-01&amp;to=2021-09-30&amp;window=21"'
        in page
    )
    assert 'href="/epi/charts/growth.csv?from=2021-06-01&amp;to=2021-09-30&amp;window=21"' in page
    fig = app_client.get("/epi/charts/growth.json?from=2021-06-01&to=2021-09-30").json()
    named = {t["name"]: t for t in fig["data"] if t.get("name")}
    assert set(named) == {"増加率（1 日あたり）", "倍加時間", "半減時間"}
    days = named["増加率（1 日あたり）"]["x"]
    assert days[0] >= "2021-06-01" and days[-1] <= "2021-09-30"  # the period asked for
    bands = [t for t in fig["data"] if t.get("fill") == "tonexty"]
    assert len(bands) >= 3  # three 95% bands, in pieces where a window has no estimate
    assert all(None not in t["y"] for t in bands)  # never drawn across a gap
    api = app_client.get("/api/v1/epi/growth?from=2021-06-01&to=2021-09-30").json()
    assert [r["r"] for r in api["rows"]] == named["増加率（1 日あたり）"]["y"]
    rows = _csv(app_client.get("/epi/charts/growth.csv?from=2021-06-01&to=2021-09-30"))
    growth = [r for r in rows[1:] if r[1] == "増加率（1 日あたり）"]
    assert len(growth) == len(days) and all(r[4] and r[5] for r in growth if r[3])
    wide = app_client.get("/epi/charts/growth.json?from=2021-06-01&to=2021-09-30&window=28")
    assert wide.json()["data"] != fig["data"]
    assert app_client.get("/epi/charts/growth.json?window=0").status_code in (400, 422)


def test_every_epi_chart_downloads_its_series(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    query = "from=2021-06-01&to=2021-09-30"
    for name in ("curve", "rt", "delays", "growth", "towns"):
        page = app_client.get(f"/epi/{name}?{query}").text
        assert f'href="/epi/charts/{name}.csv?{query.replace("&", "&amp;")}"' in page, name
        fig = app_client.get(f"/epi/charts/{name}.json?{query}").json()
        rows = _csv(app_client.get(f"/epi/charts/{name}.csv?{query}"))
        shown = [t for t in fig["data"] if t.get("fill") != "tonexty" and (
            t.get("name") or t.get("hoverinfo") != "skip")]  # fmt: skip
        assert len(rows) - 1 == sum(len(t["y"]) for t in shown), name
        assert rows[0][0] == "図" and rows[1][0] == fig["layout"]["title"]["text"], name
    assert app_client.get("/epi/charts/nothing.csv").status_code == 404
    app_client.logout()
    app_client.login(ward.by_role["records_officer"])
    assert app_client.get(f"/epi/charts/rt.csv?{query}").status_code == 403


def test_small_multiples_open_on_recent_weeks_with_one_time_axis(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    fig = app_client.get("/epi/charts/towns.json").json()
    layout = fig["layout"]
    others = [k for k in layout if k.startswith("xaxis") and k != "xaxis"]
    assert others and all(layout[k]["matches"] == "x" for k in others)
    buttons = layout["xaxis"]["rangeselector"]["buttons"]
    assert buttons[-1] == {"step": "all", "label": "全期間"}  # one click: the full span
    first, last = layout["xaxis"]["range"]
    assert (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days == 84


def test_figure_rows_neutralise_and_join_bands():
    from kumin.core.tabular import csv_bytes
    from kumin.web.figures import figure_rows

    fig = {
        "layout": {"title": {"text": "図"}, "xaxis": {"title": {"text": "日付"}},
                   "yaxis": {"title": {"text": "Rt"}}},
        "data": [
            {"x": ["2021-01-01", "2021-01-02"], "y": [2, 3], "hoverinfo": "skip",
             "showlegend": False},
            {"x": ["2021-01-01", "2021-01-02"], "y": [0, 1], "fill": "tonexty",
             "hoverinfo": "skip"},
            {"x": ["2021-01-01", "2021-01-02"], "y": [1, 2], "name": "=cmd|' /C calc'!A0"},
        ],
    }  # fmt: skip
    header, rows = figure_rows(fig, "ja")
    assert header == ["図", "系列", "日付", "Rt", "95% 区間 下限", "95% 区間 上限"]
    assert rows == [
        ["図", "=cmd|' /C calc'!A0", "2021-01-01", 1, 0, 2],
        ["図", "=cmd|' /C calc'!A0", "2021-01-02", 2, 1, 3],
    ]
    text = csv_bytes(header, rows).decode("utf-8-sig")
    assert "図,'=cmd|" in text and "図,=cmd" not in text  # never a live formula
