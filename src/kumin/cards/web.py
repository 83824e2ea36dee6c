"""Web pages and JSON API of the cards domain: card search, the workflow page, the
windows calendar, the security report and the national picture.

Every route names its action through ``Permit``; pages and API call the same
service functions as the CLI. No page has a field for a PIN, and no route reads
one: form fields and JSON keys other than the ones declared are ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from kumin.cards import service, service_records
from kumin.cards.models import Card
from kumin.cards.records import Channel
from kumin.cards.workflow import PHOTO_DOCUMENTS, Document, FaceResult
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.errors import UserError
from kumin.reports.charts import Chart, Series, to_plotly
from kumin.reports.security import FORMATS, make_security_report, security_report
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.pages import DASHBOARD_CARDS
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["cards"])

Read = Annotated[Ctx, Depends(Permit("cards.read"))]
Manage = Annotated[Ctx, Depends(Permit("cards.manage"))]
National = Annotated[Ctx, Depends(Permit("cards.national"))]
Report = Annotated[Ctx, Depends(Permit("security.report"))]

add_nav(
    NavItem("cards.nav.cards", "/cards", "cards.read"),
    NavItem("cards.nav.windows", "/cards/windows", "cards.read"),
    NavItem("cards.nav.report", "/cards/report", "security.report"),
    NavItem("cards.nav.national", "/cards/national", "cards.national"),
)

STEP_CHANNELS = [c.value for c in Channel if c is not Channel.WINDOW]
FACES = [f.value for f in FaceResult]
DOCUMENTS = [d.value for d in Document]
PHOTO = {d.value for d in PHOTO_DOCUMENTS}  # marked on the form: one suffices
REVOKE_REASONS = ["move_out", "death", "expiry", "return", "reissue"]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _at(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _default_fy(ctx: Ctx | None = None) -> int:
    """The last complete fiscal year (the report is made after it ends), or the
    latest one with Juki-net records if those end earlier (e.g. the demo ward)."""
    today = dt.date.today()
    last = (today.year if today.month >= 4 else today.year - 1) - 1
    if ctx is None:
        return last
    from kumin.cards.models import Inquiry, JukiTransaction

    latest = max(
        (
            d
            for d in (
                ctx.session.scalar(select(func.max(Inquiry.date))),
                ctx.session.scalar(select(func.max(JukiTransaction.date))),
            )
            if d is not None
        ),
        default=None,
    )
    if latest is None:
        return last
    return min(last, latest.year if latest.month >= 4 else latest.year - 1)


def _dashboard(ctx: Ctx) -> dict[str, Any]:
    rows = ctx.session.execute(
        select(Card.step, func.count())
        .where(Card.source == "workflow", Card.step.is_not(None))
        .group_by(Card.step)
    ).all()
    return {
        "title": t("cards.web.dashboard_title"),
        "rows": [(t(f"cards.label.step_{step}"), f"{n:,}") for step, n in sorted(rows)],
        "href": "/cards",
    }


DASHBOARD_CARDS.append(("cards.read", _dashboard))


# --- pages: search, apply, workflow ---------------------------------------------------------


def _search_page(
    request: Request,
    ctx: Ctx,
    found: dict | None,
    resident_no: str = "",
    purpose: str = "",
    status_code: int = 200,
    **extra: Any,
) -> Response:
    return page(
        request,
        "cards/search.html",
        status_code=status_code,
        **extra,
        found=found,
        resident_no=resident_no,
        purpose=purpose,
        recent=service.list_cards(ctx, limit=20),
        windows=service_records.windows(ctx),
        channels=STEP_CHANNELS,
        faces=FACES,
        documents=DOCUMENTS,
        photo_documents=PHOTO,
        now=service.now().isoformat(timespec="minutes"),
    )


def _resident_no(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise UserError("cards.service.bad_resident_no", value=value) from None


@router.get("/cards")
def cards_page(request: Request, ctx: Read) -> Response:
    return _search_page(request, ctx, None)


# The resident number travels in the form body, never in a URL (logs, history).
@router.post("/cards/search")
def cards_search(
    request: Request,
    ctx: Read,
    resident_no: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
) -> Response:
    number = _resident_no(resident_no)
    found = service.find_resident(ctx, number, purpose)
    return _search_page(request, ctx, found, str(number), purpose)


@router.post("/cards/residents")
def resident_add(
    request: Request,
    ctx: Manage,
    resident_no: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    number = _resident_no(resident_no)
    service.register_resident(ctx, number, name, _date(birth_date), address)
    found = service.find_resident(ctx, number, "registration")
    return _search_page(request, ctx, found, str(number))


@router.post("/cards/apply")
def apply_page(
    ctx: Manage,
    resident_no: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "visit_at_issuance",
    channel: Annotated[str, Form()] = "",
    window: Annotated[str, Form()] = "",
    face: Annotated[str, Form()] = "",
    documents: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    at: Annotated[str, Form()] = "",
) -> Response:
    number = _resident_no(resident_no)
    if method == "visit_at_application":
        row = service.apply_at_window(ctx, number, window, face, documents, _at(at))
    else:
        row = service.apply(ctx, number, channel, _at(at))
    return RedirectResponse(f"/cards/{row['card_id']}", status_code=303)


@router.post("/cards/move-in")
def move_in_page(
    ctx: Manage,
    resident_no: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    from_code: Annotated[str, Form()] = "",
) -> Response:
    row = service.move_in(ctx, _resident_no(resident_no), _date(on), from_code.strip() or None)
    return RedirectResponse(f"/cards/{row['card_id']}", status_code=303)


def _step_kwargs(action: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The arguments a step action takes, from submitted fields (anything else ignored)."""
    kw: dict[str, Any] = {"at": _at(fields.get("at"))}
    if action == "arrive":
        kw["window"] = fields.get("window") or ""
    elif action == "check_identity":
        kw["face"] = fields.get("face") or ""
        kw["documents"] = list(fields.get("documents") or [])
    elif action in ("issue", "deliver"):
        kw["signature"] = str(fields.get("signature", "yes")).lower() not in ("no", "false", "0")
    elif action == "shred_form":
        kw["by"] = fields.get("by") or None
    elif action == "mail":
        kw["tracking_no"] = fields.get("tracking_no") or None
    elif action in ("return", "cancel"):
        kw["reason"] = fields.get("reason") or ""
    return kw


