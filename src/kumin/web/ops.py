"""What an operator needs from each web process: ``/healthz`` and ``/readyz``, a JSON
access log with a request id, and the retry of a request that met a busy database.

- ``/healthz``: the process answers (for the process supervisor).
- ``/readyz``: the database answers, its schema is at every migration head and the
  key file is readable; 503 otherwise, and 200 again as soon as it is back (the
  engine pings pooled connections before use, so nothing needs a restart).
- The access log names the *route template* (``/cards/{card_id}``), never the
  actual path or query, which can carry personal values; a request id comes from
  a valid ``X-Request-ID`` of the reverse proxy or is made here, and is returned.
- A transaction that failed because another one held the lock (SQLite
  "database is locked") or lost a PostgreSQL serialisation/deadlock race is run
  again, whole, up to :data:`RETRIES` times before the user sees a clean 503.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from kumin import __version__

access_log = logging.getLogger("kumin.access")
router = APIRouter(include_in_schema=False)

RETRIES = 4
RETRIES_LEFT = "kumin_retries_left"  # in the request's state: the error handler reads it
MAX_REPLAY_BODY = 64 << 20  # bigger uploads are not buffered for a retry
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_RETRY_PGCODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors on the LGWAN ingest."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        return json.dumps(body, ensure_ascii=False)


logging.Formatter.converter = time.gmtime


def is_retryable(exc: BaseException) -> bool:
    """A lost race for the database, worth running the whole transaction again."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRY_PGCODES:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database is busy" in message


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached (down, restarting, network): a 503, not a 500."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or is_retryable(exc):
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate.startswith(("08", "57P")):  # connection exception, operator intervention
        return True
    if sqlstate == "55P03":  # a lock (the audit chain's) stayed busy past its bounded wait
        return True
    return type(orig).__name__ in ("OperationalError", "InterfaceError")


class OpsMiddleware:
    """Pure ASGI: request id, JSON access log, and replay of a lost database race."""

    def __init__(self, app, concurrency: int | None = None):
        self.app = app
        # SQLite: requests past the first few wait here, in the event loop, not in
        # the thread pool. Otherwise the threads fill up with requests waiting for
        # the write lock while its holder waits for a thread to finish: a stall
        # broken only by timeouts.
        self.admit = anyio.Semaphore(concurrency) if concurrency else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = headers.get("x-request-id", "")
        if not _REQUEST_ID.match(rid):
            rid = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        messages, replayable = await _buffer(receive)
        status = {"code": 500, "sent": False}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        attempt = 0
        if self.admit is not None:
            await self.admit.acquire()
        try:
            while True:
                replay = _replayer(messages, receive)
                scope["state"][RETRIES_LEFT] = RETRIES - attempt if replayable else 0
                try:
                    await self.app(scope, replay, send_with_id)
                    break
                except Exception as exc:
                    if not (
                        replayable
                        and not status["sent"]
                        and attempt < RETRIES
                        and is_retryable(exc)
                    ):
                        raise
                    attempt += 1
                    await anyio.sleep(0.05 * 2**attempt)
        finally:
            if self.admit is not None:
                self.admit.release()
            route = _route_template(scope)
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": rid,
                        "method": scope.get("method", ""),
                        "route": route,
                        "status": status["code"],
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "retries": attempt,
                    }
                },
            )


def _route_template(scope) -> str:
    """The matched route's template with its router prefix (``/api/v1/...``), or "-"."""
    path = getattr(scope.get("route"), "path", None)
    if not path:
        return "-"
    actual = scope.get("path", "")
    if not actual.startswith(path.split("{", 1)[0]) and actual.startswith("/api/v1/"):
        path = "/api/v1" + path
    return path


async def _buffer(receive) -> tuple[list[dict], bool]:
    """Read the request body once so that a retried attempt can read it again."""
    messages: list[dict] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, True
        if size > MAX_REPLAY_BODY:
            return messages, False


def _replayer(messages: list[dict], receive):
    queue = list(messages)

    async def replay():
        if queue:
            return queue.pop(0)
        return await receive()

    return replay


# --- probes ------------------------------------------------------------------------------------


@router.get("/healthz")
def healthz() -> JSONResponse:
    """Alive: the process answers. Nothing else is checked, so it never flaps."""
    return JSONResponse({"status": "ok", "version": __version__})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: database, schema and key file; 503 with what is wrong."""
    from kumin.core.ops import readiness

    settings = request.app.state.settings
    checks = readiness(settings)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
