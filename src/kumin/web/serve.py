"""Run the web app with uvicorn."""

from __future__ import annotations

from kumin.core.config import Settings


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    from kumin.web.app import create_app

    app = create_app(settings)
    housekeeping = _housekeeping_hook()
    if housekeeping is not None:
        housekeeping(settings)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def _housekeeping_hook():
    """Disposal of expired releases runs at start-up (issue: cases) where it exists."""
    try:
        from kumin.cases.housekeeping import run_housekeeping
    except ModuleNotFoundError:
        return None
    return run_housekeeping
