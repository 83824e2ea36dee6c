"""Scans, alerts and their triage, suppressions and the thresholds.

:func:`run_scan` builds the governance context from the Juki-net records
(:func:`kumin.oplog.governance.governance_context`), re-keys its resident references
to the blind index the stored events carry, runs every rule over the stored
events and stores the alerts, upserted by fingerprint so that scanning again
never duplicates one and never resets its triage. Alerts matching an active
suppression are not raised.

Triage: ``new`` -> ``under_review`` -> ``closed`` with outcome ``legitimate`` or
``misuse``, each step with a note, by auditors; every step is audited. Showing
an alert's resident reference decrypts it, and that read is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, fields
from typing import Any

import polars as pl
from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.imports import Progress
from kumin.errors import NotFound, ParameterError, StateError, UserError
from kumin.oplog import models as m
from kumin.oplog.context import GovernanceContext, Thresholds, WatchEntry
from kumin.oplog.rules import Alert
from kumin.oplog.scan import RULES, scan
from kumin.oplog.service_imports import (
    AUDIT_RULES,
    BATCH,
    audit_context,
    load_audit_events,
    load_events,
    subject_indexer,
)

PATTERN_FIELDS = ("reason_code", "operator_id", "terminal_id", "subject_index", "department")


# ------------------------------------------------------------------ thresholds


def _coerce(name: str, text: str) -> Any:
    kind = {f.name: f.type for f in fields(Thresholds)}.get(name)
    if kind is None:
        raise ParameterError(
            "oplog.parameter",
            name="name",
            owner="thresholds",
            constraint="one of " + ", ".join(f.name for f in fields(Thresholds)),
            value=repr(name),
        )
    text = str(text).strip()
    try:
        if kind == "bool":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if kind == "float":
            return float(text)
        return int(text)
    except ValueError:
        raise ParameterError(
            "oplog.parameter", name=name, owner="Thresholds", constraint=f"a {kind}", value=text
        ) from None


def thresholds(ctx: Ctx) -> Thresholds:
    """The thresholds in force: the defaults, overridden by the stored settings."""
    stored = {r.name: r.value for r in ctx.session.scalars(select(m.OplogSetting))}
    known = {f.name for f in fields(Thresholds)}
    return Thresholds(**{k: _coerce(k, v) for k, v in stored.items() if k in known})


def list_thresholds(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("oplog.scan")
    current = thresholds(ctx)
    default = Thresholds()
    return [
        {
            "name": f.name,
            "value": getattr(current, f.name),
            "default": getattr(default, f.name),
        }
        for f in fields(Thresholds)
    ]


def set_threshold(ctx: Ctx, name: str, value: str | None) -> Thresholds:
    """Set one threshold (``None`` restores its default); checked, then audited."""
    ctx.authorize("oplog.scan")
    current = thresholds(ctx)
    default = getattr(Thresholds(), name, None)
    parsed = _coerce(name, str(default) if value is None else value)
    new = dataclasses.replace(current, **{name: parsed})  # validates the range
    row = ctx.session.get(m.OplogSetting, name)
    if value is None:
        if row is not None:
            ctx.session.delete(row)
    elif row is None:
        ctx.session.add(m.OplogSetting(name=name, value=str(parsed), updated_by=ctx.actor.name))
    else:
        row.value, row.updated_by, row.updated_at = str(parsed), ctx.actor.name, utcnow()
    ctx.audit(
        "oplog.thresholds",
        f"oplog_threshold:{name}",
        old=getattr(current, name),
        new=getattr(new, name),
    )
    return new


# ------------------------------------------------------------------------ scan


@dataclass
class ScanResult:
    scan_id: int
    events: int
    alerts: list[dict[str, Any]]
    new: int
    suppressed: int


def _day_bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    lo = dt.datetime.combine(start, dt.time()) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) if end else None
    return lo, hi


def keyed_context(ctx: Ctx, context: GovernanceContext) -> GovernanceContext:
    """The context with resident references replaced by the events' blind index."""
    key = subject_indexer(ctx)

    records = context.business_records
    if records.height:
        subjects = records.get_column("subject").unique().to_list()
        mapping = pl.DataFrame(
            {"subject": subjects, "_key": [key(s) for s in subjects]},
            schema={"subject": pl.String, "_key": pl.String},
        )
        records = (
            records.join(mapping, on="subject", how="left", maintain_order="left")
            .drop("subject")
            .rename({"_key": "subject"})
            .select("department", "subject", "date")
        )
    watch = tuple(WatchEntry(key(w.subject), w.reason) for w in context.watchlist)
    return dataclasses.replace(context, business_records=records, watchlist=watch)


