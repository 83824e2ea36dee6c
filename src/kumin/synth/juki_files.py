"""The governance records of a synthetic ward as the files a ward would import.

:func:`write_governance_files` writes a :class:`~kumin.oplog.context.GovernanceContext`
(e.g. from :func:`kumin.synth.oplog.synth_oplog`) as the CSV files of the
``kumin juki ... import`` commands, so that the demo and the tests load the very
records the synthetic logs were generated against, through the same imports a
user runs. Operator names are made up from the operator id (no real person).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from kumin.core.tabular import atomic_write_bytes, csv_bytes
from kumin.oplog.context import GovernanceContext

_SURNAMES = "佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 清水"
_GIVEN = (
    "翔太 陽菜 大輝 美咲 拓海 結衣 健太 彩花 悠斗 真由 直樹 恵 和也 由美 亮 明美 誠 香織 隆 裕子"
)
ROLE_MANAGER, ROLE_ASSISTANT, ROLE_OPERATOR = "端末機管理責任者", "補助者", "操作者"


def fake_name(operator_id: str) -> str:
    """A made-up name, the same for the same id."""
    h = hashlib.sha256(operator_id.encode()).digest()
    sur, giv = _SURNAMES.split(), _GIVEN.split()
    return f"{sur[h[0] % len(sur)]} {giv[h[1] % len(giv)]}"


@dataclass
class GovernanceFiles:
    """Paths of the written files, in the order they must be imported."""

    departments: Path
    terminals: Path
    ledgers: list[tuple[str, dt.date, Path]] = field(default_factory=list)
    applications: Path | None = None
    reservations: Path | None = None
    usage: Path | None = None
    business_records: Path | None = None
    checklists: Path | None = None
    watchlist: Path | None = None


def _write(path: Path, header: list[str], rows) -> Path:
    atomic_write_bytes(path, csv_bytes(header, rows))
    return path


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _minute(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def managers(context: GovernanceContext) -> dict[str, tuple[str, str]]:
    """Department → (manager, assistant): the first two operators of its first ledger."""
    out: dict[str, tuple[str, str]] = {}
    for v in sorted(context.ledgers, key=lambda v: (v.department, v.effective)):
        if v.department not in out and len(v.operators) >= 2:
            ops = sorted(v.operators)
            out[v.department] = (ops[0], ops[1])
    return out


def write_governance_files(context: GovernanceContext, folder: str | Path) -> GovernanceFiles:
    """Write every table of ``context`` as an import file under ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = GovernanceFiles(
        departments=_write(
            folder / "departments.csv",
            ["department", "name", "open", "close", "weekend_open", "holiday_open"],
            (
                (
                    d.code,
                    d.name,
                    d.open.strftime("%H:%M"),
                    d.close.strftime("%H:%M"),
                    _yes(d.weekend_open),
                    _yes(d.holiday_open),
                )
                for d in context.departments
            ),
        ),
        terminals=folder / "terminals.csv",
    )
    heads = managers(context)
    _write(
        files.terminals,
        [
            "terminal_id",
            "department",
            "location",
            "reservation_required",
            "manager",
            "assistant",
        ],
        (
            (
                t.terminal_id,
                t.department,
                t.location,
                _yes(t.reservation_required),
                *heads.get(t.department, ("", "")),
            )
            for t in context.terminals
        ),
    )
    for v in sorted(context.ledgers, key=lambda v: (v.effective, v.department)):
        manager, assistant = heads.get(v.department, ("", ""))
        role = {manager: ROLE_MANAGER, assistant: ROLE_ASSISTANT}
        path = folder / f"ledger_{v.department}_{v.effective.isoformat()}.csv"
        _write(
            path,
            ["operator_id", "name", "role"],
            ((op, fake_name(op), role.get(op, ROLE_OPERATOR)) for op in sorted(v.operators)),
        )
        files.ledgers.append((v.department, v.effective, path))
    files.applications = _write(
        folder / "applications.csv",
        ["department", "function", "valid_from", "valid_to"],
        (
            (a.department, a.function, a.valid_from.isoformat(), a.valid_to.isoformat())
            for a in context.applications
        ),
    )
    files.reservations = _write(
        folder / "reservations.csv",
        ["department", "terminal_id", "start", "end"],
        (
            (r.department, r.terminal_id, _minute(r.start), _minute(r.end))
            for r in context.reservations
        ),
    )
    files.usage = _write(
        folder / "usage.csv",
        ["department", "terminal_id", "operator_id", "start", "end", "function", "inquiries"],
        (
            (
                u.department,
                u.terminal_id,
                u.operator_id,
                _minute(u.start),
                _minute(u.end),
                u.function,
                u.inquiries,
            )
            for u in context.usage_records
        ),
    )
    records = context.business_records.unique(maintain_order=True)
    files.business_records = _write(
        folder / "business_records.csv",
        ["department", "subject", "date"],
        ((d, s, day.isoformat()) for d, s, day in records.iter_rows()),
    )
    files.checklists = _write(
        folder / "checklists.csv",
        ["terminal_id", "date", "secured"],
        ((c.terminal_id, c.date.isoformat(), _yes(c.secured)) for c in context.checklist),
    )
    files.watchlist = _write(
        folder / "watchlist.csv",
        ["subject", "reason"],
        ((w.subject, w.reason) for w in context.watchlist),
    )
    return files
