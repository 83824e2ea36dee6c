"""Card pages and API on both databases; no PIN typed anywhere reaches the database."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text

from kumin.core.db import get_engine, session_scope

# PINs as a resident would choose them: the 4-digit user-authentication PIN and the
# 6-16 character signature password. They are typed into every field the pages have
# (there is none for a PIN) and sent as stray form fields and JSON keys.
PIN = "8357"
SIGNATURE_PASSWORD = "Zq7PinSecret42"
STRAY = {
    "pin": PIN,
    "user_auth_pin": PIN,
    "card_pin": PIN,
    "signature_password": SIGNATURE_PASSWORD,
    "pin_form_image": SIGNATURE_PASSWORD,
}


def _database_text(settings) -> str:
    """Everything stored, as text: the raw SQLite files, or every PostgreSQL table."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        blobs = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
        return b"".join(blobs).decode("latin-1")
    engine = get_engine(settings)
    parts = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            rows = conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
            parts.extend(rows)
    return "\n".join(parts)


def _form_fields(html: str) -> list[str]:
    return re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', html)


def test_workflow_pages_never_store_a_pin(fresh_db, users, app_client):
    app_client.login(users.by_role["records_officer"])
    csrf = app_client.csrf()
    search = app_client.get("/cards").text
    assert 'type="password"' not in search
    assert not [f for f in _form_fields(search) if "pin" in f.lower()]
    r = app_client.post(
        "/cards/residents",
        data={"csrf": csrf, "resident_no": "2001", "name": "区民 花子", **STRAY},
    )
    assert r.status_code == 200 and "区民 花子" in r.text
    r = app_client.post(
        "/cards/apply",
        data={
            "csrf": csrf,
            "resident_no": "2001",
            "method": "visit_at_application",
            "window": "card_centre",
            "face": "match",
            "documents": ["driving_licence"],
            "at": "2022-04-04T11:00",
            **STRAY,
        },
    )
    assert r.status_code == 303, r.text
    card = int(r.headers["location"].rsplit("/", 1)[1])
    steps = [
        ("hold_form", "2022-04-04T11:10", {}),
        ("ward_set_pins", "2022-04-18T10:00", {}),
        ("shred_form", "2022-04-18T10:30", {"by": "clerk-b"}),
        ("mail", "2022-04-19T09:00", {"tracking_no": "RD42"}),
    ]
    for action, at, extra in steps:
        html = app_client.get(f"/cards/{card}").text
        assert f'id="form-{action}"' in html
        fields = _form_fields(html)
        assert not [f for f in fields if "pin" in f.lower() or "password" in f.lower()]
        assert 'type="password"' not in html and 'type="file"' not in html
        # every field the page offers is filled with the PIN where free text is allowed
        data = {"csrf": csrf, "at": at, **extra, **STRAY}
        r = app_client.post(f"/cards/{card}/step/{action}", data=data)
        assert r.status_code == 303, (action, r.text)
    # the last step through the JSON API, PINs as stray keys
    r = app_client.post(
        f"/api/v1/cards/{card}/steps/deliver",
        json={"at": "2022-04-21T15:00", **STRAY},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.json()["step"] == "issued"
    page = app_client.get(f"/cards/{card}").text
    assert "clerk-b" in page and "RD42" in page
    stored = _database_text(fresh_db)
    assert "区民" not in stored  # the name is encrypted, too
    assert SIGNATURE_PASSWORD not in stored
    assert f'"{PIN}"' not in stored and f"'{PIN}'" not in stored and f"={PIN}" not in stored
    with session_scope(fresh_db) as s:
        details = s.execute(text("SELECT details FROM cards_steps")).scalars().all()
        audit_details = s.execute(text("SELECT details FROM audit_log")).scalars().all()
    leaks = [
        d
        for d in details + audit_details
        if PIN in d or SIGNATURE_PASSWORD in d or any(f'"{key}"' in d for key in STRAY)
    ]
    assert details and not leaks


def test_out_of_order_step_is_refused_on_the_web_and_api(fresh_db, users, app_client):
    app_client.login(users.by_role["records_officer"])
    csrf = app_client.csrf()
    app_client.post("/cards/residents", data={"csrf": csrf, "resident_no": "7", "name": "X"})
    r = app_client.post(
        "/api/v1/cards/apply",
        json={"resident_no": 7, "channel": "mail", "at": "2022-04-04T09:00"},
        headers={"X-CSRF-Token": csrf},
    )
    card = r.json()["card_id"]
    r = app_client.post(
        f"/api/v1/cards/{card}/steps/issue",
        json={"at": "2022-04-05T09:00"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "state"
    assert r.json()["error"]["message"] == (
        "カード 1: 現在の段階「交付申請」から「交付」には進めません。"
        "次に可能な段階: 交付前設定、申請取消。"
    )
    r = app_client.post(f"/cards/{card}/step/issue", data={"csrf": csrf, "at": "2022-04-05T09:00"})
    assert r.status_code == 409
    html = app_client.get(f"/cards/{card}").text
    assert 'id="form-prepare"' in html and 'id="form-issue"' not in html


def test_search_windows_and_report_pages(fresh_db, users, app_client):
    app_client.login(users.by_role["auditor"])
    csrf = app_client.csrf()
    r = app_client.post("/cards/search", data={"csrf": csrf, "resident_no": "123"})
    assert r.status_code == 404
    r = app_client.post(
        "/api/v1/cards/residents/search", json={"resident_no": 123}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = app_client.get("/cards/windows?date=2021-06-19")  # the third Saturday
    assert r.status_code == 200 and 'id="open-windows"' in r.text
    assert (
        "マイナンバーカード専用窓口"
        not in r.text.split('id="open-windows"')[1].split("</table>")[0]
    )
    r = app_client.get("/api/v1/cards/windows?date=2021-06-21")
    codes = [w["code"] for w in r.json()["open"]]
    assert codes == ["branch_offices", "kumin_madoguchi", "card_centre"]
    r = app_client.get("/cards/report?fy=2021")
    assert r.status_code == 200 and "令和3年度" in r.text and 'id="table-inquiries"' in r.text
    # section 7, the reconciliation, on the same page (#11 item 6)
    assert 'id="section-7"' in r.text and 'id="table-reconcile_differences"' in r.text
    r = app_client.get("/cards/report/download?fy=2021&format=csv")
    assert (
        r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    )
    r = app_client.get("/api/v1/reports/security?fy=2021")
    assert r.json()["label_ja"] == "令和3年度"
    numbers = [s["number"] for s in r.json()["sections"]]
    assert {"1", "3", "4", "7"} <= set(numbers) and numbers == sorted(numbers, key=int)
    # the records officer's page, not the auditor's: no form to change a card
    assert app_client.get("/cards/national").status_code == 403
