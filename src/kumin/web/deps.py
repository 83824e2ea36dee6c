"""What every route depends on: the database session, who is signed in, the
permission check and the CSRF check. Routes declare ``Depends(Permit("action"))``;
that dependency is the single place where web and API requests are authorised.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from kumin.core import accounts, tokens
from kumin.core.config import Settings
from kumin.core.context import Ctx
from kumin.core.db import session_factory
from kumin.core.i18n import current_lang, normalise_lang
from kumin.core.models import User, WebSession
from kumin.core.permissions import Actor, authorize
from kumin.errors import AuthError

SESSION_COOKIE = "kumin_session"
LANG_COOKIE = "kumin_lang"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns normally,
    *before* the response is sent (``scope="function"`` below). FastAPI's default for
    a dependency with ``yield`` runs this after the response: a client could be told
    a write succeeded that then failed to commit, or poll a job not yet visible."""
    session = session_factory(request.app.state.settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def request_lang(request: Request) -> str:
    lang = normalise_lang(request.cookies.get(LANG_COOKIE) or request.app.state.settings.lang)
    current_lang.set(lang)
    return lang


@dataclass
class Principal:
    user: User
    actor: Actor
    web_session: WebSession | None  # None for API bearer tokens


def find_principal(request: Request, session: Session) -> Principal | None:
    """The signed-in user from a bearer token (API) or the session cookie (browser)."""
    lang = request_lang(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = tokens.find_api_token(session, auth[7:].strip())
        if user is None:
            raise AuthError("core.auth.session_expired")
        return Principal(user, _actor(user, lang), None)
    found = tokens.find_web_session(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    ws, user = found
    return Principal(user, _actor(user, lang), ws)


def client_address(request: Request) -> str:
    """The client's address, for per-client sign-in throttling."""
    return request.client.host if request.client else ""


def _actor(user: User, lang: str) -> Actor:
    return Actor(user.name, user.role, user.id, user.department, lang)


class NeedsLogin(Exception):
    """Raised for a browser without a (complete) sign-in; redirects to the login page."""

    def __init__(self, where: str = "/login"):
        self.where = where


def fully_signed_in(request: Request, session: Session, form_csrf: str | None) -> Principal:
    principal = find_principal(request, session)
    if principal is None:
        if request.url.path.startswith("/api/"):
            raise AuthError("core.auth.session_expired")
        raise NeedsLogin()
    ws = principal.web_session
    if ws is not None:
        path = request.url.path
        if principal.user.totp_enabled and not ws.mfa_passed:
            raise NeedsLogin("/login/otp")
        if (
            not principal.user.totp_enabled
            and path not in ("/account/2fa", "/logout")
            and accounts.needs_2fa(session, principal.user)
        ):
            raise NeedsLogin("/account/2fa")
        if principal.user.must_change_password and path not in (
            "/account/password",
            "/account/2fa",
            "/logout",
        ):
            raise NeedsLogin("/account/password")
        check_csrf(request, ws, form_csrf)
    return principal


async def read_form_csrf(request: Request) -> str | None:
    """The ``csrf`` field of a submitted form (HTMX sends a header instead)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        return value if isinstance(value, str) else None
    return None


FormCsrf = Annotated[str | None, Depends(read_form_csrf)]


def check_csrf(request: Request, ws: WebSession, form_csrf: str | None) -> None:
    """Unsafe methods from a browser must carry the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("x-csrf-token") or form_csrf
    if not sent or not hmac.compare_digest(sent, ws.csrf):
        raise AuthError("core.auth.csrf")


def remember(request: Request, principal: Principal) -> None:
    """Keep who is signed in for rendering; plain values survive a rolled-back session."""
    request.state.principal = principal
    request.state.csrf = principal.web_session.csrf if principal.web_session else ""


class Permit:
    """Route dependency: the signed-in actor, after checking ``action``.

    ``department_param`` names a path or query parameter holding a department, for
    actions scoped to terminal managers' own departments.
    """

    def __init__(self, action: str, department_param: str | None = None):
        self.action = action
        self.department_param = department_param

    def __call__(self, request: Request, session: SessionDep, form_csrf: FormCsrf) -> Ctx:
        principal = fully_signed_in(request, session, form_csrf)
        department = None
        if self.department_param:
            department = request.path_params.get(self.department_param) or request.query_params.get(
                self.department_param
            )
        authorize(
            principal.actor,
            self.action,
            department=department,
            session=session,
            object=request.url.path,
        )
        ctx = Ctx(session, request.app.state.settings, principal.actor)
        remember(request, principal)
        return ctx
