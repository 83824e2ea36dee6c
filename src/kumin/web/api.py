"""The JSON API of the secure core (``/api/v1``); domains add their own routers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from kumin.core import accounts, audit, jobs, tokens
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.web.deps import Permit

router = APIRouter(tags=["core"])


@router.get("/me")
def me(ctx: Annotated[Ctx, Depends(Permit("account.self"))]) -> dict[str, Any]:
    """Who the token or session belongs to."""
    a = ctx.actor
    return {"name": a.name, "role": a.role, "department": a.department, "lang": a.lang}


@router.get("/users")
def users(ctx: Annotated[Ctx, Depends(Permit("users.manage"))]) -> list[dict[str, Any]]:
    return [
        {
            "name": u.name,
            "role": u.role,
            "department": u.department,
            "disabled": u.disabled,
            "two_factor": u.totp_enabled,
            "locked": u.locked,
        }
        for u in accounts.list_users(ctx)
    ]


def _token_row(info: tokens.TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "owner": info.owner,
        "label": info.label,
        "created_at": info.created_at.isoformat(),
        "expires_at": info.expires_at.isoformat(),
    }


@router.get("/tokens")
def token_list(
    ctx: Annotated[Ctx, Depends(Permit("account.self"))],
    owner: str | None = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    """Live API/CLI tokens: your own; an administrator may ask for ``owner`` or ``all``."""
    return [_token_row(i) for i in tokens.list_tokens(ctx, owner, everyone=all)]


@router.delete("/tokens/{token_id}")
def token_revoke(
    token_id: int, ctx: Annotated[Ctx, Depends(Permit("account.self"))]
) -> dict[str, Any]:
    """Revoke a token: your own, or anyone's as an administrator."""
    return _token_row(tokens.revoke_token(ctx, token_id))


@router.get("/audit")
def audit_entries(
    ctx: Annotated[Ctx, Depends(Permit("audit.read"))],
    since: date | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    rows = audit.as_rows(audit.query(ctx.session, since, actor, action, limit=limit))
    ctx.audit("audit.read", "audit_log", count=len(rows), source="api")
    return rows


@router.get("/audit/verify")
def audit_verify(ctx: Annotated[Ctx, Depends(Permit("audit.verify"))]) -> dict[str, Any]:
    result = audit.verify(
        ctx.session, checkpoints=audit.read_checkpoints(ctx.settings.checkpoint_file)
    )
    return {
        "ok": result.ok,
        "entries": result.entries,
        "bad_seq": result.bad_seq,
        "reason": result.reason,
        "checkpoints": result.checkpoints,
    }


# --- background jobs: any page's job, polled and cancelled the same way ------------------------


@router.get("/jobs")
def jobs_list(ctx: Annotated[Ctx, Depends(Permit("account.self"))]) -> dict[str, Any]:
    """The caller's recent jobs (others' jobs are never listed)."""
    return {"jobs": [j.as_dict() for j in jobs.list_mine(ctx)]}


@router.get("/jobs/{job_id}")
def job_status(ctx: Annotated[Ctx, Depends(Permit("account.self"))], job_id: str) -> dict[str, Any]:
    job = jobs.get(ctx, job_id)
    body: dict[str, Any] = {"job": job.as_dict()}
    if job.state in ("failed", "cancelled"):
        body["error"] = {"message": t(job.error_key, ctx.lang, **job.error_params)}
    return body


@router.post("/jobs/{job_id}/cancel")
def job_cancel(ctx: Annotated[Ctx, Depends(Permit("account.self"))], job_id: str) -> dict[str, Any]:
    return {"job": jobs.cancel(ctx, job_id).as_dict()}
