"""``kumin cases …``, ``kumin contracts …``, ``kumin release …``, ``kumin synth cases``,
``kumin housekeeping`` and ``kumin report outsourcing``.

Each command is a thin wrapper over the service function of the same name: sign
in and check the permission (``cli_ctx``), call, print.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, console, emit, err_console, say
from kumin.core.i18n import current_lang, t
from kumin.errors import DataError, UserError

cases_app = typer.Typer(help="発生届（HER-SYS） / Notification records", no_args_is_help=True)
contracts_app = typer.Typer(
    help="研究委託契約と誓約 / Research contracts and pledges", no_args_is_help=True
)
release_app = typer.Typer(
    help="最小化した提供データ / Minimised releases to researchers", no_args_is_help=True
)
#: ``kumin synth …``: other domains may add their generators to this group.
synth_app = typer.Typer(help="合成データ / Synthetic data", no_args_is_help=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )


@cases_app.command("import")
def cases_import(
    file: Path = typer.Argument(..., help="CSV / xlsx"),
    profile: str = typer.Option("hersys", "--profile", help="列プロファイル / column profile"),
    encoding: str = typer.Option("auto", "--encoding", help="auto, utf-8, cp932"),
    dry_run: bool = typer.Option(False, "--dry-run", help="検査のみ / check only, write nothing"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """発生届を取り込む（全件か無か・再取込み可） / Import notification records (all or nothing)."""
    from kumin.cases import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("cases.import") as ctx, _progress() as bar:
        task = bar.add_task(t("cases.cli.importing", None, file=file.name), total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = service.import_cases(
                ctx, file, profile, encoding=encoding, dry_run=dry_run, progress=progress
            )
        except DataError as exc:
            bar.stop()
            _print_warnings(getattr(exc, "warnings", []))
            raise
    if fmt == "json":
        typer.echo(json.dumps(result.as_dict(ctx.lang), ensure_ascii=False, indent=2, default=str))
        return
    _print_warnings(result.warnings)
    say(
        "cases.cli.dry_run" if dry_run else "cases.cli.imported",
        file=result.file_name,
        rows=result.rows,
        records=result.records,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        warnings=len(result.warnings),
    )


def _print_warnings(warnings) -> None:
    if not warnings:
        return
    err_console.print(t("cases.cli.warnings", None, count=len(warnings)), highlight=False)
    for w in warnings[:200]:
        err_console.print(f"  {w.render(current_lang.get())}", highlight=False, markup=False)
    if len(warnings) > 200:
        err_console.print(t("cases.cli.more", None, count=len(warnings) - 200), highlight=False)


@cases_app.command("summary")
def cases_summary(
    fmt: str = typer.Option("table", "--format", help="table, json"),
    public: bool = typer.Option(
        False, "--public", help="公表用（小さいセルを秘匿） / for publication: suppress small cells"
    ),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """月・年代・性別・町名・療養先別の件数 / Counts by month, age band, sex, town, care setting."""
    from kumin.cases import service

    check_format(fmt, ("table", "json"))
    with cli_ctx("cases.summary") as ctx:
        result = service.summary(ctx, public=public)
    if fmt == "json":
        emit([], "json", out=out, json_root=result)
        return
    for axis in service.SUMMARY_AXES:
        rows = [{t(f"cases.axis.{axis}"): r["key"], t("cases.axis.count"): r["count"]}
                for r in result[axis]]  # fmt: skip
        emit(rows, "table", title=t(f"cases.axis.{axis}"))
    say("cases.cli.total", total=result["total"])
    for axis in result.get("withheld", []):
        say("cases.disclosure.withheld", axis=t(f"cases.axis.{axis}"))
    if result["suppressed"]:
        say("cases.disclosure.public_note", threshold=result["threshold"])


@synth_app.command("cases")
def synth_cases_cmd(
    out: Path = typer.Option(..., "--out", help="出力CSV / CSV to write"),
    profile: str = typer.Option("hersys", "--profile"),
    seed: int = typer.Option(0, "--seed"),
    n: int = typer.Option(31_077, "--n", help="件数 / records"),
    encoding: str = typer.Option("cp932", "--encoding", help="cp932, utf-8-sig, utf-8"),
    clean: bool = typer.Option(False, "--clean", help="汚れを加えない / no export dirt"),
) -> None:
    """合成区の発生届CSVを書き出す（サインイン不要） / Write the synthetic ward's
    notification CSV (no sign-in)."""
    from kumin.cli.common import settings
    from kumin.synth.cases import synth_cases, write_cases_csv, write_large_cases_csv

    # Made-up residents only: no personal data is read, so no account and no
    # database are needed (#14); it is not audited for the same reason.
    settings()
    if n > 100_000:
        write_large_cases_csv(out, n, profile, seed=seed, encoding=encoding, dirty=not clean)
    else:
        records = synth_cases(seed=seed, n=n)
        write_cases_csv(records, out, profile, encoding=encoding, dirty=not clean, seed=seed)
    say("cases.cli.synth_written", path=str(out), count=n)


DEFAULT_CONDITIONS_HELP = (
    "誓約条件（繰返し可。既定: purpose_limitation, no_copying, disposal_on_completion, "
    "duty_of_care） / pledge conditions (repeatable)"
)


@contracts_app.command("add")
def contracts_add(
    title: str = typer.Option(..., "--title", help="委託の件名 / title"),
    start: str = typer.Option(..., "--start", help="開始日 / first day (YYYY-MM-DD)"),
    end: str = typer.Option(..., "--end", help="終了日 / last day (YYYY-MM-DD)"),
    contractor: list[str] = typer.Option(..., "--contractor", help="委託先（繰返し可）"),
    item: list[str] = typer.Option(..., "--item", help="提供項目（繰返し可） / item (repeatable)"),
    code: str = typer.Option(None, "--code", help="契約番号 / contract code"),
    category: str = typer.Option("", "--category", help="類型 / category"),
    purpose: str = typer.Option("", "--purpose", help="目的 / purpose"),
    content: str = typer.Option("", "--content", help="委託の内容 / content"),
    persons: str = typer.Option("", "--persons", help="対象となる個人の範囲 / persons covered"),
    persons_from: str = typer.Option(None, "--persons-from", help="発生届の登録日から"),
    persons_to: str = typer.Option(None, "--persons-to", help="発生届の登録日まで"),
    condition: list[str] = typer.Option(None, "--condition", help=DEFAULT_CONDITIONS_HELP),
    computer: bool = typer.Option(
        True, "--computer-processing/--no-computer-processing", help="電子計算機処理の有無"
    ),
    protection: str = typer.Option("", "--protection", help="委託先の保護管理体制"),
    researcher: list[str] = typer.Option(
        None, "--researcher", help="ダウンロードできる研究者アカウント（繰返し可）"
    ),
    qi: list[str] = typer.Option(
        None, "--qi", help="準識別子（繰返し可。既定: 提供する年代・性別・町名・国籍・日付等）"
    ),
    sensitive: list[str] = typer.Option(None, "--sensitive", help="機微項目（繰返し可）"),
    k: int = typer.Option(5, "--k", help="k匿名性の目標 / smallest class size to reach"),
    max_suppression: float = typer.Option(
        0.05, "--max-suppression", help="削除してよいレコードの割合 / share of records withheld"
    ),
    hierarchy: str = typer.Option("setagaya", "--hierarchy", help="一般化階層 / hierarchy file"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """委託契約を登録 / Record a research contract."""
    from kumin.cases.contracts import DEFAULT_CONDITIONS, ContractInput, add_contract

    check_format(fmt, ("table", "json"))
    data = ContractInput(
        title=title,
        start=_date(start, "--start"),
        end=_date(end, "--end"),
        contractors=list(contractor),
        items=list(item),
        code=code,
        category=category,
        purpose=purpose,
        content=content,
        persons=persons,
        persons_from=_date(persons_from, "--persons-from"),
        persons_to=_date(persons_to, "--persons-to"),
        conditions=list(condition) if condition else list(DEFAULT_CONDITIONS),
        computer_processing=computer,
        protection=protection,
        researchers=list(researcher or []),
        quasi_identifiers=list(qi) if qi else None,
        sensitive=list(sensitive) if sensitive else None,
        k=k,
        max_suppression=max_suppression,
        hierarchy=hierarchy,
    )
    with cli_ctx("contracts.manage") as ctx:
        info = add_contract(ctx, data)
    if fmt == "json":
        emit([], "json", json_root=info)
    else:
        say("cases.cli.contract_added", code=info["code"], title=info["title"])


_CONTRACT_COLUMNS = ["code", "title", "start", "end", "status", "contractors", "researchers"]


@contracts_app.command("list")
def contracts_list(fmt: str = typer.Option("table", "--format", help="table, csv, json")) -> None:
    """委託契約の一覧 / List contracts."""
    from kumin.cases.contracts import list_contracts

    check_format(fmt)
    with cli_ctx("contracts.read") as ctx:
        rows = list_contracts(ctx)
    if fmt != "json":
        rows = [
            {
                **r,
                "contractors": "; ".join(r["contractors"]),
                "researchers": ", ".join(r["researchers"]),
            }
            for r in rows
        ]
    emit(rows, fmt, _CONTRACT_COLUMNS)


@contracts_app.command("show")
def contracts_show(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """委託契約の詳細（提供データ・消去証明書を含む） / Show a contract."""
    from kumin.cases.contracts import show_contract

    check_format(fmt, ("table", "json"))
    with cli_ctx("contracts.read") as ctx:
        info = show_contract(ctx, contract)
    if fmt == "json":
        emit([], "json", json_root=info)
        return
    rows = []
    for key, value in info.items():
        if isinstance(value, list):
            value = "; ".join(
                json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, dict) else str(v)
                for v in value
            )
        rows.append({"field": key, "value": "" if value is None else value})
    emit(rows, "table", ["field", "value"], title=info["code"])


@release_app.command("create")
def release_create(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    out: Path = typer.Option(..., "--out", help="出力フォルダ / folder to write"),
) -> None:
    """契約の項目だけの提供データを作成 / Create the minimised extract of a contract."""
    from kumin.cases.releases import create_release

    with cli_ctx("release.create") as ctx:
        result = create_release(ctx, contract, out)
    say(
        "cases.cli.release_created",
        id=result.release_id,
        contract=result.contract,
        records=result.records,
        out=str(out),
    )
    for f in result.files:
        console.print(f"  {f['name']}  {f['sha256']}", highlight=False)


@release_app.command("preview")
def release_preview(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """提供前の再識別リスクと一般化の提案（何も書き込まない） / Risk and proposed control."""
    from kumin.cases.release_control import level_label, preview_release

    check_format(fmt, ("table", "json"))
    with cli_ctx("release.create") as ctx:
        result = preview_release(ctx, contract)
    if fmt == "json":
        emit([], "json", json_root=result)
        return
    proposed = result["proposed"]
    rows = [
        {"measure": t(f"cases.disclosure.measure.{m}"), "before": _measure(result[m]),
         "after": _measure(proposed[m])}
        for m in ("records", "classes", "k", "records_at_risk", "prosecutor_risk", "average_risk")
    ]  # fmt: skip
    for s_item in result["sensitive"]:
        rows.append({"measure": f"l ({s_item})", "before": result["l_diversity"][s_item],
                     "after": proposed["l_diversity"][s_item]})  # fmt: skip
    emit(rows, "table", ["measure", "before", "after"], title=result["contract"])
    gen = [{"column": q, "level": level_label(g), "of": f"{g['level']}/{g['max']}"}
           for q, g in proposed["generalisation"].items()]  # fmt: skip
    emit(gen, "table", ["column", "level", "of"], title=t("cases.disclosure.generalisation"))
    say("cases.disclosure.preview_note", target=result["target_k"],
        suppressed=proposed["suppressed_records"], loss=proposed["information_loss"])  # fmt: skip


def _measure(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


@release_app.command("list")
def release_list(fmt: str = typer.Option("table", "--format", help="table, csv, json")) -> None:
    """提供データの一覧 / List releases."""
    from kumin.cases.releases import list_releases

    check_format(fmt)
    with cli_ctx("release.list") as ctx:
        rows = list_releases(ctx)
    if fmt != "json":
        rows = [{**r, "files": ", ".join(f["name"] for f in r["files"])} for r in rows]
    emit(rows, fmt, ["id", "contract", "records", "start", "end", "available", "disposed_at"])


@release_app.command("dispose")
def release_dispose(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    certificate: Path = typer.Option(
        None, "--certificate", help="消去証明書PDFの保存先 / write the certificate PDF here"
    ),
) -> None:
    """提供データを消去し消去証明書を発行 / Destroy a contract's releases, issue a certificate."""
    from kumin.cases.releases import certificate as get_certificate
    from kumin.cases.releases import dispose_contract

    with cli_ctx("release.dispose") as ctx:
        result = dispose_contract(ctx, contract)
        pdf = get_certificate(ctx, result["disposal_id"])[0] if certificate else None
    if certificate and pdf is not None:
        from kumin.core.tabular import write_output

        write_output(certificate, pdf)
    say(
        "cases.cli.disposed",
        contract=result["contract"],
        certificate=result["certificate"],
        releases=len(result["releases"]),
    )


