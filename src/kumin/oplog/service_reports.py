"""The periodic operation-log report and the deterrence notices.

:func:`report_data` gathers what was analysed in a period (files, lines,
departments), the alerts by rule and by department and the outcomes of triage;
:func:`issue_notices` records that each department was told its operations are
analysed (the report lists those notices); :func:`notice_data` fills the
printable notice of one department.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.errors import NotFound, UserError
from kumin.oplog import models as m
from kumin.oplog.scan import RULES
from kumin.oplog.service_imports import count_events


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if end < start:
        raise UserError("oplog.scan.bad_period", start=start.isoformat(), end=end.isoformat())
    return dt.datetime.combine(start, dt.time()), dt.datetime.combine(
        end + dt.timedelta(days=1), dt.time()
    )


def default_period(ctx: Ctx, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The fiscal year a report opens on: the last complete one, or the latest one
    with operation-log events if the logs end earlier (e.g. the demo ward)."""
    today = today or dt.date.today()
    year = (today.year if today.month >= 4 else today.year - 1) - 1
    latest = ctx.session.scalar(select(func.max(m.OplogEvent.ts)))
    if latest is not None:
        year = min(year, latest.year if latest.month >= 4 else latest.year - 1)
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def departments(ctx: Ctx) -> dict[str, str]:
    """Department code -> name, from the Juki-net records (no personal data)."""
    from kumin.juki.models import JukiDepartment

    return dict(
        ctx.session.execute(
            select(JukiDepartment.code, JukiDepartment.name).order_by(JukiDepartment.code)
        ).all()
    )


