"""Durable background jobs: a small queue of rows in the ``jobs`` table.

Why not an existing library: Celery/RQ/Dramatiq need a broker (Redis, RabbitMQ)
that a ward's LGWAN server does not have, and the database-backed ones support
PostgreSQL only. This queue works on both of kumin's databases and is ~400 lines.

- A request validates its input, then :func:`submit` writes a ``queued`` row in the
  request's transaction (so the job exists exactly when the request succeeded).
- A worker — ``kumin worker``, or the thread each web process runs unless
  ``KUMIN_INLINE_JOBS=0`` — claims the oldest queued row with
  ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (several workers, several
  machines); on SQLite every transaction is ``BEGIN IMMEDIATE``, so the claim is
  atomic as well, and one process is the supported configuration.
- While a job runs, a heartbeat thread stores its progress and the time every
  second, and reads back a cancellation request; the job's own code never waits
  for the database for that (on SQLite it may hold the write lock itself).
- A job whose worker died (no heartbeat for :data:`STALE_SECONDS`, or a dead
  process on this host) is queued again until ``max_attempts``, then ``failed``:
  never left ``running``.
- Results are stored as JSON, encrypted under the ``jobs`` data key when the kind
  is declared personal. Only the owner sees a job (others get "not found").

A kind is declared once with :func:`register` by the module that owns the work
(:data:`JOB_MODULES`); the handler gets the settings, the owner as actor, the
stored parameters and a ``progress(done, total)`` callback, and opens its own
transactions (short ones: see the SQLite note above).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kumin.core.config import Settings
from kumin.core.db import session_scope, utcnow
from kumin.core.models import Job, User
from kumin.core.permissions import Actor, authorize
from kumin.errors import KuminError, NotFound, StateError

log = logging.getLogger("kumin.jobs")

# Modules that declare job kinds; a worker imports them all before claiming.
JOB_MODULES = ("kumin.epi.web", "kumin.oplog.web")

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
HEARTBEAT_SECONDS = 1.0
STALE_SECONDS = float(os.environ.get("KUMIN_JOB_STALE_SECONDS") or 60)
POLL_SECONDS = 1.0
DATASET = "jobs"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    kind: str
    action: str  # checked again when the job runs: the owner may have lost the role
    run: Callable[[Settings, Actor, dict[str, Any], Progress], Any]
    personal: bool = False  # the result holds personal data: stored encrypted


_KINDS: dict[str, JobKind] = {}


def register(kind: str, action: str, run, *, personal: bool = False) -> None:
    _KINDS[kind] = JobKind(kind, action, run, personal)


def load_kinds() -> dict[str, JobKind]:
    for name in JOB_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return _KINDS


class JobCancelled(Exception):
    """Raised inside a job by its progress callback once cancellation was asked."""


@dataclass
class JobView:
    """What pages, the API and the CLI see of a job (the result already decoded)."""

    id: str
    kind: str
    state: str
    done: int
    total: int
    attempts: int
    result: Any = None
    error_key: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)
    created_at: Any = None
    finished_at: Any = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "attempts": self.attempts,
        }


# --- the web side: submit, read, cancel --------------------------------------------------------


def submit(ctx, kind: str, params: dict[str, Any], *, max_attempts: int = 2) -> JobView:
    """Queue a job for ``ctx.actor`` in the caller's transaction; the caller has already
    checked permission and validated ``params`` (they must be JSON)."""
    spec = load_kinds().get(kind)
    if spec is None:
        raise NotFound("core.jobs.unknown_kind", kind=kind)
    job = Job(
        id=secrets.token_urlsafe(16)[:22],
        kind=kind,
        owner=ctx.actor.name,
        lang=ctx.actor.lang,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True),
        state="queued",
        done=0,
        total=0,
        attempts=0,
        max_attempts=max_attempts,
        cancel_requested=False,
        result_encrypted=False,
        error_key="",
        error_params="{}",
        created_at=utcnow(),
    )
    ctx.session.add(job)
    ctx.session.flush()
    ctx.audit("jobs.submit", f"job:{job.id}", kind=kind)
    # Wake this process's worker once the row is visible to other connections.
    from sqlalchemy import event

    event.listen(ctx.session, "after_commit", lambda _s: kick(ctx.settings), once=True)
    return _view(ctx.session, job, ctx.settings)


def get(ctx, job_id: str, kind_prefix: str | None = None) -> JobView:
    """The caller's job, or :class:`NotFound` (also for other users' jobs)."""
    job = ctx.session.get(Job, job_id)
    if job is None or job.owner != ctx.actor.name:
        raise NotFound("core.web.no_job")
    if kind_prefix is not None and not job.kind.startswith(kind_prefix):
        raise NotFound("core.web.no_job")
    return _view(ctx.session, job, ctx.settings)


def list_mine(ctx, limit: int = 50) -> list[JobView]:
    rows = ctx.session.scalars(
        select(Job).where(Job.owner == ctx.actor.name).order_by(Job.created_at.desc()).limit(limit)
    )
    return [_view(ctx.session, j, ctx.settings, with_result=False) for j in rows]


def cancel(ctx, job_id: str) -> JobView:
    """Cancel a queued job at once; ask a running one to stop at its next step."""
    job = ctx.session.get(Job, job_id)
    if job is None or job.owner != ctx.actor.name:
        raise NotFound("core.web.no_job")
    if job.state in FINISHED:
        raise StateError("core.jobs.already_finished", state=job.state)
    if job.state == "queued":
        job.state, job.finished_at = "cancelled", utcnow()
    else:
        job.cancel_requested = True
    ctx.audit("jobs.cancel", f"job:{job.id}", kind=job.kind)
    ctx.session.flush()
    return _view(ctx.session, job, ctx.settings)


def counts(session: Session) -> dict[str, int]:
    """Jobs per state, for ``kumin status``."""
    from sqlalchemy import func

    rows = session.execute(select(Job.state, func.count()).group_by(Job.state))
    return {state: int(n) for state, n in rows}


def _view(session: Session, job: Job, settings: Settings, with_result: bool = True) -> JobView:
    result = None
    if with_result and job.state == "done" and job.result is not None:
        if job.result_encrypted:
            from kumin.core.crypto import Keyring

            text = Keyring(session, settings.key_file).decrypt(DATASET, job.result)
        else:
            text = job.result.decode("utf-8")
        result = json.loads(text) if text is not None else None
    return JobView(
        id=job.id,
        kind=job.kind,
        state=job.state,
        done=job.done,
        total=job.total,
        attempts=job.attempts,
        result=result,
        error_key=job.error_key or ("core.jobs.cancelled" if job.state == "cancelled" else ""),
        error_params=json.loads(job.error_params or "{}"),
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


# --- the worker side: claim, run, heartbeat, reap ----------------------------------------------


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def claim(settings: Settings, me: str) -> tuple[str, str, str, str, str] | None:
    """Take the oldest queued job: ``(id, kind, owner, lang, params)`` or None."""
    with session_scope(settings) as session:
        row = session.scalars(
            select(Job)
            .where(Job.state == "queued")
            .order_by(Job.created_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        now = utcnow()
        row.state, row.worker, row.heartbeat_at = "running", me, now
        row.started_at = row.started_at or now
        row.attempts += 1
        return row.id, row.kind, row.owner, row.lang, row.params


def _pid_dead(worker: str | None) -> bool:
    """True when ``worker`` names a process on this host that no longer exists."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    if host != socket.gethostname():
        return False
    try:
        pid = int(rest.split(":", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap(settings: Settings, stale_seconds: float | None = None) -> int:
    """Queue again (or fail) running jobs whose worker died; returns how many."""
    limit = utcnow() - timedelta(seconds=STALE_SECONDS if stale_seconds is None else stale_seconds)
    n = 0
    with session_scope(settings) as session:
        running = session.scalars(
            select(Job).where(Job.state == "running").with_for_update(skip_locked=True)
        ).all()
        for job in running:
            beat = job.heartbeat_at
            if beat is not None and beat.tzinfo is None:
                from datetime import UTC

                beat = beat.replace(tzinfo=UTC)
            if not (_pid_dead(job.worker) or beat is None or beat < limit):
                continue
            n += 1
            if job.cancel_requested:
                job.state, job.finished_at = "cancelled", utcnow()
            elif job.attempts < job.max_attempts:
                job.state, job.worker = "queued", None
            else:
                job.state, job.finished_at = "failed", utcnow()
                job.error_key, job.error_params = "core.jobs.worker_died", "{}"
            from kumin.core import audit

            audit.record(
                session, "system", "jobs.reap", f"job:{job.id}", details={"state": job.state}
            )
    return n


class _Beat:
    """Progress held in memory and written by a side thread, with the cancel flag."""

    def __init__(self, settings: Settings, job_id: str, me: str):
        self.settings, self.job_id, self.me = settings, job_id, me
        self.done = self.total = 0
        self.cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kumin-job-beat", daemon=True)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)
        if self.cancelled.is_set():
            raise JobCancelled()

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with session_scope(self.settings) as session:
                    session.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.worker == self.me)
                        .values(done=self.done, total=self.total, heartbeat_at=utcnow())
                    )
                    if session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)):
                        self.cancelled.set()
            except Exception:  # noqa: BLE001 - a missed beat is harmless; the next one retries
                log.warning("job heartbeat failed", extra={"job": self.job_id})

    def __enter__(self) -> _Beat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _owner(settings: Settings, name: str, lang: str) -> Actor | None:
    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None or user.disabled:
            return None
        return Actor(user.name, user.role, user.id, user.department, lang or user.lang)