def _run_step(ctx: Ctx, card_id: int, action: str, fields: dict[str, Any]) -> dict:
    fn = service.STEP_ACTIONS.get(action)
    if fn is None:
        raise UserError("cards.web.bad_action", action=action)
    return fn(ctx, card_id, **_step_kwargs(action, fields))


def _run_state(ctx: Ctx, card_id: int, action: str, fields: dict[str, Any]) -> dict:
    on = _date(fields.get("on"))
    if action == "suspend":
        return service.suspend(ctx, card_id, on, fields.get("reason") or "lost")
    if action == "resume":
        return service.resume(ctx, card_id, on)
    if action == "revoke":
        return service.revoke(ctx, card_id, fields.get("reason") or "", on)
    if action == "move_out":
        return service.move_out(ctx, card_id, on)
    if action == "certificate":
        return service.certificate(
            ctx, card_id, fields.get("cert_type") or "", fields.get("cert_action") or "", on
        )
    raise UserError("cards.web.bad_action", action=action)


@router.get("/cards/{card_id:int}")
def card_page(request: Request, ctx: Read, card_id: int) -> Response:
    view = service.card_view(ctx, card_id)
    return page(
        request,
        "cards/card.html",
        view=view,
        card=view["card"],
        windows=service_records.windows(ctx),
        faces=FACES,
        documents=DOCUMENTS,
        photo_documents=PHOTO,
        reasons=REVOKE_REASONS,
        now=service.now().isoformat(timespec="minutes"),
    )


@router.post("/cards/{card_id:int}/step/{action}")
def card_step(
    ctx: Manage,
    card_id: int,
    action: str,
    at: Annotated[str, Form()] = "",
    window: Annotated[str, Form()] = "",
    face: Annotated[str, Form()] = "",
    documents: Annotated[list[str], Form()] = [],  # noqa: B006
    by: Annotated[str, Form()] = "",
    tracking_no: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "yes",
) -> Response:
    fields = {
        "at": at,
        "window": window,
        "face": face,
        "documents": documents,
        "by": by,
        "tracking_no": tracking_no,
        "reason": reason,
        "signature": signature,
    }
    _run_step(ctx, card_id, action, fields)
    return RedirectResponse(f"/cards/{card_id}", status_code=303)


