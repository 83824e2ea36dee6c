"""Benchmark: what a hostile file costs before it is refused.

    .venv/bin/python bench/bench_hostile.py [--mb 10]

1. An operation log with one line of ``--mb`` MB, read by ``kumin.oplog.read_log``
   and its error rendered as the CLI prints it (Rich, 100 columns). Before issue
   10 the value was echoed whole and Rich wrapped it in quadratic time (about
   3 minutes for 10 MB); now the line cap refuses it in one linear pass and
   message values are clipped to 200 characters.
2. The same error text rendered unclipped, at 0.5, 1 and 2 MB, to show the
   quadratic growth the clip avoids (each doubling costs about 4x).
3. The pre-parse check of a clean 10-million-character CSV (line cap and NUL scan),
   to show its linear cost on ordinary files.

CPU seconds (process time) are printed; they vary little with machine load.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    from rich.console import Console

    from kumin.core.tabular import check_file
    from kumin.errors import DataError
    from kumin.oplog.logs import read_log

    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kumin-bench-"))
    path = folder / "log.csv"
    header = b"timestamp,terminal_id,operator_id,action,subject,function\n"
    path.write_bytes(header + b"x" * (args.mb << 20) + b",T01,U001,view,R1,f\n")

    def refuse() -> None:
        try:
            read_log(path)
        except DataError as exc:
            Console(file=io.StringIO(), width=100).print(exc.render("en"), highlight=False)

    print(f"1. {args.mb} MB line refused and printed: {_cpu(refuse):.3f} s CPU")
    for mb in (0.5, 1, 2, 4):
        text = "Timestamp '" + "x" * int(mb * (1 << 20)) + "' is not a date"
        cost = _cpu(lambda t=text: Console(file=io.StringIO(), width=100).print(t, highlight=False))
        print(f"2. unclipped {mb} MB message printed: {cost:.3f} s CPU")
    clean = folder / "clean.csv"
    line = b"2021-04-05 09:01:00,T01,U001,view,R1,f\n"
    clean.write_bytes(header + line * (10_000_000 // len(line)))
    print(f"3. pre-parse check of a 10 MB clean CSV: {_cpu(lambda: check_file(clean)):.3f} s CPU")


if __name__ == "__main__":
    main()