def execute(settings: Settings, claimed: tuple[str, str, str, str, str], me: str) -> str:
    """Run one claimed job to its end; returns the state it ended in."""
    job_id, kind, owner, lang, params = claimed
    spec = load_kinds().get(kind)
    result: Any = None
    state, error_key, error_params = "done", "", {}
    with _Beat(settings, job_id, me) as beat:
        try:
            actor = _owner(settings, owner, lang)
            if spec is None:
                raise NotFound("core.jobs.unknown_kind", kind=kind)
            if actor is None:
                raise NotFound("core.jobs.owner_gone")
            authorize(actor, spec.action)
            result = spec.run(settings, actor, json.loads(params), beat.progress)
        except JobCancelled:
            state = "cancelled"
        except KuminError as exc:
            state, error_key, error_params = "failed", exc.key, dict(exc.params)
        except Exception as exc:  # noqa: BLE001 - shown as an internal error on the page
            # the type only: a message could quote personal values
            log.error("job failed", extra={"job": job_id, "error": type(exc).__name__})
            state, error_key = "failed", "core.web.internal"
        done, total = beat.done, beat.total
    _finish(settings, job_id, me, state, result, error_key, error_params, done, total, spec)
    return state


def _finish(settings, job_id, me, state, result, error_key, error_params, done, total, spec):
    with session_scope(settings) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.worker != me or job.state != "running":
            return  # reaped meanwhile: the job was queued again or failed; keep that
        job.state, job.finished_at = state, utcnow()
        job.done, job.total = done, total
        job.error_key = error_key
        job.error_params = json.dumps(error_params, ensure_ascii=False, default=str)
        if state == "done":
            text = json.dumps(result, ensure_ascii=False, default=str)
            if spec is not None and spec.personal:
                from kumin.core.crypto import Keyring

                job.result = Keyring(session, settings.key_file).encrypt(DATASET, text)
                job.result_encrypted = True
            else:
                job.result = text.encode("utf-8")


