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
from typing import Any

import typer

from kumin.cli.common import check_format, cli_ctx, emit, err_console, say
from kumin.core.i18n import t
from kumin.errors import UserError

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
checklist_app = typer.Typer(help="日次点検簿 / Daily inspection checklist", no_args_is_help=True)
audits_app = typer.Typer(help="セキュリティ監査 / Security audits", no_args_is_help=True)
meetings_app = typer.Typer(help="セキュリティ会議 / Security meetings", no_args_is_help=True)
trainings_app = typer.Typer(help="研修・緊急時対応訓練 / Training and drills", no_args_is_help=True)
watchlist_app = typer.Typer(
    help="要注意住民リスト（公人・職員本人・DV等支援措置対象者） / Watch list",
    no_args_is_help=True,
)

FILE = typer.Argument(..., help="CSV / xlsx (UTF-8, CP932)")
FMT = typer.Option("table", "--format", help="table, csv, json")
OUT = typer.Option(None, "--out", help="ファイルに書き出す / write to a file")
FROM = typer.Option(None, "--from", help="開始日 / first day (YYYY-MM-DD)")
TO = typer.Option(None, "--to", help="終了日 / last day (YYYY-MM-DD)")
DEPT = typer.Option(None, "--department", help="所属コード / department code")


def _date(value: str | None, default: dt.date | None = None) -> dt.date | None:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _datetime(value: str) -> dt.datetime:
    from kumin.juki._common import CellError, parse_datetime

    try:
        return parse_datetime(value)
    except CellError:
        raise UserError("juki.import.bad_datetime", value=value) from None


def _period(start: str | None, end: str | None, days: int = 31) -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    lo = _date(start, None)
    hi = _date(end, None)
    if lo is None and hi is None:
        return today - dt.timedelta(days=days), today + dt.timedelta(days=days)
    if lo is None:
        return hi - dt.timedelta(days=days), hi
    return lo, hi or lo + dt.timedelta(days=days)


def _imported(result: Any) -> None:
    say(
        "juki.cli.imported",
        rows=result.rows,
        added=result.added,
        changed=result.changed,
        unchanged=result.unchanged,
    )
    for w in result.warnings:
        err_console.print(t("juki.cli.warning", None, text=w.render()), highlight=False)


def _show(rows: list[dict[str, Any]], fmt: str, columns: list[str], out: Path | None) -> None:
    check_format(fmt)
    emit(rows, fmt, columns, out=out)


# ----------------------------------------------------------------- departments


