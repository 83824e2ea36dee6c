"""Accounts: passwords (Argon2id), roles, and what revokes an account's sign-ins.

Services here are what ``kumin users …``, ``kumin passwd`` and the admin and
account pages call. Every change of a user or role is written to the audit trail.
Sign-in itself is :mod:`kumin.core.signin`; sessions and tokens are
:mod:`kumin.core.tokens`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kumin.core import throttle
from kumin.core.context import Ctx
from kumin.core.installation import load_policy
from kumin.core.models import ApiToken, RecoveryCode, User, WebSession
from kumin.core.passwords import check_password
from kumin.core.permissions import ROLES, Actor, requires_2fa
from kumin.errors import AuthError, NotFound, UserError

# OWASP's recommended Argon2id minimum (19 MiB, t=2): quick enough for a CLI call.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
ACCOUNTS_DATASET = "accounts"
RECOVERY_CODES = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    department: str | None
    disabled: bool
    totp_enabled: bool
    locked: bool  # waiting out a sign-in delay after failures
    created_at: datetime
    must_change_password: bool = False


def _info(session: Session, user: User) -> UserInfo:
    return UserInfo(
        user.name,
        user.role,
        user.department,
        user.disabled,
        user.totp_enabled,
        throttle.is_throttled(session, user.name),
        user.created_at,
        user.must_change_password,
    )


def aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything kumin writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("core.users.not_found", name=name)
    return user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def needs_2fa(session: Session, user: User) -> bool:
    """Whether the installation's policy requires a second factor of this account."""
    return requires_2fa(user.role) and load_policy(session).require_2fa


def actor_of(user: User) -> Actor:
    return Actor(user.name, user.role, user.id, user.department, user.lang)


def _check_role(role: str, department: str | None) -> None:
    if role not in ROLES:
        raise UserError("core.users.bad_role", role=role, roles=", ".join(ROLES))
    if role == "terminal_manager" and not department:
        raise UserError("core.users.needs_department")


def _check_name(name: str) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise UserError("core.users.bad_name")


def revoke_sign_ins(session: Session, user: User, keep_web_session: str | None = None) -> int:
    """End every browser session and API/CLI token of an account; returns how many.

    Called whenever what a sign-in proved no longer holds: a new role, a removed
    second factor, a disabled account, a new password. ``keep_web_session`` (a
    session id) spares the browser that is changing its own password.
    """
    ws = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_web_session is not None:
        ws = ws.where(WebSession.id != keep_web_session)
    ended = session.execute(ws).rowcount or 0
    ended += session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount or 0
    return ended


def add_user(
    ctx: Ctx, name: str, role: str, password: str, department: str | None = None
) -> UserInfo:
    """Create an account. The very first account may be created by ``system`` (set-up)."""
    if not (ctx.actor.is_system and count_users(ctx.session) == 0):
        ctx.authorize("users.manage", object=f"user:{name}")
    _check_name(name)
    _check_role(role, department)
    check_password(password, name)
    if ctx.session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError("core.users.exists", name=name)
    user = User(name=name, role=role, department=department, password_hash=hash_password(password))
    ctx.session.add(user)
    ctx.session.flush()
    ctx.audit("users.add", f"user:{name}", role=role, department=department)
    return _info(ctx.session, user)


def list_users(ctx: Ctx) -> list[UserInfo]:
    ctx.authorize("users.manage")
    return [_info(ctx.session, u) for u in ctx.session.scalars(select(User).order_by(User.name))]


def disable_user(ctx: Ctx, name: str) -> UserInfo:
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.disabled = True
    ended = revoke_sign_ins(ctx.session, user)
    ctx.audit("users.disable", f"user:{name}", revoked=ended)
    return _info(ctx.session, user)


def enable_user(ctx: Ctx, name: str) -> UserInfo:
    """Re-enable an account and lift any sign-in delay, on the web and in the CLI."""
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.disabled = False
    user.failed_logins = 0
    user.locked_until = None
    throttle.clear_account(ctx.session, user.name)
    ctx.audit("users.enable", f"user:{name}")
    return _info(ctx.session, user)


def set_role(ctx: Ctx, name: str, role: str, department: str | None = None) -> UserInfo:
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    _check_role(role, department or user.department)
    old = user.role
    user.role = role
    if department is not None:
        user.department = department
    # A changed role must sign in again under its new rights (and its 2FA duty).
    ended = revoke_sign_ins(ctx.session, user)
    ctx.audit(
        "users.set_role",
        f"user:{name}",
        old=old,
        new=role,
        department=user.department,
        revoked=ended,
    )
    return _info(ctx.session, user)


def set_password(ctx: Ctx, name: str, password: str, *, must_change: bool = True) -> None:
    """An administrator sets another account's password (e.g. a forgotten one).

    The account must choose its own at the next sign-in unless ``must_change`` is
    False; its sessions and tokens end.
    """
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    check_password(password, name)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    ended = revoke_sign_ins(ctx.session, user)
    ctx.audit("users.set_password", f"user:{name}", must_change=must_change, revoked=ended)


def expire_password(ctx: Ctx, name: str) -> None:
    """An administrator forces a password change at the account's next sign-in."""
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.must_change_password = True
    ended = revoke_sign_ins(ctx.session, user)
    ctx.audit("users.expire_password", f"user:{name}", revoked=ended)


def change_own_password(
    ctx: Ctx, current: str, new: str, keep_web_session: str | None = None
) -> int:
    """A user changes their own password, proving the current one; returns sign-ins ended.

    Every other session and every token of the account ends; the browser making
    the change (``keep_web_session``) stays signed in.
    """
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    if not verify_password(user.password_hash, current):
        ctx.session.rollback()
        ctx.audit("users.change_password", f"user:{user.name}", outcome="failed")
        ctx.session.commit()
        raise AuthError("core.signin.wrong_current_password")
    if new == current:
        raise UserError("core.signin.same_password")
    check_password(new, user.name)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = revoke_sign_ins(ctx.session, user, keep_web_session)
    ctx.audit("users.change_password", f"user:{user.name}", revoked=ended)
    return ended


def reset_totp(ctx: Ctx, name: str) -> None:
    """Remove an account's second factor (administrator, e.g. a lost phone)."""
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    had = user.totp_enabled
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_pending = None
    user.totp_last_step = None
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # Whatever was signed in with the old factor must prove itself again.
    ended = revoke_sign_ins(ctx.session, user)
    ctx.audit("users.totp_reset", f"user:{name}", had_2fa=had, revoked=ended)
