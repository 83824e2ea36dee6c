"""Commands of the secure core: users, keys, audit, sign-in."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import typer

from kumin.cli.common import (
    check_format,
    cli_ctx,
    emit,
    require_initialised,
    say,
    session_file,
    settings,
    sign_in,
)
from kumin.core import accounts, audit, crypto, tokens
from kumin.core.db import session_scope
from kumin.core.i18n import t
from kumin.core.tabular import atomic_write_bytes
from kumin.errors import AuthError, UserError

users_app = typer.Typer(help="アカウントとロール / Accounts and roles", no_args_is_help=True)
keys_app = typer.Typer(help="暗号鍵 / Encryption keys", no_args_is_help=True)
audit_app = typer.Typer(help="監査証跡 / Audit trail", no_args_is_help=True)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("core.cli.password_needed")
    import getpass

    first = getpass.getpass(t("core.cli.new_password") + ": ")
    second = getpass.getpass(t("core.cli.repeat_password") + ": ")
    if first != second:
        raise UserError("core.cli.passwords_differ")
    return first


@users_app.command("add")
def users_add(
    name: str,
    role: str = typer.Option(
        ...,
        "--role",
        help="admin, epidemiologist, researcher, records_officer, terminal_manager, auditor",
    ),
    department: str = typer.Option(None, "--department", help="terminal_manager の所属"),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """アカウントを追加（パスワードは入力または標準入力） / Add an account."""
    password = _read_password(password_stdin)
    with cli_ctx(None, system_ok=True) as ctx:
        info = accounts.add_user(ctx, name, role, password, department)
    say("core.users.added", name=info.name, role=info.role)


@users_app.command("list")
def users_list(fmt: str = typer.Option("table", "--format")) -> None:
    """アカウント一覧 / List accounts."""
    check_format(fmt)
    with cli_ctx("users.manage") as ctx:
        rows = [
            {
                "name": u.name,
                "role": u.role,
                "department": u.department or "",
                "disabled": u.disabled,
                "two_factor": u.totp_enabled,
                "locked": u.locked,
            }
            for u in accounts.list_users(ctx)
        ]
    emit(rows, fmt, ["name", "role", "department", "disabled", "two_factor", "locked"])


@users_app.command("disable")
def users_disable(name: str) -> None:
    """アカウントを無効化 / Disable an account and end its sessions."""
    with cli_ctx("users.manage") as ctx:
        accounts.disable_user(ctx, name)
    say("core.users.disabled", name=name)


@users_app.command("enable")
def users_enable(name: str) -> None:
    """アカウントを有効化・ロック解除 / Enable an account, lift a lock-out."""
    with cli_ctx("users.manage") as ctx:
        accounts.enable_user(ctx, name)
    say("core.users.enabled", name=name)


@users_app.command("set-role")
def users_set_role(
    name: str, role: str, department: str = typer.Option(None, "--department")
) -> None:
    """ロールを変更 / Change an account's role."""
    with cli_ctx("users.manage") as ctx:
        accounts.set_role(ctx, name, role, department)
    say("core.users.role_set", name=name, role=role)


@users_app.command("reset-2fa")
def users_reset_2fa(name: str) -> None:
    """二要素認証を解除 / Remove an account's second factor."""
    with cli_ctx("users.manage") as ctx:
        accounts.reset_totp(ctx, name)
    say("core.users.totp_reset", name=name)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """マスター鍵を更新 / Re-wrap every data key under a new master key."""
    s = settings()
    with cli_ctx("keys.manage") as ctx:
        old_id, new_id, count = crypto.rotate_master_key(ctx.session, s.key_file)
        ctx.audit("keys.rotate", "master-key", old=old_id, new=new_id, data_keys=count)
    crypto.finish_rotation(s.key_file)
    say("core.keys.rotated", count=count, key_id=new_id)


