"""Sections 2, 5 and 6 of the yearly security report (``kumin report security``).

Section 2 (the operation of Juki-net and its security measures) is computed from
the terminals, ledgers, applications, reservations, usage records and checklists;
sections 5 (security meetings, with training and drills) and 6 (security audits
with findings and corrective actions) list the records of the fiscal year in the
report's own layout. Registered with :func:`kumin.reports.security.add_section_provider`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.juki import models as m
from kumin.reports.render import era_date, fiscal_year_label, fiscal_year_range
from kumin.reports.security import ReportSection, ReportTable, add_section_provider

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def _day(day: dt.date, lang: str) -> str:
    return era_date(day) if lang == "ja" else day.isoformat()


def _n(value: int) -> str:
    return f"{value:,}"


def section2(ctx: Ctx, fy: int, lang: str) -> ReportSection:
    """Terminals and operator management in fiscal year ``fy``."""
    start, end = fiscal_year_range(fy)
    s = ctx.session

    def lab(key: str, **kw: Any) -> str:
        return t(f"juki.report.{key}", lang, **kw)

    departments = list(s.scalars(select(m.JukiDepartment).order_by(m.JukiDepartment.code)))
    terminals = list(s.scalars(select(m.JukiTerminal)))
    versions = list(s.scalars(select(m.LedgerVersion).order_by(m.LedgerVersion.effective)))
    members: dict[int, set[str]] = {v.id: set() for v in versions}
    for vid, op in s.execute(select(m.LedgerEntry.version_id, m.LedgerEntry.operator_id)):
        members.setdefault(vid, set()).add(op)
    unsecured = dict(
        s.execute(
            select(m.Checklist.department, func.count())
            .where(m.Checklist.date >= start, m.Checklist.date <= end)
            .where(m.Checklist.secured.is_(False))
            .group_by(m.Checklist.department)
        ).all()
    )
    checks = (
        s.scalar(select(func.count()).where(m.Checklist.date >= start, m.Checklist.date <= end))
        or 0
    )
    unsecured_terminals = (
        s.scalar(
            select(func.count(func.distinct(m.Checklist.terminal_id))).where(
                m.Checklist.date >= start,
                m.Checklist.date <= end,
                m.Checklist.secured.is_(False),
            )
        )
        or 0
    )

    header = [lab(h) for h in ("h_department", "h_terminals", "h_shared", "h_operators")]
    header += [lab(h) for h in ("h_ledgers", "h_added", "h_removed", "h_heads", "h_unsecured")]
    rows: list[list[str]] = []
    values: list[list[Any]] = []
    totals = [0] * 7
    with_heads = 0
    for d in departments:
        terms = [t_ for t_ in terminals if t_.department == d.code and t_.state != m.RETIRED]
        if not terms:
            continue
        mine = [v for v in versions if v.department == d.code]
        in_force = [v for v in mine if v.effective <= end]
        operators = len(members[in_force[-1].id]) if in_force else 0
        submitted = added = removed = 0
        previous: set[str] = set()
        for v in mine:
            ops = members[v.id]
            if start <= v.effective <= end:
                submitted += 1
                added += len(ops - previous)
                removed += len(previous - ops)
            previous = ops
        heads = all(t_.manager and t_.assistant for t_ in terms)
        with_heads += heads
        row = [
            len(terms),
            sum(t_.reservation_required for t_ in terms),
            operators,
            submitted,
            added,
            removed,
            unsecured.get(d.code, 0),
        ]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        mark = lab("yes") if heads else lab("no")
        rows.append([d.name, *map(_n, row[:6]), mark, _n(row[6])])
        values.append([d.code, *row[:6], heads, row[6]])
    n_depts = len(rows)
    rows.append([lab("total"), *map(_n, totals[:6]), f"{with_heads}/{n_depts}", _n(totals[6])])
    values.append(["total", *totals[:6], with_heads, totals[6]])
    table = ReportTable(
        key="juki_terminals",
        title=lab("terminals_table", fy=fiscal_year_label(fy, lang)),
        note=lab("terminals_note", day=_day(end, lang)),
        header=header,
        rows=rows,
        values=values,
        indent=[False] * len(rows),
    )

    shared_dept = next(
        (
            d
            for d in departments
            if any(t_.department == d.code and t_.reservation_required for t_ in terminals)
        ),
        departments[0] if departments else None,
    )
    approved = (
        s.scalar(
            select(func.count()).where(
                m.UsageApplication.state == m.APPROVED,
                m.UsageApplication.valid_from <= end,
                m.UsageApplication.valid_to >= start,
            )
        )
        or 0
    )
    reservations = (
        s.scalar(
            select(func.count()).where(
                m.Reservation.start >= dt.datetime.combine(start, dt.time()),
                m.Reservation.start < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
            )
        )
        or 0
    )
    usage_count, inquiries = s.execute(
        select(func.count(), func.coalesce(func.sum(m.UsageRecord.inquiries), 0)).where(
            m.UsageRecord.start >= dt.datetime.combine(start, dt.time()),
            m.UsageRecord.start < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        )
    ).one()
    paragraphs = [lab("sub1")]
    if shared_dept is not None:
        paragraphs.append(
            lab(
                "placement",
                first=shared_dept.name,
                others=max(n_depts - 1, 0),
                terminals=_n(totals[0]),
            )
        )
    paragraphs += [
        lab("heads", done=with_heads, total=n_depts),
        lab("sub2"),
        lab("ledgers", submitted=totals[3], added=totals[4], removed=totals[5]),
        lab("analysis"),
        lab("applications", approved=approved),
        lab(
            "reservations",
            reservations=_n(reservations),
            usage=_n(usage_count),
            inquiries=_n(int(inquiries)),
        ),
        lab("checklists", checks=_n(checks), unsecured=totals[6], terminals=unsecured_terminals),
    ]
    return ReportSection(
        "2",
        "juki.terminals",
        lab("section2"),
        tables=[table],
        paragraphs=paragraphs,
        figures={
            "departments": n_depts,
            "terminals": totals[0],
            "shared_terminals": totals[1],
            "operators": totals[2],
            "ledger_versions": totals[3],
            "operators_added": totals[4],
            "operators_removed": totals[5],
            "departments_with_manager_and_assistant": with_heads,
            "checklists": checks,
            "checklists_unsecured": totals[6],
            "approved_applications": approved,
            "reservations": reservations,
            "usage_records": usage_count,
            "usage_inquiries": int(inquiries),
        },
    )


def section5(ctx: Ctx, fy: int, lang: str) -> ReportSection:
    """Security meetings (with their deliberations and reports), training and drills."""
    from kumin.juki.service_inspections import list_meetings, list_trainings

    start, end = fiscal_year_range(fy)

    def lab(key: str, **kw: Any) -> str:
        return t(f"juki.report.{key}", lang, **kw)

    # security.report is held by records officers and auditors, who both read juki
    meetings = list_meetings(ctx, start, end)
    trainings = list_trainings(ctx, start, end)
    paragraphs: list[str] = []
    for k, mt in enumerate(meetings, start=1):
        paragraphs.append(lab("meeting_head", n=k, title=mt["title"], day=_day(mt["date"], lang)))
        for key, items in (("deliberations", mt["deliberations"]), ("reports", mt["reports"])):
            if items:
                paragraphs.append(t(f"juki.{key}", lang))
                paragraphs += [f"・{item}" for item in items]
    if not meetings:
        paragraphs.append(lab("no_meetings"))
    tables = []
    if trainings:
        rows = [
            [
                _day(tr["date"], lang),
                t(f"juki.kind.{tr['kind']}", lang),
                tr["title"],
                tr["audience"],
                "" if tr["participants"] is None else _n(tr["participants"]),
            ]
            for tr in trainings
        ]
        tables.append(
            ReportTable(
                key="juki_trainings",
                title=lab("trainings_table"),
                note="",
                header=[lab(h) for h in ("h_date", "h_kind", "h_title", "h_audience", "h_people")],
                rows=rows,
                values=[
                    [tr["date"], tr["kind"], tr["title"], tr["audience"], tr["participants"]]
                    for tr in trainings
                ],
                indent=[False] * len(rows),
            )
        )
    return ReportSection(
        "5",
        "juki.meetings",
        lab("section5", fy=fiscal_year_label(fy, lang)),
        tables=tables,
        paragraphs=paragraphs,
        figures={
            "meetings": [
                {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in mt.items()}
                for mt in meetings
            ],
            "trainings": len(trainings),
        },
    )


def section6(ctx: Ctx, fy: int, lang: str) -> ReportSection:
    """Security audits of the year with findings, corrective actions and follow-up."""
    from kumin.juki.service_inspections import list_audits

    start, end = fiscal_year_range(fy)

    def lab(key: str, **kw: Any) -> str:
        return t(f"juki.report.{key}", lang, **kw)

    audits = sorted(list_audits(ctx, start, end), key=lambda a: (a["date"], a["id"]))
    paragraphs: list[str] = []
    open_findings = 0
    for k, a in enumerate(audits, start=1):
        paragraphs.append(lab("audit_head", n=k, title=a["title"], day=_day(a["date"], lang)))
        paragraphs.append(lab("findings"))
        if not a["findings"]:
            paragraphs.append(f"・{a['summary'] or lab('no_findings')}")
        for j, f in enumerate(a["findings"]):
            mark = _CIRCLED[j] if len(a["findings"]) > 1 and j < len(_CIRCLED) else "・"
            paragraphs.append(f"{mark}{f['finding']}")
            for key in ("cause", "corrective_action", "follow_up"):
                if f[key]:
                    paragraphs.append(f[key])
            if f["status"] == "open":
                open_findings += 1
                paragraphs.append(lab("still_open"))
    if not audits:
        paragraphs.append(lab("no_audits"))
    return ReportSection(
        "6",
        "juki.audits",
        lab("section6", fy=fiscal_year_label(fy, lang)),
        paragraphs=paragraphs,
        figures={
            "audits": len(audits),
            "findings": sum(len(a["findings"]) for a in audits),
            "open_findings": open_findings,
        },
    )


def security_sections(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    """Sections 2, 5 and 6 of the security report for fiscal year ``fy``."""
    ctx.authorize("security.report")
    return [section2(ctx, fy, lang), section5(ctx, fy, lang), section6(ctx, fy, lang)]


add_section_provider(security_sections, tables=("juki_",))


# --- section 8: working days without a daily check ------------------------------------


def _ops(key: str, lang: str, **kw: Any) -> str:
    return t(f"operational.report.{key}", lang, **kw)


def checks_table(found: dict[str, Any], lang: str, names: dict[str, str]) -> ReportTable:
    """The terminals with working days not checked (also on the governance page)."""
    heads = ("h_department", "h_terminal", "h_days", "h_first", "h_last")
    rows, values = [], []
    for r in found["terminals"]:
        dept = names.get(r["department"], r["department"])
        first, last = _day(r["first"], lang), _day(r["last"], lang)
        rows.append([dept, r["terminal_id"], f"{r['days']:,}", first, last])
        values.append([r["department"], r["terminal_id"], r["days"], r["first"], r["last"]])
    horizon = _day(found["horizon"], lang) if found["horizon"] else "—"
    return ReportTable(
        "ops_missing_checks",
        _ops("checks_title", lang),
        _ops("checks_note", lang, horizon=horizon),
        [_ops(h, lang) for h in heads],
        rows,
        values,
        [False] * len(rows),
    )


def daily_checks_section(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    """Section 8 (operational checks), the daily checks' part: a working day without
    a check is a finding (:mod:`kumin.juki.service_checks`)."""
    from kumin.juki.service_checks import missing_checks
    from kumin.juki.service_units import department_names

    ctx.authorize("security.report")
    start, end = fiscal_year_range(fy)
    label = fiscal_year_label(fy, lang)
    found = missing_checks(ctx, start, end)
    tables = []
    if found["horizon"] is None or found["horizon"] < start:
        paragraphs = [_ops("checks_no_records", lang, fy=label)]
    elif found["terminals"]:
        terminals = len(found["terminals"])
        paragraphs = [_ops("checks_found", lang, fy=label, terminals=terminals, days=found["days"])]
        tables.append(checks_table(found, lang, department_names(ctx)))
    else:
        paragraphs = [_ops("checks_none", lang, fy=label, checked=f"{found['checked']:,}")]
    figures = {"missing_check_days": found["days"], "terminals": len(found["terminals"])}
    title = _ops("section", lang, fy=label)
    return [ReportSection("8", "ops.daily_checks", title, "", tables, [], paragraphs, figures)]


add_section_provider(daily_checks_section, tables=("juki_",))
