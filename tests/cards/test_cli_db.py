"""``kumin cards …`` on both databases: a workflow from the command line, the windows
calendar, imports, the national import on the real files, and ``kumin report security``."""

from __future__ import annotations

import json

import pytest

from kumin.cards.national import SETAGAYA


def test_cli_workflow_refuses_out_of_order_steps(cli, users):
    officer = users.by_role["records_officer"]
    r = cli("cards", "residents", "add", "501", "--name", "試験 次郎", user=officer)
    assert r.exit_code == 0, r.output
    r = cli(
        "cards",
        "apply",
        "501",
        "--channel",
        "photo_booth",
        "--at",
        "2022-04-04T10:00",
        user=officer,
    )
    assert r.exit_code == 0 and "Card 1: Applied" in r.stdout
    r = cli("cards", "issue", "1", "--at", "2022-04-05T10:00", user=officer)
    assert r.exit_code == 1
    assert "cannot go from 'Applied' to 'Issued'" in r.stderr
    for args in (
        ("prepare", "1", "--at", "2022-04-08T09:00"),
        ("arrive", "1", "--window", "card_centre", "--at", "2022-04-11T11:30"),
        (
            "check-identity",
            "1",
            "--face",
            "not_possible",
            "--document",
            "passport",
            "--document",
            "pension_book",
            "--at",
            "2022-04-11T11:40",
        ),
        ("applicant-set-pins", "1", "--at", "2022-04-11T11:45"),
        ("issue", "1", "--at", "2022-04-11T11:50"),
    ):
        r = cli("cards", *args, user=officer)
        assert r.exit_code == 0, (args, r.output)
    r = cli("cards", "card", "1", "--format", "json", user=users.by_role["auditor"])
    view = json.loads(r.stdout)
    assert view["card"]["status"] == "operating" and view["next"] == []
    r = cli("cards", "suspend", "1", "--on", "2022-05-06", user=officer)
    assert "Suspended" in r.stdout
    r = cli("cards", "show", "501", "--format", "json", user=users.by_role["auditor"])
    assert json.loads(r.stdout)["name"] == "試験 次郎"


def test_windows_calendar_from_the_cli(cli, users, tmp_path):
    auditor = users.by_role["auditor"]
    r = cli("cards", "windows", "--date", "2021-06-19", "--format", "json", user=auditor)
    assert r.exit_code == 0 and json.loads(r.stdout) == []  # the third Saturday: all closed
    r = cli(
        "cards", "windows", "calendar", "--date", "2021-06-13", "--format", "json", user=auditor
    )
    assert [w["code"] for w in json.loads(r.stdout)] == ["card_centre", "temporary_tamagawa"]
    listed = tmp_path / "windows.csv"
    r = cli("cards", "windows", "list", "--format", "csv", "--out", str(listed), user=auditor)
    assert r.exit_code == 0
    # the ward edits the list: the card centre now also opens on the third Saturday
    text = listed.read_text("utf-8-sig").replace("3sat; 3sat+1", "3sat+1")
    listed.write_text(text, encoding="utf-8-sig")
    r = cli("cards", "windows", "import", str(listed), user=users.by_role["records_officer"])
    assert r.exit_code == 0, r.output
    r = cli(
        "cards", "windows", "calendar", "--date", "2021-06-19", "--format", "json", user=auditor
    )
    assert [w["code"] for w in json.loads(r.stdout)] == ["card_centre"]
    broken = tmp_path / "bad.csv"
    broken.write_text("code,name_ja,methods,hours\nx,X,交,mon 18:00-09:00\nY!,Y,何,\n", "utf-8")
    r = cli("cards", "windows", "import", str(broken), user=users.by_role["records_officer"])
    assert r.exit_code == 1 and "line 2" in r.stderr and "line 3" in r.stderr


def test_population_and_report_from_the_cli(cli, users, tmp_path):
    officer = users.by_role["records_officer"]
    pop = tmp_path / "pop.csv"
    pop.write_text('date,population\n2022-04-01,"917,100"\n', encoding="cp932")
    assert cli("cards", "population-import", str(pop), user=officer).exit_code == 0
    r = cli("report", "security", "--fy", "2021", "--format", "json", user=officer)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["label_en"] == "FY2021"
    status = next(s for s in report["sections"] if s["key"] == "cards.issuance")["figures"][
        "status_end"
    ]
    assert status["population"] == 917_100 and status["valid"] == 0
    out = tmp_path / "r.pdf"
    r = cli(
        "report",
        "security",
        "--fy",
        "2021",
        "--format",
        "pdf",
        "--out",
        str(out),
        "--lang",
        "ja",
        user=users.by_role["auditor"],
    )
    assert r.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    r = cli("report", "security", "--fy", "1999", user=officer)
    assert r.exit_code == 1 and "2003 to 2100" in r.stderr


@pytest.mark.realdata
def test_national_import_on_the_real_files(cli, users, shared_data, app_client):
    stats = shared_data / "mynumbercard_statistics"
    officer = users.by_role["records_officer"]
    r = cli("cards", "national", "import", str(stats), user=officer)
    assert r.exit_code == 0, r.output
    assert "47 reference dates, 81827 rows" in r.stdout  # 47 × 1,741 municipalities
    # importing again replaces, never duplicates
    assert cli("cards", "national", "import", str(stats), user=officer).exit_code == 0
    r = cli("cards", "national", "show", "--code", SETAGAYA, "--format", "json", user=officer)
    rows = json.loads(r.stdout)
    assert len(rows) == 47
    last = rows[-1]
    assert last["date"] == "2022-12-31" and last["municipalities"] == 1741
    assert 1 <= last["rank_in_23_wards"] <= 23 and 0 < last["ward"] < 100
    assert 0 <= last["percentile"] <= 100 and last["population_date"] == "2022-01-01"
    # 札幌市 keeps its leading zero in the database
    r = cli("cards", "national", "show", "--code", "11002", "--format", "json", user=officer)
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 47
    # the web page: the ward against the 23 wards, Tokyo and Japan, with its rank
    app_client.login(officer)
    r = app_client.get("/cards/national")
    assert r.status_code == 200 and 'id="national-table"' in r.text and "/ 23" in r.text
    assert "None" not in r.text
    # a municipality outside the 23 wards has no rank among them: never "None / 23"
    r = app_client.get("/cards/national?code=011002")
    assert r.status_code == 200 and "None" not in r.text
    figure = app_client.get("/cards/charts/national.json").json()
    assert len(figure["data"]) == 4 and len(figure["data"][0]["x"]) == 47
    api = app_client.get("/api/v1/cards/national/ratio").json()
    assert api[-1]["date"] == "2022-12-31" and api[-1]["rank"] == last["rank"]
