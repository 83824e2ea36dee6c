"""``kumin report security publish|reopen|status``: closing a fiscal year by
publishing its security report, and re-opening it with a reason."""

from __future__ import annotations

import typer

from kumin.cli.common import cli_ctx, emit, say
from kumin.core.closures import year_label
from kumin.core.i18n import t

FY = typer.Option(..., "--fy", help="年度（2021 = 令和3年度） / fiscal year")


def publish_cmd(fy: int = FY) -> None:
    """報告書を公表して年度を締める（監査担当） / Publish the year's report and close the year."""
    from kumin.reports.publication import publish_security

    with cli_ctx("security.publish") as ctx:
        row = publish_security(ctx, fy)
    say(
        "closures.publication.published",
        year=year_label(row["fy"], ctx.lang),
        number=row["number"],
        sha256=row["sha256"],
    )


def reopen_cmd(
    fy: int = FY,
    reason: str = typer.Option(..., "--reason", help="再開の理由 / why the year is re-opened"),
) -> None:
    """公表済みの年度を理由を付けて再開する / Re-open a published year, with a reason."""
    from kumin.reports.publication import reopen_security

    with cli_ctx("security.reopen") as ctx:
        row = reopen_security(ctx, fy, reason)
    say(
        "closures.publication.reopened",
        year=year_label(row["fy"], ctx.lang),
        number=row["number"],
        reason=row["reason"],
    )


def status_cmd(
    fy: int = FY,
    fmt: str = typer.Option("table", "--format", help="table, csv, json"),
) -> None:
    """年度の公表・再開の履歴 / A year's publications and re-openings."""
    from kumin.cli.common import check_format
    from kumin.reports.publication import state_text, status

    check_format(fmt)
    with cli_ctx("security.report") as ctx:
        info = status(ctx, fy)
    if fmt == "table":
        typer.echo(
            t(
                "closures.cli.status_head",
                ctx.lang,
                year=year_label(fy, ctx.lang),
                state=state_text(info, ctx.lang),
            )
        )
    columns = ["fy", "event", "number", "at", "actor", "sha256", "reason"]
    emit(info["history"], fmt, columns, json_root=info if fmt == "json" else None)