def governance(ctx: Ctx, start: dt.date | None, end: dt.date | None, action: str):
    """The Juki-net records as the rules' context, keyed like the stored events."""
    from kumin.oplog.governance import governance_context

    context = governance_context(ctx, start, end, thresholds=thresholds(ctx), action=action)
    return keyed_context(ctx, context)


def _suppressions(ctx: Ctx, today: dt.date) -> list[m.OplogSuppression]:
    return [
        s
        for s in ctx.session.scalars(
            select(m.OplogSuppression).where(m.OplogSuppression.lifted_at.is_(None))
        )
        if s.until is None or s.until >= today
    ]


def _matches(sup: m.OplogSuppression, alert: Alert) -> bool:
    if sup.rule != alert.rule:
        return False
    values = {
        "reason_code": alert.reason,
        "operator_id": alert.operator_id,
        "terminal_id": alert.terminal_id,
        "subject_index": alert.subject,
        "department": alert.department,
    }
    return all(getattr(sup, f) is None or getattr(sup, f) == values[f] for f in PATTERN_FIELDS)


def run_scan(
    ctx: Ctx,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    audit_trail: bool = False,
    rules: list[str] | None = None,
    progress: Progress = None,
) -> ScanResult:
    """Run the rules over the stored events of [start, end] and store the alerts.

    ``audit_trail`` also runs :data:`AUDIT_RULES` over kumin's own audit trail.
    ``progress`` is called with (steps done, steps) as the events load and each
    rule finishes.
    """
    ctx.authorize("oplog.scan")
    if start and end and end < start:
        raise UserError("oplog.scan.bad_period", start=start.isoformat(), end=end.isoformat())
    lo, hi = _day_bounds(start, end)
    names = list(RULES) if rules is None else list(rules)
    steps = 1 + len(names) + (1 if audit_trail else 0)
    done = [0]

    def step(*_: Any) -> None:
        done[0] += 1
        if progress:
            progress(done[0], steps)

    if progress:
        progress(0, steps)
    context = governance(ctx, start, end, "oplog.scan")
    events = load_events(ctx, lo, hi)
    step()
    found = [(m.SOURCE_LOG, a) for a in scan(events, context, rules=names, on_rule=step)]
    n_events = events.height
    del events
    if audit_trail:
        trail = load_audit_events(ctx, lo, hi)
        users = trail.get_column("operator_id").unique().cast(pl.String).to_list()
        since = (lo or dt.datetime(2000, 1, 1)).date() - dt.timedelta(days=1)
        actx = audit_context(users, since, context.thresholds)
        found += [(m.SOURCE_AUDIT, a) for a in scan(trail, actx, rules=list(AUDIT_RULES))]
        n_events += trail.height
        step()

    s = ctx.session
    record = m.OplogScan(
        started_by=ctx.actor.name,
        period_from=start,
        period_to=end,
        source="all" if audit_trail else m.SOURCE_LOG,
        events=n_events,
    )
    s.add(record)
    s.flush()
    sups = _suppressions(ctx, dt.date.today())
    kept = [(src, a) for src, a in found if not any(_matches(x, a) for x in sups)]
    suppressed = len(found) - len(kept)
    fps = [a.fingerprint for _, a in kept]
    existing: dict[str, m.OplogAlert] = {}
    for k in range(0, len(fps), BATCH):
        for row in s.scalars(
            select(m.OplogAlert).where(m.OplogAlert.fingerprint.in_(fps[k : k + BATCH]))
        ):
            existing[row.fingerprint] = row
    new_rows: list[m.OplogAlert] = []
    now = utcnow()
    for src, a in kept:
        row = existing.get(a.fingerprint)
        body = dict(
            severity=a.severity,
            score=float(a.score),
            last_seen=a.last_seen,
            evidence=json.dumps(a.evidence, ensure_ascii=False, default=str),
            events=json.dumps(a.events, ensure_ascii=False),
            last_scan_id=record.id,
        )
        if row is None:
            row = m.OplogAlert(
                fingerprint=a.fingerprint,
                source=src,
                rule=a.rule,
                reason=a.reason,
                operator_id=a.operator_id,
                terminal_id=a.terminal_id,
                subject_index=a.subject or None,
                department=a.department,
                first_seen=a.first_seen,
                state=m.NEW,
                first_scan_id=record.id,
                created_at=now,
                updated_at=now,
                **body,
            )
            existing[a.fingerprint] = row
            new_rows.append(row)
            s.add(row)
        else:
            for k, v in body.items():
                setattr(row, k, v)
    s.flush()
    record.alerts = len(kept)
    record.new_alerts = len(new_rows)
    record.suppressed = suppressed
    record.finished_at = utcnow()
    ctx.audit(
        "oplog.scan",
        f"oplog_scan:{record.id}",
        purpose="operation-log analysis",
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        events=n_events,
        alerts=len(kept),
        new=len(new_rows),
        suppressed=suppressed,
    )
    rows = [alert_row(ctx, existing[a.fingerprint]) for _, a in kept]
    return ScanResult(record.id, n_events, rows, len(new_rows), suppressed)


