"""Printable forms of the Juki-net paper records: the operator ledger (操作者管理簿),
the usage record book (利用記録簿) and the daily inspection checklist (日次点検簿).

Departments keep these on paper and auditors sign them; kumin prints them from
the records it holds, as PDF (A4, Japanese fonts) or .xlsx, with era dates in
Japanese. The checklist form lists every business day of the period, and a day
without a check shows 「未点検」: a missing check is a finding, not a blank line.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.core.tabular import neutralise_cell
from kumin.errors import UserError

KINDS = ("ledger", "usage", "checklist")
FORMATS = ("pdf", "xlsx", "html")


@dataclass
class Form:
    kind: str
    lang: str
    title: str
    meta: list[tuple[str, str]]
    header: list[str]
    rows: list[list[Any]]
    signatures: list[str] = field(default_factory=list)


def _day(day: dt.date | None, lang: str) -> str:
    from kumin.reports.render import era_date

    if day is None:
        return ""
    return era_date(day) if lang == "ja" else day.isoformat()


def _time(moment: dt.datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return f"{_day(moment.date(), lang)} {moment.strftime('%H:%M')}"


def ledger_form(ctx: Ctx, department: str, on: dt.date, lang: str) -> Form:
    """The ledger in force on ``on``, with the operators' names (an audited read)."""
    from kumin.juki import service

    ledger = service.ledger_in_force(ctx, department, on, with_names=True)
    rows = [
        [k, op["operator_id"], op.get("name", ""), op["role"]]
        for k, op in enumerate(ledger["operators"], start=1)
    ]
    return Form(
        "ledger",
        lang,
        t("juki.form.ledger_title", lang),
        [
            (t("juki.form.department", lang), department),
            (t("juki.form.effective", lang), _day(ledger["effective"], lang)),
            (t("juki.form.as_of", lang), _day(on, lang)),
        ],
        [t(f"juki.form.ledger_{c}", lang) for c in ("no", "operator", "name", "role")],
        rows,
        [t("juki.form.sign_manager", lang), t("juki.form.sign_security", lang)],
    )


def usage_form(ctx: Ctx, department: str | None, start: dt.date, end: dt.date, lang: str) -> Form:
    from kumin.juki import service

    records = service.list_usage(ctx, start, end, department, None)
    rows = [
        [
            _time(r["start"], lang),
            _time(r["end"], lang),
            r["terminal_id"],
            r["operator_id"],
            r["function"],
            r["inquiries"],
            r["recorded_by"],
        ]
        for r in records
    ]
    return Form(
        "usage",
        lang,
        t("juki.form.usage_title", lang),
        [
            (t("juki.form.department", lang), department or t("juki.form.all", lang)),
            (t("juki.form.period", lang), f"{_day(start, lang)} ～ {_day(end, lang)}"),
        ],
        [
            t(f"juki.form.usage_{c}", lang)
            for c in ("start", "end", "terminal", "operator", "function", "inquiries", "by")
        ],
        rows,
        [t("juki.form.sign_manager", lang)],
    )


def checklist_form(ctx: Ctx, terminal: str, start: dt.date, end: dt.date, lang: str) -> Form:
    """Every business day of the period for one terminal; a day without a check
    is printed as 「未点検」."""
    from kumin.juki import service
    from kumin.juki.hours import is_closed_day

    checks = {c["date"]: c for c in service.list_checklists(ctx, start, end, terminal, None, False)}
    items = {i["code"]: i for i in service.checklist_items(ctx)}
    rows = []
    day = start
    while day <= end:
        c = checks.get(day)
        if c is None and (day.weekday() >= 5 or is_closed_day(day)):
            day += dt.timedelta(days=1)
            continue
        if c is None:
            rows.append([_day(day, lang), t("juki.form.not_checked", lang), "", "", ""])
        else:
            failed = [
                items[f]["text_en" if lang == "en" else "text_ja"] if f in items else f
                for f in c["failed"]
            ]
            rows.append(
                [
                    _day(day, lang),
                    t("juki.form.ok" if not c["failed"] else "juki.form.not_ok", lang),
                    t("juki.secured" if c["secured"] else "juki.unsecured", lang),
                    "、".join(failed) if lang == "ja" else ", ".join(failed),
                    c["checked_by"] or "",
                ]
            )
        day += dt.timedelta(days=1)
    missing = sum(1 for r in rows if r[1] == t("juki.form.not_checked", lang))
    return Form(
        "checklist",
        lang,
        t("juki.form.checklist_title", lang),
        [
            (t("juki.form.terminal", lang), terminal),
            (t("juki.form.period", lang), f"{_day(start, lang)} ～ {_day(end, lang)}"),
            (t("juki.form.missing_days", lang), str(missing)),
        ],
        [t(f"juki.form.check_{c}", lang) for c in ("day", "result", "wire", "failed", "by")],
        rows,
        [t("juki.form.sign_manager", lang)],
    )


def render_form(form: Form, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of a form as PDF, HTML or .xlsx."""
    name = f"{form.kind}_{form.lang}"
    if fmt == "xlsx":
        from kumin.reports.render import XLSX_MEDIA

        return _xlsx(form), XLSX_MEDIA, f"{name}.xlsx"
    if fmt in ("html", "pdf"):
        from kumin.reports.render import render_document

        return render_document("juki/form.html", fmt, name, form.lang, form=form)
    raise UserError("core.cli.bad_format", format=fmt, allowed=", ".join(FORMATS))


def _xlsx(form: Form) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    book = Workbook()
    sheet = book.active
    sheet.title = form.title[:31]
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet.cell(1, 1, neutralise_cell(form.title)).font = Font(bold=True, size=14)
    row = 2
    for label, value in form.meta:
        sheet.cell(row, 1, neutralise_cell(label)).font = Font(bold=True)
        sheet.cell(row, 2, neutralise_cell(value))
        row += 1
    row += 1
    for k, text in enumerate(form.header, start=1):
        cell = sheet.cell(row, k, neutralise_cell(text))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
        cell.border = box
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    sheet.print_title_rows = f"{row}:{row}"
    for values in form.rows:
        row += 1
        for k, value in enumerate(values, start=1):
            cell = sheet.cell(row, k, neutralise_cell(value))
            cell.border = box
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    row += 2
    for k, label in enumerate(form.signatures):
        sheet.cell(row, 1 + 2 * k, neutralise_cell(label)).font = Font(bold=True)
        sheet.cell(row, 2 + 2 * k).border = box
    for k in range(len(form.header)):
        sheet.column_dimensions[chr(ord("A") + k)].width = 22
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