@router.post("/cards/{card_id:int}/state/{action}")
def card_state(
    ctx: Manage,
    card_id: int,
    action: str,
    on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    cert_type: Annotated[str, Form()] = "",
    cert_action: Annotated[str, Form()] = "",
) -> Response:
    fields = {"on": on, "reason": reason, "cert_type": cert_type, "cert_action": cert_action}
    _run_state(ctx, card_id, action, fields)
    return RedirectResponse(f"/cards/{card_id}", status_code=303)


# --- windows, report, national -----------------------------------------------------------------


@router.post("/cards/history/import")
def history_import(
    request: Request, ctx: Manage, files: Annotated[list[UploadFile], File()] = None
) -> Response:
    """The card-management system's export (cards.csv, card_events.csv, …), all or nothing."""
    from kumin.web.uploads import import_uploads

    counts, failure = import_uploads(
        ctx, files, lambda folder: service_records.import_history(ctx, folder)
    )
    if failure:
        return _search_page(request, ctx, None, status_code=400, upload_error=failure)
    return _search_page(request, ctx, None, history_imported=counts)


@router.post("/cards/windows/import")
def windows_import(
    request: Request, ctx: Manage, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Replace the window list from a file (see ``kumin cards windows import``)."""
    from kumin.web.uploads import import_upload

    result, failure = import_upload(
        ctx, file, lambda path: service_records.import_windows(ctx, path)
    )
    if failure:
        return _windows_page(request, ctx, status_code=400, upload_error=failure)
    return _windows_page(request, ctx, windows_imported=result["windows"])


@router.get("/cards/windows")
def windows_page(request: Request, ctx: Read, date: str = "") -> Response:
    return _windows_page(request, ctx, date)


def _windows_page(
    request: Request, ctx: Ctx, date: str = "", status_code: int = 200, **extra: Any
) -> Response:
    day = _date(date) or dt.date.today()
    return page(
        request,
        "cards/windows.html",
        status_code=status_code,
        **extra,
        day=day,
        prev_day=day - dt.timedelta(days=1),
        next_day=day + dt.timedelta(days=1),
        open_now=service_records.windows_on(ctx, day),
        windows=service_records.list_windows(ctx),
    )


@router.get("/cards/report")
def report_page(request: Request, ctx: Report, fy: int | None = None) -> Response:
    year = fy or _default_fy(ctx)
    report = security_report(ctx, year)
    ctx.audit("security.report", f"report:security:FY{year}", format="web", lang=report.lang)
    return page(request, "cards/report.html", report=report, fy=year, formats=FORMATS)


@router.post("/cards/report/publish")
def report_publish(
    ctx: Annotated[Ctx, Depends(Permit("security.publish"))], fy: Annotated[int, Form()]
) -> Response:
    """Publish the year's report and close the year (the auditor's button)."""
    from kumin.reports.publication import publish_security

    publish_security(ctx, fy)
    return RedirectResponse(f"/cards/report?fy={fy}", status_code=303)


@router.post("/cards/report/reopen")
def report_reopen(
    ctx: Annotated[Ctx, Depends(Permit("security.reopen"))],
    fy: Annotated[int, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Re-open a published year, with the reason (audited)."""
    from kumin.reports.publication import reopen_security

    reopen_security(ctx, fy, reason)
    return RedirectResponse(f"/cards/report?fy={fy}", status_code=303)


