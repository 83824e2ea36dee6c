"""``kumin demo``: an installation filled with the synthetic ward, ready to explore.

Each domain contributes a loader ``load_demo(ctx, seed, progress)``; they run in
the order of :data:`kumin.domains.DOMAINS`, each in its own transaction, through the same
services a user would use. Loading twice changes nothing.
"""

from __future__ import annotations

import secrets

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from kumin.core import accounts, audit, installation
from kumin.core.config import Settings
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.i18n import t
from kumin.core.models import User
from kumin.core.permissions import ROLES, SYSTEM, Actor
from kumin.core.setup import initialise
from kumin.domains import import_part
from kumin.errors import UserError

DEMO_USERS = {
    "admin": "demo-admin",
    "epidemiologist": "demo-epi",
    "researcher": "demo-researcher",
    "records_officer": "demo-records",
    "terminal_manager": "demo-terminal",
    "auditor": "demo-auditor",
}
DEMO_DEPARTMENT = "課税課"


def set_up_demo(
    settings: Settings,
    seed: int = 20220826,
    console: Console | None = None,
    url: str | None = None,
) -> dict[str, str]:
    """Initialise, create demo accounts (passwords printed once) and load demo data.

    The installation is marked as a demo in its database (no 2FA required), so a
    second shell signs in with a printed password and no environment variable.
    A database holding accounts other than the demo's is refused: it is not a demo.
    """
    console = console or Console()
    initialise(settings)
    mark_as_demo(settings)
    created = _create_accounts(settings)
    if created:
        table = Table(title=t("core.demo.credentials_title"))
        table.add_column(t("core.demo.user"))
        table.add_column(t("core.demo.role"))
        table.add_column(t("core.demo.password"))
        for name, (role, password) in created.items():
            table.add_row(name, role, password)
        console.print(table)
        console.print(t("core.demo.credentials_once"))
    else:
        console.print(t("core.demo.accounts_exist"))
    admin = Actor(DEMO_USERS["admin"], "admin", None, None, settings.lang)
    with Progress(console=console, transient=False) as progress:
        for module in import_part("demo"):
            with context(settings, admin) as ctx:
                module.load_demo(ctx, seed=seed, progress=progress)
    console.print(t("core.demo.ready"))
    if url:
        console.print(t("core.signin.demo_url", url=url), highlight=False)
    console.print(
        t("core.signin.demo_cli", user=DEMO_USERS["epidemiologist"], db=settings.database_url),
        highlight=False,
    )
    return {n: p for n, (_, p) in created.items()}


def mark_as_demo(settings: Settings) -> None:
    with session_scope(settings) as session:
        policy = installation.load_policy(session)
        others = set(session.scalars(select(User.name))) - set(DEMO_USERS.values())
        if others and not policy.demo:
            raise UserError("core.signin.not_a_demo")
        if not policy.demo or policy.require_2fa:
            installation.store_policy(session, demo=True, require_2fa=False)
            audit.record(
                session,
                "system",
                "system.policy",
                "policy",
                details={"demo": True, "require_2fa": False},
            )


def _create_accounts(settings: Settings) -> dict[str, tuple[str, str]]:
    created: dict[str, tuple[str, str]] = {}
    with session_scope(settings) as session:
        existing = set(session.scalars(select(User.name)))
    for role in ROLES:
        name = DEMO_USERS[role]
        if name in existing:
            continue
        password = secrets.token_urlsafe(12)
        actor = SYSTEM if not existing and not created else Actor(DEMO_USERS["admin"], "admin")
        with context(settings, actor) as ctx:
            dept = DEMO_DEPARTMENT if role == "terminal_manager" else None
            accounts.add_user(ctx, name, role, password, dept)
        created[name] = (role, password)
    return created
