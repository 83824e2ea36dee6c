"""Departments with integrated terminals, and the terminals themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.imports import ImportResult
from kumin.errors import NotFound, ParameterError, Problem
from kumin.juki._common import (
    authorize_department,
    cells,
    check_rows,
    load_profile,
    optional,
    own_department,
    parse_bool,
    parse_time,
    required,
    text,
)
from kumin.juki.hours import DEFAULT_CLOSE, DEFAULT_OPEN
from kumin.juki.models import (
    IN_SERVICE,
    TERMINAL_STATES,
    JukiDepartment,
    JukiTerminal,
)

DEPARTMENT_COLUMNS = ("department", "name", "open", "close", "weekend_open")
TERMINAL_COLUMNS = ("terminal_id", "department", "location", "reservation_required")


def _duplicate(
    seen: dict[Any, int], key: Any, line: int, column: str, problems: list[Problem]
) -> bool:
    if key in seen:
        problems.append(
            Problem(line, column, "juki.import.duplicate", {"value": str(key), "first": seen[key]})
        )
        return True
    seen[key] = line
    return False


def _upsert(ctx: Ctx, model: type, key: str, rows: list[dict[str, Any]]) -> ImportResult:
    added = changed = 0
    for values in rows:
        obj = ctx.session.get(model, values[key])
        if obj is None:
            ctx.session.add(model(**values))
            added += 1
            continue
        diff = {k: v for k, v in values.items() if getattr(obj, k) != v}
        if diff:
            for k, v in diff.items():
                setattr(obj, k, v)
            obj.updated_at = utcnow()
            changed += 1
    ctx.session.flush()
    return ImportResult.counted(len(rows), added, changed)


# ----------------------------------------------------------------- departments


def import_departments(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``department,name,open,close,weekend_open[,holiday_open]`` (all or nothing)."""
    ctx.authorize("juki.manage")
    seen: dict[Any, int] = {}

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            department=lambda v: required(v, 32),
            name=required,
            open=optional(parse_time, DEFAULT_OPEN),
            close=optional(parse_time, DEFAULT_CLOSE),
            weekend_open=parse_bool,
            holiday_open=parse_bool,
        )
        if got is None or _duplicate(seen, got["department"], line, "department", problems):
            return None
        if got["close"] <= got["open"]:
            problems.append(
                Problem(
                    line,
                    "close",
                    "juki.import.close_before_open",
                    {
                        "open": got["open"].strftime("%H:%M"),
                        "close": got["close"].strftime("%H:%M"),
                    },
                )
            )
            return None
        got["code"] = got.pop("department")
        return got

    rows = check_rows(path, DEPARTMENT_COLUMNS, parse, profile=load_profile("departments"))
    result = _upsert(ctx, JukiDepartment, "code", rows)
    ctx.audit(
        "juki.departments_import", "juki:departments", file=Path(path).name, **result.counts()
    )
    return result


def department_dict(d: JukiDepartment) -> dict[str, Any]:
    return {
        "department": d.code,
        "name": d.name,
        "open": d.open.strftime("%H:%M"),
        "close": d.close.strftime("%H:%M"),
        "weekend_open": d.weekend_open,
        "holiday_open": d.holiday_open,
    }


def list_departments(ctx: Ctx) -> list[dict[str, Any]]:
    """Departments with their terminal counts; a terminal manager sees their own."""
    ctx.authorize("juki.read")
    own = own_department(ctx)
    q = select(JukiDepartment).order_by(JukiDepartment.code)
    if own is not None:
        q = q.where(JukiDepartment.code == own)
    counts: dict[str, int] = {}
    for dept in ctx.session.scalars(
        select(JukiTerminal.department).where(JukiTerminal.state != "retired")
    ):
        counts[dept] = counts.get(dept, 0) + 1
    return [
        department_dict(d) | {"terminals": counts.get(d.code, 0)} for d in ctx.session.scalars(q)
    ]


def get_department(ctx: Ctx, code: str) -> dict[str, Any]:
    authorize_department(ctx, "juki.read", code)
    d = ctx.session.get(JukiDepartment, code)
    if d is None:
        raise NotFound("juki.no_department", department=code)
    return department_dict(d)


def department_names(ctx: Ctx) -> dict[str, str]:
    """Code → name of every department (labels for pages; not personal)."""
    return {d.code: d.name for d in ctx.session.scalars(select(JukiDepartment))}