def report_data(ctx: Ctx, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Everything the periodic report shows, as plain data (JSON-ready)."""
    ctx.authorize("oplog.report")
    lo, hi = _bounds(start, end)
    s = ctx.session
    files = []
    for f in s.scalars(select(m.OplogFile).order_by(m.OplogFile.id)):
        if f.first_ts is None or f.last_ts is None or f.last_ts < lo or f.first_ts >= hi:
            continue
        n = s.scalar(
            select(func.count())
            .select_from(m.OplogEvent)
            .where(m.OplogEvent.file_id == f.id, m.OplogEvent.ts >= lo, m.OplogEvent.ts < hi)
        )
        files.append(
            {
                "name": f.name,
                "events": int(n or 0),
                "first": f.first_ts,
                "last": f.last_ts,
                "imported_at": f.imported_at,
            }
        )
    lines = count_events(ctx, lo, hi)
    terminals = s.scalar(
        select(func.count(func.distinct(m.OplogEvent.terminal_id))).where(
            m.OplogEvent.ts >= lo, m.OplogEvent.ts < hi
        )
    )
    operators = s.scalar(
        select(func.count(func.distinct(m.OplogEvent.operator_id))).where(
            m.OplogEvent.ts >= lo, m.OplogEvent.ts < hi
        )
    )
    names = departments(ctx)

    period = (m.OplogAlert.first_seen >= lo) & (m.OplogAlert.first_seen < hi)
    by_rule: dict[str, dict[str, int]] = {}
    for rule, state, outcome, n in s.execute(
        select(m.OplogAlert.rule, m.OplogAlert.state, m.OplogAlert.outcome, func.count())
        .where(period)
        .group_by(m.OplogAlert.rule, m.OplogAlert.state, m.OplogAlert.outcome)
    ):
        row = by_rule.setdefault(
            rule, {"total": 0, "new": 0, "under_review": 0, "legitimate": 0, "misuse": 0}
        )
        row["total"] += n
        row[outcome if state == m.CLOSED and outcome else state] += n
    rules = [{"rule": r, **by_rule[r]} for r in RULES if r in by_rule]
    by_dept: dict[str, dict[str, int]] = {}
    for dept, rule, n in s.execute(
        select(m.OplogAlert.department, m.OplogAlert.rule, func.count())
        .where(period)
        .group_by(m.OplogAlert.department, m.OplogAlert.rule)
    ):
        by_dept.setdefault(dept or "-", {})[rule] = n
    dept_rows = [
        {
            "department": d,
            "name": names.get(d, ""),
            "counts": [by_dept[d].get(r, 0) for r in RULES],
            "total": sum(by_dept[d].values()),
        }
        for d in sorted(by_dept)
    ]
    totals = {
        k: sum(r[k] for r in rules)
        for k in ("total", "new", "under_review", "legitimate", "misuse")
    }
    scans = [
        {
            "id": r.id,
            "at": r.started_at,
            "by": r.started_by,
            "from": r.period_from,
            "to": r.period_to,
            "events": r.events,
            "alerts": r.alerts,
            "new": r.new_alerts,
            "suppressed": r.suppressed,
        }
        for r in s.scalars(select(m.OplogScan).order_by(m.OplogScan.id))
        if (r.period_to is None or r.period_to >= start)
        and (r.period_from is None or r.period_from <= end)
    ]
    notices = [
        {
            "department": n.department,
            "name": names.get(n.department, ""),
            "from": n.period_from,
            "to": n.period_to,
            "issued_at": n.issued_at,
            "issued_by": n.issued_by,
        }
        for n in s.scalars(select(m.OplogNotice).order_by(m.OplogNotice.id))
        if n.period_to >= start and n.period_from <= end
    ]
    suppressions = s.scalar(
        select(func.count())
        .select_from(m.OplogSuppression)
        .where(m.OplogSuppression.lifted_at.is_(None))
    )
    ctx.audit(
        "oplog.report",
        "oplog:report",
        purpose="periodic operation-log report",
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return {
        "start": start,
        "end": end,
        "files": files,
        "lines": lines,
        "terminals": int(terminals or 0),
        "operators": int(operators or 0),
        "departments": [{"code": c, "name": n} for c, n in names.items()],
        "rules": rules,
        "rule_names": list(RULES),
        "by_department": dept_rows,
        "totals": totals,
        "scans": scans,
        "notices": notices,
        "suppressions": int(suppressions or 0),
    }


def issue_notices(
    ctx: Ctx, start: dt.date, end: dt.date, department: str | None = None
) -> list[dict[str, Any]]:
    """Record that the deterrence notice of [start, end] was issued to one
    department (or to every department with terminals); audited."""
    ctx.authorize("oplog.report")
    _bounds(start, end)
    names = departments(ctx)
    if department is not None and department not in names:
        raise NotFound("oplog.report.no_department", department=department)
    targets = [department] if department else list(names)
    out = []
    for code in targets:
        row = m.OplogNotice(
            department=code, period_from=start, period_to=end, issued_by=ctx.actor.name
        )
        ctx.session.add(row)
        ctx.session.flush()
        ctx.audit(
            "oplog.notice",
            f"oplog_notice:{row.id}",
            department=code,
            start=start.isoformat(),
            end=end.isoformat(),
        )
        out.append(
            {
                "id": row.id,
                "department": code,
                "name": names.get(code, ""),
                "from": start,
                "to": end,
                "issued_at": row.issued_at,
            }
        )
    return out


def list_notices(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("oplog.report")
    names = departments(ctx)
    return [
        {
            "id": n.id,
            "department": n.department,
            "name": names.get(n.department, ""),
            "from": n.period_from,
            "to": n.period_to,
            "issued_at": n.issued_at,
            "issued_by": n.issued_by,
        }
        for n in ctx.session.scalars(select(m.OplogNotice).order_by(m.OplogNotice.id))
    ]


def notice_data(ctx: Ctx, notice_id: int) -> dict[str, Any]:
    """The printable notice of one issued notice."""
    ctx.authorize("oplog.report")
    n = ctx.session.get(m.OplogNotice, notice_id)
    if n is None:
        raise NotFound("oplog.report.no_notice", id=notice_id)
    return {
        "id": n.id,
        "department": n.department,
        "name": departments(ctx).get(n.department, n.department),
        "from": n.period_from,
        "to": n.period_to,
        "issued_at": n.issued_at,
        "rules": list(RULES),
    }
