"""Commands about one's own sign-in and the installation's sign-in policy.

``kumin passwd``, ``kumin tokens list|revoke``, ``kumin users expire-password |
set-password`` and ``kumin policy show|set``: thin wrappers over
:mod:`kumin.core.accounts`, :mod:`kumin.core.tokens` and
:mod:`kumin.core.installation`.
"""

from __future__ import annotations

import getpass
import os
import sys

import typer

from kumin.cli.common import (
    _read_session_token,
    check_format,
    cli_ctx,
    emit,
    finish_sign_in,
    require_initialised,
    say,
    session_file,
    settings,
)
from kumin.cli.core_cmds import _read_password, users_app
from kumin.core import accounts, installation, tokens
from kumin.core.context import Ctx
from kumin.core.db import session_scope
from kumin.core.i18n import t
from kumin.errors import AuthError, UserError

tokens_app = typer.Typer(help="API・CLI トークン / API and CLI tokens", no_args_is_help=True)
policy_app = typer.Typer(help="導入先の方針 / Installation policy", no_args_is_help=True)


def _state_user() -> str | None:
    from kumin.cli.common import _state

    return _state.get("user")


def passwd(password_stdin: bool = typer.Option(False, "--password-stdin")) -> None:
    """自分のパスワードを変更 / Change your own password (current one needed).

    With --password-stdin, the first line is the current password and the second
    the new one. Every session and token of the account ends.
    """
    s = settings()
    require_initialised(s)
    saved = _read_session_token(s)
    name = _state_user() or os.environ.get("KUMIN_USER") or (saved[0] if saved else None)
    if not name:
        raise AuthError("core.cli.no_user")
    if password_stdin:
        current = sys.stdin.readline().rstrip("\r\n")
        new = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UserError("core.cli.password_needed")
        current = getpass.getpass(t("core.signin.current_password") + ": ")
        new = _read_password(False)
    with session_scope(s) as session:
        actor = finish_sign_in(session, s, name, current, allow_must_change=True)
        ctx = Ctx(session, s, actor)
        ended = accounts.change_own_password(ctx, current, new)
    if session_file().exists():
        session_file().unlink()  # its token was just revoked with the others
    say("core.signin.password_changed_cli", ended=ended)


@tokens_app.command("list")
def tokens_list(
    owner: str = typer.Option(None, "--owner", help="他のアカウント（管理者） / another account"),
    everyone: bool = typer.Option(False, "--all", help="全アカウント（管理者） / every account"),
    fmt: str = typer.Option("table", "--format"),
) -> None:
    """有効なトークンの一覧 / List live tokens (your own, or as admin anyone's)."""
    check_format(fmt)
    with cli_ctx("account.self") as ctx:
        rows = [
            {
                "id": i.id,
                "owner": i.owner,
                "label": i.label,
                "created_at": i.created_at.isoformat(timespec="seconds"),
                "expires_at": i.expires_at.isoformat(timespec="seconds"),
            }
            for i in tokens.list_tokens(ctx, owner, everyone=everyone)
        ]
    emit(rows, fmt, ["id", "owner", "label", "created_at", "expires_at"])


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """トークンを無効化 / Revoke a token (your own, or as admin anyone's)."""
    with cli_ctx("account.self") as ctx:
        info = tokens.revoke_token(ctx, token_id)
    say("core.signin.token_revoked", id=info.id, owner=info.owner)


@users_app.command("expire-password")
def users_expire_password(name: str) -> None:
    """次回ログイン時にパスワード変更を求める / Force a password change at next sign-in."""
    with cli_ctx("users.manage") as ctx:
        accounts.expire_password(ctx, name)
    say("core.signin.password_expired", name=name)


@users_app.command("set-password")
def users_set_password(
    name: str, password_stdin: bool = typer.Option(False, "--password-stdin")
) -> None:
    """仮パスワードを設定（次回変更） / Set a temporary password, to change at next sign-in."""
    password = _read_password(password_stdin)
    with cli_ctx("users.manage") as ctx:
        accounts.set_password(ctx, name, password)
    say("core.signin.password_set", name=name)


_ON = {"1": True, "on": True, "yes": True, "true": True}
_OFF = {"0": False, "off": False, "no": False, "false": False}


@policy_app.command("show")
def policy_show(fmt: str = typer.Option("table", "--format")) -> None:
    """導入先の方針を表示 / Show the installation's policy."""
    check_format(fmt)
    with cli_ctx("users.manage") as ctx:
        policy = installation.show_policy(ctx)
    rows = [{"name": n, "value": getattr(policy, n)} for n in installation.POLICY_NAMES]
    emit(rows, fmt, ["name", "value"])


@policy_app.command("set")
def policy_set(name: str, value: str) -> None:
    """方針を変更（例: require_2fa on） / Change a policy value, e.g. require_2fa on."""
    key = name.replace("-", "_")
    if key != "require_2fa":
        raise UserError("core.signin.bad_policy", name=name, names="require_2fa")
    flags = {**_ON, **_OFF}
    if value.lower() not in flags:
        raise UserError("core.signin.bad_policy_value", value=value)
    with cli_ctx("users.manage") as ctx:
        installation.set_policy(ctx, key, flags[value.lower()])
    say("core.signin.policy_set", name=key, value=value.lower())


def register(app: typer.Typer) -> None:
    app.command("passwd")(passwd)
    app.add_typer(tokens_app, name="tokens")
    app.add_typer(policy_app, name="policy")
