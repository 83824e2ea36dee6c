"""Rendering pages: Jinja2 templates that take every string from the catalogue."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from kumin.core.i18n import LANGS, current_lang, t
from kumin.core.permissions import allowed
from kumin.domains import template_domains
from kumin.web.nav import nav_for, nav_groups


@cache
def environment() -> Environment:
    loaders = [FileSystemLoader(str(resources.files("kumin") / "web" / "templates"))]
    # Domains keep their page templates beside their code: kumin/<domain>/templates.
    for domain in template_domains():
        folder = resources.files("kumin") / domain / "templates"
        if folder.is_dir():
            loaders.append(PackageLoader("kumin", f"{domain}/templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]))
    env.globals["t"] = lambda key, **kw: t(key, None, **kw)
    env.globals["LANGS"] = LANGS
    env.globals["fy_label"] = _fy_label
    env.globals["plotly_locale"] = _plotly_locale
    env.filters["code_names"] = code_names
    env.filters["day_rules"] = day_rules
    env.filters["local_time"] = local_time
    env.filters["plain"] = plain
    return env


_CODE_NAMES = re.compile(
    r"(?<![\w\-])(?:[a-z][a-z0-9_]*|[A-Za-z]+_[A-Za-z0-9_]+)(?:\s*,\s*[a-z][a-z0-9_]*)*(?![\w\-])"
)


def code_names(text: str) -> Markup:
    """Help text with the file's column names (``terminal_id,department``) set as code:
    they are what the user types in a CSV header, not words of the page (#14)."""
    return Markup(_CODE_NAMES.sub(lambda m: f"<code>{m.group(0)}</code>", str(escape(text))))


_DAYS_JA = {
    "mon": "月",
    "tue": "火",
    "wed": "水",
    "thu": "木",
    "fri": "金",
    "sat": "土",
    "sun": "日",
}
_DAY_RULE = re.compile(r"(?<![a-z])([1-5])?(mon|tue|wed|thu|fri|sat|sun)(?:\+(\d+))?(?![a-z])")


def day_rules(text: str | None) -> str:
    """Window day rules as a Japanese reader writes them: ``3sat+1`` → 第3土曜の翌日,
    ``mon-fri 09:00-15:30`` → 月–金 09:00-15:30 (English pages keep the file's form)."""
    if not text or current_lang.get() != "ja":
        return text or ""

    def one(m: re.Match) -> str:
        nth, day, after = m.groups()
        label = f"第{nth}{_DAYS_JA[day]}曜" if nth else _DAYS_JA[day]
        if after:
            label += "の翌日" if after == "1" else f"の{after}日後"
        return label

    return _DAY_RULE.sub(one, text).replace("; ", "、")


JST = dt.timezone(dt.timedelta(hours=9), "JST")


def local_time(value: str | dt.datetime | None) -> str:
    """A UTC time (ISO text or naive datetime) in Japan time, with its zone: the audit
    trail stores UTC, and a time without a zone is ambiguous (#14)."""
    if not value:
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")


def plain(value: Any) -> str:
    """A value as text a person reads: lists joined with 、, mappings without JSON
    escapes (``\u8ab2`` is never shown), booleans and None in words."""
    import json

    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("core.answer.yes" if value else "core.answer.no")
    if isinstance(value, list | tuple):
        return "、".join(plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _plotly_locale() -> Markup:
    """The locale as a JSON data block's text: Japanese as itself (a page never shows
    ``\\u`` escapes), and ``<``, ``>``, ``&`` escaped so the block cannot close early."""
    import json

    from kumin.web.plotly_locale import plotly_locale

    text = json.dumps(plotly_locale(current_lang.get()), ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return Markup(text)


def _fy_label(year: int) -> str:
    """令和3年度 in Japanese, FY2021 in English (#14: no bare "FY" on a Japanese page)."""
    from kumin.reports.render import fiscal_year_label

    return fiscal_year_label(year, current_lang.get())


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a full page (or a fragment, for HTMX) with the common context."""
    principal = getattr(request.state, "principal", None)
    role = principal.actor.role if principal else None
    body = (
        environment()
        .get_template(template)
        .render(
            request=request,
            lang=current_lang.get(),
            user=principal.actor if principal else None,
            csrf=getattr(request.state, "csrf", ""),
            nav=nav_for(role) if role else [],
            nav_groups=nav_groups(role) if role else [],
            can=(lambda action: role is not None and allowed(role, action)),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status_code)
