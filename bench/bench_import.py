"""Benchmark: importing notification records (kumin cases import).

    .venv/bin/python bench/bench_import.py [--large 1000000] [--pg URL] [--keep DIR]

1. The synthetic ward's 31,077 records, written as a dirty CP932 HER-SYS export,
   imported into a fresh SQLite database (both passes: validation of the whole
   file, then encrypted chunked writes), then imported again (all unchanged).
   The peer is a plain ``csv.reader`` pass over the same file (decode and split
   only), run in the same script: the ratio says what validation, encryption and
   the database cost on top of reading.
2. A file of ``--large`` rows (default 1,000,000) imported the same way, in a
   child process whose peak RSS is printed beside the 31,077-row child's: the
   large import streams (two passes, chunks of 5,000), so its memory stays
   bounded instead of growing with the file.

Each import runs in a fresh child process (``--child``) so that peak RSS is its
own. Wall times on a shared machine vary with load; CPU times are printed too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 31_077


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(path: Path, url: str, key: Path, repeat: int) -> None:
    from kumin.cases.imports import import_cases
    from kumin.core.config import Settings
    from kumin.core.context import context
    from kumin.core.permissions import Actor
    from kumin.core.setup import initialise

    settings = Settings(database_url=url, key_file=key)
    initialise(settings)
    actor = Actor("bench", "epidemiologist")
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        with context(settings, actor) as ctx:
            result = import_cases(ctx, path)
        runs.append(
            {
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "inserted": result.inserted,
                "unchanged": result.unchanged,
                "records": result.records,
                "warnings": len(result.warnings),
            }
        )
    print(json.dumps({"runs": runs, "peak_rss_mb": peak_rss_mb()}))


def run_child(path: Path, url: str, key: Path, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), url, str(key), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peer_csv_reader(path: Path) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    with open(path, encoding="cp932", newline="") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    return time.perf_counter() - wall, time.process_time() - cpu, rows


def write_files(folder: Path, large: int) -> tuple[Path, Path | None]:
    from kumin.synth.cases import synth_cases, write_cases_csv, write_large_cases_csv

    small = folder / "hersys_31077.csv"
    t0 = time.perf_counter()
    write_cases_csv(synth_cases(seed=1), small, "hersys", encoding="cp932", seed=1)
    print(
        f"wrote {small.name} ({small.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s"
    )
    if not large:
        return small, None
    big = folder / f"hersys_{large}.csv"
    t0 = time.perf_counter()
    write_large_cases_csv(big, large, "hersys", seed=2, encoding="cp932")
    print(
        f"wrote {big.name} ({big.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s"
    )
    return small, big


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="rows of the big file (0: skip)"
    )
    parser.add_argument("--pg", default=None, help="also import into this PostgreSQL database URL")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="kumin-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    small, big = write_files(folder, args.large)

    key = folder / "bench.key"
    db = folder / "small.db"
    for p in (db, key):
        p.unlink(missing_ok=True)
    result = run_child(small, f"sqlite:///{db}", key, repeat=2)
    first, again = result["runs"]
    peer, peer_cpu, rows = peer_csv_reader(small)
    print(f"\n{ROWS:,}-row HER-SYS export (CP932, era dates, dirt), SQLite:")
    print(f"  first import   {first['wall']:6.2f} s wall  {first['cpu']:6.2f} s CPU  "
          f"({first['inserted']:,} new, {first['warnings']} warnings)")  # fmt: skip
    print(f"  re-import      {again['wall']:6.2f} s wall  {again['cpu']:6.2f} s CPU  "
          f"({again['unchanged']:,} unchanged)")  # fmt: skip
    print(
        f"  peer csv.reader pass {peer:6.3f} s wall {peer_cpu:6.3f} s CPU ({rows:,} rows): "
        f"import = {first['cpu'] / peer_cpu:.0f}x a bare read (CPU)"
    )
    print(f"  peak RSS {result['peak_rss_mb']:.0f} MB")
    small_rss = result["peak_rss_mb"]

    if args.pg:
        pg = run_child(small, args.pg, key, repeat=1)["runs"][0]
        print(f"  PostgreSQL first import {pg['wall']:.2f} s wall {pg['cpu']:.2f} s CPU")

    if big is not None:
        db = folder / "large.db"
        db.unlink(missing_ok=True)
        large = run_child(big, f"sqlite:///{db}", key, repeat=1)
        run = large["runs"][0]
        print(f"\n{args.large:,}-row file, SQLite (streamed: two passes, chunks of 5,000):")
        print(f"  import {run['wall']:7.1f} s wall  {run['cpu']:7.1f} s CPU  "
              f"{run['records'] / run['wall']:,.0f} records/s  ({run['inserted']:,} new)")  # fmt: skip
        print(f"  peak RSS {large['peak_rss_mb']:.0f} MB (31,077 rows: {small_rss:.0f} MB; "
              f"{large['peak_rss_mb'] / small_rss:.1f}x for {args.large / ROWS:.0f}x the rows)")  # fmt: skip
    if args.keep is None:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_import(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), int(sys.argv[5]))
    else:
        os.environ.setdefault("KUMIN_LANG", "en")
        main()
