"""``kumin cards …`` and ``kumin report security``.

Each command is a thin wrapper over the service function of the same name: sign
in and check the permission (``cli_ctx``), call, print. Workflow steps take the
card number; times default to now (``--at 2022-04-04T11:00`` to record later).
No command takes a PIN.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, emit, say
from kumin.core.i18n import t
from kumin.errors import UserError

cards_app = typer.Typer(
    help="マイナンバーカードの交付・住基ネット業務 / My Number cards and Juki-net records",
    no_args_is_help=True,
)
windows_app = typer.Typer(help="取扱窓口 / Card windows")
functions_app = typer.Typer(help="個人番号利用事務 / My Number functions", no_args_is_help=True)
history_app = typer.Typer(
    help="カード管理システムからの履歴の取込み / The ward's card history", no_args_is_help=True
)
national_app = typer.Typer(
    help="全国の交付状況（総務省） / National card figures", no_args_is_help=True
)
residents_app = typer.Typer(help="住民 / Residents", no_args_is_help=True)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _at(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


AT = typer.Option(None, "--at", help="日時 / when (YYYY-MM-DDTHH:MM; default now)")
ON = typer.Option(None, "--on", help="日付 / date (YYYY-MM-DD; default today)")
CARD = typer.Argument(..., help="カード番号 / card number")
FMT = typer.Option("table", "--format", help="table, csv, json")
OUT = typer.Option(None, "--out", help="出力ファイル / output file")


def _done(row: dict) -> None:
    say(
        "cards.cli.step_done",
        card=row["card_id"],
        step=t(f"cards.label.step_{row['step']}") if row.get("step") else "-",
        status=t(f"cards.label.status_{row['status']}") if row.get("status") else "-",
    )


# --- residents and cards ---------------------------------------------------------------


@residents_app.command("add")
def residents_add(
    resident_no: int = typer.Argument(..., help="住民番号 / internal resident number"),
    name: str = typer.Option(..., "--name", help="氏名 / name"),
    birth_date: str = typer.Option(None, "--birth-date", help="生年月日 / YYYY-MM-DD"),
    address: str = typer.Option(None, "--address", help="住所 / address"),
) -> None:
    """住民を登録・訂正（暗号化して保存） / Register or correct a resident (encrypted)."""
    from kumin.cards import service

    with cli_ctx("cards.manage") as ctx:
        service.register_resident(ctx, resident_no, name, _date(birth_date), address)
    say("cards.cli.resident_saved", resident_no=resident_no)


@cards_app.command("show")
def cards_show(
    resident_no: int = typer.Argument(..., help="住民番号 / internal resident number"),
    purpose: str = typer.Option("", "--purpose", help="閲覧目的 / purpose of the read"),
    fmt: str = FMT,
) -> None:
    """住民番号でカードを検索（個人情報の閲覧は記録） / A resident's cards (audited read)."""
    from kumin.cards import service

    check_format(fmt)
    with cli_ctx("cards.read") as ctx:
        found = service.find_resident(ctx, resident_no, purpose)
    if fmt == "table":
        for key in ("name", "birth_date", "address"):
            say("cards.cli.field", field=t(f"cards.web.{key}"), value=found[key] or "-")
    emit(found["cards"], fmt, json_root=found if fmt == "json" else None)


@cards_app.command("card")
def cards_card(card_id: int = CARD, fmt: str = FMT) -> None:
    """カードの手続履歴と次に可能な段階 / A card's steps and the next allowed steps."""
    from kumin.cards import service

    check_format(fmt)
    with cli_ctx("cards.read") as ctx:
        view = service.card_view(ctx, card_id)
    if fmt == "json":
        emit([], fmt, json_root=view)
        return
    emit(
        [
            {**s, "step": t(f"cards.label.step_{s['step']}"), "details": s["details"] or ""}
            for s in view["steps"]
        ],
        fmt,
        ["seq", "step", "at", "by", "details"],
    )
    say("cards.cli.next", steps=", ".join(view["next"]) or "-")


@cards_app.command("list")
def cards_list(
    step: str = typer.Option(None, "--step", help="段階で絞り込み / only cards at this step"),
    limit: int = typer.Option(50, "--limit"),
    fmt: str = FMT,
) -> None:
    """手続中・最近のカード / Cards recorded through the workflow, newest first."""
    from kumin.cards import service

    check_format(fmt)
    with cli_ctx("cards.read") as ctx:
        rows = service.list_cards(ctx, step, limit)
    emit(rows, fmt, ["card_id", "resident_no", "method", "channel", "step", "status", "window"])


