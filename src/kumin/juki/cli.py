"""``kumin juki …``: Juki-net terminal governance records.

Each command is a thin wrapper over the service function of the same name in
:mod:`kumin.juki.service`: sign in and check the permission (``cli_ctx``), call,
print. Terminal managers are limited to their own department by the services.

``watchlist_app`` (``subject,reason``) is mounted here as ``kumin juki watchlist``
and is meant to be mounted by the oplog CLI as ``kumin oplog watchlist`` too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, emit, err_console, say
from kumin.core.i18n import t
from kumin.juki._cli_common import (
    DEPT,
    FILE,
    FMT,
    FROM,
    OUT,
    TO,
    imported,
    parse_day,
    parse_moment,
    period,
    show,
)
from kumin.juki.cli_records import (
    audits_app,
    checklist_app,
    meetings_app,
    trainings_app,
    watchlist_app,
)

juki_app = typer.Typer(
    help="住基ネット統合端末の管理（端末・操作者管理台帳・利用申請・予約・点検・監査・会議）"
    " / Juki-net terminal governance",
    no_args_is_help=True,
)
departments_app = typer.Typer(help="統合端末設置所属 / Departments", no_args_is_help=True)
terminals_app = typer.Typer(help="統合端末 / Integrated terminals", no_args_is_help=True)
ledger_app = typer.Typer(help="操作者管理台帳 / Operator ledger", no_args_is_help=True)
applications_app = typer.Typer(help="利用申請 / Usage applications", no_args_is_help=True)
reservations_app = typer.Typer(help="共用端末の予約 / Reservations", no_args_is_help=True)
usage_app = typer.Typer(help="利用記録簿 / Usage records", no_args_is_help=True)
records_app = typer.Typer(help="業務記録 / Business records", no_args_is_help=True)

# ----------------------------------------------------------------- departments


@departments_app.command("import")
def departments_import(file: Path = FILE) -> None:
    """department,name,open,close,weekend_open[,holiday_open] を取り込む（全件か無か）
    / Import departments (all or nothing)."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_departments(ctx, file)
    imported(result)


@departments_app.command("list")
def departments_list(fmt: str = FMT, out: Path = OUT) -> None:
    """所属の一覧 / List departments."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_departments(ctx)
    show(
        rows,
        fmt,
        ["department", "name", "open", "close", "weekend_open", "holiday_open", "terminals"],
        out,
    )


# ------------------------------------------------------------------- terminals


@terminals_app.command("import")
def terminals_import(file: Path = FILE) -> None:
    """terminal_id,department,location,reservation_required[,manager,assistant,state]
    を取り込む / Import terminals (all or nothing)."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_terminals(ctx, file)
    imported(result)


TERMINAL_COLUMNS = [
    "terminal_id",
    "department",
    "location",
    "reservation_required",
    "manager",
    "assistant",
    "state",
]


@terminals_app.command("list")
def terminals_list(department: str = DEPT, fmt: str = FMT, out: Path = OUT) -> None:
    """統合端末の一覧 / List terminals."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_terminals(ctx, department)
    show(rows, fmt, TERMINAL_COLUMNS, out)


@terminals_app.command("show")
def terminalsshow(terminal_id: str = typer.Argument(...), fmt: str = FMT) -> None:
    """統合端末 1 台 / One terminal."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        row = service.get_terminal(ctx, terminal_id)
    emit([row], fmt, TERMINAL_COLUMNS)


