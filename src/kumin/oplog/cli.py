"""``kumin oplog …`` and ``kumin report oplog``: operation-log analysis.

Each command is a thin wrapper over the service function of the same name in
:mod:`kumin.oplog.service`. The watch list (``kumin oplog watchlist import``) is
the Juki-net records' one, mounted here from :mod:`kumin.juki.cli`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, console, emit, say
from kumin.core.i18n import t
from kumin.errors import UserError

oplog_app = typer.Typer(
    help="統合端末の操作ログ分析（取込み・検査・警告の確認・報告） / Operation-log analysis",
    no_args_is_help=True,
)
alerts_app = typer.Typer(help="警告とその確認 / Alerts and their triage", no_args_is_help=True)
suppressions_app = typer.Typer(
    help="正当と確認したパターンの抑止 / Suppressed patterns", no_args_is_help=True
)
thresholds_app = typer.Typer(help="検知の閾値 / Detection thresholds", no_args_is_help=True)
notices_app = typer.Typer(
    help="ログ分析の周知（抑止） / Deterrence notices to departments", no_args_is_help=True
)
profiles_app = typer.Typer(
    help="操作ログの取込形式（列名・操作名） / Operation-log profiles (headers, operation names)",
    no_args_is_help=True,
)

FMT = typer.Option("table", "--format", help="table, csv, json")
OUT = typer.Option(None, "--out", help="ファイルに書き出す / write to a file")
FROM = typer.Option(None, "--from", help="開始日 / first day (YYYY-MM-DD)")
TO = typer.Option(None, "--to", help="終了日 / last day (YYYY-MM-DD)")
NOTE = typer.Option("", "--note", help="所見 / note")
ALERT_COLUMNS = [
    "id",
    "state",
    "severity",
    "rule",
    "department",
    "operator_id",
    "terminal_id",
    "subject",
    "first_seen",
    "last_seen",
    "explanation",
]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _required_date(value: str | None, option: str) -> dt.date:
    day = _date(value)
    if day is None:
        raise UserError("oplog.cli.date_required", option=option)
    return day


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )


# ---------------------------------------------------------------------- import


@oplog_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV / xlsx (UTF-8, CP932)"),
    encoding: str = typer.Option("auto", "--encoding", help="auto, utf-8, cp932"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
    profile: str = typer.Option(
        "kumin", "--profile", help="取込形式の名前 / profile name (kumin oplog profiles list)"
    ),
) -> None:
    """操作ログを取り込む（全件か無か・同じファイルの再取込みは無害）
    / Import an operation log (all or nothing; the same file again is harmless)."""
    from kumin.oplog import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("oplog.import") as ctx, _progress() as bar:
        task = bar.add_task(t("oplog.cli.importing", None, file=file.name), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = service.import_log(
            ctx, file, encoding=encoding, progress=progress, profile=profile
        )
    if fmt == "json":
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    elif result.already:
        say("oplog.cli.already", file=result.file_name, events=result.events)
    else:
        say(
            "oplog.cli.imported",
            file=result.file_name,
            events=result.events,
            subjects=result.new_subjects,
            first=result.as_dict()["first"],
            last=result.as_dict()["last"],
        )


@oplog_app.command("files")
def files_cmd(fmt: str = FMT, out: Path = OUT) -> None:
    """取り込んだログ / Imported log files."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.import") as ctx:
        rows = service.list_files(ctx)
    emit(
        rows, fmt, ["id", "name", "events", "first", "last", "imported_at", "imported_by"], out=out
    )


# ------------------------------------------------------------------------ scan