@router.get("/cards/report/download")
def report_download(ctx: Report, fy: int | None = None, format: str = "csv") -> Response:
    body, media, name = make_security_report(ctx, fy or _default_fy(ctx), format)
    return Response(
        content=body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _national_chart(ctx: Ctx, code: str) -> Chart:
    frame = service_records.national_ratio(ctx, code)
    x = frame["date"].to_list()
    return Chart(
        t("cards.web.national_chart"),
        [
            Series(t("cards.web.national_ward"), x, frame["ward"].to_list()),
            Series(t("cards.web.national_23"), x, frame["tokyo_23_wards"].to_list(), dash=True),
            Series(t("cards.web.national_pref"), x, frame["prefecture"].to_list(), dash=True),
            Series(t("cards.web.national_country"), x, frame["country"].to_list()),
        ],
        y_title="%",
    )


@router.get("/cards/national")
def national_page(request: Request, ctx: National, code: str = "131121") -> Response:
    return _national_page(request, ctx, code)


def _national_page(
    request: Request, ctx: Ctx, code: str = "131121", status_code: int = 200, **extra: Any
) -> Response:
    from kumin.errors import NotFound

    try:
        frame = service_records.national_ratio(ctx, code)
    except NotFound:
        frame = None
    return page(
        request,
        "cards/national.html",
        status_code=status_code,
        rows=frame.to_dicts() if frame is not None else [],
        code=code,
        **extra,
    )


@router.post("/cards/national/import")
def national_import(
    request: Request, ctx: National, files: Annotated[list[UploadFile], File()] = None
) -> Response:
    """The Ministry's municipal figures: one or more ``all_localgovs.csv`` snapshots and,
    optionally, ``citycode.csv`` (see ``kumin cards national import``)."""
    from kumin.cards.national import FILE_NAME
    from kumin.web.uploads import import_uploads

    def run(folder):
        snapshots = 0
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            for path in sub.iterdir():
                if path.name.lower() == "citycode.csv":
                    path.replace(folder / "citycode.csv")
                else:  # the snapshot's own name may differ from the Ministry's
                    path.replace(sub / FILE_NAME)
                    snapshots += 1
        if not snapshots:
            raise UserError("cards.web.national_no_snapshot")
        return service_records.import_national(ctx, folder)

    result, failure = import_uploads(ctx, files, run, apart=True)
    if failure:
        return _national_page(request, ctx, status_code=400, upload_error=failure)
    return _national_page(request, ctx, national_imported=result)


@router.get("/cards/charts/national.json")
def national_chart(ctx: National, code: str = "131121") -> dict:
    return to_plotly(_national_chart(ctx, code))


# --- JSON API ---------------------------------------------------------------------------------


@api_router.post("/cards/residents/search")
def api_resident(ctx: Read, payload: Annotated[dict, Body()] = {}) -> dict:  # noqa: B006
    """A resident's cards; the number is sent in the body, never in the URL."""
    number = _resident_no(payload.get("resident_no") or 0)
    return service.find_resident(ctx, number, str(payload.get("purpose") or ""))


@api_router.post("/cards/residents")
def api_resident_add(ctx: Manage, payload: Annotated[dict, Body()] = {}) -> dict:  # noqa: B006
    number = int(payload.get("resident_no") or 0)
    service.register_resident(
        ctx,
        number,
        str(payload.get("name") or ""),
        _date(payload.get("birth_date")),
        payload.get("address"),
    )
    return {"resident_no": number}


@api_router.get("/cards/{card_id:int}")
def api_card(ctx: Read, card_id: int) -> dict:
    return service.card_view(ctx, card_id)


@api_router.post("/cards/apply")
def api_apply(ctx: Manage, payload: Annotated[dict, Body()] = {}) -> dict:  # noqa: B006
    number = int(payload.get("resident_no") or 0)
    if payload.get("method") == "visit_at_application":
        return service.apply_at_window(
            ctx,
            number,
            str(payload.get("window") or ""),
            str(payload.get("face") or ""),
            list(payload.get("documents") or []),
            _at(payload.get("at")),
        )
    return service.apply(ctx, number, str(payload.get("channel") or ""), _at(payload.get("at")))


@api_router.post("/cards/{card_id:int}/steps/{action}")
def api_step(
    ctx: Manage,
    card_id: int,
    action: str,
    payload: Annotated[dict, Body()] = {},  # noqa: B006
) -> dict:
    return _run_step(ctx, card_id, action, payload)


@api_router.post("/cards/{card_id:int}/state/{action}")
def api_state(
    ctx: Manage,
    card_id: int,
    action: str,
    payload: Annotated[dict, Body()] = {},  # noqa: B006
) -> dict:
    return _run_state(ctx, card_id, action, payload)


@api_router.get("/cards/windows")
def api_windows(ctx: Read, date: str = "") -> dict:
    day = _date(date) or dt.date.today()
    return {"date": day.isoformat(), "open": service_records.windows_on(ctx, day)}


@api_router.get("/reports/security")
def api_security(ctx: Report, fy: int | None = None) -> Response:
    body, media, _name = make_security_report(ctx, fy or _default_fy(ctx), "json")
    return Response(content=body, media_type=media)


@api_router.get("/cards/national/ratio")
def api_national(ctx: National, code: str = "131121") -> list[dict]:
    frame = service_records.national_ratio(ctx, code)
    return [{**r, "date": r["date"].isoformat()} for r in frame.to_dicts()]
