"""Operations: backup → destroy → restore → verify on both databases, the probes,
``kumin status``, the worker-count rule, the access log and the lock retry."""

from __future__ import annotations

import json
import logging
import sqlite3
import tarfile

import pytest
from sqlalchemy import create_engine, select, text
from tests.conftest import _pg_exec, actor_for

from kumin.core import audit, signin
from kumin.core.backup import backup, read_manifest, restore
from kumin.core.config import Settings
from kumin.core.context import context
from kumin.core.crypto import Keyring
from kumin.core.db import dispose_engine, session_scope
from kumin.core.models import User
from kumin.errors import ConfigError, UserError


def _destroy(settings: Settings) -> Settings:
    """Drop the database for good and hand back settings for a new, empty one."""
    dispose_engine(settings)
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            try:
                import os

                os.remove(path + suffix)
            except FileNotFoundError:
                pass
        return settings
    name = settings.database_url.rsplit("/", 1)[1]
    _pg_exec(f'DROP DATABASE "{name}" WITH (FORCE)')
    _pg_exec(f'CREATE DATABASE "{name}"')
    return settings


def test_backup_destroy_restore_verify_and_read_a_personal_field(users, tmp_path):
    settings = users.settings
    with context(settings, actor_for(users, "epidemiologist")) as ctx:
        setup = signin.begin_totp(ctx)  # a personal secret, stored encrypted
    out = tmp_path / "backups" / "kumin.backup"
    manifest = backup(settings, out)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(out) as tar:
        names = tar.getnames()
        blob = b"".join(tar.extractfile(n).read() for n in names)
    assert sorted(names) == sorted(["manifest.json", manifest["payload"]])
    key_bytes = settings.key_file.read_bytes()
    assert key_bytes not in blob and setup.secret.encode() not in blob  # no key, no clear text
    assert manifest["tables"]["users"] == 6 and manifest["audit_head"]["seq"] > 0
    assert read_manifest(out)["payload_sha256"] == manifest["payload_sha256"]

    # restore never overwrites a database that holds data
    with pytest.raises(UserError) as refused:
        restore(settings, out)
    assert refused.value.key == "core.backup.not_empty"

    _destroy(settings)
    result = restore(settings, out)
    assert result["entries"] == manifest["audit_head"]["seq"]
    with session_scope(settings) as s:
        assert audit.verify(s).ok
        user = s.scalars(select(User).where(User.name == users.by_role["epidemiologist"])).one()
        assert Keyring(s, settings.key_file).decrypt("accounts", user.totp_pending) == setup.secret
        assert s.scalar(text("SELECT count(*) FROM audit_log WHERE action = 'ops.restore'")) == 1


