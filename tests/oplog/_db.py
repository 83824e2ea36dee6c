"""Helpers of the oplog storage tests: a ward's Juki-net records in the database
(through the juki imports), logs written as files, contexts acting as a role.

Imported by the tests as ``tests.oplog._db`` (pytest runs in importlib mode).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from kumin.core.config import Settings
from kumin.core.context import Ctx, context
from kumin.core.permissions import Actor
from kumin.juki import service as juki
from kumin.oplog.context import GovernanceContext
from kumin.oplog.logs import write_log_csv
from kumin.synth.juki_files import write_governance_files

NAMES = {
    "records_officer": "u-records-officer",
    "auditor": "u-auditor",
    "admin": "u-admin",
    "epidemiologist": "u-epidemiologist",
    "researcher": "u-researcher",
    "terminal_manager": "u-terminal-manager",
}


@contextmanager
def acting(settings: Settings, role: str, lang: str = "en") -> Iterator[Ctx]:
    """A committing context acting as ``role``."""
    dept = "課税課" if role == "terminal_manager" else None
    with context(settings, Actor(NAMES[role], role, None, dept, lang)) as ctx:
        yield ctx


def load_records(settings: Settings, governance: GovernanceContext, folder: Path) -> None:
    """Every table of ``governance`` into the Juki-net records, as a records officer."""
    files = write_governance_files(governance, folder / "juki")
    with acting(settings, "records_officer") as ctx:
        juki.import_departments(ctx, files.departments)
        juki.import_terminals(ctx, files.terminals)
        for department, effective, path in files.ledgers:
            juki.import_ledger(ctx, department, effective, path)
        for name, fn in (
            ("applications", juki.import_applications),
            ("reservations", juki.import_reservations),
            ("usage", juki.import_usage),
            ("business_records", juki.import_business_records),
            ("checklists", juki.import_checklists),
            ("watchlist", juki.import_watchlist),
        ):
            path = getattr(files, name)
            if path is not None and len(path.read_text("utf-8-sig").splitlines()) > 1:
                fn(ctx, path)


def write_log(events: pl.DataFrame, path: Path) -> Path:
    write_log_csv(events, path)
    return path