@terminals_app.command("set")
def terminals_set(
    terminal_id: str = typer.Argument(...),
    state: str = typer.Option(None, "--state", help="in_service, retired, unsecured"),
    manager: str = typer.Option(None, "--manager", help="端末機管理責任者 / manager id"),
    assistant: str = typer.Option(None, "--assistant", help="補助者 / assistant id"),
    location: str = typer.Option(None, "--location", help="設置場所 / location"),
) -> None:
    """状態・管理責任者・補助者・設置場所を変更 / Change a terminal."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        row = service.set_terminal(
            ctx, terminal_id, state=state, manager=manager, assistant=assistant, location=location
        )
    emit([row], "table", TERMINAL_COLUMNS)


# ---------------------------------------------------------------------- ledger


@ledger_app.command("import")
def ledger_import(
    file: Path = FILE,
    department: str = typer.Option(..., "--department", help="所属コード / department"),
    effective: str = typer.Option(..., "--effective", help="適用日 / from (YYYY-MM-DD)"),
) -> None:
    """operator_id,name,role: その日から操作を認められた全員 / Everyone authorised from
    the effective date (a new ledger version)."""
    from kumin.juki import service

    day = parse_day(effective)
    with cli_ctx("juki.department") as ctx:
        s = service.import_ledger(ctx, department, day, file)
    say(
        "juki.cli.ledger_imported",
        department=s["department"],
        effective=s["effective"].isoformat(),
        operators=s["operators"],
        added=len(s["added"]),
        removed=len(s["removed"]),
        outcome=t(f"juki.outcome.{s['outcome']}"),
    )
    if not s["approved_application"]:
        err_console.print(t("juki.cli.no_application", None, department=department))


@ledger_app.command("show")
def ledgershow(
    department: str = typer.Option(..., "--department", help="所属コード / department"),
    on: str = typer.Option(None, "--on", help="基準日 / on (YYYY-MM-DD, default today)"),
    names: bool = typer.Option(False, "--names", help="氏名を表示（記録されます） / show names"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """その日に有効な台帳 / The ledger in force on a day."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        ledger = service.ledger_in_force(
            ctx, department, parse_day(on, dt.date.today()), with_names=names
        )
    columns = ["operator_id", "name", "role"] if names else ["operator_id", "role"]
    if fmt == "table":
        say(
            "juki.cli.ledger_in_force",
            department=department,
            effective=ledger["effective"].isoformat(),
        )
    show(ledger["operators"], fmt, columns, out)


