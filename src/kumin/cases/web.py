"""Web pages and JSON API of notification records, contracts and releases.

Every route names its action through ``Permit``; every page calls the same
service functions as the CLI. Researchers see only the releases of contracts
that name them, and download only within the contract period.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from kumin.cases import contracts as contracts_service
from kumin.cases import releases as releases_service
from kumin.cases import service
from kumin.cases.models import CaseRow
from kumin.cases.profiles import list_profiles
from kumin.cases.reports import OUTSOURCING_FORMATS, outsourcing_report
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.core.uploads import discard_upload, save_upload
from kumin.errors import KuminError, UserError
from kumin.web.deps import Permit
from kumin.web.nav import NavItem, add_nav
from kumin.web.pages import DASHBOARD_CARDS
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["cases"])

Summary = Annotated[Ctx, Depends(Permit("cases.summary"))]
Importer = Annotated[Ctx, Depends(Permit("cases.import"))]
ContractsRead = Annotated[Ctx, Depends(Permit("contracts.read"))]
ContractsManage = Annotated[Ctx, Depends(Permit("contracts.manage"))]
ReleaseCreate = Annotated[Ctx, Depends(Permit("release.create"))]
ReleaseList = Annotated[Ctx, Depends(Permit("release.list"))]
ReleaseDownload = Annotated[Ctx, Depends(Permit("release.download"))]
ReleaseDispose = Annotated[Ctx, Depends(Permit("release.dispose"))]

add_nav(
    NavItem("cases.nav.summary", "/cases", "cases.summary"),
    NavItem("cases.nav.import", "/cases/import", "cases.import"),
    NavItem("cases.nav.contracts", "/contracts", "contracts.read"),
    NavItem("cases.nav.releases", "/releases", "release.list"),
)


def _cases_card(ctx: Ctx) -> dict[str, Any]:
    total = ctx.session.scalar(select(func.count()).select_from(CaseRow)) or 0
    last = ctx.session.scalar(select(func.max(CaseRow.result_date)))
    return {
        "title": t("cases.nav.summary"),
        "rows": [(t("cases.web.records"), f"{total:,}"), (t("cases.web.last_result"), last or "")],
        "href": "/cases",
    }


def _releases_card(ctx: Ctx) -> dict[str, Any]:
    rows = releases_service.list_releases(ctx, record=False)
    open_now = sum(1 for r in rows if r["available"])
    return {
        "title": t("cases.nav.releases"),
        "rows": [
            (t("cases.web.releases_open"), open_now),
            (t("cases.web.releases_all"), len(rows)),
        ],
        "href": "/releases",
    }


if not any(action == "cases.summary" for action, _ in DASHBOARD_CARDS):
    DASHBOARD_CARDS.append(("cases.summary", _cases_card))
if not any(action == "release.list" for action, _ in DASHBOARD_CARDS):
    DASHBOARD_CARDS.append(("release.list", _releases_card))


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


async def _saved_upload(upload: UploadFile) -> Path:
    return save_upload(upload)


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        content=data,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


# ------------------------------------------------------------------ line list


@router.get("/cases")
def summary_page(request: Request, ctx: Summary, public: str = "1") -> Response:
    result = service.summary(ctx, public=public != "0")
    return page(
        request, "cases/summary.html", s=result, axes=service.SUMMARY_AXES, public=public != "0"
    )


@router.get("/cases/import")
def import_page(request: Request, ctx: Importer) -> Response:
    return _import_page(request, ctx)


def _import_page(request: Request, ctx: Ctx, status_code: int = 200, **extra: Any) -> Response:
    profiles = list_profiles([str(ctx.settings.profile_dir)] if ctx.settings.profile_dir else [])
    return page(
        request,
        "cases/import.html",
        status_code=status_code,
        profiles=profiles,
        imports=service.list_imports(ctx, 20),
        **extra,
    )


@router.post("/cases/import")
async def import_post(
    request: Request,
    ctx: Importer,
    file: Annotated[UploadFile, File()],
    profile: Annotated[str, Form()] = "hersys",
    encoding: Annotated[str, Form()] = "auto",
    dry_run: Annotated[str, Form()] = "",
) -> Response:
    from kumin.web.uploads import import_upload

    result, failure = import_upload(
        ctx,
        file,
        lambda path: service.import_cases(
            ctx, path, profile, encoding=encoding, dry_run=bool(dry_run), file_name=path.name
        ),
    )
    if failure:
        return _import_page(
            request, ctx, status_code=400, upload_error=failure, warnings=failure.warnings
        )
    return _import_page(request, ctx, result=result, warnings=result.warnings)


# ------------------------------------------------------------------ contracts


@router.get("/contracts")
def contracts_page(request: Request, ctx: ContractsRead) -> Response:
    return page(
        request,
        "cases/contracts.html",
        contracts=contracts_service.list_contracts(ctx),
        report_items=contracts_service.REPORT_350_ITEMS,
        conditions=contracts_service.DEFAULT_CONDITIONS,
    )


@router.post("/contracts")
def contracts_add(
    request: Request,
    ctx: ContractsManage,
    title: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    contractors: Annotated[str, Form()] = "",
    items: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
    researchers: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
    persons: Annotated[str, Form()] = "",
    persons_from: Annotated[str, Form()] = "",
    persons_to: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    protection: Annotated[str, Form()] = "",
) -> Response:
    try:
        if not start or not end:
            raise UserError("cases.contract.no_period")
        info = contracts_service.add_contract(
            ctx,
            contracts_service.ContractInput(
                title=title,
                start=_date(start),
                end=_date(end),
                contractors=contractors.splitlines(),
                items=items,
                researchers=researchers.replace(",", "\n").splitlines(),
                purpose=purpose,
                content=content,
                persons=persons,
                persons_from=_date(persons_from),
                persons_to=_date(persons_to),
                category=category,
                protection=protection,
            ),
        )
    except KuminError as exc:
        ctx.session.rollback()
        return page(
            request,
            "cases/contracts.html",
            status_code=exc.http_status,
            contracts=contracts_service.list_contracts(ctx),
            report_items=contracts_service.REPORT_350_ITEMS,
            conditions=contracts_service.DEFAULT_CONDITIONS,
            error=exc.render(ctx.lang),
        )
    return RedirectResponse(f"/contracts/{quote(info['code'])}", status_code=303)


@router.get("/contracts/{ref}")
def contract_page(request: Request, ctx: ContractsRead, ref: str) -> Response:
    info = contracts_service.show_contract(ctx, ref)
    return page(
        request,
        "cases/contract.html",
        c=info,
        history=releases_service.history(ctx, ref),
        conditions=[contracts_service.condition_label(x, ctx.lang) for x in info["conditions"]],
    )


@router.get("/contracts/{ref}/report")
def contract_report(ctx: ContractsRead, ref: str, format: str = "pdf") -> Response:
    if format not in OUTSOURCING_FORMATS:
        raise UserError(
            "core.cli.bad_format", format=format, allowed=", ".join(OUTSOURCING_FORMATS)
        )
    data = outsourcing_report(ctx, ref, format, ctx.lang)
    media = {
        "pdf": "application/pdf",
        "html": "text/html; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
    }[format]
    return _download(data, media, f"outsourcing-{ref}.{format}")


@router.post("/contracts/{ref}/releases")
def release_create(ctx: ReleaseCreate, ref: str) -> Response:
    result = releases_service.create_release(ctx, ref)
    return RedirectResponse(f"/contracts/{quote(result.contract)}", status_code=303)


@router.post("/contracts/{ref}/dispose")
def contract_dispose(ctx: ReleaseDispose, ref: str) -> Response:
    result = releases_service.dispose_contract(ctx, ref)
    return RedirectResponse(f"/contracts/{quote(result['contract'])}", status_code=303)


@router.get("/disposals/{disposal_id}")
def disposal_certificate(ctx: ContractsRead, disposal_id: int, format: str = "pdf") -> Response:
    data, media, name = releases_service.certificate(ctx, disposal_id, format)
    return _download(data, media, name)


# ------------------------------------------------------------------- releases


@router.get("/releases")
def releases_page(request: Request, ctx: ReleaseList) -> Response:
    return page(request, "cases/releases.html", releases=releases_service.list_releases(ctx))


@router.get("/releases/{release_id}/files/{name}")
def release_download(ctx: ReleaseDownload, release_id: int, name: str) -> Response:
    data, media = releases_service.download_file(ctx, release_id, name)
    return _download(data, media, f"release-{release_id}-{name}")


# ----------------------------------------------------------------------- API


@api_router.get("/cases/summary")
def api_summary(ctx: Summary, public: bool = True) -> dict[str, Any]:
    return service.summary(ctx, public=public)


@api_router.post("/cases/import")
async def api_import(
    ctx: Importer,
    file: Annotated[UploadFile, File()],
    profile: Annotated[str, Form()] = "hersys",
    encoding: Annotated[str, Form()] = "auto",
    dry_run: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    path = await _saved_upload(file)
    try:
        result = service.import_cases(
            ctx, path, profile, encoding=encoding, dry_run=dry_run, file_name=path.name
        )
    finally:
        discard_upload(path)
    return result.as_dict(ctx.lang)


@api_router.get("/contracts")
def api_contracts(ctx: ContractsRead) -> list[dict[str, Any]]:
    return contracts_service.list_contracts(ctx)


@api_router.get("/contracts/{ref}")
def api_contract(ctx: ContractsRead, ref: str) -> dict[str, Any]:
    info = contracts_service.show_contract(ctx, ref)
    info["history"] = releases_service.history(ctx, ref)
    return info


@api_router.get("/contracts/{ref}/release-preview")
def api_release_preview(ctx: ReleaseCreate, ref: str) -> dict[str, Any]:
    """The risk of the contract's release and the proposed control (``kumin release preview``)."""
    from kumin.cases.release_control import preview_release

    return preview_release(ctx, ref)


@api_router.get("/releases")
def api_releases(ctx: ReleaseList) -> list[dict[str, Any]]:
    return releases_service.list_releases(ctx)


@api_router.get("/releases/{release_id}/files/{name}")
def api_release_download(ctx: ReleaseDownload, release_id: int, name: str) -> Response:
    data, media = releases_service.download_file(ctx, release_id, name)
    return _download(data, media, f"release-{release_id}-{name}")
