"""Growing delays after failed sign-ins, per account and per client.

A hard lock that anyone can trigger lets an outsider keep any account (even the
only administrator) out; growing delays slow guessing just as well. After a few
free failures each further one doubles the wait (1 s, 2 s, 4 s … up to a cap).
Counts are kept in the database so that every worker shares them, under hashed
keys: names that do not exist are throttled exactly like real ones, which keeps
the answer from telling which accounts exist, and no typed name is stored.

Channels are separate: failures on the web never slow the CLI on the server's own
shell, so an administrator can always sign in there (``kumin users enable``).
A full sign-in clears its account's count; a client's count fades after an hour.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from kumin.core.config import Settings
from kumin.core.db import utcnow
from kumin.core.models import AuthThrottle

WINDOW = timedelta(hours=1)  # a count restarts when its last failure is older
CHANNELS = ("web", "cli")


def _now() -> datetime:
    # One seam for tests that need to step past a delay without waiting.
    return utcnow()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hash(kind: str, channel: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{channel}:{value}".encode()).hexdigest()


@dataclass(frozen=True)
class _Key:
    key: str
    free: int
    cap: int


def _keys(settings: Settings, name: str, client: str, channel: str) -> list[_Key]:
    keys = [
        _Key(
            _hash("account", channel, name.strip().lower()),
            settings.account_free_failures,
            settings.account_max_delay,
        )
    ]
    if client:
        keys.append(
            _Key(
                _hash("client", channel, client),
                settings.client_free_failures,
                settings.client_max_delay,
            )
        )
    return keys


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(AuthThrottle)
    return sqlite_insert(AuthThrottle)


def wait_seconds(session: Session, settings: Settings, name: str, client: str, channel: str) -> int:
    """Seconds to wait before this account may be tried from this client (0: go ahead)."""
    now = _now()
    wait = 0.0
    for k in _keys(settings, name, client, channel):
        row = session.get(AuthThrottle, k.key)
        if row is not None and row.blocked_until is not None:
            wait = max(wait, (_aware(row.blocked_until) - now).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


def delay_after(failures: int, free: int, cap: int) -> int:
    """The wait after ``failures`` failures in a row: 0 while free, then 1, 2, 4 … cap s."""
    if failures < free:
        return 0
    return min(cap, 2 ** min(failures - free, 30))


def record_failure(
    session: Session, settings: Settings, name: str, client: str, channel: str
) -> None:
    now = _now()
    for k in _keys(settings, name, client, channel):
        # Insert-if-missing, then a row lock (PostgreSQL): parallel failures must each
        # count, and two first failures at once must not collide on the key.
        session.execute(
            _insert(session)
            .values(key=k.key, failures=0, last_failure_at=now)
            .on_conflict_do_nothing()
        )
        row = session.get(AuthThrottle, k.key, with_for_update=True, populate_existing=True)
        assert row is not None
        if now - _aware(row.last_failure_at) > WINDOW:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = delay_after(row.failures, k.free, k.cap)
        row.blocked_until = now + timedelta(seconds=delay) if delay else None
    session.flush()


def clear_account(session: Session, name: str, channels: tuple[str, ...] = CHANNELS) -> None:
    """Forget an account's failures: after a full sign-in, or when an admin enables it."""
    keys = [_hash("account", c, name.strip().lower()) for c in channels]
    session.execute(delete(AuthThrottle).where(AuthThrottle.key.in_(keys)))


def is_throttled(session: Session, name: str) -> bool:
    """Whether the account is waiting out a delay on any channel (for account lists)."""
    now = _now()
    for channel in CHANNELS:
        row = session.get(AuthThrottle, _hash("account", channel, name.strip().lower()))
        if row is not None and row.blocked_until and _aware(row.blocked_until) > now:
            return True
    return False
