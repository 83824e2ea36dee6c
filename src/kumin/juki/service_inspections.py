"""Daily inspection checklists, security audits with findings and corrective
actions, security meetings, and training and emergency drills (report sections 5, 6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from kumin.core import closures
from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.imports import rejected
from kumin.errors import NotFound, ParameterError, Problem
from kumin.juki._common import (
    CellError,
    authorize_department,
    cells,
    check_rows,
    own_department,
    parse_bool,
    parse_date,
    required,
    text,
)
from kumin.juki.models import (
    IN_SERVICE,
    RETIRED,
    UNSECURED,
    Audit,
    AuditFinding,
    Checklist,
    ChecklistItem,
    JukiTerminal,
    Meeting,
    MeetingItem,
    Training,
)
from kumin.juki.service_units import ImportResult, require_terminal

AUDIT_KINDS = ("jukinet", "mynumber", "self_check", "other")
MEETING_KINDS = ("mynumber", "jukinet", "other")
TRAINING_KINDS = ("training", "drill")
FINDING_STATES = ("open", "corrected")
CHECKLIST_COLUMNS = ("terminal_id", "date", "secured")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError("juki.bad_choice", name=name, value=value, allowed=", ".join(allowed))
    return value


# ------------------------------------------------------------------ checklist


def item_dict(i: ChecklistItem) -> dict[str, Any]:
    return {
        "code": i.code,
        "text_ja": i.text_ja,
        "text_en": i.text_en,
        "position": i.position,
        "active": i.active,
        "wire": i.wire,
    }


def checklist_items(ctx: Ctx, include_inactive: bool = False) -> list[dict[str, Any]]:
    """The items of the daily inspection checklist, in order."""
    ctx.authorize("juki.read")
    q = select(ChecklistItem).order_by(ChecklistItem.position, ChecklistItem.id)
    if not include_inactive:
        q = q.where(ChecklistItem.active.is_(True))
    return [item_dict(i) for i in ctx.session.scalars(q)]


def set_checklist_item(
    ctx: Ctx,
    code: str,
    *,
    text_ja: str | None = None,
    text_en: str | None = None,
    position: int | None = None,
    active: bool | None = None,
    wire: bool | None = None,
) -> dict[str, Any]:
    """Add or edit a checklist item (items are retired, never deleted: old checklists
    keep naming them)."""
    ctx.authorize("juki.manage")
    code = code.strip()
    if not code or len(code) > 32:
        raise ParameterError("juki.bad_item_code", value=code)
    item = ctx.session.scalar(select(ChecklistItem).where(ChecklistItem.code == code))
    if item is None:
        if not (text_ja or "").strip():
            raise ParameterError("juki.item_needs_text", value=code)
        last = ctx.session.scalar(select(func.max(ChecklistItem.position))) or 0
        item = ChecklistItem(code=code, text_ja="", text_en="", position=last + 1, active=True)
        ctx.session.add(item)
    for name, value in (
        ("text_ja", text_ja),
        ("text_en", text_en),
        ("position", position),
        ("active", active),
        ("wire", wire),
    ):
        if value is not None:
            setattr(item, name, value.strip() if isinstance(value, str) else value)
    ctx.session.flush()
    ctx.audit("juki.checklist_item", f"checklist_item:{code}", active=item.active, wire=item.wire)
    return item_dict(item)


def checklist_dict(c: Checklist) -> dict[str, Any]:
    return {
        "id": c.id,
        "terminal_id": c.terminal_id,
        "department": c.department,
        "date": c.date,
        "secured": c.secured,
        "failed": [f for f in c.failed.split(",") if f],
        "note": c.note,
        "checked_by": c.checked_by,
    }


def _sync_state(ctx: Ctx, term: JukiTerminal) -> None:
    """A terminal's state follows its latest checklist (retired terminals stay retired)."""
    if term.state == RETIRED:
        return
    latest = ctx.session.scalar(
        select(Checklist.secured)
        .where(Checklist.terminal_id == term.terminal_id)
        .order_by(Checklist.date.desc())
        .limit(1)
    )
    if latest is None:
        return
    state = IN_SERVICE if latest else UNSECURED
    if term.state != state:
        term.state = state
        term.updated_at = utcnow()


