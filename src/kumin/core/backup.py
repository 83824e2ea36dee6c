"""``kumin backup`` / ``kumin restore``: a consistent online snapshot with a manifest.

A backup is one tar file (mode 0600) holding ``manifest.json`` and the database:
SQLite's own backup API (a consistent copy while the service runs) or
``pg_dump --format=custom`` taken in an exported snapshot, so that the manifest's
figures (schema heads, audit head, row counts) describe exactly what was dumped.

The master key file is never inside: personal fields stay encrypted in the backup,
and without its key file the backup is worth nothing — which is the point. The
manifest names the master key ids the data keys are wrapped with, so a restore
refuses a key file that cannot open them.

A restore fills an *empty* database (it never overwrites one), then checks the
schema heads and the audit head against the manifest and verifies the audit chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, inspect, select, text

from kumin import __version__
from kumin.core.config import Settings
from kumin.core.db import dispose_engine, get_engine, session_scope, utcnow
from kumin.errors import ConfigError, UserError

FORMAT = 1
MANIFEST = "manifest.json"
PAYLOAD = {"sqlite": "kumin.sqlite", "postgresql": "kumin.pgdump"}


def _dialect(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split(":///", 1)[1])


def _pg_dsn(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _describe(conn) -> dict[str, Any]:
    """Schema heads, audit head, master key ids and row counts seen by ``conn``."""
    from kumin.core.models import AuditHead, DataKey

    names = sorted(inspect(conn).get_table_names())
    heads = sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    masters = sorted(
        r[0] for r in conn.execute(select(DataKey.master_id).where(DataKey.wrapped.is_not(None)))
    )
    counts = {
        n: conn.execute(select(func.count()).select_from(text(f'"{n}"'))).scalar_one()
        for n in names
        if n != "alembic_version"
    }
    return {
        "schema_heads": heads,
        "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
        "master_key_ids": sorted(set(masters)),
        "tables": counts,
    }


def backup(settings: Settings, out: Path) -> dict[str, Any]:
    """Write a backup of the settings' database to ``out``; returns its manifest."""
    out = Path(out)
    if out.is_dir():
        raise UserError("core.backup.out_is_dir", path=str(out))
    dialect = _dialect(settings)
    with tempfile.TemporaryDirectory(prefix="kumin-backup-") as tmp:
        payload = Path(tmp) / PAYLOAD[dialect]
        if dialect == "sqlite":
            description = _sqlite_snapshot(settings, payload)
        else:
            description = _pg_snapshot(settings, payload)
        manifest = {
            "format": FORMAT,
            "kumin_version": __version__,
            "created_at": utcnow().isoformat(timespec="seconds"),
            "database": dialect,
            "payload": payload.name,
            "payload_sha256": _sha256(payload),
            "payload_bytes": payload.stat().st_size,
            "key_file_included": False,
            **description,
        }
        _write_archive(out, manifest, payload)
    from kumin.core import audit

    with session_scope(settings) as session:
        audit.record(
            session,
            "system",
            "ops.backup",
            f"backup:{out.name}",
            details={"sha256": manifest["payload_sha256"], "audit_seq": _seq(manifest)},
        )
    return manifest


def _seq(manifest: dict[str, Any]) -> int:
    return (manifest.get("audit_head") or {}).get("seq", 0)


def _sqlite_snapshot(settings: Settings, payload: Path) -> dict[str, Any]:
    src = sqlite3.connect(_sqlite_path(settings), timeout=30)
    dst = sqlite3.connect(payload)
    try:
        src.backup(dst)  # one step: a consistent copy, writers wait meanwhile
    finally:
        dst.close()
        src.close()
    engine = create_engine(f"sqlite:///{payload}")
    try:
        with engine.connect() as conn:
            return _describe(conn)
    finally:
        engine.dispose()


def _pg_snapshot(settings: Settings, payload: Path) -> dict[str, Any]:
    if shutil.which("pg_dump") is None:
        raise ConfigError("core.backup.tool_missing", tool="pg_dump")
    engine = get_engine(settings)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            description = _describe(conn)
            # pg_dump reads the very snapshot the manifest was made from
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-acl",
                    f"--snapshot={snapshot}",
                    f"--file={payload}",
                    f"--dbname={_pg_dsn(settings)}",
                ]
            )
    return description


