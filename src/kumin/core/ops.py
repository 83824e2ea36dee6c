"""``kumin status``: what the operator checks first, gathered in one place.

Counts and dates only (no personal values), read without signing in: the operator
who can run it already holds the server's configuration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from kumin import __version__
from kumin.core.config import Settings
from kumin.core.db import current_heads, session_scope
from kumin.core.models import AuditEntry, AuditHead, User


def _last(session, action: str) -> str:
    ts = session.scalar(select(func.max(AuditEntry.ts)).where(AuditEntry.action == action))
    return ts or "-"


def status(settings: Settings) -> dict[str, Any]:
    from kumin.core import jobs

    checks = readiness(settings)
    heads = current_heads(settings)
    with session_scope(settings) as session:
        users = session.scalar(
            select(func.count()).select_from(User).where(User.disabled.is_(False))
        )
        counts = jobs.counts(session)
        head = session.get(AuditHead, 1)
        return {
            "version": __version__,
            "database": settings.database_url.split(":", 1)[0].split("+", 1)[0],
            "schema": ", ".join(heads),
            "schema_current": checks.get("schema") == "ok",
            "key_file": checks.get("key_file", "-"),
            "users_active": users,
            "jobs_queued": counts.get("queued", 0),
            "jobs_running": counts.get("running", 0),
            "jobs_failed": counts.get("failed", 0),
            "last_backup": _last(session, "ops.backup"),
            "last_restore": _last(session, "ops.restore"),
            "last_audit_checkpoint": _last(session, "audit.checkpoint"),
            "audit_entries": head.seq if head else 0,
        }


def readiness(settings) -> dict[str, str]:
    from kumin.core.crypto import read_key_file
    from kumin.core.db import get_engine

    checks: dict[str, str] = {}
    try:
        with get_engine(settings).connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        checks["database"] = "unreachable"
    if checks["database"] == "ok":
        try:
            checks["schema"] = "ok" if schema_current(settings) else "outdated"
        except Exception:  # noqa: BLE001
            checks["schema"] = "unknown"
    try:
        read_key_file(settings.key_file)
        checks["key_file"] = "ok"
    except Exception:  # noqa: BLE001 - missing, unreadable or malformed
        checks["key_file"] = "unreadable"
    return checks


_SCRIPT_REVISIONS: list[str] = []


def script_revisions(settings) -> list[str]:
    """Every migration the installed code knows (read once per process)."""
    if not _SCRIPT_REVISIONS:
        from alembic.script import ScriptDirectory

        from kumin.core.db import alembic_config

        script = ScriptDirectory.from_config(alembic_config(settings))
        _SCRIPT_REVISIONS.extend(sorted(r.revision for r in script.walk_revisions()))
    return _SCRIPT_REVISIONS


def schema_current(settings) -> bool:
    """Every known migration is applied. Heads are not compared: a migration that
    ``depends_on`` other branches (0014_core_perf) stands for their heads in
    ``alembic_version``, so the database lists fewer heads than the scripts."""
    from alembic.script import ScriptDirectory

    from kumin.core.db import alembic_config, current_heads

    script = ScriptDirectory.from_config(alembic_config(settings))
    try:
        applied = {
            r.revision for r in script.iterate_revisions(tuple(current_heads(settings)), "base")
        }
    except Exception:  # noqa: BLE001 - a revision this code does not know: not current
        return False
    return applied == set(script_revisions(settings))
