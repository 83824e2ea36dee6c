"""Reports: HTML from Jinja2 templates, PDF from that HTML with WeasyPrint,
Markdown for plain-text exchange, and the dates and fiscal years reports show.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from kumin.core.i18n import normalise_lang, t
from kumin.domains import template_domains
from kumin.errors import UserError

REPORT_FORMATS = ("html", "pdf", "md", "json", "csv")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERAS = (
    (dt.date(2019, 5, 1), "令和", "R"),
    (dt.date(1989, 1, 8), "平成", "H"),
    (dt.date(1926, 12, 25), "昭和", "S"),
    (dt.date(1912, 7, 30), "大正", "T"),
)


def era_date(day: dt.date) -> str:
    """``2022-01-14`` → ``令和4年1月14日`` (the first year of an era is 元年)."""
    for start, name, _ in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def fiscal_year(day: dt.date) -> int:
    """The fiscal year (年度) a date falls in: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def fiscal_year_label(year: int, lang: str = "ja") -> str:
    """``2021`` → ``令和3年度`` (ja) or ``FY2021`` (en)."""
    if normalise_lang(lang) == "en":
        return f"FY{year}"
    start = dt.date(year, 4, 1)
    for era_start, name, _ in ERAS:
        if start >= era_start or (name == "令和" and year == 2019):
            n = year - era_start.year + 1
            return f"{name}{'元' if n == 1 else n}年度"
    return f"{year}年度"


def date_label(day: dt.date | None, lang: str = "ja") -> str:
    """Dates as reports show them: ``2022-01-14（令和4年1月14日）`` in Japanese."""
    if day is None:
        return ""
    if normalise_lang(lang) == "en":
        return day.isoformat()
    return f"{day.isoformat()}（{era_date(day)}）"


@cache
def environment() -> Environment:
    folders = [str(resources.files("kumin") / "reports" / "templates")]
    for domain in template_domains():
        folder = resources.files("kumin") / domain / "templates"
        if folder.is_dir():
            folders.append(str(folder))
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(f) for f in folders]),
        # Markdown too: a contract field holding <script> or <img onerror=...> must
        # come out as text in any Markdown viewer, not as raw HTML.
        autoescape=select_autoescape(["html", "md"]),
    )
    env.filters["era"] = era_date
    env.filters["num"] = lambda v: "" if v is None else (f"{v:,}" if isinstance(v, int) else v)
    return env


def render_html(template: str, lang: str = "ja", **context: Any) -> str:
    """Render a report template; ``t`` and ``lang`` are always available."""
    lang = normalise_lang(lang)
    return (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            t=lambda key, **kw: t(key, lang, **kw),
            date_label=lambda d: date_label(d, lang),
            fy_label=lambda y: fiscal_year_label(y, lang),
            svg=lambda chart: Markup(_svg(chart)),
            generated=dt.datetime.now().replace(microsecond=0),
            **context,
        )
    )


def _svg(chart) -> str:
    from kumin.reports.charts import to_svg

    return to_svg(chart)


def html_to_pdf(html: str) -> bytes:
    """PDF bytes from report HTML (fonts: Noto Sans CJK JP from Debian's fonts-noto-cjk)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(resources.files("kumin") / "reports")).write_pdf()


def render_document(
    template: str, fmt: str, name: str, lang: str = "ja", **context: Any
) -> tuple[bytes, str, str]:
    """``(body, media type, file name)`` of a template as HTML or as PDF made from it:
    the one html/pdf branch every printable report and form shares."""
    html = render_html(template, lang, **context)
    if fmt == "html":
        return html.encode("utf-8"), "text/html; charset=utf-8", f"{name}.html"
    if fmt == "pdf":
        return html_to_pdf(html), "application/pdf", f"{name}.pdf"
    raise UserError("core.cli.bad_format", format=fmt, allowed="html, pdf")


def check_report_format(fmt: str, allowed: tuple[str, ...]) -> str:
    if fmt not in allowed:
        raise UserError("core.cli.bad_format", format=fmt, allowed=", ".join(allowed))
    return fmt
