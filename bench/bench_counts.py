"""Benchmark: ``kumin epi rt --counts`` file to file, 1,741 regions x 800 days, vs bare NumPy.

Run: ``.venv/bin/python bench/bench_counts.py [--regions 1741] [--days 800] [--repeats 3]``

Input: the simulated epidemics of ``bench_rt.py`` (one per municipality of Japan),
written once as a ``region,date,count`` CSV (1.4 million rows).

Timed:
1. the CLI as a user runs it, in a fresh process: ``kumin epi rt --counts FILE
   --format csv --out OUT`` (start-up, parsing and checking the file, the
   estimate, writing 1.4 million result rows); wall time and peak memory (max RSS
   of the child process);
2. the library on the same file: :func:`kumin.epi.counts.rt_from_counts` (read +
   estimate, no writing);
3. a bare NumPy/SciPy implementation of the same estimate (Cori, EpiEstim's
   parametric SI, weekly windows; mean and 2.5/50/97.5% quantiles) on the matrix
   already in memory: it parses and writes nothing, so it is the floor.
The goal of issue 12: (1) within 4x of (3) and under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import gammaincinv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rt import simulate  # noqa: E402

from kumin.epi.rt import discr_si  # noqa: E402


def bare_numpy(counts: np.ndarray, window: int = 7) -> tuple[np.ndarray, ...]:
    """Cori's posterior for every region and window, nothing else."""
    n = counts.shape[1]
    w = discr_si(np.arange(n), 4.8, 2.3)
    w = w[: np.flatnonzero(w)[-1] + 1]
    lam = np.zeros_like(counts)
    for k in range(1, w.size):
        lam[:, k:] += w[k] * counts[:, :-k]
    cs = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(counts, 1)], 1)
    cl = np.concatenate([np.zeros((counts.shape[0], 1)), np.cumsum(lam, 1)], 1)
    shape = 1.0 + cs[:, window + 1 :] - cs[:, 1 : n - window + 1]
    scale = 1.0 / (1 / 5.0 + cl[:, window + 1 :] - cl[:, 1 : n - window + 1])
    # shapes are 1 + whole counts: invert each distinct shape once (as any careful code would)
    uniq, inv = np.unique(shape, return_inverse=True)
    inv = inv.reshape(shape.shape)
    return (shape * scale, *(gammaincinv(uniq, q)[inv] * scale for q in (0.025, 0.5, 0.975)))


def run_cli(path: Path, out: Path) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system) and peak memory (MiB) of one CLI run."""
    code = "from kumin.cli.main import run; run()"
    args = [sys.executable, "-c", code, "epi", "rt", "--counts", str(path)]
    args += ["--format", "csv", "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=1741)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    counts = simulate(args.regions, args.days)
    tmp = Path(tempfile.mkdtemp(prefix="kumin-bench-"))
    try:
        run(args, counts, tmp)
    finally:
        shutil.rmtree(tmp)  # 150 MB of input and output


def run(args: argparse.Namespace, counts: np.ndarray, tmp: Path) -> None:
    path = tmp / "counts.csv"
    dates = np.datetime64("2020-01-16") + np.arange(args.days)
    pl.DataFrame(
        {
            "region": np.repeat([f"R{i:04d}" for i in range(args.regions)], args.days),
            "date": np.tile(dates, args.regions),
            "count": counts.astype(np.int64).ravel(),
        }
    ).write_csv(path)
    size = path.stat().st_size / 1e6
    print(f"input: {args.regions} regions x {args.days} days, {size:.1f} MB CSV")

    from kumin.epi.counts import rt_from_counts

    bare, lib, cli = [], [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        bare_numpy(counts)
        bare.append((time.perf_counter() - t0, time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        frame = rt_from_counts(path)
        lib.append((time.perf_counter() - t0, time.process_time() - c0))
        cli.append(run_cli(path, tmp / "rt.csv"))
    # what the command imports before it counts (the domains' CLIs load lazily, #12)
    code = "import kumin.cli.main, kumin.epi.cli, kumin.epi.counts, kumin.epi.rt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    startup = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    rows = (tmp / "rt.csv").read_bytes().count(b"\n") - 1
    assert rows == frame.height, (rows, frame.height)
    best_bare = min(b[0] for b in bare), min(b[1] for b in bare)
    best_lib = min(x[0] for x in lib), min(x[1] for x in lib)
    best_cli = min(c[0] for c in cli), min(c[1] for c in cli)
    peak = max(c[2] for c in cli)
    print(
        f"bare NumPy estimate (in memory, no IO): {best_bare[0]:.2f} s wall, {best_bare[1]:.2f} s CPU"
    )
    print(
        f"library rt_from_counts (read + estimate): {best_lib[0]:.2f} s wall, {best_lib[1]:.2f} s CPU"
    )
    print(
        f"CLI file to file: {best_cli[0]:.2f} s wall, {best_cli[1]:.2f} s CPU (wall of the runs: "
        f"{', '.join(f'{c[0]:.2f}' for c in cli)}), peak memory {peak:.0f} MiB, {rows:,} rows out"
    )
    print(
        f"  of which starting Python and importing what it needs: {startup:.2f} s wall, "
        f"{startup_cpu:.2f} s CPU"
    )
    print(f"load average during the runs: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"CLI / bare NumPy: {best_cli[0] / best_bare[0]:.1f}x wall, {best_cli[1] / best_bare[1]:.1f}x CPU; "
        f"library / bare NumPy: {best_lib[0] / best_bare[0]:.1f}x wall, {best_lib[1] / best_bare[1]:.1f}x CPU"
    )


if __name__ == "__main__":
    main()
