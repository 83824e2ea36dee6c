"""What a section of the yearly security report is made of: tables and text.

Pure data (no database, no rendering), so that the pure cores (e.g.
:mod:`kumin.cards.figures`) can build tables and every renderer (HTML, PDF,
Markdown, JSON, CSV, .xlsx) can read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, Decimals as strings, tuples as lists, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: localised title, header and formatted cells.

    ``values`` holds the same cells unformatted (ints, a ratio as Decimal) for CSV
    and JSON; ``indent`` marks the rows the report prints as a breakdown (内訳).
    """

    key: str
    title: str
    note: str
    header: list[str]
    rows: list[list[str]]
    values: list[list[Any]]
    indent: list[bool]


@dataclass
class ReportSection:
    """One numbered section of the security report."""

    number: str  # "1", "3" …: the report's numbering, also the print order
    key: str  # e.g. "cards.issuance"
    title: str
    subtitle: str = ""
    tables: list[ReportTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)  # every figure, for JSON

    def sort_key(self) -> tuple[int, str]:
        digits = "".join(ch for ch in self.number if ch.isdigit())
        return (int(digits) if digits else 99, self.number)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "number": self.number,
                "key": self.key,
                "title": self.title,
                "subtitle": self.subtitle,
                "notes": self.notes,
                "paragraphs": self.paragraphs,
                "tables": [
                    {
                        "key": tb.key,
                        "title": tb.title,
                        "note": tb.note,
                        "header": tb.header,
                        "rows": tb.rows,
                        "values": tb.values,
                    }
                    for tb in self.tables
                ],
                "figures": self.figures,
            }
        )