@oplog_app.command("scan")
def scan_cmd(
    start: str = FROM,
    end: str = TO,
    fmt: str = typer.Option("table", "--format", help="table, json"),
    audit_trail: bool = typer.Option(
        False, "--audit-trail", help="kumin 自身の監査証跡も分析 / also kumin's own audit trail"
    ),
    out: Path = OUT,
) -> None:
    """全ルールで検査し警告を記録・表示する / Run every rule, store and print the alerts."""
    from kumin.oplog import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("oplog.scan") as ctx, _progress() as bar:
        task = bar.add_task(t("oplog.cli.scanning"), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = service.run_scan(
            ctx, _date(start), _date(end), audit_trail=audit_trail, progress=progress
        )
    if fmt == "json":
        emit(result.alerts, "json", out=out)
        return
    emit(result.alerts, "table", ALERT_COLUMNS, out=out)
    say(
        "oplog.cli.scanned",
        events=result.events,
        alerts=len(result.alerts),
        new=result.new,
        suppressed=result.suppressed,
    )


@oplog_app.command("scans")
def scans_cmd(fmt: str = FMT, out: Path = OUT) -> None:
    """これまでの検査 / Past scans."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.scan") as ctx:
        rows = service.list_scans(ctx)
    emit(rows, fmt, out=out)


# ------------------------------------------------------------------ thresholds


@thresholds_app.command("list")
def thresholds_list(fmt: str = FMT) -> None:
    """閾値の一覧（現在値と既定値） / Thresholds in force and their defaults."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.scan") as ctx:
        rows = service.list_thresholds(ctx)
    emit(rows, fmt, ["name", "value", "default"])


@thresholds_app.command("set")
def thresholds_set(
    name: str = typer.Argument(..., help="閾値の名前 / threshold name"),
    value: str = typer.Argument(..., help="値 / value"),
) -> None:
    """閾値を設定する / Set a threshold."""
    from kumin.oplog import service

    with cli_ctx("oplog.scan") as ctx:
        new = service.set_threshold(ctx, name, value)
    say("oplog.cli.threshold_set", name=name, value=getattr(new, name))


@thresholds_app.command("reset")
def thresholds_reset(name: str = typer.Argument(..., help="閾値の名前 / threshold name")) -> None:
    """閾値を既定値に戻す / Restore a threshold's default."""
    from kumin.oplog import service

    with cli_ctx("oplog.scan") as ctx:
        new = service.set_threshold(ctx, name, None)
    say("oplog.cli.threshold_set", name=name, value=getattr(new, name))


# ---------------------------------------------------------------------- alerts


