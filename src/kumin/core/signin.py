"""Sign-in: the password step, the second factor, and enrolling an authenticator.

- Failures slow down rather than lock (:mod:`kumin.core.throttle`), per account
  and per client; a delay applies to the code step as well as the password step.
- The same answer is given for an unknown name, a wrong password and a disabled
  account, so that sign-in tells nothing about which accounts exist.
- A password-verified browser session allows :data:`MAX_CODE_ATTEMPTS` codes; the
  last wrong one ends it, so codes cannot be guessed on one session.
- A correct password alone never clears the failure count: only a complete
  sign-in (password and, where due, the second factor) does.
- A TOTP code is accepted once: the time step it belongs to is remembered.
- Every attempt, success or failure, is audited.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from kumin.core import audit, throttle
from kumin.core.accounts import (
    ACCOUNTS_DATASET,
    RECOVERY_CODES,
    actor_of,
    get_user,
    hash_password,
    needs_2fa,
    sha,
    verify_password,
)
from kumin.core.config import Settings
from kumin.core.context import Ctx
from kumin.core.crypto import Keyring
from kumin.core.db import utcnow
from kumin.core.models import RecoveryCode, User, WebSession
from kumin.core.permissions import Actor
from kumin.errors import AuthError, Throttled, UserError

MAX_CODE_ATTEMPTS = 5


def _channel(source: str) -> str:
    return "cli" if source == "cli" else "web"


@dataclass(frozen=True)
class SignIn:
    """The outcome of checking a password: who, and what must follow."""

    user: User
    actor: Actor
    mfa_required: bool  # the account has TOTP: a code must follow
    mfa_setup_required: bool  # the role needs 2FA but the account has none yet
    must_change_password: bool = False  # an administrator asked for a new password


def _refuse_if_throttled(
    session: Session, settings: Settings, name: str, client: str, source: str, action: str
) -> None:
    wait = throttle.wait_seconds(session, settings, name, client, _channel(source))
    if wait:
        audit.record(
            session,
            name[:64] or "?",
            action,
            outcome="denied",
            details={"source": source, "reason": "throttled", "wait_s": wait},
        )
        session.commit()
        raise Throttled("core.signin.throttled", seconds=wait)


def authenticate(
    session: Session,
    settings: Settings,
    name: str,
    password: str,
    source: str = "web",
    client: str = "",
) -> SignIn:
    """Check a password, applying the throttle; audit success and failure alike."""
    _refuse_if_throttled(session, settings, name, client, source, "auth.login")
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        _hash_dummy(password)
        reason = "unknown"
    elif user.disabled:
        _hash_dummy(password)
        reason = "disabled"
    elif not verify_password(user.password_hash, password):
        reason = "password"
    else:
        reason = ""
    if reason:
        throttle.record_failure(session, settings, name, client, _channel(source))
        audit.record(
            session,
            name[:64] or "?",
            "auth.login",
            outcome="failed",
            details={"source": source, "reason": reason},
        )
        session.commit()
        raise AuthError("core.auth.failed")
    assert user is not None
    audit.record(session, user.name, "auth.password", outcome="ok", details={"source": source})
    return SignIn(
        user,
        actor_of(user),
        user.totp_enabled,
        needs_2fa(session, user) and not user.totp_enabled,
        user.must_change_password,
    )


def _hash_dummy(password: str) -> None:
    # Spend the same time as a real check so timing does not reveal unknown names.
    verify_password(_DUMMY, password)


_DUMMY = hash_password("kumin-dummy-password")


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (previous, current or next) whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already."""
    done = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount:
        user.totp_last_step = step
    return bool(done.rowcount)


