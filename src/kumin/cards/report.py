"""``kumin report security``: the yearly security-status report, built from sections.

The report 「住民基本台帳ネットワークシステム及びマイナンバー制度のセキュリティ対策の
実施状況等について」 has six sections. This module makes sections 1(2), 3 and 4
from the stored card and Juki-net records (loaded into the frames of
:mod:`kumin.cards.records` and computed by :mod:`kumin.cards.figures`, the same
pure functions the synthetic data are checked with).

Other domains contribute sections: a *section provider* is a function
``provider(ctx, fy, lang) -> list[ReportSection]``. Register it with
:func:`add_section_provider` when your module is imported, and name the module as
the domain's ``report`` in :data:`kumin.domains.DOMAINS` (imported before each
report is made).
Sections are printed in the order of their ``number`` ("1", "2", "3" …), so the
juki domain's sections 2, 5 and 6 fall into place between these::

    # kumin/juki/report.py
    from kumin.cards.report import ReportSection, add_section_provider

    def juki_sections(ctx, fy, lang):
        return [ReportSection("2", "juki.terminals", title, tables=[...])]

    add_section_provider(juki_sections)

A section's tables are :class:`kumin.cards.figures.ReportTable` (title, header,
formatted rows, raw values) so that HTML, PDF, JSON and CSV all work unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kumin.cards.figures import (
    ReportTable,
    SecurityFigures,
    _jsonable,
    fiscal_year,
    report_tables,
    security_figures,
)
from kumin.cards.windows import Window
from kumin.core.context import Ctx
from kumin.core.i18n import normalise_lang, t
from kumin.core.tabular import csv_bytes
from kumin.errors import UserError

FORMATS = ("html", "pdf", "json", "csv", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        return _jsonable(
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


SectionProvider = Callable[[Ctx, int, str], list[ReportSection]]
SECTION_PROVIDERS: list[SectionProvider] = []


def add_section_provider(provider: SectionProvider) -> None:
    """Add a provider of report sections (idempotent)."""
    if provider not in SECTION_PROVIDERS:
        SECTION_PROVIDERS.append(provider)


def _load_providers() -> None:
    from kumin.domains import import_part

    import_part("report")
    import kumin.reports.operational  # noqa: F401 - section 7: the workflow's rules


@dataclass
class SecurityReport:
    fy: int
    lang: str
    title: str
    label: str  # 令和3年度 / FY2021
    label_ja: str
    label_en: str
    sections: list[ReportSection]
    #: the year's publications and re-openings (kumin.reports.publication), if any
    publication: dict[str, Any] | None = None
    #: cells and lines where today's data differ from the latest publication
    differences: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "report": "security",
            "fy": self.fy,
            "label_ja": self.label_ja,
            "label_en": self.label_en,
            "title": self.title,
            "lang": self.lang,
            "sections": [s.to_dict() for s in self.sections],
        }
        if self.publication is not None:
            out["publication"] = self.publication
            out["differences"] = self.differences
        return out


# --- the card domain's sections ---------------------------------------------------------


def card_figures(ctx: Ctx, fy: int) -> SecurityFigures:
    """Sections 1(2), 3 and 4 computed from the stored records."""
    from kumin.cards.service_records import functions
    from kumin.cards.store import load_records

    return security_figures(load_records(ctx.session, full=False), fy, functions(ctx))


_DAYS = {"ja": "月火水木金土日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def _days_text(days: list[int], lang: str) -> str:
    names = _DAYS[lang]
    sep, dash = ("・", "～") if lang == "ja" else (", ", "–")
    if len(days) == 7:
        return t("cards.report.every_day", lang)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{names[days[0]]}{dash}{names[days[-1]]}"
    return ("" if lang == "ja" else sep).join(names[d] for d in days)


def window_hours_text(w: Window, lang: str) -> str:
    """Opening hours as the report prints them: 月～金：11:00～18:30 ・土日：9:00～16:30 …"""
    groups: dict[tuple, list[int]] = {}
    for day, span in sorted(w.hours.items()):
        groups.setdefault(span, []).append(day)
    dash = "～" if lang == "ja" else "–"
    parts = [
        f"{_days_text(days, lang)}{'：' if lang == 'ja' else ': '}"
        f"{a.strftime('%-H:%M')}{dash}{b.strftime('%-H:%M')}"
        for (a, b), days in sorted(groups.items(), key=lambda g: min(g[1]))
    ]
    text = (" ・" if lang == "ja" else "; ").join(parts)
    if w.closures:
        text += " " + t("cards.report.except", lang, rules=_rules_text(w.closures, lang))
    return text


def _ordinal(n: int, lang: str) -> str:
    if lang == "ja":
        return str(n)
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


def _rules_text(rules: tuple, lang: str) -> str:
    """第3土曜とそれに続く日曜 / the 3rd Sat and the Sun after it."""
    names = _DAYS[lang]
    parts: list[str] = []
    done: set[int] = set()
    for i, r in enumerate(rules):
        if i in done or r.offset_days:
            continue
        follow = next(
            (
                j
                for j, q in enumerate(rules)
                if q.n == r.n and q.weekday == r.weekday and q.offset_days == 1
            ),
            None,
        )
        key = "cards.report.rule_and_next" if follow is not None else "cards.report.rule"
        nxt = names[(r.weekday + 1) % 7]
        parts.append(t(key, lang, n=_ordinal(r.n, lang), day=names[r.weekday], next=nxt))
        if follow is not None:
            done.add(follow)
    for i, r in enumerate(rules):
        if r.offset_days and i not in done:
            parts.append(
                t("cards.report.rule_next_day", lang, n=_ordinal(r.n, lang), day=names[r.weekday])
            )
    return ("・" if lang == "ja" else ", ").join(parts)


def _windows_table(windows: tuple[Window, ...], fy: int, lang: str) -> ReportTable:
    year = fiscal_year(fy)
    rows, values = [], []
    for w in windows:
        if (w.opened_on and w.opened_on > year.end) or (w.closed_on and w.closed_on < year.start):
            continue
        name = w.name_en if lang == "en" else w.name_ja
        notes = []
        if w.opened_on and w.opened_on > year.start:
            notes.append(t("cards.report.from", lang, date=_day(w.opened_on, lang)))
        if w.closed_on and w.closed_on <= year.end:
            notes.append(t("cards.report.until", lang, date=_day(w.closed_on, lang)))
        note = w.note_en if lang == "en" else w.note_ja
        if note and not any(n in note for n in notes):
            notes.append(note)
        label = (
            f"{name}（{'、'.join(notes)}）"
            if notes and lang == "ja"
            else (f"{name} ({'; '.join(notes)})" if notes else name)
        )
        hours = window_hours_text(w, lang)
        rows.append([label, hours, w.method_codes()])
        values.append([w.code, hours, w.method_codes()])
    return ReportTable(
        "windows",
        t("cards.report.windows_title", lang, fy=year.label(lang)),
        t("cards.report.windows_legend", lang),
        [t("cards.web.window", lang), t("cards.web.hours", lang), t("cards.report.method", lang)],
        rows,
        values,
        [False] * len(rows),
    )


def _day(day: dt.date, lang: str) -> str:
    from kumin.cards.figures import wareki

    return wareki(day) if lang == "ja" else day.isoformat()


def card_sections(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    from kumin.cards.service_records import windows

    figures = card_figures(ctx, fy)
    tables = {tb.key: tb for tb in report_tables(figures, lang)}
    all_figures = figures.to_dict()

    def lab(key: str, **kw: Any) -> str:
        return t(f"cards.report.{key}", lang, **kw)

    inquiry_notes = [lab("inquiries_note")]
    other = [r for r in figures.inquiries.rows if r.function == "not_itemised"]
    if other and (other[0].fy or other[0].previous_fy):
        inquiry_notes.append(
            lab("not_itemised_note", fy=other[0].fy, previous=other[0].previous_fy)
        )
    return [
        ReportSection(
            "1",
            "cards.system",
            lab("section1"),
            lab("section1_1"),
            [_windows_table(windows(ctx), fy, lang)],
            paragraphs=[lab("method_issuance"), lab("method_application"), lab("identity")],
        ),
        ReportSection(
            "1",
            "cards.issuance",
            lab("section1"),
            lab("section1_2"),
            [tables["issuance"], tables["certificates"], tables["status"]],
            [lab("issuance_note"), lab("certificates_note"), lab("status_note")],
            figures={
                k: all_figures[k]
                for k in (
                    "issuance_previous",
                    "issuance",
                    "certificates",
                    "status_start",
                    "status_end",
                )
            },
        ),
        ReportSection(
            "3",
            "cards.juki",
            lab("section3"),
            tables=[tables["juki_moves"], tables["juki_wide_area"]],
            figures={"juki": all_figures["juki"]},
        ),
        ReportSection(
            "4",
            "cards.inquiries",
            lab("section4"),
            lab("section4_sub"),
            [tables["inquiries"]],
            inquiry_notes,
            figures={"inquiries": all_figures["inquiries"]},
        ),
    ]


add_section_provider(card_sections)


# --- building and rendering ------------------------------------------------------------------


def security_report(
    ctx: Ctx,
    fy: int,
    lang: str | None = None,
    providers: list[SectionProvider] | None = None,
) -> SecurityReport:
    """Every section of the security report for fiscal year ``fy`` (e.g. 2021).

    ``providers`` limits the report to some sections (default: every registered one).
    """
    ctx.authorize("security.report")
    year = fiscal_year(fy)
    lang = normalise_lang(lang or ctx.lang)
    publication, differences = None, []
    if providers is None:
        from kumin.reports.publication import attach

        _load_providers()
        sections = _stored_sections(ctx, year, lang)
        # a published year shows what was published, and what changed since
        sections, publication, differences = attach(ctx, year.year, lang, sections)
    else:
        sections = [s for provider in providers for s in provider(ctx, year.year, lang)]
        sections.sort(key=ReportSection.sort_key)
    return SecurityReport(
        fy=year.year,
        lang=lang,
        title=t("cards.report.title", lang),
        label=year.label(lang),
        label_ja=year.label("ja"),
        label_en=year.label("en"),
        sections=sections,
        publication=publication,
        differences=differences,
    )


def _stored_sections(ctx: Ctx, year, lang: str) -> list[ReportSection]:
    """Every registered section, computed once per change of the card and Juki-net
    tables (:mod:`kumin.core.snapshots`): a closed year's report is its snapshot."""
    from dataclasses import asdict

    from kumin import __version__
    from kumin.core import snapshots

    def compute() -> dict[str, Any]:
        found = [s for provider in SECTION_PROVIDERS for s in provider(ctx, year.year, lang)]
        found.sort(key=ReportSection.sort_key)
        return {"sections": _jsonable([asdict(s) for s in found])}

    today = dt.date.today()
    # an open year's figures run to today: its snapshot lasts one day at most
    as_of = today.isoformat() if today <= year.end else "closed"
    # the sections' makers are part of the key: a section added by an upgrade (or a
    # domain) appears in a closed year's report too, not only after its data change
    makers = ",".join(f"{p.__module__}.{p.__qualname__}" for p in SECTION_PROVIDERS)
    sections = hashlib.sha256(makers.encode()).hexdigest()[:8]
    key = f"security:{__version__}:{sections}:FY{year.year}:{lang}:{as_of}"
    tables = snapshots.tables_with_prefix("cards_", "juki_")
    body = snapshots.cached(ctx.session, key, tables, compute)
    return [
        ReportSection(**{**d, "tables": [ReportTable(**tb) for tb in d["tables"]]})
        for d in body["sections"]
    ]


