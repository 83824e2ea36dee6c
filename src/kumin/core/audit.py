"""The append-only, hash-chained audit trail.

Every entry holds the HMAC-SHA256 of its canonical form, which includes the
previous entry's hash, so changing, deleting, inserting or reordering any entry
breaks the chain at that point. :func:`verify` walks the chain and names the first
bad entry. The HMAC key is derived from the master key file (see
:meth:`kumin.core.crypto.MasterKey.chain_key`), so whoever can write the database
but cannot read the key file cannot re-hash an edited chain.

Deleting the last entries and moving the head back needs no key, and neither does
anything done by someone who holds the key file too. Checkpoints answer both: the
head (sequence, hash, time) appended now and then to a file outside the database
(:func:`append_checkpoint`, ``kumin audit checkpoint``) or printed for a paper log;
:func:`verify` fails when the database no longer extends every checkpoint.

Entries never carry personal values: ``object`` names a record by its internal
reference (``case:123``, ``release:4``), ``details`` holds counts and codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from kumin.core.crypto import audit_chain_key
from kumin.core.db import utcnow
from kumin.core.models import AuditEntry, AuditHead
from kumin.errors import ConfigError, DataError, NotFound

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


def entry_hash(entry: AuditEntry | dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the entry's canonical form under the chain key."""
    return hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()


def legacy_hash(entry: AuditEntry | dict[str, Any]) -> str:
    """Plain SHA-256, as chains were hashed before keying (migration 0008 only)."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def chain_key(session: Session) -> bytes:
    """The chain key for this session's installation (from its key file)."""
    key = session.info.get("kumin_audit_key")
    if key is not None:
        return key
    settings = session.info.get("kumin_settings")
    if settings is None:
        # Only sessions from kumin.core.db.session_factory know their key file.
        raise ConfigError("core.audit_keying.no_chain_key")
    return audit_chain_key(settings.key_file)


#: Longest wait for the chain's lock. Unbounded, requests waiting in the database
#: filled a worker's thread pool while the lock's holder waited for a thread to
#: commit in: a deadlock. Bounded, the waiter fails cleanly (503) and lets go.
LOCK_WAIT = "15s"
_PENDING = "kumin_audit_pending"


def _lock_chain(session: Session) -> None:
    """The chain's head is one row: appenders take turns (held until commit)."""
    prev = session.scalar(text("SELECT current_setting('lock_timeout')"))
    session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": LOCK_WAIT})
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": prev})


def record(
    session: Session,
    actor: str,
    action: str,
    object: str = "",
    purpose: str = "",
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (it commits or rolls back with it).

    The entry is chained when the transaction commits (:func:`flush`), not here:
    the chain's head is one row every writer takes in turn, and taking it here
    held it for the rest of the request — page rendering, seconds of computing —
    so every auditing request of every worker queued behind it (p95 of page views
    12 s with 50 users). Held from the commit's start to its end, it costs
    milliseconds. Entries are in order of commit, their ``ts`` of recording.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    chain_key(session)  # no key file: fail now, where the action is, not at commit
    session.info.setdefault(_PENDING, []).append(
        {
            "ts": utcnow().isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object": object,
            "purpose": purpose,
            "outcome": outcome,
            "details": json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str),
        }
    )


