"""kill -9 of a process in the middle of an import: nothing of it is stored, the
audit chain verifies, and the same file imports cleanly afterwards (both databases)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from sqlalchemy import func, select, text
from tests.conftest import PASSWORD, REPO_ROOT

from kumin.core import audit
from kumin.core.db import dispose_engine, session_scope
from kumin.oplog import models as om


def _importing(settings) -> bool:
    """True once the importer is inside its write transaction, writing events."""
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        wal = path + "-wal"
        probe = sqlite3.connect(path, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            # the lock is held and the transaction has spilled pages: rows are going in
            return os.path.exists(wal) and os.path.getsize(wal) > 4 << 20
        finally:
            probe.close()
    name = settings.database_url.rsplit("/", 1)[1]
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY oplog_events%%'",
            (name,),
        ).fetchone()
        return row[0] > 0


def test_kill_9_during_an_import_leaves_nothing(cli, users, tmp_path):
    from kumin.synth.oplog import synth_oplog

    log = tmp_path / "terminal_2021.csv"
    synth_oplog(seed=3, scale=0.6, inject=False).write_csv(log)
    settings = users.settings
    dispose_engine(settings)
    env = {
        **os.environ,
        "KUMIN_DATABASE_URL": settings.database_url,
        "KUMIN_KEY_FILE": str(settings.key_file),
        "KUMIN_USER": users.by_role["auditor"],
        "KUMIN_PASSWORD": PASSWORD,
        "KUMIN_REQUIRE_2FA": "0",
        "KUMIN_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(REPO_ROOT / "src"),
    }
    code = "from kumin.cli.main import run; run()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "oplog", "import", str(log)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not _importing(settings):
            assert proc.poll() is None, "the import ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(om.OplogFile)) == 0
        assert s.scalar(select(func.count()).select_from(om.OplogEvent)) == 0
        assert s.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'oplog.import'")) == 0
        assert audit.verify(s).ok
    r = cli("oplog", "import", str(log), user=users.by_role["auditor"])
    assert r.exit_code == 0, r.output
    with session_scope(settings) as s:
        assert s.scalar(select(func.count()).select_from(om.OplogFile)) == 1
        assert audit.verify(s).ok
