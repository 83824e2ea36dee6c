"""What the juki commands share: options, date parsing, import summaries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from kumin.cli.common import check_format, emit, err_console, say
from kumin.core.i18n import t
from kumin.errors import UserError

FILE = typer.Argument(..., help="CSV / xlsx (UTF-8, CP932)")
FMT = typer.Option("table", "--format", help="table, csv, json")
OUT = typer.Option(None, "--out", help="ファイルに書き出す / write to a file")
FROM = typer.Option(None, "--from", help="開始日 / first day (YYYY-MM-DD)")
TO = typer.Option(None, "--to", help="終了日 / last day (YYYY-MM-DD)")
DEPT = typer.Option(None, "--department", help="所属コード / department code")


def parse_day(value: str | None, default: dt.date | None = None) -> dt.date | None:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def parse_moment(value: str) -> dt.datetime:
    from kumin.juki._common import CellError, parse_datetime

    try:
        return parse_datetime(value)
    except CellError:
        raise UserError("core.cell.bad_datetime", value=value) from None


def period(start: str | None, end: str | None, days: int = 31) -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    lo = parse_day(start, None)
    hi = parse_day(end, None)
    if lo is None and hi is None:
        return today - dt.timedelta(days=days), today + dt.timedelta(days=days)
    if lo is None:
        return hi - dt.timedelta(days=days), hi
    return lo, hi or lo + dt.timedelta(days=days)


def imported(result: Any) -> None:
    say(
        "juki.cli.imported",
        rows=result.rows,
        added=result.inserted,
        changed=result.updated,
        unchanged=result.unchanged,
    )
    for w in result.warnings:
        err_console.print(t("juki.cli.warning", None, text=w.render()), highlight=False)


def show(rows: list[dict[str, Any]], fmt: str, columns: list[str], out: Path | None) -> None:
    check_format(fmt)
    emit(rows, fmt, columns, out=out)