def render_report(report: SecurityReport, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of the report in ``fmt`` (html, pdf, json, csv, xlsx)."""
    name = f"security_report_FY{report.fy}_{report.lang}"
    if fmt == "json":
        body = json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        return body, "application/json", f"{name}.json"
    if fmt == "csv":
        return _csv(report), "text/csv; charset=utf-8", f"{name}.csv"
    if fmt == "xlsx":
        from kumin.cards.report_xlsx import render_xlsx

        return render_xlsx(report), XLSX_MEDIA, f"{name}.xlsx"
    if fmt in ("html", "pdf"):
        from kumin.reports.render import html_to_pdf, render_html

        html = render_html("cards/security_report.html", report.lang, report=report)
        if fmt == "html":
            return html.encode("utf-8"), "text/html; charset=utf-8", f"{name}.html"
        return html_to_pdf(html), "application/pdf", f"{name}.pdf"
    raise UserError("core.cli.bad_format", format=fmt, allowed=", ".join(FORMATS))


def _csv(report: SecurityReport) -> bytes:
    """Every table, one block each, values unformatted (Excel reads numbers)."""
    width = max((len(tb.header) for s in report.sections for tb in s.tables), default=3)
    header = [
        t("cards.report.csv_section", report.lang),
        t("cards.report.csv_table", report.lang),
        t("cards.report.csv_row", report.lang),
        *[f"{i}" for i in range(1, width)],
    ]
    rows: list[list[Any]] = []
    for s in report.sections:
        for tb in s.tables:
            rows.append([s.number, tb.title, "", *tb.header[1:]])
            for formatted, values in zip(_label_rows(tb, report.lang), tb.values, strict=False):
                rows.append([s.number, tb.title, formatted, *[_plain(v) for v in values[1:]]])
    # a published year: the differences from its publication, one row each
    title = t("closures.publication.differences", report.lang)
    for d in report.differences:
        rows.append([d["section"], title, d["item"], d["published"], d["now"]])
    return csv_bytes(header, rows)


def _label_rows(tb: ReportTable, lang: str) -> list[str]:
    labels = [r[0] for r in tb.rows]
    if len(tb.values) > len(labels):  # the status table has one more value row (the ratio)
        labels = labels[:1] + [t("cards.report.ratio", lang)] + labels[1:]
    return labels


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value) if not isinstance(value, int) else value


def make_security_report(
    ctx: Ctx,
    fy: int,
    fmt: str = "html",
    lang: str | None = None,
    providers: list[SectionProvider] | None = None,
) -> tuple[bytes, str, str]:
    """Build and render the report; its generation is audited."""
    if fmt not in FORMATS:
        raise UserError("core.cli.bad_format", format=fmt, allowed=", ".join(FORMATS))
    report = security_report(ctx, fy, lang, providers)
    body = render_report(report, fmt)
    ctx.audit(
        "security.report",
        f"report:security:FY{report.fy}",
        format=fmt,
        lang=report.lang,
        sections=[s.number for s in report.sections],
    )
    return body