def _run(argv: list[str]) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    except OSError:
        raise ConfigError("core.backup.tool_missing", tool=argv[0]) from None
    if done.returncode != 0:
        # the tool's own message names tables and options, not personal values
        raise ConfigError("core.backup.tool_failed", tool=argv[0], message=done.stderr[-300:])


def _write_archive(out: Path, manifest: dict[str, Any], payload: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".kumin-backup-", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)
        with tarfile.open(tmp, "w") as tar:
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(body), 0o600
            tar.addfile(info, io.BytesIO(body))
            tar.add(payload, arcname=payload.name)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(file: Path) -> dict[str, Any]:
    try:
        with tarfile.open(file, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read().decode("utf-8"))
    except (OSError, tarfile.TarError, KeyError, ValueError):
        raise UserError("core.backup.bad_file", path=str(file)) from None
    if manifest.get("format") != FORMAT or manifest.get("database") not in PAYLOAD:
        raise UserError("core.backup.bad_file", path=str(file))
    return manifest


def _is_empty(settings: Settings) -> bool:
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists() or path.stat().st_size == 0:
            return True
    try:
        return not inspect(get_engine(settings)).get_table_names()
    finally:
        dispose_engine(settings)


def restore(settings: Settings, file: Path) -> dict[str, Any]:
    """Fill the (empty) settings' database from ``file``, then check and verify it."""
    file = Path(file)
    manifest = read_manifest(file)
    dialect = _dialect(settings)
    if manifest["database"] != dialect:
        raise UserError("core.backup.other_database", found=manifest["database"], here=dialect)
    _check_key(settings, manifest)
    if not _is_empty(settings):
        raise UserError("core.backup.not_empty")
    with tempfile.TemporaryDirectory(prefix="kumin-restore-") as tmp:
        with tarfile.open(file, "r") as tar:
            tar.extract(manifest["payload"], tmp, filter="data")
        payload = Path(tmp) / manifest["payload"]
        if _sha256(payload) != manifest["payload_sha256"]:
            raise UserError("core.backup.checksum", path=str(file))
        if dialect == "sqlite":
            _sqlite_restore(settings, payload)
        else:
            _pg_restore(settings, payload)
    dispose_engine(settings)
    return _check_restored(settings, manifest)


def _check_key(settings: Settings, manifest: dict[str, Any]) -> None:
    from kumin.core.crypto import read_key_file

    needed = set(manifest.get("master_key_ids") or [])
    if not needed:
        return
    try:
        have = read_key_file(settings.key_file).key_id
    except Exception:  # noqa: BLE001 - missing or unreadable: say which file is needed
        raise ConfigError("core.backup.no_key", path=str(settings.key_file)) from None
    if needed != {have}:
        raise ConfigError("core.backup.wrong_key", needed=", ".join(sorted(needed)), have=have)


def _sqlite_restore(settings: Settings, payload: Path) -> None:
    target = _sqlite_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(payload)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


def _pg_restore(settings: Settings, payload: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise ConfigError("core.backup.tool_missing", tool="pg_restore")
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={_pg_dsn(settings)}",
            str(payload),
        ]
    )


def _check_restored(settings: Settings, manifest: dict[str, Any]) -> dict[str, Any]:
    from kumin.core import audit

    engine: Engine = get_engine(settings)
    with engine.connect() as conn:
        found = _describe(conn)
    for key in ("schema_heads", "audit_head", "tables"):
        if found[key] != manifest[key]:
            raise UserError("core.backup.mismatch", what=key)
    with session_scope(settings) as session:
        result = audit.verify(session)
        if not result.ok:
            raise UserError("core.audit.bad_entry", seq=result.bad_seq, reason=result.reason or "")
        audit.record(
            session,
            "system",
            "ops.restore",
            f"backup:{manifest['created_at']}",
            details={"sha256": manifest["payload_sha256"], "audit_seq": _seq(manifest)},
        )
    return {"entries": result.entries, **manifest}
