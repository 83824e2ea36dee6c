"""Database access: one engine per settings, sessions, and schema migration.

SQLite (the default) runs with WAL, foreign keys on and ``BEGIN IMMEDIATE`` so that
writers queue instead of failing; PostgreSQL is selected by ``KUMIN_DATABASE_URL``.
Tables are declared on :class:`Base` by each domain's ``models`` module and created
by Alembic migrations (``kumin init`` upgrades to every head).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, inspect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from kumin.core.config import Settings
from kumin.errors import ConfigError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Modules that declare tables; Alembic's env and create_all import them all.


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def load_models() -> None:
    """Import every domain's models (see :mod:`kumin.domains`)."""
    from kumin.domains import import_part

    import_part("models")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
    dbapi_conn.isolation_level = None


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file (and close any existing one) to the owner alone.

    SQLite gives the -wal and -shm files the mode of the database file, so all
    three end up 0600: the file holds the audit trail and encrypted personal data.
    """
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        return  # SQLite itself will report a missing folder or a read-only file
    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists() and side.stat().st_mode & 0o077:
            os.chmod(side, 0o600)


# SQLite has one writer at a time, and its busy handler *polls* (sleeps up to 100 ms
# between tries): with dozens of requests queued, some lose every race and wait past
# the busy timeout ("database is locked"). Inside one process we queue writers on a
# lock instead, which wakes the next one as soon as the file is free. Waiting on it is
# bounded by the busy timeout, after which SQLite's own handling applies as before.
_GATE_WAIT = 30.0
_GATE_KEY = "kumin_write_gate"


class FairLock:
    """A lock handed to waiters in arrival order (``threading.Lock`` may starve one)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._owned = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._owned and not self._waiters:
                self._owned = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # ownership passes directly
            else:
                self._owned = False


def _sqlite_begin_gated(gate: FairLock):
    def begin(conn) -> None:
        owned = gate.acquire(timeout=_GATE_WAIT)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if owned:
                gate.release()
            raise
        if owned:
            conn.info[_GATE_KEY] = gate

    return begin


def _release_gate(info: dict) -> None:
    gate = info.pop(_GATE_KEY, None)
    if gate is not None:
        gate.release()


def _on_end(conn) -> None:
    _release_gate(conn.info)


def _on_reset(_dbapi_conn, record, _reset_state) -> None:
    # a connection returned to the pool mid-transaction (never expected): free the gate
    _release_gate(record.info)


_ENGINES: dict[str, Engine] = {}


def get_engine(settings: Settings) -> Engine:
    """The engine for the settings' database, made once per process and URL."""
    url = settings.database_url
    engine = _ENGINES.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            _private_sqlite_file(url)
            # Connections to a file are cheap, and writers queue on the gate below:
            # enough of them that a request never waits for the pool (uvicorn's
            # thread pool runs up to 40 requests at once), where it would fail.
            engine = create_engine(url, pool_size=10, max_overflow=40, pool_timeout=120)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin_gated(FairLock()))
            event.listen(engine, "commit", _on_end)
            event.listen(engine, "rollback", _on_end)
            event.listen(engine.pool, "reset", _on_reset)
        elif url.startswith("postgresql"):
            engine = create_engine(url, pool_pre_ping=True)
        else:
            raise ConfigError("core.db.bad_url")
        _ENGINES[url] = engine
    return engine


def dispose_engine(settings: Settings) -> None:
    """Close pooled connections and forget the engine (tests drop databases after)."""
    engine = _ENGINES.pop(settings.database_url, None)
    if engine is not None:
        engine.dispose()


def session_factory(settings: Settings) -> sessionmaker[Session]:
    # The settings ride on every session so that the audit trail finds its key file.
    return sessionmaker(
        get_engine(settings), expire_on_commit=False, info={"kumin_settings": settings}
    )


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(settings: Settings):
    from alembic.config import Config

    script_dir = Path(str(resources.files("kumin") / "migrations"))
    cfg = Config()
    cfg.set_main_option("script_location", str(script_dir))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    cfg.attributes["kumin_settings"] = settings
    return cfg


def upgrade(settings: Settings) -> list[str]:
    """Create or upgrade the schema to every migration head; safe to run twice."""
    from alembic import command

    engine = get_engine(settings)
    cfg = alembic_config(settings)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    return current_heads(settings)


def current_heads(settings: Settings) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    with get_engine(settings).connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def is_initialised(settings: Settings) -> bool:
    try:
        return "audit_log" in inspect(get_engine(settings)).get_table_names()
    except Exception:
        return False
