"""Tables of the secure core: accounts, sessions, data keys and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(64), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # encrypted
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept from before throttling (kumin.core.throttle) replaced the hard lock; unused.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A new authenticator being enrolled: it replaces totp_secret only once confirmed,
    # so a wrong code during re-enrolment never drops the active second factor.
    totp_pending: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # encrypted
    # The last TOTP time step accepted: a code is good once, even inside its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; we keep only its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Codes tried on this password-verified session; it ends after a few wrong ones.
    mfa_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuthThrottle(Base):
    """Failed sign-ins per account and per client, for growing delays between tries.

    ``key`` is the SHA-256 of e.g. ``account:web:sato`` or ``client:web:10.0.0.8``:
    names that do not exist are throttled alike, and no typed name is stored.
    """

    __tablename__ = "auth_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class InstallationSetting(Base):
    """Policy of the installation (e.g. whether 2FA is required, whether it is a demo).

    Kept in the database so that every shell, worker and machine agrees on it.
    """

    __tablename__ = "installation_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DataKey(Base):
    """A dataset's AES-256 key, wrapped (AES-GCM) by the master key.

    Destroying a dataset's key (``wrapped`` set to NULL, ``destroyed_at`` set) makes
    every field encrypted under it unreadable for good: crypto-shredding.
    """

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(128), unique=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit trail.

    ``ts`` is kept as ISO-8601 text so that the canonical form hashed at write time
    is rebuilt byte for byte at verification, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last entry, so that deleting entries at the end is noticed too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Job(Base):
    """A background job: durable, so that any worker process (or machine) can run it
    and any web worker can show its progress; see :mod:`kumin.core.jobs`."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    params: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(
        String(16), index=True
    )  # queued running done failed cancelled
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    worker: Mapped[str | None] = mapped_column(String(128), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    result_encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    error_key: Mapped[str] = mapped_column(String(64), default="")
    error_params: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ReportSnapshot(Base):
    """A heavy report's computed content, kept until the data it was made from change
    (``fingerprint``); see :mod:`kumin.core.snapshots`. Aggregates only."""

    __tablename__ = "report_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FiscalYearClosure(Base):
    """One publication or re-opening of a fiscal year's security report; the
    year's state is its latest event (see :mod:`kumin.core.closures`).

    A publication keeps the report as published (aggregates only, JSON) with its
    SHA-256; a re-opening keeps who, when and why. Rows are never updated."""

    __tablename__ = "fiscal_year_closures"
    # two auditors publishing (or re-opening) at once: one of them is refused
    __table_args__ = (UniqueConstraint("fy", "event", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fy: Mapped[int] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(16))  # published | reopened
    number: Mapped[int] = mapped_column(Integer)  # publication number within the year
    body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")


class DataVersion(Base):
    """A counter per table, bumped by a database trigger on every change of the table
    (any statement: ORM, bulk executemany, COPY, raw SQL); see :mod:`kumin.core.snapshots`.
    Reading it is one index lookup, where counting millions of rows took seconds."""

    __tablename__ = "data_versions"

    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
