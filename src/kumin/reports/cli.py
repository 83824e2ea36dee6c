"""``kumin report …``: one group; each domain adds its report command to it, and
the yearly security report, assembled here from every domain's sections, is
``kumin report security``."""

from __future__ import annotations

from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, say

report_app = typer.Typer(help="報告書 / Reports", no_args_is_help=True)


#: ``kumin report security --fy N`` makes the report; its subcommands close the year
security_app = typer.Typer(help="セキュリティ対策の実施状況（報告書） / The security report")


@security_app.callback(invoke_without_command=True)
def security_cmd(
    typer_ctx: typer.Context,
    fy: int = typer.Option(None, "--fy", help="年度（2021 = 令和3年度） / fiscal year"),
    fmt: str = typer.Option("html", "--format", help="html, pdf, md, json, csv, xlsx"),
    lang: str = typer.Option(None, "--lang", help="ja, en (既定: KUMIN_LANG)"),
    out: Path = typer.Option(None, "--out", help="出力ファイル / output file"),
) -> None:
    """住基ネット・マイナンバー制度のセキュリティ対策の実施状況（報告書）
    / The yearly security-status report (every domain's sections)."""
    from kumin.core.tabular import write_output
    from kumin.errors import UsageError
    from kumin.reports.security import FORMATS, make_security_report

    if typer_ctx.invoked_subcommand is not None:  # publish, reopen, status
        return
    if fy is None:
        raise UsageError("closures.cli.need_fy")
    check_format(fmt, FORMATS)
    with cli_ctx("security.report") as ctx:
        body, _media, name = make_security_report(ctx, fy, fmt, lang)
    if out is None and fmt in ("pdf", "xlsx"):
        out = Path(name)
    if out is not None:
        write_output(out, body)
        if str(out) != "-":
            say("cards.cli.written", path=str(out))
    else:
        typer.echo(body.decode("utf-8-sig"), nl=False)


def register(app: typer.Typer) -> None:
    from kumin.reports import publication_cli

    security_app.command("publish")(publication_cli.publish_cmd)
    security_app.command("reopen")(publication_cli.reopen_cmd)
    security_app.command("status")(publication_cli.status_cmd)
    report_app.add_typer(security_app, name="security")
    app.add_typer(report_app, name="report")
