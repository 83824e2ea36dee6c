"""Accounts: passwords (Argon2id), roles, lock-out, two-factor sign-in, tokens.

Services here are what ``kumin users …``, the sign-in page and the admin pages
call. Every change of a user or role, and every sign-in, success or failure, is
written to the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kumin.core import audit
from kumin.core.config import Settings
from kumin.core.context import Ctx
from kumin.core.crypto import Keyring
from kumin.core.db import utcnow
from kumin.core.models import ApiToken, RecoveryCode, User, WebSession
from kumin.core.permissions import ROLES, Actor, requires_2fa
from kumin.errors import AuthError, NotFound, UserError

# OWASP's recommended Argon2id minimum (19 MiB, t=2): quick enough for a CLI call.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_PASSWORD = 10
ACCOUNTS_DATASET = "accounts"
RECOVERY_CODES = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    department: str | None
    disabled: bool
    totp_enabled: bool
    locked: bool
    created_at: datetime


def _info(user: User) -> UserInfo:
    locked = user.locked_until is not None and _aware(user.locked_until) > utcnow()
    return UserInfo(
        user.name,
        user.role,
        user.department,
        user.disabled,
        user.totp_enabled,
        locked,
        user.created_at,
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything kumin writes is UTC.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound("core.users.not_found", name=name)
    return user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def _check_role(role: str, department: str | None) -> None:
    if role not in ROLES:
        raise UserError("core.users.bad_role", role=role, roles=", ".join(ROLES))
    if role == "terminal_manager" and not department:
        raise UserError("core.users.needs_department")


def _check_name(name: str) -> None:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise UserError("core.users.bad_name")


def add_user(
    ctx: Ctx, name: str, role: str, password: str, department: str | None = None
) -> UserInfo:
    """Create an account. The very first account may be created by ``system`` (set-up)."""
    if not (ctx.actor.is_system and count_users(ctx.session) == 0):
        ctx.authorize("users.manage", object=f"user:{name}")
    _check_name(name)
    _check_role(role, department)
    if len(password) < MIN_PASSWORD:
        raise UserError("core.users.weak_password", min=MIN_PASSWORD)
    if ctx.session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError("core.users.exists", name=name)
    user = User(name=name, role=role, department=department, password_hash=hash_password(password))
    ctx.session.add(user)
    ctx.session.flush()
    ctx.audit("users.add", f"user:{name}", role=role, department=department)
    return _info(user)


def list_users(ctx: Ctx) -> list[UserInfo]:
    ctx.authorize("users.manage")
    return [_info(u) for u in ctx.session.scalars(select(User).order_by(User.name))]


def disable_user(ctx: Ctx, name: str) -> UserInfo:
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.disabled = True
    ctx.session.execute(WebSession.__table__.delete().where(WebSession.user_id == user.id))
    ctx.session.execute(ApiToken.__table__.delete().where(ApiToken.user_id == user.id))
    ctx.audit("users.disable", f"user:{name}")
    return _info(user)


def enable_user(ctx: Ctx, name: str) -> UserInfo:
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.disabled = False
    user.failed_logins = 0
    user.locked_until = None
    ctx.audit("users.enable", f"user:{name}")
    return _info(user)


def set_role(ctx: Ctx, name: str, role: str, department: str | None = None) -> UserInfo:
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    _check_role(role, department or user.department)
    old = user.role
    user.role = role
    if department is not None:
        user.department = department
    # A changed role must sign in again under its new rights.
    ctx.session.execute(WebSession.__table__.delete().where(WebSession.user_id == user.id))
    ctx.audit("users.set_role", f"user:{name}", old=old, new=role, department=user.department)
    return _info(user)


def set_password(ctx: Ctx, name: str, password: str) -> None:
    if ctx.actor.name != name:
        ctx.authorize("users.manage", object=f"user:{name}")
    if len(password) < MIN_PASSWORD:
        raise UserError("core.users.weak_password", min=MIN_PASSWORD)
    user = get_user(ctx.session, name)
    user.password_hash = hash_password(password)
    ctx.audit("users.set_password", f"user:{name}")


def needs_2fa(settings: Settings, user: User) -> bool:
    return settings.require_2fa and not settings.demo and requires_2fa(user.role)


@dataclass(frozen=True)
class SignIn:
    """The outcome of checking a password: who, and whether a second factor is due."""

    user: User
    actor: Actor
    mfa_required: bool  # the account has TOTP: a code must follow
    mfa_setup_required: bool  # the role needs 2FA but the account has none yet


def authenticate(
    session: Session, settings: Settings, name: str, password: str, source: str = "web"
) -> SignIn:
    """Check a password, applying lock-out; audit success and failure alike.

    The same error is raised for an unknown name, a wrong password, a disabled or
    a locked account, so that sign-in reveals nothing about which accounts exist.
    """
    user = session.scalar(select(User).where(User.name == name))
    now = utcnow()
    if user is None:
        _hash_dummy(password)
        audit.record(
            session,
            name[:64] or "?",
            "auth.login",
            outcome="failed",
            details={"source": source, "reason": "unknown"},
        )
        session.commit()
        raise AuthError("core.auth.failed")
    if user.locked_until is not None and _aware(user.locked_until) > now:
        audit.record(
            session,
            user.name,
            "auth.login",
            outcome="denied",
            details={"source": source, "reason": "locked"},
        )
        session.commit()
        raise AuthError("core.auth.locked", minutes=settings.lockout_minutes)
    if user.disabled or not _check_password(user.password_hash, password):
        user.failed_logins += 1
        reason = "disabled" if user.disabled else "password"
        if user.failed_logins >= settings.lockout_attempts:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            reason = "locked_now"
        audit.record(
            session,
            user.name,
            "auth.login",
            outcome="failed",
            details={"source": source, "reason": reason},
        )
        session.commit()
        if reason == "locked_now":
            raise AuthError("core.auth.locked", minutes=settings.lockout_minutes)
        raise AuthError("core.auth.failed")
    user.failed_logins = 0
    user.locked_until = None
    actor = Actor(user.name, user.role, user.id, user.department, user.lang)
    return SignIn(
        user, actor, user.totp_enabled, needs_2fa(settings, user) and not user.totp_enabled
    )


def _hash_dummy(password: str) -> None:
    # Spend the same time as a real check so timing does not reveal unknown names.
    _check_password(_DUMMY, password)


_DUMMY = _hasher.hash("kumin-dummy-password")


def check_second_factor(
    session: Session, settings: Settings, user: User, code: str, source: str = "web"
) -> None:
    """Accept a current TOTP code or an unused recovery code; audit either way."""
    code = (code or "").strip().replace(" ", "")
    ok = False
    if user.totp_enabled and user.totp_secret is not None and code.isdigit():
        secret = Keyring(session, settings.key_file).decrypt(ACCOUNTS_DATASET, user.totp_secret)
        ok = pyotp.TOTP(secret).verify(code, valid_window=1)
    if not ok and code:
        rc = session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _sha(code.lower()),
                RecoveryCode.used_at.is_(None),
            )
        )
        if rc is not None:
            rc.used_at = utcnow()
            ok = True
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= settings.lockout_attempts:
            user.locked_until = utcnow() + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
        audit.record(
            session, user.name, "auth.second_factor", outcome="failed", details={"source": source}
        )
        session.commit()
        raise AuthError("core.auth.bad_code")
    user.failed_logins = 0


def record_login(session: Session, user: User, source: str) -> None:
    audit.record(session, user.name, "auth.login", outcome="ok", details={"source": source})


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str


def begin_totp(ctx: Ctx) -> TotpSetup:
    """Start enrolling an authenticator app: a new secret, not yet active."""
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    secret = pyotp.random_base32()
    user.totp_secret = ctx.keyring.encrypt(ACCOUNTS_DATASET, secret)
    user.totp_enabled = False
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name="kumin")
    return TotpSetup(secret, uri)


def confirm_totp(ctx: Ctx, code: str) -> list[str]:
    """Activate two-factor sign-in once the app shows a valid code; returns recovery codes."""
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    if user.totp_secret is None:
        raise UserError("core.auth.no_totp_setup")
    secret = ctx.keyring.decrypt(ACCOUNTS_DATASET, user.totp_secret)
    if not pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1):
        raise UserError("core.auth.bad_code")
    user.totp_enabled = True
    ctx.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for c in codes:
        ctx.session.add(RecoveryCode(user_id=user.id, code_hash=_sha(c)))
    ctx.audit("users.totp_enable", f"user:{user.name}")
    return codes


def reset_totp(ctx: Ctx, name: str) -> None:
    """Remove an account's second factor (administrator, e.g. a lost phone)."""
    ctx.authorize("users.manage", object=f"user:{name}")
    user = get_user(ctx.session, name)
    user.totp_enabled = False
    user.totp_secret = None
    ctx.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    ctx.audit("users.totp_reset", f"user:{name}")


# --- browser sessions and API tokens -------------------------------------------------


def new_web_session(session: Session, settings: Settings, user: User, mfa_passed: bool) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=_sha(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(24),
            mfa_passed=mfa_passed,
            expires_at=utcnow() + timedelta(hours=settings.session_hours),
        )
    )
    return token


def find_web_session(session: Session, token: str | None) -> tuple[WebSession, User] | None:
    if not token:
        return None
    ws = session.get(WebSession, _sha(token))
    if ws is None or _aware(ws.expires_at) < utcnow():
        return None
    user = session.get(User, ws.user_id)
    if user is None or user.disabled:
        return None
    return ws, user


def end_web_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(WebSession.__table__.delete().where(WebSession.id == _sha(token)))


def create_api_token(ctx: Ctx, label: str = "", days: int = 30) -> str:
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    token = "kmn_" + secrets.token_urlsafe(32)
    ctx.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_sha(token),
            label=label[:64],
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    ctx.audit("users.token_create", f"user:{user.name}", label=label[:64], days=days)
    return token


def find_api_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha(token)))
    if row is None or _aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    return None if user is None or user.disabled else user


def actor_of(user: User) -> Actor:
    return Actor(user.name, user.role, user.id, user.department, user.lang)
