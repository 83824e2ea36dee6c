"""Run the web app with uvicorn: one process, or ``--workers N`` on PostgreSQL.

Several workers are safe because no state lives in a web process: sessions, CSRF
tokens, sign-in throttling (on the account rows) and background jobs are in the
database. SQLite is the embedded, one-process configuration: its writers queue on
one file lock, so more than one worker is refused with a clear message.
"""

from __future__ import annotations

import os

from kumin.core.config import Settings
from kumin.errors import UsageError

ACCESS_LOG = "kumin.access"


def log_config() -> dict:
    """uvicorn's logging, with kumin's JSON access log on stderr (one object per line)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "json": {"()": "kumin.web.ops.JsonFormatter"},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "plain"},
            "access": {"class": "logging.StreamHandler", "formatter": "json"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO"},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "kumin": {"handlers": ["default"], "level": "INFO", "propagate": False},
            ACCESS_LOG: {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def check_workers(settings: Settings, workers: int) -> None:
    if workers < 1:
        raise UsageError("core.serve.bad_workers", workers=workers)
    if workers > 1 and settings.is_sqlite:
        raise UsageError("core.serve.sqlite_one_worker", workers=workers)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    import uvicorn

    check_workers(settings, workers)
    housekeeping = _housekeeping_hook()
    if housekeeping is not None:
        housekeeping(settings)
    common = {
        "host": host,
        "port": port,
        "log_config": log_config(),
        "access_log": False,
        "server_header": False,
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }
    if workers == 1:
        from kumin.web.app import create_app

        app = create_app(settings, run_jobs=True)
        uvicorn.run(app, **common)
        return
    # Worker processes import the app themselves and read the same environment.
    # Importing kumin (polars, scipy, plotly) takes seconds on a busy machine: give the
    # workers time to answer the supervisor's first health check instead of restarts.
    uvicorn.run(
        "kumin.web.app:app_from_env",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=60,
        timeout_graceful_shutdown=30,
        **common,
    )


def _housekeeping_hook():
    """Disposal of expired releases runs at start-up (issue: cases) where it exists."""
    try:
        from kumin.cases.housekeeping import run_housekeeping
    except ModuleNotFoundError:
        return None
    return run_housekeeping