def record_checklist(
    ctx: Ctx,
    terminal_id: str,
    day: dt.date,
    results: dict[str, bool],
    note: str = "",
) -> dict[str, Any]:
    """Record one day's inspection of a terminal. ``results`` maps item codes to OK;
    an active item left out counts as not OK. Recording the same day again
    replaces it. A failed wire item marks the terminal not secured."""
    ctx.authorize("juki.department")
    term = require_terminal(ctx, terminal_id)
    authorize_department(ctx, "juki.department", term.department)
    closures.ensure_not_future(day, dt.datetime.now())
    closures.ensure_open(ctx.session, day)
    items = list(
        ctx.session.scalars(
            select(ChecklistItem)
            .where(ChecklistItem.active.is_(True))
            .order_by(ChecklistItem.position)
        )
    )
    codes = {i.code for i in items}
    unknown = sorted(set(results) - codes)
    if unknown:
        raise ParameterError("juki.unknown_item", value=", ".join(unknown))
    failed = [i.code for i in items if not results.get(i.code, False)]
    secured = all(results.get(i.code, False) for i in items if i.wire)
    row = ctx.session.scalar(
        select(Checklist).where(Checklist.terminal_id == terminal_id, Checklist.date == day)
    )
    if row is None:
        row = Checklist(terminal_id=terminal_id, date=day)
        ctx.session.add(row)
    row.department = term.department
    row.secured = secured
    row.failed = ",".join(failed)
    row.note = note.strip()
    row.checked_by = ctx.actor.name
    row.checked_at = utcnow()
    ctx.session.flush()
    _sync_state(ctx, term)
    ctx.audit(
        "juki.checklist_record",
        f"terminal:{terminal_id}",
        date=day.isoformat(),
        secured=secured,
        failed=failed,
    )
    return checklist_dict(row)


def _differs(old: Checklist, r: dict[str, Any]) -> bool:
    return (old.secured, old.failed, old.note) != (r["secured"], r["failed"], r["note"])


def import_checklists(ctx: Ctx, path: str | Path) -> ImportResult:
    """Import ``terminal_id,date,secured[,failed,note]`` (``failed``: item codes not OK,
    separated by ``;``). All or nothing; a day already recorded is replaced."""
    ctx.authorize("juki.department")
    terms = {t.terminal_id: t for t in ctx.session.scalars(select(JukiTerminal))}
    codes = set(ctx.session.scalars(select(ChecklistItem.code)))
    wire = set(ctx.session.scalars(select(ChecklistItem.code).where(ChecklistItem.wire.is_(True))))
    own = own_department(ctx)
    seen: dict[tuple, int] = {}

    def failed_codes(value: Any) -> list[str]:
        got = [c.strip() for c in text(value).replace(",", ";").split(";") if c.strip()]
        bad = [c for c in got if c not in codes]
        if bad:
            raise CellError("juki.import.unknown_item", value=", ".join(bad))
        return got

    def parse(line: int, row: dict[str, Any], problems: list[Problem]) -> dict | None:
        got = cells(
            line,
            row,
            problems,
            terminal_id=lambda v: required(v, 32),
            date=parse_date,
            secured=parse_bool,
            failed=failed_codes,
            note=text,
        )
        if got is None:
            return None
        term = terms.get(got["terminal_id"])
        if term is None:
            problems.append(
                Problem(
                    line,
                    "terminal_id",
                    "juki.import.unknown_terminal",
                    {"value": got["terminal_id"]},
                )
            )
            return None
        if own is not None and term.department != own:
            problems.append(
                Problem(
                    line,
                    "terminal_id",
                    "juki.import.not_own_department",
                    {"value": term.department},
                )
            )
            return None
        key = (got["terminal_id"], got["date"])
        if key in seen:
            problems.append(
                Problem(
                    line,
                    "date",
                    "juki.import.duplicate",
                    {"value": f"{key[0]} {key[1]}", "first": seen[key]},
                )
            )
            return None
        seen[key] = line
        failed = set(got["failed"])
        if got["secured"]:
            failed -= wire
        else:
            failed |= wire
        got["failed"] = ",".join(sorted(failed))
        got["department"] = term.department
        return got

    rows = check_rows(path, CHECKLIST_COLUMNS, parse)
    lo, hi = min(r["date"] for r in rows), max(r["date"] for r in rows)
    existing = {
        (c.terminal_id, c.date): c
        for c in ctx.session.scalars(
            select(Checklist).where(Checklist.date >= lo, Checklist.date <= hi)
        )
    }
    # a day of a closed year may be re-imported unchanged, never added or changed
    closed = closures.closed_checker(ctx.session)
    refused = []
    for r in rows:
        found = closed(r["date"])
        old = existing.get((r["terminal_id"], r["date"]))
        if found is not None and (old is None or _differs(old, r)):
            line = seen[(r["terminal_id"], r["date"])]
            refused.append(Problem(line, "date", "closures.line_closed", found))
    if refused:
        raise rejected("core.import.rejected", refused, path, count=len(refused))
    added = changed = 0
    now = utcnow()
    new = []
    for r in rows:
        old = existing.get((r["terminal_id"], r["date"]))
        if old is None:
            new.append(r | {"checked_by": ctx.actor.name, "checked_at": now})
            added += 1
        elif _differs(old, r):
            old.secured, old.failed, old.note = r["secured"], r["failed"], r["note"]
            old.checked_by, old.checked_at = ctx.actor.name, now
            changed += 1
    from sqlalchemy import insert

    for i in range(0, len(new), 5000):
        ctx.session.execute(insert(Checklist.__table__), new[i : i + 5000])
    ctx.session.flush()
    for tid in sorted({r["terminal_id"] for r in rows}):
        _sync_state(ctx, terms[tid])
    result = ImportResult.counted(len(rows), added, changed)
    ctx.audit(
        "juki.checklist_import",
        "juki:checklists",
        file=Path(path).name,
        unsecured=sum(not r["secured"] for r in rows),
        **result.counts(),
    )
    return result


