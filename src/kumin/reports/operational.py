"""Section 7 of the security report: what the workflow's rules found in the year.

Two rules of the source report leave traces an auditor checks every year: each
integrated terminal is inspected every working day (日次点検簿), and the PIN-setting
request form is shredded right after the PINs are set. This section lists the
working days without a check, by terminal, and the forms shredded by window and
month with those shredded late — counts only, no card and no person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kumin.cards.figures import ReportTable
from kumin.cards.report import ReportSection, add_section_provider
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.reports.render import fiscal_year_label, fiscal_year_range


def _day(day: dt.date | None, lang: str) -> str:
    from kumin.reports.render import era_date

    if day is None:
        return "—"
    return era_date(day) if lang == "ja" else day.isoformat()


def _lab(key: str, lang: str, **kw: Any) -> str:
    return t(f"operational.report.{key}", lang, **kw)


def checks_table(found: dict[str, Any], lang: str, names: dict[str, str]) -> ReportTable:
    """The terminals with working days not checked (also shown on the governance page)."""
    heads = ("h_department", "h_terminal", "h_days", "h_first", "h_last")
    rows, values = [], []
    for r in found["terminals"]:
        dept = names.get(r["department"], r["department"])
        rows.append(
            [
                dept,
                r["terminal_id"],
                f"{r['days']:,}",
                _day(r["first"], lang),
                _day(r["last"], lang),
            ]
        )
        values.append([r["department"], r["terminal_id"], r["days"], r["first"], r["last"]])
    return ReportTable(
        "ops_missing_checks",
        _lab("checks_title", lang),
        _lab("checks_note", lang, horizon=_day(found["horizon"], lang)),
        [_lab(h, lang) for h in heads],
        rows,
        values,
        [False] * len(rows),
    )


def _shred_table(found: dict[str, Any], lang: str, names: dict[str, str]) -> ReportTable:
    heads = ("h_window", "h_month", "h_shredded", "h_late", "h_max_hours")
    rows, values = [], []
    for r in found["rows"]:
        label = names.get(r["window"], r["window"])
        rows.append(
            [label, r["month"], f"{r['shredded']:,}", f"{r['late']:,}", f"{r['max_hours']}"]
        )
        values.append([r["window"], r["month"], r["shredded"], r["late"], r["max_hours"]])
    return ReportTable(
        "ops_form_shredding",
        _lab("shred_title", lang),
        _lab("shred_note", lang, hours=found["limit_hours"]),
        [_lab(h, lang) for h in heads],
        rows,
        values,
        [False] * len(rows),
    )


def operational_section(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    from kumin.cards.service import form_shredding
    from kumin.juki.service_checks import missing_checks
    from kumin.juki.service_units import department_names

    ctx.authorize("security.report")
    start, end = fiscal_year_range(fy)
    label = fiscal_year_label(fy, lang)
    checks = missing_checks(ctx, start, end)
    shred = form_shredding(ctx, start, end)
    paragraphs, tables = [], []
    if checks["horizon"] is None or checks["horizon"] < start:
        paragraphs.append(_lab("checks_no_records", lang, fy=label))
    elif checks["terminals"]:
        paragraphs.append(
            _lab(
                "checks_found",
                lang,
                fy=label,
                terminals=len(checks["terminals"]),
                days=checks["days"],
            )
        )
        tables.append(checks_table(checks, lang, department_names(ctx)))
    else:
        paragraphs.append(_lab("checks_none", lang, fy=label, checked=f"{checks['checked']:,}"))
    if shred["rows"]:
        key = "shred_late" if shred["late"] else "shred_on_time"
        paragraphs.append(_lab(key, lang, late=shred["late"]))
        from kumin.cards.service_records import windows

        names = {w.code: (w.name_en if lang == "en" else w.name_ja) for w in windows(ctx)}
        tables.append(_shred_table(shred, lang, names))
    else:
        paragraphs.append(_lab("shred_none", lang, fy=label))
    if shred["still_held"]:
        paragraphs.append(
            _lab("shred_still_held", lang, count=shred["still_held"], hours=shred["limit_hours"])
        )
    return [
        ReportSection(
            "7",
            "ops.findings",
            _lab("section", lang, fy=label),
            tables=tables,
            paragraphs=paragraphs,
            figures={
                "missing_check_days": checks["days"],
                "terminals_with_missing_checks": len(checks["terminals"]),
                "forms_shredded": sum(r["shredded"] for r in shred["rows"]),
                "forms_shredded_late": shred["late"],
                "forms_still_held": shred["still_held"],
            },
        )
    ]


add_section_provider(operational_section)
