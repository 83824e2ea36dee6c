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


# --- keyed chain and checkpoints (issue 10, item 5) ---------------------------------------


def _rehash_with_sha256(path: str, seq: int, **changes) -> None:
    """What an intruder holding only the database file can do: edit, then re-hash."""
    import hashlib
    import json

    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY seq")]
        prev = rows[seq - 2]["hash"] if seq > 1 else audit.GENESIS
        for row in rows[seq - 1 :]:
            if row["seq"] == seq:
                row.update(changes)
            row["prev_hash"] = prev
            body = {k: v for k, v in row.items() if k != "hash"}
            blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            row["hash"] = prev = hashlib.sha256(blob.encode()).hexdigest()
            conn.execute(
                "UPDATE audit_log SET actor=?, object=?, prev_hash=?, hash=? WHERE seq=?",
                (row["actor"], row["object"], row["prev_hash"], row["hash"], row["seq"]),
            )
        conn.execute("UPDATE audit_head SET hash=? WHERE id=1", (prev,))


def test_rehashed_chain_is_caught_without_the_key(cli, users):
    """Plain SHA-256 re-hashing passed verify before the chain was keyed."""
    if not cli.settings.database_url.startswith("sqlite"):
        pytest.skip("the intruder edits the SQLite file directly")
    _fill(cli.settings)
    _rehash_with_sha256(_sqlite_path(cli.settings), 3, object="case:999")
    with session_scope(cli.settings) as s:
        result = audit.verify(s)
    assert not result.ok and result.bad_seq == 3 and result.reason == "core.audit.altered"
    r = cli("audit", "verify", user=users.by_role["auditor"])
    assert r.exit_code == 1 and "#3" in r.stderr


def test_entries_are_hmac_under_the_key_file(fresh_db, tmp_path):
    import shutil

    from kumin.core import crypto
    from kumin.core.db import dispose_engine

    _fill(fresh_db, 2)
    with session_scope(fresh_db) as s:
        assert audit.verify(s).ok
    # The same database under another key file no longer verifies.
    other = tmp_path / "other.key"
    crypto.write_key_file(other, crypto.new_master_key())
    with session_scope(fresh_db.with_(key_file=other)) as s:
        result = audit.verify(s)
    assert not result.ok and result.reason == "core.audit.altered"
    # Rotation keeps the chain key: old and new entries verify after it.
    backup = tmp_path / "backup.key"
    shutil.copy(fresh_db.key_file, backup)
    with session_scope(fresh_db) as s:
        crypto.rotate_master_key(s, fresh_db.key_file)
    crypto.finish_rotation(fresh_db.key_file)
    _fill(fresh_db, 2)
    with session_scope(fresh_db) as s:
        assert audit.verify(s).ok
    assert crypto.read_key_file(fresh_db.key_file).key != crypto.read_key_file(backup).key
    dispose_engine(fresh_db)


def test_checkpoint_appends_and_verify_checks_it(cli, users, tmp_path):
    auditor = users.by_role["auditor"]
    path = tmp_path / "anchors" / "audit.checkpoints"
    r = cli("audit", "checkpoint", "--file", str(path), "--print", user=auditor)
    assert r.exit_code == 0, r.output
    first = path.read_text().splitlines()
    assert len(first) == 1
    printed = r.stdout.strip().splitlines()[-1].split()
    with session_scope(cli.settings) as s:
        head = s.get(audit.AuditHead, 1)
        seq = head.seq - 1  # the checkpoint names the head before its own entry
        entry = s.get(audit.AuditEntry, seq)
    assert printed[:2] == [str(seq), entry.hash]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # default file: the setting, then beside the key file
    r = cli("audit", "checkpoint", user=auditor)
    assert r.exit_code == 0, r.output
    assert (cli.settings.key_file.parent / "kumin.checkpoints").is_file()
    r = cli("audit", "checkpoint", "--file", str(path), user=auditor)
    assert len(path.read_text().splitlines()) == 2  # appended, never rewritten
    ok = cli("audit", "verify", "--file", str(path), user=auditor)
    assert ok.exit_code == 0, ok.output
    assert "2 checkpoints" in ok.stdout
    bad = tmp_path / "bad.checkpoints"
    bad.write_text('{"seq": 1, "hash": "00"}\n')
    r = cli("audit", "verify", "--file", str(bad), user=auditor)
    assert r.exit_code == 1 and "line 1" in r.stderr and "Traceback" not in r.output


def test_truncation_behind_a_checkpoint_is_caught(cli, users, tmp_path):
    """Deleting the tail and moving the head back needs no key: checkpoints catch it."""
    if not cli.settings.database_url.startswith("sqlite"):
        pytest.skip("the intruder edits the SQLite file directly")
    auditor = users.by_role["auditor"]
    _fill(cli.settings)
    path = tmp_path / "cp"
    assert cli("audit", "checkpoint", "--file", str(path), user=auditor).exit_code == 0
    seq = int(path.read_text().split('"seq":')[1].split(",")[0])
    with sqlite3.connect(_sqlite_path(cli.settings)) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq >= ?", (seq,))
        conn.execute(
            "UPDATE audit_head SET seq=?, hash=(SELECT hash FROM audit_log WHERE seq=?)",
            (seq - 1, seq - 1),
        )
    with session_scope(cli.settings) as s:
        assert audit.verify(s).ok  # without the anchor the shortened chain looks whole
        result = audit.verify(s, checkpoints=audit.read_checkpoints(path))
    assert not result.ok and result.reason == "core.audit.checkpoint.missing"
    r = cli("audit", "verify", "--file", str(path), user=auditor)
    assert r.exit_code == 1 and f"#{seq}" in r.stderr