def work(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    once: bool = False,
    idle_exit: float | None = None,
    me: str | None = None,
) -> int:
    """The worker loop: reap, claim, run; returns how many jobs it ran.

    ``once`` runs what is queued and returns; ``idle_exit`` ends the loop after
    that many idle seconds (the in-process worker of tests and of a quiet server).
    """
    load_kinds()
    me = me or worker_id()
    stop = stop or threading.Event()
    ran, idle_since, last_reap = 0, time.monotonic(), 0.0
    wake = _wake_event(settings)
    while not stop.is_set():
        if time.monotonic() - last_reap > min(STALE_SECONDS, 30):
            try:
                reap(settings)
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.warning("job reaper could not reach the database")
            last_reap = time.monotonic()
        try:
            claimed = claim(settings, me)
        except Exception:  # noqa: BLE001 - database away: wait and try again
            log.warning("job worker could not reach the database")
            claimed = None
        if claimed is not None:
            execute(settings, claimed, me)
            ran += 1
            idle_since = time.monotonic()
            continue
        if once:
            break
        if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
            if _retire(settings):
                break
            idle_since = time.monotonic()
            continue
        wake.wait(POLL_SECONDS)
        wake.clear()
    return ran


# --- the in-process worker of each web process -------------------------------------------------

_inline_lock = threading.Lock()
_inline: dict[str, dict[str, Any]] = {}


def _wake_event(settings: Settings) -> threading.Event:
    with _inline_lock:
        slot = _inline.setdefault(settings.database_url, {"thread": None, "pending": False})
        return slot.setdefault("wake", threading.Event())


def _retire(settings: Settings) -> bool:
    """The idle in-process worker leaves, unless a job was submitted meanwhile."""
    with _inline_lock:
        slot = _inline[settings.database_url]
        if slot["pending"]:
            slot["pending"] = False
            return False
        slot["thread"] = None
        return True


def inline_enabled() -> bool:
    return (os.environ.get("KUMIN_INLINE_JOBS") or "1").strip() not in ("0", "false", "no")


def kick(settings: Settings, idle_exit: float | None = 5.0) -> None:
    """Make sure this process runs a worker thread for the settings' database."""
    if not inline_enabled():
        return
    wake = _wake_event(settings)
    with _inline_lock:
        slot = _inline[settings.database_url]
        slot["pending"] = True
        thread = slot["thread"]
        if thread is None or not thread.is_alive():
            thread = threading.Thread(
                target=work,
                args=(settings,),
                kwargs={"idle_exit": idle_exit},
                name="kumin-jobs",
                daemon=True,
            )
            slot["thread"] = thread
            thread.start()
    wake.set()


def wait(ctx_factory, job_id: str, timeout: float = 60.0) -> JobView:
    """Poll until the job ends (tests and scripts); ``ctx_factory()`` yields a Ctx."""
    deadline = time.monotonic() + timeout
    while True:
        with ctx_factory() as ctx:
            view = get(ctx, job_id)
        if not view.active or time.monotonic() > deadline:
            return view
        time.sleep(0.05)