@alerts_app.command("list")
def alerts_list(
    state: str = typer.Option(
        None, "--state", help="new, under_review, closed, legitimate, misuse"
    ),
    rule: str = typer.Option(None, "--rule", help="ルール名 / rule name"),
    department: str = typer.Option(None, "--department", help="所属コード / department"),
    severity: str = typer.Option(None, "--severity", help="high, medium, low"),
    start: str = FROM,
    end: str = TO,
    limit: int = typer.Option(200, "--limit", help="件数 / rows"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """警告の一覧（重大度・得点の順） / Alerts, most severe first."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.triage") as ctx:
        rows = service.list_alerts(
            ctx,
            state=state,
            rule=rule,
            department=department,
            severity=severity,
            start=_date(start),
            end=_date(end),
            limit=limit,
        )
    emit(rows, fmt, ALERT_COLUMNS, out=out)


@alerts_app.command("show")
def alerts_show(
    alert_id: int = typer.Argument(..., help="警告番号 / alert id"),
    reveal: bool = typer.Option(
        False, "--reveal", help="住民参照を復号して表示（記録されます） / decrypt the resident"
    ),
    purpose: str = typer.Option("", "--purpose", help="表示の目的 / purpose of the read"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """警告の詳細と根拠のログ行 / One alert with its evidence and log lines."""
    from kumin.oplog import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("oplog.triage") as ctx:
        row = service.get_alert(ctx, alert_id, reveal=reveal, purpose=purpose)
    if fmt == "json":
        emit([], "json", json_root=row)
        return
    console.print(f"[bold]#{row['id']} {t('oplog.rule_name.' + row['rule'])}[/bold]")
    console.print(row["explanation"], highlight=False)
    # labels and values in the reader's language: no code names, no None (#14)
    outcome = row["outcome"]
    facts = [
        ("oplog.web.state", t("oplog.state." + row["state"])),
        ("oplog.alert_label.outcome", t("oplog.outcome." + outcome) if outcome else "—"),
        ("oplog.web.severity", t("oplog.severity." + row["severity"])),
        ("oplog.alert_label.score", row["score"]),
        ("oplog.report.department", row["department"] or "—"),
        ("oplog.web.operator", row["operator_id"] or "—"),
        ("oplog.web.terminal", row["terminal_id"] or "—"),
        ("oplog.web.subject", row["subject"] or "—"),
    ]
    for key, value in facts:
        console.print(f"{t(key)}: {value}", highlight=False)
    evidence = json.dumps(row["evidence"], ensure_ascii=False, default=str)
    console.print(f"{t('oplog.web.evidence')}: {evidence}", highlight=False)
    emit(row["lines"], "table", title=t("oplog.cli.lines"))
    if row["notes"]:
        emit(row["notes"], "table", ["at", "by", "from", "to", "outcome", "text"])


@alerts_app.command("review")
def alerts_review(
    alert_id: int = typer.Argument(..., help="警告番号 / alert id"), note: str = NOTE
) -> None:
    """確認を始める（new → under_review） / Take an alert under review."""
    from kumin.oplog import service

    with cli_ctx("oplog.triage") as ctx:
        row = service.review(ctx, alert_id, note)
    say("oplog.cli.state", id=alert_id, state=row["state"])


@alerts_app.command("close")
def alerts_close(
    alert_id: int = typer.Argument(..., help="警告番号 / alert id"),
    outcome: str = typer.Option(..., "--outcome", help="legitimate, misuse"),
    note: str = typer.Option(..., "--note", help="所見（必須） / note (required)"),
) -> None:
    """正当または不正利用として閉じる / Close as legitimate or misuse."""
    from kumin.oplog import service

    with cli_ctx("oplog.triage") as ctx:
        row = service.close(ctx, alert_id, outcome, note)
    say("oplog.cli.closed", id=alert_id, outcome=row["outcome"])


@alerts_app.command("reopen")
def alerts_reopen(
    alert_id: int = typer.Argument(..., help="警告番号 / alert id"),
    note: str = typer.Option(..., "--note", help="理由（必須） / why (required)"),
) -> None:
    """閉じた警告を再確認に戻す / Take a closed alert back under review."""
    from kumin.oplog import service

    with cli_ctx("oplog.triage") as ctx:
        row = service.reopen(ctx, alert_id, note)
    say("oplog.cli.state", id=alert_id, state=row["state"])


@alerts_app.command("note")
def alerts_note(
    alert_id: int = typer.Argument(..., help="警告番号 / alert id"),
    note: str = typer.Option(..., "--note", help="所見 / note"),
) -> None:
    """所見を追記する / Add a note."""
    from kumin.oplog import service

    with cli_ctx("oplog.triage") as ctx:
        service.add_note(ctx, alert_id, note)
    say("oplog.cli.noted", id=alert_id)


# ---------------------------------------------------------------- suppressions


@suppressions_app.command("add")
def suppressions_add(
    alert_id: int = typer.Argument(..., help="正当として閉じた警告 / a closed-legitimate alert"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
    match: str = typer.Option(
        None,
        "--match",
        help="一致させる項目（既定: 全部） / fields to match: reason_code, operator_id, "
        "terminal_id, subject_index, department",
    ),
    until: str = typer.Option(None, "--until", help="この日まで / last day"),
) -> None:
    """このパターンを今後は警告しない / Do not raise this pattern again."""
    from kumin.oplog import service

    fields = [f.strip() for f in match.split(",") if f.strip()] if match else None
    with cli_ctx("oplog.triage") as ctx:
        row = service.suppress(ctx, alert_id, reason, match=fields, until=_date(until))
    say("oplog.cli.suppressed", id=row["id"], rule=row["rule"])


@suppressions_app.command("list")
def suppressions_list(
    all_: bool = typer.Option(False, "--all", help="解除済みも / include lifted"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """抑止の一覧 / Suppressions."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.triage") as ctx:
        rows = service.list_suppressions(ctx, include_lifted=all_)
    emit(
        rows,
        fmt,
        ["id", "rule", "operator_id", "terminal_id", "subject", "department", "until", "reason"]
        + ["created_by", "active"],
        out=out,
    )


@suppressions_app.command("lift")
def suppressions_lift(
    suppression_id: int = typer.Argument(..., help="抑止番号 / suppression id"),
    reason: str = typer.Option(..., "--reason", help="理由 / reason"),
) -> None:
    """抑止を解除する / Lift a suppression."""
    from kumin.oplog import service

    with cli_ctx("oplog.triage") as ctx:
        service.lift_suppression(ctx, suppression_id, reason)
    say("oplog.cli.lifted", id=suppression_id)


# --------------------------------------------------------------------- notices


@notices_app.command("issue")
def notices_issue(
    start: str = FROM,
    end: str = TO,
    department: str = typer.Option(None, "--department", help="所属（既定: 全所属） / one"),
    fmt: str = FMT,
) -> None:
    """ログ分析の周知を発出したと記録する / Record the deterrence notice as issued."""
    from kumin.oplog import service

    check_format(fmt)
    lo, hi = _required_date(start, "--from"), _required_date(end, "--to")
    with cli_ctx("oplog.report") as ctx:
        rows = service.issue_notices(ctx, lo, hi, department)
    emit(rows, fmt, ["id", "department", "name", "from", "to", "issued_at"])


@notices_app.command("list")
def notices_list(fmt: str = FMT, out: Path = OUT) -> None:
    """発出した周知 / Notices issued."""
    from kumin.oplog import service

    check_format(fmt)
    with cli_ctx("oplog.report") as ctx:
        rows = service.list_notices(ctx)
    emit(rows, fmt, ["id", "department", "name", "from", "to", "issued_at", "issued_by"], out=out)


@notices_app.command("print")
def notices_print(
    notice_id: int = typer.Argument(..., help="周知番号 / notice id"),
    lang: str = typer.Option(None, "--lang", help="ja, en"),
    fmt: str = typer.Option("html", "--format", help="html, pdf"),
    out: Path = OUT,
) -> None:
    """印刷用の周知文 / The printable notice."""
    from kumin.core.tabular import write_output
    from kumin.oplog.report import make_notice

    check_format(fmt, ("html", "pdf"))
    with cli_ctx("oplog.report") as ctx:
        body, name = make_notice(ctx, notice_id, fmt, lang)
    if out is None and fmt == "pdf":
        out = Path(name)
    if out is not None:
        write_output(out, body)
        if str(out) != "-":
            say("oplog.cli.written", path=str(out))
    else:
        typer.echo(body.decode("utf-8"), nl=False)


def report_cmd(
    start: str = FROM,
    end: str = TO,
    fmt: str = typer.Option("html", "--format", help="html, pdf, json"),
    lang: str = typer.Option(None, "--lang", help="ja, en (既定: KUMIN_LANG)"),
    out: Path = OUT,
) -> None:
    """操作ログ分析の定期報告 / Periodic operation-log analysis report."""
    from kumin.core.tabular import write_output
    from kumin.oplog.report import make_report

    check_format(fmt, ("html", "pdf", "json"))
    lo, hi = _required_date(start, "--from"), _required_date(end, "--to")
    with cli_ctx("oplog.report") as ctx:
        body, name = make_report(ctx, lo, hi, fmt, lang)
    if out is None and fmt == "pdf":
        out = Path(name)
    if out is not None:
        write_output(out, body)
        if str(out) != "-":
            say("oplog.cli.written", path=str(out))
    else:
        typer.echo(body.decode("utf-8"), nl=False)


@profiles_app.command("list")
def profiles_list(fmt: str = typer.Option("table", "--format", help="table, csv, json")) -> None:
    """取込形式の一覧（kumin profiles list --domain oplog と同じ）
    / The operation-log profiles (as kumin profiles list --domain oplog)."""
    from kumin.cli.core_cmds import profiles_list as list_all

    list_all("oplog", fmt)


@profiles_app.command("show")
def profiles_show(
    name: str = typer.Argument(..., help="取込形式の名前 / profile name"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """取込形式が読む列名と操作名（kumin profiles show NAME --domain oplog と同じ）
    / The headers and operation names a profile reads."""
    from kumin.cli.core_cmds import show_profiles

    show_profiles(name, "oplog", fmt)


def _mount_watchlist() -> None:
    from kumin.juki.cli import watchlist_app

    oplog_app.add_typer(watchlist_app, name="watchlist")


oplog_app.add_typer(alerts_app, name="alerts")
oplog_app.add_typer(suppressions_app, name="suppressions")
oplog_app.add_typer(thresholds_app, name="thresholds")
oplog_app.add_typer(notices_app, name="notices")
oplog_app.add_typer(profiles_app, name="profiles")
_mount_watchlist()


def register(app: typer.Typer) -> None:
    from kumin.oplog.cli_reconcile import reconcile_cmd
    from kumin.reports.cli import report_app

    app.add_typer(oplog_app, name="oplog")
    report_app.command("oplog")(report_cmd)
    report_app.command("reconcile")(reconcile_cmd)
