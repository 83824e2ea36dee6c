"""Load test: N signed-in users of the six roles browse, look up, triage and start jobs.

Not a test of the suite (it needs a served kumin and minutes of wall time). Run it
against the demo ward (``kumin demo --no-serve``), served with
``KUMIN_REQUIRE_2FA=0 kumin serve`` (one process on SQLite, ``--workers 4`` on
PostgreSQL, or two servers on two ports sharing one PostgreSQL)::

    python bench/load_test.py setup --password 'load-test-pw-1'     # demo accounts' passwords
    python bench/load_test.py run --url http://127.0.0.1:8000 --users 50 --duration 120 \\
        --password 'load-test-pw-1' [--url http://127.0.0.1:8001] [--out result.json]

Each user signs in on one server (users are spread over the ``--url``\\ s), then
loops: a request of its role's mix, a think time of 0.5–2 s. Epidemiologists now
and then start an Rt job and poll it *through the other server* when there are
two. At the end a write ledger checks that every job the driver started exists
for its owner and has its ``jobs.submit`` audit entry. Reported: requests per
kind with p50/p95/p99 (ms), errors (5xx, connection errors, unexpected 4xx) and
lost writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

ROLES = ("admin", "epidemiologist", "researcher", "records_officer", "terminal_manager", "auditor")
ACCOUNTS = {
    "admin": "demo-admin",
    "epidemiologist": "demo-epi",
    "researcher": "demo-researcher",
    "records_officer": "demo-records",
    "terminal_manager": "demo-terminal",
    "auditor": "demo-auditor",
}
# (kind, method, path, weight); kinds group the report's lines
MIX: dict[str, list[tuple[str, str, str, int]]] = {
    "admin": [
        ("page:dashboard", "GET", "/", 3),
        ("page:account", "GET", "/account", 1),
        ("api:users", "GET", "/api/v1/users", 2),
    ],
    "epidemiologist": [
        ("page:dashboard", "GET", "/", 2),
        ("page:cases", "GET", "/cases", 2),
        ("page:epi_rt", "GET", "/epi/rt", 2),
        ("chart:curve", "GET", "/epi/charts/curve.json", 2),
        ("page:calls", "GET", "/calls", 1),
        ("page:contracts", "GET", "/contracts", 1),
        ("job:rt_infection", "JOB", "/epi/jobs/rt_infection", 1),
    ],
    "researcher": [
        ("page:dashboard", "GET", "/", 2),
        ("page:releases", "GET", "/releases", 3),
    ],
    "records_officer": [
        ("page:dashboard", "GET", "/", 2),
        ("page:cards", "GET", "/cards", 3),
        ("page:windows", "GET", "/cards/windows", 1),
        ("page:security_report", "GET", "/cards/report", 1),
        ("page:juki", "GET", "/juki", 2),
        ("page:applications", "GET", "/juki/applications", 1),
    ],
    "terminal_manager": [
        ("page:dashboard", "GET", "/", 2),
        ("page:juki", "GET", "/juki", 3),
        ("page:usage", "GET", "/juki/usage", 2),
    ],
    "auditor": [
        ("page:dashboard", "GET", "/", 2),
        ("page:alerts", "GET", "/oplog?state=new", 3),
        ("page:alert", "ALERT", "/oplog/alerts/{id}", 2),
        ("page:oplog_report", "GET", "/oplog/report", 1),
        ("page:security_report", "GET", "/cards/report", 1),
        ("api:audit", "GET", "/api/v1/audit?limit=50", 1),
    ],
}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, str] = field(default_factory=dict)
    jobs: list[tuple[str, str, str]] = field(default_factory=list)  # (account, job id, url)
    job_done: int = 0
    cross_polls: int = 0

    def add(self, kind: str, ms: float, ok: bool, note: str = "") -> None:
        self.latencies[kind].append(ms)
        if not ok:
            self.errors[kind] += 1
            self.samples.setdefault(kind, note[:200])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _timed(client, stats: Stats, kind: str, method: str, url: str, **kw):
    started = time.perf_counter()
    try:
        r = await client.request(method, url, **kw)
    except Exception as exc:  # noqa: BLE001 - a failed connection is an error to count
        stats.add(kind, (time.perf_counter() - started) * 1000, False, type(exc).__name__)
        return None
    ms = (time.perf_counter() - started) * 1000
    ok = r.status_code < 400 or (r.status_code in (303, 302))
    stats.add(kind, ms, ok, f"{r.status_code} {r.text[:160]!r}")
    return r


async def sign_in(client, stats: Stats, account: str, password: str) -> str | None:
    r = await _timed(client, stats, "login", "GET", "/login")
    if r is None:
        return None
    pre = re.search(r'name="prelogin" value="([^"]+)"', r.text)
    r = await _timed(
        client,
        stats,
        "login",
        "POST",
        "/login",
        data={"name": account, "password": password, "prelogin": pre.group(1) if pre else ""},
    )
    if r is None or r.status_code != 303:
        return None
    try:
        page = await client.get("/account")
    except Exception as exc:  # noqa: BLE001 - counted, the user gives up
        stats.add("login", 0.0, False, type(exc).__name__)
        return None
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    return found.group(1) if found else None


async def user_loop(i: int, urls: list[str], password: str, deadline: float, stats: Stats):
    import httpx

    role = ROLES[i % len(ROLES)]
    account = ACCOUNTS[role]
    home = urls[i % len(urls)]
    other = urls[(i + 1) % len(urls)]
    rnd = random.Random(i)
    await asyncio.sleep(rnd.uniform(0, 5))  # users arrive over the first seconds
    async with httpx.AsyncClient(base_url=home, timeout=60, follow_redirects=False) as client:
        csrf = await sign_in(client, stats, account, password)
        if csrf is None:
            return
        alert_ids: list[int] = []
        started_job = False
        actions = MIX[role]
        weights = [w for *_, w in actions]
        while time.monotonic() < deadline:
            kind, method, path, _ = rnd.choices(actions, weights)[0]
            if method == "GET":
                await _timed(client, stats, kind, "GET", path)
            elif method == "ALERT":
                if not alert_ids:
                    r = await client.get("/api/v1/oplog/alerts?state=new")
                    if r.status_code == 200:
                        alert_ids = [a["id"] for a in r.json().get("alerts", [])[:20]]
                if alert_ids:
                    await _timed(client, stats, kind, "GET", path.format(id=rnd.choice(alert_ids)))
            elif method == "JOB" and i < 3 * len(ROLES) and not started_job:
                # "now and then": a fit costs CPU seconds; the first three
                # epidemiologists start one each, the others only browse
                started_job = True
                await start_job(client, stats, kind, path, csrf, account, home, other, deadline)
            await asyncio.sleep(rnd.uniform(0.5, 2.0))


async def start_job(client, stats, kind, path, csrf, account, home, other, deadline) -> None:
    import httpx

    r = await _timed(
        client,
        stats,
        kind,
        "POST",
        path,
        data={"csrf": csrf, "start": "2021-06-01", "end": "2021-09-30"},
        headers={"hx-request": "true"},
    )
    if r is None or r.status_code != 200:
        return
    found = re.search(r'/epi/jobs/([\w-]+)"', r.text)
    if not found:
        return
    job_id = found.group(1)
    stats.jobs.append((account, job_id, home))
    # poll through the other server (same session cookie): no state lives in a process
    async with httpx.AsyncClient(base_url=other, timeout=60, cookies=client.cookies) as poller:
        while time.monotonic() < deadline:
            r = await _timed(poller, stats, "api:job_poll", "GET", f"/api/v1/jobs/{job_id}")
            if r is None or r.status_code != 200:
                return
            if other != home:
                stats.cross_polls += 1
            if r.json()["job"]["state"] in ("done", "failed", "cancelled"):
                stats.job_done += r.json()["job"]["state"] == "done"
                return
            await asyncio.sleep(1.0)


async def ledger(urls: list[str], password: str, stats: Stats) -> dict:
    """Every job the driver started exists for its owner and has its audit entry."""
    import httpx

    lost, missing_audit, audit_status = [], [], 0
    async with httpx.AsyncClient(base_url=urls[0], timeout=120) as epi:
        await sign_in(epi, Stats(), ACCOUNTS["epidemiologist"], password)
        for _account, job_id, _url in stats.jobs:
            r = await epi.get(f"/api/v1/jobs/{job_id}")
            if r.status_code != 200:
                lost.append(job_id)
    async with httpx.AsyncClient(base_url=urls[-1], timeout=300) as aud:
        await sign_in(aud, Stats(), ACCOUNTS["auditor"], password)
        r = await aud.get("/api/v1/audit", params={"action": "jobs.submit", "limit": 1000000})
        audit_status = r.status_code
        objects = {row["object"] for row in r.json()} if r.status_code == 200 else set()
        missing_audit = [j for _a, j, _u in stats.jobs if f"job:{j}" not in objects]
    return {
        "writes": len(stats.jobs),
        "lost_writes": len(lost),
        "writes_without_audit_entry": len(missing_audit),
        "audit_query_status": audit_status,
    }


def report(stats: Stats, seconds: float, extra: dict) -> dict:
    lines = {}
    for kind, values in sorted(stats.latencies.items()):
        lines[kind] = {
            "n": len(values),
            "p50": round(statistics.median(values), 1),
            "p95": round(_pct(values, 0.95), 1),
            "p99": round(_pct(values, 0.99), 1),
            "errors": stats.errors.get(kind, 0),
        }
    pages = [v for k, vs in stats.latencies.items() if k.startswith("page:") for v in vs]
    total = sum(len(v) for v in stats.latencies.values())
    return {
        "seconds": round(seconds, 1),
        "requests": total,
        "requests_per_s": round(total / seconds, 1),
        "errors": sum(stats.errors.values()),
        "page_views": {
            "n": len(pages),
            "p50": round(statistics.median(pages), 1) if pages else None,
            "p95": round(_pct(pages, 0.95), 1) if pages else None,
            "p99": round(_pct(pages, 0.99), 1) if pages else None,
        },
        "jobs_done": stats.job_done,
        "job_polls_through_the_other_server": stats.cross_polls,
        **extra,
        "by_kind": lines,
        "error_samples": stats.samples,
    }


async def run(args) -> dict:
    stats = Stats()
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(
        *(user_loop(i, args.url, args.password, deadline, stats) for i in range(args.users))
    )
    seconds = time.monotonic() - started
    return report(stats, seconds, await ledger(args.url, args.password, stats))


def setup(password: str) -> None:
    """Give the demo accounts a known password (the demo prints random ones once)."""
    from kumin.core import accounts
    from kumin.core.config import Settings
    from kumin.core.context import context
    from kumin.core.permissions import SYSTEM

    settings = Settings.from_env()
    with context(settings, SYSTEM) as ctx:
        for name in ACCOUNTS.values():
            accounts.set_password(ctx, name, password, must_change=False)
    print(f"set the password of {len(ACCOUNTS)} demo accounts")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--password", default=os.environ.get("LOADTEST_PASSWORD", ""))
    r = sub.add_parser("run")
    r.add_argument("--url", action="append", required=True)
    r.add_argument("--users", type=int, default=50)
    r.add_argument("--duration", type=float, default=120)
    r.add_argument("--password", default=os.environ.get("LOADTEST_PASSWORD", ""))
    r.add_argument("--out")
    args = p.parse_args(argv)
    if args.cmd == "setup":
        setup(args.password)
        return
    result = asyncio.run(run(args))
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(text)
    sys.exit(0 if result["errors"] == 0 and result["lost_writes"] == 0 else 1)


if __name__ == "__main__":
    main()
