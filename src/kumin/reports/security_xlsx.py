"""The yearly security report as an Excel workbook, in the source report's layout.

One sheet, printed on A4 like the city's own report: the title with the fiscal
year in the era calendar, each numbered section with its subtitle, each table
with its era-dated column headings (the previous year beside the current one),
breakdown rows (内訳) indented, figures as numbers Excel can sum (#,##0), the
notes under each table, and the paragraphs of sections without tables. A second
sheet lists every figure flat (section, table, row, column, value) for those
who re-tabulate.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kumin.core.i18n import t
from kumin.core.tabular import neutralise_cell

if TYPE_CHECKING:
    from kumin.reports.security import ReportTable, SecurityReport


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise_cell(str(value))


def render_xlsx(report: SecurityReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    lang = report.lang
    book = Workbook()
    sheet = book.active
    sheet.title = t("cards.report.xlsx_sheet", lang)
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    head_fill = PatternFill("solid", fgColor="E8EEF4")
    wrap = Alignment(wrap_text=True, vertical="top")
    width = max((len(tb.header) for s in report.sections for tb in s.tables), default=3)

    row = 1
    sheet.cell(row, 1, neutralise_cell(f"{report.label} {report.title}")).font = Font(
        bold=True, size=14
    )
    row += 2
    for section in sorted(report.sections, key=lambda s: s.sort_key()):
        heading = f"{section.number} {section.title}"
        sheet.cell(row, 1, neutralise_cell(heading)).font = Font(bold=True, size=12)
        row += 1
        if section.subtitle:
            sheet.cell(row, 1, neutralise_cell(section.subtitle)).font = Font(bold=True)
            row += 1
        for paragraph in section.paragraphs:
            cell = sheet.cell(row, 1, neutralise_cell(paragraph))
            cell.alignment = wrap
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            row += 1
        for table in section.tables:
            row = _table(sheet, row, table, box, head_fill, wrap, width)
        for note in section.notes:
            cell = sheet.cell(row, 1, neutralise_cell(note))
            cell.font = Font(italic=True, size=9)
            cell.alignment = wrap
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
            row += 1
        row += 1
    sheet.column_dimensions["A"].width = 44
    for k in range(2, width + 1):
        sheet.column_dimensions[chr(ord("A") + k - 1)].width = 18
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    _figures_sheet(book, report)
    if report.publication and report.publication.get("publication"):
        _differences_sheet(book, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(sheet, row: int, table: ReportTable, box, head_fill, wrap, width: int) -> int:
    from openpyxl.styles import Alignment, Font

    sheet.cell(row, 1, neutralise_cell(table.title)).font = Font(bold=True)
    row += 1
    for k, text in enumerate(table.header, start=1):
        cell = sheet.cell(row, k, neutralise_cell(text))
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.border = box
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row += 1
    for r, formatted in enumerate(table.rows):
        values = (
            table.values[r]
            if r < len(table.values) and len(table.rows) == len(table.values)
            else None
        )
        label = sheet.cell(row, 1, neutralise_cell(formatted[0]))
        label.border = box
        label.alignment = Alignment(
            indent=2 if r < len(table.indent) and table.indent[r] else 0, wrap_text=True
        )
        for k in range(1, len(formatted)):
            raw = values[k] if values is not None and k < len(values) else None
            value = (
                _number(raw)
                if isinstance(raw, int | float | Decimal)
                else neutralise_cell(formatted[k])
            )
            cell = sheet.cell(row, k + 1, value)
            cell.border = box
            if isinstance(value, int):
                cell.number_format = "#,##0"
            cell.alignment = Alignment(horizontal="right", vertical="top", wrap_text=True)
        row += 1
    if table.note:
        cell = sheet.cell(row, 1, neutralise_cell(table.note))
        cell.font = Font(italic=True, size=9)
        cell.alignment = wrap
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        row += 1
    return row + 1


def _figures_sheet(book, report: SecurityReport) -> None:
    sheet = book.create_sheet(t("cards.report.xlsx_figures", report.lang))
    lang = report.lang
    sheet.append(
        [
            t("cards.report.csv_section", lang),
            t("cards.report.csv_table", lang),
            t("cards.report.csv_row", lang),
            t("cards.report.xlsx_column", lang),
            t("cards.report.xlsx_value", lang),
        ]
    )
    from kumin.reports.security import label_rows

    for section in report.sections:
        for table in section.tables:
            for label, values in zip(label_rows(table, lang), table.values, strict=False):
                for k in range(1, len(values)):
                    column = table.header[k] if k < len(table.header) else str(k)
                    sheet.append(
                        [
                            neutralise_cell(section.number),
                            neutralise_cell(table.title),
                            neutralise_cell(label),
                            neutralise_cell(column),
                            _number(values[k]),
                        ]
                    )
    sheet.freeze_panes = "A2"


def _differences_sheet(book, report: SecurityReport) -> None:
    """A published year: its state and every difference from the publication."""
    lang = report.lang
    sheet = book.create_sheet(t("closures.publication.differences", lang)[:31])
    sheet.append([neutralise_cell(report.publication["state"])])
    sheet.append([])
    sheet.append(
        [
            t(f"closures.publication.{h}", lang)
            for h in ("h_section", "h_item", "h_published", "h_now")
        ]
    )
    for d in report.differences:
        sheet.append([neutralise_cell(d[k]) for k in ("section", "item", "published", "now")])
    if not report.differences:
        number = report.publication["publication"]
        sheet.append([t("closures.publication.no_differences", lang, number=number)])
    sheet.freeze_panes = "A4"
