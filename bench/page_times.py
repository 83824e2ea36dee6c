"""Time every page of every role, one request at a time (no concurrency).

The load test says *that* page views are slow under 50 users; this says *which*
page is slow on its own, so the slow query can be found (EXPLAIN, the
PostgreSQL log) before any load is added. Run it against a served demo ward
(``kumin demo --no-serve``, then ``kumin serve``; accounts' passwords set with
``python bench/load_test.py setup``)::

    python bench/page_times.py --url http://127.0.0.1:8000 --password 'load-test-pw-1' \\
        [--repeat 3] [--only cards]

Each page is fetched ``--repeat`` times: the first view (cold caches: a
snapshot that must be computed) and the best of the others (warm) are printed,
slowest first, with the load average of the machine beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_test import ACCOUNTS, ROLES, Stats, sign_in  # noqa: E402

# Every GET page a role can open without a path parameter; a 403 means the role
# may not, and the line is left out.
PAGES = (
    "/",
    "/account",
    "/cases",
    "/cases?public=0",
    "/cases/import",
    "/contracts",
    "/releases",
    "/epi",
    "/epi/rt",
    "/epi/charts/curve.json",
    "/epi/charts/towns.json",
    "/epi/charts/delays.json",
    "/calls",
    "/calls/plan",
    "/calls/staffing",
    "/continuity",
    "/reports/evaluation",
    "/cards",
    "/cards/windows",
    "/cards/report",
    "/cards/national",
    "/juki",
    "/juki/applications",
    "/juki/governance",
    "/juki/reservations",
    "/juki/usage",
    "/oplog",
    "/oplog?state=new",
    "/oplog/files",
    "/oplog/report",
    "/oplog/suppressions",
    "/api/v1/users",
    "/api/v1/audit?limit=50",
)


async def time_role(url: str, role: str, password: str, repeat: int, only: str) -> list[tuple]:
    import httpx

    out = []
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        if await sign_in(client, Stats(), ACCOUNTS[role], password) is None:
            print(f"sign-in of {ACCOUNTS[role]} failed", file=sys.stderr)
            return out
        for path in PAGES:
            if only and only not in path:
                continue
            times, status = [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                r = await client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                status = r.status_code
                if status in (403, 404, 405):
                    break
            if status in (403, 404, 405):
                continue
            warm = min(times[1:]) if len(times) > 1 else times[0]
            out.append((role, path, status, times[0], warm))
    return out


async def main_async(args) -> list[tuple]:
    rows: list[tuple] = []
    for role in ROLES:
        rows.extend(await time_role(args.url, role, args.password, args.repeat, args.only))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--password", default=os.environ.get("LOADTEST_PASSWORD", ""))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default="", help="only paths containing this text")
    args = p.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = asyncio.run(main_async(args))
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after\n")
    print("| role | page | status | first view (ms) | warm (ms) |")
    print("|---|---|---|---|---|")
    for role, path, status, first, warm in sorted(rows, key=lambda r: -r[4]):
        print(f"| {role} | `{path}` | {status} | {first:,.0f} | {warm:,.0f} |")
    bad = [r for r in rows if r[2] >= 500]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
