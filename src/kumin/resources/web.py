"""Web pages and JSON API of the resources domain: the call centre, the staffing
calculator and plan, the continuity of core services and the evaluation report.

Every route names its action through ``Permit``; every number comes from the
same service functions the CLI calls.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import func, select

from kumin.core import snapshots
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.core.uploads import discard_upload, save_upload
from kumin.errors import DataError, NotFound, UserError
from kumin.reports.charts import to_plotly
from kumin.resources import report, service, service_continuity, service_plan
from kumin.resources.models import WARD_CENTRE, CallDay
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.pages import DASHBOARD_CARDS
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["resources"])

CallsRead = Annotated[Ctx, Depends(Permit("calls.read"))]
CallsManage = Annotated[Ctx, Depends(Permit("calls.manage"))]
ContinuityRead = Annotated[Ctx, Depends(Permit("continuity.read"))]
ContinuityManage = Annotated[Ctx, Depends(Permit("continuity.manage"))]
EvaluationRead = Annotated[Ctx, Depends(Permit("evaluation.report"))]

add_nav(
    NavItem("resources.nav.calls", "/calls", "calls.read"),
    NavItem("resources.nav.staffing", "/calls/staffing", "calls.read"),
    NavItem("resources.nav.plan", "/calls/plan", "calls.read"),
    NavItem("resources.nav.continuity", "/continuity", "continuity.read"),
    NavItem("resources.nav.evaluation", "/reports/evaluation", "evaluation.report"),
)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _query(**params: Any) -> str:
    from urllib.parse import urlencode

    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(kept)) if kept else ""


async def _saved_upload(upload: UploadFile) -> Path:
    return save_upload(upload)


def _dashboard_card(ctx: Ctx) -> dict[str, Any]:
    last = ctx.session.scalar(select(func.max(CallDay.date)).where(CallDay.centre == WARD_CENTRE))
    days = ctx.session.scalar(select(func.count()).select_from(CallDay)) or 0
    rows = [(t("resources.calls.days_stored"), f"{days:,}")]
    if last is not None:
        rows.append((t("resources.calls.last_day"), last.isoformat()))
    return {"title": t("resources.nav.calls"), "rows": rows, "href": "/calls"}


if not any(action == "calls.read" for action, _ in DASHBOARD_CARDS):
    DASHBOARD_CARDS.append(("calls.read", _dashboard_card))


# ---------------------------------------------------------------- calls pages


def _calls_context(ctx: Ctx, centre: str | None, start: str, end: str) -> dict[str, Any]:
    centres = service.list_centres(ctx)
    names = [c["centre"] for c in centres]
    chosen = centre or (WARD_CENTRE if WARD_CENTRE in names else (names[0] if names else None))
    found = {"summary": None, "notes": [], "staffing": False}
    if chosen is not None:
        found = _centre_summary(ctx, chosen, start, end)
    return {
        "centres": centres,
        "centre": chosen,
        "start": start,
        "end": end,
        **found,
        "query": _query(centre=chosen, **{"from": start, "to": end}),
    }


def _centre_summary(ctx: Ctx, centre: str, start: str, end: str) -> dict[str, Any]:
    """The page's figures of one centre, kept in the database until calls or cases
    change: the model effects cost 3.5 CPU seconds per view (aggregates only; the
    notes are message keys, so one snapshot serves both languages)."""
    ctx.authorize("calls.read")

    def compute() -> dict[str, Any]:
        try:
            summaries = service.calls_summary(ctx, _date(start), _date(end), centre)
        except DataError:
            summaries = []
        frame = service.call_frame(ctx, centre, _date(start), _date(end))
        first = summaries[0] if summaries else None
        return {
            "summary": first.as_dict() if first else None,
            "notes": [n for n in (first.staff_effect_note, first.lead_lag_note) if n]
            if first
            else [],
            "staffing": bool(service.has_staffing(frame)),
        }

    key = "calls.summary:" + json.dumps([centre, start, end])
    return snapshots.cached(ctx.session, key, _evidence_tables(), compute)


@router.get("/calls")
def calls_page(
    request: Request,
    ctx: CallsRead,
    centre: str = "",
    to: str = "",
) -> Response:
    start = request.query_params.get("from", "")
    return page(request, "resources/calls.html", **_calls_context(ctx, centre or None, start, to))


@router.post("/calls/import")
async def calls_import(
    request: Request,
    ctx: CallsManage,
    file: Annotated[UploadFile, File()],
    profile: Annotated[str, Form()] = "call_centre_daily",
    centre: Annotated[str, Form()] = "",
) -> Response:
    from kumin.web.uploads import import_upload

    result, failure = import_upload(
        ctx,
        file,
        lambda path: service.import_calls(
            ctx, path, profile, centre or None, display_name=path.name
        ),
    )
    if failure:
        context = _calls_context(ctx, None, "", "")
        return page(
            request, "resources/calls.html", status_code=400, upload_error=failure, **context
        )
    context = _calls_context(ctx, result.name, "", "")
    return page(request, "resources/calls.html", imported=result, **context)


def _calls_chart(ctx: Ctx, name: str, centre: str, start: str, end: str) -> dict[str, Any]:
    lang = ctx.lang
    frame = service.call_frame(ctx, centre, _date(start), _date(end))
    if name == "daily":
        return to_plotly(report.daily_calls_chart(frame, lang))
    if name == "answer_rate":
        return to_plotly(report.answer_rate_chart(frame, lang))
    if name == "saturation":
        summary = None
        if service.has_staffing(frame) and frame.height:
            summary = service.calls_summary(ctx, _date(start), _date(end), centre)[0]
        return to_plotly(report.saturation_chart(frame, summary, lang))
    raise NotFound("resources.web.no_chart", name=name)


@router.get("/calls/charts/{name}.json")
def calls_chart(
    request: Request, ctx: CallsRead, name: str, centre: str = WARD_CENTRE, to: str = ""
) -> dict[str, Any]:
    return _calls_chart(ctx, name, centre, request.query_params.get("from", ""), to)


# ---------------------------------------------------------------- staffing calculator


def _staffing_params(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "arrivals_per_hour": q.get("arrivals_per_hour", "120"),
        "handle_seconds": q.get("handle_seconds", "360"),
        "answer_within": q.get("answer_within", "30"),
        "service_level": q.get("service_level", "0.8"),
        "patience_seconds": q.get("patience_seconds", ""),
    }


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserError("resources.web.bad_number", name=name, value=value) from None


def _answer(ctx: Ctx, params: dict[str, Any]):
    patience = params["patience_seconds"]
    return service_plan.staffing_answer(
        ctx,
        _number(params["arrivals_per_hour"], "arrivals_per_hour"),
        _number(params["handle_seconds"], "handle_seconds"),
        _number(params["answer_within"], "answer_within"),
        _number(params["service_level"], "service_level"),
        _number(patience, "patience_seconds") if patience else None,
    ).as_dict()


@router.get("/calls/staffing")
def staffing_page(request: Request, ctx: CallsRead) -> Response:
    params = _staffing_params(request)
    answer = error = None
    if "arrivals_per_hour" in request.query_params:
        try:
            answer = _answer(ctx, params)
        except UserError as exc:
            error = exc.render(ctx.lang)
    return page(request, "resources/staffing.html", params=params, answer=answer, error=error)


@router.get("/calls/staffing/answer")
def staffing_fragment(request: Request, ctx: CallsRead) -> Response:
    """The calculator's result alone, for HTMX."""
    params = _staffing_params(request)
    try:
        answer, error = _answer(ctx, params), None
    except UserError as exc:
        answer, error = None, exc.render(ctx.lang)
    return page(request, "resources/staffing_answer.html", answer=answer, error=error)


