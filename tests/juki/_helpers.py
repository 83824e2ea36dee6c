"""Helpers of the juki tests: acting as a role, writing small files, a small ward.

Imported by the tests as ``tests.juki._helpers`` (pytest runs in importlib mode).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kumin.core.config import Settings
from kumin.core.context import Ctx, context
from kumin.core.permissions import Actor
from kumin.core.tabular import csv_bytes
from kumin.juki import service
from kumin.synth.juki_files import GovernanceFiles, write_governance_files
from kumin.synth.oplog import SynthOplog, synth_oplog

D = dt.date
T = dt.datetime
NAMES = {
    "records_officer": "u-records-officer",
    "terminal_manager": "u-terminal-manager",
    "auditor": "u-auditor",
    "admin": "u-admin",
    "epidemiologist": "u-epidemiologist",
    "researcher": "u-researcher",
}


@contextmanager
def acting(settings: Settings, role: str, department: str | None = None) -> Iterator[Ctx]:
    """A committing context acting as ``role`` (terminal managers default to 課税課)."""
    if role == "terminal_manager" and department is None:
        department = "課税課"
    with context(settings, Actor(NAMES[role], role, None, department, "en")) as ctx:
        yield ctx


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(csv_bytes(header, rows, encoding))
    return path


DEPARTMENTS = [
    ["D01", "住民記録・戸籍課", "08:30", "17:15", "no"],
    ["D08", "課税課", "08:30", "17:15", "no"],
    ["D12", "子ども家庭課", "08:30", "17:15", "no"],
]
TERMINALS = [
    ["T0101", "D01", "住民記録事務室", "no"],
    ["S01", "D01", "住民記録事務室（共用）", "yes"],
    ["T0801", "D08", "課税課執務室", "no"],
    ["T1201", "D12", "子ども家庭課執務室", "no"],
]
DEPARTMENT_HEADER = ["department", "name", "open", "close", "weekend_open"]
TERMINAL_HEADER = ["terminal_id", "department", "location", "reservation_required"]


def small_ward(settings: Settings, folder: Path) -> None:
    """Three departments, four terminals (one shared), ledgers with an April transfer."""
    with acting(settings, "records_officer") as ctx:
        service.import_departments(ctx, write_csv(folder / "d.csv", DEPARTMENT_HEADER, DEPARTMENTS))
        service.import_terminals(ctx, write_csv(folder / "t.csv", TERMINAL_HEADER, TERMINALS))
        for dept, effective, ops in (
            ("D08", D(2020, 4, 1), ["U1", "U2", "U3"]),
            ("D08", D(2021, 4, 1), ["U1", "U3", "U4"]),
            ("D12", D(2020, 4, 1), ["U5", "U2"]),
            ("D01", D(2020, 4, 1), ["U9"]),
        ):
            rows = [[op, f"職員{op}", "操作者"] for op in ops]
            path = write_csv(
                folder / f"l_{dept}_{effective}.csv", ["operator_id", "name", "role"], rows
            )
            service.import_ledger(ctx, dept, effective, path)


def approve_fy2021(settings: Settings, folder: Path) -> None:
    """Approved usage applications of D08 and D12 for FY2021: booking a shared terminal
    needs one (the resident-records division approved the department's work)."""
    path = write_csv(
        folder / "approved_fy2021.csv",
        ["department", "function", "valid_from", "valid_to"],
        [
            ["D08", "住民税", "2021-04-01", "2022-03-31"],
            ["D12", "児童手当", "2021-04-01", "2022-03-31"],
        ],
    )
    with acting(settings, "records_officer") as ctx:
        service.import_applications(ctx, path)


def synth_ward(seed: int = 3, days: int = 45) -> SynthOplog:
    """A short synthetic period (clean logs) of the 15 departments, at a third of the staff."""
    return synth_oplog(seed=seed, days=days, inject=False, scale=0.3)


def load_files(settings: Settings, files: GovernanceFiles) -> None:
    """Everything a ward imports, in order, as the records officer."""
    with acting(settings, "records_officer") as ctx:
        service.import_departments(ctx, files.departments)
        service.import_terminals(ctx, files.terminals)
        for department, effective, path in files.ledgers:
            service.import_ledger(ctx, department, effective, path)
        service.import_applications(ctx, files.applications)
        service.import_reservations(ctx, files.reservations)
        service.import_usage(ctx, files.usage)
        service.import_business_records(ctx, files.business_records)
        service.import_checklists(ctx, files.checklists)
        service.import_watchlist(ctx, files.watchlist)


def load_synth(settings: Settings, folder: Path, synth: SynthOplog) -> GovernanceFiles:
    files = write_governance_files(synth.context, folder)
    load_files(settings, files)
    return files
