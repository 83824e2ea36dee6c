"""The oplog command line on a small ward: import, scan JSON, triage, report."""

from __future__ import annotations

import json

from tests.oplog._db import load_records, write_log
from tests.oplog._ward import make_events, ward_context
from tests.oplog.test_storage import CHECKLIST, ROWS

JSON_KEYS = {
    "rule",
    "severity",
    "score",
    "operator_id",
    "terminal_id",
    "subject",
    "first_seen",
    "last_seen",
    "evidence",
    "events",
}


def test_import_scan_triage_and_report(cli, users, tmp_path):
    load_records(cli.settings, ward_context(checklist=CHECKLIST), tmp_path)
    auditor = users.by_role["auditor"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "timestamp,terminal_id,operator_id,action,subject,function\n"
        "2021-06-01 10:00:00,T0101,U1,view,R1,住民票\n"
        "yesterday,T0101,U1,view,R1,住民票\n",
        encoding="cp932",
    )
    r = cli("oplog", "import", str(bad), user=auditor)
    assert r.exit_code == 1 and "3" in r.stderr and "yesterday" in r.stderr
    log = write_log(make_events(ROWS), tmp_path / "log.csv")
    r = cli("oplog", "import", str(log), "--format", "json", user=users.by_role["records_officer"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["events"] == 9

    r = cli("oplog", "scan", "--format", "json", user=auditor)
    assert r.exit_code == 0, r.output
    alerts = json.loads(r.stdout)
    assert len(alerts) == 6
    for a in alerts:
        assert set(a) >= JSON_KEYS
        assert all(set(e) == {"file", "line"} for e in a["events"])
        assert a["explanation"]

    aid = str(next(a["id"] for a in alerts if a["rule"] == "off_hours"))
    assert cli("oplog", "alerts", "review", aid, "--note", "asked", user=auditor).exit_code == 0
    r = cli("oplog", "alerts", "close", aid, "--outcome", "misuse", "--note", "x", user=auditor)
    assert r.exit_code == 0, r.output
    r = cli("oplog", "alerts", "list", "--state", "misuse", "--format", "json", user=auditor)
    assert [a["id"] for a in json.loads(r.stdout)] == [int(aid)]
    r = cli("oplog", "alerts", "show", aid, "--format", "json", user=auditor)
    assert json.loads(r.stdout)["lines"][0]["line"] == 9
    r = cli("oplog", "alerts", "show", aid, user=auditor)
    assert r.exit_code == 0, r.output
    # labels and values in words: no code names, no None (#14)
    assert "None" not in r.stdout and "outcome:" not in r.stdout
    assert "Outcome: " in r.stdout and "State: " in r.stdout

    r = cli(
        "oplog",
        "notices",
        "issue",
        "--from",
        "2021-04-01",
        "--to",
        "2022-03-31",
        "--department",
        "D08",
        user=users.by_role["records_officer"],
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "report",
        "oplog",
        "--from",
        "2021-04-01",
        "--to",
        "2022-03-31",
        "--format",
        "json",
        user=auditor,
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["totals"]["misuse"] == 1 and data["notices"][0]["department"] == "D08"
    r = cli("report", "oplog", "--from", "2021-04-01", "--to", "2022-03-31", user=auditor)
    assert "<html" in r.stdout
