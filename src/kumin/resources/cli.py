"""``kumin calls …``, ``kumin continuity …`` and ``kumin report evaluation``.

Each command is a thin wrapper over the service function of the same name:
sign in and check the permission (``cli_ctx``), call, print.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from kumin.cli.common import check_format, cli_ctx, emit, say, settings
from kumin.errors import UserError

calls_app = typer.Typer(
    help="発熱相談センターの受電・人員配置 / Fever-consultation call centre", no_args_is_help=True
)
continuity_app = typer.Typer(
    help="基幹業務の継続性（結核・定期予防接種） / Continuity of core services",
    no_args_is_help=True,
)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


FROM = typer.Option(None, "--from", help="開始日 / first day (YYYY-MM-DD)")
TO = typer.Option(None, "--to", help="終了日 / last day (YYYY-MM-DD)")
ENCODING = typer.Option("auto", "--encoding", help="auto, utf-8, cp932")


@calls_app.command("cases-import")
def calls_cases_import(
    file: Path = typer.Argument(..., help="CSV / xlsx (date,cases)"),
    centre: str = typer.Option(..., "--centre", help="センター名 / centre name"),
    encoding: str = ENCODING,
) -> None:
    """センターが対応する地域の日別症例数を取り込む（先行・遅行の比較相手）
    / Import the daily cases of the area a centre serves (its lead/lag partner)."""
    from kumin.resources import service

    with cli_ctx("calls.manage") as ctx:
        result = service.import_centre_cases(ctx, file, centre, encoding)
    say("resources.calls.cases_imported", centre=result.name, rows=result.rows)


@calls_app.command("import")
def calls_import(
    file: Path = typer.Argument(..., help="CSV / xlsx"),
    profile: str = typer.Option(
        "call_centre_daily",
        "--profile",
        help="call_centre_daily（区の日報） / tokyo_calls（東京都 date,calls）",
    ),
    centre: str = typer.Option(None, "--centre", help="センター名 / centre name"),
    encoding: str = ENCODING,
) -> None:
    """日別の受電記録を取り込む（全件か無か） / Import daily call records (all or nothing)."""
    from kumin.resources import service

    with cli_ctx("calls.manage") as ctx:
        result = service.import_calls(ctx, file, profile, centre, encoding)
    say(
        "resources.calls.imported",
        centre=result.name,
        rows=result.rows,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
    )


@calls_app.command("summary")
def calls_summary(
    start: str = FROM,
    end: str = TO,
    centre: str = typer.Option(None, "--centre", help="センター名 / one centre only"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv"),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """応答率・人時当たり応答数・費用・外部人材の効果・飽和・症例との先行/遅行
    / Answer rate, calls per staff-hour, cost, staff effect, saturation, lead/lag."""
    from kumin.resources import service

    check_format(fmt)
    with cli_ctx("calls.read") as ctx:
        summaries = service.calls_summary(ctx, _date(start), _date(end), centre)
    if fmt == "json":
        root = [s.as_dict() for s in summaries]
        emit([], fmt, out=out, json_root=root)
    else:
        emit(
            service.summary_rows(summaries),
            fmt,
            ["centre", "metric", "value", "low", "high"],
            out=out,
        )


@calls_app.command("staffing")
def calls_staffing(
    arrivals_per_hour: float = typer.Option(..., "--arrivals-per-hour", help="1時間の入電数"),
    handle_seconds: float = typer.Option(..., "--handle-seconds", help="平均処理時間（秒）"),
    answer_within: float = typer.Option(..., "--answer-within", help="目標応答時間（秒）"),
    service_level: float = typer.Option(..., "--service-level", help="目標応答率 (0-1)"),
    patience_seconds: float = typer.Option(
        None, "--patience-seconds", help="平均待ち許容時間（秒; Erlang A）"
    ),
    shrinkage: float = typer.Option(
        0.30, "--shrinkage", help="電話以外の時間の割合 (0-1; 既定 0.30) / shrinkage"
    ),
    max_occupancy: float = typer.Option(
        0.85, "--max-occupancy", help="稼働率の上限 (0-1; 既定 0.85) / occupancy cap"
    ),
    fmt: str = typer.Option("table", "--format", help="table, json"),
) -> None:
    """目標を満たす最少人数（Erlang C / A、稼働率上限、シュリンケージ）
    / Fewest agents meeting the target, with occupancy cap and shrinkage.

    A pure calculator: no database, no key file, no sign-in (the numbers are the
    caller's own, nothing is read or stored)."""
    from kumin.resources import service_plan

    check_format(fmt, ("table", "json"))
    settings()  # the language only: no database is opened
    result = service_plan.staffing_result(
        arrivals_per_hour,
        handle_seconds,
        answer_within,
        service_level,
        patience_seconds,
        shrinkage,
        max_occupancy,
    )
    body = result.as_dict()
    if fmt == "json":
        typer.echo(json.dumps(body, ensure_ascii=False))
        return
    emit([{k: round(v, 4) if isinstance(v, float) else v for k, v in body.items()}], "table")


@calls_app.command("plan")
def calls_plan(
    forecast: Path = typer.Option(
        None, "--forecast", help="予測 CSV (date,calls); 省略時は記録された受電 / call forecast"
    ),
    case_forecast: Path = typer.Option(
        None,
        "--case-forecast",
        help="症例の予測 CSV (date,cases) から受電を予測 / plan from a case forecast",
    ),
    cautious: bool = typer.Option(
        False, "--cautious", help="予測区間の上限で計画 / plan for the upper 95% bound"
    ),
    start: str = FROM,
    end: str = TO,
    centre: str = typer.Option("ward", "--centre", help="センター名 / centre"),
    handle_seconds: float = typer.Option(
        None, "--handle-seconds", help="平均処理時間（秒; 省略時は記録から）"
    ),
    answer_within: float = typer.Option(30.0, "--answer-within"),
    service_level: float = typer.Option(0.8, "--service-level"),
    patience_seconds: float = typer.Option(
        None, "--patience-seconds", help="省略時は放棄呼から推定 / default: calibrated"
    ),
    model: str = typer.Option("erlang_a", "--model", help="erlang_a（既定）, erlang_c"),
    shrinkage: float = typer.Option(
        0.30, "--shrinkage", help="電話以外の時間の割合 (0-1; 既定 0.30)"
    ),
    occupancy_cap: float = typer.Option(
        0.85, "--occupancy-cap", help="稼働率の上限 (0-1; 既定 0.85)"
    ),
    interval: int = typer.Option(60, "--interval", help="時間帯の長さ（分）: 15, 30, 60"),
    opens: str = typer.Option("09:00", "--opens", help="受付開始 HH:MM"),
    closes: str = typer.Option("18:00", "--closes", help="受付終了 HH:MM"),
    intraday: Path = typer.Option(
        None, "--intraday", help="時間帯別の受電 CSV (date,time,calls) から曜日別の形を推定"
    ),
    person_day_yen: float = typer.Option(
        26_100.0, "--person-day-yen", help="外部人材1人日の単価（円）"
    ),
    sensitivity: bool = typer.Option(
        False, "--sensitivity", help="シュリンケージ・待ち許容時間・処理時間への感度"
    ),
    by: str = typer.Option("day", "--by", help="day, week, interval (hour)"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv"),
    out: Path = typer.Option(None, "--out"),
    encoding: str = ENCODING,
) -> None:
    """日別・時間帯別の必要人数と配置人数の比較 / Staffing plan by day and hour vs deployed."""
    from kumin.resources import service_plan

    check_format(fmt)
    if by not in ("day", "week", "interval", "hour"):
        raise UserError("core.cli.bad_format", format=by, allowed="day, week, interval")
    with cli_ctx("calls.read") as ctx:
        profile = service_plan.intraday_profile(intraday, interval, opens, closes, encoding)
        result = service_plan.calls_plan(
            ctx,
            forecast,
            _date(start),
            _date(end),
            centre,
            handle_seconds,
            answer_within,
            service_level,
            patience_seconds,
            shrinkage,
            encoding,
            case_forecast=case_forecast,
            cautious=cautious,
            model=model,
            occupancy_cap=occupancy_cap,
            profile=profile,
            person_day_yen=person_day_yen,
            sensitivity=sensitivity,
        )
    frames = {"day": result.plan.by_day, "week": result.plan.by_week}
    frame = frames.get(by, result.plan.by_interval)
    rows = _rows(frame)
    if fmt == "json":
        root = {"totals": result.totals(), f"by_{by}": rows}
        if result.sensitivity is not None:
            root["sensitivity"] = _rows(result.sensitivity)
        emit([], fmt, out=out, json_root=root)
    else:
        emit(rows, fmt, frame.columns, out=out)
        if fmt == "table" and out is None:
            totals = result.totals()
            if totals["days_under"] is not None:
                say("resources.plan.totals", **totals)
            if result.sensitivity is not None:
                emit(_rows(result.sensitivity), "table")


def _rows(frame) -> list[dict]:
    return [
        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
        for r in frame.iter_rows(named=True)
    ]


@calls_app.command("history")
def calls_history(
    start: str = FROM,
    end: str = TO,
    centre: str = typer.Option("ward", "--centre", help="センター名 / centre"),
    by: str = typer.Option("month", "--by", help="day, month"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv"),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """日別・月別の実績（受電・応答・放棄、モデルの応答率、配置、応答1件当たり費用）
    / What happened per day or month."""
    from kumin.resources import service_plan

    check_format(fmt)
    with cli_ctx("calls.read") as ctx:
        frame = service_plan.calls_history(ctx, centre, _date(start), _date(end), by)
    rows = _rows(frame)
    if fmt == "json":
        emit([], fmt, out=out, json_root=rows)
    else:
        emit(rows, fmt, frame.columns, out=out)


@calls_app.command("backtest")
def calls_backtest(
    start: str = typer.Option("2021-07-10", "--from", help="評価開始日 / first day judged"),
    end: str = TO,
    centre: str = typer.Option("ward", "--centre", help="センター名 / centre"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv"),
    out: Path = typer.Option(None, "--out"),
) -> None:
    """症例からの受電予測の事後検証（95%区間の的中率・ピーク誤差）
    / Backtest of the call forecast from cases: interval coverage and peak error."""
    from kumin.resources import service_plan

    check_format(fmt)
    with cli_ctx("calls.read") as ctx:
        result = service_plan.calls_backtest(ctx, centre, _date(start), _date(end))
    if fmt == "json":
        emit([], fmt, out=out, json_root={**result.as_dict(), "by_day": _rows(result.days)})
    elif fmt == "csv":
        emit(_rows(result.days), fmt, result.days.columns, out=out)
    else:
        emit(
            [{k: round(v, 3) if isinstance(v, float) else v for k, v in result.as_dict().items()}],
            "table",
        )


@continuity_app.command("import")
def continuity_import(
    file: Path = typer.Argument(..., help="CSV / xlsx"), encoding: str = ENCODING
) -> None:
    """月別件数（service, month, count）を取り込む / Import monthly service counts."""
    from kumin.resources import service_continuity

    with cli_ctx("continuity.manage") as ctx:
        result = service_continuity.import_service_counts(ctx, file, encoding)
    say(
        "resources.continuity.imported",
        rows=result.rows,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
    )


@continuity_app.command("assess")
def continuity_assess(
    file: Path = typer.Argument(None, help="CSV / xlsx（省略時は取り込み済みの件数）"),
    baseline_end: str = typer.Option(..., "--baseline-end", help="基準期間の最終月 YYYY-MM"),
    crisis_end: str = typer.Option(None, "--crisis-end", help="評価の最終月 YYYY-MM"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv"),
    out: Path = typer.Option(None, "--out"),
    encoding: str = ENCODING,
) -> None:
    """流行前の基準から各月の期待値と95%予測区間、事業ごとの判定
    / Expected counts, 95% intervals and a verdict per service."""
    from kumin.resources import service_continuity

    check_format(fmt)
    with cli_ctx("continuity.read") as ctx:
        assessment = service_continuity.assess(ctx, baseline_end, file, crisis_end, encoding)
    if fmt == "json":
        emit([], fmt, out=out, json_root=service_continuity.assessment_json(assessment))
    elif fmt == "csv":
        emit(service_continuity.verdict_rows(assessment), fmt, out=out)
    else:
        rows = [
            {
                "service": r["service"],
                "verdict": r["verdict"],
                "months": r["disrupted_months"],
                "shortfall (95%)": f"{r['shortfall']:,.0f} ({r['shortfall_low']:,.0f}"
                f"–{r['shortfall_high']:,.0f})"
                if r["verdict"] != "insufficient_data"
                else "",
                "recovered": r["recovered_month"] or "",
                "p": r["p_value"],
                "trend_sensitive": r["trend_sensitive"],
            }
            for r in service_continuity.verdict_rows(assessment)
        ]
        emit(rows, fmt, out=out)


def evaluation_cmd(
    start: str = FROM,
    end: str = TO,
    fmt: str = typer.Option("html", "--format", help="html, pdf, xlsx"),
    lang: str = typer.Option(None, "--lang", help="ja, en"),
    out: Path = typer.Option(None, "--out", help="出力ファイル / output file"),
) -> None:
    """評価報告書（疫学・相談センター・基幹業務の継続） / The study's evaluation report."""
    from kumin.core.i18n import normalise_lang
    from kumin.core.tabular import write_output
    from kumin.reports.render import check_report_format
    from kumin.resources.report import EVALUATION_FORMATS, render_evaluation

    check_report_format(fmt, EVALUATION_FORMATS)
    with cli_ctx("evaluation.report") as ctx:
        data = render_evaluation(
            ctx, _date(start), _date(end), fmt, normalise_lang(lang) if lang else None
        )
    if out is None and fmt == "html":
        typer.echo(data.decode("utf-8"), nl=False)
        return
    path = out or Path(f"evaluation.{fmt}")
    write_output(path, data)
    if str(path) != "-":
        say("resources.report.written", path=str(path))


def register(app: typer.Typer) -> None:
    from kumin.reports.cli import report_app

    app.add_typer(calls_app, name="calls")
    app.add_typer(continuity_app, name="continuity")
    report_app.command("evaluation")(evaluation_cmd)