def _reserve_attempt(session: Session, ws: WebSession) -> bool:
    # One atomic UPDATE: parallel requests on one session cannot exceed the budget.
    done = session.execute(
        update(WebSession)
        .where(WebSession.id == ws.id, WebSession.mfa_attempts < MAX_CODE_ATTEMPTS)
        .values(mfa_attempts=WebSession.mfa_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)


def check_second_factor(
    session: Session,
    settings: Settings,
    user: User,
    code: str,
    source: str = "web",
    client: str = "",
    web_session: WebSession | None = None,
) -> None:
    """Accept a fresh TOTP code or an unused recovery code; audit either way.

    ``web_session`` is the password-verified browser session the code is entered
    on: after :data:`MAX_CODE_ATTEMPTS` codes it is ended and the user must
    start again from the password.
    """
    _refuse_if_throttled(session, settings, user.name, client, source, "auth.second_factor")
    details: dict = {"source": source}
    if web_session is not None:
        if not _reserve_attempt(session, web_session):
            session.execute(delete(WebSession).where(WebSession.id == web_session.id))
            audit.record(
                session,
                user.name,
                "auth.second_factor",
                outcome="denied",
                details={**details, "reason": "attempts_exhausted"},
            )
            session.commit()
            raise AuthError("core.signin.too_many_codes")
        session.refresh(web_session, ["mfa_attempts"])
        details["attempt"] = web_session.mfa_attempts
    code = (code or "").strip().replace(" ", "")
    ok, reason, kind = False, "wrong", ""
    if user.totp_enabled and user.totp_secret is not None and code.isdigit():
        secret = Keyring(session, settings.key_file).decrypt(ACCOUNTS_DATASET, user.totp_secret)
        step = _totp_step(secret, code, utcnow())
        if step is not None:
            ok, kind = _claim_step(session, user, step), "totp"
            reason = "" if ok else "reused"
    if not ok and code and reason == "wrong":
        used = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == sha(code.lower()),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        ok, kind = bool(used.rowcount), "recovery"
    if ok:
        audit.record(
            session,
            user.name,
            "auth.second_factor",
            outcome="ok",
            details={**details, "kind": kind},
        )
        return
    throttle.record_failure(session, settings, user.name, client, _channel(source))
    ended = web_session is not None and web_session.mfa_attempts >= MAX_CODE_ATTEMPTS
    if ended:
        session.execute(delete(WebSession).where(WebSession.id == web_session.id))
    audit.record(
        session,
        user.name,
        "auth.second_factor",
        outcome="failed",
        details={**details, "reason": reason, "session_ended": ended},
    )
    session.commit()
    raise AuthError("core.signin.too_many_codes" if ended else "core.auth.bad_code")


def record_login(session: Session, user: User, source: str) -> None:
    """A complete sign-in: audited, and the account's failure count is forgotten."""
    throttle.clear_account(session, user.name, (_channel(source),))
    audit.record(session, user.name, "auth.login", outcome="ok", details={"source": source})


# --- enrolling an authenticator app ----------------------------------------------------


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str


def _setup(user: User, secret: str) -> TotpSetup:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name="kumin")
    return TotpSetup(secret, uri)


def begin_totp(ctx: Ctx) -> TotpSetup:
    """Start enrolling an authenticator app: a new secret, pending until confirmed.

    An active second factor stays active meanwhile: re-enrolling (a new phone)
    replaces it only when the new app has shown a valid code.
    """
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    secret = pyotp.random_base32()
    user.totp_pending = ctx.keyring.encrypt(ACCOUNTS_DATASET, secret)
    ctx.audit("users.totp_begin", f"user:{user.name}", replacing=user.totp_enabled)
    return _setup(user, secret)


def pending_totp(ctx: Ctx) -> TotpSetup | None:
    """The enrolment in progress, to show its QR code again after a mistyped code."""
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    if user.totp_pending is None:
        return None
    return _setup(user, ctx.keyring.decrypt(ACCOUNTS_DATASET, user.totp_pending))


def confirm_totp(ctx: Ctx, code: str) -> list[str]:
    """Activate the pending authenticator once it shows a valid code; returns recovery codes.

    A wrong code changes nothing but the audit trail (the caller keeps the entry).
    """
    ctx.authorize("account.self")
    user = get_user(ctx.session, ctx.actor.name)
    if user.totp_pending is None:
        ctx.audit("users.totp_enable", f"user:{user.name}", outcome="failed", reason="no_setup")
        raise UserError("core.auth.no_totp_setup")
    secret = ctx.keyring.decrypt(ACCOUNTS_DATASET, user.totp_pending)
    step = _totp_step(secret, (code or "").strip().replace(" ", ""), utcnow())
    if step is None:
        ctx.audit("users.totp_enable", f"user:{user.name}", outcome="failed", reason="wrong")
        raise UserError("core.auth.bad_code")
    replaced = user.totp_enabled
    user.totp_secret = user.totp_pending
    user.totp_pending = None
    user.totp_enabled = True
    user.totp_last_step = step
    ctx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for c in codes:
        ctx.session.add(RecoveryCode(user_id=user.id, code_hash=sha(c)))
    ctx.audit("users.totp_enable", f"user:{user.name}", replaced=replaced)
    return codes
