"""Every upload form answers a bad file the same way (#14).

The page comes back (status 400) with its form, and above the form the one error
box of ``_upload_errors.html``: the uploaded file's own name (never the saved
copy's temporary path), the importer's message and each problem by line and
column. Nothing was imported.
"""

from __future__ import annotations

import re

import pytest
from tests.conftest import actor_for

UPLOAD = "kumin-upload"  # the saved copy's folder prefix: never shown


@pytest.fixture
def fresh_db(sqlite_db):
    # the presentation does not depend on the storage backend (imports are tested on both)
    return sqlite_db


def _rejected(r, action: str, name: str) -> tuple[str, list[tuple[str, str]]]:
    """The error box of a re-shown form: (its text, [(line, column)] of the problems)."""
    assert r.status_code == 400, r.text[:500]
    body = r.text
    assert f'action="{action}"' in body  # the form is there again
    assert 'id="import-error"' in body and f"「{name}」は取り込めませんでした" in body
    assert UPLOAD not in body and "/tmp/" not in body
    box = body.split('id="import-error"', 1)[1].split("</div>", 1)[0]
    cells = re.findall(r'<tr><td class="num">(\d*)</td><td>([^<]*)</td>', box)
    return box, cells


def test_cases_import(app_client, users, tmp_path):
    from kumin.synth.cases import synth_cases, write_cases_csv

    path = write_cases_csv(synth_cases(seed=2, n=8), tmp_path / "c.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[3].split(",")
    cells[3] = "三十代"  # 性別 (sex): not a value the profile knows
    lines[3] = ",".join(cells)
    app_client.login(users.by_role["epidemiologist"])
    r = app_client.post(
        "/cases/import",
        data={"csrf": app_client.csrf(), "profile": "hersys"},
        files={"file": ("届出_2021年.csv", "\n".join(lines).encode(), "text/csv")},
    )
    box, problems = _rejected(r, "/cases/import", "届出_2021年.csv")
    assert ("4", "性別") in problems and "三十代" in box
    assert app_client.get("/api/v1/cases/imports").status_code in (200, 404)


def test_oplog_import(app_client, users, tmp_path):
    body = (
        "timestamp,terminal_id,operator_id,action,subject,function\n"
        "2021-06-01 10:00:00,T0101,U1,view,R1,住民票\n"
        "2021-06-01 10:05:00,T0801,U8,覗き見,R2,住民税\n"
        "2021-13-01 10:05:00,T0801,U8,view,R2,住民税\n"
    )
    app_client.login(users.by_role["auditor"])
    r = app_client.post(
        "/oplog/files",
        data={"csrf": app_client.csrf(), "profile": "kumin"},
        files={"file": ("操作ログ_202106.csv", body.encode(), "text/csv")},
    )
    box, problems = _rejected(r, "/oplog/files", "操作ログ_202106.csv")
    assert {line for line, _ in problems} >= {"3", "4"}
    assert "エラー (400)" not in r.text  # not the bare error page of before
    assert 'id="files"' in r.text  # the list of imported files is still there
    # no file at all: the same box, asking for one
    r = app_client.post("/oplog/files", data={"csrf": app_client.csrf()})
    assert r.status_code == 400 and "ファイルを選んでください" in r.text
    assert 'action="/oplog/files"' in r.text


def test_calls_and_continuity_imports(app_client, users):
    app_client.login(users.by_role["epidemiologist"])
    bad = (
        b"date,calls_received,calls_answered,staff_regular,staff_external,staffed_hours\n"
        b"2020-04-01,10,20,1,1,9\n"
    )
    r = app_client.post(
        "/calls/import",
        data={"csrf": app_client.csrf()},
        files={"file": ("相談センター.csv", bad, "text/csv")},
    )
    _, problems = _rejected(r, "/calls/import", "相談センター.csv")
    assert problems and problems[0][0] == "2"
    counts = b"service,month,count\nbcg,2020-04,12\nbcg,2020-05,\xe5\xa4\x9a\xe3\x81\x84\n"
    r = app_client.post(
        "/continuity/import",
        data={"csrf": app_client.csrf()},
        files={"file": ("定期接種.csv", counts, "text/csv")},
    )
    _, problems = _rejected(r, "/continuity/import", "定期接種.csv")
    assert ("3", "count") in problems


def test_juki_imports_and_ledger(app_client, users, tmp_path):
    from tests.juki._helpers import small_ward

    small_ward(users.settings, tmp_path)
    app_client.login(users.by_role["records_officer"])
    bad = "department,name,open,close,weekend_open\nD02,x,25:00,17:15,no\n"
    r = app_client.post(
        "/juki/import/departments",
        data={"csrf": app_client.csrf()},
        files={"file": ("所属.csv", bad.encode(), "text/csv")},
    )
    box, problems = _rejected(r, "/juki/import/departments", "所属.csv")
    assert problems[0][0] == "2" and "25:00" in box
    # the box stands above the form of the import that failed, not the others
    before = r.text.split('id="import-error"', 1)[0]
    after = r.text.split('id="import-error"', 1)[1]
    assert 'action="/juki/import/departments"' in after.split("<form", 2)[1]
    assert 'action="/juki/import/departments"' not in before

    manager = actor_for(users, "terminal_manager")
    app_client.logout()
    app_client.login(manager.name)
    ledger = "operator_id,name,role\nU1,職員U1,端末機管理責任者\nU1,職員U4,操作者\n"
    r = app_client.post(
        "/juki/departments/D08/ledger",
        data={"csrf": app_client.csrf(), "effective": "2022-04-01"},
        files={"file": ("台帳.csv", ledger.encode(), "text/csv")},
    )
    box, problems = _rejected(r, "/juki/departments/D08/ledger", "台帳.csv")
    assert ("3", "operator_id") in problems


def test_cards_windows_and_history_imports(app_client, users):
    app_client.login(users.by_role["records_officer"])
    before = app_client.get("/cards/windows").text.count("<tr>")
    broken = "code,name_ja,methods,hours\nx,X,交,mon 18:00-09:00\nY!,Y,何,\n"
    r = app_client.post(
        "/cards/windows/import",
        data={"csrf": app_client.csrf()},
        files={"file": ("窓口一覧.csv", broken.encode(), "text/csv")},
    )
    _, problems = _rejected(r, "/cards/windows/import", "窓口一覧.csv")
    assert {line for line, _ in problems} >= {"2", "3"}
    assert app_client.get("/cards/windows").text.count("<tr>") == before  # nothing replaced

    cards = "card_id,resident_no,origin,method,channel,applied_on\n1,100,新規,交付時来庁方式,郵送,令和3年4月1日\n2,101,宇宙,交付時来庁方式,郵送,令和3年4月2日\n"
    r = app_client.post(
        "/cards/history/import",
        data={"csrf": app_client.csrf()},
        files=[
            ("files", ("cards.csv", cards.encode("cp932"), "text/csv")),
            ("files", ("card_events.csv", b"card_id,date,event\n", "text/csv")),
        ],
    )
    box, problems = _rejected(r, "/cards/history/import", "cards.csv、card_events.csv")
    assert ("3", "origin") in problems or any(line == "3" for line, _ in problems), box
    r = app_client.post("/cards/history/import", data={"csrf": app_client.csrf()})
    assert r.status_code in (400, 422)
    # a researcher may not import: the one permission check answers before any file is read
    app_client.logout()
    app_client.login(users.by_role["researcher"])
    r = app_client.post(
        "/cards/windows/import",
        data={"csrf": app_client.csrf()},
        files={"file": ("窓口一覧.csv", broken.encode(), "text/csv")},
    )
    assert r.status_code == 403


def test_national_figures_import(app_client, users):
    good = (
        "算出基準日,都道府県名,市区町村名,人口(R7.1.1),保有枚数,人口に対する保有枚数率,人口算出基準日\n"
        '2025/08/31,東京都,世田谷区,"920,000",690000,75.0,2025/01/01\n'
        "2025/08/31,北海道,札幌市,1950000,1500000,76.9,2025/01/01\n"
    )
    earlier = good.replace("2025/08/31", "2025/07/31").replace("690000", "680000")
    bad = "算出基準日,都道府県名,市区町村名,人口,謎の枚数\n2025/08/31,東京都,世田谷区,1,1\n"
    app_client.login(users.by_role["records_officer"])
    r = app_client.post(
        "/cards/national/import",
        data={"csrf": app_client.csrf()},
        files=[("files", ("交付状況_0831.csv", bad.encode("utf-8-sig"), "text/csv"))],
    )
    _, problems = _rejected(r, "/cards/national/import", "交付状況_0831.csv")
    assert ("1", "交付枚数") in problems  # the missing column, by its Japanese name
    # two dated snapshots of the same name at once: both are kept
    r = app_client.post(
        "/cards/national/import",
        data={"csrf": app_client.csrf()},
        files=[
            ("files", ("all_localgovs.csv", good.encode("utf-8-sig"), "text/csv")),
            ("files", ("all_localgovs.csv", earlier.encode("utf-8-sig"), "text/csv")),
        ],
    )
    assert r.status_code == 200 and 'id="import-result"' in r.text
    assert "2 時点・4 行を取り込みました" in r.text
    assert 'id="national-table"' in r.text and "75.0" in r.text
