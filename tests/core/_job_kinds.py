"""Job kinds used by the job tests only (imported by the test and by the worker
subprocesses it starts): they wait on files, so tests control them without timing."""

from __future__ import annotations

import time
from pathlib import Path

from kumin.core import jobs
from kumin.core.context import context
from kumin.errors import UserError


def _steps(settings, actor, params, progress):
    """Write ``n`` audit entries in ONE transaction, pausing at a marker file:
    a worker killed meanwhile must leave none of them."""
    n = int(params["n"])
    with context(settings, actor) as ctx:
        for i in range(n):
            ctx.audit("test.step", f"step:{i}", run=params.get("run", ""))
            progress(i + 1, n)
            if i == 0 and params.get("marker"):
                Path(params["marker"]).write_text("started")
                gate = Path(params["gate"])
                deadline = time.monotonic() + 60
                while not gate.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
                    progress(i + 1, n)
    return {"steps": n}


def _wait(settings, actor, params, progress):
    """Report progress until cancelled or until a gate file appears."""
    gate = Path(params["gate"])
    i = 0
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        i += 1
        progress(i, 1000)
        time.sleep(0.02)
    return {"waited": i}


def _secret(settings, actor, params, progress):
    return {"name": params["name"]}


def _refuse(settings, actor, params, progress):
    raise UserError("core.cli.bad_date", value=params["value"])


jobs.register("test_steps", "account.self", _steps)
jobs.register("test_wait", "account.self", _wait)
jobs.register("test_secret", "account.self", _secret, personal=True)
jobs.register("test_refuse", "account.self", _refuse)
jobs.register("test_admin_only", "users.manage", _secret)