def test_restore_refuses_a_damaged_file_or_the_wrong_key(users, tmp_path):
    settings = users.settings
    with context(settings, actor_for(users, "epidemiologist")) as ctx:
        signin.begin_totp(ctx)
    out = tmp_path / "kumin.backup"
    backup(settings, out)
    _destroy(settings)
    other_key = tmp_path / "other.key"
    from kumin.core.crypto import ensure_key_file

    ensure_key_file(other_key)
    with pytest.raises(ConfigError) as wrong:
        restore(settings.with_(key_file=other_key), out)
    assert wrong.value.key == "core.backup.wrong_key"
    # a flipped byte in the payload is caught by the manifest's checksum
    damaged = tmp_path / "damaged.backup"
    with tarfile.open(out) as src, tarfile.open(damaged, "w") as dst:
        for member in src.getmembers():
            data = bytearray(src.extractfile(member).read())
            if member.name != "manifest.json":
                data[len(data) // 2] ^= 0xFF
            import io

            dst.addfile(member, io.BytesIO(bytes(data)))
    with pytest.raises(UserError) as bad:
        restore(settings, damaged)
    assert bad.value.key == "core.backup.checksum"
    (tmp_path / "junk").write_text("not a backup")
    with pytest.raises(UserError):
        restore(settings, tmp_path / "junk")


def test_backup_and_restore_commands(cli, users, tmp_path):
    out = tmp_path / "b.tar"
    r = cli("backup", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "NOT in the backup" in " ".join(r.stdout.split())
    r = cli("status", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {row["item"]: row["value"] for row in json.loads(r.stdout)}
    assert rows["users_active"] == 6 and rows["last_backup"] != "-"
    assert rows["schema_current"] is True and rows["key_file"] == "ok"
    assert rows["jobs_queued"] == 0
    r = cli("restore", str(out))
    assert r.exit_code == 1 and "not empty" in r.stderr


def test_serve_refuses_several_workers_on_sqlite(cli):
    if not cli.settings.is_sqlite:
        pytest.skip("the rule is SQLite's")
    r = cli("serve", "--workers", "2")
    assert r.exit_code == 2 and "PostgreSQL" in r.stderr
    assert cli("serve", "--workers", "0").exit_code == 2


def test_probes_and_the_access_log(app_client, users, caplog):
    caplog.set_level(logging.INFO, logger="kumin.access")
    assert app_client.get("/healthz").json()["status"] == "ok"
    r = app_client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "schema": "ok", "key_file": "ok"}
    app_client.login(users.by_role["auditor"])
    r = app_client.get("/api/v1/audit?actor=secret-name", headers={"x-request-id": "req-12345678"})
    assert r.headers["x-request-id"] == "req-12345678"
    entries = [rec.fields for rec in caplog.records if rec.name == "kumin.access"]
    mine = [e for e in entries if e["request_id"] == "req-12345678"]
    assert mine and mine[0]["route"] == "/api/v1/audit" and mine[0]["status"] == 200
    assert "secret-name" not in caplog.text  # query values are never logged
    # an unusable request id from outside is replaced, not echoed
    r = app_client.get("/healthz", headers={"x-request-id": "bad id\n"})
    assert r.headers["x-request-id"] != "bad id\n" and len(r.headers["x-request-id"]) == 16


def test_readyz_follows_the_key_file(app_client, users):
    key = users.settings.key_file
    saved = key.read_bytes()
    key.unlink()
    r = app_client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["key_file"] == "unreadable"
    key.write_bytes(saved)
    key.chmod(0o600)
    assert app_client.get("/readyz").status_code == 200


def test_readyz_503_while_postgresql_refuses_and_200_after_without_restart(app_client, users):
    if users.settings.is_sqlite:
        pytest.skip("PostgreSQL's connections")
    name = users.settings.database_url.rsplit("/", 1)[1]
    app_client.login(users.by_role["auditor"])
    assert app_client.get("/readyz").status_code == 200
    try:
        _pg_exec(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        _pg_exec(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        r = app_client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["database"] == "unreachable"
        api = app_client.get("/api/v1/me")
        assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"
    finally:
        _pg_exec(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert app_client.get("/readyz").status_code == 200
    assert app_client.get("/api/v1/me").json()["name"] == users.by_role["auditor"]


def test_a_request_that_met_a_locked_sqlite_is_run_again(tmp_path):
    """The middleware replays a request whose transaction lost the SQLite lock."""
    import anyio
    import httpx

    from kumin.web.ops import OpsMiddleware

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    attempts = []

    async def app(scope, receive, send):
        body = (await receive())["body"]
        attempts.append(body)
        if len(attempts) == 2:
            holder.execute("COMMIT")  # the other writer finished meanwhile
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def go():
        transport = httpx.ASGITransport(app=OpsMiddleware(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/", content=b"payload")

    r = anyio.run(go)
    assert r.status_code == 200 and attempts == [b"payload", b"payload"]
    engine.dispose()
    holder.close()


def test_sqlite_writers_are_served_in_arrival_order():
    """The in-process writer queue hands the lock over first come, first served."""
    import threading
    import time

    from kumin.core.db import FairLock

    gate, order = FairLock(), []
    assert gate.acquire(1)

    def writer(name):
        assert gate.acquire(10)
        order.append(name)
        gate.release()

    threads = []
    for name in "abcde":
        th = threading.Thread(target=writer, args=(name,))
        th.start()
        threads.append(th)
        while len(gate._waiters) < len(threads):  # queued before the next one arrives
            time.sleep(0.001)
    gate.release()
    for th in threads:
        th.join()
    assert order == list("abcde")
    assert gate.acquire(0)  # free again
    gate.release()
    holder = FairLock()
    holder.acquire(1)
    assert holder.acquire(0.05) is False  # a bounded wait gives up
