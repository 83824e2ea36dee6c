"""Load test: N signed-in users of the six roles browse, look up, triage and start jobs.

Not a test of the suite (it needs a served kumin and minutes of wall time). Run it
against the demo ward (``kumin demo --no-serve``), served with
``KUMIN_REQUIRE_2FA=0 kumin serve`` (one process on SQLite, ``--workers 4`` on
PostgreSQL, or two servers on two ports sharing one PostgreSQL)::

    python bench/load_test.py setup --password 'load-test-pw-1'     # demo accounts' passwords
    python bench/load_test.py run --url http://127.0.0.1:8000 --users 50 --duration 120 \\
        --password 'load-test-pw-1' [--url http://127.0.0.1:8001] [--out result.json] \\
        [--label 'PostgreSQL, --workers 4'] \\
        [--restart-db-at 60 --restart-db 'pg_ctlcluster 15 loadtest restart']

Each user signs in on one server (users are spread over the ``--url``\\ s), then
loops: a request of its role's mix, a think time of 0.5–2 s. Epidemiologists now
and then start an Rt job and poll it *through the other server* when there are
two, and now and then import a small HER-SYS export (20 new records, CP932)
through the web upload form. With ``--restart-db`` the database is restarted
once during the run (use a cluster of your own, never one other people's tests
use): requests during the outage must fail cleanly (503, never 500) and the
ones after it succeed without any restart of kumin.

At the end a write ledger checks that every job the driver started exists for
its owner with its ``jobs.submit`` audit entry, and that every record of every
import the server acknowledged is stored (the record count grew by exactly
their number) with one ``cases.import`` audit entry per import. Reported:
requests per kind with p50/p95/p99 (ms), errors (5xx, connection errors,
unexpected 4xx; during the outage apart), lost writes, the load average of the
machine, and a Markdown line for the README's table.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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
        ("write:hersys_import", "IMPORT", "/cases/import", 1),
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
    imports: list[int] = field(default_factory=list)  # records of each acknowledged import
    import_files: list[Path] = field(default_factory=list)  # files not yet uploaded
    outage: list[float] = field(default_factory=list)  # [down, up] (monotonic)
    outage_errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    load: list[float] = field(default_factory=list)  # 1-minute load average samples
    import_every: float = 30.0  # seconds between two imports (of all users together)
    next_import: float = 0.0

    def add(self, kind: str, ms: float, ok: bool, note: str = "") -> None:
        in_outage = bool(self.outage) and len(self.outage) == 1
        if in_outage and not ok:
            # while the database restarts errors are expected, counted apart by their
            # status: 503 is clean; 500, a refused connection or a hang is not
            self.outage_errors[note.split(" ", 1)[0]] += 1
            return
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
            elif (
                method == "IMPORT" and stats.import_files and time.monotonic() >= stats.next_import
            ):
                # "now and then": a ward imports its HER-SYS export a few times a day;
                # every import changes the records, so the case pages recompute
                stats.next_import = time.monotonic() + stats.import_every
                await upload_import(client, stats, kind, path, csrf, stats.import_files.pop())
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


IMPORT_RECORDS = 20


def make_import_files(folder: Path, count: int) -> list[Path]:
    """Small HER-SYS exports (CP932, the office's dirt included) of records no
    database holds yet: IDs made of this run's tag, so every record is an insert."""
    from kumin.synth.cases import synth_cases, write_cases_csv

    tag = int(time.time()) % 100_000
    base = synth_cases(seed=tag, n=IMPORT_RECORDS * count)
    files = []
    for k in range(count):
        chunk = [
            dataclasses.replace(r, hersys_id=f"9{tag:05d}{k:03d}{j:02d}")
            for j, r in enumerate(base[k * IMPORT_RECORDS : (k + 1) * IMPORT_RECORDS])
        ]
        files.append(write_cases_csv(chunk, folder / f"hersys-{k}.csv", encoding="cp932"))
    return files


async def upload_import(client, stats: Stats, kind: str, path: str, csrf: str, file: Path):
    r = await _timed(
        client,
        stats,
        kind,
        "POST",
        path,
        data={"csrf": csrf, "profile": "hersys", "encoding": "auto"},
        files={"file": (file.name, file.read_bytes(), "text/csv")},
    )
    if r is not None and r.status_code == 200:
        stats.imports.append(IMPORT_RECORDS)


async def written(url: str, password: str) -> tuple[int | None, int | None]:
    """Records stored, and ``cases.import`` audit entries of today (None: not answered)."""
    import httpx

    total = entries = None
    for _attempt in range(3):  # the server may still be finishing the run's last requests
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            await sign_in(client, Stats(), ACCOUNTS["epidemiologist"], password)
            r = await client.get("/api/v1/cases/summary", params={"public": "false"})
            if r.status_code == 200:
                total = r.json()["total"]
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            await sign_in(client, Stats(), ACCOUNTS["auditor"], password)
            r = await client.get(
                "/api/v1/audit",
                params={
                    "action": "cases.import",
                    "since": dt.date.today().isoformat(),
                    "limit": 10**6,
                },
            )
            if r.status_code == 200:
                entries = len(r.json())
        if total is not None and entries is not None:
            break
        await asyncio.sleep(5)
    return total, entries


async def ledger(urls: list[str], password: str, stats: Stats, before: tuple) -> dict:
    """Every job the driver started exists for its owner with its audit entry; every
    acknowledged import's records are stored, each import with its audit entry."""
    import httpx

    lost, missing_audit, audit_status = [], [], 0
    async with httpx.AsyncClient(base_url=urls[0], timeout=120) as epi:
        await sign_in(epi, Stats(), ACCOUNTS["epidemiologist"], password)
        for _account, job_id, _url in stats.jobs:
            r = await epi.get(f"/api/v1/jobs/{job_id}")
            if r.status_code != 200:
                lost.append(job_id)
    after = await written(urls[-1], password)
    if None in before or None in after:
        raise SystemExit(f"the write ledger could not be read: before {before}, after {after}")
    stored = after[0] - before[0]
    lost_records = sum(stats.imports) - stored
    import_entries = after[1] - before[1]
    for _attempt in range(3):  # sign-ins are throttled per account: wait, try again
        async with httpx.AsyncClient(base_url=urls[-1], timeout=300) as aud:
            await sign_in(aud, Stats(), ACCOUNTS["auditor"], password)
            r = await aud.get("/api/v1/audit", params={"action": "jobs.submit", "limit": 10**6})
        audit_status = r.status_code
        if audit_status == 200:
            break
        await asyncio.sleep(10)
    if audit_status != 200:
        raise SystemExit(f"the audit trail could not be read for the ledger ({audit_status})")
    objects = {row["object"] for row in r.json()}
    missing_audit = [j for _a, j, _u in stats.jobs if f"job:{j}" not in objects]
    return {
        "writes": len(stats.jobs) + len(stats.imports),
        "lost_writes": len(lost) + max(0, lost_records),
        "writes_without_audit_entry": len(missing_audit)
        + max(0, len(stats.imports) - import_entries),
        "imports_acknowledged": len(stats.imports),
        "records_imported": sum(stats.imports),
        "records_stored": stored,
        "import_audit_entries": import_entries,
        "audit_query_status": audit_status,
    }


def report(stats: Stats, seconds: float, extra: dict, label: str) -> dict:
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
    result = {
        "label": label,
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
        "load_average": {
            "min": min(stats.load, default=None),
            "mean": round(statistics.mean(stats.load), 1) if stats.load else None,
            "max": max(stats.load, default=None),
        },
        **extra,
        "by_kind": lines,
        "error_samples": stats.samples,
    }
    if stats.outage:
        result["database_restart"] = {
            "outage_s": round(stats.outage[1] - stats.outage[0], 1)
            if len(stats.outage) > 1
            else None,
            "failed_during_outage_by_status": dict(stats.outage_errors),
            "unclean": sum(n for k, n in stats.outage_errors.items() if k not in ("503",)),
        }
    return result


def markdown(result: dict) -> str:
    """The README's table: one line per configuration, and one per kind of request."""
    pv = result["page_views"]
    la = result["load_average"]
    head = (
        "| configuration | requests | req/s | errors | page views p50 / p95 / p99 (ms) "
        "| lost writes | load average |\n|---|---|---|---|---|---|---|\n"
    )
    line = (
        f"| {result['label']} | {result['requests']:,} | {result['requests_per_s']} "
        f"| {result['errors']} | {pv['p50']:,.0f} / {pv['p95']:,.0f} / {pv['p99']:,.0f} "
        f"| {result['lost_writes']} of {result['writes']} | {la['min']}–{la['max']} |\n"
    )
    kinds = "\n| kind | n | p50 | p95 | p99 | errors |\n|---|---|---|---|---|---|\n" + "".join(
        f"| {k} | {v['n']} | {v['p50']:,.0f} | {v['p95']:,.0f} | {v['p99']:,.0f} | {v['errors']} |\n"
        for k, v in result["by_kind"].items()
    )
    restart = ""
    if "database_restart" in result:
        d = result["database_restart"]
        restart = (
            f"\nDatabase restarted once: outage {d['outage_s']} s, requests failed during it "
            f"{d['failed_during_outage_by_status']} (unclean: {d['unclean']}); errors after it: "
            f"{result['errors']}.\n"
        )
    return head + line + kinds + restart


async def sample_load(stats: Stats, deadline: float) -> None:
    while time.monotonic() < deadline:
        stats.load.append(round(os.getloadavg()[0], 1))
        await asyncio.sleep(5)


async def restart_database(stats: Stats, command: str, at: float, url: str) -> None:
    """Restart the database once, ``at`` seconds in; the outage ends when /readyz is 200."""
    import httpx

    await asyncio.sleep(at)
    stats.outage.append(time.monotonic())
    proc = await asyncio.create_subprocess_shell(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    await proc.wait()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for _ in range(600):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    stats.outage.append(time.monotonic())


async def run(args) -> dict:
    stats = Stats()
    with tempfile.TemporaryDirectory() as folder:
        stats.import_files = make_import_files(Path(folder), args.imports)
        stats.import_every = args.duration / (args.imports + 1)
        before = await written(args.url[-1], args.password)
        started = time.monotonic()
        stats.next_import = started + stats.import_every
        deadline = started + args.duration
        extra = [sample_load(stats, deadline)]
        if args.restart_db:
            extra.append(restart_database(stats, args.restart_db, args.restart_db_at, args.url[0]))
        await asyncio.gather(
            *(user_loop(i, args.url, args.password, deadline, stats) for i in range(args.users)),
            *extra,
        )
        seconds = time.monotonic() - started
    return report(stats, seconds, await ledger(args.url, args.password, stats, before), args.label)


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
    r.add_argument("--label", default="kumin")
    r.add_argument("--imports", type=int, default=4, help="HER-SYS uploads spread over the run")
    r.add_argument("--restart-db", default="", help="shell command restarting the database")
    r.add_argument("--restart-db-at", type=float, default=60.0)
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
    print()
    print(markdown(result))
    clean = result.get("database_restart", {}).get("unclean", 0) == 0
    sys.exit(0 if result["errors"] == 0 and result["lost_writes"] == 0 and clean else 1)


if __name__ == "__main__":
    main()
