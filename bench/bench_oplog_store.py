"""Benchmark: storing ten million operation-log lines as a user does it.

    .venv/bin/python bench/bench_oplog_store.py --database-url postgresql+psycopg://u@host/db
        [--lines 10000000] [--csv FILE] [--keep DIR]

Generates the synthetic log (kumin.synth.oplog scaled to ``--lines``; or takes
``--csv``), initialises the *empty* database given (``kumin init``), adds an
auditor account, and runs ``kumin oplog import FILE`` in a child process, signed
in through ``KUMIN_USER``/``KUMIN_PASSWORD`` — file to database, the blind index
and encryption of every resident, PostgreSQL's ``COPY`` (SQLite: executemany in
one transaction). Prints wall time, the child's CPU seconds, lines per second
and the load average before and after, as a README line. Beside it, the
streamed path (read + every rule, no database) on the same file.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PASSWORD = "bench-store-pw-1"


def kumin(env: dict[str, str], *args: str, stdin: str | None = None) -> float:
    """Run ``kumin ARGS``; the child's CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [str(Path(sys.executable).parent / "kumin"), *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def prepare(url: str, key_file: Path) -> None:
    """An auditor account with a known password, and no 2FA (set-up, not timed)."""
    from kumin.core import accounts, audit
    from kumin.core.config import Settings
    from kumin.core.db import session_scope
    from kumin.core.installation import store_policy
    from kumin.core.models import User

    settings = Settings(database_url=url, key_file=key_file)
    with session_scope(settings) as s:
        store_policy(s, require_2fa=False)
        s.add(
            User(
                name="bench-auditor", role="auditor", password_hash=accounts.hash_password(PASSWORD)
            )
        )
        audit.record(s, "system", "users.add", "user:bench-auditor", details={"role": "auditor"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True, help="an EMPTY database")
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--csv", type=Path, help="an operation log already generated")
    ap.add_argument("--keep", type=Path, help="directory to keep the generated CSV in")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="kumin-store-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv = args.csv or folder / f"oplog_{args.lines}.csv"
    if not csv.exists():
        from bench_oplog import generate

        t = time.perf_counter()
        generate(csv, args.lines, args.seed)
        print(f"generated {csv} in {time.perf_counter() - t:.1f} s", flush=True)
    with open(csv, "rb") as fh:
        lines = sum(1 for _ in fh) - 1
    env = {
        **os.environ,
        "KUMIN_DATABASE_URL": args.database_url,
        "KUMIN_KEY_FILE": str(folder / "bench.key"),
        "KUMIN_AUDIT_CHECKPOINTS": str(folder / "bench.checkpoints"),
    }
    kumin(env, "init")
    prepare(args.database_url, folder / "bench.key")
    env |= {"KUMIN_USER": "bench-auditor", "KUMIN_PASSWORD": PASSWORD}
    load_before = os.getloadavg()
    t = time.perf_counter()
    cpu = kumin(env, "oplog", "import", str(csv))
    wall = time.perf_counter() - t
    load_after = os.getloadavg()
    backend = args.database_url.split(":", 1)[0].split("+", 1)[0]
    print(
        f"\n| {backend} | {lines:,} | {wall:,.1f} s | {cpu:,.1f} CPU s "
        f"| {lines / wall:,.0f} lines/s | {wall / lines * 1e6:.1f} s per million "
        f"| {load_before[0]:.1f} → {load_after[0]:.1f} |"
    )


if __name__ == "__main__":
    main()