def test_rewrite_with_the_key_is_caught_by_a_checkpoint(fresh_db, tmp_path):
    """Even with the key file, a rewritten entry differs from its checkpoint."""
    from kumin.core.crypto import audit_chain_key

    _fill(fresh_db, 3)
    path = tmp_path / "cp"
    with session_scope(fresh_db) as s:
        audit.checkpoint(s, "u-auditor", path)
    key = audit_chain_key(fresh_db.key_file)
    with session_scope(fresh_db) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        prev = audit.GENESIS
        for entry in s.scalars(audit.select(audit.AuditEntry).order_by(audit.AuditEntry.seq)):
            if entry.seq == 2:
                entry.object = "case:rewritten"
            entry.prev_hash = prev
            entry.hash = prev = audit.entry_hash(entry, key)
        s.get(audit.AuditHead, 1).hash = prev
    with session_scope(fresh_db) as s:
        assert audit.verify(s).ok
        result = audit.verify(s, checkpoints=audit.read_checkpoints(path))
    assert not result.ok and result.reason == "core.audit.checkpoint.mismatch"


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy_db(request, tmp_path):
    """An empty database migrated only to 0001_core (before the chain was keyed)."""
    import uuid

    from alembic import command
    from tests import conftest

    from kumin.core import crypto
    from kumin.core.config import Settings
    from kumin.core.db import alembic_config, dispose_engine, get_engine

    key_file = tmp_path / "k.key"
    crypto.ensure_key_file(key_file)
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        reason = conftest._pg_available()
        if reason:
            pytest.skip(f"PostgreSQL half skipped: {reason}")
        name = f"kumin_legacy_{uuid.uuid4().hex[:10]}"
        conftest._pg_exec(f'CREATE DATABASE "{name}"')
        url = conftest._with_db(conftest.PG_ADMIN_URL, name)
    settings = Settings(database_url=url, key_file=key_file)
    cfg = alembic_config(settings)
    with get_engine(settings).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_core")
    yield settings
    dispose_engine(settings)
    if name:
        conftest._pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migration_rekeys_a_legacy_chain(legacy_db):
    """A chain written with plain SHA-256 is verified, re-keyed and still verifies."""
    import json

    from kumin.core.db import get_engine, upgrade

    prev = audit.GENESIS
    with get_engine(legacy_db).begin() as conn:
        for seq in range(1, 4):
            row = {
                "seq": seq, "ts": f"2022-01-0{seq}T00:00:00", "actor": "alice",
                "action": "cases.read", "object": f"case:{seq}", "purpose": "",
                "outcome": "ok", "details": "{}", "prev_hash": prev,
            }  # fmt: skip
            row["hash"] = prev = audit.legacy_hash(row)
            conn.execute(
                text(
                    "INSERT INTO audit_log (seq, ts, actor, action, object, purpose, outcome,"
                    " details, prev_hash, hash) VALUES (:seq,:ts,:actor,:action,:object,"
                    ":purpose,:outcome,:details,:prev_hash,:hash)"
                ),
                row,
            )
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :h)"), {"h": prev})
    upgrade(legacy_db)
    with session_scope(legacy_db) as s:
        result = audit.verify(s)
        rekey = s.get(audit.AuditEntry, 4)
    assert result.ok and result.entries == 4
    assert rekey.action == "audit.rekey"
    assert json.loads(rekey.details) == {"entries": 3, "legacy_head": prev}
    if legacy_db.database_url.startswith("postgresql"):  # the trigger is back on
        with pytest.raises(DBAPIError, match="append-only"), session_scope(legacy_db) as s:
            s.execute(text("UPDATE audit_log SET actor='mallory' WHERE seq=1"))


def test_migration_refuses_a_broken_legacy_chain(tmp_path):
    from alembic import command

    from kumin.core import crypto
    from kumin.core.config import Settings
    from kumin.core.db import alembic_config, dispose_engine, get_engine, upgrade
    from kumin.errors import ConfigError

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'old.db'}", key_file=tmp_path / "k.key"
    )
    crypto.ensure_key_file(settings.key_file)
    cfg = alembic_config(settings)
    with get_engine(settings).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_core")
    row = {
        "seq": 1, "ts": "2022-01-01T00:00:00", "actor": "alice", "action": "x",
        "object": "", "purpose": "", "outcome": "ok", "details": "{}", "prev_hash": audit.GENESIS,
    }  # fmt: skip
    row["hash"] = audit.legacy_hash(row)
    with sqlite3.connect(_sqlite_path(settings)) as conn:
        row["actor"] = "mallory"  # edited after hashing
        conn.execute(
            "INSERT INTO audit_log VALUES (:seq,:ts,:actor,:action,:object,:purpose,"
            ":outcome,:details,:prev_hash,:hash)",
            row,
        )
        conn.execute("INSERT INTO audit_head VALUES (1, 1, ?)", (row["hash"],))
    with pytest.raises(ConfigError, match="#1"):
        upgrade(settings)
    with sqlite3.connect(_sqlite_path(settings)) as conn:
        assert conn.execute("SELECT actor FROM audit_log").fetchall() == [("mallory",)]
    dispose_engine(settings)
