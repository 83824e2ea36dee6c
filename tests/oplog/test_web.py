"""Web pages and JSON API of the operation-log analysis, in-process."""

from __future__ import annotations

import time

from tests.oplog._db import load_records, write_log
from tests.oplog._ward import make_events, ward_context
from tests.oplog.test_storage import CHECKLIST, ROWS


def test_upload_scan_triage_suppress_and_report(app_client, users, tmp_path):

    load_records(users.settings, ward_context(checklist=CHECKLIST), tmp_path)
    log = write_log(make_events(ROWS), tmp_path / "log.csv")
    app_client.login(users.by_role["auditor"])
    csrf = app_client.csrf()

    r = app_client.post(
        "/oplog/files",
        data={"csrf": csrf},
        files={"file": ("terminal_202106.csv", log.read_bytes(), "text/csv")},
    )
    assert r.status_code == 200 and "terminal_202106.csv" in r.text

    r = app_client.post("/oplog/scan", data={"csrf": csrf})
    assert r.status_code == 200
    job = r.text.split('hx-get="/oplog/scan/jobs/')[1].split('"')[0] if "hx-get" in r.text else None
    for _ in range(200):
        if job is None or "scan-done" in r.text:
            break
        time.sleep(0.05)
        r = app_client.get(f"/oplog/scan/jobs/{job}")
    assert "scan-done" in r.text, r.text

    queue = app_client.get("/oplog?state=new").text
    assert queue.count('class="alert-link"') == 6
    assert "<td>住民記録・戸籍課</td>" in queue and "<td>D01</td>" not in queue  # names (#14)
    api = app_client.get("/api/v1/oplog/alerts?rule=off_hours").json()["alerts"]
    aid = api[0]["id"]
    page = app_client.get(f"/oplog/alerts/{aid}").text
    assert 'id="step-review"' in page and "23:10:00" in page
    assert "\\u" not in page and "ログ行数" in page  # evidence as facts, not raw JSON (#14)

    r = app_client.post(
        f"/oplog/alerts/{aid}/triage",
        data={"csrf": csrf, "step": "review", "note": "asked"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and 'id="step-close"' in r.text and "<html" not in r.text
    r = app_client.post(
        f"/api/v1/oplog/alerts/{aid}/triage",
        json={"step": "close", "outcome": "legitimate", "note": "overtime approved"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    assert r.json()["alert"]["outcome"] == "legitimate"
    r = app_client.post(
        f"/oplog/alerts/{aid}/suppress",
        data={"csrf": csrf, "reason": "election nights", "match": ["operator_id"]},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "election nights" in r.text
    closed = app_client.get(f"/oplog/alerts/{aid}").text
    assert "同じ操作者" in closed and "> operator_id</label>" not in closed  # words, not codes

    r = app_client.post(
        f"/oplog/alerts/{aid}/triage", data={"csrf": csrf, "step": "jump", "note": "x"}
    )
    assert r.status_code == 400

    watch = app_client.get("/api/v1/oplog/alerts?rule=watch_list").json()["alerts"][0]
    r = app_client.post(
        f"/oplog/alerts/{watch['id']}/reveal", data={"csrf": csrf, "purpose": "DV check"}
    )
    assert "R900" in r.text

    report = app_client.get("/oplog/report?start=2021-04-01&end=2022-03-31").text
    assert "住民記録・戸籍課" in report
    r = app_client.post(
        "/oplog/notices",
        data={"csrf": csrf, "start": "2021-04-01", "end": "2022-03-31", "department": "D08"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and 'id="notices"' in r.text
    data = app_client.get("/api/v1/oplog/report?start=2021-04-01&end=2022-03-31").json()
    assert data["totals"]["legitimate"] == 1 and len(data["notices"]) == 1
    notice = app_client.get("/oplog/notices/1?lang=ja").text
    assert "操作ログ分析について" in notice
