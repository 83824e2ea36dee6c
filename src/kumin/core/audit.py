"""The append-only, hash-chained audit trail.

Every entry holds the SHA-256 of its canonical form, which includes the previous
entry's hash, so changing, deleting, inserting or reordering any entry breaks the
chain at that point. :func:`verify` walks the chain and names the first bad entry.

Entries never carry personal values: ``object`` names a record by its internal
reference (``case:123``, ``release:4``), ``details`` holds counts and codes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kumin.core.db import utcnow
from kumin.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64
OUTCOMES = ("ok", "denied", "failed")
_PG_LOCK = 0x6B756D696E  # "kumin": serialises appends across connections


def canonical(entry: AuditEntry | dict[str, Any]) -> bytes:
    """The exact bytes hashed for an entry (sorted keys, no spaces, UTF-8)."""
    get = entry.get if isinstance(entry, dict) else lambda k: getattr(entry, k)
    body = {
        k: get(k)
        for k in (
            "seq",
            "ts",
            "actor",
            "action",
            "object",
            "purpose",
            "outcome",
            "details",
            "prev_hash",
        )
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: AuditEntry | dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    object: str = "",
    purpose: str = "",
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with it)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    head = session.get(AuditHead, 1)
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    fields = {
        "seq": seq,
        "ts": utcnow().isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object": object,
        "purpose": purpose,
        "outcome": outcome,
        "details": json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str),
        "prev_hash": prev,
    }
    entry = AuditEntry(**fields, hash=entry_hash(fields))
    session.add(entry)
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=entry.hash))
    else:
        head.seq, head.hash = seq, entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    bad_seq: int | None = None
    reason: str | None = None  # a message key under core.audit.*


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the whole chain; stop at the first entry that does not fit."""
    expected_seq, prev, count = 1, GENESIS, 0
    last_seq = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        count += 1
        if entry.seq != expected_seq:
            # A gap: entries deleted before this one (or this one moved here).
            return VerifyResult(False, count, entry.seq, "core.audit.gap")
        if entry.prev_hash != prev:
            return VerifyResult(False, count, entry.seq, "core.audit.broken_link")
        if entry_hash(entry) != entry.hash:
            return VerifyResult(False, count, entry.seq, "core.audit.altered")
        prev, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return VerifyResult(False, count, last_seq + 1, "core.audit.truncated")
    if head is None and count:
        return VerifyResult(False, count, last_seq, "core.audit.truncated")
    return VerifyResult(True, count)


def query(
    session: Session,
    since: date | None = None,
    actor: str | None = None,
    action: str | None = None,
    object_prefix: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.seq)
    if since is not None:
        start = since if isinstance(since, datetime) else datetime.combine(since, time.min)
        stmt = stmt.where(AuditEntry.ts >= start.isoformat())
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    if object_prefix:
        stmt = stmt.where(AuditEntry.object.startswith(object_prefix))
    if limit:
        stmt = stmt.order_by(None).order_by(AuditEntry.seq.desc()).limit(limit)
        return list(reversed(session.scalars(stmt).all()))
    return list(session.scalars(stmt))


def as_rows(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "ts": e.ts,
            "actor": e.actor,
            "action": e.action,
            "object": e.object,
            "purpose": e.purpose,
            "outcome": e.outcome,
            "details": json.loads(e.details or "{}"),
            "hash": e.hash,
        }
        for e in entries
    ]


PG_IMMUTABLE_SQL = """
CREATE OR REPLACE FUNCTION kumin_audit_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION kumin_audit_immutable();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION kumin_audit_immutable();
"""