def list_scans(ctx: Ctx, limit: int = 20) -> list[dict[str, Any]]:
    ctx.authorize("oplog.scan")
    q = select(m.OplogScan).order_by(m.OplogScan.id.desc()).limit(limit)
    return [
        {
            "id": r.id,
            "started_at": r.started_at,
            "by": r.started_by,
            "from": r.period_from,
            "to": r.period_to,
            "source": r.source,
            "events": r.events,
            "alerts": r.alerts,
            "new": r.new_alerts,
            "suppressed": r.suppressed,
        }
        for r in ctx.session.scalars(q)
    ]


# ---------------------------------------------------------------- alert views


def subject_ref(index: str | None) -> str | None:
    """A short pseudonymous reference shown in place of a resident reference."""
    return f"#{index[:10]}" if index else None


def as_alert(row: m.OplogAlert, subject: str | None = None) -> Alert:
    """The stored alert as a rules :class:`Alert` (for its explanation)."""
    return Alert(
        row.rule,
        row.reason,
        row.severity,
        row.score,
        row.operator_id,
        row.terminal_id,
        subject if subject is not None else subject_ref(row.subject_index),
        row.department,
        row.first_seen,
        row.last_seen,
        json.loads(row.evidence or "{}"),
        json.loads(row.events or "[]"),
    )


