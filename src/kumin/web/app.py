"""The web application: :func:`create_app` builds it from settings; nothing happens
at import time. Errors become pages or JSON in exactly one place
(:func:`_install_error_handlers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kumin import __version__
from kumin.core.config import Settings
from kumin.core.i18n import t
from kumin.errors import KuminError
from kumin.web.deps import NeedsLogin, request_lang
from kumin.web.limits import UploadLimit
from kumin.web.render import page

# requests served at once on SQLite (one writer at a time anyway); see OpsMiddleware
SQLITE_CONCURRENCY = 8

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)


def create_app(settings: Settings, run_jobs: bool = False) -> FastAPI:
    """The app for ``settings``; ``run_jobs`` makes a served process also run a job
    worker thread (``KUMIN_INLINE_JOBS=0`` leaves jobs to ``kumin worker``)."""
    app = FastAPI(
        title="kumin API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan if run_jobs else None,
    )
    app.state.settings = settings
    # Refused with 413 before the body is parsed or spooled to disk.
    app.add_middleware(UploadLimit, limit=settings.upload_limit)

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:
        request_lang(request)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    from kumin.web.ops import OpsMiddleware

    # Outermost of ours: every attempt of a retried request runs the middleware above.
    app.add_middleware(
        OpsMiddleware, concurrency=SQLITE_CONCURRENCY if settings.is_sqlite else None
    )

    static = resources.files("kumin") / "web" / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        # Served from the installed plotly package: nothing loads from the internet.
        path = resources.files("plotly") / "package_data" / "plotly.min.js"
        return FileResponse(
            str(path), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    from kumin.domains import import_part
    from kumin.web import api, auth, ops, pages, tables

    app.state.routers = []

    def include(router, prefix: str = "") -> None:
        app.include_router(router, prefix=prefix)
        app.state.routers.append((prefix, router))

    include(ops.router)
    include(auth.router)
    include(pages.router)
    include(tables.router)
    include(api.router, "/api/v1")
    for module in import_part("web"):
        if hasattr(module, "router"):
            include(module.router)
        if hasattr(module, "api_router"):
            include(module.api_router, "/api/v1")
    _install_error_handlers(app)
    return app


def app_from_env() -> FastAPI:
    """The app of each ``kumin serve --workers N`` process (settings from the environment)."""
    return create_app(Settings.from_env(), run_jobs=True)


@asynccontextmanager
async def _lifespan(app: FastAPI):
    from kumin.core import jobs

    # A persistent worker thread: jobs queued before a restart resume here.
    jobs.kick(app.state.settings, idle_exit=None)
    yield


def all_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """Every (method, full path, route) of the app, for the permission walk."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path, route
    for prefix, router in app.state.routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, prefix + route.path, route


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def error_body(code: str, message: str) -> dict:
    """The one shape of every JSON error."""
    return {"error": {"code": code, "message": message}}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NeedsLogin)
    async def needs_login(request: Request, exc: NeedsLogin) -> Response:
        if request.url.path.startswith("/api/"):
            # An API caller gets an answer, not a page: a half-finished sign-in is none.
            message = t("core.auth.session_expired", request_lang(request))
            return JSONResponse(error_body("auth", message), status_code=401)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": exc.where})
        return RedirectResponse(exc.where, status_code=303)

    @app.exception_handler(KuminError)
    async def kumin_error(request: Request, exc: KuminError) -> Response:
        lang = request_lang(request)
        message = exc.render(lang)
        if _wants_json(request):
            body = error_body(exc.code, message)
            problems = getattr(exc, "problems", None)
            if problems:
                body["error"]["problems"] = [
                    {"line": p.line, "column": p.column, "message": p.render(lang)}
                    for p in problems
                ]
            return JSONResponse(body, status_code=exc.http_status)
        return page(
            request,
            "error.html",
            status_code=exc.http_status,
            message=message,
            status=exc.http_status,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
        message = t("core.web.bad_request", None, fields=fields)
        if _wants_json(request):
            return JSONResponse(error_body("invalid", message), status_code=422)
        return page(request, "error.html", status_code=422, message=message, status=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        key = {
            404: "core.web.not_found",
            405: "core.web.not_allowed",
            413: "core.upload.too_large",
        }.get(exc.status_code, "core.web.http_error")
        limit = request.app.state.settings.upload_limit_mb
        message = t(key, None, status=exc.status_code, limit=limit)
        if _wants_json(request):
            return JSONResponse(
                error_body(f"http_{exc.status_code}", message), status_code=exc.status_code
            )
        return page(
            request,
            "error.html",
            status_code=exc.status_code,
            message=message,
            status=exc.status_code,
        )

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        from kumin.web.ops import RETRIES_LEFT, is_retryable, is_unavailable

        if is_retryable(exc) and request.scope.get("state", {}).get(RETRIES_LEFT, 0) > 0:
            raise exc  # the ops middleware runs the whole request again
        if not is_unavailable(exc):
            raise exc
        # the database is away or stayed busy: say so, and that it is temporary
        message = t("core.web.unavailable")
        headers = {"Retry-After": "5"}
        if _wants_json(request):
            body = error_body("unavailable", message)
            return JSONResponse(body, status_code=503, headers=headers)
        return page(request, "error.html", status_code=503, message=message, status=503)

    @app.exception_handler(SATimeoutError)
    async def pool_exhausted(request: Request, exc: SATimeoutError) -> Response:
        # every pooled connection stayed busy: temporary, like a database restart
        message = t("core.web.unavailable")
        if _wants_json(request):
            body = error_body("unavailable", message)
            return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
        return page(request, "error.html", status_code=503, message=message, status=503)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        if request.app.state.settings.debug:
            raise exc
        message = t("core.web.internal")
        if _wants_json(request):
            return JSONResponse(error_body("internal", message), status_code=500)
        return page(request, "error.html", status_code=500, message=message, status=500)
