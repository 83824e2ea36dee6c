"""The ``kumin`` command: one Typer app, one sub-command group per domain.

:func:`run` is the only place where errors become what the user sees: one line in
their language and exit code 1 (data or user error) or 2 (usage error). No
traceback reaches the user unless KUMIN_DEBUG=1.

The groups are loaded lazily (:class:`KuminGroup`): ``kumin epi rt --counts …``
imports the epi CLI alone, not SQLAlchemy and every domain, which used to be a
third of that command's time (#12). ``kumin --help``, completion and anyone who
reads the full command table still see every group.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer
from typer.core import TyperGroup

from kumin.cli.common import say, set_user, settings
from kumin.core.i18n import t
from kumin.errors import KuminError


def _register_core(app: typer.Typer) -> None:
    """The secure core's commands (sign-in, accounts, keys, audit, tokens, policy)."""
    from kumin.cli import account_cmds, core_cmds

    app.command("login")(core_cmds.login)
    app.command("logout")(core_cmds.logout)
    app.add_typer(core_cmds.users_app, name="users")
    app.add_typer(core_cmds.keys_app, name="keys")
    app.add_typer(core_cmds.audit_app, name="audit")
    app.add_typer(core_cmds.profiles_app, name="profiles")
    account_cmds.register(app)


def _register_domain(name: str):
    def register(app: typer.Typer) -> None:
        importlib.import_module(f"kumin.{name}.cli").register(app)

    return register


def _parts() -> dict[str, object]:
    """Every lazily registered part, in the order the full CLI registers them."""
    from kumin.domains import DOMAINS

    parts: dict[str, object] = {"core": _register_core}
    parts.update({d.name: _register_domain(d.name) for d in DOMAINS if d.cli})
    return parts


#: Top-level name -> the parts whose ``register`` adds it (and anything added to it,
#: as ``synth cards`` by cards). A name missing here loads every part: slower,
#: never wrong (``report`` is one: each domain adds its report to it).
#: tests/epi/test_cli_lazy.py checks this table against the full registration.
HOMES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("login", "logout", "users", "keys", "audit", "profiles"), ("core",)),
    **dict.fromkeys(("passwd", "tokens", "policy"), ("core",)),
    **dict.fromkeys(("cases", "contracts", "release", "housekeeping"), ("cases",)),
    "synth": ("cases", "cards"),
    "epi": ("epi",),
    **dict.fromkeys(("calls", "continuity"), ("resources",)),
    "cards": ("cards",),
    "juki": ("juki",),
    "oplog": ("oplog",),
}

_loaded: set[str] = set()


def load(names: tuple[str, ...] | None = None) -> None:
    """Register the given parts (all when None) on :data:`app`, each once."""
    for name, register in _parts().items():
        if (names is None or name in names) and name not in _loaded:
            _loaded.add(name)
            register(app)  # type: ignore[operator]


class KuminGroup(TyperGroup):
    """The root group: a command's module is imported when that command is looked up.

    ``commands`` read as a whole (the permission walk, the docs test, an unknown
    command's suggestions) loads every part first, so nothing is ever missing.
    """

    def _refresh(self) -> None:
        # Typer converts its registrations to click commands; convert again after
        # registering more (a group another part added to is then complete).
        fresh = dict(typer.main.get_command(app)._commands)
        fresh.update((k, v) for k, v in self._commands.items() if k not in fresh)
        self._commands = fresh

    @property
    def commands(self):  # type: ignore[override]
        if len(_loaded) < len(_parts()):
            load()
            self._refresh()
        return self._commands

    @commands.setter
    def commands(self, value) -> None:
        self._commands = value

    def add_command(self, cmd, name=None) -> None:
        self._commands[name or cmd.name] = cmd

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self._commands:
            load(HOMES.get(cmd_name))
            self._refresh()
        return self._commands.get(cmd_name)

    def list_commands(self, ctx):
        return list(self.commands)


