"""Usage applications for My Number functions, reservations of the shared
terminals and the usage records filled after use (report section 4).

A department that needs Juki-net for a My Number function applies to the
resident-records division, which reviews and approves it; its operators have
rights for that function only while an approved application is valid. Operators
of other departments use the shared terminals of the resident-records office only
inside a reservation of their department, and fill a usage record afterwards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kumin.core import closures
from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.errors import NotFound, Problem, StateError
from kumin.juki._common import (
    authorize_department,
    cells,
    check_rows,
    optional,
    own_department,
    parse_count,
    parse_date,
    parse_datetime,
    required,
    text,
)
from kumin.juki._common import (
    import_problem as _problem,
)
from kumin.juki.models import (
    APPROVED,
    REJECTED,
    SUBMITTED,
    WITHDRAWN,
    JukiDepartment,
    JukiTerminal,
    LedgerEntry,
    LedgerVersion,
    Reservation,
    UsageApplication,
    UsageRecord,
)
from kumin.juki.service_reservations import (  # noqa: F401 - re-exported for kumin.juki.service
    RESERVATION_COLUMNS,
    _bulk,
    cancel_reservation,
    create_reservation,
    import_reservations,
    list_reservations,
    reservation_dict,
)
from kumin.juki.service_units import ImportResult, require_department

APPLICATION_COLUMNS = ("department", "function", "valid_from", "valid_to")
USAGE_COLUMNS = (
    "department",
    "terminal_id",
    "operator_id",
    "start",
    "end",
    "function",
    "inquiries",
)


# ---------------------------------------------------------------- applications


def application_dict(a: UsageApplication) -> dict[str, Any]:
    return {
        "id": a.id,
        "department": a.department,
        "function": a.function,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "state": a.state,
        "purpose": a.purpose,
        "submitted_by": a.submitted_by,
        "reviewed_by": a.reviewed_by or "",
        "review_note": a.review_note,
    }


def _approved_exists(ctx: Ctx, r: dict[str, Any]) -> bool:
    return (
        ctx.session.scalar(
            select(UsageApplication.id).where(
                UsageApplication.department == r["department"],
                UsageApplication.function == r["function"],
                UsageApplication.valid_from == r["valid_from"],
                UsageApplication.valid_to == r["valid_to"],
                UsageApplication.state == APPROVED,
            )
        )
        is not None
    )


def import_applications(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``department,function,valid_from,valid_to[,purpose]`` as applications
    approved by the importing officer (the resident-records division); all or nothing."""
    ctx.authorize("juki.manage")
    known = set(ctx.session.scalars(select(JukiDepartment.code)))
    seen: dict[tuple, int] = {}

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            department=lambda v: required(v, 32),
            function=lambda v: required(v, 100),
            valid_from=parse_date,
            valid_to=parse_date,
            purpose=text,
        )
        if got is None:
            return None
        if got["department"] not in known:
            _problem(problems, line, "department", "unknown_department", value=got["department"])
            return None
        if got["valid_to"] < got["valid_from"]:
            _problem(
                problems,
                line,
                "valid_to",
                "to_before_from",
                start=got["valid_from"].isoformat(),
                end=got["valid_to"].isoformat(),
            )
            return None
        key = (got["department"], got["function"], got["valid_from"], got["valid_to"])
        if key in seen:
            _problem(
                problems, line, "function", "duplicate", value=got["function"], first=seen[key]
            )
            return None
        seen[key] = line
        if closed(got["valid_from"]) is not None and not _approved_exists(ctx, got):
            problems.append(
                Problem(line, "valid_from", "closures.line_closed", closed(got["valid_from"]))
            )
            return None
        return got

    closed = closures.closed_checker(ctx.session)
    rows = check_rows(path, APPLICATION_COLUMNS, parse)
    added = 0
    now = utcnow()
    for r in rows:
        if _approved_exists(ctx, r):
            continue
        ctx.session.add(
            UsageApplication(
                **r,
                state=APPROVED,
                submitted_by=ctx.actor.name,
                submitted_at=now,
                reviewed_by=ctx.actor.name,
                reviewed_at=now,
                review_note="imported",
            )
        )
        added += 1
    ctx.session.flush()
    result = ImportResult.counted(len(rows), added, 0)
    ctx.audit(
        "juki.applications_import",
        "juki:applications",
        file=Path(path).name,
        approved_by=ctx.actor.name,
        **result.counts(),
    )
    return result


