"""Benchmark: ten million operation-log lines read and scanned by every rule.

    .venv/bin/python bench/bench_oplog.py [--lines 10000000] [--threads 2] [--workers 1]
                                          [--keep DIR] [--db-lines 1000000]

A child process generates the synthetic log (kumin.synth.oplog, scaled to the
requested number of lines) and writes it as CSV; this process then reads it
(kumin.oplog.logs.read_log) and runs every rule (kumin.oplog.scan.scan) on at most
``--threads`` cores, and prints wall time, cost per million lines and peak RSS
(resource.getrusage). The peer run reads the first 500,000 lines with kumin's
exact row-by-row reader (kumin.core.tabular.read_table) for comparison. Target:
read + scan under 30 s on 2 cores and under 4 GB.

``--db-lines N`` also times the database path on the first N lines: a fresh
SQLite database, ``kumin.oplog.service.import_log`` (blind index and encryption
of each resident, batched inserts), ``load_events`` back into the frame and the
scan over it (the context's residents re-keyed as the stored events are).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINES_PER_SCALE = 225_000  # one synthetic year at scale 1 (seeds 0-4 average)


def generate(path: Path, lines: int, seed: int) -> None:
    from kumin.synth.oplog import synth_oplog

    s = synth_oplog(seed=seed, scale=lines / LINES_PER_SCALE)
    s.write_csv(path)
    with open(path.with_suffix(".context.pickle"), "wb") as fh:
        pickle.dump(s.context, fh)
    print(f"generated {s.events.height:,} lines, {len(s.incidents)} incidents", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="rules run at once; 2 helps on idle cores but adds ~0.6 GB at 10M lines",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="directory to keep the CSV in")
    ap.add_argument("--db-lines", type=int, default=0, help="also time the database path")
    ap.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        generate(args.generate, args.lines, args.seed)
        return

    # Both settings must precede importing polars.
    os.environ["POLARS_MAX_THREADS"] = str(args.threads)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.threads]
        os.sched_setaffinity(0, cpus)

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="kumin-bench-oplog-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "oplog.csv"
    if not csv.exists():
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(csv),
                "--lines",
                str(args.lines),
                "--seed",
                str(args.seed),
            ],
            check=True,
            env={**os.environ, "POLARS_MAX_THREADS": str(os.cpu_count() or 2)},
        )
        console.print(f"generation (not timed below): {time.perf_counter() - t:.1f} s")
    size_mb = csv.stat().st_size / 1e6

    import polars as pl

    from kumin.core.tabular import read_table
    from kumin.oplog.logs import read_log
    from kumin.oplog.rules import prepare_events
    from kumin.oplog.scan import RULES, scan

    # the child saved the governance context (ledgers, business records, ...)
    with open(csv.with_suffix(".context.pickle"), "rb") as fh:
        context = pickle.load(fh)
    console.print(f"threads: polars {pl.thread_pool_size()}, cpus {len(os.sched_getaffinity(0))}")

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of all threads: fair when the machine is busy
    rss: dict[str, float] = {}  # peak RSS so far, after each step
    per_rule: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("read", total=len(RULES) + 1)
        t0, c0 = time.perf_counter(), time.process_time()
        events = read_log(csv)
        timings["read"] = time.perf_counter() - t0
        cpu["read"] = time.process_time() - c0
        rss["read"] = peak_rss_mb()
        bar.update(task, advance=1, description="scan")
        workers = args.workers
        t1 = time.perf_counter()
        c1 = time.process_time()

        def on_rule(name: str, count: int) -> None:
            timings[name] = time.perf_counter() - t1  # finished this long into the scan
            rss[name] = peak_rss_mb()
            per_rule[name] = count
            bar.update(task, advance=1, description=f"scan: {name}")

        alerts = scan(events, context, on_rule=on_rule, workers=workers)
        timings["scan"] = time.perf_counter() - t1
        cpu["scan"] = time.process_time() - c1
    load = os.getloadavg()[0]
    total = timings["read"] + timings["scan"]
    n = events.height
    peak = peak_rss_mb()

    # the peer: kumin's exact row-by-row reader on the first 500,000 lines
    peer_lines = min(500_000, n)
    t2 = time.perf_counter()
    table = read_table(csv)
    for read, _row in enumerate(table.rows, start=1):
        if read >= peer_lines:
            break
    peer = time.perf_counter() - t2
    peer_per_m = peer / peer_lines * 1e6
    t3 = time.perf_counter()
    prepare_events(events, context)
    prep = time.perf_counter() - t3

    console.print(f"\nlog: {n:,} lines, {size_mb:,.0f} MB CSV; alerts: {len(alerts)}")
    console.print(f"rules ran {workers} at a time; each finished this far into the scan:")
    for name in sorted(RULES, key=timings.get):
        console.print(
            f"  {name:<22} {timings[name]:6.2f} s  peak RSS so far {rss[name]:6,.0f} MB"
            f"  {per_rule[name]:4d} alerts"
        )
    console.print(f"  (preparing the events, before the first rule: {prep:.2f} s wall alone)")
    console.print("                         wall s   CPU s")
    console.print(
        f"read                     {timings['read']:6.2f}  {cpu['read']:6.2f}  "
        f"{rss['read']:6,.0f} MB"
    )
    console.print(f"scan                     {timings['scan']:6.2f}  {cpu['scan']:6.2f}")
    total_cpu = cpu["read"] + cpu["scan"]
    console.print(
        f"total                    {total:6.2f}  {total_cpu:6.2f}   "
        f"= {total / n * 1e6:.2f} s wall, {total_cpu / n * 1e6:.2f} CPU s per million "
        f"lines (target < 30 s wall for 10M)"
    )
    console.print(
        f"load average during the run: {load:.1f} on {os.cpu_count()} cores "
        f"(other work on the machine inflates wall time, not CPU time)"
    )
    console.print(f"peak RSS {peak:,.0f} MB (target < 4096 MB)")
    console.print(
        f"peer: row-by-row reader {peer_per_m:.2f} s per million lines (read only) vs "
        f"{timings['read'] / n * 1e6:.2f} s here: {peer_per_m / (timings['read'] / n * 1e6):.1f}x"
    )
    if args.db_lines:
        del events
        db_bench(csv, context, args.db_lines, folder, console)
    if not args.keep:
        csv.unlink()
        csv.with_suffix(".context.pickle").unlink()
        shutil.rmtree(folder)  # our own mkdtemp folder


def db_bench(csv: Path, context, lines: int, folder: Path, console) -> None:
    """Import the first ``lines`` lines into a fresh SQLite database and scan them."""
    from kumin.core.config import Settings
    from kumin.core.context import context as open_ctx
    from kumin.core.permissions import Actor
    from kumin.core.setup import initialise
    from kumin.oplog import service
    from kumin.oplog.scan import scan

    part = folder / "oplog_db_part.csv"
    with open(csv, encoding="utf-8") as src, open(part, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > lines:
                break
            dst.write(line)
    db = folder / "bench.db"
    settings = Settings(database_url=f"sqlite:///{db}", key_file=folder / "bench.key")
    initialise(settings)
    auditor = Actor("bench", "auditor")
    t0, c0 = time.perf_counter(), time.process_time()
    with open_ctx(settings, auditor) as ctx:
        result = service.import_log(ctx, part)
    t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    with open_ctx(settings, auditor) as ctx:
        events = service.load_events(ctx)
        keyed = service.keyed_context(ctx, context)
    t_load, c_load = time.perf_counter() - t1, time.process_time() - c1
    t2, c2 = time.perf_counter(), time.process_time()
    alerts = scan(events, keyed)
    t_scan, c_scan = time.perf_counter() - t2, time.process_time() - c2
    n = result.events
    console.print(f"\ndatabase path (SQLite) on {n:,} lines, {result.new_subjects:,} residents:")
    for label, wall, cpu_s in (
        ("import (index, encrypt, insert)", t_import, c_import),
        ("load events + re-key context", t_load, c_load),
        ("scan", t_scan, c_scan),
    ):
        console.print(
            f"  {label:<32} {wall:6.2f} s wall {cpu_s:6.2f} CPU s"
            f"  = {cpu_s / n * 1e6:.2f} CPU s per million lines"
        )
    console.print(f"  {len(alerts)} alerts; database {db.stat().st_size / 1e6:,.0f} MB")
    part.unlink()


if __name__ == "__main__":
    main()