# ---------------------------------------------------------------- plan


def _plan_args(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "centre": q.get("centre") or WARD_CENTRE,
        "from": q.get("from", ""),
        "to": q.get("to", ""),
        "handle_seconds": q.get("handle_seconds", ""),
        "answer_within": q.get("answer_within", "30"),
        "service_level": q.get("service_level", "0.8"),
        "patience_seconds": q.get("patience_seconds", ""),
        "shrinkage": q.get("shrinkage", "0.3"),
        "occupancy_cap": q.get("occupancy_cap", "0.85"),
    }


def _plan(ctx: Ctx, args: dict[str, Any]) -> service_plan.PlanResult:
    handle = args["handle_seconds"]
    patience = args["patience_seconds"]
    return service_plan.calls_plan(
        ctx,
        None,
        _date(args["from"]),
        _date(args["to"]),
        args["centre"],
        _number(handle, "handle_seconds") if handle else None,
        _number(args["answer_within"], "answer_within"),
        _number(args["service_level"], "service_level"),
        _number(patience, "patience_seconds") if patience else None,
        _number(args["shrinkage"], "shrinkage"),
        occupancy_cap=_number(args["occupancy_cap"], "occupancy_cap"),
    )


@router.get("/calls/plan")
def plan_page(request: Request, ctx: CallsRead) -> Response:
    args = _plan_args(request)
    result = error = None
    try:
        result = _plan(ctx, args)
    except UserError as exc:
        error = exc.render(ctx.lang)
    days = []
    if result is not None:
        days = [r for r in result.plan.by_day.iter_rows(named=True) if r.get("status") != "ok"]
    return page(
        request,
        "resources/plan.html",
        args=args,
        result=result,
        totals=result.totals() if result else None,
        plan_text=report.plan_cost_text(result, ctx.lang) if result else None,
        # every day: the table pages, filters and downloads in the browser (#14)
        days=days,
        error=error,
        centres=service.list_centres(ctx),
        query=_query(**args),
    )


