"""Browser sessions and API/CLI bearer tokens: issue, find, list, revoke.

Only SHA-256 hashes of session cookies and tokens are stored. A token is refused
when its account is disabled, must change its password, or must have a second
factor under the installation's policy but has none (e.g. after a role change).
Owners list and revoke their tokens; administrators anyone's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumin.core.accounts import aware, get_user, needs_2fa, sha
from kumin.core.config import Settings
from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.models import ApiToken, User, WebSession
from kumin.errors import NotFound

API_TOKEN_DAYS = 30


def new_web_session(session: Session, settings: Settings, user: User, mfa_passed: bool) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=sha(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(24),
            mfa_passed=mfa_passed,
            mfa_attempts=0,
            expires_at=utcnow() + timedelta(hours=settings.session_hours),
        )
    )
    session.flush()
    return token


def find_web_session(session: Session, token: str | None) -> tuple[WebSession, User] | None:
    if not token:
        return None
    ws = session.get(WebSession, sha(token))
    if ws is None or aware(ws.expires_at) < utcnow():
        return None
    user = session.get(User, ws.user_id)
    if user is None or user.disabled:
        return None
    return ws, user


def end_web_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.id == sha(token)))


def create_api_token(ctx: Ctx, label: str = "", *, hours: int = API_TOKEN_DAYS * 24) -> str:
    """Issue a bearer token for the signed-in account; shown once, stored hashed."""
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    token = "kmn_" + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    ctx.session.add(
        ApiToken(user_id=user.id, token_hash=sha(token), label=label[:64], expires_at=expires)
    )
    ctx.audit("users.token_create", f"user:{user.name}", label=label[:64], hours=hours)
    return token


def find_api_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha(token)))
    if row is None or aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled or user.must_change_password:
        return None
    # A token never stands in for a second factor the account should have.
    if needs_2fa(session, user) and not user.totp_enabled:
        return None
    return user


@dataclass(frozen=True)
class TokenInfo:
    id: int
    owner: str
    label: str
    created_at: datetime
    expires_at: datetime


def list_tokens(ctx: Ctx, owner: str | None = None, everyone: bool = False) -> list[TokenInfo]:
    """The actor's own live tokens; an administrator may ask for another's or everyone's."""
    ctx.authorize("account.self")
    if everyone or (owner is not None and owner != ctx.actor.name):
        ctx.authorize("users.manage", object=f"user:{owner or '*'}")
    query = (
        select(ApiToken, User.name)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.expires_at > utcnow())
        .order_by(User.name, ApiToken.id)
    )
    if not everyone:
        query = query.where(User.name == (owner or ctx.actor.name))
    return [
        TokenInfo(row.id, name, row.label, aware(row.created_at), aware(row.expires_at))
        for row, name in ctx.session.execute(query)
    ]


def revoke_token(ctx: Ctx, token_id: int) -> TokenInfo:
    """Revoke one token: its owner may, and so may an administrator; audited."""
    ctx.authorize("account.self")
    found = ctx.session.execute(
        select(ApiToken, User.name)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id == token_id)
    ).first()
    if found is None:
        raise NotFound("core.signin.no_token", id=token_id)
    row, owner = found
    if owner != ctx.actor.name:
        ctx.authorize("users.manage", object=f"user:{owner}")
    info = TokenInfo(row.id, owner, row.label, aware(row.created_at), aware(row.expires_at))
    ctx.session.delete(row)
    ctx.audit("users.token_revoke", f"user:{owner}", token=row.id, label=row.label)
    return info


def revoke_presented_token(session: Session, token: str) -> str | None:
    """Revoke the token one holds (``kumin logout``); returns its owner, if it was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    session.delete(row)
    return user.name if user is not None else None
