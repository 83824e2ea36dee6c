"""Durable background jobs on both databases: queue, claim, progress, owner-only
results, encryption, cancellation, a worker's death (kill -9) and the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import tests.core._job_kinds  # noqa: F401 - registers the test kinds
from sqlalchemy import func, select
from tests.conftest import REPO_ROOT, actor_for

from kumin.core import audit, jobs
from kumin.core.context import context
from kumin.core.db import session_scope, utcnow
from kumin.core.models import AuditEntry, Job
from kumin.errors import NotFound, StateError


@pytest.fixture(autouse=True)
def _no_inline_worker(monkeypatch):
    # These tests run workers explicitly; none starts by itself in this process.
    monkeypatch.setenv("KUMIN_INLINE_JOBS", "0")


def _submit(users, role, kind, params, **kw):
    with context(users.settings, actor_for(users, role)) as ctx:
        return jobs.submit(ctx, kind, params, **kw)


def _view(users, role, job_id):
    with context(users.settings, actor_for(users, role)) as ctx:
        return jobs.get(ctx, job_id)


def _row(settings, job_id) -> Job:
    with session_scope(settings) as s:
        return s.get(Job, job_id)


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_a_job_runs_once_and_only_its_owner_sees_it(users):
    job = _submit(users, "epidemiologist", "test_steps", {"n": 3})
    assert job.state == "queued" and job.active
    assert jobs.work(users.settings, once=True) == 1
    done = _view(users, "epidemiologist", job.id)
    assert (done.state, done.result, done.done, done.total) == ("done", {"steps": 3}, 3, 3)
    assert done.percent == 100 and done.attempts == 1
    assert jobs.work(users.settings, once=True) == 0  # nothing left: it ran once
    with pytest.raises(NotFound):
        _view(users, "admin", job.id)
    with session_scope(users.settings) as s:
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"jobs.submit", "test.step"} <= actions
        assert audit.verify(s).ok


def test_errors_refusals_and_personal_results(users):
    bad = _submit(users, "epidemiologist", "test_refuse", {"value": "2021-13-01"})
    # the owner lost the right meanwhile (here: never had it): refused when it runs
    denied = _submit(users, "epidemiologist", "test_admin_only", {"name": "x"})
    secret = _submit(users, "epidemiologist", "test_secret", {"name": "山田 太郎"})
    assert jobs.work(users.settings, once=True) == 3
    v = _view(users, "epidemiologist", bad.id)
    assert (v.state, v.error_key, v.error_params) == (
        "failed",
        "core.cli.bad_date",
        {"value": "2021-13-01"},
    )
    assert _view(users, "epidemiologist", denied.id).error_key == "core.auth.forbidden"
    assert _view(users, "epidemiologist", secret.id).result == {"name": "山田 太郎"}
    row = _row(users.settings, secret.id)
    assert row.result_encrypted and "山田".encode() not in row.result
    with pytest.raises(NotFound):
        _submit(users, "epidemiologist", "no_such_kind", {})


def test_cancel_queued_and_running(users, tmp_path):
    queued = _submit(users, "epidemiologist", "test_steps", {"n": 1})
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        assert jobs.cancel(ctx, queued.id).state == "cancelled"
        with pytest.raises(StateError):
            jobs.cancel(ctx, queued.id)
    running = _submit(users, "epidemiologist", "test_wait", {"gate": str(tmp_path / "never")})
    stop = threading.Event()
    worker = threading.Thread(target=jobs.work, args=(users.settings,), kwargs={"stop": stop})
    worker.start()
    try:
        _wait_for(lambda: _row(users.settings, running.id).done > 0)  # running, progress stored
        with context(users.settings, actor_for(users, "admin")) as ctx, pytest.raises(NotFound):
            jobs.cancel(ctx, running.id)  # not theirs
        with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
            jobs.cancel(ctx, running.id)
        _wait_for(lambda: _row(users.settings, running.id).state == "cancelled")
    finally:
        stop.set()
        worker.join()
    assert _view(users, "epidemiologist", running.id).error_key == "core.jobs.cancelled"


def test_postgresql_workers_skip_each_others_jobs(users):
    if users.settings.is_sqlite:
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite runs one worker process")
    first = _submit(users, "epidemiologist", "test_steps", {"n": 1})
    second = _submit(users, "epidemiologist", "test_steps", {"n": 1})
    with session_scope(users.settings) as s:
        # another worker is in the middle of claiming the oldest job: it holds the row lock
        s.scalars(select(Job).where(Job.id == first.id).with_for_update()).one()
        taken = jobs.claim(users.settings, "other:1:x")
        assert taken is not None and taken[0] == second.id
    assert jobs.claim(users.settings, "other:1:y")[0] == first.id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_job_whose_worker_died_is_retried_then_failed(users):
    job = _submit(users, "epidemiologist", "test_steps", {"n": 1}, max_attempts=2)
    dead = f"{socket.gethostname()}:{_dead_pid()}:x"
    for attempt, expected in ((1, "queued"), (2, "failed")):
        with session_scope(users.settings) as s:
            row = s.get(Job, job.id)
            row.state, row.worker, row.attempts = "running", dead, attempt
        assert jobs.reap(users.settings) == 1
        assert _row(users.settings, job.id).state == expected
    assert _view(users, "epidemiologist", job.id).error_key == "core.jobs.worker_died"
    # a silent worker on another machine: judged by its heartbeat
    other = _submit(users, "epidemiologist", "test_steps", {"n": 1})
    with session_scope(users.settings) as s:
        row = s.get(Job, other.id)
        row.state, row.worker, row.attempts = "running", "elsewhere:1:x", 1
        row.heartbeat_at = utcnow()
    assert jobs.reap(users.settings, stale_seconds=3600) == 0  # its heartbeat is fresh
    assert jobs.reap(users.settings, stale_seconds=-1) == 1
    assert _row(users.settings, other.id).state == "queued"


def _worker_process(settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "KUMIN_DATABASE_URL": settings.database_url,
        "KUMIN_KEY_FILE": str(settings.key_file),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)]),
    }
    code = "import tests.core._job_kinds; from kumin.cli.main import run; run(['worker'])"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_kill_9_of_a_worker_leaves_no_partial_data_and_the_job_is_retried(users, tmp_path):
    marker, gate = tmp_path / "started", tmp_path / "gate"
    params = {"n": 5, "marker": str(marker), "gate": str(gate), "run": "k9"}
    job = _submit(users, "epidemiologist", "test_steps", params)
    proc = _worker_process(users.settings)
    try:
        _wait_for(marker.exists)  # the worker is inside the job's transaction
        if not users.settings.is_sqlite:  # (on SQLite that transaction holds the file lock)
            assert _row(users.settings, job.id).state == "running"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with session_scope(users.settings) as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "test.step")) == 0
        assert audit.verify(s).ok
    gate.write_text("open")
    # the next worker (here: in this process) sees the dead process and runs it again
    assert jobs.work(users.settings, once=True) == 1
    v = _view(users, "epidemiologist", job.id)
    assert (v.state, v.attempts) == ("done", 2)
    with session_scope(users.settings) as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "test.step")) == 5
        assert audit.verify(s).ok


def test_api_polls_and_cancels_the_callers_jobs(app_client, users):
    job = _submit(users, "epidemiologist", "test_steps", {"n": 2})
    app_client.login(users.by_role["epidemiologist"])
    body = app_client.get(f"/api/v1/jobs/{job.id}").json()
    assert body["job"]["state"] == "queued"
    assert [j["id"] for j in app_client.get("/api/v1/jobs").json()["jobs"]] == [job.id]
    csrf = app_client.csrf()
    r = app_client.post(f"/api/v1/jobs/{job.id}/cancel", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["job"]["state"] == "cancelled"
    again = app_client.post(f"/api/v1/jobs/{job.id}/cancel", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409
    app_client.logout()
    app_client.login(users.by_role["auditor"])
    assert app_client.get(f"/api/v1/jobs/{job.id}").status_code == 404
    assert app_client.get("/api/v1/jobs").json()["jobs"] == []


def test_worker_command_runs_what_waits(cli, users):
    job = _submit(users, "epidemiologist", "test_steps", {"n": 1})
    r = cli("worker", "--once")
    assert r.exit_code == 0, r.stderr
    assert _row(users.settings, job.id).state == "done"
