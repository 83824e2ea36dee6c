"""A tiny background-job runner for the long fits of the web pages.

The request that starts a job reads the records (permission check, audit) in its
own transaction, then hands a *pure* function of that frame to :func:`submit`;
the job runs in a thread, reports ``(done, total)`` through its progress
callback, and keeps its result in memory for the page that polls it. Nothing
here touches the database, so a job outliving its request is harmless.

Jobs belong to the user who started them (:func:`get` hides other users' jobs)
and are forgotten oldest first beyond :data:`MAX_JOBS`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kumin.errors import KuminError, NotFound

MAX_JOBS = 50
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kumin-job")
_lock = threading.Lock()
_jobs: OrderedDict[str, Job] = OrderedDict()


@dataclass
class Job:
    id: str
    owner: str
    kind: str
    state: str = "running"  # running, done, error
    done: int = 0
    total: int = 0
    result: Any = None
    error_key: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)

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
        }


def submit(owner: str, kind: str, work: Callable[[Callable[[int, int], None]], Any]) -> Job:
    """Run ``work(progress)`` in the background; returns the job at once."""
    job = Job(secrets.token_urlsafe(12), owner, kind)
    with _lock:
        _jobs[job.id] = job
        while len(_jobs) > MAX_JOBS:
            _jobs.popitem(last=False)

    def run() -> None:
        try:
            job.result = work(job.progress)
            job.state = "done"
        except KuminError as exc:
            job.error_key, job.error_params = exc.key, dict(exc.params)
            job.state = "error"
        except Exception:  # noqa: BLE001 - shown as an internal error on the page
            job.error_key = "core.web.internal"
            job.state = "error"

    _executor.submit(run)
    return job


def get(job_id: str, owner: str) -> Job:
    """The caller's job, or :class:`NotFound` (also for other users' jobs)."""
    with _lock:
        job = _jobs.get(job_id)
    if job is None or job.owner != owner:
        raise NotFound("core.web.no_job")
    return job


def wait(job: Job, timeout: float = 60.0) -> Job:
    """Block until the job ends (tests and the CLI-like API clients)."""
    deadline = time.monotonic() + timeout
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    return job
