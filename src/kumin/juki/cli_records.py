"""``kumin juki checklist|audits|meetings|trainings|watchlist``: the daily
inspection checklist, audits with findings and corrective actions, security
meetings, training and drills, and the watch list (also mounted by the oplog CLI
as ``kumin oplog watchlist``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, emit, say
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
    period,
    show,
)

checklist_app = typer.Typer(help="日次点検簿 / Daily inspection checklist", no_args_is_help=True)
audits_app = typer.Typer(help="セキュリティ監査 / Security audits", no_args_is_help=True)
meetings_app = typer.Typer(help="セキュリティ会議 / Security meetings", no_args_is_help=True)
trainings_app = typer.Typer(help="研修・緊急時対応訓練 / Training and drills", no_args_is_help=True)
watchlist_app = typer.Typer(
    help="要注意住民リスト（公人・職員本人・DV等支援措置対象者） / Watch list",
    no_args_is_help=True,
)


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
        row = service.record_checklist(
            ctx, terminal, parse_day(day, dt.date.today()), results, note
        )
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
    imported(result)


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
    lo, hi = period(start, end)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_checklists(ctx, lo, hi, terminal, department, unsecured)
    if fmt != "json":
        rows = [r | {"failed": " ".join(r["failed"])} for r in rows]
    show(rows, fmt, ["date", "terminal_id", "department", "secured", "failed", "checked_by"], out)


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
        row = service.add_audit(ctx, parse_day(day), kind, title, scope, summary)
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
            closed_on=parse_day(closed_on),
        )
    say("juki.cli.updated", what=t("juki.finding"), id=row["id"])


@audits_app.command("list")
def audits_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """監査と指摘事項 / Audits with their findings."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        audits = service.list_audits(ctx, parse_day(start), parse_day(end))
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
def auditsshow(audit_id: int = typer.Argument(...), fmt: str = FMT) -> None:
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
        row = service.add_meeting(ctx, parse_day(day), kind, title, deliberation, report)
    say("juki.cli.added", what=t("juki.meeting"), id=row["id"])


@meetings_app.command("list")
def meetings_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """会議の一覧 / List meetings."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        meetings = service.list_meetings(ctx, parse_day(start), parse_day(end))
    if fmt == "json":
        emit([], fmt, json_root=meetings)
        return
    rows = [
        m | {"deliberations": len(m["deliberations"]), "reports": len(m["reports"])}
        for m in meetings
    ]
    emit(rows, fmt, ["id", "date", "kind", "title", "deliberations", "reports"])


@meetings_app.command("show")
def meetingsshow(meeting_id: int = typer.Argument(...)) -> None:
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
        row = service.add_training(ctx, parse_day(day), kind, title, audience, participants, notes)
    say("juki.cli.added", what=t(f"juki.kind.{kind}"), id=row["id"])


@trainings_app.command("list")
def trainings_list(start: str = FROM, end: str = TO, fmt: str = FMT) -> None:
    """研修・訓練の一覧 / List training and drills."""
    from kumin.juki import service

    check_format(fmt)
    with cli_ctx("juki.read") as ctx:
        rows = service.list_trainings(ctx, parse_day(start), parse_day(end))
    emit(rows, fmt, ["id", "date", "kind", "title", "audience", "participants"])


# ------------------------------------------------------------------ watch list


@watchlist_app.command("import")
def watchlist_import(file: Path = FILE) -> None:
    """subject,reason を取り込む（追加・理由の更新） / Import the watch list."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        result = service.import_watchlist(ctx, file)
    imported(result)


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
    show(rows, fmt, columns, out)


@watchlist_app.command("remove")
def watchlist_remove(
    subject: str = typer.Argument(..., help="住民参照 / resident reference"),
) -> None:
    """リストから外す / Remove a resident from the watch list."""
    from kumin.juki import service

    with cli_ctx("juki.manage") as ctx:
        service.remove_watch(ctx, subject)
    say("juki.cli.removed")