@router.get("/calls/plan/chart.json")
def plan_chart(request: Request, ctx: CallsRead) -> dict[str, Any]:
    return to_plotly(report.plan_chart(_plan(ctx, _plan_args(request)), ctx.lang))


# ---------------------------------------------------------------- continuity


def _continuity_context(ctx: Ctx, baseline_end: str) -> dict[str, Any]:
    assessment = error = None
    try:
        assessment = service_continuity.assess(ctx, baseline_end)
    except UserError as exc:
        error = exc.render(ctx.lang)
    return {
        "baseline_end": baseline_end,
        "rows": service_continuity.verdict_rows(assessment) if assessment else [],
        "error": error,
        "service_label": lambda s: report.service_label(s, ctx.lang),
        "query": _query(baseline_end=baseline_end),
    }


@router.get("/continuity")
def continuity_page(
    request: Request,
    ctx: ContinuityRead,
    baseline_end: str = service_continuity.DEFAULT_BASELINE_END,
) -> Response:
    return page(request, "resources/continuity.html", **_continuity_context(ctx, baseline_end))


@router.post("/continuity/import")
async def continuity_import(
    request: Request, ctx: ContinuityManage, file: Annotated[UploadFile, File()]
) -> Response:
    from kumin.web.uploads import import_upload

    result, failure = import_upload(
        ctx,
        file,
        lambda path: service_continuity.import_service_counts(ctx, path, display_name=path.name),
    )
    if failure:
        context = _continuity_context(ctx, service_continuity.DEFAULT_BASELINE_END)
        return page(
            request,
            "resources/continuity.html",
            status_code=400,
            upload_error=failure,
            **context,
        )
    context = _continuity_context(ctx, service_continuity.DEFAULT_BASELINE_END)
    return page(request, "resources/continuity.html", imported=result, **context)


@router.get("/continuity/charts/{service_name}.json")
def continuity_chart(
    ctx: ContinuityRead,
    service_name: str,
    baseline_end: str = service_continuity.DEFAULT_BASELINE_END,
) -> dict[str, Any]:
    assessment = service_continuity.assess(ctx, baseline_end)
    if service_name not in {v.service for v in assessment.verdicts}:
        raise NotFound("resources.web.no_service", name=service_name)
    counts = service_continuity.service_counts_frame(ctx)
    return to_plotly(report.continuity_chart(assessment, counts, service_name, ctx.lang))


# ---------------------------------------------------------------- evaluation report


# The report takes 7–80 s to compute (queueing calibration month by month, the
# backtest, the next wave) and its page loads a dozen charts: what the page, its
# charts and the API show is kept in the database (kumin.core.snapshots) until
# calls, service counts or cases change, so any worker or machine serves it.
def _evidence_tables() -> list:
    return snapshots.tables_with_prefix("resources_", "cases_records")


def _evaluation(ctx: Ctx, start: str, end: str) -> dict[str, Any]:
    """The evaluation as shown: body HTML, Plotly charts, findings, notes (aggregates only)."""
    ctx.authorize("evaluation.report")
    lang = ctx.lang
    query = _query(**{"from": start, "to": end})

    def compute() -> dict[str, Any]:
        from kumin.reports.render import render_html

        ev = report.evaluation(ctx, _date(start), _date(end), lang)
        charts = ev.charts()

        def chart_html(name: str) -> Markup:
            url = f"/reports/evaluation/charts/{name}.json{query}"
            return Markup('<div class="plot" data-figure="{}"></div>').format(url)

        body = render_html(
            "resources/evaluation_body.html",
            lang,
            ev=ev,
            charts=list(charts),
            chart_html=chart_html,
            service_label=lambda s: report.service_label(s, lang),
            start=start,
            end=end,
            query=query,
        )
        return {
            "body": body,
            "charts": {name: to_plotly(chart) for name, chart in charts.items()},
            "findings": [{"text": text, "attention": warn} for text, warn in ev.findings],
            "notes": ev.notes,
        }

    key = "evaluation:" + json.dumps([start, end, lang])
    return snapshots.cached(ctx.session, key, _evidence_tables(), compute)