@keys_app.command("list")
def keys_list(fmt: str = typer.Option("table", "--format")) -> None:
    """データ鍵の一覧 / List data keys and whether each is live."""
    check_format(fmt)
    from sqlalchemy import select

    from kumin.core.models import DataKey

    with cli_ctx("keys.manage") as ctx:
        rows = [
            {
                "dataset": k.dataset,
                "state": "destroyed" if k.wrapped is None else "live",
                "created_at": k.created_at,
                "destroyed_at": k.destroyed_at or "",
            }
            for k in ctx.session.scalars(select(DataKey).order_by(DataKey.id))
        ]
    emit(rows, fmt, ["dataset", "state", "created_at", "destroyed_at"])


@keys_app.command("destroy")
def keys_destroy(dataset: str, yes: bool = typer.Option(False, "--yes")) -> None:
    """データセットの鍵を破棄（復号不能に） / Crypto-shred one dataset."""
    if not yes:
        raise UserError("core.keys.confirm_destroy", dataset=dataset)
    with cli_ctx("keys.manage", object=f"dataset:{dataset}") as ctx:
        if not ctx.keyring.destroy(dataset):
            raise UserError("core.keys.no_dataset", dataset=dataset)
        ctx.audit("keys.destroy", f"dataset:{dataset}")
    say("core.keys.destroyed_ok", dataset=dataset)


_CHECKPOINT_FILE = typer.Option(
    None,
    "--file",
    help="チェックポイントファイル / checkpoint file (default: KUMIN_AUDIT_CHECKPOINTS)",
)


@audit_app.command("verify")
def audit_verify(file: Path = _CHECKPOINT_FILE) -> None:
    """監査証跡の改ざん検査 / Verify the hash chain and the checkpoints (exit 1 names the bad entry)."""
    with cli_ctx("audit.verify") as ctx:
        path = file or ctx.settings.checkpoint_file
        result = audit.verify(ctx.session, checkpoints=audit.read_checkpoints(path))
    if result.ok:
        say("core.audit.intact", count=result.entries)
        if result.checkpoints:
            say("core.audit.checkpoint.verified", count=result.checkpoints, path=str(path))
        else:
            say("core.audit.checkpoint.none", path=str(path))
        return
    raise UserError(
        "core.audit.bad_entry", seq=result.bad_seq, reason=t(result.reason or "core.audit.altered")
    )


@audit_app.command("checkpoint")
def audit_checkpoint(
    file: Path = _CHECKPOINT_FILE,
    print_: bool = typer.Option(False, "--print", help="紙の記録用に表示 / also print it"),
) -> None:
    """監査証跡の先頭をデータベース外のファイルに追記 / Append the chain's head to the checkpoint file."""
    with cli_ctx("audit.checkpoint") as ctx:
        path = file or ctx.settings.checkpoint_file
        cp = audit.checkpoint(ctx.session, ctx.actor.name, path)
    say("core.audit.checkpoint.written", seq=cp.seq, path=str(path))
    if print_:
        typer.echo(f"{cp.seq} {cp.hash} {cp.time}")