app = typer.Typer(
    cls=KuminGroup,
    name="kumin",
    help="kumin（区民）— 保健所の疫学分析と住基ネット・マイナンバーのセキュリティ管理 / "
    "health-crisis analytics and resident-registry security for ward offices",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main(
    user: str = typer.Option(
        None, "--user", "-u", envvar="KUMIN_USER", help="操作するアカウント / account to act as"
    ),
) -> None:
    set_user(user)


@app.command()
def init() -> None:
    """データベースと鍵ファイルを作成・更新 / Create or upgrade the database and key file."""
    from kumin.core.setup import initialise

    s = settings()
    result = initialise(s)
    if result.key_created:
        say("core.init.key_created", path=str(s.key_file))
    say("core.init.done", heads=", ".join(result.heads))


@app.command()
def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="データを用意するだけで起動しない"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    seed: int = typer.Option(20220826, "--seed"),
) -> None:
    """デモ環境（合成データ）を用意して起動 / Set up the synthetic demo ward and serve it."""
    from kumin.synth.demo import set_up_demo

    # The demo's policy (no 2FA) is stored with the installation by set_up_demo,
    # so every later shell and the web agree without any environment variable.
    s = settings()
    set_up_demo(s, seed=seed, url=None if no_serve else f"http://{host}:{port}/")
    if not no_serve:
        from kumin.web.serve import serve as run_server

        run_server(s, host, port)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(
        1,
        "--workers",
        help="プロセス数（2以上は PostgreSQL のみ） / processes (2+ need PostgreSQL)",
    ),
) -> None:
    """ウェブアプリを起動 / Serve the web app."""
    from kumin.cli.common import require_initialised
    from kumin.web.serve import check_workers
    from kumin.web.serve import serve as run_server

    s = settings()
    check_workers(s, workers)
    require_initialised(s)
    run_server(s, host, port, workers)


@app.command()
def worker(
    once: bool = typer.Option(
        False, "--once", help="待機中の処理だけ実行して終了 / run what waits, then exit"
    ),
) -> None:
    """バックグラウンド処理を実行 / Run background jobs (fits, scans) outside the web processes."""
    import signal
    import threading

    from kumin.cli.common import require_initialised
    from kumin.core import jobs

    s = settings()
    require_initialised(s)
    stop = threading.Event()
    # systemd stops with SIGTERM: take no new job; the running one ends or is re-queued.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    me = jobs.worker_id()
    if not once:
        say("core.jobs.worker_started", worker=me)
    try:
        count = jobs.work(s, stop=stop, once=once, me=me)
    finally:
        signal.signal(signal.SIGTERM, previous)
    say("core.jobs.worker_ran", count=count)


@app.command()
def backup(
    out: Path = typer.Option(..., "--out", help="書き出すファイル / backup file to write"),
) -> None:
    """オンラインバックアップ（鍵ファイルは含まない） / Online backup (never the key file)."""
    from kumin.cli.common import require_initialised
    from kumin.core.backup import backup as take

    s = settings()
    require_initialised(s)
    manifest = take(s, out)
    say(
        "core.backup.done",
        path=str(out),
        size=manifest["payload_bytes"],
        seq=(manifest["audit_head"] or {}).get("seq", 0),
    )
    say("core.backup.key_reminder", path=str(s.key_file))


@app.command()
def restore(
    file: Path = typer.Argument(..., help="kumin backup で作ったファイル / a kumin backup file"),
) -> None:
    """空のデータベースへ復元し監査証跡を検証 / Restore into an empty database, then verify."""
    from kumin.core.backup import restore as put_back

    s = settings()
    result = put_back(s, file)
    say("core.backup.restored", path=str(file), count=result["entries"])


@app.command()
def status(fmt: str = typer.Option("table", "--format")) -> None:
    """運用状況（版・スキーマ・利用者・処理・バックアップ・監査） / Operator's status."""
    from kumin.cli.common import check_format, emit, require_initialised
    from kumin.core.ops import status as gather

    check_format(fmt)
    s = settings()
    require_initialised(s)
    rows = [{"item": k, "value": v} for k, v in gather(s).items()]
    emit(rows, fmt, ["item", "value"])


def run(argv: list[str] | None = None) -> None:
    """Entry point of the ``kumin`` script."""
    from kumin.cli import common

    s = settings()
    try:
        # Typer reports usage errors itself (exit 2); ours come out here.
        app(args=argv, prog_name="kumin")
    except KuminError as exc:
        if s.debug:
            raise
        common.err_console.print(
            f"[red]{t('core.cli.error_prefix')}[/red] {_plain(exc.render(s.lang))}", highlight=False
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        common.err_console.print(t("core.cli.aborted"))
        sys.exit(130)
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback for users
        if s.debug:
            raise
        common.err_console.print(
            f"[red]{t('core.cli.error_prefix')}[/red] {t('core.cli.internal')}"
        )
        sys.exit(1)


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)