def require_department(ctx: Ctx, code: str) -> JukiDepartment:
    d = ctx.session.get(JukiDepartment, code)
    if d is None:
        raise NotFound("juki.no_department", department=code)
    return d


# ------------------------------------------------------------------- terminals


def import_terminals(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``terminal_id,department,location,reservation_required`` and optionally
    ``manager,assistant,state`` (all or nothing; departments must exist)."""
    ctx.authorize("juki.manage")
    known = set(ctx.session.scalars(select(JukiDepartment.code)))
    seen: dict[Any, int] = {}
    profile = load_profile("terminals", codes={"state": TERMINAL_STATES})

    def state(value: Any) -> str:  # 稼働中, 廃止, ... through the profile; empty: in service
        return profile.code("state", value) if text(value) else IN_SERVICE

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            terminal_id=lambda v: required(v, 32),
            department=lambda v: required(v, 32),
            location=text,
            reservation_required=parse_bool,
            manager=optional(lambda v: required(v, 32)),
            assistant=optional(lambda v: required(v, 32)),
            state=state,
        )
        if got is None or _duplicate(seen, got["terminal_id"], line, "terminal_id", problems):
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
        return got

    rows = check_rows(path, TERMINAL_COLUMNS, parse, profile=profile)
    result = _upsert(ctx, JukiTerminal, "terminal_id", rows)
    ctx.audit("juki.terminals_import", "juki:terminals", file=Path(path).name, **result.counts())
    return result


def terminal_dict(t: JukiTerminal) -> dict[str, Any]:
    return {
        "terminal_id": t.terminal_id,
        "department": t.department,
        "location": t.location,
        "reservation_required": t.reservation_required,
        "manager": t.manager or "",
        "assistant": t.assistant or "",
        "state": t.state,
    }


def list_terminals(
    ctx: Ctx, department: str | None = None, include_retired: bool = True
) -> list[dict[str, Any]]:
    """Terminals (a terminal manager: their department's and the shared ones)."""
    if department:
        authorize_department(ctx, "juki.read", department)
    else:
        ctx.authorize("juki.read")
    own = own_department(ctx)
    q = select(JukiTerminal).order_by(JukiTerminal.department, JukiTerminal.terminal_id)
    if department:
        q = q.where(JukiTerminal.department == department)
    elif own is not None:
        q = q.where((JukiTerminal.department == own) | JukiTerminal.reservation_required.is_(True))
    if not include_retired:
        q = q.where(JukiTerminal.state != "retired")
    return [terminal_dict(t) for t in ctx.session.scalars(q)]


def require_terminal(ctx: Ctx, terminal_id: str) -> JukiTerminal:
    t = ctx.session.get(JukiTerminal, terminal_id)
    if t is None:
        raise NotFound("juki.no_terminal", terminal=terminal_id)
    return t


def get_terminal(ctx: Ctx, terminal_id: str) -> dict[str, Any]:
    ctx.authorize("juki.read")
    t = require_terminal(ctx, terminal_id)
    if not t.reservation_required:
        authorize_department(ctx, "juki.read", t.department)
    return terminal_dict(t)


def set_terminal(
    ctx: Ctx,
    terminal_id: str,
    *,
    state: str | None = None,
    manager: str | None = None,
    assistant: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """Change a terminal's state, manager, assistant or location (its department's
    terminal manager, or a records officer)."""
    ctx.authorize("juki.department")
    t = require_terminal(ctx, terminal_id)
    authorize_department(ctx, "juki.department", t.department)
    if state is not None and state not in TERMINAL_STATES:
        raise ParameterError("juki.bad_state", value=state, allowed=", ".join(TERMINAL_STATES))
    changes = {
        k: v
        for k, v in (
            ("state", state),
            ("manager", manager),
            ("assistant", assistant),
            ("location", location),
        )
        if v is not None and getattr(t, k) != (v or None if k in ("manager", "assistant") else v)
    }
    for k, v in changes.items():
        setattr(t, k, (v or None) if k in ("manager", "assistant") else v)
    if changes:
        t.updated_at = utcnow()
        ctx.audit(
            "juki.terminals_update",
            f"terminal:{terminal_id}",
            fields=sorted(changes),
            state=t.state,
        )
    return terminal_dict(t)


def today() -> dt.date:
    """The ward's local date (terminals and checklists are kept in local time)."""
    return dt.datetime.now().date()
