"""Web pages and JSON API of the operation-log analysis: the alert queue with
filters, an alert with its evidence and log lines and the triage form (HTMX),
suppressions, log import, the scan page with a progress bar, the report and the
deterrence notices.

Every route names its action through ``Permit``; pages and API call the same
service functions as the CLI. A scan started from the page runs in the
background as a durable job (:mod:`kumin.core.jobs`) in its own database
transaction, so the page (on any web worker) can poll its progress.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from kumin.core import jobs
from kumin.core.context import Ctx, context
from kumin.core.i18n import t
from kumin.errors import UserError
from kumin.oplog import models as m
from kumin.oplog import service
from kumin.oplog.profiles import DEFAULT as DEFAULT_PROFILE
from kumin.oplog.profiles import list_profiles
from kumin.oplog.scan import RULES
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.pages import DASHBOARD_CARDS
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["oplog"])

Import = Annotated[Ctx, Depends(Permit("oplog.import"))]
Scan = Annotated[Ctx, Depends(Permit("oplog.scan"))]
Triage = Annotated[Ctx, Depends(Permit("oplog.triage"))]
Report = Annotated[Ctx, Depends(Permit("oplog.report"))]

add_nav(
    NavItem("oplog.nav.alerts", "/oplog", "oplog.triage"),
    NavItem("oplog.nav.scan", "/oplog/scan", "oplog.scan"),
    NavItem("oplog.nav.files", "/oplog/files", "oplog.import"),
    NavItem("oplog.nav.report", "/oplog/report", "oplog.report"),
)
STEPS = ("review", "close", "reopen", "note")


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _period(ctx: Ctx, start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """The period asked for, else the latest fiscal year with events (#14: never an
    empty year by default)."""
    lo, hi = _date(start), _date(end)
    if lo and hi:
        return lo, hi
    fy_start, fy_end = service.default_period(ctx)
    return lo or fy_start, hi or fy_end


def _department_names(ctx: Ctx) -> dict[str, str]:
    """Department code → name, so pages show 課税課 where the logs say D08 (#14)."""
    from kumin.oplog.service_reports import departments

    return departments(ctx)


def _dashboard(ctx: Ctx) -> dict[str, Any]:
    counts = service.count_alerts(ctx)
    return {
        "title": t("oplog.web.dashboard_title"),
        "rows": [(t(f"oplog.state.{s}"), f"{counts[s]:,}") for s in m.STATES],
        "href": "/oplog",
        # an auditor's day starts at the alert queue (#14): this card comes first
        "first": True,
    }


DASHBOARD_CARDS.append(("oplog.triage", _dashboard))


# --- alert queue and alert ----------------------------------------------------------------


@router.get("/oplog")
def alerts_page(
    request: Request,
    ctx: Triage,
    state: str = "",
    rule: str = "",
    department: str = "",
    severity: str = "",
    start: str = "",
    end: str = "",
) -> Response:
    alerts = service.list_alerts(
        ctx,
        state=state or None,
        rule=rule or None,
        department=department or None,
        severity=severity or None,
        start=_date(start),
        end=_date(end),
        limit=500,
    )
    return page(
        request,
        "oplog/alerts.html",
        alerts=alerts,
        names=_department_names(ctx),
        counts=service.count_alerts(ctx),
        filters={
            "state": state,
            "rule": rule,
            "department": department,
            "severity": severity,
            "start": start,
            "end": end,
        },
        rules=list(RULES),
        states=[*m.STATES, *m.OUTCOMES],
    )


@router.get("/oplog/alerts/{alert_id:int}")
def alert_page(request: Request, ctx: Triage, alert_id: int) -> Response:
    alert = service.get_alert(ctx, alert_id)
    return page(request, "oplog/alert.html", a=alert, names=_department_names(ctx))


@router.post("/oplog/alerts/{alert_id:int}/reveal")
def alert_reveal(
    request: Request, ctx: Triage, alert_id: int, purpose: Annotated[str, Form()] = ""
) -> Response:
    shown = service.get_alert(ctx, alert_id, reveal=True, purpose=purpose)
    return page(request, "oplog/alert.html", a=shown, names=_department_names(ctx))


def _triage(ctx: Ctx, alert_id: int, step: str, outcome: str, note: str) -> dict[str, Any]:
    if step == "review":
        return service.review(ctx, alert_id, note)
    if step == "close":
        return service.close(ctx, alert_id, outcome, note)
    if step == "reopen":
        return service.reopen(ctx, alert_id, note)
    if step == "note":
        return service.add_note(ctx, alert_id, note)
    raise UserError("oplog.web.bad_step", step=step, allowed=", ".join(STEPS))


@router.post("/oplog/alerts/{alert_id:int}/triage")
def alert_triage(
    request: Request,
    ctx: Triage,
    alert_id: int,
    step: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    _triage(ctx, alert_id, step, outcome, note)
    if request.headers.get("HX-Request"):
        ctx.session.flush()
        return page(request, "oplog/_triage.html", a=service.get_alert(ctx, alert_id))
    return RedirectResponse(f"/oplog/alerts/{alert_id}", status_code=303)


@router.post("/oplog/alerts/{alert_id:int}/suppress")
def alert_suppress(
    ctx: Triage,
    alert_id: int,
    reason: Annotated[str, Form()] = "",
    match: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    until: Annotated[str, Form()] = "",
) -> Response:
    service.suppress(ctx, alert_id, reason, match=match or None, until=_date(until))
    return RedirectResponse("/oplog/suppressions", status_code=303)


@router.get("/oplog/suppressions")
def suppressions_page(request: Request, ctx: Triage, all: str = "") -> Response:
    rows = service.list_suppressions(ctx, include_lifted=bool(all))
    return page(request, "oplog/suppressions.html", rows=rows, show_all=bool(all))


@router.post("/oplog/suppressions/{suppression_id:int}/lift")
def suppression_lift(
    ctx: Triage, suppression_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    service.lift_suppression(ctx, suppression_id, reason)
    return RedirectResponse("/oplog/suppressions", status_code=303)


# --- files, scan ---------------------------------------------------------------------------


def _profiles(lang: str) -> list[dict[str, str]]:
    """The profiles for the upload form, labelled in the reader's language."""
    from kumin.oplog.profiles import load_profile

    return [{"name": name, "label": load_profile(name).title(lang)} for name in list_profiles()]


@router.get("/oplog/files")
def files_page(request: Request, ctx: Import) -> Response:
    return page(
        request,
        "oplog/files.html",
        files=service.list_files(ctx),
        result=None,
        profiles=_profiles(ctx.lang),
    )


@router.post("/oplog/files")
def files_upload(
    request: Request,
    ctx: Import,
    file: Annotated[UploadFile | None, File()] = None,
    profile: Annotated[str, Form()] = DEFAULT_PROFILE,
) -> Response:
    from kumin.web.uploads import import_upload

    result, failure = import_upload(
        ctx, file, lambda path: service.import_log(ctx, path, name=path.name, profile=profile)
    )
    return page(
        request,
        "oplog/files.html",
        status_code=400 if failure else 200,
        files=service.list_files(ctx),
        result=result,
        upload_error=failure,
        profile=profile,
        profiles=_profiles(ctx.lang),
    )


@router.get("/oplog/scan")
def scan_page(request: Request, ctx: Scan) -> Response:
    return page(
        request,
        "oplog/scan.html",
        scans=service.list_scans(ctx),
        thresholds=service.list_thresholds(ctx),
    )


def _start_scan(ctx: Ctx, start: str, end: str, audit_trail: bool) -> jobs.JobView:
    lo, hi = _date(start), _date(end)
    params = {
        "start": lo.isoformat() if lo else None,
        "end": hi.isoformat() if hi else None,
        "audit_trail": audit_trail,
    }
    return jobs.submit(ctx, "oplog_scan", params)


def _job_scan(settings, actor, params: dict[str, Any], progress) -> dict[str, Any]:
    """The scan as a background job: one transaction, so a killed worker leaves nothing."""
    lo, hi = _date(params.get("start") or ""), _date(params.get("end") or "")
    with context(settings, actor) as job_ctx:
        result = service.run_scan(
            job_ctx, lo, hi, audit_trail=bool(params.get("audit_trail")), progress=progress
        )
    return {
        "scan_id": result.scan_id,
        "events": result.events,
        "alerts": len(result.alerts),
        "new": result.new,
        "suppressed": result.suppressed,
    }


# The stored result holds counts only, no personal values.
jobs.register("oplog_scan", "oplog.scan", _job_scan)


@router.post("/oplog/scan")
def scan_start(
    request: Request,
    ctx: Scan,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    audit_trail: Annotated[str, Form()] = "",
) -> Response:
    job = _start_scan(ctx, start, end, bool(audit_trail))
    return page(request, "oplog/_job.html", job=job)


@router.get("/oplog/scan/jobs/{job_id}")
def scan_job(request: Request, ctx: Scan, job_id: str) -> Response:
    return page(request, "oplog/_job.html", job=jobs.get(ctx, job_id, "oplog_"))


@router.post("/oplog/thresholds")
def thresholds_set(
    ctx: Scan, name: Annotated[str, Form()] = "", value: Annotated[str, Form()] = ""
) -> Response:
    service.set_threshold(ctx, name, value.strip() or None)
    return RedirectResponse("/oplog/scan", status_code=303)


# --- report and notices --------------------------------------------------------------------


@router.get("/oplog/report")
def report_page(request: Request, ctx: Report, start: str = "", end: str = "") -> Response:
    lo, hi = _period(ctx, start, end)
    return page(
        request,
        "oplog/report_page.html",
        data=service.report_data(ctx, lo, hi),
        notices=service.list_notices(ctx),
        start=lo,
        end=hi,
    )


@router.get("/oplog/report/download")
def report_download(
    ctx: Report, start: str = "", end: str = "", format: str = "html", lang: str = ""
) -> Response:
    from kumin.oplog.report import make_report
    from kumin.reports.render import check_report_format

    check_report_format(format, ("html", "pdf", "json"))
    lo, hi = _period(ctx, start, end)
    body, name = make_report(ctx, lo, hi, format, lang or None)
    media = {"html": "text/html", "pdf": "application/pdf", "json": "application/json"}[format]
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/oplog/notices")
def notices_issue(
    ctx: Report,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
) -> Response:
    lo, hi = _period(ctx, start, end)
    service.issue_notices(ctx, lo, hi, department or None)
    return RedirectResponse(f"/oplog/report?start={lo}&end={hi}", status_code=303)


@router.get("/oplog/notices/{notice_id:int}")
def notice_download(ctx: Report, notice_id: int, format: str = "html", lang: str = "") -> Response:
    from kumin.oplog.report import make_notice
    from kumin.reports.render import check_report_format

    check_report_format(format, ("html", "pdf"))
    body, name = make_notice(ctx, notice_id, format, lang or None)
    if format == "pdf":
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(body, media_type="text/html")


# --- JSON API ------------------------------------------------------------------------------


@api_router.get("/oplog/alerts")
def api_alerts(
    ctx: Triage,
    state: str = "",
    rule: str = "",
    department: str = "",
    severity: str = "",
    start: str = "",
    end: str = "",
    limit: int = 200,
    offset: int = 0,
) -> Response:
    rows = service.list_alerts(
        ctx,
        state=state or None,
        rule=rule or None,
        department=department or None,
        severity=severity or None,
        start=_date(start),
        end=_date(end),
        limit=max(1, min(limit, 5000)),
        offset=max(0, offset),
    )
    return JSONResponse({"alerts": rows})


@api_router.get("/oplog/alerts/{alert_id:int}")
def api_alert(ctx: Triage, alert_id: int) -> Response:
    return JSONResponse(_jsonable(service.get_alert(ctx, alert_id)))


@api_router.post("/oplog/alerts/{alert_id:int}/triage")
def api_triage(
    ctx: Triage, alert_id: int, body: Annotated[dict[str, Any] | None, Body()] = None
) -> Response:
    body = body or {}
    row = _triage(
        ctx,
        alert_id,
        str(body.get("step") or ""),
        str(body.get("outcome") or ""),
        str(body.get("note") or ""),
    )
    return JSONResponse({"alert": row})


@api_router.post("/oplog/scan")
def api_scan(ctx: Scan, start: str = "", end: str = "") -> Response:
    result = service.run_scan(ctx, _date(start), _date(end))
    return JSONResponse(
        {
            "scan_id": result.scan_id,
            "events": result.events,
            "new": result.new,
            "suppressed": result.suppressed,
            "alerts": result.alerts,
        }
    )


@api_router.get("/oplog/suppressions")
def api_suppressions(ctx: Triage) -> Response:
    return JSONResponse({"suppressions": _jsonable(service.list_suppressions(ctx, True))})


@api_router.get("/oplog/report")
def api_report(ctx: Report, start: str = "", end: str = "") -> Response:
    lo, hi = _period(ctx, start, end)
    return JSONResponse(_jsonable(service.report_data(ctx, lo, hi)))


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