def _fmt(value: dt.datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else ""


def alert_row(ctx: Ctx, row: m.OplogAlert, subject: str | None = None) -> dict[str, Any]:
    """JSON-ready alert: the scan JSON keys, plus id, state and the explanation.

    ``subject`` is the short reference (``#...``) unless a decrypted value is given.
    """
    alert = as_alert(row, subject)
    return {
        "id": row.id,
        "rule": row.rule,
        "reason": row.reason,
        "severity": row.severity,
        "score": round(row.score, 3),
        "operator_id": row.operator_id,
        "terminal_id": row.terminal_id,
        "subject": alert.subject,
        "department": row.department,
        "first_seen": _fmt(row.first_seen),
        "last_seen": _fmt(row.last_seen),
        "evidence": alert.evidence,
        "events": alert.events,
        "fingerprint": row.fingerprint,
        "source": row.source,
        "state": row.state,
        "outcome": row.outcome,
        "explanation": alert.explain(ctx.lang),
    }


def list_alerts(
    ctx: Ctx,
    *,
    state: str | None = None,
    rule: str | None = None,
    department: str | None = None,
    severity: str | None = None,
    operator_id: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Alerts, most severe and highest score first, filtered."""
    ctx.authorize("oplog.triage")
    q = select(m.OplogAlert)
    if state:
        if state not in (*m.STATES, *m.OUTCOMES):
            raise UserError("oplog.triage.bad_state", value=state, allowed=", ".join(m.STATES))
        q = (
            q.where(m.OplogAlert.outcome == state)
            if state in m.OUTCOMES
            else q.where(m.OplogAlert.state == state)
        )
    if rule:
        q = q.where(m.OplogAlert.rule == rule)
    if department:
        q = q.where(m.OplogAlert.department == department)
    if severity:
        q = q.where(m.OplogAlert.severity == severity)
    if operator_id:
        q = q.where(m.OplogAlert.operator_id == operator_id)
    lo, hi = _day_bounds(start, end)
    if lo:
        q = q.where(m.OplogAlert.first_seen >= lo)
    if hi:
        q = q.where(m.OplogAlert.first_seen < hi)
    rank = {"high": 0, "medium": 1, "low": 2}
    rows = list(ctx.session.scalars(q))
    rows.sort(key=lambda r: (rank.get(r.severity, 3), -r.score, r.first_seen or dt.datetime.min))
    return [alert_row(ctx, r) for r in rows[offset : offset + limit]]


def count_alerts(ctx: Ctx) -> dict[str, int]:
    ctx.authorize("oplog.triage")
    out = dict.fromkeys(m.STATES, 0)
    for state, n in ctx.session.execute(
        select(m.OplogAlert.state, func.count()).group_by(m.OplogAlert.state)
    ):
        out[state] = n
    return out


def _get(ctx: Ctx, alert_id: int) -> m.OplogAlert:
    row = ctx.session.get(m.OplogAlert, alert_id)
    if row is None:
        raise NotFound("oplog.triage.no_alert", id=alert_id)
    return row


def reveal_subject(ctx: Ctx, alert_id: int, purpose: str) -> str | None:
    """Decrypt the resident reference of an alert; the read is audited."""
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    row = _get(ctx, alert_id)
    if not row.subject_index:
        return None
    if not purpose.strip():
        raise UserError("oplog.triage.purpose_required")
    token = ctx.session.get(m.OplogSubject, row.subject_index)
    if token is None:
        return None
    value = ctx.keyring.decrypt(m.DATASET, token.value)
    ctx.audit("oplog.subject_read", f"oplog_alert:{alert_id}", purpose=purpose.strip())
    return value


def log_lines(ctx: Ctx, row: m.OplogAlert, limit: int = 500) -> list[dict[str, Any]]:
    """The stored log lines behind an alert (resident references as short refs)."""
    refs = json.loads(row.events or "[]")[:limit]
    if not refs or row.source != m.SOURCE_LOG:
        return [{"file": r["file"], "line": r["line"]} for r in refs]
    by_file: dict[str, list[int]] = {}
    for r in refs:
        by_file.setdefault(r["file"], []).append(int(r["line"]))
    found: dict[tuple[str, int], dict[str, Any]] = {}
    s = ctx.session
    for name, lines in by_file.items():
        ids = list(s.scalars(select(m.OplogFile.id).where(m.OplogFile.name == name)))
        for k in range(0, len(lines), BATCH):
            q = select(m.OplogEvent).where(
                m.OplogEvent.file_id.in_(ids), m.OplogEvent.line.in_(lines[k : k + BATCH])
            )
            for e in s.scalars(q):
                found[(name, e.line)] = {
                    "file": name,
                    "line": e.line,
                    "ts": _fmt(e.ts),
                    "terminal_id": e.terminal_id,
                    "operator_id": e.operator_id,
                    "action": e.action,
                    "subject": subject_ref(e.subject_index) or "",
                    "function": e.function,
                }
    return [found.get((r["file"], int(r["line"])), r) for r in refs]


def get_alert(
    ctx: Ctx, alert_id: int, *, reveal: bool = False, purpose: str = ""
) -> dict[str, Any]:
    """One alert with its notes and the log lines behind it.

    ``reveal`` decrypts the resident reference (audited, with ``purpose``).
    """
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    row = _get(ctx, alert_id)
    subject = reveal_subject(ctx, alert_id, purpose) if reveal else None
    out = alert_row(ctx, row, subject)
    out["notes"] = [
        {
            "at": n.at,
            "by": n.by,
            "from": n.from_state,
            "to": n.to_state,
            "outcome": n.outcome,
            "text": n.text,
        }
        for n in ctx.session.scalars(
            select(m.OplogNote).where(m.OplogNote.alert_id == alert_id).order_by(m.OplogNote.id)
        )
    ]
    out["lines"] = log_lines(ctx, row)
    out["revealed"] = subject is not None
    return out


# --------------------------------------------------------------------- triage


def _step(
    ctx: Ctx, alert_id: int, to: str, note: str, outcome: str | None = None
) -> dict[str, Any]:
    row = _get(ctx, alert_id)
    before = row.state
    row.state, row.updated_at = to, utcnow()
    if to == m.CLOSED:
        row.outcome = outcome
    elif to == m.UNDER_REVIEW:
        row.outcome = None
        row.assignee = ctx.actor.name
    ctx.session.add(
        m.OplogNote(
            alert_id=alert_id,
            by=ctx.actor.name,
            from_state=before,
            to_state=to,
            outcome=outcome,
            text=note.strip(),
        )
    )
    ctx.session.flush()
    ctx.audit(
        f"oplog.triage_{'close' if to == m.CLOSED else 'review' if before == m.NEW else 'reopen'}",
        f"oplog_alert:{alert_id}",
        purpose="alert triage",
        rule=row.rule,
        from_state=before,
        to_state=to,
        triage_outcome=outcome,
    )
    return alert_row(ctx, row)


def review(ctx: Ctx, alert_id: int, note: str = "") -> dict[str, Any]:
    """Take a new alert under review."""
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    row = _get(ctx, alert_id)
    if row.state != m.NEW:
        raise StateError("oplog.triage.bad_step", state=row.state, step="review")
    return _step(ctx, alert_id, m.UNDER_REVIEW, note)


def close(ctx: Ctx, alert_id: int, outcome: str, note: str) -> dict[str, Any]:
    """Close an alert under review as ``legitimate`` or ``misuse``; a note is required."""
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    if outcome not in m.OUTCOMES:
        raise UserError("oplog.triage.bad_outcome", value=outcome, allowed=", ".join(m.OUTCOMES))
    if not (note or "").strip():
        raise UserError("oplog.triage.note_required")
    row = _get(ctx, alert_id)
    if row.state != m.UNDER_REVIEW:
        raise StateError("oplog.triage.bad_step", state=row.state, step="close")
    return _step(ctx, alert_id, m.CLOSED, note, outcome)


def reopen(ctx: Ctx, alert_id: int, note: str) -> dict[str, Any]:
    """Take a closed alert back under review (a note says why)."""
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    if not (note or "").strip():
        raise UserError("oplog.triage.note_required")
    row = _get(ctx, alert_id)
    if row.state != m.CLOSED:
        raise StateError("oplog.triage.bad_step", state=row.state, step="reopen")
    return _step(ctx, alert_id, m.UNDER_REVIEW, note)


def add_note(ctx: Ctx, alert_id: int, note: str) -> dict[str, Any]:
    """A note on an alert without changing its state."""
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    if not (note or "").strip():
        raise UserError("oplog.triage.note_required")
    row = _get(ctx, alert_id)
    ctx.session.add(
        m.OplogNote(
            alert_id=alert_id,
            by=ctx.actor.name,
            from_state=row.state,
            to_state=row.state,
            text=note.strip(),
        )
    )
    ctx.audit("oplog.triage_note", f"oplog_alert:{alert_id}", purpose="alert triage")
    return alert_row(ctx, row)


# --------------------------------------------------------------- suppressions


def suppress(
    ctx: Ctx,
    alert_id: int,
    reason: str,
    *,
    match: list[str] | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    """Do not raise this closed-legitimate alert's pattern again.

    The pattern is the alert's rule plus the fields named in ``match`` (default:
    reason, operator, terminal, resident and department as the alert has them);
    ``until`` ends the suppression after that day.
    """
    ctx.authorize("oplog.triage", object=f"oplog_alert:{alert_id}")
    if not (reason or "").strip():
        raise UserError("oplog.triage.reason_required")
    row = _get(ctx, alert_id)
    if row.state != m.CLOSED or row.outcome != "legitimate":
        raise StateError("oplog.triage.suppress_legitimate_only", state=row.outcome or row.state)
    fields_ = list(PATTERN_FIELDS) if not match else list(match)
    bad = [f for f in fields_ if f not in PATTERN_FIELDS]
    if bad:
        raise UserError(
            "oplog.triage.bad_match", value=", ".join(bad), allowed=", ".join(PATTERN_FIELDS)
        )
    values = {
        "reason_code": row.reason,
        "operator_id": row.operator_id,
        "terminal_id": row.terminal_id,
        "subject_index": row.subject_index,
        "department": row.department,
    }
    sup = m.OplogSuppression(
        rule=row.rule,
        reason=reason.strip(),
        until=until,
        alert_id=alert_id,
        created_by=ctx.actor.name,
        **{f: (values[f] if f in fields_ else None) for f in PATTERN_FIELDS},
    )
    ctx.session.add(sup)
    ctx.session.flush()
    ctx.audit(
        "oplog.suppress",
        f"oplog_suppression:{sup.id}",
        purpose="alert triage",
        alert=alert_id,
        rule=row.rule,
        fields=[f for f in fields_ if values[f]],
        until=until.isoformat() if until else None,
    )
    return suppression_row(sup)


def suppression_row(s: m.OplogSuppression) -> dict[str, Any]:
    return {
        "id": s.id,
        "rule": s.rule,
        "reason_code": s.reason_code,
        "operator_id": s.operator_id,
        "terminal_id": s.terminal_id,
        "subject": subject_ref(s.subject_index),
        "department": s.department,
        "until": s.until,
        "reason": s.reason,
        "alert_id": s.alert_id,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "lifted_at": s.lifted_at,
        "lifted_by": s.lifted_by,
        "active": s.lifted_at is None and (s.until is None or s.until >= dt.date.today()),
    }


def list_suppressions(ctx: Ctx, include_lifted: bool = False) -> list[dict[str, Any]]:
    ctx.authorize("oplog.triage")
    q = select(m.OplogSuppression).order_by(m.OplogSuppression.id)
    if not include_lifted:
        q = q.where(m.OplogSuppression.lifted_at.is_(None))
    return [suppression_row(s) for s in ctx.session.scalars(q)]


def lift_suppression(ctx: Ctx, suppression_id: int, reason: str) -> dict[str, Any]:
    """End a suppression: its pattern is raised again by the next scan."""
    ctx.authorize("oplog.triage", object=f"oplog_suppression:{suppression_id}")
    if not (reason or "").strip():
        raise UserError("oplog.triage.reason_required")
    sup = ctx.session.get(m.OplogSuppression, suppression_id)
    if sup is None:
        raise NotFound("oplog.triage.no_suppression", id=suppression_id)
    if sup.lifted_at is not None:
        raise StateError("oplog.triage.already_lifted", id=suppression_id)
    sup.lifted_at, sup.lifted_by, sup.lift_reason = utcnow(), ctx.actor.name, reason.strip()
    ctx.audit("oplog.suppression_lift", f"oplog_suppression:{suppression_id}", rule=sup.rule)
    return suppression_row(sup)