@ledger_app.command("versions")
def ledger_versions_cmd(
    department: str = typer.Option(..., "--department", help="所属コード / department"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """台帳の版と異動ごとの追加・削除 / Versions and who was added/removed."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.ledger_versions(ctx, department)
    if fmt != "json":
        rows = [
            r | {"added": " ".join(r["added"]), "removed": " ".join(r["removed"])} for r in rows
        ]
    show(rows, fmt, ["effective", "operators", "added", "removed", "imported_by"], out)


@ledger_app.command("rights")
def ledger_rights(
    department: str = typer.Option(..., "--department", help="所属コード / department"),
    on: str = typer.Option(None, "--on", help="基準日 / on (YYYY-MM-DD)"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """操作権限（台帳 × 承認済み利用申請） / Operator rights on a day."""
    from kumin.juki import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("juki.read") as ctx:
        rights = service.operator_rights(ctx, department, parse_day(on, dt.date.today()))
    if fmt == "json":
        emit([], "json", json_root=rights)
        return
    rows = [
        {"operator_id": o, "functions": ", ".join(rights["functions"])} for o in rights["operators"]
    ]
    emit(rows, "table", ["operator_id", "functions"])


# ---------------------------------------------------------------- applications

APPLICATION_COLUMNS = [
    "id",
    "department",
    "function",
    "valid_from",
    "valid_to",
    "state",
    "submitted_by",
    "reviewed_by",
]


@applications_app.command("import")
def applications_import(file: Path = FILE) -> None:
    """department,function,valid_from,valid_to: 取込者の承認として記録 / Import as
    approved by you (audited)."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_applications(ctx, file)
    imported(result)


@applications_app.command("list")
def applications_list(
    department: str = DEPT,
    state: str = typer.Option(None, "--state", help="submitted, approved, rejected, withdrawn"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """利用申請の一覧 / List applications."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_applications(ctx, department, state)
    show(rows, fmt, APPLICATION_COLUMNS, out)


@applications_app.command("submit")
def applications_submit(
    department: str = typer.Option(..., "--department"),
    function: str = typer.Option(..., "--function", help="個人番号利用事務 / function"),
    valid_from: str = typer.Option(..., "--from"),
    valid_to: str = typer.Option(..., "--to"),
    purpose: str = typer.Option("", "--purpose"),
) -> None:
    """利用申請を提出 / Submit an application."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        row = service.submit_application(
            ctx, department, function, parse_day(valid_from), parse_day(valid_to), purpose
        )
    say("juki.cli.application", id=row["id"], state=t(f"juki.state.{row['state']}"))


def _review(application_id: int, approve: bool, note: str) -> None:
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.review_application(ctx, application_id, approve, note)
    say("juki.cli.application", id=row["id"], state=t(f"juki.state.{row['state']}"))


@applications_app.command("approve")
def applications_approve(
    application_id: int = typer.Argument(...), note: str = typer.Option("", "--note")
) -> None:
    """審査して承認 / Approve."""
    _review(application_id, True, note)


@applications_app.command("reject")
def applications_reject(
    application_id: int = typer.Argument(...), note: str = typer.Option("", "--note")
) -> None:
    """審査して却下 / Reject."""
    _review(application_id, False, note)


@applications_app.command("end")
def applications_end(
    application_id: int = typer.Argument(...),
    on: str = typer.Option(..., "--on", help="最終日 / last day"),
) -> None:
    """承認済み申請を終了（権限も終了） / End an application (and its rights)."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.end_application(ctx, application_id, parse_day(on))
    say("juki.cli.application", id=row["id"], state=t(f"juki.state.{row['state']}"))


# ---------------------------------------------------------------- reservations


@reservations_app.command("import")
def reservations_import(file: Path = FILE) -> None:
    """department,terminal_id,start,end を取り込む / Import reservations."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_reservations(ctx, file)
    imported(result)


@reservations_app.command("list")
def reservations_list(
    start: str = FROM,
    end: str = TO,
    terminal: str = typer.Option(None, "--terminal"),
    department: str = DEPT,
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """予約の一覧 / List reservations."""
    from kumin.juki import service

    check_format(fmt)
    lo, hi = period(start, end, 7)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_reservations(ctx, lo, hi, terminal, department)
    show(rows, fmt, ["id", "department", "terminal_id", "start", "end"], out)


@reservations_app.command("add")
def reservations_add(
    department: str = typer.Option(..., "--department"),
    terminal: str = typer.Option(..., "--terminal"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD HH:MM"),
    end: str = typer.Option(..., "--end", help="YYYY-MM-DD HH:MM"),
) -> None:
    """共用端末を予約 / Reserve a shared terminal."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        row = service.create_reservation(
            ctx, department, terminal, parse_moment(start), parse_moment(end)
        )
    say("juki.cli.reserved", id=row["id"])


@reservations_app.command("cancel")
def reservations_cancel(reservation_id: int = typer.Argument(...)) -> None:
    """予約を取り消す / Cancel a reservation."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        service.cancel_reservation(ctx, reservation_id)
    say("juki.cli.cancelled", id=reservation_id)


# --------------------------------------------------------------- usage records

USAGE_COLUMNS = [
    "department",
    "terminal_id",
    "operator_id",
    "start",
    "end",
    "function",
    "inquiries",
]


@usage_app.command("import")
def usage_import(file: Path = FILE) -> None:
    """department,terminal_id,operator_id,start,end,function,inquiries / Import usage records."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_usage(ctx, file)
    imported(result)


@usage_app.command("record")
def usage_record(
    department: str = typer.Option(..., "--department"),
    terminal: str = typer.Option(..., "--terminal"),
    operator: str = typer.Option(..., "--operator"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD HH:MM"),
    end: str = typer.Option(..., "--end", help="YYYY-MM-DD HH:MM"),
    function: str = typer.Option(..., "--function"),
    inquiries: int = typer.Option(..., "--inquiries", help="照会件数 / inquiries"),
) -> None:
    """利用後に利用記録簿を記入 / Fill the usage record after use."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        row = service.record_usage(
            ctx,
            department,
            terminal,
            operator,
            parse_moment(start),
            parse_moment(end),
            function,
            inquiries,
        )
    say("juki.cli.usage_recorded", id=row["id"])


@usage_app.command("list")
def usage_list(
    start: str = FROM,
    end: str = TO,
    department: str = DEPT,
    terminal: str = typer.Option(None, "--terminal"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """利用記録の一覧 / List usage records."""
    from kumin.juki import service

    check_format(fmt)
    lo, hi = period(start, end)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_usage(ctx, lo, hi, department, terminal)
    show(rows, fmt, USAGE_COLUMNS, out)


# ------------------------------------------------------------ business records


@records_app.command("import")
def records_import(file: Path = FILE) -> None:
    """department,subject,date: 照会の根拠となる業務記録 / Business records that explain
    lookups."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_business_records(ctx, file)
    imported(result)


@records_app.command("summary")
def records_summary(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """所属別の件数 / Counts per department."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.count_business_records(ctx, parse_day(start), parse_day(end))
    emit(rows, fmt, ["department", "records"])


# ----------------------------------------------------------------------- mount


@juki_app.command("form")
def form_cmd(
    kind: str = typer.Argument(
        ..., help="ledger（操作者管理簿）, usage（利用記録簿）, checklist（日次点検簿）"
    ),
    department: str = DEPT,
    terminal: str = typer.Option(None, "--terminal", help="端末（日次点検簿） / terminal"),
    on: str = typer.Option(None, "--on", help="基準日（操作者管理簿） / as of (YYYY-MM-DD)"),
    start: str = FROM,
    end: str = TO,
    fmt: str = typer.Option("pdf", "--format", help="pdf, xlsx, html"),
    lang: str = typer.Option(None, "--lang", help="ja, en"),
    out: Path = typer.Option(..., "--out", help="出力ファイル / output file"),
) -> None:
    """紙の様式（操作者管理簿・利用記録簿・日次点検簿）を PDF / xlsx で印刷
    / Print a paper form (operator ledger, usage record book, daily checklist)."""
    from kumin.core.i18n import normalise_lang
    from kumin.core.tabular import atomic_write_bytes
    from kumin.errors import UsageError
    from kumin.juki import forms

    check_format(kind, forms.KINDS)
    check_format(fmt, forms.FORMATS)
    with cli_ctx("juki.read") as ctx:
        language = normalise_lang(lang or ctx.actor.lang)
        if kind == "ledger":
            if not department:
                raise UsageError("juki.form.need_department")
            form = forms.ledger_form(ctx, department, parse_day(on, dt.date.today()), language)
        elif kind == "usage":
            lo, hi = period(start, end)
            form = forms.usage_form(ctx, department, lo, hi, language)
        else:
            if not terminal:
                raise UsageError("juki.form.need_terminal")
            lo, hi = period(start, end)
            form = forms.checklist_form(ctx, terminal, lo, hi, language)
        body, _media, _name = forms.render_form(form, fmt)
    atomic_write_bytes(out, body)
    say("juki.form.printed", kind=form.title, path=str(out))


for _name, _sub in (
    ("departments", departments_app),
    ("terminals", terminals_app),
    ("ledger", ledger_app),
    ("applications", applications_app),
    ("reservations", reservations_app),
    ("usage", usage_app),
    ("records", records_app),
    ("checklist", checklist_app),
    ("audits", audits_app),
    ("meetings", meetings_app),
    ("trainings", trainings_app),
    ("watchlist", watchlist_app),
):
    juki_app.add_typer(_sub, name=_name)


def register(app: typer.Typer) -> None:
    app.add_typer(juki_app, name="juki")