def flush(session: Session) -> list[AuditEntry]:
    """Chain and write the entries recorded in this transaction (called before every
    commit; call it yourself before reading them back in the same transaction)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return []
    if session.get_bind().dialect.name == "postgresql":
        _lock_chain(session)
    head = session.get(AuditHead, 1, populate_existing=True)
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    key = chain_key(session)
    entries = []
    for fields in pending:
        seq += 1
        fields = {**fields, "seq": seq, "prev_hash": prev}
        entry = AuditEntry(**fields, hash=entry_hash(fields, key))
        session.add(entry)
        entries.append(entry)
        prev = entry.hash
    if head is None:
        session.add(AuditHead(id=1, seq=seq, hash=prev))
    else:
        head.seq, head.hash = seq, prev
    session.flush()
    return entries


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "do_orm_execute")
def _before_reading_the_trail(state) -> None:
    # a transaction reading the trail sees its own entries (rare: they are chained
    # now, taking the lock early, only then)
    if state.session.info.get(_PENDING) and any(
        mp.class_ in (AuditEntry, AuditHead) for mp in state.all_mappers
    ):
        flush(state.session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction rolled back: so do its entries
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    bad_seq: int | None = None
    reason: str | None = None  # a message key under core.audit.*
    checkpoints: int = 0


def verify(
    session: Session, batch: int = 5000, checkpoints: Sequence[Checkpoint] = ()
) -> VerifyResult:
    """Walk the whole chain; stop at the first entry that does not fit.

    Each checkpoint must name an entry still in the chain, with the same hash.
    """
    key = chain_key(session)
    anchors = {c.seq: c.hash for c in checkpoints}
    expected_seq, prev, count = 1, GENESIS, 0
    last_seq = 0
    n = len(anchors)
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        count += 1
        if entry.seq != expected_seq:
            # A gap: entries deleted before this one (or this one moved here).
            return VerifyResult(False, count, entry.seq, "core.audit.gap", n)
        if entry.prev_hash != prev:
            return VerifyResult(False, count, entry.seq, "core.audit.broken_link", n)
        if not hmac.compare_digest(entry_hash(entry, key), entry.hash):
            return VerifyResult(False, count, entry.seq, "core.audit.altered", n)
        if anchors.get(entry.seq, entry.hash) != entry.hash:
            return VerifyResult(False, count, entry.seq, "core.audit.checkpoint.mismatch", n)
        prev, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return VerifyResult(False, count, last_seq + 1, "core.audit.truncated", n)
    if head is None and count:
        return VerifyResult(False, count, last_seq, "core.audit.truncated", n)
    beyond = [seq for seq in anchors if seq > last_seq]
    if beyond:
        # The chain ends before an entry a checkpoint saw: the tail was cut off.
        return VerifyResult(False, count, min(beyond), "core.audit.checkpoint.missing", n)
    return VerifyResult(True, count, checkpoints=n)


# --- checkpoints: the head, kept outside the database ----------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: str

    def line(self) -> str:
        body = {"seq": self.seq, "hash": self.hash, "time": self.time}
        return json.dumps(body, separators=(",", ":"))


def current_head(session: Session) -> Checkpoint:
    """The chain's head now, as a checkpoint (NotFound on an empty chain)."""
    head = session.get(AuditHead, 1)
    if head is None:
        raise NotFound("core.audit.checkpoint.empty")
    return Checkpoint(head.seq, head.hash, utcnow().isoformat(timespec="seconds"))


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line to the checkpoint file; existing lines are never rewritten."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(
            "core.audit.checkpoint.unwritable", path=str(path), reason=exc.strerror
        ) from None
    try:
        os.write(fd, (checkpoint.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def checkpoint(session: Session, actor: str, path: Path) -> Checkpoint:
    """Append the chain's head to the checkpoint file, and audit that it was done.

    The line names an entry already committed, so it stays true whether or not the
    caller's transaction (holding the new ``audit.checkpoint`` entry) commits.
    """
    cp = current_head(session)
    append_checkpoint(path, cp)
    record(session, actor, "audit.checkpoint", "audit_log", details={"seq": cp.seq})
    return cp


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file ([] when there is no file yet)."""
    path = Path(path)
    if not path.exists():
        return []
    out: list[Checkpoint] = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                body = json.loads(raw)
                cp = Checkpoint(int(body["seq"]), str(body["hash"]), str(body.get("time", "")))
                if cp.seq < 1 or len(cp.hash) != 64:
                    raise ValueError(cp)
            except (ValueError, KeyError, TypeError):
                raise DataError(
                    "core.audit.checkpoint.bad_line", path=str(path), line=number
                ) from None
            out.append(cp)
    return out


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
