"""The domains of kumin, declared once.

Each domain is a package ``kumin.<name>`` that may have ``models`` (tables),
``cli`` (``register(app)``), ``web`` (``router`` and/or ``api_router``), ``demo``
(``load_demo``), a module registering sections of the yearly security report,
and ``templates``. The database, the web app, the CLI, the demo and the report
iterate :data:`DOMAINS`; a module declared here and missing is an error at
start-up, never a silently absent part of the system.

Migrations follow the same list: each domain with models has its Alembic branch
(``kumin/migrations/versions``), upgraded together by ``kumin init``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Domain:
    name: str
    models: bool = False
    cli: bool = False
    web: bool = False
    demo: bool = False
    #: module that registers sections of the yearly security report, if any
    report: str | None = None
    templates: bool = False


DOMAINS: tuple[Domain, ...] = (
    Domain("core", models=True),
    Domain("cases", models=True, cli=True, web=True, demo=True, templates=True),
    Domain("epi", cli=True, web=True, templates=True),
    Domain("resources", models=True, cli=True, web=True, demo=True, templates=True),
    Domain("cards", models=True, cli=True, web=True, demo=True, report="report", templates=True),
    Domain("juki", models=True, cli=True, web=True, demo=True, report="report", templates=True),
    Domain("oplog", models=True, cli=True, web=True, demo=True, report="reconcile", templates=True),
    Domain("reports", cli=True, templates=True),
)

PARTS = ("models", "cli", "web", "demo")


def module_names(part: str) -> list[str]:
    """``kumin.<domain>.<part>`` of every domain that has ``part``, in order."""
    if part == "report":
        return [f"kumin.{d.name}.{d.report}" for d in DOMAINS if d.report]
    if part not in PARTS:
        raise ValueError(part)
    return [f"kumin.{d.name}.{part}" for d in DOMAINS if getattr(d, part)]


def import_part(part: str) -> list[ModuleType]:
    """Import every domain's ``part``; a missing module raises (it was declared)."""
    return [importlib.import_module(name) for name in module_names(part)]


def template_domains() -> list[str]:
    return [d.name for d in DOMAINS if d.templates]
