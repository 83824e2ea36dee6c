"""Sign-in, second factor, sign-out, language switch and two-factor enrolment."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kumin.core import signin, tokens
from kumin.core.context import Ctx
from kumin.core.i18n import normalise_lang
from kumin.errors import AuthError, KuminError
from kumin.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    FormCsrf,
    Permit,
    SessionDep,
    SettingsDep,
    check_csrf,
    client_address,
    find_principal,
    remember,
)
from kumin.web.render import page

router = APIRouter(include_in_schema=False)
PRELOGIN_COOKIE = "kumin_prelogin"


def _secure(request: Request) -> bool:
    mode = request.app.state.settings.secure_cookies
    return mode in ("1", "true", "yes") or (mode == "auto" and request.url.scheme == "https")


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def _login_page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(16)
    response = page(request, "login.html", status_code=status_code, error=error, prelogin=token)
    _set_cookie(request, response, PRELOGIN_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    prelogin: Annotated[str, Form()] = "",
) -> Response:
    cookie = request.cookies.get(PRELOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, prelogin):
        return _login_page(request, AuthError("core.auth.csrf").render(), 400)
    try:
        found = signin.authenticate(
            session, settings, name.strip(), password, source="web", client=client_address(request)
        )
    except AuthError as exc:
        return _login_page(request, exc.render(), exc.http_status)
    mfa_done = not found.mfa_required
    token = tokens.new_web_session(session, settings, found.user, mfa_passed=mfa_done)
    if mfa_done:
        signin.record_login(session, found.user, "web")
    # Where the user must go next; the page dependencies send them on from "/".
    where = (
        "/login/otp"
        if found.mfa_required
        else ("/account/2fa" if found.mfa_setup_required else "/")
    )
    response = RedirectResponse(where, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_hours * 3600)
    response.delete_cookie(PRELOGIN_COOKIE, path="/")
    if found.user.lang and not request.cookies.get(LANG_COOKIE):
        response.set_cookie(LANG_COOKIE, found.user.lang, samesite="strict", path="/")
    return response


@router.get("/login/otp")
def otp_form(request: Request, session: SessionDep) -> Response:
    principal = find_principal(request, session)
    if principal is None or principal.web_session is None:
        return RedirectResponse("/login", status_code=303)
    remember(request, principal)
    return page(request, "otp.html", error=None)


@router.post("/login/otp")
def otp(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form_csrf: FormCsrf,
    code: Annotated[str, Form()] = "",
) -> Response:
    principal = find_principal(request, session)
    if principal is None or principal.web_session is None:
        return RedirectResponse("/login", status_code=303)
    remember(request, principal)
    ws = principal.web_session
    check_csrf(request, ws, form_csrf)
    if ws.mfa_passed:
        return RedirectResponse("/", status_code=303)
    try:
        signin.check_second_factor(
            session,
            settings,
            principal.user,
            code,
            source="web",
            client=client_address(request),
            web_session=ws,
        )
    except AuthError as exc:
        if tokens.find_web_session(session, request.cookies.get(SESSION_COOKIE)) is None:
            # The session was ended (too many codes): start again from the password.
            response = _login_page(request, exc.render(), exc.http_status)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        return page(request, "otp.html", status_code=exc.http_status, error=exc.render())
    signin.record_login(session, principal.user, "web")
    # A new session id once fully signed in: a cookie seen before it is worth nothing.
    tokens.end_web_session(session, request.cookies.get(SESSION_COOKIE))
    token = tokens.new_web_session(session, settings, principal.user, mfa_passed=True)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_hours * 3600)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, form_csrf: FormCsrf) -> Response:
    principal = find_principal(request, session)
    if principal is not None and principal.web_session is not None:
        check_csrf(request, principal.web_session, form_csrf)
        from kumin.core import audit

        audit.record(session, principal.user.name, "auth.logout", details={"source": "web"})
        tokens.end_web_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    # Only local paths: never redirect to another site.
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE, normalise_lang(lang), samesite="strict", path="/", max_age=365 * 86400
    )
    return response


@router.get("/account/2fa")
def totp_setup_page(
    request: Request,
    ctx: Annotated[Ctx, Depends(Permit("account.self"))],
    renew: bool = False,
) -> Response:
    if request.state.principal.user.totp_enabled and not renew:
        return page(request, "totp_done.html", codes=None)
    return _setup_page(request, signin.begin_totp(ctx))


def _setup_page(
    request: Request, setup: signin.TotpSetup, error: str | None = None, status_code: int = 200
) -> Response:
    qr_svg = segno.make(setup.uri).svg_inline(scale=4)
    return page(
        request,
        "totp_setup.html",
        status_code=status_code,
        secret=setup.secret,
        qr_svg=qr_svg,
        error=error,
    )


@router.post("/account/2fa")
def totp_confirm(
    request: Request,
    ctx: Annotated[Ctx, Depends(Permit("account.self"))],
    code: Annotated[str, Form()] = "",
) -> Response:
    try:
        codes = signin.confirm_totp(ctx, code)
    except KuminError as exc:
        # Nothing changed but the audit entry, which is kept: show the same QR again.
        setup = signin.pending_totp(ctx)
        if setup is None and request.state.principal.user.totp_enabled:
            return page(request, "totp_done.html", status_code=400, codes=None, error=exc.render())
        return _setup_page(request, setup or signin.begin_totp(ctx), exc.render(), 400)
    request.state.principal.web_session.mfa_passed = True
    return page(request, "totp_done.html", codes=codes)