@release_app.command("certificate")
def release_certificate(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    out: Path = typer.Option(..., "--out", help="保存先 / file to write"),
    fmt: str = typer.Option("pdf", "--format", help="pdf, html"),
) -> None:
    """消去証明書を保存 / Save a contract's disposal certificate."""
    from kumin.cases.contracts import show_contract
    from kumin.cases.releases import certificate
    from kumin.core.tabular import write_output

    check_format(fmt, ("pdf", "html"))
    with cli_ctx("contracts.read") as ctx:
        disposals = show_contract(ctx, contract)["disposals"]
        if not disposals:
            raise UserError("cases.release.not_disposed", code=contract)
        data = certificate(ctx, disposals[-1]["id"], fmt)[0]
    write_output(out, data)
    if str(out) != "-":
        say("cases.cli.written", path=str(out))


def housekeeping_cmd() -> None:
    """期限切れ提供データの消去などの定期処理 / Housekeeping: dispose of expired releases."""
    from kumin.cases.housekeeping import housekeeping

    with cli_ctx("housekeeping.run") as ctx:
        result = housekeeping(ctx)
    for d in result["disposed"]:
        say("cases.cli.disposed", contract=d["contract"], certificate=d["certificate"],
            releases=len(d["releases"]))  # fmt: skip
    say("cases.cli.housekeeping_done", count=len(result["disposed"]))