def list_checklists(
    ctx: Ctx,
    start: dt.date,
    end: dt.date,
    terminal_id: str | None = None,
    department: str | None = None,
    unsecured_only: bool = False,
) -> list[dict[str, Any]]:
    if department:
        authorize_department(ctx, "juki.read", department)
    else:
        ctx.authorize("juki.read")
    department = department or own_department(ctx)
    q = (
        select(Checklist)
        .where(Checklist.date >= start, Checklist.date <= end)
        .order_by(Checklist.date.desc(), Checklist.terminal_id)
    )
    if terminal_id:
        q = q.where(Checklist.terminal_id == terminal_id)
    if department:
        q = q.where(Checklist.department == department)
    if unsecured_only:
        q = q.where(Checklist.secured.is_(False))
    return [checklist_dict(c) for c in ctx.session.scalars(q)]


# --------------------------------------------------------------------- audits


def finding_dict(f: AuditFinding) -> dict[str, Any]:
    return {
        "id": f.id,
        "audit_id": f.audit_id,
        "finding": f.finding,
        "department": f.department or "",
        "terminal_id": f.terminal_id or "",
        "cause": f.cause,
        "corrective_action": f.corrective_action,
        "follow_up": f.follow_up,
        "status": f.status,
        "closed_on": f.closed_on,
    }


def audit_dict(a: Audit, findings: list[AuditFinding]) -> dict[str, Any]:
    return {
        "id": a.id,
        "date": a.date,
        "kind": a.kind,
        "title": a.title,
        "scope": a.scope,
        "summary": a.summary,
        "findings": [finding_dict(f) for f in findings],
    }


def add_audit(
    ctx: Ctx, day: dt.date, kind: str, title: str, scope: str = "", summary: str = ""
) -> dict[str, Any]:
    """Record a security audit (its findings are added with :func:`add_finding`)."""
    ctx.authorize("juki.manage")
    _choice("kind", kind, AUDIT_KINDS)
    if not title.strip():
        raise ParameterError("juki.needs_title")
    closures.ensure_open(ctx.session, day)
    a = Audit(
        date=day,
        kind=kind,
        title=title.strip(),
        scope=scope.strip(),
        summary=summary.strip(),
        created_by=ctx.actor.name,
    )
    ctx.session.add(a)
    ctx.session.flush()
    ctx.audit("juki.audits_add", f"audit:{a.id}", kind=kind, date=day.isoformat())
    return audit_dict(a, [])


