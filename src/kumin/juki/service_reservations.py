"""Reservations of the shared terminals of the resident-records office.

Operators of other departments use the shared terminals only inside a booking of
their department, and a department books only while it holds an application the
resident-records division approved (利用申請・承認 → 予約 → 利用記録簿). Two
departments never hold the same terminal at once when booking here; the ward's
booking book, imported, keeps such overlaps with a warning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kumin.core import closures
from kumin.core.context import Ctx
from kumin.errors import NotFound, Problem, StateError
from kumin.juki._common import (
    authorize_department,
    cells,
    check_rows,
    own_department,
    parse_datetime,
    required,
)
from kumin.juki._common import (
    import_problem as _problem,
)
from kumin.juki.models import (
    APPROVED,
    JukiDepartment,
    JukiTerminal,
    Reservation,
    UsageApplication,
)
from kumin.juki.service_units import ImportResult, require_department

RESERVATION_COLUMNS = ("department", "terminal_id", "start", "end")


def reservation_dict(r: Reservation) -> dict[str, Any]:
    return {
        "id": r.id,
        "department": r.department,
        "terminal_id": r.terminal_id,
        "start": r.start,
        "end": r.end,
    }


def _clash(
    ctx: Ctx, terminal_id: str, department: str, start: dt.datetime, end: dt.datetime
) -> Reservation | None:
    """A reservation of another department overlapping [start, end)."""
    return ctx.session.scalar(
        select(Reservation)
        .where(
            Reservation.terminal_id == terminal_id,
            Reservation.department != department,
            Reservation.start < end,
            Reservation.end > start,
        )
        .limit(1)
    )


def _check_slot(
    ctx: Ctx,
    department: str,
    terminal_id: str,
    start: dt.datetime,
    end: dt.datetime,
    approvals: dict[str, list[tuple[dt.date, dt.date]]] | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """The problem with a reservation slot, as (message key, params), if any; a
    clash with another department's booking is checked by :func:`_clash`."""
    if end <= start:
        return "end_before_start", {"start": start.isoformat(" "), "end": end.isoformat(" ")}
    if end.date() != start.date() and end != dt.datetime.combine(
        start.date() + dt.timedelta(days=1), dt.time()
    ):
        return "not_same_day", {}
    term = ctx.session.get(JukiTerminal, terminal_id)
    if term is None:
        return "unknown_terminal", {"value": terminal_id}
    if not term.reservation_required:
        return "not_shared", {"value": terminal_id}
    if term.state == "retired":
        return "retired", {"value": terminal_id}
    if not _has_approval(ctx, department, start.date(), approvals):
        return "no_approved_application", {
            "department": department,
            "date": start.date().isoformat(),
        }
    return None


def _has_approval(
    ctx: Ctx,
    department: str,
    day: dt.date,
    cache: dict[str, list[tuple[dt.date, dt.date]]] | None = None,
) -> bool:
    """Whether ``department`` holds an application approved and valid on ``day``: a
    shared terminal is booked only for work the resident-records division approved.
    ``cache`` keeps each department's approved periods for an import's many rows."""
    cache = {} if cache is None else cache
    if department not in cache:
        cache[department] = list(
            ctx.session.execute(
                select(UsageApplication.valid_from, UsageApplication.valid_to).where(
                    UsageApplication.department == department,
                    UsageApplication.state == APPROVED,
                )
            ).all()
        )
    return any(a <= day <= b for a, b in cache[department])


def _clash_params(other: Reservation) -> dict[str, Any]:
    return {
        "department": other.department,
        "start": other.start.strftime("%Y-%m-%d %H:%M"),
        "end": other.end.strftime("%H:%M"),
    }


