"""A small hand-made ward for the rule tests: three departments, five terminals.

Imported by the tests as ``tests.oplog._ward`` (pytest runs in importlib mode).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from kumin.oplog.context import (
    BusinessRecord,
    ChecklistEntry,
    Department,
    GovernanceContext,
    LedgerVersion,
    Reservation,
    Terminal,
    UsageApplication,
    WatchEntry,
)

D = dt.date
T = dt.datetime


def make_events(rows: list[tuple[str, str, str, str, str, str]], file: str = "log.csv"):
    """Events from (timestamp, terminal, operator, action, subject, function); line = i + 2."""
    return pl.DataFrame(
        {
            "ts": [T.fromisoformat(r[0]) for r in rows],
            "terminal_id": [r[1] for r in rows],
            "operator_id": [r[2] for r in rows],
            "action": [r[3] for r in rows],
            "subject": [r[4] for r in rows],
            "function": [r[5] for r in rows],
            "file": file,
            "line": list(range(2, len(rows) + 2)),
        }
    )


def ward_context(**overrides) -> GovernanceContext:
    parts = dict(
        departments=(
            Department("D01", "住民記録・戸籍課"),
            Department("D08", "課税課"),
            Department("D02", "番号制度担当課", close=dt.time(19), weekend_open=True),
        ),
        terminals=(
            Terminal("T0101", "D01"),
            Terminal("T0102", "D01"),
            Terminal("S01", "D01", "住民記録事務室", reservation_required=True),
            Terminal("T0801", "D08"),
            Terminal("T0201", "D02"),
        ),
        ledgers=(
            LedgerVersion("D01", D(2021, 4, 1), frozenset({"U1", "U2", "U3"})),
            LedgerVersion("D01", D(2022, 4, 1), frozenset({"U1", "U3"})),
            LedgerVersion("D08", D(2021, 4, 1), frozenset({"U8"})),
            LedgerVersion("D08", D(2022, 4, 1), frozenset({"U8", "U2"})),
            LedgerVersion("D02", D(2021, 4, 1), frozenset({"U20"})),
        ),
        applications=(
            UsageApplication("D01", "住民票", D(2021, 4, 1), D(2023, 3, 31)),
            UsageApplication("D08", "住民税", D(2021, 4, 1), D(2023, 3, 31)),
            UsageApplication("D08", "福祉資金", D(2021, 4, 1), D(2021, 9, 30)),
            UsageApplication("D02", "カード交付", D(2021, 4, 1), D(2023, 3, 31)),
        ),
        reservations=(Reservation("D08", "S01", T(2021, 6, 1, 13), T(2021, 6, 1, 15)),),
        business_records=GovernanceContext.records_frame(
            [BusinessRecord("D01", f"R{i}", D(2021, 6, 1)) for i in range(1, 50)]
            + [BusinessRecord("D08", f"R{i}", D(2021, 6, 1)) for i in range(1, 50)]
            + [BusinessRecord("D02", f"R{i}", D(2021, 6, 1)) for i in range(1, 50)]
        ),
        checklist=(
            ChecklistEntry("T0101", D(2021, 6, 1), True),
            ChecklistEntry("T0102", D(2021, 6, 1), True),
        ),
        watchlist=(WatchEntry("R900", "DV等支援措置対象者"),),
    )
    parts.update(overrides)
    return GovernanceContext(**parts)