def add_finding(
    ctx: Ctx,
    audit_id: int,
    finding: str,
    *,
    department: str | None = None,
    terminal_id: str | None = None,
    cause: str = "",
    corrective_action: str = "",
    follow_up: str = "",
    status: str = "open",
    closed_on: dt.date | None = None,
) -> dict[str, Any]:
    """Add a finding of an audit with its corrective action and follow-up."""
    ctx.authorize("juki.manage")
    audit = ctx.session.get(Audit, audit_id)
    if audit is None:
        raise NotFound("juki.no_audit", id=audit_id)
    closures.ensure_open(ctx.session, audit.date)
    _choice("status", status, FINDING_STATES)
    if not finding.strip():
        raise ParameterError("juki.needs_title")
    f = AuditFinding(
        audit_id=audit_id,
        finding=finding.strip(),
        department=department or None,
        terminal_id=terminal_id or None,
        cause=cause.strip(),
        corrective_action=corrective_action.strip(),
        follow_up=follow_up.strip(),
        status=status,
        closed_on=closed_on,
    )
    ctx.session.add(f)
    ctx.session.flush()
    ctx.audit("juki.audits_finding", f"finding:{f.id}", audit=audit_id, status=status)
    return finding_dict(f)


def update_finding(
    ctx: Ctx,
    finding_id: int,
    *,
    corrective_action: str | None = None,
    follow_up: str | None = None,
    status: str | None = None,
    closed_on: dt.date | None = None,
) -> dict[str, Any]:
    """Record the corrective action taken on a finding and its follow-up."""
    ctx.authorize("juki.manage")
    f = ctx.session.get(AuditFinding, finding_id)
    if f is None:
        raise NotFound("juki.no_finding", id=finding_id)
    if status is not None:
        f.status = _choice("status", status, FINDING_STATES)
        if status == "corrected" and closed_on is None and f.closed_on is None:
            closed_on = dt.date.today()
    if corrective_action is not None:
        f.corrective_action = corrective_action.strip()
    if follow_up is not None:
        f.follow_up = follow_up.strip()
    if closed_on is not None:
        f.closed_on = closed_on
    # a follow-up is dated when it is recorded: correcting an old audit's finding
    # today is allowed, back-dating its closure into a closed year is not
    closures.ensure_open(ctx.session, closed_on or dt.date.today())
    ctx.session.flush()
    ctx.audit("juki.audits_follow_up", f"finding:{f.id}", status=f.status)
    return finding_dict(f)


def _findings_for(ctx: Ctx, audit_ids: list[int]) -> dict[int, list[AuditFinding]]:
    out: dict[int, list[AuditFinding]] = {i: [] for i in audit_ids}
    if not audit_ids:
        return out
    own = own_department(ctx)
    q = select(AuditFinding).where(AuditFinding.audit_id.in_(audit_ids)).order_by(AuditFinding.id)
    for f in ctx.session.scalars(q):
        # a terminal manager sees the ward-wide findings and their own department's
        if own is None or f.department in (None, own):
            out[f.audit_id].append(f)
    return out