def outsourcing_cmd(
    contract: str = typer.Argument(..., help="契約番号またはID / contract code or id"),
    fmt: str = typer.Option("html", "--format", help="html, pdf, md"),
    out: Path = typer.Option(None, "--out", help="出力ファイル / file to write"),
) -> None:
    """外部委託の報告（報告第350号の形式） / Outsourcing report in the shape of report No. 350."""
    from kumin.cases.reports import OUTSOURCING_FORMATS, outsourcing_report
    from kumin.reports.render import check_report_format

    check_report_format(fmt, OUTSOURCING_FORMATS)
    with cli_ctx("contracts.read") as ctx:
        data = outsourcing_report(ctx, contract, fmt, ctx.lang)
    if out is not None:
        from kumin.core.tabular import write_output

        write_output(out, data)
        if str(out) != "-":
            say("cases.cli.written", path=str(out))
    elif fmt == "pdf":
        raise UserError("cases.cli.pdf_needs_out")
    else:
        typer.echo(data.decode("utf-8"), nl=False)


def register(app: typer.Typer) -> None:
    from kumin.reports.cli import report_app

    app.add_typer(cases_app, name="cases")
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(release_app, name="release")
    app.add_typer(synth_app, name="synth")
    app.command("housekeeping")(housekeeping_cmd)
    report_app.command("outsourcing")(outsourcing_cmd)
