"""Tables of Juki-net terminal governance.

Departments with integrated terminals and their hours, the terminals, the
versioned operator ledgers, usage applications for My Number functions with their
review, reservations of the shared terminals and the usage records filled after
use, the daily inspection checklist, audits with findings and corrective actions,
security meetings, training and drills, business records and the watch list.

Personal values are encrypted under the dataset ``"juki"``: operator names in the
ledger, and the resident references of business records and of the watch list
(with a blind index for equality lookups). Department codes, terminal ids and
operator ids are plain: they are the keys the operation logs carry.

Reservations, usage records and log timestamps are local wall-clock times (naive
datetimes), as terminals write them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow

DATASET = "juki"

#: terminal states
IN_SERVICE, RETIRED, UNSECURED = "in_service", "retired", "unsecured"
TERMINAL_STATES = (IN_SERVICE, RETIRED, UNSECURED)

#: application states
SUBMITTED, APPROVED, REJECTED, WITHDRAWN = "submitted", "approved", "rejected", "withdrawn"
APPLICATION_STATES = (SUBMITTED, APPROVED, REJECTED, WITHDRAWN)


class JukiDepartment(Base):
    """A department with integrated terminals (所属) and its normal hours."""

    __tablename__ = "juki_departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    open: Mapped[dt.time] = mapped_column(Time)
    close: Mapped[dt.time] = mapped_column(Time)
    weekend_open: Mapped[bool] = mapped_column(Boolean, default=False)
    holiday_open: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JukiTerminal(Base):
    """An integrated terminal, its manager and assistant (operator ids) and its state."""

    __tablename__ = "juki_terminals"

    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    reservation_required: Mapped[bool] = mapped_column(Boolean, default=False)
    manager: Mapped[str | None] = mapped_column(String(32))  # 端末機管理責任者
    assistant: Mapped[str | None] = mapped_column(String(32))  # 補助者
    state: Mapped[str] = mapped_column(String(16), default=IN_SERVICE)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerVersion(Base):
    """One submission of a department's operator ledger (操作者管理台帳)."""

    __tablename__ = "juki_ledger_versions"
    __table_args__ = (
        UniqueConstraint("department", "effective", name="uq_juki_ledger_versions_dept_eff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    effective: Mapped[dt.date] = mapped_column(Date)
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerEntry(Base):
    """An operator listed in a ledger version; the name is encrypted."""

    __tablename__ = "juki_ledger_entries"
    __table_args__ = (
        UniqueConstraint("version_id", "operator_id", name="uq_juki_ledger_entries_version_op"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("juki_ledger_versions.id", ondelete="CASCADE"), index=True
    )
    operator_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted
    role: Mapped[str] = mapped_column(String(64), default="")


class UsageApplication(Base):
    """An application of a department to use a My Number function on Juki-net."""

    __tablename__ = "juki_applications"
    __table_args__ = (
        Index("ix_juki_applications_key", "department", "function", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    function: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default=SUBMITTED)
    purpose: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str] = mapped_column(Text, default="")


class Reservation(Base):
    """A reservation of a shared terminal by a department, start <= t < end."""

    __tablename__ = "juki_reservations"
    __table_args__ = (Index("ix_juki_reservations_term_start", "terminal_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    end: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UsageRecord(Base):
    """The usage record (利用記録簿) filled after using a shared terminal."""

    __tablename__ = "juki_usage_records"
    __table_args__ = (Index("ix_juki_usage_records_term_start", "terminal_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32), index=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    operator_id: Mapped[str] = mapped_column(String(32))
    start: Mapped[dt.datetime] = mapped_column(DateTime)
    end: Mapped[dt.datetime] = mapped_column(DateTime)
    function: Mapped[str] = mapped_column(String(100))
    inquiries: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChecklistItem(Base):
    """An item of the daily inspection checklist (editable by the records officer).

    ``wire`` marks the item "fixed with a security wire, not lost": a terminal
    failing it is not secured, which the operation-log analysis flags.
    """

    __tablename__ = "juki_checklist_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    text_ja: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    wire: Mapped[bool] = mapped_column(Boolean, default=False)


class Checklist(Base):
    """One day's inspection of one terminal. ``failed`` lists item codes not OK."""

    __tablename__ = "juki_checklists"
    __table_args__ = (UniqueConstraint("terminal_id", "date", name="uq_juki_checklists_term_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(32), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    secured: Mapped[bool] = mapped_column(Boolean, default=True)
    failed: Mapped[str] = mapped_column(Text, default="")  # comma-separated item codes
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Audit(Base):
    """A security audit (定期監査): date, kind, scope."""

    __tablename__ = "juki_audits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # jukinet | mynumber | self_check | other
    title: Mapped[str] = mapped_column(String(300))
    scope: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditFinding(Base):
    """A finding of an audit with its corrective action and follow-up."""

    __tablename__ = "juki_audit_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(
        ForeignKey("juki_audits.id", ondelete="CASCADE"), index=True
    )
    finding: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(32))
    terminal_id: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | corrected
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class Meeting(Base):
    """A security meeting (セキュリティ会議)."""

    __tablename__ = "juki_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # mynumber | jukinet
    title: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MeetingItem(Base):
    """A deliberation (審議事項) or report (報告事項) of a meeting."""

    __tablename__ = "juki_meeting_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("juki_meetings.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))  # deliberation | report
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)


class Training(Base):
    """A security training or emergency drill."""

    __tablename__ = "juki_trainings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # training | drill
    title: Mapped[str] = mapped_column(String(300))
    audience: Mapped[str] = mapped_column(Text, default="")
    participants: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BusinessRecord(Base):
    """A business record (application, case file) of a department about a resident.

    Lookups of a resident explained by such a record are not suspicious; the
    resident reference is encrypted, with a blind index.
    """

    __tablename__ = "juki_business_records"
    __table_args__ = (
        UniqueConstraint(
            "department", "subject_index", "date", name="uq_juki_business_records_key"
        ),
        Index("ix_juki_business_records_date", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(String(32))
    subject_index: Mapped[str] = mapped_column(String(64))
    subject: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    date: Mapped[dt.date] = mapped_column(Date)


class WatchEntry(Base):
    """A resident whose every lookup is reviewed (public figure, staff, DV-protected)."""

    __tablename__ = "juki_watchlist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_index: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    reason: Mapped[str] = mapped_column(String(100))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
