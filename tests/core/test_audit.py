"""The hash-chained audit trail: intact chains verify, any tampering is named."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kumin.core import audit
from kumin.core.db import session_scope


def _fill(settings, n=5):
    with session_scope(settings) as s:
        for i in range(n):
            audit.record(s, "alice", "cases.read", f"case:{i}", purpose="test")


def test_intact_chain_verifies(fresh_db):
    _fill(fresh_db)
    with session_scope(fresh_db) as s:
        result = audit.verify(s)
    assert result.ok and result.entries == 6  # 5 + the init entry


def _sqlite_path(settings):
    return settings.database_url.removeprefix("sqlite:///")


@pytest.mark.parametrize(
    ("tamper", "bad", "reason"),
    [
        ("UPDATE audit_log SET actor='mallory' WHERE seq=3", 3, "core.audit.altered"),
        ("DELETE FROM audit_log WHERE seq=3", 4, "core.audit.gap"),
        ("UPDATE audit_log SET seq=100 WHERE seq=3", 4, "core.audit.gap"),
        ("DELETE FROM audit_log WHERE seq=6", 6, "core.audit.truncated"),
        (
            "INSERT INTO audit_log (seq, ts, actor, action, object, purpose, outcome, details,"
            " prev_hash, hash) SELECT 7, ts, 'x', 'y', '', '', 'ok', '{}', hash, hash"
            " FROM audit_log WHERE seq=6",
            7,
            "core.audit.altered",
        ),
    ],
)
def test_sqlite_tampering_is_named(sqlite_db, tamper, bad, reason):
    _fill(sqlite_db)
    with sqlite3.connect(_sqlite_path(sqlite_db)) as conn:
        conn.execute(tamper)
    with session_scope(sqlite_db) as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.bad_seq == bad
    assert result.reason == reason


def test_swapping_two_entries_is_detected(sqlite_db):
    _fill(sqlite_db)
    with sqlite3.connect(_sqlite_path(sqlite_db)) as conn:
        conn.execute("UPDATE audit_log SET seq=-1 WHERE seq=2")
        conn.execute("UPDATE audit_log SET seq=2 WHERE seq=3")
        conn.execute("UPDATE audit_log SET seq=3 WHERE seq=-1")
    with session_scope(sqlite_db) as s:
        result = audit.verify(s)
    assert not result.ok and result.bad_seq == 2


def test_postgres_role_cannot_change_audit_rows(fresh_db):
    if not fresh_db.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no roles; tampering is detected instead")
    _fill(fresh_db, 2)
    for stmt in (
        "UPDATE audit_log SET actor='mallory' WHERE seq=2",
        "DELETE FROM audit_log WHERE seq=2",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session_scope(fresh_db) as s:
            s.execute(text(stmt))
    with session_scope(fresh_db) as s:
        assert audit.verify(s).ok


def test_cli_verify_exit_codes(cli, users):
    admin = users.by_role["auditor"]
    ok = cli("audit", "verify", user=admin)
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.stdout
    if cli.settings.database_url.startswith("sqlite"):
        with sqlite3.connect(_sqlite_path(cli.settings)) as conn:
            conn.execute("UPDATE audit_log SET object='user:zzz' WHERE seq=2")
        bad = cli("audit", "verify", user=admin)
        assert bad.exit_code == 1
        assert "#2" in bad.stderr
        assert "Traceback" not in bad.output


def test_cli_show_formats(cli, users):
    import csv
    import io
    import json

    auditor = users.by_role["auditor"]
    as_json = cli("audit", "show", "--format", "json", "--actor", "system", user=auditor)
    rows = json.loads(as_json.stdout)
    assert rows and all(r["actor"] == "system" for r in rows)
    assert {"seq", "ts", "actor", "action", "object", "purpose", "outcome"} <= rows[0].keys()
    as_csv = cli("audit", "show", "--format", "csv", "--since", "2020-01-01", user=auditor)
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert parsed[0]["seq"] == "1"
    bad = cli("audit", "show", "--since", "yesterday", user=auditor)
    assert bad.exit_code == 1 and "yesterday" in bad.stderr


def test_logins_and_denials_are_audited(cli, users):
    cli("users", "list", user=users.by_role["admin"], password="wrong-password!")
    cli("users", "list", user=users.by_role["researcher"])
    with session_scope(cli.settings) as s:
        rows = audit.as_rows(audit.query(s, action="auth.login"))
        denied = audit.as_rows(audit.query(s, action="users.manage"))
    assert any(r["outcome"] == "failed" and r["actor"] == "u-admin" for r in rows)
    assert any(r["outcome"] == "ok" and r["actor"] == "u-researcher" for r in rows)
    assert any(r["outcome"] == "denied" and r["actor"] == "u-researcher" for r in denied)
