"""Rendering pages: Jinja2 templates that take every string from the catalogue."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from kumin.core.i18n import LANGS, current_lang, t
from kumin.core.permissions import allowed
from kumin.web.nav import nav_for


@cache
def environment() -> Environment:
    loaders = [FileSystemLoader(str(resources.files("kumin") / "web" / "templates"))]
    # Domains keep their page templates beside their code: kumin/<domain>/templates.
    for domain in ("cases", "epi", "resources", "cards", "juki", "oplog", "reports"):
        folder = resources.files("kumin") / domain / "templates"
        if folder.is_dir():
            loaders.append(PackageLoader("kumin", f"{domain}/templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]))
    env.globals["t"] = lambda key, **kw: t(key, None, **kw)
    env.globals["LANGS"] = LANGS
    env.globals["fy_label"] = _fy_label
    return env


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
            can=(lambda action: role is not None and allowed(role, action)),
            **context,
        )
    )
    return HTMLResponse(body, status_code=status_code)