def submit_application(
    ctx: Ctx,
    department: str,
    function: str,
    valid_from: dt.date,
    valid_to: dt.date,
    purpose: str = "",
) -> dict[str, Any]:
    """A department applies to use ``function`` (reviewed by the resident-records division)."""
    authorize_department(ctx, "juki.department", department)
    require_department(ctx, department)
    function = function.strip()
    if not function:
        raise StateError("juki.import.required")
    if valid_to < valid_from:
        raise StateError(
            "juki.import.to_before_from", start=valid_from.isoformat(), end=valid_to.isoformat()
        )
    closures.ensure_open(ctx.session, valid_from)
    a = UsageApplication(
        department=department,
        function=function,
        valid_from=valid_from,
        valid_to=valid_to,
        purpose=purpose.strip(),
        state=SUBMITTED,
        submitted_by=ctx.actor.name,
    )
    ctx.session.add(a)
    ctx.session.flush()
    ctx.audit("juki.applications_submit", f"application:{a.id}", department=department)
    return application_dict(a)


def _application(ctx: Ctx, application_id: int) -> UsageApplication:
    a = ctx.session.get(UsageApplication, application_id)
    if a is None:
        raise NotFound("juki.no_application", id=application_id)
    return a


def review_application(
    ctx: Ctx, application_id: int, approve: bool, note: str = ""
) -> dict[str, Any]:
    """Approve or reject a submitted application. Nobody reviews their own submission."""
    ctx.authorize("juki.manage")
    a = _application(ctx, application_id)
    if a.state != SUBMITTED:
        raise StateError("juki.application_not_pending", id=a.id, state=a.state)
    if a.submitted_by == ctx.actor.name:
        raise StateError("juki.self_review", id=a.id)
    if approve:  # an approval would grant rights inside a closed year
        closures.ensure_open(ctx.session, a.valid_from)
    a.state = APPROVED if approve else REJECTED
    a.reviewed_by = ctx.actor.name
    a.reviewed_at = utcnow()
    a.review_note = note.strip()
    ctx.audit(
        "juki.applications_review",
        f"application:{a.id}",
        department=a.department,
        decision=a.state,
    )
    return application_dict(a)


def end_application(ctx: Ctx, application_id: int, on: dt.date) -> dict[str, Any]:
    """End an approved application on ``on`` (operator rights end with it), or
    withdraw one still pending."""
    ctx.authorize("juki.manage")
    a = _application(ctx, application_id)
    closures.ensure_open(ctx.session, on)
    if a.state == SUBMITTED:
        a.state = WITHDRAWN
    elif a.state == APPROVED:
        if on < a.valid_from:
            raise StateError(
                "juki.import.to_before_from", start=a.valid_from.isoformat(), end=on.isoformat()
            )
        a.valid_to = min(a.valid_to, on)
    else:
        raise StateError("juki.application_not_pending", id=a.id, state=a.state)
    ctx.audit(
        "juki.applications_end",
        f"application:{a.id}",
        state=a.state,
        valid_to=a.valid_to.isoformat(),
    )
    return application_dict(a)


