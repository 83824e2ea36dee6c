"""What every command shares: settings, who is acting, output formats.

A command opens its work with ``with cli_ctx("action") as ctx:`` — that signs the
user in (``kumin login`` session, or KUMIN_USER / KUMIN_PASSWORD / KUMIN_OTP, or
prompts), checks the action against the permission table, and commits on
success. Errors are translated to one clean line in :func:`kumin.cli.main.run`.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kumin.core.config import Settings
from kumin.core.i18n import current_lang, t
from kumin.errors import AuthError, ConfigError, UsageError

if TYPE_CHECKING:
    from kumin.core.context import Ctx
    from kumin.core.permissions import Actor

# The database, accounts and sign-in (SQLAlchemy) are imported by the functions that
# use them: a command that needs no database (``kumin epi rt --counts``) starts
# without them (#12).


def __getattr__(name: str) -> Any:
    """``console`` and ``err_console`` (rich), made on first use: importing rich is a
    tenth of the start of a command that prints nothing with it (#12)."""
    if name in ("console", "err_console"):
        from rich.console import Console

        made = Console(stderr=name == "err_console")
        globals()[name] = made
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _console(name: str = "console") -> Any:
    return globals().get(name) or __getattr__(name)


FORMATS = ("table", "csv", "json")


def settings() -> Settings:
    s = Settings.from_env()
    current_lang.set(s.lang)
    if "KUMIN_REQUIRE_2FA" in os.environ and not _state.get("warned_2fa"):
        # Once an environment switch; a caller must not think it still turns 2FA off.
        _state["warned_2fa"] = True
        _console("err_console").print(t("core.signin.env_2fa_ignored"), highlight=False)
    return s


def session_file() -> Path:
    base = Path(os.environ.get("KUMIN_HOME") or Path.home() / ".kumin")
    return base / "session.json"


def _read_session_token(settings: Settings) -> tuple[str, str] | None:
    path = session_file()
    if not path.is_file():
        return None
    try:
        body = json.loads(path.read_text("utf-8"))
    except ValueError:
        return None
    if body.get("database_url") != settings.database_url:
        return None
    return body.get("user", ""), body.get("token", "")


def _prompt(label: str, secret: bool = True) -> str:
    if not sys.stdin.isatty():
        raise AuthError("core.cli.no_credentials")
    return getpass.getpass(f"{label}: ") if secret else input(f"{label}: ")


def sign_in(
    session, settings: Settings, user: str | None = None, *, allow_must_change: bool = False
) -> Actor:
    """Work out who is running the command and check their credentials.

    The saved ``kumin login`` token is used when it is still valid; otherwise the
    password (KUMIN_PASSWORD or a prompt) and, where the account has one, a code.
    """
    from kumin.core import accounts, tokens

    name = user or os.environ.get("KUMIN_USER")
    saved = _read_session_token(settings)
    if saved and (name is None or name == saved[0]):
        found = tokens.find_api_token(session, saved[1])
        if found is not None:
            return accounts.actor_of(found)
    if not name:
        raise AuthError("core.cli.no_user")
    password = os.environ.get("KUMIN_PASSWORD")
    if password is None:
        password = _prompt(t("core.cli.password_prompt", None, name=name))
    return finish_sign_in(session, settings, name, password, allow_must_change=allow_must_change)


def finish_sign_in(
    session, settings: Settings, name: str, password: str, *, allow_must_change: bool = False
) -> Actor:
    """The password step, then the code step where due; commits the audit entries."""
    from kumin.core import signin

    found = signin.authenticate(session, settings, name, password, source="cli")
    if found.mfa_setup_required:
        session.commit()
        raise AuthError("core.auth.setup_2fa_first")
    if found.mfa_required:
        code = os.environ.get("KUMIN_OTP") or _prompt(t("core.cli.otp_prompt"), secret=False)
        signin.check_second_factor(session, settings, found.user, code, source="cli")
    signin.record_login(session, found.user, "cli")
    session.commit()
    if found.must_change_password and not allow_must_change:
        raise AuthError("core.signin.must_change_password")
    return found.actor


def require_initialised(settings: Settings) -> None:
    from kumin.core.db import is_initialised

    if not is_initialised(settings):
        raise ConfigError("core.cli.not_initialised")


@contextmanager
def cli_ctx(
    action: str | None, *, department: str | None = None, object: str = "", system_ok: bool = False
) -> Iterator[Ctx]:
    """Sign in, authorise ``action`` and yield a context that commits on success.

    ``system_ok`` lets the set-up commands run as ``system`` before any account
    exists.
    """
    from kumin.core import accounts
    from kumin.core.context import Ctx
    from kumin.core.db import session_scope
    from kumin.core.permissions import SYSTEM, Actor

    s = settings()
    require_initialised(s)
    with session_scope(s) as session:
        if system_ok and accounts.count_users(session) == 0:
            actor = SYSTEM
        else:
            actor = sign_in(session, s, _state.get("user"))
        ctx = Ctx(
            session, s, Actor(actor.name, actor.role, actor.user_id, actor.department, s.lang)
        )
        if action is not None:
            ctx.authorize(action, department=department, object=object)
        yield ctx


_state: dict[str, Any] = {}


def set_user(user: str | None) -> None:
    _state["user"] = user


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    if fmt not in allowed:
        raise UsageError("core.cli.bad_format", format=fmt, allowed=", ".join(allowed))
    return fmt


def emit(
    rows: list[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    out: Path | None = None,
    json_root: Any = None,
) -> None:
    """Print rows as a Rich table, CSV (UTF-8 with BOM) or JSON, or write them to ``out``."""
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        body = json.dumps(
            json_root if json_root is not None else rows, ensure_ascii=False, indent=2, default=str
        )
        _write_or_print(body.encode("utf-8") + b"\n", out, body)
    elif fmt == "csv":
        from kumin.core.tabular import csv_bytes

        data = csv_bytes(columns, ([r.get(c) for c in columns] for r in rows))
        _write_or_print(data, out, data.decode("utf-8-sig"))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for c in columns:
            table.add_column(str(c))
        for r in rows:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
        if out:
            buf = Console(file=io.StringIO(), width=200)
            buf.print(table)
            _write_or_print(buf.file.getvalue().encode("utf-8"), out, "")
        else:
            _console().print(table)


def _write_or_print(data: bytes, out: Path | None, text: str) -> None:
    if out:
        from kumin.core.tabular import write_output

        write_output(out, data)
    else:
        typer.echo(text, nl=False)


def say(key: str, **params: Any) -> None:
    _console().print(t(key, None, **params), highlight=False)
