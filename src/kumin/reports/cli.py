"""``kumin report …``: one group; each domain adds its report command to it."""

from __future__ import annotations

import typer

report_app = typer.Typer(help="報告書 / Reports", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
