"""Tables of the operation-log analysis.

Imported log files (with a checksum, so that importing the same file again is
harmless) and their events, each keeping the file and line it came from; the
resident references the events name, stored once each, encrypted, with a blind
index that the events and the rules use instead of the value; scans; alerts
with their triage state and notes; suppressions of closed-legitimate patterns;
the thresholds (settings); and the deterrence notices issued to departments.

Event timestamps are local wall-clock times (naive datetimes), as terminals write
them. Personal values are encrypted under the dataset ``"oplog"``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow

DATASET = "oplog"

#: alert states: new -> under_review -> closed (outcome legitimate or misuse)
NEW, UNDER_REVIEW, CLOSED = "new", "under_review", "closed"
STATES = (NEW, UNDER_REVIEW, CLOSED)
OUTCOMES = ("legitimate", "misuse")

#: where events came from: terminal logs, or kumin's own audit trail
SOURCE_LOG, SOURCE_AUDIT = "log", "audit"


class OplogFile(Base):
    """One imported operation-log file."""

    __tablename__ = "oplog_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    events: Mapped[int] = mapped_column(BigInteger)
    first_ts: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_ts: Mapped[dt.datetime | None] = mapped_column(DateTime)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64))


class OplogSubject(Base):
    """A resident reference seen in the logs: blind index and encrypted value."""

    __tablename__ = "oplog_subjects"

    subject_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class OplogEvent(Base):
    """One line of an operation log."""

    __tablename__ = "oplog_events"
    __table_args__ = (Index("ix_oplog_events_file_line", "file_id", "line"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("oplog_files.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    ts: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    #: blind index of the resident reference ("" when the line names none)
    subject_index: Mapped[str] = mapped_column(String(64))
    function: Mapped[str] = mapped_column(String(128))


class OplogScan(Base):
    """One run of the rules."""

    __tablename__ = "oplog_scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str] = mapped_column(String(64))
    period_from: Mapped[dt.date | None] = mapped_column(Date)
    period_to: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_LOG)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    new_alerts: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)


class OplogAlert(Base):
    """An alert, upserted by its fingerprint, with its triage state."""

    __tablename__ = "oplog_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_LOG)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    operator_id: Mapped[str | None] = mapped_column(String(64))
    terminal_id: Mapped[str | None] = mapped_column(String(64))
    #: blind index of the resident reference (the value lives in oplog_subjects)
    subject_index: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(32), index=True)
    first_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    evidence: Mapped[str] = mapped_column(Text, default="{}")
    events: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[str] = mapped_column(String(16), default=NEW, index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_scan_id: Mapped[int | None] = mapped_column(Integer)
    last_scan_id: Mapped[int | None] = mapped_column(Integer)
    assignee: Mapped[str | None] = mapped_column(String(64))


class OplogNote(Base):
    """A triage step or note on an alert."""

    __tablename__ = "oplog_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("oplog_alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")


class OplogSuppression(Base):
    """A closed-legitimate pattern not to be raised again.

    A pattern field left null matches any value; ``rule`` is always set.
    """

    __tablename__ = "oplog_suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    operator_id: Mapped[str | None] = mapped_column(String(64))
    terminal_id: Mapped[str | None] = mapped_column(String(64))
    subject_index: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(32))
    until: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class OplogSetting(Base):
    """A threshold of the rules (name of a Thresholds field, JSON value)."""

    __tablename__ = "oplog_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class OplogNotice(Base):
    """A deterrence notice issued to a department: its operations are analysed."""

    __tablename__ = "oplog_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64))
