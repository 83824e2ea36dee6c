"""Web pages and JSON API of Juki-net terminal governance.

Pages: departments and terminals, a department with its ledger versions (who was
added and removed at each transfer), a terminal with its daily checklist form,
usage applications with review, the reservation calendar of the shared terminals,
usage records, and audits / meetings / training. Every route names its action
through ``Permit``; department scope is enforced by the same service functions
the CLI calls.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.core.uploads import save_upload
from kumin.errors import NotFound, UserError
from kumin.juki import service
from kumin.juki.models import SUBMITTED, Checklist, JukiTerminal, UsageApplication
from kumin.juki.service_units import department_names, today
from kumin.web import uploads as web_uploads
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.pages import DASHBOARD_CARDS
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["juki"])

Read = Annotated[Ctx, Depends(Permit("juki.read"))]
Department = Annotated[Ctx, Depends(Permit("juki.department"))]
Manage = Annotated[Ctx, Depends(Permit("juki.manage"))]

add_nav(
    NavItem("juki.nav.terminals", "/juki", "juki.read"),
    NavItem("juki.nav.applications", "/juki/applications", "juki.read"),
    NavItem("juki.nav.reservations", "/juki/reservations", "juki.read"),
    NavItem("juki.nav.usage", "/juki/usage", "juki.read"),
    NavItem("juki.nav.governance", "/juki/governance", "juki.read"),
)

#: upload kind -> (service function name, label key)
IMPORTS = {
    "departments": "import_departments",
    "terminals": "import_terminals",
    "applications": "import_applications",
    "reservations": "import_reservations",
    "usage": "import_usage",
    "records": "import_business_records",
    "checklists": "import_checklists",
    "watchlist": "import_watchlist",
}


def _date(value: str | None, default: dt.date | None = None) -> dt.date | None:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _datetime(day: str, time: str) -> dt.datetime:
    d = _date(day)
    try:
        t = dt.time.fromisoformat(time)
    except ValueError:
        raise UserError("juki.import.bad_time", value=time) from None
    return dt.datetime.combine(d, t)


async def _saved(upload: UploadFile) -> Path:
    return save_upload(upload)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------- dashboard


def _dashboard_card(ctx: Ctx) -> dict[str, Any]:
    s = ctx.session
    own = service.own_department(ctx)
    q_term = select(func.count()).select_from(JukiTerminal).where(JukiTerminal.state != "retired")
    q_unsec = (
        select(func.count()).select_from(JukiTerminal).where(JukiTerminal.state == "unsecured")
    )
    q_pending = (
        select(func.count())
        .select_from(UsageApplication)
        .where(UsageApplication.state == SUBMITTED)
    )
    q_today = select(func.count()).select_from(Checklist).where(Checklist.date == today())
    if own is not None:
        q_term = q_term.where(JukiTerminal.department == own)
        q_unsec = q_unsec.where(JukiTerminal.department == own)
        q_pending = q_pending.where(UsageApplication.department == own)
        q_today = q_today.where(Checklist.department == own)
    from kumin.core.i18n import t

    return {
        "title": t("juki.web.card_title"),
        "rows": [
            (t("juki.web.terminals_in_service"), s.scalar(q_term) or 0),
            (t("juki.web.unsecured_terminals"), s.scalar(q_unsec) or 0),
            (t("juki.web.checked_today"), s.scalar(q_today) or 0),
            (t("juki.web.pending_applications"), s.scalar(q_pending) or 0),
        ],
        "href": "/juki",
    }


DASHBOARD_CARDS.append(("juki.read", _dashboard_card))


# ----------------------------------------------------------------------- pages


@router.get("/juki")
def index_page(request: Request, ctx: Read) -> Response:
    return _index_page(request, ctx)


def _index_page(request: Request, ctx: Ctx, status_code: int = 200, **extra: Any) -> Response:
    departments = service.list_departments(ctx)
    terminals = service.list_terminals(ctx)
    checked = {c["terminal_id"]: c for c in service.list_checklists(ctx, today(), today())}
    return page(
        request,
        "juki/index.html",
        status_code=status_code,
        departments=departments,
        terminals=terminals,
        names=department_names(ctx),
        checked=checked,
        today=today(),
        imports=list(IMPORTS),
        **extra,
    )


@router.post("/juki/import/{kind}")
async def import_upload(
    request: Request, ctx: Department, kind: str, file: Annotated[UploadFile, File()]
) -> Response:
    name = IMPORTS.get(kind)
    if name is None:
        raise NotFound("juki.web.no_import", kind=kind)
    result, failure = web_uploads.import_upload(
        ctx, file, lambda path: getattr(service, name)(ctx, path)
    )
    if failure:
        return _index_page(request, ctx, 400, upload_error=failure, failed_kind=kind)
    return page(request, "juki/imported.html", kind=kind, result=result)


@router.get("/juki/departments/{code}")
def department_page(
    request: Request, ctx: Read, code: str, on: str = "", names: int = 0
) -> Response:
    return _department_page(request, ctx, code, on, names)


def _department_page(
    request: Request,
    ctx: Ctx,
    code: str,
    on: str = "",
    names: int = 0,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    department = service.get_department(ctx, code)
    day = _date(on, today())
    try:
        ledger = service.ledger_in_force(ctx, code, day, with_names=bool(names))
    except NotFound:
        ledger = None
    return page(
        request,
        "juki/department.html",
        status_code=status_code,
        department=department,
        terminals=service.list_terminals(ctx, code),
        versions=list(reversed(service.ledger_versions(ctx, code))),
        ledger=ledger,
        on=day,
        show_names=bool(names),
        rights=service.operator_rights(ctx, code, day),
        applications=service.list_applications(ctx, code),
        **extra,
    )


@router.post("/juki/departments/{code}/ledger")
async def ledger_upload(
    request: Request,
    ctx: Department,
    code: str,
    effective: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> Response:
    day = _date(effective)  # a bad date is the form's error, before the file is read
    summary, failure = web_uploads.import_upload(
        ctx, file, lambda path: service.import_ledger(ctx, code, day, path)
    )
    if failure:
        return _department_page(request, ctx, code, status_code=400, upload_error=failure)
    return page(request, "juki/ledger_imported.html", summary=summary)


@router.get("/juki/terminals/{terminal_id}")
def terminal_page(request: Request, ctx: Read, terminal_id: str, day: str = "") -> Response:
    terminal = service.get_terminal(ctx, terminal_id)
    when = _date(day, today())
    history = service.list_checklists(
        ctx, when - dt.timedelta(days=30), when, terminal_id=terminal_id
    )
    current = next((c for c in history if c["date"] == when), None)
    return page(
        request,
        "juki/terminal.html",
        terminal=terminal,
        department_name=department_names(ctx).get(terminal["department"], ""),
        items=service.checklist_items(ctx),
        day=when,
        current=current,
        history=history,
    )


@router.post("/juki/terminals/{terminal_id}")
def terminal_update(
    ctx: Department,
    terminal_id: str,
    manager: Annotated[str, Form()] = "",
    assistant: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
) -> Response:
    service.set_terminal(
        ctx, terminal_id, manager=manager, assistant=assistant, state=state or None
    )
    return _back(f"/juki/terminals/{terminal_id}")


@router.post("/juki/terminals/{terminal_id}/checklist")
async def checklist_post(request: Request, ctx: Department, terminal_id: str) -> Response:
    form = await request.form()
    day = _date(str(form.get("date") or ""), today())
    items = service.checklist_items(ctx)
    results = {i["code"]: form.get(f"item_{i['code']}") == "ok" for i in items}
    service.record_checklist(ctx, terminal_id, day, results, str(form.get("note") or ""))
    return _back(f"/juki/terminals/{terminal_id}?day={day.isoformat()}&saved=1")


@router.get("/juki/applications")
def applications_page(request: Request, ctx: Read, state: str = "") -> Response:
    own = service.own_department(ctx)
    return page(
        request,
        "juki/applications.html",
        applications=service.list_applications(ctx, None, state or None),
        departments=service.list_departments(ctx),
        names=department_names(ctx),
        own=own,
        state=state,
    )


@router.post("/juki/applications")
def application_submit(
    ctx: Department,
    department: Annotated[str, Form()],
    function: Annotated[str, Form()],
    valid_from: Annotated[str, Form()],
    valid_to: Annotated[str, Form()],
    purpose: Annotated[str, Form()] = "",
) -> Response:
    service.submit_application(
        ctx, department, function, _date(valid_from), _date(valid_to), purpose
    )
    return _back("/juki/applications")


@router.post("/juki/applications/{application_id:int}/review")
def application_review(
    ctx: Manage,
    application_id: int,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    service.review_application(ctx, application_id, decision == "approve", note)
    return _back("/juki/applications")


def _week(ctx: Ctx, start: str) -> tuple[dt.date, list[dt.date]]:
    now = today()
    # no week asked: this week, or the last week with bookings if none are left
    day = _date(start, now) if start else (_open_on(ctx, "reservations", now) or now)
    monday = day - dt.timedelta(days=day.weekday())
    return monday, [monday + dt.timedelta(days=i) for i in range(7)]


def _open_on(ctx: Ctx, kind: str, now: dt.date) -> dt.date | None:
    """The latest day with records when the current period has none (else ``None``)."""
    from kumin.juki.service_usage import latest_day

    monday = now - dt.timedelta(days=now.weekday())
    latest = latest_day(ctx, kind, now + dt.timedelta(days=366))
    if latest is None or latest >= monday:
        return None  # something this week or later: today is the right place
    return latest


@router.get("/juki/reservations")
def reservations_page(request: Request, ctx: Read, week: str = "") -> Response:
    monday, days = _week(ctx, week)
    shared = [t for t in service.list_terminals(ctx) if t["reservation_required"]]
    slots = service.list_reservations(ctx, days[0], days[-1])
    grid = {
        (d, t["terminal_id"]): [
            s for s in slots if s["terminal_id"] == t["terminal_id"] and s["start"].date() == d
        ]
        for d in days
        for t in shared
    }
    return page(
        request,
        "juki/reservations.html",
        days=days,
        shared=shared,
        grid=grid,
        names=department_names(ctx),
        departments=service.list_departments(ctx),
        previous=monday - dt.timedelta(days=7),
        following=monday + dt.timedelta(days=7),
    )


@router.post("/juki/reservations")
def reservation_create(
    ctx: Department,
    department: Annotated[str, Form()],
    terminal_id: Annotated[str, Form()],
    day: Annotated[str, Form()],
    start: Annotated[str, Form()],
    end: Annotated[str, Form()],
) -> Response:
    service.create_reservation(
        ctx, department, terminal_id, _datetime(day, start), _datetime(day, end)
    )
    return _back(f"/juki/reservations?week={day}")


@router.post("/juki/reservations/{reservation_id:int}/cancel")
def reservation_cancel(ctx: Department, reservation_id: int) -> Response:
    service.cancel_reservation(ctx, reservation_id)
    return _back("/juki/reservations")


@router.get("/juki/usage")
def usage_page(request: Request, ctx: Read, start: str = "", end: str = "") -> Response:
    hi = _date(end, today()) if end else (_open_on(ctx, "usage", today()) or today())
    lo = _date(start, hi - dt.timedelta(days=31))
    rows = service.list_usage(ctx, lo, hi)
    return page(
        request,
        "juki/usage.html",
        rows=rows,
        start=lo,
        end=hi,
        names=department_names(ctx),
        departments=service.list_departments(ctx),
        shared=[t for t in service.list_terminals(ctx) if t["reservation_required"]],
        inquiries=sum(r["inquiries"] for r in rows),
    )


@router.post("/juki/usage")
def usage_record(
    ctx: Department,
    department: Annotated[str, Form()],
    terminal_id: Annotated[str, Form()],
    operator_id: Annotated[str, Form()],
    day: Annotated[str, Form()],
    start: Annotated[str, Form()],
    end: Annotated[str, Form()],
    function: Annotated[str, Form()],
    inquiries: Annotated[int, Form()],
) -> Response:
    service.record_usage(
        ctx,
        department,
        terminal_id,
        operator_id,
        _datetime(day, start),
        _datetime(day, end),
        function,
        inquiries,
    )
    return _back("/juki/usage")


@router.get("/juki/governance")
def governance_page(request: Request, ctx: Read, fy: int = 0) -> Response:
    current = today().year if today().month >= 4 else today().year - 1
    year = fy or service.latest_governance_year(ctx, current)
    lo, hi = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
    from kumin.core.i18n import current_lang
    from kumin.juki.report import checks_table
    from kumin.juki.service_checks import missing_checks

    # a working day without a daily check is a finding: shown above the audits
    missing = missing_checks(ctx, lo, hi)
    return page(
        request,
        "juki/governance.html",
        fy=year,
        missing_checks=checks_table(missing, current_lang.get(), department_names(ctx))
        if missing["terminals"]
        else None,
        audits=service.list_audits(ctx, lo, hi),
        meetings=service.list_meetings(ctx, lo, hi),
        trainings=service.list_trainings(ctx, lo, hi),
    )


@router.post("/juki/audits")
def audit_add(
    ctx: Manage,
    date: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    title: Annotated[str, Form()],
    scope: Annotated[str, Form()] = "",
    summary: Annotated[str, Form()] = "",
) -> Response:
    day = _date(date)
    service.add_audit(ctx, day, kind, title, scope, summary)
    return _back(f"/juki/governance?fy={day.year if day.month >= 4 else day.year - 1}")


@router.post("/juki/audits/{audit_id:int}/findings")
def finding_add(
    ctx: Manage,
    audit_id: int,
    finding: Annotated[str, Form()],
    department: Annotated[str, Form()] = "",
    cause: Annotated[str, Form()] = "",
    corrective_action: Annotated[str, Form()] = "",
) -> Response:
    service.add_finding(
        ctx,
        audit_id,
        finding,
        department=department or None,
        cause=cause,
        corrective_action=corrective_action,
    )
    return _back("/juki/governance")


@router.post("/juki/findings/{finding_id:int}")
def finding_update(
    ctx: Manage,
    finding_id: int,
    corrective_action: Annotated[str, Form()] = "",
    follow_up: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "open",
) -> Response:
    service.update_finding(
        ctx,
        finding_id,
        corrective_action=corrective_action or None,
        follow_up=follow_up or None,
        status=status,
    )
    return _back("/juki/governance")


@router.post("/juki/meetings")
def meeting_add(
    ctx: Manage,
    date: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    title: Annotated[str, Form()],
    deliberations: Annotated[str, Form()] = "",
    reports: Annotated[str, Form()] = "",
) -> Response:
    service.add_meeting(
        ctx, _date(date), kind, title, deliberations.splitlines(), reports.splitlines()
    )
    return _back("/juki/governance")


@router.post("/juki/trainings")
def training_add(
    ctx: Manage,
    date: Annotated[str, Form()],
    kind: Annotated[str, Form()],
    title: Annotated[str, Form()],
    audience: Annotated[str, Form()] = "",
    participants: Annotated[str, Form()] = "",
) -> Response:
    count = int(participants) if participants.strip().isdigit() else None
    service.add_training(ctx, _date(date), kind, title, audience, count)
    return _back("/juki/governance")


# ------------------------------------------------------------------------- API


@api_router.get("/juki/departments")
def api_departments(ctx: Read) -> list[dict[str, Any]]:
    return service.list_departments(ctx)


@api_router.get("/juki/departments/{code}")
def api_department(ctx: Read, code: str) -> dict[str, Any]:
    return service.get_department(ctx, code)


@api_router.get("/juki/terminals")
def api_terminals(ctx: Read, department: str = "") -> list[dict[str, Any]]:
    return service.list_terminals(ctx, department or None)


@api_router.get("/juki/terminals/{terminal_id}")
def api_terminal(ctx: Read, terminal_id: str) -> dict[str, Any]:
    return service.get_terminal(ctx, terminal_id)


@api_router.get("/juki/ledger/{department}")
def api_ledger(ctx: Read, department: str, on: str = "") -> dict[str, Any]:
    return service.ledger_in_force(ctx, department, _date(on, today()))


@api_router.get("/juki/ledger/{department}/versions")
def api_ledger_versions(ctx: Read, department: str) -> list[dict[str, Any]]:
    return service.ledger_versions(ctx, department)


@api_router.get("/juki/applications")
def api_applications(ctx: Read, department: str = "", state: str = "") -> list[dict[str, Any]]:
    return service.list_applications(ctx, department or None, state or None)


class Review(BaseModel):
    approve: bool
    note: str = ""


@api_router.post("/juki/applications/{application_id:int}/review")
def api_review(ctx: Manage, application_id: int, body: Review) -> dict[str, Any]:
    return service.review_application(ctx, application_id, body.approve, body.note)


@api_router.get("/juki/reservations")
def api_reservations(
    ctx: Read, start: str = "", end: str = "", terminal_id: str = ""
) -> list[dict[str, Any]]:
    lo = _date(start, today())
    return service.list_reservations(ctx, lo, _date(end, lo), terminal_id or None)


class NewReservation(BaseModel):
    department: str
    terminal_id: str
    start: dt.datetime
    end: dt.datetime


@api_router.post("/juki/reservations")
def api_reserve(ctx: Department, body: NewReservation) -> dict[str, Any]:
    return service.create_reservation(
        ctx,
        body.department,
        body.terminal_id,
        body.start.replace(tzinfo=None),
        body.end.replace(tzinfo=None),
    )


@api_router.get("/juki/usage")
def api_usage(ctx: Read, start: str = "", end: str = "") -> list[dict[str, Any]]:
    hi = _date(end, today())
    return service.list_usage(ctx, _date(start, hi - dt.timedelta(days=31)), hi)


@api_router.get("/juki/checklists")
def api_checklists(
    ctx: Read, start: str = "", end: str = "", unsecured: bool = False
) -> list[dict[str, Any]]:
    hi = _date(end, today())
    lo = _date(start, hi - dt.timedelta(days=31))
    return service.list_checklists(ctx, lo, hi, unsecured_only=unsecured)


class ChecklistBody(BaseModel):
    date: dt.date
    results: dict[str, bool]
    note: str = ""


@api_router.post("/juki/terminals/{terminal_id}/checklist")
def api_checklist(ctx: Department, terminal_id: str, body: ChecklistBody) -> dict[str, Any]:
    return service.record_checklist(ctx, terminal_id, body.date, body.results, body.note)


@api_router.get("/juki/audits")
def api_audits(ctx: Read, start: str = "", end: str = "") -> list[dict[str, Any]]:
    return service.list_audits(ctx, _date(start), _date(end))


@api_router.get("/juki/meetings")
def api_meetings(ctx: Read, start: str = "", end: str = "") -> list[dict[str, Any]]:
    return service.list_meetings(ctx, _date(start), _date(end))


@api_router.get("/juki/trainings")
def api_trainings(ctx: Read, start: str = "", end: str = "") -> list[dict[str, Any]]:
    return service.list_trainings(ctx, _date(start), _date(end))
