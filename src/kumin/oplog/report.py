"""The periodic operation-log report and the printable deterrence notice.

Both are HTML from :func:`kumin.reports.render.render_html` (A4, Noto Sans CJK
JP), PDF through :func:`kumin.reports.render.html_to_pdf`; the report also as
JSON. Alert counts are internal figures for the security officer, not public
tables, so small cells are shown as they are.
"""

from __future__ import annotations

import datetime as dt
import json

from kumin.core.context import Ctx
from kumin.core.i18n import normalise_lang
from kumin.oplog import service
from kumin.reports.render import html_to_pdf, render_html


def make_report(
    ctx: Ctx, start: dt.date, end: dt.date, fmt: str = "html", lang: str | None = None
) -> tuple[bytes, str]:
    """The report of [start, end] as (bytes, suggested file name)."""
    data = service.report_data(ctx, start, end)
    name = f"oplog_report_{start.isoformat()}_{end.isoformat()}.{fmt}"
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"), name
    html = render_html("oplog/report.html", normalise_lang(lang or ctx.lang), **data)
    if fmt == "pdf":
        return html_to_pdf(html), name
    return html.encode("utf-8"), name


def make_notice(
    ctx: Ctx, notice_id: int, fmt: str = "html", lang: str | None = None
) -> tuple[bytes, str]:
    """The printable notice to one department as (bytes, suggested file name)."""
    data = service.notice_data(ctx, notice_id)
    html = render_html("oplog/notice.html", normalise_lang(lang or ctx.lang), **data)
    name = f"oplog_notice_{notice_id}_{data['department']}.{fmt}"
    if fmt == "pdf":
        return html_to_pdf(html), name
    return html.encode("utf-8"), name