@cards_app.command("apply")
def cards_apply(
    resident_no: int = typer.Argument(..., help="住民番号 / internal resident number"),
    channel: str = typer.Option(..., "--channel", help="mail, web, photo_booth"),
    at: str = AT,
    reissue_of: int = typer.Option(None, "--reissue-of", help="再交付元カード / replaces card"),
) -> None:
    """J-LIS への交付申請（交付時来庁方式） / Application by mail, web or photo booth."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.apply(ctx, resident_no, channel, when, reissue_of))


FACE = typer.Option(..., "--face", help="顔認証 / match, no_match, not_possible")
DOCS = typer.Option(..., "--document", help="本人確認書類（複数可） / driving_licence, passport, …")


@cards_app.command("apply-at-window")
def cards_apply_at_window(
    resident_no: int = typer.Argument(..., help="住民番号 / internal resident number"),
    window: str = typer.Option(..., "--window", help="窓口コード / window code"),
    face: str = FACE,
    document: list[str] = DOCS,
    at: str = AT,
    reissue_of: int = typer.Option(None, "--reissue-of"),
) -> None:
    """窓口で申請・本人確認（申請時来庁方式） / Application and identity check at a window."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.apply_at_window(ctx, resident_no, window, face, document, when, reissue_of))


def _simple_step(action: str, help_text: str):
    def command(card_id: int = CARD, at: str = AT) -> None:
        from kumin.cards import service

        when = _at(at)
        with cli_ctx("cards.manage") as ctx:
            _done(service.STEP_ACTIONS[action](ctx, card_id, at=when))

    command.__doc__ = help_text
    return command


cards_app.command("prepare")(
    _simple_step("prepare", "交付前設定の完了 / The card is prepared (pre-issuance setting).")
)
cards_app.command("applicant-set-pins")(
    _simple_step(
        "applicant_set_pins",
        "本人が暗証番号を設定（番号は記録しない） / The applicant set the PINs (never stored).",
    )
)
cards_app.command("hold-form")(
    _simple_step("hold_form", "暗証番号設定依頼書を預かる / The ward holds the PIN-setting form.")
)
cards_app.command("ward-set-pins")(
    _simple_step(
        "ward_set_pins",
        "区が暗証番号を設定（交付前設定） / The ward set the PINs from the form.",
    )
)


@cards_app.command("arrive")
def cards_arrive(
    card_id: int = CARD,
    window: str = typer.Option(..., "--window", help="窓口コード / window code"),
    at: str = AT,
) -> None:
    """申請者が窓口に来庁 / The applicant came to a window."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.arrive(ctx, card_id, window, when))


@cards_app.command("check-identity")
def cards_check_identity(
    card_id: int = CARD, face: str = FACE, document: list[str] = DOCS, at: str = AT
) -> None:
    """交付時の本人確認（顔認証と書類） / Identity check at collection."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.check_identity(ctx, card_id, face, document, when))


@cards_app.command("issue")
def cards_issue(
    card_id: int = CARD,
    at: str = AT,
    no_signature: bool = typer.Option(
        False, "--no-signature", help="署名用電子証明書なし / without a signature certificate"
    ),
) -> None:
    """窓口で交付 / The card was handed over at a window."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.issue(ctx, card_id, when, signature=not no_signature))


@cards_app.command("shred-form")
def cards_shred_form(
    card_id: int = CARD,
    by: str = typer.Option(None, "--by", help="廃棄した職員 / who shredded it"),
    at: str = AT,
) -> None:
    """依頼書をシュレッダーで廃棄 / The PIN-setting form was shredded (who, when)."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.shred_form(ctx, card_id, by, when))


@cards_app.command("mail")
def cards_mail(
    card_id: int = CARD,
    tracking_no: str = typer.Option(None, "--tracking-no", help="追跡番号 / tracking number"),
    at: str = AT,
) -> None:
    """本人限定受取郵便で送付 / Sent by restricted-delivery mail."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.mail(ctx, card_id, tracking_no, when))


@cards_app.command("deliver")
def cards_deliver(
    card_id: int = CARD,
    at: str = AT,
    no_signature: bool = typer.Option(False, "--no-signature"),
) -> None:
    """郵便で本人に配達 / Delivered by post to the applicant."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.deliver(ctx, card_id, when, signature=not no_signature))


@cards_app.command("return")
def cards_return(
    card_id: int = CARD,
    reason: str = typer.Option("", "--reason", help="返戻理由 / reason"),
    at: str = AT,
) -> None:
    """郵便が返戻された / The mail came back undelivered."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.return_mail(ctx, card_id, reason, when))


@cards_app.command("cancel")
def cards_cancel(
    card_id: int = CARD,
    reason: str = typer.Option(..., "--reason", help="取消理由 / reason"),
    at: str = AT,
) -> None:
    """交付前に申請を取消 / Cancel the application before issuance."""
    from kumin.cards import service

    when = _at(at)
    with cli_ctx("cards.manage") as ctx:
        _done(service.cancel(ctx, card_id, reason, when))


@cards_app.command("suspend")
def cards_suspend(
    card_id: int = CARD,
    reason: str = typer.Option("lost", "--reason", help="理由 / reason"),
    on: str = ON,
) -> None:
    """カードの一時停止 / Suspend a card (e.g. reported lost)."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        _done(service.suspend(ctx, card_id, day, reason))