@departments_app.command("import")
def departments_import(file: Path = FILE) -> None:
    """department,name,open,close,weekend_open[,holiday_open] を取り込む（全件か無か）
    / Import departments (all or nothing)."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_departments(ctx, file)
    _imported(result)


@departments_app.command("list")
def departments_list(fmt: str = FMT, out: Path = OUT) -> None:
    """所属の一覧 / List departments."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_departments(ctx)
    _show(
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
    _imported(result)


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
    _show(rows, fmt, TERMINAL_COLUMNS, out)


@terminals_app.command("show")
def terminals_show(terminal_id: str = typer.Argument(...), fmt: str = FMT) -> None:
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

    day = _date(effective)
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
def ledger_show(
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
            ctx, department, _date(on, dt.date.today()), with_names=names
        )
    columns = ["operator_id", "name", "role"] if names else ["operator_id", "role"]
    if fmt == "table":
        say(
            "juki.cli.ledger_in_force",
            department=department,
            effective=ledger["effective"].isoformat(),
        )
    _show(ledger["operators"], fmt, columns, out)


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
    _show(rows, fmt, ["effective", "operators", "added", "removed", "imported_by"], out)


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
        rights = service.operator_rights(ctx, department, _date(on, dt.date.today()))
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
    _imported(result)


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
    _show(rows, fmt, APPLICATION_COLUMNS, out)


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
            ctx, department, function, _date(valid_from), _date(valid_to), purpose
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
        row = service.end_application(ctx, application_id, _date(on))
    say("juki.cli.application", id=row["id"], state=t(f"juki.state.{row['state']}"))


# ---------------------------------------------------------------- reservations


@reservations_app.command("import")
def reservations_import(file: Path = FILE) -> None:
    """department,terminal_id,start,end を取り込む / Import reservations."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_reservations(ctx, file)
    _imported(result)


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
    lo, hi = _period(start, end, 7)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_reservations(ctx, lo, hi, terminal, department)
    _show(rows, fmt, ["id", "department", "terminal_id", "start", "end"], out)


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
            ctx, department, terminal, _datetime(start), _datetime(end)
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
    _imported(result)


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
            _datetime(start),
            _datetime(end),
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
    lo, hi = _period(start, end)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_usage(ctx, lo, hi, department, terminal)
    _show(rows, fmt, USAGE_COLUMNS, out)


# ------------------------------------------------------------ business records


@records_app.command("import")
def records_import(file: Path = FILE) -> None:
    """department,subject,date: 照会の根拠となる業務記録 / Business records that explain
    lookups."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_business_records(ctx, file)
    _imported(result)


@records_app.command("summary")
def records_summary(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """所属別の件数 / Counts per department."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.count_business_records(ctx, _date(start), _date(end))
    emit(rows, fmt, ["department", "records"])


# ------------------------------------------------------------------- checklist


@checklist_app.command("items")
def checklist_items_cmd(
    all_items: bool = typer.Option(False, "--all", help="廃止した項目も / include retired"),
    fmt: str = FMT,
) -> None:
    """日次点検簿の項目 / Checklist items."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.checklist_items(ctx, all_items)
    emit(rows, fmt, ["code", "text_ja", "active", "wire"])


@checklist_app.command("item")
def checklist_item_cmd(
    code: str = typer.Argument(..., help="項目コード / item code"),
    text_ja: str = typer.Option(None, "--ja", help="文言（日本語）"),
    text_en: str = typer.Option(None, "--en", help="text (English)"),
    position: int = typer.Option(None, "--position"),
    active: bool = typer.Option(None, "--active/--retire"),
    wire: bool = typer.Option(None, "--wire/--no-wire", help="盗難防止の項目 / the wire item"),
) -> None:
    """項目を追加・変更 / Add or edit an item."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.set_checklist_item(
            ctx,
            code,
            text_ja=text_ja,
            text_en=text_en,
            position=position,
            active=active,
            wire=wire,
        )
    emit([row], "table", ["code", "text_ja", "active", "wire"])


@checklist_app.command("record")
def checklist_record(
    terminal: str = typer.Argument(..., help="端末 / terminal id"),
    day: str = typer.Option(None, "--date", help="点検日 / day (default today)"),
    failed: list[str] = typer.Option(
        [], "--fail", help="不適合の項目コード（複数可） / item not OK (repeatable)"
    ),
    note: str = typer.Option("", "--note"),
) -> None:
    """日次点検を記録（--fail 以外の項目は適合） / Record a day's inspection (items not
    named by --fail are OK)."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        items = [i["code"] for i in service.checklist_items(ctx)]
        results = {c: c not in failed for c in items}
        unknown = [c for c in failed if c not in items]
        results.update({c: False for c in unknown})
        row = service.record_checklist(ctx, terminal, _date(day, dt.date.today()), results, note)
    say(
        "juki.cli.checklist",
        terminal=row["terminal_id"],
        date=row["date"].isoformat(),
        secured=t("juki.secured" if row["secured"] else "juki.unsecured"),
    )


@checklist_app.command("import")
def checklist_import(file: Path = FILE) -> None:
    """terminal_id,date,secured[,failed,note] を取り込む / Import checklists."""
    from kumin.juki import service

    with cli_ctx("juki.department") as ctx:
        result = service.import_checklists(ctx, file)
    _imported(result)


@checklist_app.command("list")
def checklist_list(
    start: str = FROM,
    end: str = TO,
    terminal: str = typer.Option(None, "--terminal"),
    department: str = DEPT,
    unsecured: bool = typer.Option(False, "--unsecured", help="未固定のみ / not secured only"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """点検結果の一覧 / List checklists."""
    from kumin.juki import service

    check_format(fmt)
    lo, hi = _period(start, end)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_checklists(ctx, lo, hi, terminal, department, unsecured)
    if fmt != "json":
        rows = [r | {"failed": " ".join(r["failed"])} for r in rows]
    _show(rows, fmt, ["date", "terminal_id", "department", "secured", "failed", "checked_by"], out)


# ---------------------------------------------------------------------- audits


@audits_app.command("add")
def audits_add(
    day: str = typer.Option(..., "--date"),
    kind: str = typer.Option(..., "--kind", help="jukinet, mynumber, self_check, other"),
    title: str = typer.Option(..., "--title"),
    scope: str = typer.Option("", "--scope"),
    summary: str = typer.Option("", "--summary"),
) -> None:
    """監査を記録 / Record an audit."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.add_audit(ctx, _date(day), kind, title, scope, summary)
    say("juki.cli.added", what=t("juki.audit"), id=row["id"])


@audits_app.command("finding")
def audits_finding(
    audit_id: int = typer.Argument(...),
    finding: str = typer.Option(..., "--finding", help="指摘事項 / finding"),
    department: str = typer.Option(None, "--department"),
    terminal: str = typer.Option(None, "--terminal"),
    cause: str = typer.Option("", "--cause", help="原因 / cause"),
    action: str = typer.Option("", "--action", help="是正措置 / corrective action"),
    follow_up: str = typer.Option("", "--follow-up", help="フォローアップ / follow-up"),
    status: str = typer.Option("open", "--status", help="open, corrected"),
) -> None:
    """指摘事項と是正措置を記録 / Add a finding and its corrective action."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.add_finding(
            ctx,
            audit_id,
            finding,
            department=department,
            terminal_id=terminal,
            cause=cause,
            corrective_action=action,
            follow_up=follow_up,
            status=status,
        )
    say("juki.cli.added", what=t("juki.finding"), id=row["id"])


@audits_app.command("follow-up")
def audits_follow_up(
    finding_id: int = typer.Argument(...),
    action: str = typer.Option(None, "--action", help="是正措置 / corrective action"),
    follow_up: str = typer.Option(None, "--follow-up"),
    status: str = typer.Option(None, "--status", help="open, corrected"),
    closed_on: str = typer.Option(None, "--closed-on"),
) -> None:
    """是正措置のフォローアップ / Record the follow-up of a finding."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.update_finding(
            ctx,
            finding_id,
            corrective_action=action,
            follow_up=follow_up,
            status=status,
            closed_on=_date(closed_on),
        )
    say("juki.cli.updated", what=t("juki.finding"), id=row["id"])


@audits_app.command("list")
def audits_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """監査と指摘事項 / Audits with their findings."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        audits = service.list_audits(ctx, _date(start), _date(end))
    if fmt == "json":
        emit([], fmt, json_root=audits)
        return
    rows = [
        {
            "id": a["id"],
            "date": a["date"],
            "kind": a["kind"],
            "title": a["title"],
            "findings": len(a["findings"]),
            "open": sum(f["status"] == "open" for f in a["findings"]),
        }
        for a in audits
    ]
    emit(rows, fmt, ["id", "date", "kind", "title", "findings", "open"])


@audits_app.command("show")
def audits_show(audit_id: int = typer.Argument(...), fmt: str = FMT) -> None:
    """監査 1 件と指摘事項・是正措置 / One audit with findings and corrective actions."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        audit = service.get_audit(ctx, audit_id)
    if fmt == "json":
        emit([], fmt, json_root=audit)
        return
    say("juki.cli.audit_head", date=audit["date"].isoformat(), title=audit["title"])
    emit(
        audit["findings"],
        fmt,
        ["id", "finding", "department", "corrective_action", "follow_up", "status"],
    )


# -------------------------------------------------------------------- meetings


@meetings_app.command("add")
def meetings_add(
    day: str = typer.Option(..., "--date"),
    kind: str = typer.Option(..., "--kind", help="mynumber, jukinet, other"),
    title: str = typer.Option(..., "--title"),
    deliberation: list[str] = typer.Option([], "--deliberation", help="審議事項（複数可）"),
    report: list[str] = typer.Option([], "--report", help="報告事項（複数可）"),
) -> None:
    """セキュリティ会議を記録 / Record a security meeting."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.add_meeting(ctx, _date(day), kind, title, deliberation, report)
    say("juki.cli.added", what=t("juki.meeting"), id=row["id"])


@meetings_app.command("list")
def meetings_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """会議の一覧 / List meetings."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        meetings = service.list_meetings(ctx, _date(start), _date(end))
    if fmt == "json":
        emit([], fmt, json_root=meetings)
        return
    rows = [
        m | {"deliberations": len(m["deliberations"]), "reports": len(m["reports"])}
        for m in meetings
    ]
    emit(rows, fmt, ["id", "date", "kind", "title", "deliberations", "reports"])


@meetings_app.command("show")
def meetings_show(meeting_id: int = typer.Argument(...)) -> None:
    """会議 1 件（審議事項・報告事項） / One meeting."""
    from kumin.juki import service

    with cli_ctx("juki.read") as ctx:
        m = service.get_meeting(ctx, meeting_id)
    say("juki.cli.audit_head", date=m["date"].isoformat(), title=m["title"])
    for label, items in (
        ("juki.deliberations", m["deliberations"]),
        ("juki.reports", m["reports"]),
    ):
        if items:
            say(label)
            for item in items:
                typer.echo(f"  ・{item}")


# ------------------------------------------------------------------- trainings


@trainings_app.command("add")
def trainings_add(
    day: str = typer.Option(..., "--date"),
    kind: str = typer.Option(..., "--kind", help="training, drill"),
    title: str = typer.Option(..., "--title"),
    audience: str = typer.Option("", "--audience", help="対象 / audience"),
    participants: int = typer.Option(None, "--participants"),
    notes: str = typer.Option("", "--notes"),
) -> None:
    """研修・緊急時対応訓練を記録 / Record a training or drill."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        row = service.add_training(ctx, _date(day), kind, title, audience, participants, notes)
    say("juki.cli.added", what=t(f"juki.kind.{kind}"), id=row["id"])


@trainings_app.command("list")
def trainings_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """研修・訓練の一覧 / List training and drills."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_trainings(ctx, _date(start), _date(end))
    emit(rows, fmt, ["id", "date", "kind", "title", "audience", "participants"])


# ------------------------------------------------------------------ watch list


@watchlist_app.command("import")
def watchlist_import(file: Path = FILE) -> None:
    """subject,reason を取り込む（追加・理由の更新） / Import the watch list."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_watchlist(ctx, file)
    _imported(result)


@watchlist_app.command("list")
def watchlist_list(
    reveal: bool = typer.Option(False, "--reveal", help="住民参照を表示（記録されます）"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """要注意リスト / The watch list."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.manage") as ctx:
        rows = service.list_watchlist(ctx, reveal)
    columns = ["id", "subject", "reason", "added_by"] if reveal else ["id", "reason", "added_by"]
    _show(rows, fmt, columns, out)


@watchlist_app.command("remove")
def watchlist_remove(
    subject: str = typer.Argument(..., help="住民参照 / resident reference"),
) -> None:
    """リストから外す / Remove a resident from the watch list."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        service.remove_watch(ctx, subject)
    say("juki.cli.removed")


# ----------------------------------------------------------------------- mount

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
