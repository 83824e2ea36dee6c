"""Every web route and every CLI command refuses the roles it must refuse.

The walk is generic: web routes are found on the app and their action is read
off their ``Permit`` dependency; CLI commands are found on the Typer app and must
each appear in :data:`CLI_COMMANDS` below (a new command without an entry fails
the test), so nothing escapes the permission table.
"""

from __future__ import annotations

import re

import pytest
import typer
from fastapi.routing import APIRoute  # noqa: F401

from kumin.core.permissions import PERMISSIONS, ROLES, allowed
from kumin.web.app import all_routes, create_app
from kumin.web.deps import Permit


@pytest.fixture
def fresh_db(sqlite_db):
    # Permissions do not depend on the storage backend; one is enough here.
    return sqlite_db


PUBLIC_ROUTES = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/login/otp"),
    ("POST", "/login/otp"),
    ("POST", "/logout"),
    ("GET", "/lang/{lang}"),
    ("GET", "/static-vendor/plotly.min.js"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/healthz"),  # probes of the process supervisor and the load balancer
    ("GET", "/readyz"),
}


def _permit_of(route: APIRoute) -> Permit | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Permit):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def _routes(app):
    yield from all_routes(app)


def test_every_route_declares_an_action(sqlite_db):
    app = create_app(sqlite_db)
    missing = []
    for method, path, route in _routes(app):
        if (method, path) in PUBLIC_ROUTES:
            continue
        permit = _permit_of(route)
        if permit is None:
            missing.append(f"{method} {path}")
        else:
            assert permit.action in PERMISSIONS
    assert not missing, f"routes without Permit(...): {missing}"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize("role", ROLES)
def test_routes_refuse_roles(users, app_client, role):
    app_client.login(users.by_role[role])
    csrf = app_client.csrf()
    checked = 0
    for method, path, route in _routes(app_client.app):
        permit = _permit_of(route)
        if permit is None:
            continue
        r = app_client.request(
            method, _fill(path), headers={"X-CSRF-Token": csrf}, follow_redirects=False
        )
        if allowed(role, permit.action):
            assert r.status_code != 403, f"{role} refused {method} {path}"
            assert r.status_code < 500, f"{method} {path} → {r.status_code}"
        else:
            assert r.status_code == 403, f"{role} allowed {method} {path} ({r.status_code})"
        checked += 1
    assert checked >= 8


# command path -> (arguments after the path, action it needs or None if public)
CLI_COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "init": ([], None),
    "demo": (["--no-serve"], None),
    "serve": (["--help"], None),
    # operator commands, run on the server with its configuration (like init and serve)
    "worker": (["--help"], None),
    "status": (["--help"], None),
    "backup": (["--help"], None),
    "restore": (["--help"], None),
    "login": ([], None),
    "logout": ([], None),
    "users add": (["newbie", "--role", "auditor", "--password-stdin"], "users.manage"),
    "users list": ([], "users.manage"),
    "users disable": (["victim"], "users.manage"),
    "users enable": (["victim"], "users.manage"),
    "users set-role": (["victim", "auditor"], "users.manage"),
    "users reset-2fa": (["victim"], "users.manage"),
    "keys rotate": ([], "keys.manage"),
    "keys list": ([], "keys.manage"),
    "keys destroy": (["nothing-here", "--yes"], "keys.manage"),
    "audit verify": ([], "audit.verify"),
    "audit show": (["--limit", "3"], "audit.read"),
    "passwd": ([], None),  # signs in with the current password itself
    "tokens list": ([], "account.self"),
    "tokens revoke": (["999"], "account.self"),
    "users expire-password": (["victim"], "users.manage"),
    "users set-password": (["victim", "--password-stdin"], "users.manage"),
    "policy show": ([], "users.manage"),
    "policy set": (["require_2fa", "off"], "users.manage"),
    "audit checkpoint": ([], "audit.checkpoint"),
}


def _domain_tables() -> None:
    """Each domain lists its commands in tests/<domain>/cli_table.py (``COMMANDS``)."""
    import importlib
    from pathlib import Path

    for table in sorted(Path(__file__).resolve().parents[1].glob("*/cli_table.py")):
        module = importlib.import_module(f"tests.{table.parent.name}.cli_table")
        CLI_COMMANDS.update(module.COMMANDS)


_domain_tables()


def _cli_paths() -> list[str]:
    from kumin.cli.main import app

    root = typer.main.get_command(app)
    paths = []

    def walk(cmd, prefix):
        if hasattr(cmd, "list_commands"):  # a group (Typer vendors its own click)
            if getattr(cmd, "invoke_without_command", False):  # runs on its own too
                paths.append(prefix)
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            paths.append(prefix)

    walk(root, "")
    return sorted(paths)


def test_every_cli_command_is_in_the_table():
    assert set(_cli_paths()) == set(CLI_COMMANDS), "update CLI_COMMANDS in this test"


GUARDED = sorted(p for p, (_, action) in CLI_COMMANDS.items() if action)


@pytest.mark.parametrize("path", GUARDED)
def test_cli_commands_refuse_roles(cli, users, path):
    from kumin.core import accounts
    from kumin.core.context import context
    from kumin.core.permissions import SYSTEM

    with context(cli.settings, SYSTEM.__class__("u-admin", "admin")) as ctx:
        accounts.add_user(ctx, "victim", "auditor", "quiet-harbour-71")
    args, action = CLI_COMMANDS[path]
    for role in ROLES:
        r = cli(*path.split(), *args, user=users.by_role[role], stdin="another-password-1\n")
        refused = r.exit_code == 1 and "not allowed" in r.stderr
        if allowed(role, action):
            assert not refused, f"{role} refused '{path}': {r.output}"
        else:
            assert refused, f"{role} allowed '{path}': {r.exit_code} {r.output}"
