"""Any table on a page, downloaded as CSV (UTF-8 with BOM) or Excel (.xlsx) (#14).

Every ``<table class="data">`` with a header gets sorting, a filter, pages and two
download buttons from ``kumin.js``. The buttons post the table as the user sees it
(filtered and sorted, every page) to ``POST /tables/export``; the server writes
the file. The rows are what the user's page already showed (its read was audited
there); the download itself is audited too, without any cell value.

The CSV is :func:`kumin.core.tabular.csv_bytes`, the one CSV writer. The .xlsx
writes every cell as text or a number, never as a formula (a cell typed as a
string that starts with ``=`` is shown, not run).
"""

from __future__ import annotations

import io
import re
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response

from kumin.core.context import Ctx
from kumin.errors import ParameterError
from kumin.web.deps import Permit

router = APIRouter(include_in_schema=False)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_ROWS = 200_000
_NUMBER = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?|-?\d+(\.\d+)?")


def _cell(value: Any) -> Any:
    """A number shown as ``1,234`` or ``12.5`` goes to Excel as a number; the rest as text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _NUMBER.fullmatch(text):
        plain = text.replace(",", "")
        # identifiers with leading zeros (011002, 0801) stay text
        if not (
            plain.lstrip("-").startswith("0") and len(plain.lstrip("-")) > 1 and "." not in plain
        ):
            return float(plain) if "." in plain else int(plain)
    return text


def xlsx_bytes(columns: list[str], rows: list[list[Any]], sheet: str = "kumin") -> bytes:
    """A one-sheet workbook; strings are typed as strings (never formulas)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31] or "kumin")

    def cells(values: list[Any]) -> list[WriteOnlyCell]:
        out = []
        for v in values:
            v = _cell(v)
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # never "f": "=cmd|…" stays text
            out.append(cell)
        return out

    ws.append(cells(list(columns)))
    for row in rows:
        ws.append(cells(list(row)))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _filename(name: str, fmt: str) -> str:
    base = re.sub(r'[\\/:*?"<>|\r\n]+', "_", name).strip() or "table"
    return f"{base[:80]}.{fmt}"


@router.post("/tables/export")
def export_table(
    ctx: Annotated[Ctx, Depends(Permit("tables.export"))],
    format: Annotated[str, Body()] = "csv",
    name: Annotated[str, Body()] = "table",
    columns: Annotated[list[str], Body()] = [],  # noqa: B006 - FastAPI copies defaults
    rows: Annotated[list[list[Any]], Body()] = [],  # noqa: B006
) -> Response:
    from kumin.core.tabular import csv_bytes

    if format not in FORMATS:
        raise ParameterError("core.tables.bad_format", got=format, allowed=", ".join(FORMATS))
    if len(rows) > MAX_ROWS or any(len(r) != len(columns) for r in rows):
        raise ParameterError("core.tables.bad_table")
    body = csv_bytes(columns, rows) if format == "csv" else xlsx_bytes(columns, rows, sheet=name)
    filename = _filename(name, format)
    ctx.audit("tables.export", f"table:{name[:60]}", format=format, rows=len(rows))
    quoted = urllib.parse.quote(filename)
    return Response(
        body,
        media_type=FORMATS[format],
        headers={
            "Content-Disposition": f"attachment; filename=\"table.{format}\"; filename*=UTF-8''{quoted}"
        },
    )