@cards_app.command("resume")
def cards_resume(card_id: int = CARD, on: str = ON) -> None:
    """一時停止の解除 / Resume a suspended card."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        _done(service.resume(ctx, card_id, day))


@cards_app.command("revoke")
def cards_revoke(
    card_id: int = CARD,
    reason: str = typer.Option(..., "--reason", help="move_out, death, expiry, return, reissue"),
    on: str = ON,
) -> None:
    """カードの廃止 / Revoke a card."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        _done(service.revoke(ctx, card_id, reason, day))


@cards_app.command("move-in")
def cards_move_in(
    resident_no: int = typer.Argument(..., help="住民番号 / resident number"),
    on: str = ON,
    from_code: str = typer.Option(
        None, "--from", help="転出元の団体コード / the previous municipality's code"
    ),
) -> None:
    """転入者のカード継続利用 / A resident who moved in keeps their card (継続利用)."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        _done(service.move_in(ctx, resident_no, day, from_code))


@cards_app.command("move-out")
def cards_move_out(card_id: int = CARD, on: str = ON) -> None:
    """転出（カードは転出先で継続） / The holder moved out; the card continues elsewhere."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        _done(service.move_out(ctx, card_id, day))


@cards_app.command("certificate")
def cards_certificate(
    card_id: int = CARD,
    cert_type: str = typer.Option(..., "--type", help="signature, user_auth"),
    action: str = typer.Option(..., "--action", help="new, renewal, reissue, pin_reset"),
    on: str = ON,
) -> None:
    """電子証明書の発行・更新・再発行 / A certificate issued, renewed or re-issued."""
    from kumin.cards import service

    day = _date(on)
    with cli_ctx("cards.manage") as ctx:
        row = service.certificate(ctx, card_id, cert_type, action, day)
    say("cards.cli.certificate_done", card=card_id, cert_type=row["cert_type"], action=action)


# --- windows ----------------------------------------------------------------------------


def _calendar(day: dt.date, fmt: str, out: Path | None) -> None:
    from kumin.cards import service_records

    with cli_ctx("cards.read") as ctx:
        rows = service_records.windows_on(ctx, day)
    name = "name_en" if ctx.lang == "en" else "name_ja"
    emit(
        [{**r, "name": r[name]} for r in rows],
        fmt,
        ["code", "name", "methods", "opens", "closes"],
        title=t("cards.cli.calendar_title", date=day.isoformat()),
        out=out,
    )


@windows_app.callback(invoke_without_command=True)
def windows_main(
    context: typer.Context,
    date: str = typer.Option(None, "--date", help="この日に開いている窓口 / open on YYYY-MM-DD"),
    fmt: str = FMT,
) -> None:
    """取扱窓口（--date で開設カレンダー） / Card windows (--date: which are open that day)."""
    if context.invoked_subcommand is not None:
        return
    if not date:
        typer.echo(context.get_help())
        return
    check_format(fmt)
    _calendar(_date(date), fmt, None)


@windows_app.command("calendar")
def windows_calendar(
    date: str = typer.Option(..., "--date", help="YYYY-MM-DD"), fmt: str = FMT, out: Path = OUT
) -> None:
    """この日に開いている窓口と時間 / Windows open on a date, with their hours."""
    check_format(fmt)
    _calendar(_date(date), fmt, out)


@windows_app.command("list")
def windows_list(fmt: str = FMT, out: Path = OUT) -> None:
    """窓口の一覧（取込形式） / The windows, in the import format."""
    from kumin.cards import service_records

    check_format(fmt)
    with cli_ctx("cards.read") as ctx:
        rows = service_records.list_windows(ctx)
    emit(rows, fmt, out=out)


@windows_app.command("import")
def windows_import(file: Path = typer.Argument(..., help="CSV / xlsx")) -> None:
    """窓口一覧を取込（全件置換・全件か無か） / Replace the window list from a file."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        result = service_records.import_windows(ctx, file)
    say("cards.cli.imported", rows=result["windows"])


# --- Juki-net records, inquiries, population ---------------------------------------------------


@cards_app.command("juki-import")
def juki_import(file: Path = typer.Argument(..., help="CSV / xlsx")) -> None:
    """住基ネット取扱実績を取込（date, kind, resident_no, other_code6）
    / Import Juki-net transactions (all or nothing)."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        result = service_records.import_juki(ctx, file)
    say("cards.cli.imported", rows=result.inserted)


