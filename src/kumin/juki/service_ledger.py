"""The versioned operator ledger (操作者管理台帳).

A department submits its whole ledger at every personnel transfer: everyone
authorised from the effective date. The ledger in force on a day is the newest
version not after it; comparing consecutive versions shows who was added and who
was removed at each transfer. Operator names are encrypted; ids are plain.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from kumin.core import closures
from kumin.core.context import Ctx
from kumin.errors import NotFound, Problem
from kumin.juki._common import (
    authorize_department,
    cells,
    check_rows,
    own_department,
    required,
    text,
)
from kumin.juki.models import APPROVED, DATASET, LedgerEntry, LedgerVersion, UsageApplication
from kumin.juki.service_units import require_department

LEDGER_COLUMNS = ("operator_id", "name", "role")


def import_ledger(
    ctx: Ctx, department: str, effective: dt.date, path: str | Path
) -> dict[str, Any]:
    """Import ``operator_id,name,role``: everyone authorised in ``department`` from
    ``effective``. Re-importing the same file changes nothing; a different file for
    the same date replaces that version (audited as a correction).
    """
    authorize_department(ctx, "juki.department", department)
    require_department(ctx, department)
    seen: dict[str, int] = {}

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            operator_id=lambda v: required(v, 32),
            name=required,
            role=lambda v: text(v)[:64],
        )
        if got is None:
            return None
        if got["operator_id"] in seen:
            problems.append(
                Problem(
                    line,
                    "operator_id",
                    "juki.import.duplicate",
                    {"value": got["operator_id"], "first": seen[got["operator_id"]]},
                )
            )
            return None
        seen[got["operator_id"]] = line
        return got

    rows = check_rows(path, LEDGER_COLUMNS, parse)
    version = ctx.session.scalar(
        select(LedgerVersion).where(
            LedgerVersion.department == department, LedgerVersion.effective == effective
        )
    )
    outcome = "added"
    if version is not None:
        old = {
            e.operator_id: (ctx.keyring.decrypt(DATASET, e.name), e.role)
            for e in ctx.session.scalars(
                select(LedgerEntry).where(LedgerEntry.version_id == version.id)
            )
        }
        new = {r["operator_id"]: (r["name"], r["role"]) for r in rows}
        if old == new:
            return _summary(ctx, version, "unchanged", len(rows))
    # a version effective inside a closed year changes who was authorised then
    closures.ensure_open(ctx.session, effective)
    if version is not None:
        ctx.session.execute(delete(LedgerEntry).where(LedgerEntry.version_id == version.id))
        version.imported_by = ctx.actor.name
        outcome = "replaced"
    else:
        version = LedgerVersion(
            department=department, effective=effective, imported_by=ctx.actor.name
        )
        ctx.session.add(version)
        ctx.session.flush()
    ctx.session.add_all(
        LedgerEntry(
            version_id=version.id,
            operator_id=r["operator_id"],
            name=ctx.keyring.encrypt(DATASET, r["name"]),
            role=r["role"],
        )
        for r in rows
    )
    ctx.session.flush()
    summary = _summary(ctx, version, outcome, len(rows))
    ctx.audit(
        "juki.ledger_import",
        f"ledger:{version.id}",
        department=department,
        effective=effective.isoformat(),
        outcome_kind=outcome,
        operators=len(rows),
        added=len(summary["added"]),
        removed=len(summary["removed"]),
    )
    return summary


def _summary(ctx: Ctx, version: LedgerVersion, outcome: str, n: int) -> dict[str, Any]:
    diffs = {v["id"]: v for v in _versions(ctx, version.department)}
    d = diffs[version.id]
    covered = ctx.session.scalar(
        select(UsageApplication.id).where(
            UsageApplication.department == version.department,
            UsageApplication.state == APPROVED,
            UsageApplication.valid_from <= version.effective,
            UsageApplication.valid_to >= version.effective,
        )
    )
    return {
        "department": version.department,
        "effective": version.effective,
        "outcome": outcome,
        "operators": n,
        "added": d["added"],
        "removed": d["removed"],
        "approved_application": covered is not None,
    }


def _versions(ctx: Ctx, department: str) -> list[dict[str, Any]]:
    versions = list(
        ctx.session.scalars(
            select(LedgerVersion)
            .where(LedgerVersion.department == department)
            .order_by(LedgerVersion.effective)
        )
    )
    members: dict[int, set[str]] = {v.id: set() for v in versions}
    if versions:
        for vid, op in ctx.session.execute(
            select(LedgerEntry.version_id, LedgerEntry.operator_id).where(
                LedgerEntry.version_id.in_(list(members))
            )
        ):
            members[vid].add(op)
    out, previous = [], set()
    for v in versions:
        ops = members[v.id]
        out.append(
            {
                "id": v.id,
                "department": v.department,
                "effective": v.effective,
                "operators": len(ops),
                "added": sorted(ops - previous),
                "removed": sorted(previous - ops),
                "imported_by": v.imported_by,
                "imported_at": v.imported_at,
            }
        )
        previous = ops
    return out


def ledger_versions(ctx: Ctx, department: str) -> list[dict[str, Any]]:
    """Every version of a department's ledger with who was added and removed."""
    authorize_department(ctx, "juki.read", department)
    require_department(ctx, department)
    return _versions(ctx, department)