def list_applications(
    ctx: Ctx, department: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    if department:
        authorize_department(ctx, "juki.read", department)
    else:
        ctx.authorize("juki.read")
    department = department or own_department(ctx)
    q = select(UsageApplication).order_by(
        UsageApplication.department, UsageApplication.function, UsageApplication.valid_from
    )
    if department:
        q = q.where(UsageApplication.department == department)
    if state:
        q = q.where(UsageApplication.state == state)
    return [application_dict(a) for a in ctx.session.scalars(q)]


# --------------------------------------------------------------- usage records


def usage_dict(u: UsageRecord) -> dict[str, Any]:
    return {
        "id": u.id,
        "department": u.department,
        "terminal_id": u.terminal_id,
        "operator_id": u.operator_id,
        "start": u.start,
        "end": u.end,
        "function": u.function,
        "inquiries": u.inquiries,
        "recorded_by": u.recorded_by,
    }


class _UsageChecker:
    """The checks of a usage record, against records loaded once per department
    (an import of a year's usage records asks the same questions thousands of times)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.terminals = {t.terminal_id: t for t in ctx.session.scalars(select(JukiTerminal))}
        self._ledgers: dict[str, list[tuple[dt.date, set[str]]]] = {}
        self._apps: dict[str, list[tuple[str, dt.date, dt.date]]] = {}
        self._reserved: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime]]] = {}

    def listed(self, department: str, operator_id: str, day: dt.date) -> bool:
        if department not in self._ledgers:
            versions = list(
                self.ctx.session.execute(
                    select(LedgerVersion.id, LedgerVersion.effective)
                    .where(LedgerVersion.department == department)
                    .order_by(LedgerVersion.effective)
                )
            )
            members: dict[int, set[str]] = {vid: set() for vid, _ in versions}
            if members:
                for vid, op in self.ctx.session.execute(
                    select(LedgerEntry.version_id, LedgerEntry.operator_id).where(
                        LedgerEntry.version_id.in_(list(members))
                    )
                ):
                    members[vid].add(op)
            self._ledgers[department] = [(eff, members[vid]) for vid, eff in versions]
        in_force = [ops for eff, ops in self._ledgers[department] if eff <= day]
        return bool(in_force) and operator_id in in_force[-1]

    def approved(self, department: str, function: str, day: dt.date) -> bool:
        if department not in self._apps:
            self._apps[department] = list(
                self.ctx.session.execute(
                    select(
                        UsageApplication.function,
                        UsageApplication.valid_from,
                        UsageApplication.valid_to,
                    ).where(
                        UsageApplication.department == department,
                        UsageApplication.state == APPROVED,
                    )
                ).all()
            )
        return any(f == function and a <= day <= b for f, a, b in self._apps[department])

    def reserved(
        self, department: str, terminal_id: str, start: dt.datetime, end: dt.datetime
    ) -> bool:
        key = (department, terminal_id)
        if key not in self._reserved:
            self._reserved[key] = list(
                self.ctx.session.execute(
                    select(Reservation.start, Reservation.end).where(
                        Reservation.terminal_id == terminal_id,
                        Reservation.department == department,
                    )
                ).all()
            )
        return any(a <= start and end <= b for a, b in self._reserved[key])

    def problem(self, r: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """(column, key, params) of what makes a usage record impossible, if anything."""
        if r["end"] <= r["start"]:
            times = {"start": r["start"].isoformat(" "), "end": r["end"].isoformat(" ")}
            return "end", "end_before_start", times
        term = self.terminals.get(r["terminal_id"])
        if term is None:
            return "terminal_id", "unknown_terminal", {"value": r["terminal_id"]}
        day = r["start"].date()
        where = {"department": r["department"], "date": day.isoformat()}
        if not self.listed(r["department"], r["operator_id"], day):
            return "operator_id", "not_in_ledger", {"value": r["operator_id"], **where}
        if not self.approved(r["department"], r["function"], day):
            return "function", "not_approved", {"value": r["function"], **where}
        if term.department != r["department"]:
            if not term.reservation_required:
                return "terminal_id", "other_department", {"value": r["terminal_id"]}
            if not self.reserved(r["department"], r["terminal_id"], r["start"], r["end"]):
                params = {"value": r["terminal_id"], "department": r["department"]}
                return "start", "no_reservation", params
        return None


def record_usage(
    ctx: Ctx,
    department: str,
    terminal_id: str,
    operator_id: str,
    start: dt.datetime,
    end: dt.datetime,
    function: str,
    inquiries: int,
) -> dict[str, Any]:
    """Fill the usage record after using a terminal: the operator must be in the
    department's ledger in force, the function approved, a shared terminal reserved."""
    authorize_department(ctx, "juki.department", department)
    require_department(ctx, department)
    if inquiries < 0:
        raise StateError("juki.import.bad_count", value=str(inquiries))
    closures.ensure_not_future(end, dt.datetime.now())
    closures.ensure_open(ctx.session, start)
    row = {
        "department": department,
        "terminal_id": terminal_id,
        "operator_id": operator_id.strip(),
        "start": start,
        "end": end,
        "function": function.strip(),
        "inquiries": inquiries,
    }
    found = _UsageChecker(ctx).problem(row)
    if found is not None:
        raise StateError(f"juki.import.{found[1]}", **found[2])
    u = UsageRecord(**row, recorded_by=ctx.actor.name)
    ctx.session.add(u)
    ctx.session.flush()
    ctx.audit("juki.usage_record", f"usage:{u.id}", department=department, inquiries=inquiries)
    return usage_dict(u)


def _used(ctx: Ctx, r: dict[str, Any]) -> bool:
    """The same usage record is already stored (re-importing it changes nothing)."""
    return (
        ctx.session.scalar(
            select(UsageRecord.id).where(
                UsageRecord.department == r["department"],
                UsageRecord.terminal_id == r["terminal_id"],
                UsageRecord.operator_id == r["operator_id"],
                UsageRecord.start == r["start"],
            )
        )
        is not None
    )


def import_usage(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import usage records ``department,terminal_id,operator_id,start,end,function,
    inquiries`` (all or nothing; the same checks as :func:`record_usage`)."""
    ctx.authorize("juki.department")
    known = set(ctx.session.scalars(select(JukiDepartment.code)))
    own = own_department(ctx)
    checker = _UsageChecker(ctx)

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            department=lambda v: required(v, 32),
            terminal_id=lambda v: required(v, 32),
            operator_id=lambda v: required(v, 32),
            start=parse_datetime,
            end=parse_datetime,
            function=lambda v: required(v, 100),
            inquiries=optional(parse_count, 0),
        )
        if got is None:
            return None
        if got["department"] not in known:
            _problem(problems, line, "department", "unknown_department", value=got["department"])
            return None
        if own is not None and got["department"] != own:
            _problem(problems, line, "department", "not_own_department", value=got["department"])
            return None
        found = checker.problem(got)
        if found is not None:
            _problem(problems, line, found[0], found[1], **found[2])
            return None
        if closed(got["start"]) is not None and not _used(ctx, got):
            problems.append(Problem(line, "start", "closures.line_closed", closed(got["start"])))
            return None
        return got

    closed = closures.closed_checker(ctx.session)
    rows = check_rows(path, USAGE_COLUMNS, parse)
    lo = min(r["start"] for r in rows)
    hi = max(r["start"] for r in rows)
    existing = set(
        map(
            tuple,
            ctx.session.execute(
                select(
                    UsageRecord.department,
                    UsageRecord.terminal_id,
                    UsageRecord.operator_id,
                    UsageRecord.start,
                ).where(UsageRecord.start >= lo, UsageRecord.start <= hi)
            ).all(),
        )
    )
    new = []
    for r in rows:
        key = (r["department"], r["terminal_id"], r["operator_id"], r["start"])
        if key not in existing:
            existing.add(key)
            new.append(r | {"recorded_by": ctx.actor.name})
    _bulk(ctx, UsageRecord, new)
    result = ImportResult.counted(len(rows), len(new), 0)
    ctx.audit("juki.usage_import", "juki:usage", file=Path(path).name, **result.counts())
    return result


def list_usage(
    ctx: Ctx,
    start: dt.date,
    end: dt.date,
    department: str | None = None,
    terminal_id: str | None = None,
) -> list[dict[str, Any]]:
    if department:
        authorize_department(ctx, "juki.read", department)
    else:
        ctx.authorize("juki.read")
    department = department or own_department(ctx)
    q = (
        select(UsageRecord)
        .where(
            UsageRecord.start >= dt.datetime.combine(start, dt.time()),
            UsageRecord.start < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        )
        .order_by(UsageRecord.start)
    )
    if department:
        q = q.where(UsageRecord.department == department)
    if terminal_id:
        q = q.where(UsageRecord.terminal_id == terminal_id)
    return [usage_dict(u) for u in ctx.session.scalars(q)]


def latest_day(ctx: Ctx, kind: str, on_or_before: dt.date) -> dt.date | None:
    """The last day up to ``on_or_before`` with a reservation (``kind="reservations"``)
    or a usage record (``"usage"``): where the pages open when the current week or
    month has none, e.g. the demo ward's FY2021 (#14)."""
    ctx.authorize("juki.read")
    model = {"reservations": Reservation, "usage": UsageRecord}[kind]
    limit = dt.datetime.combine(on_or_before, dt.time.max)
    latest = ctx.session.scalar(select(func.max(model.start)).where(model.start <= limit))
    return latest.date() if latest is not None else None
