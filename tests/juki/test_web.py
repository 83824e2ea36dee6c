"""Pages and forms: departments and terminals, a department's ledger versions with
the transfer diff, the daily checklist form, applications with review, the
reservation calendar, usage records, audits/meetings/training; the JSON API."""

from __future__ import annotations

import datetime as dt

from tests.juki._helpers import acting, small_ward, write_csv

from kumin.juki import service


def _apps(settings, folder):
    path = write_csv(
        folder / "a.csv",
        ["department", "function", "valid_from", "valid_to"],
        [["D08", "住民税", "2021-04-01", "2030-03-31"]],
    )
    with acting(settings, "records_officer") as ctx:
        service.import_applications(ctx, path)


def test_pages_for_the_records_officer(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    _apps(fresh_db, tmp_path)
    app_client.login(users.by_role["records_officer"])
    for url, text in (
        ("/juki", "課税課"),
        ("/juki/departments/D08?on=2021-05-01", "U4"),
        ("/juki/terminals/T0801", "セキュリティワイヤー"),
        ("/juki/applications", "住民税"),
        ("/juki/reservations?week=2021-06-01", "S01"),
        ("/juki/usage", "0"),
        ("/juki/governance?fy=2021", "<strong>令和3年度</strong>"),
        ("/", "住基ネット統合端末"),
    ):
        r = app_client.get(url)
        assert r.status_code == 200, url
        assert text in r.text, url
    page = app_client.get("/juki/departments/D08?on=2021-05-01").text
    # the transfer diff: U4 added, U2 removed on 2021-04-01
    assert '<td class="ok">U4</td><td class="error">U2</td>' in page
    assert "職員U1" not in page
    named = app_client.get("/juki/departments/D08?on=2021-05-01&names=1").text
    assert "職員U1" in named


def test_forms_checklist_application_reservation_usage(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    _apps(fresh_db, tmp_path)
    app_client.login(users.by_role["terminal_manager"])
    csrf = app_client.csrf()
    with acting(fresh_db, "records_officer") as ctx:
        codes = [i["code"] for i in service.checklist_items(ctx)]
    form = {f"item_{c}": "ok" for c in codes} | {"item_wire": "ng", "date": "2021-06-01"}
    r = app_client.post("/juki/terminals/T0801/checklist", data=form | {"csrf": csrf})
    assert r.status_code == 303
    page = app_client.get("/juki/terminals/T0801?day=2021-06-01").text
    assert "Not fixed by security wire" in page or "セキュリティワイヤー未固定" in page
    r = app_client.post("/juki/terminals/T1201/checklist", data=form | {"csrf": csrf})
    assert r.status_code == 403
    r = app_client.post(
        "/juki/applications",
        data={
            "csrf": csrf,
            "department": "D08",
            "function": "児童手当",
            "valid_from": "2021-04-01",
            "valid_to": "2022-03-31",
        },
    )
    assert r.status_code == 303
    r = app_client.post(
        "/juki/reservations",
        data={
            "csrf": csrf,
            "department": "D08",
            "terminal_id": "S01",
            "day": "2021-06-01",
            "start": "09:00",
            "end": "10:00",
        },
    )
    assert r.status_code == 303
    r = app_client.post(
        "/juki/usage",
        data={
            "csrf": csrf,
            "department": "D08",
            "terminal_id": "S01",
            "operator_id": "U1",
            "day": "2021-06-01",
            "start": "09:05",
            "end": "09:40",
            "function": "住民税",
            "inquiries": "4",
        },
    )
    assert r.status_code == 303
    assert app_client.get("/juki/usage?start=2021-06-01&end=2021-06-01").text.count("住民税") >= 1
    app_client.logout()

    app_client.login(users.by_role["records_officer"])
    csrf = app_client.csrf()
    pending = app_client.get("/api/v1/juki/applications?state=submitted").json()
    assert [a["function"] for a in pending] == ["児童手当"]
    r = app_client.post(
        f"/juki/applications/{pending[0]['id']}/review", data={"csrf": csrf, "decision": "approve"}
    )
    assert r.status_code == 303
    assert (
        app_client.get("/api/v1/juki/applications?state=approved").json()[-1]["reviewed_by"]
        == users.by_role["records_officer"]
    )
    r = app_client.post(
        "/api/v1/juki/terminals/T1201/checklist",
        json={"date": "2021-06-01", "results": {c: True for c in codes}},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["secured"] is True
    unsecured = app_client.get(
        "/api/v1/juki/checklists?start=2021-06-01&end=2021-06-01&unsecured=true"
    ).json()
    assert [c["terminal_id"] for c in unsecured] == ["T0801"]


def test_import_page_and_errors_by_line(fresh_db, tmp_path, users, app_client):
    app_client.login(users.by_role["records_officer"])
    csrf = app_client.csrf()
    good = "department,name,open,close,weekend_open\nD01,住民記録・戸籍課,08:30,17:15,no\n"
    r = app_client.post(
        "/juki/import/departments",
        data={"csrf": csrf},
        files={"file": ("d.csv", good.encode("cp932"), "text/csv")},
    )
    assert r.status_code == 200 and "1" in r.text
    bad = "department,name,open,close,weekend_open\nD02,x,25:00,17:15,no\n"
    r = app_client.post(
        "/juki/import/departments",
        data={"csrf": csrf},
        files={"file": ("d.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 400 and "2" in r.text and "25:00" in r.text
    r = app_client.post(
        "/api/v1/juki/reservations",
        json={
            "department": "D01",
            "terminal_id": "NOPE",
            "start": "2021-06-01T09:00",
            "end": "2021-06-01T10:00",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code in (400, 409) and r.json()["error"]["code"] in ("invalid", "state")


def test_ledger_submitted_through_the_web_shows_the_transfer(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    app_client.login(users.by_role["terminal_manager"])
    csrf = app_client.csrf()
    body = "operator_id,name,role\nU1,職員U1,端末機管理責任者\nU4,職員U4,補助者\nU7,職員U7,操作者\n"
    r = app_client.post(
        "/juki/departments/D08/ledger",
        data={"csrf": csrf, "effective": "2022-04-01"},
        files={"file": ("l.csv", body.encode("cp932"), "text/csv")},
    )
    assert r.status_code == 200
    assert "U7" in r.text and "U3" in r.text  # U7 added, U3 removed
    r = app_client.post(
        "/juki/departments/D12/ledger",
        data={"csrf": csrf, "effective": "2022-04-01"},
        files={"file": ("l.csv", body.encode(), "text/csv")},
    )
    assert r.status_code == 403
    r = app_client.post(
        "/juki/terminals/T0801",
        data={"csrf": csrf, "manager": "U1", "assistant": "U4", "state": "in_service"},
    )
    assert r.status_code == 303
    assert app_client.get("/api/v1/juki/terminals/T0801").json()["assistant"] == "U4"
    versions = app_client.get("/api/v1/juki/ledger/D08/versions").json()
    assert [(v["effective"], v["added"], v["removed"]) for v in versions][-1] == (
        "2022-04-01",
        ["U7"],
        ["U3"],
    )


def test_governance_opens_on_the_latest_year_with_records(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    app_client.login(users.by_role["records_officer"])
    with acting(fresh_db, "records_officer") as ctx:
        current = service.latest_governance_year(ctx, 2026)
        service.add_audit(ctx, dt.date(2021, 6, 1), "self_check", "端末の点検")
        assert service.latest_governance_year(ctx, 2026) == 2021
        assert service.latest_governance_year(ctx, 2020) == 2020  # never after the current year
    assert current == 2026  # nothing recorded yet: the current year
    page = app_client.get("/juki/governance").text
    assert "<strong>令和3年度</strong>" in page and "端末の点検" in page
    assert "FY" not in page  # fiscal years in 令和 on a Japanese page


def test_reservations_and_usage_open_on_the_last_period_with_records(
    fresh_db, tmp_path, users, app_client
):
    small_ward(fresh_db, tmp_path)
    _apps(fresh_db, tmp_path)
    day = dt.datetime(2021, 6, 2, 9)  # a Wednesday, years before "today"
    with acting(fresh_db, "records_officer") as ctx:
        service.create_reservation(ctx, "D08", "S01", day, day + dt.timedelta(hours=1))
        service.record_usage(
            ctx, "D08", "S01", "U1", day, day + dt.timedelta(minutes=30), "住民税", 2
        )
    app_client.login(users.by_role["records_officer"])
    week = app_client.get("/juki/reservations").text
    assert "2021-05-31" in week  # the week of the last booking, not an empty current week
    usage = app_client.get("/juki/usage").text
    assert 'value="2021-06-02"' in usage and "住民税" in usage