def ledger_in_force(
    ctx: Ctx, department: str, on: dt.date, *, with_names: bool = False
) -> dict[str, Any]:
    """The ledger version in force on ``on`` (newest not after it) and its operators.

    ``with_names`` decrypts the operators' names (audited as a read of personal data).
    """
    authorize_department(ctx, "juki.read", department)
    require_department(ctx, department)
    version = ctx.session.scalar(
        select(LedgerVersion)
        .where(LedgerVersion.department == department, LedgerVersion.effective <= on)
        .order_by(LedgerVersion.effective.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound("juki.no_ledger", department=department, date=on.isoformat())
    entries = list(
        ctx.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.version_id == version.id)
            .order_by(LedgerEntry.operator_id)
        )
    )
    operators = []
    for e in entries:
        row = {"operator_id": e.operator_id, "role": e.role}
        if with_names:
            row["name"] = ctx.keyring.decrypt(DATASET, e.name)
        operators.append(row)
    if with_names:
        ctx.audit(
            "juki.ledger_read",
            f"ledger:{version.id}",
            purpose="operator ledger",
            count=len(entries),
        )
    return {
        "id": version.id,
        "department": department,
        "effective": version.effective,
        "on": on,
        "operators": operators,
    }


def operator_department(ctx: Ctx, operator_id: str, on: dt.date) -> list[str]:
    """The departments whose ledger in force on ``on`` lists ``operator_id``."""
    ctx.authorize("juki.read")
    out = []
    for (dept,) in ctx.session.execute(select(LedgerVersion.department).distinct()):
        version_id = ctx.session.scalar(
            select(LedgerVersion.id)
            .where(LedgerVersion.department == dept, LedgerVersion.effective <= on)
            .order_by(LedgerVersion.effective.desc())
            .limit(1)
        )
        if version_id is not None and ctx.session.scalar(
            select(LedgerEntry.id).where(
                LedgerEntry.version_id == version_id, LedgerEntry.operator_id == operator_id
            )
        ):
            out.append(dept)
    own = own_department(ctx)
    return [d for d in sorted(out) if own is None or d == own]


def operator_rights(ctx: Ctx, department: str, on: dt.date) -> dict[str, Any]:
    """Who may use which My Number function in ``department`` on ``on``: the ledger in
    force times the approved applications valid that day (none without one)."""
    authorize_department(ctx, "juki.read", department)
    try:
        ledger = ledger_in_force(ctx, department, on)
        operators = [o["operator_id"] for o in ledger["operators"]]
    except NotFound:
        operators = []
    functions = sorted(
        set(
            ctx.session.scalars(
                select(UsageApplication.function).where(
                    UsageApplication.department == department,
                    UsageApplication.state == APPROVED,
                    UsageApplication.valid_from <= on,
                    UsageApplication.valid_to >= on,
                )
            )
        )
    )
    return {
        "department": department,
        "on": on,
        "operators": operators if functions else [],
        "functions": functions,
    }
