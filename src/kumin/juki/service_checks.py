"""Working days without a daily check (日次点検): a finding, not a blank line.

Every integrated terminal is checked each working day (the 日次点検簿 asks, among
other things, that it is fixed by its security wire). A working day here is what
the printed checklist form counts (:func:`kumin.juki.forms.checklist_form`): a
weekday that is neither a public holiday nor in the year-end closure, so the
finding and the form always agree.

Which days a terminal should have been checked on: from its first recorded check
(kumin keeps no installation date; a terminal never checked counts from the start
of the period) to the last day the ward's checklists are recorded for any
terminal (later days are not yet imported, not missed) — and, for a retired
terminal, to its own last check.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.juki._common import own_department
from kumin.juki.models import RETIRED, Checklist, JukiTerminal


def _working(day: dt.date) -> bool:
    from kumin.juki.hours import is_closed_day

    return day.weekday() < 5 and not is_closed_day(day)


def missing_checks(
    ctx: Ctx, start: dt.date, end: dt.date, department: str | None = None
) -> dict[str, Any]:
    """Terminals with working days in [start, end] that have no checklist.

    Returns ``{"horizon", "checked", "days", "terminals": [{department, terminal_id,
    days, first, last}]}``; no personal value. A terminal manager sees their own
    department only.
    """
    ctx.authorize("juki.read")
    department = department or own_department(ctx)
    s = ctx.session
    horizon = s.scalar(select(func.max(Checklist.date)).where(Checklist.date <= end))
    terms = select(JukiTerminal).order_by(JukiTerminal.department, JukiTerminal.terminal_id)
    if department:
        terms = terms.where(JukiTerminal.department == department)
    terminals = list(s.scalars(terms))
    out: dict[str, Any] = {"horizon": horizon, "checked": 0, "days": 0, "terminals": []}
    if horizon is None or not terminals:
        return out
    ids = [t.terminal_id for t in terminals]
    bounds = {
        tid: (lo, hi)
        for tid, lo, hi in s.execute(
            select(Checklist.terminal_id, func.min(Checklist.date), func.max(Checklist.date))
            .where(Checklist.terminal_id.in_(ids))
            .group_by(Checklist.terminal_id)
        )
    }
    checked: dict[str, set[dt.date]] = {tid: set() for tid in ids}
    for tid, day in s.execute(
        select(Checklist.terminal_id, Checklist.date).where(
            Checklist.terminal_id.in_(ids), Checklist.date >= start, Checklist.date <= end
        )
    ):
        checked[tid].add(day)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    for term in terminals:
        first, last = bounds.get(term.terminal_id, (None, None))
        lo = max(start, first) if first else start
        hi = min(end, horizon, yesterday)
        if term.state == RETIRED:
            if last is None:
                continue  # retired before it was ever checked: nothing to expect
            hi = min(hi, last)
        days = []
        day = lo
        while day <= hi:
            if _working(day) and day not in checked[term.terminal_id]:
                days.append(day)
            day += dt.timedelta(days=1)
        out["checked"] += len(checked[term.terminal_id])
        if days:
            out["days"] += len(days)
            out["terminals"].append(
                {
                    "department": term.department,
                    "terminal_id": term.terminal_id,
                    "days": len(days),
                    "first": days[0],
                    "last": days[-1],
                }
            )
    return out
