"""The command line mirrors the services: ledger versions and rights, the daily
checklist, audits with findings and follow-up, meetings, training, the watch list."""

from __future__ import annotations

import json

from tests.conftest import make_users
from tests.juki._helpers import small_ward, write_csv


def test_records_through_the_command_line(fresh_db, tmp_path, cli):
    users = make_users(fresh_db)
    small_ward(fresh_db, tmp_path)
    officer, manager = users.by_role["records_officer"], users.by_role["terminal_manager"]

    r = cli("juki", "ledger", "versions", "--department", "D08", "--format", "json", user=manager)
    versions = json.loads(r.stdout)
    assert [(v["added"], v["removed"]) for v in versions] == [
        (["U1", "U2", "U3"], []),
        (["U4"], ["U2"]),
    ]
    r = cli("juki", "ledger", "versions", "--department", "D12", user=manager)
    assert r.exit_code == 1 and "not allowed" in r.stderr

    r = cli(
        "juki",
        "checklist",
        "record",
        "T0801",
        "--date",
        "2021-06-01",
        "--fail",
        "wire",
        user=manager,
    )
    assert r.exit_code == 0 and "not fixed" in r.stdout
    r = cli("juki", "terminals", "list", "--format", "csv", user=manager)
    assert "T0801,D08" in r.stdout and "unsecured" in r.stdout and "T1201" not in r.stdout
    r = cli(
        "juki",
        "checklist",
        "list",
        "--from",
        "2021-06-01",
        "--to",
        "2021-06-01",
        "--unsecured",
        "--format",
        "json",
        user=officer,
    )
    assert [(c["terminal_id"], c["failed"]) for c in json.loads(r.stdout)] == [("T0801", ["wire"])]

    r = cli(
        "juki",
        "audits",
        "add",
        "--date",
        "2022-01-14",
        "--kind",
        "jukinet",
        "--title",
        "住民基本台帳ネットワークシステム定期監査",
        user=officer,
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "juki",
        "audits",
        "finding",
        "1",
        "--finding",
        "一部所属で盗難防止措置が行われていない端末機が存在した。",
        "--department",
        "D08",
        "--terminal",
        "T0801",
        user=officer,
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "juki",
        "audits",
        "follow-up",
        "1",
        "--action",
        "セキュリティワイヤー等で固定を徹底",
        "--status",
        "corrected",
        "--closed-on",
        "2022-02-24",
        user=officer,
    )
    assert r.exit_code == 0, r.output
    audit = json.loads(cli("juki", "audits", "show", "1", "--format", "json", user=manager).stdout)
    assert audit["findings"][0]["status"] == "corrected"
    assert audit["findings"][0]["corrective_action"] == "セキュリティワイヤー等で固定を徹底"

    r = cli(
        "juki", "meetings", "add", "--date", "2021-06-02", "--kind", "jukinet",
        "--title", "第1回住民基本台帳ネットワークシステムセキュリティ会議",
        "--report", "住民基本台帳ネットワークシステム操作ログの分析結果について",
        "--report", "住基ネット庁内緊急連絡網について", user=officer,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli("juki", "meetings", "show", "1", user=manager)
    assert "操作ログの分析結果" in r.stdout and "緊急連絡網" in r.stdout
    r = cli(
        "juki",
        "trainings",
        "add",
        "--date",
        "2021-11-10",
        "--kind",
        "drill",
        "--title",
        "緊急時対応訓練",
        "--participants",
        "12",
        user=officer,
    )
    assert r.exit_code == 0, r.output
    r = cli("juki", "trainings", "list", "--format", "json", user=users.by_role["auditor"])
    assert json.loads(r.stdout)[0]["participants"] == 12

    watch = write_csv(
        tmp_path / "w.csv", ["subject", "reason"], [["R0001234", "DV等支援措置対象者"]]
    )
    assert cli("juki", "watchlist", "import", str(watch), user=officer).exit_code == 0
    hidden = cli("juki", "watchlist", "list", "--format", "json", user=officer).stdout
    assert "R0001234" not in hidden
    shown = cli("juki", "watchlist", "list", "--reveal", "--format", "json", user=officer).stdout
    assert json.loads(shown)[0]["subject"] == "R0001234"
    r = cli("juki", "watchlist", "list", user=manager)
    assert r.exit_code == 1 and "not allowed" in r.stderr
