"""Core pages: dashboard, audit trail, account administration, API tokens."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kumin.core import accounts, audit, tokens
from kumin.core.context import Ctx
from kumin.core.permissions import ROLES
from kumin.errors import KuminError, UserError
from kumin.web.nav import nav_for
from kumin.web.render import page

router = APIRouter(include_in_schema=False)


def _permit(action: str):
    from kumin.web.deps import Permit

    return Depends(Permit(action))


# Domains add cards to the dashboard: (action, callable(ctx) -> dict for dashboard_card.html)
DASHBOARD_CARDS: list = []


@router.get("/")
def dashboard(request: Request, ctx: Annotated[Ctx, _permit("dashboard.view")]) -> Response:
    cards = []
    for action, build in DASHBOARD_CARDS:
        from kumin.core.permissions import allowed

        if allowed(ctx.actor.role, action):
            cards.append(build(ctx))
    cards.sort(key=lambda card: not card.get("first"))  # stable: the rest keep their order
    return page(request, "dashboard.html", tiles=nav_for(ctx.actor.role)[1:], cards=cards)


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: Annotated[Ctx, _permit("audit.read")],
    since: str = "",
    actor: str = "",
    action: str = "",
) -> Response:
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        raise UserError("core.cli.bad_date", value=since) from None
    entries = audit.query(ctx.session, since_date, actor or None, action or None, limit=500)
    ctx.audit("audit.read", "audit_log", count=len(entries))
    verified = audit.verify(
        ctx.session, checkpoints=audit.read_checkpoints(ctx.settings.checkpoint_file)
    )
    return page(
        request,
        "audit.html",
        entries=audit.as_rows(entries),
        verified=verified,
        since=since,
        actor=actor,
        action=action,
    )


@router.get("/admin/users")
def users_page(
    request: Request, ctx: Annotated[Ctx, _permit("users.manage")], error: str | None = None
) -> Response:
    return page(request, "users.html", users=accounts.list_users(ctx), roles=ROLES, error=error)


@router.post("/admin/users")
def users_add(
    request: Request,
    ctx: Annotated[Ctx, _permit("users.manage")],
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
) -> Response:
    try:
        accounts.add_user(ctx, name.strip(), role, password, department.strip() or None)
    except KuminError as exc:
        ctx.session.rollback()
        return page(
            request,
            "users.html",
            status_code=400,
            users=accounts.list_users(ctx),
            roles=ROLES,
            error=exc.render(),
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/disable")
def users_disable(name: str, ctx: Annotated[Ctx, _permit("users.manage")]) -> Response:
    accounts.disable_user(ctx, name)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/role")
def users_role(
    name: str,
    ctx: Annotated[Ctx, _permit("users.manage")],
    role: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
) -> Response:
    accounts.set_role(ctx, name, role, department.strip() or None)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/account")
def account_page(request: Request, ctx: Annotated[Ctx, _permit("account.self")]) -> Response:
    return _account(request, ctx)


def _account(
    request: Request,
    ctx: Ctx,
    token: str | None = None,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "account.html",
        status_code=status_code,
        token=token,
        tokens=tokens.list_tokens(ctx),
        error=error,
        done=done,
    )


@router.post("/account/token")
def account_token(
    request: Request,
    ctx: Annotated[Ctx, _permit("account.self")],
    label: Annotated[str, Form()] = "",
) -> Response:
    token = tokens.create_api_token(ctx, label or "api")
    return _account(request, ctx, token=token)


@router.post("/account/tokens/{token_id}/revoke")
def account_token_revoke(
    token_id: int,
    ctx: Annotated[Ctx, _permit("account.self")],
    back: Annotated[str, Form()] = "",
) -> Response:
    tokens.revoke_token(ctx, token_id)
    where = "/admin/tokens" if back == "admin" else "/account"
    return RedirectResponse(where, status_code=303)


@router.get("/admin/tokens")
def tokens_page(request: Request, ctx: Annotated[Ctx, _permit("users.manage")]) -> Response:
    return page(request, "tokens.html", tokens=tokens.list_tokens(ctx, everyone=True))


@router.get("/account/password")
def password_page(request: Request, ctx: Annotated[Ctx, _permit("account.self")]) -> Response:
    must_change = request.state.principal.user.must_change_password
    return page(request, "password.html", error=None, done=False, must_change=must_change)


@router.post("/account/password")
def password_change(
    request: Request,
    ctx: Annotated[Ctx, _permit("account.self")],
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    repeat: Annotated[str, Form()] = "",
) -> Response:
    ws = request.state.principal.web_session
    try:
        if new != repeat:
            raise UserError("core.cli.passwords_differ")
        accounts.change_own_password(ctx, current, new, keep_web_session=ws.id if ws else None)
    except KuminError as exc:
        return page(request, "password.html", status_code=exc.http_status, error=exc.render())
    request.state.principal.user.must_change_password = False
    return page(request, "password.html", error=None, done=True)


@router.post("/admin/users/{name}/expire-password")
def users_expire_password(name: str, ctx: Annotated[Ctx, _permit("users.manage")]) -> Response:
    accounts.expire_password(ctx, name)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/enable")
def users_enable(name: str, ctx: Annotated[Ctx, _permit("users.manage")]) -> Response:
    accounts.enable_user(ctx, name)
    return RedirectResponse("/admin/users", status_code=303)