def import_reservations(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``department,terminal_id,start,end`` (all or nothing).

    The file is the ward's booking book: a shared terminal booked by two
    departments at overlapping times is kept, with a warning per line (booking
    through :func:`create_reservation` refuses it)."""
    ctx.authorize("juki.department")
    known = set(ctx.session.scalars(select(JukiDepartment.code)))
    own = own_department(ctx)
    booked: list[tuple[str, str, dt.datetime, dt.datetime, int]] = []
    closed = closures.closed_checker(ctx.session)
    approvals: dict[str, list[tuple[dt.date, dt.date]]] = {}

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            department=lambda v: required(v, 32),
            terminal_id=lambda v: required(v, 32),
            start=parse_datetime,
            end=parse_datetime,
        )
        if got is None:
            return None
        if got["department"] not in known:
            _problem(problems, line, "department", "unknown_department", value=got["department"])
            return None
        if own is not None and got["department"] != own:
            _problem(problems, line, "department", "not_own_department", value=got["department"])
            return None
        found = _check_slot(
            ctx, got["department"], got["terminal_id"], got["start"], got["end"], approvals
        )
        if found is not None:
            column = "terminal_id" if found[0] in ("unknown_terminal", "not_shared") else "start"
            _problem(problems, line, column, found[0], **found[1])
            return None
        if closed(got["start"]) is not None and not _booked(ctx, got):
            problems.append(Problem(line, "start", "closures.line_closed", closed(got["start"])))
            return None
        other = _clash(ctx, got["terminal_id"], got["department"], got["start"], got["end"])
        if other is not None:
            problems.append(
                Problem(line, "start", "juki.import.overlap", _clash_params(other), "warning")
            )
        for dept, term, s, e, first in booked:
            clash = s < got["end"] and e > got["start"]
            if term == got["terminal_id"] and dept != got["department"] and clash:
                problems.append(
                    Problem(
                        line,
                        "start",
                        "juki.import.overlap_in_file",
                        {"department": dept, "first": first},
                        "warning",
                    )
                )
                break
        booked.append((got["department"], got["terminal_id"], got["start"], got["end"], line))
        return got

    warnings: list[Problem] = []
    rows = check_rows(path, RESERVATION_COLUMNS, parse, warnings)
    existing = set()
    if rows:
        lo = min(r["start"] for r in rows)
        hi = max(r["end"] for r in rows)
        existing = set(
            map(
                tuple,
                ctx.session.execute(
                    select(
                        Reservation.department,
                        Reservation.terminal_id,
                        Reservation.start,
                        Reservation.end,
                    ).where(Reservation.start >= lo, Reservation.start <= hi)
                ).all(),
            )
        )
    new = []
    for r in rows:
        key = (r["department"], r["terminal_id"], r["start"], r["end"])
        if key in existing:
            continue
        existing.add(key)
        new.append(r | {"created_by": ctx.actor.name})
    _bulk(ctx, Reservation, new)
    result = ImportResult.counted(len(rows), len(new), 0, warnings)
    ctx.audit(
        "juki.reservations_import", "juki:reservations", file=Path(path).name, **result.counts()
    )
    return result


def _booked(ctx: Ctx, r: dict[str, Any]) -> bool:
    """The same booking is already stored (a re-import into a closed year changes nothing)."""
    return (
        ctx.session.scalar(
            select(Reservation.id).where(
                Reservation.department == r["department"],
                Reservation.terminal_id == r["terminal_id"],
                Reservation.start == r["start"],
                Reservation.end == r["end"],
            )
        )
        is not None
    )


def _bulk(ctx: Ctx, model: type, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    for i in range(0, len(rows), 5000):
        ctx.session.execute(insert(model.__table__), rows[i : i + 5000])


def create_reservation(
    ctx: Ctx, department: str, terminal_id: str, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """Reserve a shared terminal for a department."""
    authorize_department(ctx, "juki.department", department)
    require_department(ctx, department)
    closures.ensure_open(ctx.session, start)
    found = _check_slot(ctx, department, terminal_id, start, end)
    if found is not None:
        raise StateError(f"juki.import.{found[0]}", **found[1])
    other = _clash(ctx, terminal_id, department, start, end)
    if other is not None:
        raise StateError("juki.import.overlap", **_clash_params(other))
    r = Reservation(
        department=department,
        terminal_id=terminal_id,
        start=start,
        end=end,
        created_by=ctx.actor.name,
    )
    ctx.session.add(r)
    ctx.session.flush()
    ctx.audit("juki.reservations_create", f"reservation:{r.id}", department=department)
    return reservation_dict(r)


def cancel_reservation(ctx: Ctx, reservation_id: int) -> None:
    ctx.authorize("juki.department")
    r = ctx.session.get(Reservation, reservation_id)
    if r is None:
        raise NotFound("juki.no_reservation", id=reservation_id)
    authorize_department(ctx, "juki.department", r.department)
    closures.ensure_open(ctx.session, r.start)
    ctx.session.delete(r)
    ctx.audit("juki.reservations_cancel", f"reservation:{reservation_id}", department=r.department)


def list_reservations(
    ctx: Ctx,
    start: dt.date,
    end: dt.date,
    terminal_id: str | None = None,
    department: str | None = None,
) -> list[dict[str, Any]]:
    """Reservations starting on days in [start, end]. A terminal manager sees other
    departments' bookings as busy slots only (no department)."""
    if department:
        authorize_department(ctx, "juki.read", department)
    else:
        ctx.authorize("juki.read")
    own = own_department(ctx)
    q = (
        select(Reservation)
        .where(
            Reservation.start >= dt.datetime.combine(start, dt.time()),
            Reservation.start < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        )
        .order_by(Reservation.start, Reservation.terminal_id)
    )
    if terminal_id:
        q = q.where(Reservation.terminal_id == terminal_id)
    if department:
        q = q.where(Reservation.department == department)
    out = []
    for r in ctx.session.scalars(q):
        d = reservation_dict(r)
        if own is not None and r.department != own:
            d = d | {"id": None, "department": ""}
        out.append(d)
    return out
