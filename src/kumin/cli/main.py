"""The ``kumin`` command: one Typer app, one sub-command group per domain.

:func:`run` is the only place where errors become what the user sees: one line in
their language and exit code 1 (data or user error) or 2 (usage error). No
traceback reaches the user unless KUMIN_DEBUG=1.
"""

from __future__ import annotations

import sys

import typer

from kumin.cli import core_cmds
from kumin.cli.common import err_console, say, set_user, settings
from kumin.core.i18n import t
from kumin.errors import KuminError

app = typer.Typer(
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

    s = settings().with_(demo=True, require_2fa=False)
    set_up_demo(s, seed=seed)
    # where to go next (#14): the page to open and how a second shell signs in
    say("core.demo_next.web", url=f"http://{host}:{port}/")
    say("core.demo_next.cli", user="demo-epi")
    if not no_serve:
        from kumin.web.serve import serve as run_server

        run_server(s, host, port)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port")
) -> None:
    """ウェブアプリを起動 / Serve the web app."""
    from kumin.cli.common import require_initialised
    from kumin.web.serve import serve as run_server

    s = settings()
    require_initialised(s)
    run_server(s, host, port)


app.command("login")(core_cmds.login)
app.command("logout")(core_cmds.logout)
app.add_typer(core_cmds.users_app, name="users")
app.add_typer(core_cmds.keys_app, name="keys")
app.add_typer(core_cmds.audit_app, name="audit")


def _register_domains() -> None:
    """Domain command groups; each module exposes ``register(app)``."""
    import importlib

    for name in (
        "kumin.cases.cli",
        "kumin.epi.cli",
        "kumin.resources.cli",
        "kumin.cards.cli",
        "kumin.juki.cli",
        "kumin.oplog.cli",
        "kumin.reports.cli",
    ):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_domains()


def run(argv: list[str] | None = None) -> None:
    """Entry point of the ``kumin`` script."""
    s = settings()
    try:
        # Typer reports usage errors itself (exit 2); ours come out here.
        app(args=argv, prog_name="kumin")
    except KuminError as exc:
        if s.debug:
            raise
        err_console.print(
            f"[red]{t('core.cli.error_prefix')}[/red] {_plain(exc.render(s.lang))}", highlight=False
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print(t("core.cli.aborted"))
        sys.exit(130)
    except Exception:  # noqa: BLE001 - the last line of defence: no traceback for users
        if s.debug:
            raise
        err_console.print(f"[red]{t('core.cli.error_prefix')}[/red] {t('core.cli.internal')}")
        sys.exit(1)


def _plain(text: str) -> str:
    from rich.markup import escape

    return escape(text)
