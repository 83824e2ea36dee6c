"""``kumin status``: what the operator checks first, gathered in one place.

Counts and dates only (no personal values), read without signing in: the operator
who can run it already holds the server's configuration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kumin import __version__
from kumin.core.config import Settings
from kumin.core.db import current_heads, session_scope
from kumin.core.models import AuditEntry, AuditHead, User


def _last(session, action: str) -> str:
    ts = session.scalar(select(func.max(AuditEntry.ts)).where(AuditEntry.action == action))
    return ts or "-"


def status(settings: Settings) -> dict[str, Any]:
    from kumin.core import jobs
    from kumin.web.ops import readiness, script_heads

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
            "schema_current": heads == script_heads(settings),
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
