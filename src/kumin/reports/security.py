"""``kumin report security``: the yearly security-status report, assembled in one place.

The report 「住民基本台帳ネットワークシステム及びマイナンバー制度のセキュリティ対策の
実施状況等について」 is made of numbered sections that the domains contribute: a
*section provider* is a function ``provider(ctx, fy, lang) -> list[ReportSection]``,
registered with :func:`add_section_provider` when the domain's report module is
imported; :data:`kumin.domains.DOMAINS` names that module (``report=``), and every
one is imported before a report is made. This module imports no domain, so that
the arrows go from the domains to the report, never back::

    # kumin/juki/report.py
    from kumin.reports.security import ReportSection, add_section_provider

    def juki_sections(ctx, fy, lang):
        return [ReportSection("2", "juki.terminals", title, tables=[...])]

    add_section_provider(juki_sections, tables=("juki_",))

Sections are printed in the order of their ``number`` ("1", "2", "3" …). A
section's tables are :class:`~kumin.reports.sections.ReportTable` (title, header,
formatted rows, raw values) so that HTML, PDF, Markdown, JSON, CSV and .xlsx all
work unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kumin.core.context import Ctx
from kumin.core.i18n import normalise_lang, t
from kumin.core.tabular import csv_bytes
from kumin.errors import ParameterError, UserError
from kumin.reports.render import XLSX_MEDIA, fiscal_year_label, fiscal_year_range
from kumin.reports.sections import ReportSection, ReportTable, jsonable

__all__ = [
    "FORMATS",
    "XLSX_MEDIA",
    "ReportSection",
    "ReportTable",
    "SecurityReport",
    "add_section_provider",
    "make_security_report",
    "render_report",
    "security_report",
]

FORMATS = ("html", "pdf", "md", "json", "csv", "xlsx")

SectionProvider = Callable[[Ctx, int, str], list[ReportSection]]
SECTION_PROVIDERS: list[SectionProvider] = []
#: prefixes of the tables each provider reads: a stored report is reused until one changes
PROVIDER_TABLES: dict[SectionProvider, tuple[str, ...]] = {}


def add_section_provider(
    provider: SectionProvider, tables: tuple[str, ...] = ("cards_", "juki_")
) -> None:
    """Add a provider of report sections (idempotent); ``tables`` are the prefixes of
    the tables it reads (a change to any of them recomputes the stored report)."""
    if provider not in SECTION_PROVIDERS:
        SECTION_PROVIDERS.append(provider)
    PROVIDER_TABLES[provider] = tables


def check_fy(fy: int) -> int:
    """A fiscal year the report can be made for (2003, Juki-net's start, to 2100)."""
    if not isinstance(fy, int) or isinstance(fy, bool) or not 2003 <= fy <= 2100:
        raise ParameterError("cards.figures.bad_fy", value=repr(fy))
    return fy


def _load_providers() -> None:
    from kumin.domains import import_part

    import_part("report")


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
    check_fy(fy)
    lang = normalise_lang(lang or ctx.lang)
    publication, differences = None, []
    if providers is None:
        from kumin.reports.publication import attach

        _load_providers()
        sections = _stored_sections(ctx, fy, lang)
        # a published year shows what was published, and what changed since
        sections, publication, differences = attach(ctx, fy, lang, sections)
    else:
        sections = [s for provider in providers for s in provider(ctx, fy, lang)]
        sections.sort(key=ReportSection.sort_key)
    return SecurityReport(
        fy=fy,
        lang=lang,
        title=t("cards.report.title", lang),
        label=fiscal_year_label(fy, lang),
        label_ja=fiscal_year_label(fy, "ja"),
        label_en=fiscal_year_label(fy, "en"),
        sections=sections,
        publication=publication,
        differences=differences,
    )


def _stored_sections(ctx: Ctx, fy: int, lang: str) -> list[ReportSection]:
    """Every registered section, computed once per change of the tables the providers
    read (:mod:`kumin.core.snapshots`): a closed year's report is its snapshot."""
    from kumin import __version__
    from kumin.core import snapshots

    def compute() -> dict[str, Any]:
        found = [s for provider in SECTION_PROVIDERS for s in provider(ctx, fy, lang)]
        found.sort(key=ReportSection.sort_key)
        return {"sections": jsonable([asdict(s) for s in found])}

    today = dt.date.today()
    # an open year's figures run to today: its snapshot lasts one day at most
    as_of = today.isoformat() if today <= fiscal_year_range(fy)[1] else "closed"
    # the sections' makers are part of the key: a section added by an upgrade (or a
    # domain) appears in a closed year's report too, not only after its data change
    makers = ",".join(f"{p.__module__}.{p.__qualname__}" for p in SECTION_PROVIDERS)
    sections = hashlib.sha256(makers.encode()).hexdigest()[:8]
    key = f"security:{__version__}:{sections}:FY{fy}:{lang}:{as_of}"
    prefixes = tuple(sorted({p for ps in PROVIDER_TABLES.values() for p in ps}))
    tables = snapshots.tables_with_prefix(*prefixes)
    body = snapshots.cached(ctx.session, key, tables, compute)
    return [
        ReportSection(**{**d, "tables": [ReportTable(**tb) for tb in d["tables"]]})
        for d in body["sections"]
    ]


def render_report(report: SecurityReport, fmt: str) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of the report in ``fmt`` (see :data:`FORMATS`)."""
    name = f"security_report_FY{report.fy}_{report.lang}"
    if fmt == "json":
        body = json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")
        return body, "application/json", f"{name}.json"
    if fmt == "csv":
        return _csv(report), "text/csv; charset=utf-8", f"{name}.csv"
    if fmt == "xlsx":
        from kumin.reports.security_xlsx import render_xlsx

        return render_xlsx(report), XLSX_MEDIA, f"{name}.xlsx"
    if fmt == "md":
        from kumin.reports.render import render_html

        body = render_html("reports/security_report.md", report.lang, report=report)
        return body.encode("utf-8"), "text/markdown; charset=utf-8", f"{name}.md"
    if fmt in ("html", "pdf"):
        from kumin.reports.render import render_document

        return render_document("cards/security_report.html", fmt, name, report.lang, report=report)
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
            for formatted, values in zip(label_rows(tb, report.lang), tb.values, strict=False):
                rows.append([s.number, tb.title, formatted, *[_plain(v) for v in values[1:]]])
    # a published year: the differences from its publication, one row each
    title = t("closures.publication.differences", report.lang)
    for d in report.differences:
        rows.append([d["section"], title, d["item"], d["published"], d["now"]])
    return csv_bytes(header, rows)


def label_rows(tb: ReportTable, lang: str) -> list[str]:
    """The row labels of a table, one per row of ``values``."""
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