def list_audits(
    ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Audits (with their findings) held in [start, end], newest first."""
    ctx.authorize("juki.read")
    q = select(Audit).order_by(Audit.date.desc(), Audit.id)
    if start:
        q = q.where(Audit.date >= start)
    if end:
        q = q.where(Audit.date <= end)
    audits = list(ctx.session.scalars(q))
    findings = _findings_for(ctx, [a.id for a in audits])
    return [audit_dict(a, findings[a.id]) for a in audits]


def get_audit(ctx: Ctx, audit_id: int) -> dict[str, Any]:
    ctx.authorize("juki.read")
    a = ctx.session.get(Audit, audit_id)
    if a is None:
        raise NotFound("juki.no_audit", id=audit_id)
    return audit_dict(a, _findings_for(ctx, [a.id])[a.id])


# ------------------------------------------------------------------- meetings


def meeting_dict(mt: Meeting, items: list[MeetingItem]) -> dict[str, Any]:
    return {
        "id": mt.id,
        "date": mt.date,
        "kind": mt.kind,
        "title": mt.title,
        "deliberations": [i.text for i in items if i.category == "deliberation"],
        "reports": [i.text for i in items if i.category == "report"],
    }


def add_meeting(
    ctx: Ctx,
    day: dt.date,
    kind: str,
    title: str,
    deliberations: list[str] | tuple[str, ...] = (),
    reports: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Record a security meeting with its deliberations (審議事項) and reports (報告事項)."""
    ctx.authorize("juki.manage")
    _choice("kind", kind, MEETING_KINDS)
    if not title.strip():
        raise ParameterError("juki.needs_title")
    closures.ensure_open(ctx.session, day)
    mt = Meeting(date=day, kind=kind, title=title.strip(), created_by=ctx.actor.name)
    ctx.session.add(mt)
    ctx.session.flush()
    items = [
        MeetingItem(meeting_id=mt.id, category=cat, position=k, text=s.strip())
        for cat, texts in (("deliberation", deliberations), ("report", reports))
        for k, s in enumerate(t for t in texts if t.strip())
    ]
    ctx.session.add_all(items)
    ctx.session.flush()
    ctx.audit("juki.meetings_add", f"meeting:{mt.id}", kind=kind, date=day.isoformat())
    return meeting_dict(mt, items)


def list_meetings(
    ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Meetings held in [start, end], in date order."""
    ctx.authorize("juki.read")
    q = select(Meeting).order_by(Meeting.date, Meeting.id)
    if start:
        q = q.where(Meeting.date >= start)
    if end:
        q = q.where(Meeting.date <= end)
    meetings = list(ctx.session.scalars(q))
    items: dict[int, list[MeetingItem]] = {mt.id: [] for mt in meetings}
    if meetings:
        for i in ctx.session.scalars(
            select(MeetingItem)
            .where(MeetingItem.meeting_id.in_(list(items)))
            .order_by(MeetingItem.category, MeetingItem.position)
        ):
            items[i.meeting_id].append(i)
    return [meeting_dict(mt, items[mt.id]) for mt in meetings]


def get_meeting(ctx: Ctx, meeting_id: int) -> dict[str, Any]:
    ctx.authorize("juki.read")
    mt = ctx.session.get(Meeting, meeting_id)
    if mt is None:
        raise NotFound("juki.no_meeting", id=meeting_id)
    items = list(
        ctx.session.scalars(
            select(MeetingItem)
            .where(MeetingItem.meeting_id == meeting_id)
            .order_by(MeetingItem.position)
        )
    )
    return meeting_dict(mt, items)


def delete_meeting(ctx: Ctx, meeting_id: int) -> None:
    ctx.authorize("juki.manage")
    mt = ctx.session.get(Meeting, meeting_id)
    if mt is None:
        raise NotFound("juki.no_meeting", id=meeting_id)
    closures.ensure_open(ctx.session, mt.date)
    ctx.session.execute(delete(MeetingItem).where(MeetingItem.meeting_id == meeting_id))
    ctx.session.execute(delete(Meeting).where(Meeting.id == meeting_id))
    ctx.audit("juki.meetings_delete", f"meeting:{meeting_id}")


# ----------------------------------------------------------- training, drills


def training_dict(tr: Training) -> dict[str, Any]:
    return {
        "id": tr.id,
        "date": tr.date,
        "kind": tr.kind,
        "title": tr.title,
        "audience": tr.audience,
        "participants": tr.participants,
        "notes": tr.notes,
    }


def add_training(
    ctx: Ctx,
    day: dt.date,
    kind: str,
    title: str,
    audience: str = "",
    participants: int | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Record a security training or an emergency drill."""
    ctx.authorize("juki.manage")
    _choice("kind", kind, TRAINING_KINDS)
    if not title.strip():
        raise ParameterError("juki.needs_title")
    if participants is not None and participants < 0:
        raise ParameterError(
            "juki.bad_choice", name="participants", value=participants, allowed=">= 0"
        )
    closures.ensure_open(ctx.session, day)
    tr = Training(
        date=day,
        kind=kind,
        title=title.strip(),
        audience=audience.strip(),
        participants=participants,
        notes=notes.strip(),
        created_by=ctx.actor.name,
    )
    ctx.session.add(tr)
    ctx.session.flush()
    ctx.audit("juki.trainings_add", f"training:{tr.id}", kind=kind, date=day.isoformat())
    return training_dict(tr)


def latest_governance_year(ctx: Ctx, current: int) -> int:
    """The fiscal year the governance page opens on: the latest one with an audit, a
    meeting or a training (a ward whose records end earlier, e.g. the demo), else
    ``current``; never later than ``current``."""
    ctx.authorize("juki.read")
    days = [
        ctx.session.scalar(select(func.max(model.date))) for model in (Audit, Meeting, Training)
    ]
    latest = max((d for d in days if d is not None), default=None)
    if latest is None:
        return current
    return min(current, latest.year if latest.month >= 4 else latest.year - 1)


def list_trainings(
    ctx: Ctx, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    ctx.authorize("juki.read")
    q = select(Training).order_by(Training.date, Training.id)
    if start:
        q = q.where(Training.date >= start)
    if end:
        q = q.where(Training.date <= end)
    return [training_dict(tr) for tr in ctx.session.scalars(q)]