@cards_app.command("inquiries-import")
def inquiries_import(file: Path = typer.Argument(..., help="CSV / xlsx")) -> None:
    """本人確認情報の照会記録を取込（date, department, function, operator）
    / Import identity inquiries (all or nothing)."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        result = service_records.import_inquiries(ctx, file)
    say("cards.cli.imported", rows=result.inserted)


@cards_app.command("population-import")
def population_import(
    file: Path = typer.Argument(..., help="CSV / xlsx (date, population)"),
) -> None:
    """人口を取込（同じ日付は置換） / Import population counts by date."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        result = service_records.import_population(ctx, file)
    say("cards.cli.imported", rows=result.inserted)


@functions_app.command("list")
def functions_list(fmt: str = FMT) -> None:
    """個人番号利用事務の一覧（報告書の順） / My Number functions in report order."""
    from kumin.cards import service_records

    check_format(fmt)
    with cli_ctx("cards.read") as ctx:
        rows = service_records.list_functions(ctx)
    emit(rows, fmt)


@functions_app.command("add")
def functions_add(
    code: str = typer.Argument(..., help="コード / code (letters, digits, _)"),
    name_ja: str = typer.Option(..., "--name-ja"),
    name_en: str = typer.Option("", "--name-en"),
    department: str = typer.Option("", "--department", help="所管課 / department"),
) -> None:
    """個人番号利用事務を追加 / Add a My Number function to the list."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        service_records.add_function(ctx, code, name_ja, name_en, department)
    say("cards.cli.function_saved", code=code)


@history_app.command("import")
def history_import(
    directory: Path = typer.Argument(..., help="cards.csv, card_events.csv, certificates.csv, …"),
    profile: str = typer.Option(
        None, "--profile", help="KUMIN_PROFILE_DIR の取込形式名 / profile name"
    ),
) -> None:
    """カード管理システムの履歴を取り込む（全件か無か）
    / Import the ward's card history from its card-management system (all or nothing)."""
    from kumin.cards import service_records

    with cli_ctx("cards.manage") as ctx:
        counts = service_records.import_history(ctx, directory, profile)
    say("cards.history.imported", **counts)


@national_app.command("import")
def national_import(
    directory: Path = typer.Argument(..., help="mynumbercard_statistics（static/data）"),
) -> None:
    """総務省の市区町村別交付状況を取込 / Import the Ministry's municipal card figures."""
    from kumin.cards import service_records

    with cli_ctx("cards.national") as ctx:
        result = service_records.import_national(ctx, directory)
    say("cards.cli.national_imported", dates=result["dates"], rows=result["rows"])


@national_app.command("show")
def national_show(
    code: str = typer.Option("131121", "--code", help="団体コード / municipality code"),
    fmt: str = FMT,
    out: Path = OUT,
) -> None:
    """区の交付率の推移（23区・都道府県・全国との比較と順位）
    / The ward's card ratio over time vs the 23 wards, prefecture and country, with rank."""
    from kumin.cards import service_records

    check_format(fmt)
    with cli_ctx("cards.national") as ctx:
        frame = service_records.national_ratio(ctx, code)
    emit(frame.to_dicts(), fmt, frame.columns, out=out)


def synth_cards_cmd(
    out: Path = typer.Option(..., "--out", help="出力フォルダ / folder to write"),
    seed: int = typer.Option(0, "--seed"),
    japanese: bool = typer.Option(
        False,
        "--japanese",
        help="日本語の列名・コード・和暦で / Japanese headers, codes, era dates",
    ),
) -> None:
    """合成区のカード履歴（カード管理システムの出力形式）を書き出す
    / Write the synthetic ward's card history as a card-management system exports it."""
    from kumin.cards.history import write_history
    from kumin.cli.common import settings
    from kumin.synth.cards import synthetic_card_records

    # synthetic residents only: like `synth cases`, no account and no database (#14)
    settings()
    records = synthetic_card_records(seed)
    paths = write_history(records, out, japanese=japanese)
    say("cards.history.synth_written", path=str(out), files=len(paths))


def register(app: typer.Typer) -> None:
    cards_app.add_typer(windows_app, name="windows")
    cards_app.add_typer(functions_app, name="functions")
    cards_app.add_typer(national_app, name="national")
    cards_app.add_typer(history_app, name="history")
    cards_app.add_typer(residents_app, name="residents")
    app.add_typer(cards_app, name="cards")
    from kumin.cases.cli import synth_app

    synth_app.command("cards")(synth_cards_cmd)
