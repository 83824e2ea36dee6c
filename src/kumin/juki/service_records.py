"""Business records and the watch list: the two inputs of the operation-log
analysis that hold resident references (encrypted, with a blind index)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from kumin.core.context import Ctx
from kumin.errors import NotFound, Problem
from kumin.juki._common import authorize_department, cells, check_rows, parse_date, required
from kumin.juki.models import DATASET, BusinessRecord, JukiDepartment, WatchEntry
from kumin.juki.service_units import ImportResult

RECORD_COLUMNS = ("department", "subject", "date")
WATCH_COLUMNS = ("subject", "reason")
BATCH = 5000


def import_business_records(ctx: Ctx, path: str | Path, progress: Any = None) -> ImportResult:
    """Import ``department,subject,date``: business records (applications, case files)
    that explain lookups of a resident. All or nothing; re-importing changes nothing."""
    ctx.authorize("juki.department")
    known = set(ctx.session.scalars(select(JukiDepartment.code)))

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> tuple | None:
        # the common case of a large file, checked without the general cell parser
        dept, subject, day = row.get("department"), row.get("subject"), row.get("date")
        if (
            dept in known
            and isinstance(subject, str)
            and 0 < len(subject.strip()) <= 64
            and isinstance(day, str)
            and len(day) == 10
            and day[4] == "-"
        ):
            try:
                return dept, subject.strip(), dt.date.fromisoformat(day)
            except ValueError:
                pass
        got = cells(
            line,
            row,
            problems,
            department=lambda v: required(v, 32),
            subject=lambda v: required(v, 64),
            date=parse_date,
        )
        if got is None:
            return None
        if got["department"] not in known:
            problems.append(
                Problem(
                    line,
                    "department",
                    "juki.import.unknown_department",
                    {"value": got["department"]},
                )
            )
            return None
        return got["department"], got["subject"], got["date"]

    rows = check_rows(path, RECORD_COLUMNS, parse)
    for dept in sorted({r[0] for r in rows}):
        authorize_department(ctx, "juki.department", dept)
    lo, hi = min(r[2] for r in rows), max(r[2] for r in rows)
    existing = set(
        map(
            tuple,
            ctx.session.execute(
                select(
                    BusinessRecord.department, BusinessRecord.subject_index, BusinessRecord.date
                ).where(BusinessRecord.date >= lo, BusinessRecord.date <= hi)
            ).all(),
        )
    )
    new: list[dict[str, Any]] = []
    index = _indexer(ctx)
    for dept, subject, day in rows:
        key = (dept, index(subject), day)
        if key in existing:
            continue
        existing.add(key)
        new.append(
            {
                "department": dept,
                "subject_index": key[1],
                "subject": ctx.keyring.encrypt(DATASET, subject),
                "date": day,
            }
        )
    for i in range(0, len(new), BATCH):
        ctx.session.execute(insert(BusinessRecord.__table__), new[i : i + BATCH])
        if progress is not None:
            progress(min(i + BATCH, len(new)), len(new))
    result = ImportResult.counted(len(rows), len(new), 0)
    ctx.audit(
        "juki.records_import", "juki:business_records", file=Path(path).name, **result.counts()
    )
    return result


def _indexer(ctx: Ctx):
    """Blind index with a cache (residents recur across records)."""
    cache: dict[str, str] = {}

    def index(value: str) -> str:
        found = cache.get(value)
        if found is None:
            found = cache[value] = ctx.keyring.index(DATASET, value)
        return found

    return index


def count_business_records(
    ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Business records per department (counts only; no resident is shown)."""
    ctx.authorize("juki.read")
    from sqlalchemy import func

    from kumin.juki._common import own_department

    q = select(BusinessRecord.department, func.count()).group_by(BusinessRecord.department)
    if start:
        q = q.where(BusinessRecord.date >= start)
    if end:
        q = q.where(BusinessRecord.date <= end)
    own = own_department(ctx)
    if own is not None:
        q = q.where(BusinessRecord.department == own)
    return [
        {"department": d, "records": n} for d, n in ctx.session.execute(q.order_by("department"))
    ]


# ------------------------------------------------------------------ watch list


def import_watchlist(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``subject,reason``: residents whose every lookup is reviewed (public
    figures, staff themselves, DV-protected residents). New subjects are added,
    known ones get the file's reason; nothing is removed (see :func:`remove_watch`)."""
    ctx.authorize("juki.manage")
    seen: dict[str, int] = {}

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> tuple | None:
        got = cells(
            line,
            row,
            problems,
            subject=lambda v: required(v, 64),
            reason=lambda v: required(v, 100),
        )
        if got is None:
            return None
        if got["subject"] in seen:
            # the subject is a resident reference: name the first line, not the value
            problems.append(
                Problem(
                    line,
                    "subject",
                    "juki.import.duplicate_subject",
                    {"first": seen[got["subject"]]},
                )
            )
            return None
        seen[got["subject"]] = line
        return got["subject"], got["reason"]

    rows = check_rows(path, WATCH_COLUMNS, parse)
    by_index = {w.subject_index: w for w in ctx.session.scalars(select(WatchEntry))}
    added = changed = 0
    for subject, reason in rows:
        idx = ctx.keyring.index(DATASET, subject)
        entry = by_index.get(idx)
        if entry is None:
            ctx.session.add(
                WatchEntry(
                    subject_index=idx,
                    subject=ctx.keyring.encrypt(DATASET, subject),
                    reason=reason,
                    added_by=ctx.actor.name,
                )
            )
            added += 1
        elif entry.reason != reason:
            entry.reason = reason
            changed += 1
    ctx.session.flush()
    result = ImportResult.counted(len(rows), added, changed)
    ctx.audit("juki.watchlist_import", "juki:watchlist", file=Path(path).name, **result.counts())
    return result


def list_watchlist(ctx: Ctx, reveal: bool = False) -> list[dict[str, Any]]:
    """The watch list: reasons and ids; ``reveal`` decrypts the subjects (audited)."""
    ctx.authorize("juki.manage")
    entries = list(ctx.session.scalars(select(WatchEntry).order_by(WatchEntry.id)))
    out = []
    for w in entries:
        row = {"id": w.id, "reason": w.reason, "added_by": w.added_by, "added_at": w.added_at}
        if reveal:
            row["subject"] = ctx.keyring.decrypt(DATASET, w.subject)
        out.append(row)
    if reveal:
        ctx.audit("juki.watchlist_read", "juki:watchlist", purpose="watch list", count=len(out))
    return out


def remove_watch(ctx: Ctx, subject: str) -> None:
    ctx.authorize("juki.manage")
    idx = ctx.keyring.index(DATASET, subject.strip())
    entry = ctx.session.scalar(select(WatchEntry).where(WatchEntry.subject_index == idx))
    if entry is None:
        raise NotFound("juki.not_watched")
    ctx.session.execute(delete(WatchEntry).where(WatchEntry.id == entry.id))
    ctx.audit("juki.watchlist_remove", f"watch:{entry.id}")