@audit_app.command("show")
def audit_show(
    since: str = typer.Option(None, "--since", help="YYYY-MM-DD"),
    actor: str = typer.Option(None, "--actor"),
    action: str = typer.Option(None, "--action"),
    limit: int = typer.Option(None, "--limit"),
    fmt: str = typer.Option("table", "--format"),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """監査証跡の表示 / Show audit entries."""
    check_format(fmt)
    try:
        since_date = date.fromisoformat(since) if since else None
    except ValueError:
        raise UserError("core.cli.bad_date", value=since) from None
    with cli_ctx("audit.read") as ctx:
        rows = audit.as_rows(audit.query(ctx.session, since_date, actor, action, limit=limit))
        ctx.audit("audit.read", "audit_log", count=len(rows))
    if fmt != "json":
        for r in rows:
            r["details"] = json.dumps(r["details"], ensure_ascii=False)
    emit(
        rows,
        fmt,
        ["seq", "ts", "actor", "action", "object", "purpose", "outcome", "details"],
        out=out,
    )


def login(user: str = typer.Argument(None)) -> None:
    """ログインしてセッションを保持（8時間） / Sign in for 8 hours."""
    s = settings()
    require_initialised(s)
    name = user or os.environ.get("KUMIN_USER")
    if not name:
        raise AuthError("core.cli.no_user")
    with session_scope(s) as session:
        path = session_file()
        if path.exists():
            path.unlink()
        actor = sign_in(session, s, name)
    from kumin.core.context import context

    # The token lives exactly as long as we say: the web session's lifetime.
    with context(s, actor) as ctx:
        token = tokens.create_api_token(ctx, "cli", hours=s.session_hours)
    body = {"database_url": s.database_url, "user": actor.name, "token": token}
    atomic_write_bytes(session_file(), json.dumps(body).encode(), mode=0o600)
    say("core.cli.logged_in", name=actor.name, hours=s.session_hours)


def logout() -> None:
    """ログアウト（サーバー側でも無効化） / Sign out: revoke the CLI token on the server."""
    from kumin.cli.common import _read_session_token
    from kumin.core.db import is_initialised

    s = settings()
    path = session_file()
    saved = _read_session_token(s) if path.exists() else None
    if saved and is_initialised(s):
        with session_scope(s) as session:
            owner = tokens.revoke_presented_token(session, saved[1])
            if owner is not None:
                audit.record(session, owner, "auth.logout", details={"source": "cli"})
    if path.exists():
        path.unlink()
    say("core.cli.logged_out")


# ------------------------------------------------------------------ import profiles

profiles_app = typer.Typer(
    help="取込形式（各取込みが読む列・値・日付・文字コード） / Import profiles of every domain",
    no_args_is_help=True,
)


@profiles_app.command("list")
def profiles_list(
    domain: str = typer.Option(None, "--domain", help="cases, resources, cards, juki, oplog"),
    fmt: str = typer.Option("table", "--format", help="table, csv, json"),
) -> None:
    """取込形式の一覧（個人データを含まないのでサインイン不要）
    / The import profiles of every domain (no sign-in: they hold no personal data)."""
    from kumin.core.imports import list_profiles

    check_format(fmt)
    lang = settings().lang
    rows = [
        {
            "name": p.name,
            "domain": p.domain,
            "kind": p.kind,
            "title": p.title(lang),
            "source": p.describe(lang)["source"],
        }
        for p in list_profiles(domain)
    ]
    columns = ["name", "domain", "kind", "title", "source"]
    if not rows and fmt == "table":
        say("core.profiles.none")
        return
    emit(rows, fmt, columns)


@profiles_app.command("show")
def profiles_show(
    name: str = typer.Argument(..., help="取込形式の名前 / profile name"),
    domain: str = typer.Option(None, "--domain", help="cases, resources, cards, juki, oplog"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """取込形式が読む列・値の書き方 / The headers and written values a profile reads."""
    show_profiles(name, domain, fmt)


def show_profiles(name: str, domain: str | None, fmt: str) -> None:
    """Every profile called ``name`` (of ``domain``): two domains may use one name."""
    from kumin.core.imports import list_profiles, load_profile

    check_format(fmt, ("table", "json"))
    lang = settings().lang
    owners = sorted({p.domain for p in list_profiles(domain) if p.name == name})
    # load_profile raises NotFound (naming what there is) or the file's own mistakes
    found = [load_profile(d, name) for d in owners] or [load_profile(domain or "cases", name)]
    infos = [p.describe(lang) for p in found]
    if fmt == "json":
        typer.echo(json.dumps(infos if len(infos) > 1 else infos[0], ensure_ascii=False, indent=2))
        return
    for info in infos:
        typer.echo(f"{info['name']} ({info['domain']}/{info['kind']}): {info['title']}")
        typer.echo(f"  encoding: {info['encoding']}  missing: {', '.join(info['missing'])}")
        tables = [("columns", info["columns"])]
        tables += [(f"files.{f}", cols) for f, cols in info["files"].items()]
        for section, cols in tables:
            if cols:
                typer.echo(f"[{section}]")
            for field, spec in cols.items():
                need = "" if spec["required"] else ", optional"
                typer.echo(f"  {field}: {', '.join(spec['headers'])}  ({spec['type']}{need})")
        for column, codes in info["values"].items():
            typer.echo(f"[values.{column}]")
            for code, forms in codes.items():
                typer.echo(f"  {code}: {', '.join(forms)}")
