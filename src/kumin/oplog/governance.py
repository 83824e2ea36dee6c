"""The governance context built from the Juki-net records in the database.

The operation-log rules judge events against a pure
:class:`~kumin.oplog.context.GovernanceContext`; this module reads it from juki's
tables (through :mod:`kumin.juki.models` only). It lives in oplog, not juki, so
that the arrow between the two domains goes one way: oplog reads juki, juki never
imports oplog.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.errors import ParameterError
from kumin.juki import models as m
from kumin.oplog import context as oc

#: the actions under which the operation-log analysis may read the context
GOVERNANCE_ACTIONS = ("oplog.scan", "oplog.report", "oplog.triage", "oplog.import", "juki.manage")


def governance_context(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    thresholds: oc.Thresholds | None = None,
    action: str = "oplog.scan",
) -> oc.GovernanceContext:
    """Everything the operation-log rules judge events of [start, end] against.

    Departments, terminals and every ledger version up to ``end`` (earlier
    versions decide who was listed at ``start``); approved applications
    overlapping the period; reservations, usage records and checklists of the
    period; business records of the period widened by the rules' record window;
    the watch list. Resident references (business records, watch list) are
    decrypted to the values the logs carry, and the read is audited.

    ``action`` is the permission the caller acts under (one of
    :data:`GOVERNANCE_ACTIONS`; the oplog scan by default).
    """
    if action not in GOVERNANCE_ACTIONS:
        raise ParameterError("juki.bad_action", value=action, allowed=", ".join(GOVERNANCE_ACTIONS))
    ctx.authorize(action)
    thresholds = thresholds or oc.Thresholds()
    s = ctx.session
    lo_t = dt.datetime.combine(start - dt.timedelta(days=1), dt.time()) if start else None
    hi_t = dt.datetime.combine(end + dt.timedelta(days=2), dt.time()) if end else None

    departments = tuple(
        oc.Department(d.code, d.name, d.open, d.close, d.weekend_open, d.holiday_open)
        for d in s.scalars(select(m.JukiDepartment).order_by(m.JukiDepartment.code))
    )
    terminals = tuple(
        oc.Terminal(t.terminal_id, t.department, t.location, t.reservation_required)
        for t in s.scalars(select(m.JukiTerminal).order_by(m.JukiTerminal.terminal_id))
    )

    q = select(m.LedgerVersion)
    if end:
        q = q.where(m.LedgerVersion.effective <= end)
    versions = {v.id: v for v in s.scalars(q)}
    members: dict[int, set[str]] = {vid: set() for vid in versions}
    if versions:
        for vid, op in s.execute(
            select(m.LedgerEntry.version_id, m.LedgerEntry.operator_id).where(
                m.LedgerEntry.version_id.in_(list(versions))
            )
        ):
            members[vid].add(op)
    ledgers = tuple(
        sorted(
            (
                oc.LedgerVersion(v.department, v.effective, frozenset(members[v.id]))
                for v in versions.values()
            ),
            key=lambda v: (v.department, v.effective),
        )
    )

    q = select(m.UsageApplication).where(m.UsageApplication.state == m.APPROVED)
    if start:
        q = q.where(m.UsageApplication.valid_to >= start)
    if end:
        q = q.where(m.UsageApplication.valid_from <= end)
    applications = tuple(
        sorted(
            (
                oc.UsageApplication(a.department, a.function, a.valid_from, a.valid_to)
                for a in s.scalars(q)
            ),
            key=lambda a: (a.department, a.function, a.valid_from, a.valid_to),
        )
    )

    def in_period(col, q):
        if lo_t is not None:
            q = q.where(col >= lo_t)
        if hi_t is not None:
            q = q.where(col < hi_t)
        return q

    reservations = tuple(
        sorted(
            (
                oc.Reservation(r.department, r.terminal_id, r.start, r.end)
                for r in s.scalars(in_period(m.Reservation.start, select(m.Reservation)))
            ),
            key=lambda r: (r.start, r.terminal_id, r.department),
        )
    )
    usage = tuple(
        sorted(
            (
                oc.UsageRecord(
                    u.department,
                    u.terminal_id,
                    u.operator_id,
                    u.start,
                    u.end,
                    u.function,
                    u.inquiries,
                )
                for u in s.scalars(in_period(m.UsageRecord.start, select(m.UsageRecord)))
            ),
            key=lambda u: (u.start, u.terminal_id, u.operator_id),
        )
    )

    q = select(m.Checklist.terminal_id, m.Checklist.date, m.Checklist.secured)
    if start:
        q = q.where(m.Checklist.date >= start)
    if end:
        q = q.where(m.Checklist.date <= end)
    checklist = tuple(
        oc.ChecklistEntry(t, d, bool(ok))
        for t, d, ok in s.execute(q.order_by(m.Checklist.date, m.Checklist.terminal_id))
    )

    window = dt.timedelta(days=thresholds.record_window_days + 1)
    q = select(m.BusinessRecord.department, m.BusinessRecord.subject, m.BusinessRecord.date)
    if start:
        q = q.where(m.BusinessRecord.date >= start - window)
    if end:
        q = q.where(m.BusinessRecord.date <= end + window)
    decrypt = ctx.keyring.decrypt
    depts, subjects, days = [], [], []
    for dept, token, day in s.execute(q.order_by(m.BusinessRecord.date, m.BusinessRecord.id)):
        depts.append(dept)
        subjects.append(decrypt(m.DATASET, token))
        days.append(day)
    records = pl.DataFrame(
        {"department": depts, "subject": subjects, "date": days},
        schema={"department": pl.String, "subject": pl.String, "date": pl.Date},
    )

    watchlist = tuple(
        oc.WatchEntry(decrypt(m.DATASET, w.subject), w.reason)
        for w in s.scalars(select(m.WatchEntry).order_by(m.WatchEntry.id))
    )
    ctx.audit(
        "juki.context_read",
        "juki:governance",
        purpose=f"operation-log analysis ({action})",
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        business_records=records.height,
        watchlist=len(watchlist),
    )
    return oc.GovernanceContext(
        departments=departments,
        terminals=terminals,
        ledgers=ledgers,
        applications=applications,
        reservations=reservations,
        usage_records=usage,
        business_records=records,
        checklist=checklist,
        watchlist=watchlist,
        thresholds=thresholds,
    )