@router.get("/reports/evaluation")
def evaluation_page(request: Request, ctx: EvaluationRead, to: str = "") -> Response:
    start = request.query_params.get("from", "")
    ev = _evaluation(ctx, start, to)
    ctx.audit(
        "evaluation.report", "report:evaluation", purpose="report", format="web", lang=ctx.lang
    )
    return page(
        request,
        "resources/evaluation.html",
        body=Markup(ev["body"]),  # rendered (escaped) by our own template
        start=start,
        end=to,
        query=_query(**{"from": start, "to": to}),
    )


@router.get("/reports/evaluation/charts/{name}.json")
def evaluation_chart(request: Request, ctx: EvaluationRead, name: str, to: str = "") -> dict:
    ev = _evaluation(ctx, request.query_params.get("from", ""), to)
    chart = ev["charts"].get(name)
    if chart is None:
        raise NotFound("resources.web.no_chart", name=name)
    return chart


@router.get("/reports/evaluation/download")
def evaluation_download(
    request: Request, ctx: EvaluationRead, format: str = "pdf", to: str = ""
) -> Response:
    start = request.query_params.get("from", "")
    data = report.render_evaluation(ctx, _date(start), _date(to), format, ctx.lang)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    return Response(
        content=data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="evaluation.{format}"'},
    )


# ---------------------------------------------------------------- JSON API


@api_router.get("/calls/centres")
def api_centres(ctx: CallsRead) -> list[dict[str, Any]]:
    return service.list_centres(ctx)


@api_router.get("/calls/days")
def api_days(request: Request, ctx: CallsRead, centre: str = WARD_CENTRE, to: str = "") -> list:
    frame = service.call_frame(ctx, centre, _date(request.query_params.get("from")), _date(to))
    return frame.to_dicts()


@api_router.get("/calls/summary")
def api_summary(request: Request, ctx: CallsRead, centre: str = "", to: str = "") -> list:
    start = _date(request.query_params.get("from"))
    return [s.as_dict() for s in service.calls_summary(ctx, start, _date(to), centre or None)]


@api_router.get("/calls/staffing")
def api_staffing(
    ctx: CallsRead,
    arrivals_per_hour: float,
    handle_seconds: float,
    answer_within: float,
    service_level: float,
    patience_seconds: float | None = None,
) -> dict[str, Any]:
    result = service_plan.staffing_answer(
        ctx, arrivals_per_hour, handle_seconds, answer_within, service_level, patience_seconds
    )
    return result.as_dict()


@api_router.get("/calls/plan")
def api_plan(request: Request, ctx: CallsRead, by: str = "day") -> dict[str, Any]:
    result = _plan(ctx, _plan_args(request))
    frame = result.plan.by_hour if by == "hour" else result.plan.by_day
    return {
        "totals": result.totals(),
        "by_" + ("hour" if by == "hour" else "day"): frame.to_dicts(),
    }


@api_router.post("/calls/import")
async def api_calls_import(
    ctx: CallsManage,
    file: Annotated[UploadFile, File()],
    profile: Annotated[str, Form()] = "call_centre_daily",
    centre: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    path = await _saved_upload(file)
    try:
        result = service.import_calls(ctx, path, profile, centre or None, display_name=path.name)
    finally:
        discard_upload(path)
    return result.as_dict()


@api_router.get("/continuity/counts")
def api_counts(ctx: ContinuityRead) -> list[dict[str, Any]]:
    frame = service_continuity.service_counts_frame(ctx)
    return [{**r, "month": f"{r['month']:%Y-%m}"} for r in frame.iter_rows(named=True)]


@api_router.get("/continuity/assessment")
def api_assessment(
    ctx: ContinuityRead,
    baseline_end: str = service_continuity.DEFAULT_BASELINE_END,
    crisis_end: str | None = None,
) -> dict[str, Any]:
    assessment = service_continuity.assess(ctx, baseline_end, crisis_end=crisis_end)
    return service_continuity.assessment_json(assessment)


@api_router.post("/continuity/import")
async def api_continuity_import(
    ctx: ContinuityManage, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    path = await _saved_upload(file)
    try:
        result = service_continuity.import_service_counts(ctx, path, display_name=path.name)
    finally:
        discard_upload(path)
    return result.as_dict()


@api_router.get("/reports/evaluation")
def api_evaluation(request: Request, ctx: EvaluationRead, to: str = "") -> dict[str, Any]:
    """The report's findings and notes, in the user's language."""
    start = request.query_params.get("from", "")
    ev = _evaluation(ctx, start, to)
    ctx.audit(
        "evaluation.report", "report:evaluation", purpose="report", format="json", lang=ctx.lang
    )
    return {
        "from": start or None,
        "to": to or None,
        "findings": ev["findings"],
        "notes": ev["notes"],
        "charts": list(ev["charts"]),
    }
